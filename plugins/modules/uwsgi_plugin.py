#!/usr/bin/python
# Copyright: pyops.uwsgi contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
---
module: uwsgi_plugin
short_description: Build the uWSGI Python plugin for one interpreter
version_added: 0.1.0
description:
  - Builds C(<name>_plugin.so) for the interpreter O(python) with the plugin builder of the uWSGI
    binary O(uwsgi) (C(uwsgi --build-plugin)), from the uWSGI sources in O(src), and installs it in
    O(dest). A vassal loads it with C(plugins-dir = <dest>) and C(plugin = <name>).
  - Next to the plugin it keeps a JSON record, C(<dest>/<name>_plugin.json), of what the plugin was
    built against. The plugin is rebuilt only when it or the record is missing, when the
    interpreter's version, build or ABI or the uWSGI binary's version differ from the record, when
    the plugin file no longer matches the record's checksum, or with O(force=true).
  - A plugin that is up to date is left alone; only its owner, group and mode are corrected.
  - Everything the build needs (interpreter, headers, sources, binary, C compiler) is checked before
    anything is written, and a failure names the package that fixes it.
  - On Debian and Ubuntu install C(uwsgi-dev) (it pulls in C(uwsgi-src), C(uwsgi-core), gcc and the
    headers the packaged uWSGI was built with) and C(pythonX.Y-dev) for the interpreter.
options:
  python:
    description:
      - Absolute path of the interpreter the plugin embeds, for example C(/usr/bin/python3.13).
      - The build runs with the environment variable C(PYTHON) set to it, which is how the python
        plugin's C(uwsgiplugin.py) finds the headers and C(libpython).
    type: path
    required: true
  name:
    description:
      - Name of the plugin; the module builds C(<name>_plugin.so) and vassals load it with
        C(plugin = <name>).
      - Lower-case letters, digits and underscores, not starting with a digit, since it becomes part
        of a C symbol.
      - Defaults to C(python<major><minor>) of the interpreter, for example C(python313).
    type: str
  src:
    description:
      - Directory of the uWSGI sources; it must contain C(plugins/python/uwsgiplugin.py).
      - Use the sources of the same version as O(uwsgi); on Debian and Ubuntu the C(uwsgi-src)
        package installs them here.
    type: path
    default: /usr/src/uwsgi
  uwsgi:
    description:
      - The uWSGI binary whose C(--build-plugin) builds the plugin. A plugin only loads into a uWSGI
        of the version it was built by, so name the binary the vassals run.
    type: path
    default: /usr/bin/uwsgi-core
  dest:
    description:
      - Directory for the plugin and its record. Created with mode C(0755) when missing.
    type: path
    default: /usr/local/lib/uwsgi/plugins
  state:
    description:
      - V(present) builds the plugin when needed; V(absent) removes the plugin and its record.
    type: str
    choices: [present, absent]
    default: present
  force:
    description:
      - Rebuild even when the record says the plugin is up to date.
    type: bool
    default: false
  owner:
    description: Owner of the plugin and its record.
    type: str
    default: root
  group:
    description: Group of the plugin and its record.
    type: str
    default: root
  mode:
    description:
      - Mode of the plugin and its record, as an octal number from V("0000") to V("0777"); quote
        it (V("0644")), since YAML reads an unquoted V(644) as a decimal number.
      - A group- or world-writable mode is refused, since whoever can write the plugin runs code in
        every uWSGI that loads it.
    type: raw
    default: "0644"
extends_documentation_fragment:
  - ansible.builtin.action_common_attributes
  - pyops.uwsgi.common
attributes:
  check_mode:
    details: Reports whether a build is due, and why, without building or writing anything.
  diff_mode:
    support: full
    details: The diff is the text of the record before and after.
  safe_file_operations:
    description: Uses Ansible's strict file operation functions to ensure proper permissions and
      avoid data corruption.
    support: full
notes:
  - The build takes a few seconds per plugin and runs in a fresh temporary directory; its output's
    last lines are returned as RV(build_log).
  - The headers, sources and compiler are only checked when a build is due, so a host that removed
    them after building keeps passing until the interpreter or uWSGI changes.
  - The compiler is C($CC) from the module's environment when set, else the one the interpreter was
    built with (its C(sysconfig) C(CC)), as uWSGI's C(uwsgiconfig.py) picks it.
