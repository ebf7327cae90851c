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
    uWSGI there. They are the kernel's limit on listen backlogs, the CPUs and memory processes get,
    the members of nginx's group, the Python versions installed, and the option names the installed
    uWSGI takes with given plugins.
  - Given paths, files, directories, users, groups or packages, it also reports their state as
    they are now, which is how one call tells what a deploy would change.
  - The action P(pyops.uwsgi.app_plan#module) calls it to plan an app from its answer, and once
    more to compare the plan with what the host has; the uwsgi role calls it to learn which Python
    versions apt offers. It is useful on its own to see what a host offers.
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
  app:
    description:
      - An app whose uWSGI processes to read, as RV(processes) reports. They are the processes of
        O(app_user) (their effective user) that uWSGI titled, as C(ps -o args -u USER) shows them.
      - Needed by O(wait_for).
    type: str
    version_added: 0.2.0
  app_user:
    description:
      - The user whose processes are read for O(app). Not given, the user named as O(app). A user
        that does not exist is refused.
    type: str
    version_added: 0.2.0
  wait_for:
    description:
      - What the processes of O(app) must show, read again every O(interval) seconds until it
        holds or O(wait) is over; the module fails when it does not hold by then, saying which
        processes stand in the way. Masters and workers count, mules and spoolers do not, nor
        the canary's processes (generation V(canary)), nor processes titled without the app's
        prefix.
      - V(generation), every master and worker runs O(generation), and two at least do (a master
        and a worker), which is how a deploy knows a graceful reload is done.
      - V(stopped), no master or worker runs.
    type: str
    choices: [generation, stopped]
    version_added: 0.2.0
  generation:
    description: The generation V(generation) of O(wait_for) waits for; needed by it.
    type: str
    version_added: 0.2.0
  wait:
    description:
      - Seconds to keep reading the processes until O(wait_for) holds. V(0) reads them once.
      - They are read at once, then every O(interval) seconds, and a last time when the wait is
        over, so O(wait=60) with O(interval=1) reads them 61 times, as C(until) with
        C(retries=60) and C(delay=1) would.
      - A negative value is refused, and so is a wait without O(wait_for).
    type: float
    default: 0
    version_added: 0.2.0
  interval:
    description: Seconds between two reads of O(wait). Refused unless more than V(0).
    type: float
    default: 1
    version_added: 0.2.0
  paths:
    description:
      - Paths to look at, without following a symlink at their end, as RV(paths) reports.
    type: list
    elements: path
    default: []
  texts:
    description:
      - Text files (UTF-8, at most 1 MiB each) to read whole, as RV(texts) reports. The answer holds
        their content. Leave out files that hold secrets, or do not show the answer.
    type: list
    elements: path
    default: []
  directories:
    description: Directories whose entries are listed, as RV(entries) reports.
    type: list
    elements: path
    default: []
  users:
    description: Users whose account is reported, as RV(users) reports.
    type: list
    elements: str
    default: []
  groups:
    description: Groups whose ID is reported, as RV(groups) reports.
    type: list
    elements: str
    default: []
  packages:
    description:
      - Debian package names to look up in apt's package index (C(apt-cache show)), as
        RV(packages) reports. The index is read as it is; refresh it first for a fresh answer.
    type: list
    elements: str
    default: []
  installed:
    description:
      - Debian package names to look up in dpkg's database (C(dpkg-query)), as RV(installed)
        reports. A role installs with apt only when one of its packages is missing.
    type: list
    elements: str
    default: []
  services:
    description:
      - systemd units (C(nginx), C(uwsgi-emperor.service), C(uwsgi-app-shop.socket)) whose state is
        reported, as RV(services) reports. A role starts or enables only what is not.
    type: list
    elements: str
    default: []
extends_documentation_fragment:
  - ansible.builtin.action_common_attributes
  - pyops.uwsgi.common
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

- name: Wait up to 60 seconds until every process of shop runs generation 3f2a9c01
  pyops.uwsgi.uwsgi_info:
    app: shop
    wait_for: generation
    generation: 3f2a9c01
    wait: 60
  register: shop_info

- name: Show the pids of shop's workers
  ansible.builtin.debug:
    msg: "{{ shop_info.processes | selectattr('kind', 'eq', 'worker') | map(attribute='pid') }}"
"""

RETURN = r"""
paths:
  description:
    - For each of O(paths), what is there now, a symlink itself rather than what it points to.
    - C(type) is V(file), V(directory), V(link) or V(other); C(mode) the permission bits in octal
      with the set-user-ID, set-group-ID and sticky bits (V(2750)); C(owner) and C(group) are names
      (the number when no name has it); C(target) is a symlink's target, as it is written; C(mtime)
      is seconds since the epoch.
    - A path where nothing is gives only C(exists=false).
  returned: always
  type: dict
  sample:
    /srv/shop/current:
      exists: true
      type: link
      mode: "0777"
      owner: root
      group: root
      size: 30
      mtime: 1795000000.0
      target: /srv/shop/releases/3f2a9c01be7d
processes:
  description:
    - The uWSGI processes of O(app) (those of O(app_user) that uWSGI titled), by pid; null when
      O(app) is not given. With O(wait_for), as the last read found them.
    - C(name) and C(generation) are what the title's prefix says (C(APP GENERATION)), null for a
      title without one; C(canary) is whether the generation is V(canary); C(kind) is the word
      uWSGI names the process with (V(master), V(worker), V(mule), V(spooler)...); C(number) is a
      worker's or mule's number, null for the others; C(title) is the whole title.
  returned: always
  type: list
  elements: dict
  sample:
    - pid: 4242
      name: shop
      generation: 3f2a9c01
      canary: false
      kind: master
      number: null
      title: shop 3f2a9c01 uWSGI master
    - pid: 4250
      name: shop
      generation: 3f2a9c01
      canary: false
      kind: worker
      number: 1
      title: shop 3f2a9c01 uWSGI worker 1
  version_added: 0.2.0
attempts:
  description: How many times the processes were read for O(wait_for).
  returned: when O(wait_for) is given
  type: int
  sample: 3
  version_added: 0.2.0
waited:
  description: Seconds from the first read of the processes to the last.
  returned: when O(wait_for) is given
  type: float
  sample: 2.0021
  version_added: 0.2.0
texts:
  description: For each of O(texts), its content, or null when there is no such file.
  returned: always
  type: dict
  sample:
    /etc/uwsgi/vassals/shop.ini: "[uwsgi]\n..."
entries:
  description:
    - For each of O(directories), its entries (C(name), C(type) as in RV(paths), C(mtime)), sorted
      by name; null when there is no such directory.
  returned: always
  type: dict
  sample:
    /srv/shop/releases:
      - name: 3f2a9c01be7d
        type: directory
        mtime: 1795000000.0
users:
  description:
    - For each of O(users), its account (C(uid), C(group) the name of its primary group, C(home),
      C(shell), C(comment) its GECOS field, C(password_locked) whether its password in
      C(/etc/shadow) is exactly V(!), null when the shadow file cannot be read), or null when
      there is no such user.
  returned: always
  type: dict
  sample:
    shop:
      uid: 998
      group: shop
      home: /srv/shop
      shell: /usr/sbin/nologin
      comment: pyops.uwsgi app shop
      password_locked: true
groups:
  description: For each of O(groups), its C(gid), or null when there is no such group.
  returned: always
  type: dict
  sample:
    shop:
      gid: 998
packages:
  description:
    - For each of O(packages), whether apt's package index offers it.
    - Null when C(apt-cache) is not installed.
  returned: always
  type: dict
  sample:
    python3.13: true
    python3.13-dev: true
services:
  description:
    - For each of O(services), systemd's C(LoadState), C(ActiveState) and C(UnitFileState) (as
      C(systemctl show) names them). A unit it does not know is V(not-found) and V(inactive).
    - Null when C(systemctl) is not installed or systemd does not run.
  returned: always
  type: dict
  sample:
    nginx:
      LoadState: loaded
      ActiveState: active
      UnitFileState: enabled
