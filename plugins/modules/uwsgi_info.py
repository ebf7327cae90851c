#!/usr/bin/python
# Copyright: pyops.uwsgi contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: uwsgi_info
version_added: 0.2.0
short_description: Read what deploying a uWSGI app depends on from a host
description:
  - Reads, without changing anything, the few facts of a host that decide how an app is served by
    uWSGI there. They are the kernel's limit on listen backlogs, the members of nginx's group, the
    Python versions installed, and the option names the installed uWSGI takes with given plugins.
  - The action P(pyops.uwsgi.app_plan#module) calls it once per app and plans the app from its
    answer; it is useful on its own to see what a host offers.
options:
  group:
    description:
      - Group whose members are reported, nginx's group (V(www-data) on Debian and Ubuntu). An app's
        user must not be one of them, or it could open every app's socket.
    type: str
    default: www-data
  uwsgi:
    description:
      - Path of a uWSGI binary to ask for the options it takes (C(uwsgi --help)), with O(plugins)
        loaded from O(plugins_dir). Options that plugins add are listed only when they are loaded.
      - Not given, or not executable on the host, gives RV(uwsgi_options=null).
    type: path
  plugins_dir:
    description: Directory of the plugins to load for O(uwsgi).
    type: path
  plugins:
    description: Plugins to load for O(uwsgi), such as C(python313) and C(syslog).
    type: list
    elements: str
    default: []
  calendars:
    description:
      - systemd calendar expressions (C(OnCalendar=) of a timer, such as V(daily) or
        V(Mon *-*-* 04:00)) to check with C(systemd-analyze calendar), one at a time, as
        RV(calendars) reports.
    type: list
    elements: str
    default: []
extends_documentation_fragment:
  - ansible.builtin.action_common_attributes
attributes:
  check_mode:
    support: full
  diff_mode:
    support: none
  platform:
    platforms: posix
author:
  - pyops.uwsgi contributors (!UNKNOWN)
"""

EXAMPLES = r"""
- name: Read the host
  pyops.uwsgi.uwsgi_info:
    uwsgi: /usr/bin/uwsgi-core
    plugins_dir: /usr/local/lib/uwsgi/plugins
    plugins: [python313, syslog]
  register: info

- name: Show the limit on listen backlogs
  ansible.builtin.debug:
    msg: "app_listen may be at most {{ info.somaxconn }}"
"""

RETURN = r"""
somaxconn:
  description: The kernel's C(net.core.somaxconn), the largest listen backlog a socket may have.
  returned: always
  type: int
  sample: 4096
group_members:
  description: Members of O(group) as C(/etc/group) lists them; empty when the group does not exist.
  returned: always
  type: list
  elements: str
  sample: []
python3:
  description: Version (X.Y) of the host's C(/usr/bin/python3); empty when there is none.
  returned: always
  type: str
  sample: "3.13"
pythons:
  description: Versions (X.Y) of every C(/usr/bin/pythonX.Y) interpreter installed.
  returned: always
  type: list
  elements: str
  sample: ["3.13"]
uwsgi_options:
  description:
    - Option names C(uwsgi --help) lists for O(uwsgi) with O(plugins) loaded, without dashes.
    - Null when O(uwsgi) was not given or is not executable.
  returned: always
  type: list
  elements: str
  sample: [socket, master, processes]
calendars:
  description:
    - For each of O(calendars), whether systemd takes it (C(valid)), its normalized form and next
      elapse (C(next), V(never) for a time in the past), or systemd's C(message) when it does not.
    - Null when C(systemd-analyze) is not installed.
  returned: always
  type: dict
  sample:
    daily:
      valid: true
      normalized: "*-*-* 00:00:00"
      next: Mon 2026-11-30 00:00:00 UTC
      message: ""
"""

import grp
import os
import re

from ansible.module_utils.basic import AnsibleModule

# uwsgi --help lists options as "    -s|--socket  ..." or "    --master  ...".
_HELP_OPTION = re.compile(r"^ *(?:-[A-Za-z]\|)?--([a-z0-9][a-z0-9_.-]*)")
_PYTHON = re.compile(r"^python(3\.[0-9]{1,2})$")


def _somaxconn():
    with open("/proc/sys/net/core/somaxconn", encoding="ascii") as handle:
        return int(handle.read().strip())


def _members(group):
    try:
        return list(grp.getgrnam(group).gr_mem)
    except KeyError:
        return []


def _pythons():
    try:
        names = os.listdir("/usr/bin")
    except OSError:
        return []
    found = [match.group(1) for match in map(_PYTHON.match, names) if match]
    return sorted(found, key=lambda version: tuple(int(part) for part in version.split(".")))


def _python3(module):
    if not os.access("/usr/bin/python3", os.X_OK):
        return ""
    code = "import sys; print('%d.%d' % sys.version_info[:2])"
    rc, out, err = module.run_command(["/usr/bin/python3", "-c", code])
    if rc != 0:
        module.fail_json(msg=f"/usr/bin/python3 did not tell its version: {err.strip()}")
    return out.strip()


def _uwsgi_options(module):
    binary = module.params["uwsgi"]
    if not binary or not os.access(binary, os.X_OK):
        return None
    argv = [binary]
    if module.params["plugins_dir"]:
        argv += ["--plugins-dir", module.params["plugins_dir"]]
    # --need-plugin, not --plugin: uWSGI only warns about a plugin --plugin cannot load.
    argv += [f"--need-plugin={plugin}" for plugin in module.params["plugins"]]
    rc, out, err = module.run_command([*argv, "--help"])
    if rc != 0:
        # A plugin that does not load (missing, built for another uWSGI) fails here, before
        # anything is deployed; its message is the one uWSGI gives.
        lines = (err or out).strip().splitlines()
        module.fail_json(
            msg=f"{' '.join(argv)} --help failed: {lines[-1] if lines else rc}", rc=rc, argv=argv
        )
    return sorted({match.group(1) for match in map(_HELP_OPTION.match, out.splitlines()) if match})


def _calendars(module):
    expressions = module.params["calendars"]
    analyze = module.get_bin_path("systemd-analyze")
    if not analyze:
        return None
    found = {}
    for expression in expressions:
        rc, out, err = module.run_command([analyze, "calendar", expression])
        fields = dict(
            (key.strip(), value.strip())
            for key, _colon, value in (line.partition(":") for line in out.splitlines())
            if _colon
        )
        lines = (err or out).strip().splitlines()
        found[expression] = {
            "valid": rc == 0,
            "normalized": fields.get("Normalized form", ""),
            "next": fields.get("Next elapse", ""),
            "message": "" if rc == 0 else (lines[-1] if lines else f"exit status {rc}"),
        }
    return found


def main():
    module = AnsibleModule(
        argument_spec={
            "group": {"type": "str", "default": "www-data"},
            "uwsgi": {"type": "path"},
            "plugins_dir": {"type": "path"},
            "plugins": {"type": "list", "elements": "str", "default": []},
            "calendars": {"type": "list", "elements": "str", "default": []},
        },
        supports_check_mode=True,
    )
    module.exit_json(
        changed=False,
        somaxconn=_somaxconn(),
        group_members=_members(module.params["group"]),
        python3=_python3(module),
        pythons=_pythons(),
        uwsgi_options=_uwsgi_options(module),
        calendars=_calendars(module),
    )


if __name__ == "__main__":
    main()