requirements:
  - The uWSGI binary and sources of one version, a C compiler and the interpreter's headers on the
    managed host.
"""

EXAMPLES = r"""
- name: Build the uWSGI plugin for Python 3.13 (python313_plugin.so)
  pyops.uwsgi.uwsgi_plugin:
    python: /usr/bin/python3.13
  register: uwsgi_register_plugin

- name: Touch the vassal that loads it, so that uWSGI reloads it with the new build
  ansible.builtin.file:
    path: /etc/uwsgi/vassals/shop.ini
    state: touch
  when: uwsgi_register_plugin.rebuilt

- name: Build a plugin for a self-built interpreter under a name of its own
  pyops.uwsgi.uwsgi_plugin:
    python: /opt/python/3.12/bin/python3.12
    name: python312opt

- name: Rebuild whatever the record says
  pyops.uwsgi.uwsgi_plugin:
    python: /usr/bin/python3.13
    force: true

- name: Remove the plugin and its record
  pyops.uwsgi.uwsgi_plugin:
    python: /usr/bin/python3.12
    state: absent
"""

RETURN = r"""
plugin:
  description: Path of the plugin.
  returned: always
  type: str
  sample: /usr/local/lib/uwsgi/plugins/python313_plugin.so
record:
  description:
    - What the plugin was built against, as written to C(<dest>/<name>_plugin.json).
    - In check mode with a build due, the record the build would write, its checksum null.
    - Empty with O(state=absent).
  returned: always
  type: dict
  contains:
    python:
      description: The interpreter.
      type: str
      sample: /usr/bin/python3.13
    python_version:
      description: Its C(platform.python_version()).
      type: str
      sample: 3.13.5
    python_build:
      description: Its C(sys.version), which changes when the distribution rebuilds it.
      type: str
      sample: "3.13.5 (main, Jun 25 2025, 18:55:22) [GCC 14.2.0]"
    abi:
      description: Its C(SOABI).
      type: str
      sample: cpython-313-x86_64-linux-gnu
    uwsgi:
      description: The uWSGI binary that built the plugin.
      type: str
      sample: /usr/bin/uwsgi-core
    uwsgi_version:
      description: Output of C(uwsgi --version).
      type: str
      sample: 2.0.28-debian
    plugin_sha256:
      description: SHA-256 of the installed plugin.
      type: str
      sample: 0f4e5d7c9a1b2c3d4e5f60718293a4b5c6d7e8f9012345678abcdef012345678
rebuilt:
  description: Whether the plugin was built (in check mode, whether it would be).
  returned: always
  type: bool
  sample: true
reason:
  description: Why the plugin was (or would be) built; empty when it is up to date.
  returned: always
  type: str
  sample: "Python changed: 3.13.4 -> 3.13.5"
build_seconds:
  description: How long the build took; 0 when nothing was built.
  returned: always
  type: float
  sample: 4.61
build_log:
  description: The last lines of the build's output.
  returned: when the plugin was built
  type: list
  elements: str
  sample:
    - "build time: 4 seconds"
    - "*** python313 plugin built and available in python313_plugin.so ***"