installed:
  description:
    - For each of O(installed), whether dpkg has it installed (status C(ii), or C(hi) when held). A
      package removed but not purged, half-installed, marked for reinstallation or unknown is not.
    - Null when C(dpkg-query) is not installed.
  returned: always
  type: dict
  sample:
    nginx: true
    uwsgi-core: false
somaxconn:
  description: The kernel's C(net.core.somaxconn), the largest listen backlog a socket may have.
  returned: always
  type: int
  sample: 4096
cpus:
  description:
    - CPUs the host lets its processes run on (their CPU affinity, which a container's cpuset
      narrows).
    - The app role sizes an app's worker processes from it when C(app_processes) is V(0).
  returned: always
  type: int
  sample: 2
memory_mb:
  description:
    - The host's memory in MB (MiB), C(MemTotal) of C(/proc/meminfo), or the memory limit of the
      control group the module runs in or of any group above it when that is smaller (a
      container's limit).
    - The app role sizes an app's worker processes from it when C(app_processes) is V(0).
  returned: always
  type: int
  sample: 1024
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
uwsgi_version:
  description:
    - What C(uwsgi --version) prints for O(uwsgi), without plugins.
    - Null when O(uwsgi) was not given or is not executable.
  returned: always
  type: str
  sample: 2.0.28-debian
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
import pwd
import re
import stat

from ansible.module_utils.basic import AnsibleModule
from ansible_collections.pyops.uwsgi.plugins.module_utils import process_titles, waiter

# uwsgi --help lists options as "    -s|--socket  ..." or "    --master  ...".
_HELP_OPTION = re.compile(r"^ *(?:-[A-Za-z]\|)?--([a-z0-9][a-z0-9_.-]*)")
_PYTHON = re.compile(r"^python(3\.[0-9]{1,2})$")
_CGROUP = "/sys/fs/cgroup"
_PROC = "/proc"


def _somaxconn():
    with open("/proc/sys/net/core/somaxconn", encoding="ascii") as handle:
        return int(handle.read().strip())


def _cpus():
    return len(os.sched_getaffinity(0))


def _memory_mb():
    """MemTotal, or a smaller memory limit of this process's control group or one above it."""
    with open(os.path.join(_PROC, "meminfo"), encoding="ascii") as handle:
        total = next(int(line.split()[1]) * 1024 for line in handle if line.startswith("MemTotal:"))
    return min([total, *_cgroup_memory_limits()]) // 2**20


def _cgroup_memory_limits():
    """The memory limits (bytes) from this process's control group up to the root, as far as
    /sys/fs/cgroup shows them (cgroup v2: memory.max; v1: the memory controller's limit)."""
    try:
        with open(os.path.join(_PROC, "self", "cgroup"), encoding="ascii") as handle:
            lines = [line.rstrip("\n").split(":", 2) for line in handle]
    except OSError:
        return []
    v1 = [path for _number, controllers, path in lines if "memory" in controllers.split(",")]
    if v1:
        top, name, path = os.path.join(_CGROUP, "memory"), "memory.limit_in_bytes", v1[0]
    else:
        top, name = _CGROUP, "memory.max"
        path = next((path for number, _controllers, path in lines if number == "0"), "/")
    limits = []
    parts = [part for part in path.split("/") if part]
    for depth in range(len(parts), -1, -1):
        try:
            with open(os.path.join(top, *parts[:depth], name), encoding="ascii") as handle:
                text = handle.read().strip()
        except OSError:
            continue
        # No limit: "max" (v2) or a page-aligned LONG_MAX (v1).
        if text.isdigit() and int(text) < 2**60:
            limits.append(int(text))
    return limits


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


def _uwsgi_version(module):
    binary = module.params["uwsgi"]
    if not binary or not os.access(binary, os.X_OK):
        return None
    rc, out, err = module.run_command([binary, "--version"])
    if rc != 0:
        module.fail_json(msg=f"{binary} --version failed: {(err or out).strip()}", rc=rc)
    return out.strip()


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


def _type(mode):
    for test, name in ((stat.S_ISLNK, "link"), (stat.S_ISDIR, "directory"), (stat.S_ISREG, "file")):
        if test(mode):
            return name
    return "other"


def _name(lookup, number):
    try:
        return lookup(number)[0]
    except KeyError:
        return str(number)


def _path(path):
    try:
        found = os.lstat(path)
    except (FileNotFoundError, NotADirectoryError):
        return {"exists": False}
    answer = {
        "exists": True,
        "type": _type(found.st_mode),
        "mode": f"{stat.S_IMODE(found.st_mode):04o}",
        "owner": _name(pwd.getpwuid, found.st_uid),
        "group": _name(grp.getgrgid, found.st_gid),
        "size": found.st_size,
        "mtime": found.st_mtime,
    }
    if answer["type"] == "link":
        answer["target"] = os.readlink(path)
    return answer


# Larger than any configuration the roles write; a file this size is not one of theirs.
_TEXT_LIMIT = 1 << 20


def _text(module, path):
    try:
        with open(path, "rb") as handle:
            data = handle.read(_TEXT_LIMIT + 1)
    except FileNotFoundError:
        return None
    except OSError as error:
        module.fail_json(msg=f"Cannot read {path}: {error.strerror}")
    if len(data) > _TEXT_LIMIT:
        module.fail_json(msg=f"{path} is larger than {_TEXT_LIMIT} bytes, too large to read whole")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as error:
        module.fail_json(msg=f"{path} is not UTF-8 text: {error}")


def _entries(path):
    try:
        listed = sorted(os.scandir(path), key=lambda entry: entry.name)
    except (FileNotFoundError, NotADirectoryError):
        return None
    found = []
    for entry in listed:
        try:
            mode = entry.stat(follow_symlinks=False)
        except FileNotFoundError:  # removed while listing
            continue
        found.append({"name": entry.name, "type": _type(mode.st_mode), "mtime": mode.st_mtime})
    return found


def _shadow():
    """User -> password field of /etc/shadow, or None when it cannot be read."""
    try:
        with open("/etc/shadow", encoding="utf-8") as handle:
            return {
                fields[0]: fields[1]
                for fields in (line.rstrip("\n").split(":") for line in handle)
                if len(fields) > 1
            }
    except OSError:
        return None


def _users(names):
    shadow = _shadow() if names else None
    found = {}
    for name in names:
        try:
            account = pwd.getpwnam(name)
        except KeyError:
            found[name] = None
            continue
        found[name] = {
            "uid": account.pw_uid,
            "group": _name(grp.getgrgid, account.pw_gid),
            "home": account.pw_dir,
            "shell": account.pw_shell,
            # The GECOS field: the app role marks the accounts it creates there.
            "comment": account.pw_gecos,
            "password_locked": None if shadow is None else shadow.get(name) == "!",
        }
    return found


def _groups(names):
    found = {}
    for name in names:
        try:
            found[name] = {"gid": grp.getgrnam(name).gr_gid}
        except KeyError:
            found[name] = None
    return found


_PACKAGE = re.compile(r"^Package: (\S+)$", re.MULTILINE)


def _packages(module):
    names = module.params["packages"]
    if not names:
        return {}
    apt_cache = module.get_bin_path("apt-cache")
    if not apt_cache:
        return None
    # It lists the packages it knows and fails for the others, all in one run.
    _rc, out, _err = module.run_command([apt_cache, "show", "--no-all-versions", *names])
    known = set(_PACKAGE.findall(out))
    return {name: name in known for name in names}


def _installed(module):
    names = module.params["installed"]
    if not names:
        return {}
    dpkg_query = module.get_bin_path("dpkg-query")
    if not dpkg_query:
        return None
    # It lists the packages it knows and complains about the others, all in one run.
    _rc, out, _err = module.run_command(
        [dpkg_query, "--show", "--showformat=${Package} ${db:Status-Abbrev}\\n", *names]
    )
    # Architecture-qualified names (libc6:amd64) answer for their plain name too.
    found = {}
    for line in out.splitlines():
        package, _space, status = line.partition(" ")
        for name in (package, package.split(":")[0]):
            found[name] = found.get(name, False) or _dpkg_says_installed(status)
    return {name: found.get(name, False) for name in names}


def _dpkg_says_installed(status):
    """Whether dpkg's abbreviated status says installed: the state i, no error flag (ii, hi)."""
    return status[1:2] == "i" and status[2:3].strip() == ""


_UNIT_PROPERTIES = ("LoadState", "ActiveState", "UnitFileState")


def _services(module):
    names = module.params["services"]
    if not names:
        return {}
    systemctl = module.get_bin_path("systemctl")
    if not systemctl:
        return None
    argv = [systemctl, "show", f"--property={','.join(_UNIT_PROPERTIES)}", "--", *names]
    rc, out, _err = module.run_command(argv)
    if rc != 0:
        return None
    # One block of KEY=VALUE lines per unit, in the order asked, blocks apart by a blank line.
    blocks = out.strip("\n").split("\n\n")
    if len(blocks) != len(names):
        module.fail_json(
            msg=f"systemctl show answered {len(blocks)} units for {len(names)}", out=out
        )
    return {
        name: {
            key: value
            for key, _equals, value in (line.partition("=") for line in block.splitlines())
            if key in _UNIT_PROPERTIES
        }
        for name, block in zip(names, blocks)
    }


def _read_processes(uid):
    """The uWSGI-titled processes whose effective user is UID, by pid, as process_titles reads
    them. Their titles are read as ps shows them: argv's NULs as spaces, padding stripped."""
    found = []
    for entry in os.listdir(_PROC):
        if not entry.isdigit():
            continue
        try:
            with open(os.path.join(_PROC, entry, "status"), encoding="utf-8") as handle:
                uids = next(line.split()[1:3] for line in handle if line.startswith("Uid:"))
            with open(os.path.join(_PROC, entry, "cmdline"), "rb") as handle:
                argv = handle.read()
        except (OSError, StopIteration):  # gone while listing, or a kernel thread
            continue
        if int(uids[1]) != uid:
            continue
        title = argv.replace(b"\0", b" ").decode("utf-8", errors="replace").strip()
        process = process_titles.parse(title, pid=int(entry))
        if process is not None:
            found.append(process)
    return sorted(found, key=lambda process: process["pid"])


def _processes(module):
    """RV(processes), and with O(wait_for) the wait's counts; fails when the wait runs out."""
    params = module.params
    if params["app"] is None:
        return None, {}
    user = params["app_user"] or params["app"]
    try:
        uid = pwd.getpwnam(user).pw_uid
    except KeyError:
        module.fail_json(msg=f"app_user {user!r}: no such user")
    if params["wait_for"] is None:
        return _read_processes(uid), {}
    holds = process_titles.PREDICATES[params["wait_for"]]

    def why_not(processes):
        return holds(processes, app=params["app"], generation=params["generation"])

    waited = waiter.wait_for(
        lambda: _read_processes(uid),
        lambda processes: why_not(processes) is None,
        wait=params["wait"],
        interval=params["interval"],
    )
    counts = {"attempts": waited.attempts, "waited": round(waited.waited, 6)}
    if not waited.accepted:
        module.fail_json(
            msg=waiter.summary(waited, wait=params["wait"]) + why_not(waited.outcome),
            processes=waited.outcome,
            **counts,
        )
    return waited.outcome, counts


def main():
    module = AnsibleModule(
        argument_spec={
            "app": {"type": "str"},
            "app_user": {"type": "str"},
            "wait_for": {"type": "str", "choices": ["generation", "stopped"]},
            "generation": {"type": "str"},
            "wait": {"type": "float", "default": 0},
            "interval": {"type": "float", "default": 1},
            "group": {"type": "str", "default": "www-data"},
            "uwsgi": {"type": "path"},
            "plugins_dir": {"type": "path"},
            "plugins": {"type": "list", "elements": "str", "default": []},
            "calendars": {"type": "list", "elements": "str", "default": []},
            "paths": {"type": "list", "elements": "path", "default": []},
            "texts": {"type": "list", "elements": "path", "default": []},
            "directories": {"type": "list", "elements": "path", "default": []},
            "users": {"type": "list", "elements": "str", "default": []},
            "groups": {"type": "list", "elements": "str", "default": []},
            "packages": {"type": "list", "elements": "str", "default": []},
            "installed": {"type": "list", "elements": "str", "default": []},
            "services": {"type": "list", "elements": "str", "default": []},
        },
        required_by={"wait_for": "app", "app_user": "app"},
        required_if=[("wait_for", "generation", ["generation"])],
        supports_check_mode=True,
    )
    wrong = waiter.check(wait=module.params["wait"], interval=module.params["interval"])
    if not wrong and module.params["wait"] > 0 and module.params["wait_for"] is None:
        wrong = "wait needs wait_for: what to wait for"
    if wrong:
        module.fail_json(msg=wrong)
    # Waited for first: the other answers are the host's as the wait leaves it.
    processes, counts = _processes(module)
    module.exit_json(
        changed=False,
        processes=processes,
        **counts,
        somaxconn=_somaxconn(),
        cpus=_cpus(),
        memory_mb=_memory_mb(),
        group_members=_members(module.params["group"]),
        python3=_python3(module),
        pythons=_pythons(),
        uwsgi_options=_uwsgi_options(module),
        uwsgi_version=_uwsgi_version(module),
        calendars=_calendars(module),
        paths={path: _path(path) for path in module.params["paths"]},
        texts={path: _text(module, path) for path in module.params["texts"]},
        entries={path: _entries(path) for path in module.params["directories"]},
        users=_users(module.params["users"]),
        groups=_groups(module.params["groups"]),
        packages=_packages(module),
        installed=_installed(module),
        services=_services(module),
    )


if __name__ == "__main__":
    main()