"""

import grp
import json
import os
import pwd
import re
import shlex
import tempfile
import time

from ansible.module_utils.basic import AnsibleModule

NAME = re.compile(r"^[a-z_][a-z0-9_]*$")
PYTHON_X_Y = re.compile(r"^python(\d+)\.(\d+)$")
LOG_LINES = 20

# Runs under the target interpreter, so that nothing of it is imported into this process.
PROBE = """
import json, platform, sys, sysconfig
print(json.dumps({
    "version": platform.python_version(),
    "build": sys.version,
    "abi": sysconfig.get_config_var("SOABI"),
    "short": "%d.%d" % sys.version_info[:2],
    "include": sysconfig.get_paths()["include"],
    "cc": sysconfig.get_config_var("CC"),
}))
"""

# Record fields that trigger a rebuild when they change, with the words the reason uses.
RECORD_FIELDS = (
    ("python", "interpreter changed"),
    ("python_version", "Python changed"),
    ("python_build", "Python build changed"),
    ("abi", "Python ABI changed"),
    ("uwsgi", "uWSGI binary changed"),
    ("uwsgi_version", "uWSGI changed"),
)


def _is_executable(path):
    return os.path.isfile(path) and os.access(path, os.X_OK)


def _tail(text):
    return text.rstrip("\n").splitlines()[-LOG_LINES:]


def _octal_mode(module, mode):
    if isinstance(mode, int):
        value = mode
    else:
        try:
            value = int(str(mode), 8)
        except ValueError:
            module.fail_json(msg=f"mode must be an octal number such as '0644', not {mode!r}")
    # setuid, setgid and sticky mean nothing for a plugin; an unquoted 644 (0o1204) lands here.
    if not 0 <= value <= 0o777:
        module.fail_json(
            msg=f"mode {mode!r} is not a permission mode from 0000 to 0777: quote it, as in '0644'"
        )
    if value & 0o022:
        module.fail_json(
            msg=f"mode {value:04o} lets others than the owner replace the plugin, and so run code"
            " in every uWSGI that loads it; use '0644' or '0640'"
        )
    return value


def _check_account(module, owner, group):
    try:
        if not owner.isdigit():
            pwd.getpwnam(owner)
    except KeyError:
        module.fail_json(msg=f"owner {owner} does not exist on the host; create the user first")
    try:
        if not group.isdigit():
            grp.getgrnam(group)
    except KeyError:
        module.fail_json(msg=f"group {group} does not exist on the host; create the group first")


def _missing_python(module, python):
    msg = f"the Python interpreter {python} is missing or not executable"
    match = PYTHON_X_Y.match(os.path.basename(python))
    if os.path.dirname(python) == "/usr/bin" and match:
        msg += f": install the python{match.group(1)}.{match.group(2)} package (Debian/Ubuntu)"
    else:
        msg += ": install it, or set python to an interpreter that exists"
    module.fail_json(msg=msg)


def _python_facts(module, python):
    if not _is_executable(python):
        _missing_python(module, python)
    # -I: neither PYTHONPATH nor the user's site-packages may change what the probe reports.
    rc, out, err = module.run_command([python, "-I", "-c", PROBE])
    try:
        return json.loads(out)
    except ValueError:
        module.fail_json(
            msg=f"{python} failed to report its version and build (rc={rc}); is it a Python 3"
            " interpreter?",
            stdout=out,
            stderr=err,
        )


def _default_name(facts):
    return "python" + facts["short"].replace(".", "")


def _name_for_removal(module, python):
    if _is_executable(python):
        return _default_name(_python_facts(module, python))
    # The interpreter is often uninstalled first; its file name still says which plugin was its.
    match = PYTHON_X_Y.match(os.path.basename(python))
    if not match:
        module.fail_json(
            msg=f"{python} is missing, so the plugin's name cannot be derived: set name"
        )
    return f"python{match.group(1)}{match.group(2)}"


def _uwsgi_version(module, uwsgi):
    if not _is_executable(uwsgi):
        module.fail_json(
            msg=f"the uWSGI binary {uwsgi} is missing or not executable: install uwsgi-core"
            " (Debian/Ubuntu), or set uwsgi to the binary the vassals run"
        )
    rc, out, err = module.run_command([uwsgi, "--version"])
    if rc != 0:
        module.fail_json(msg=f"{uwsgi} --version failed (rc={rc})", stdout=out, stderr=err)
    return out.strip()


def _check_build_prerequisites(module, facts, python, src):
    if not os.path.isfile(os.path.join(facts["include"], "Python.h")):
        module.fail_json(
            msg=f"Python.h is missing from {facts['include']}, the include directory of {python}:"
            f" install python{facts['short']}-dev (Debian/Ubuntu)"
        )
    if not os.path.isfile(os.path.join(src, "plugins", "python", "uwsgiplugin.py")):
        module.fail_json(
            msg=f"{src}/plugins/python/uwsgiplugin.py is missing: install uwsgi-src, or better"
            " uwsgi-dev, which also pulls in the headers the build needs (Debian/Ubuntu); or set"
            " src to the sources of the uWSGI version that builds the plugin"
        )
    if re.search(r"\s", src):
        # uWSGI splits the argument of --build-plugin at its first space: "<directory> <name>".
        module.fail_json(msg=f"src {src!r} contains white space, which --build-plugin cannot take")
    # uwsgiconfig.py compiles with $CC, else with the compiler the interpreter was built with.
    if os.environ.get("CC", "").strip():
        compiler, origin = os.environ["CC"], "$CC"
    else:
        compiler, origin = facts["cc"] or "gcc", f"the compiler {python} was built with"
    command = shlex.split(compiler)[0]
    if not module.get_bin_path(command):
        module.fail_json(
            msg=f"the build compiles with {command} ({origin}), which is not installed:"
            " install gcc (Debian/Ubuntu), or set CC in the task's environment"
        )


def _build_hint(output, python):
    header = re.search(r"fatal error: (\S+): No such file or directory", output)
    if header:
        return (
            f"; the header {header.group(1)} is missing: install uwsgi-dev (Debian/Ubuntu), which"
            " pulls in the headers of the libraries uWSGI was built with"
        )
    if re.search(r"No module named '?distutils", output):
        return (
            f"; {python} has no distutils, which this uwsgiplugin.py imports: install"
            " python3-distutils (Debian 12, Ubuntu 22.04) or setuptools for that interpreter"
        )
    return ""


def _build(module, uwsgi, src, python, name):
    """Build the plugin in a scratch directory; return its bytes, the seconds taken and the log."""
    with tempfile.TemporaryDirectory(prefix="uwsgi-plugin-") as workdir:
        started = time.monotonic()
        # The shell only joins stderr to stdout, so that compiler errors stay in order with the
        # builder's own lines; both arguments reach uWSGI unchanged.
        rc, output = module.run_command(
            [
                "/bin/sh",
                "-c",
                'exec "$0" --build-plugin "$1" 2>&1',
                uwsgi,
                f"{src}/plugins/python {name}",
            ],
            cwd=workdir,
            # LC_ALL=C: messages in English, which _build_hint reads.
            environ_update={"PYTHON": python, "LC_ALL": "C"},
        )[:2]
        seconds = round(time.monotonic() - started, 2)
        built = os.path.join(workdir, f"{name}_plugin.so")
        if rc != 0 or not os.path.isfile(built):
            problem = f"rc={rc}" if rc != 0 else f"rc=0 but no {name}_plugin.so"
            module.fail_json(
                msg=f"building the {name} plugin failed ({problem}){_build_hint(output, python)}."
                " Last lines of the build:\n" + "\n".join(_tail(output)),
                rc=rc,
                build_log=_tail(output),
            )
        with open(built, "rb") as plugin:
            return plugin.read(), seconds, _tail(output)


def _write_atomic(module, path, data):
    # A new file renamed over the old one: a uWSGI that has the old plugin mapped keeps its inode,
    # and nobody ever reads half a file.
    fd, tmp = tempfile.mkstemp(dir=os.path.dirname(path), prefix=f".{os.path.basename(path)}.")
    try:
        with os.fdopen(fd, "wb") as out:
            out.write(data)
        module.atomic_move(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)


def _read_record(path):
    """Return the record file's text (None when missing) and its dict (None when unreadable)."""
    try:
        with open(path, "rb") as record_file:
            data = record_file.read()
    except FileNotFoundError:
        return None, None
    text = data.decode("utf-8", "replace")
    try:
        record = json.loads(data)
    except ValueError:
        return text, None
    return text, record if isinstance(record, dict) else None


def _record_text(record):
    return json.dumps(record, indent=2, sort_keys=True) + "\n"


def _rebuild_reason(module, plugin, record_text, record, current):
    if module.params["force"]:
        return "forced"
    if not os.path.exists(plugin):
        return "not built yet" if record_text is None else "plugin file is missing"
    if record is None:
        problem = "missing" if record_text is None else "unreadable"
        return f"the record of what the plugin was built against is {problem}"
    for key, change in RECORD_FIELDS:
        if record.get(key) != current[key]:
            return f"{change}: {record.get(key)} -> {current[key]}"
    if record.get("plugin_sha256") != module.sha256(plugin):
        return "plugin file differs from the record"
    return ""


def _set_attributes(module, path, mode, changed):
    changed = module.set_owner_if_different(path, module.params["owner"], changed)
    changed = module.set_group_if_different(path, module.params["group"], changed)
    return module.set_mode_if_different(path, mode, changed)


def _diff(path, before, after):
    return {"before_header": path, "after_header": path, "before": before, "after": after}


def _present(module, mode):
    params = module.params
    python, uwsgi, src, dest = params["python"], params["uwsgi"], params["src"], params["dest"]
    if os.path.exists(dest) and not os.path.isdir(dest):
        module.fail_json(msg=f"dest {dest} exists and is not a directory")
    facts = _python_facts(module, python)
    name = params["name"] or _default_name(facts)
    current = {
        "python": python,
        "python_version": facts["version"],
        "python_build": facts["build"],
        "abi": facts["abi"],
        "uwsgi": uwsgi,
        "uwsgi_version": _uwsgi_version(module, uwsgi),
    }
    plugin = os.path.join(dest, f"{name}_plugin.so")
    record_path = os.path.join(dest, f"{name}_plugin.json")
    record_text, record = _read_record(record_path)
    reason = _rebuild_reason(module, plugin, record_text, record, current)
    result = {"plugin": plugin, "rebuilt": bool(reason), "reason": reason, "build_seconds": 0.0}

    if reason:
        _check_build_prerequisites(module, facts, python, src)
        record = dict(current, plugin_sha256=None)
        if not module.check_mode:
            data, result["build_seconds"], result["build_log"] = _build(
                module, uwsgi, src, python, name
            )
            if not os.path.isdir(dest):
                os.makedirs(dest)
                os.chmod(dest, 0o755)
            _write_atomic(module, plugin, data)
            record["plugin_sha256"] = module.sha256(plugin)
            _write_atomic(module, record_path, _record_text(record).encode())

    changed = bool(reason)
    for path in (plugin, record_path):
        changed = _set_attributes(module, path, mode, changed)
    result.update(changed=changed, record=record)
    if module._diff:
        result["diff"] = _diff(record_path, record_text or "", _record_text(record))
    module.exit_json(**result)


def _absent(module):
    params = module.params
    name = params["name"] or _name_for_removal(module, params["python"])
    plugin = os.path.join(params["dest"], f"{name}_plugin.so")
    record_path = os.path.join(params["dest"], f"{name}_plugin.json")
    record_text = _read_record(record_path)[0]
    present = [path for path in (plugin, record_path) if os.path.lexists(path)]
    if not module.check_mode:
        for path in present:
            os.unlink(path)
    result = {
        "changed": bool(present),
        "plugin": plugin,
        "record": {},
        "rebuilt": False,
        "reason": "",
        "build_seconds": 0.0,
    }
    if module._diff:
        result["diff"] = _diff(record_path, record_text or "", "")
    module.exit_json(**result)


def main():
    module = AnsibleModule(
        argument_spec={
            "python": {"type": "path", "required": True},
            "name": {"type": "str"},
            "src": {"type": "path", "default": "/usr/src/uwsgi"},
            "uwsgi": {"type": "path", "default": "/usr/bin/uwsgi-core"},
            "dest": {"type": "path", "default": "/usr/local/lib/uwsgi/plugins"},
            "state": {"type": "str", "choices": ["present", "absent"], "default": "present"},
            "force": {"type": "bool", "default": False},
            "owner": {"type": "str", "default": "root"},
            "group": {"type": "str", "default": "root"},
            "mode": {"type": "raw", "default": "0644"},
        },
        supports_check_mode=True,
    )
    name = module.params["name"]
    if name is not None and not NAME.match(name):
        module.fail_json(
            msg=f"name {name!r} is not a plugin name: use lower-case letters, digits and"
            " underscores, not starting with a digit (for example python313)"
        )
    if module.params["state"] == "absent":
        _absent(module)
    else:
        mode = _octal_mode(module, module.params["mode"])
        _check_account(module, module.params["owner"], module.params["group"])
        _present(module, mode)


if __name__ == "__main__":
    main()
