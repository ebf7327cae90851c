# Copyright: pyops.uwsgi contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Where pyops.uwsgi may own directories on a host, and the names it may take: one table.

A path setting is judged as the kernel resolves it, never as a string: ``normalize`` takes away
``.``, ``..``, repeated and trailing slashes first (``/var/lib/`` is ``/var/lib``, ``/srv/x/../..``
is ``/``), then ``judge`` checks the result against ``PLACES``: each setting names one directory
of its own name under an allowed parent, never a parent itself and never a directory another app,
the Emperor, nginx, systemd or the distribution owns. Symbolic links are the host's business:
the roles read every existing component of a path on the host and refuse links and components
owned by someone else (``component_problems``), since a string cannot tell.

Names are judged the same way: an app's name (and user and group) must not be one of the
collection's own path names (``stats``, ``vassals``, ...) or an account of the distribution
(``RESERVED_NAMES``, ``SYSTEM_ACCOUNTS``); on the host, an existing account is adopted only when
pyops.uwsgi created it for that app (``account_problem``).

docs/bad-inputs.md renders the table (scripts/bad_inputs_doc.py). Pure: no I/O.
"""

from __future__ import annotations

import posixpath
import re
from dataclasses import dataclass

# The GECOS field of an account the app role creates: how it knows the account is its own.
ACCOUNT_MARKER = "pyops.uwsgi app {name}"
NOLOGIN = "/usr/sbin/nologin"

# Names the collection gives paths of its own beside the apps' (in the uWSGI runtime directory,
# /etc/uwsgi, a release) or that name its own units: an app named so would take them over.
RESERVED_NAMES = frozenset(
    """
    stats emperor vassals env services plugins canary nginx uwsgi pyops current releases shared
    repo tools apps-available apps-enabled www html
    """.split()  # noqa: SIM905 - a word list reads better than quoted strings
)
# Accounts and directories of the distribution and its common packages (Debian's base-passwd,
# systemd, nginx, PostgreSQL, ...) and directories of /var/lib, /srv, /opt and /var/www that
# packages own: an app named so would take over an account or a directory it did not create.
# On a host the roles also read the accounts themselves (account_problem).
SYSTEM_ACCOUNTS = frozenset(
    """
    root daemon bin sys sync games man lp mail news uucp proxy www-data backup list irc gnats
    nobody nogroup adm tty disk kmem dialout fax voice cdrom floppy tape sudo audio dip operator
    src shadow utmp video sasl plugdev staff users input sgx kvm render netdev crontab messagebus
    systemd-network systemd-resolve systemd-timesync systemd-journal systemd-coredump
    systemd-oom systemd-journal-remote _apt _chrony polkitd sshd ntp postfix postdrop postgres
    mysql redis memcache rabbitmq docker containerd dnsmasq uuidd tcpdump lxd landscape pollinate
    syslog ubuntu admin debian ec2-user dpkg apt systemd ucf pam private python misc dhcp polkit-1
    dbus logrotate git ssl ca-certificates
    """.split()  # noqa: SIM905
)


@dataclass(frozen=True)
class Place:
    """Where one setting may put a directory: PARENTS/NAME, NAME as ``name`` says."""

    setting: str
    parents: tuple
    # "app": the app's own name; "uwsgi": "uwsgi" or starting with "uwsgi-" or "uwsgi_"; "any": a
    # name of a-z, 0-9, ".", "_" and "-" other than the reserved ones.
    name: str
    owner: str
    example: str


# The table. The app role's runtime directory is the uwsgi role's uwsgi_run_dir/APP; the socket
# and everything else of an app sit inside these directories.
PLACES = {
    "app_root": Place(
        "app_root",
        ("/srv", "/opt", "/var/www"),
        "app",
        "root:root 0755 (code and virtualenvs, read-only to the app)",
        "/srv/APP",
    ),
    "app_state_dir": Place(
        "app_state_dir",
        ("/var/lib",),
        "app",
        "APP:APP 0750 (APP:www-data 0710 when it serves shared paths)",
        "/var/lib/APP",
    ),
    "app_socket": Place(
        "app_socket",
        ("RUN_DIR",),
        "app",
        "APP:www-data 2750, its directory; the socket APP:www-data 0660 in it",
        "/run/uwsgi/APP/APP.sock",
    ),
    "uwsgi_run_dir": Place(
        "uwsgi_run_dir",
        ("/run",),
        "uwsgi",
        "root:root 0755 (a directory per app inside, and stats/)",
        "/run/uwsgi",
    ),
    "uwsgi_vassals_dir": Place(
        "uwsgi_vassals_dir",
        ("/etc/uwsgi",),
        "any",
        "root:root 0755 (the Emperor's vassals; -pipXY beside it for pip-built uWSGI)",
        "/etc/uwsgi/vassals",
    ),
    "uwsgi_plugin_dir": Place(
        "uwsgi_plugin_dir",
        ("/usr/local/lib/uwsgi",),
        "any",
        "root:root 0755 (the Python plugins the role builds)",
        "/usr/local/lib/uwsgi/plugins",
    ),
    "uwsgi_pip_root": Place(
        "uwsgi_pip_root",
        ("/opt",),
        "uwsgi",
        "root:root 0755 (pip-built uWSGI, one virtualenv per Python)",
        "/opt/uwsgi",
    ),
}
_NAME = re.compile(r"^[a-z0-9][a-z0-9._-]{0,63}$")
_UWSGI_NAME = re.compile(r"^uwsgi(?:[-_][a-z0-9._-]{1,58})?$")
# Directories of /etc/uwsgi that are the collection's own or Debian's uwsgi package's.
_ETC_UWSGI_TAKEN = frozenset(("services", "env", "apps-available", "apps-enabled"))


def normalize(path):
    """PATH as the kernel resolves '.', '..', repeated and trailing slashes (symbolic links are
    not followed: the host is read for them), or None when PATH is not an absolute path."""
    if not isinstance(path, str) or not path.startswith("/") or "\x00" in path:
        return None
    normal = posixpath.normpath(path)
    # POSIX lets a path start with exactly two slashes mean something else; Linux does not.
    return "/" + normal.lstrip("/")


def inside(path, directory):
    """Whether normalized PATH is DIRECTORY or inside it."""
    return path == directory or path.startswith(directory.rstrip("/") + "/")


def ancestors(path):
    """The directories above normalized PATH, from / down, without PATH itself."""
    parts = path.strip("/").split("/") if path != "/" else []
    return ["/" + "/".join(parts[:depth]) for depth in range(len(parts))]


def _name_problem(place, name, app):
    if place.name == "app":
        if name != app:
            return f"its last part must be the app's name, {app}"
        return ""
    if place.name == "uwsgi":
        return "" if _UWSGI_NAME.fullmatch(name) else "its name must be uwsgi or start with uwsgi-"
    if (
        not _NAME.fullmatch(name)
        or name in _ETC_UWSGI_TAKEN
        or name
        in RESERVED_NAMES
        - {
            "vassals",
            "plugins",
        }
    ):
        return f"'{name}' is not a name of its own (taken: {', '.join(sorted(_ETC_UWSGI_TAKEN))})"
    return ""


def judge(setting, value, *, app="", run_dir="/run/uwsgi"):
    """Why VALUE of SETTING is not a directory the collection may own (for app_socket: the
    socket's directory), or "" when it is. The message names the setting and the fix."""
    place = PLACES[setting]
    parents = tuple(run_dir if parent == "RUN_DIR" else parent for parent in place.parents)
    example = place.example.replace("APP", app or "APP").replace("/run/uwsgi", run_dir)
    normal = normalize(value)
    if normal is None:
        return f"{setting} must be an absolute path such as {example}; got {value!r}."
    directory = posixpath.dirname(normal) if setting == "app_socket" else normal
    parent, _slash, name = directory.rpartition("/")
    parent = parent or "/"
    problem = ""
    if parent not in parents:
        where = " or ".join(parents)
        problem = f"it must be a directory of its own directly under {where}"
    else:
        problem = _name_problem(place, name, app)
    if problem and setting == "app_socket":
        resolved = f" (which the kernel resolves to {normal})" if normal != value else ""
        return (
            f"app_socket {value!r}{resolved}: the socket must sit in a directory of the app's own,"
            f" named after it, directly under {run_dir} (its permissions keep other users out),"
            f" such as {example}; {problem}."
        )
    if problem:
        resolved = f" (which the kernel resolves to {normal})" if normal != value else ""
        return (
            f"{setting} {value!r}{resolved} is not a place pyops.uwsgi may own: {problem}, such"
            f" as {example}, never a parent directory or one the system, nginx, the Emperor or"
            " another app owns (docs/bad-inputs.md lists the places)."
        )
    if normal != value:
        return (
            f"{setting} must be written as the kernel resolves it, {normal!r} (without '.', '..',"
            f" repeated or trailing slashes); got {value!r}."
        )
    return ""


def name_problem(variable, name):
    """Why NAME (app_name, app_user or app_group) would take over a path or an account of the
    collection or the distribution, or ""."""
    if name in RESERVED_NAMES:
        return (
            f"{variable} '{name}' is a name pyops.uwsgi gives paths of its own (such as"
            f" /run/uwsgi/{name} or /etc/uwsgi/{name}): an app named so would take them over."
            " Choose another name."
        )
    if name in SYSTEM_ACCOUNTS:
        return (
            f"{variable} '{name}' is an account or a directory of the system or of a common"
            f" package (such as /var/lib/{name}): the app would take it over. Choose another"
            " name."
        )
    return ""


def account_problem(*, app, user, group, root, account, group_found):
    """Why the app may not use the existing account USER or group GROUP, or "".

    ACCOUNT is the host's reading of USER (uwsgi_info's users: home, shell, comment, group), or
    None when there is none; GROUP_FOUND likewise for GROUP. An account is the app's when its
    GECOS carries ACCOUNT_MARKER for APP; one made by a release of the role before the marker has
    the app's root as home and no login shell, and is adopted (the marker is added). An existing
    group is the app's when it is the primary group of the app's account.
    """
    marker = ACCOUNT_MARKER.format(name=app)
    if account is not None:
        comment = account.get("comment")
        legacy = (
            comment in ("", None)
            and account.get("home") == root
            and account.get("shell") == NOLOGIN
        )
        if comment != marker and not legacy:
            return (
                f"User {user} already exists on this host (home {account.get('home')}, shell"
                f" {account.get('shell')}) and pyops.uwsgi did not create it for app {app}: the"
                " app would take the account over. Set app_name (or app_user) to a name no"
                " account has."
            )
    if group_found is not None and (account is None or account.get("group") != group):
        return (
            f"Group {group} already exists on this host (gid {group_found.get('gid')}) and is not"
            f" the group of app {app}'s own user: the app would take it over. Set app_group (or"
            " app_name) to a name no group has; if an interrupted run of pyops.uwsgi created it,"
            f" remove it first (groupdel {group})."
        )
    return ""


def component_problems(setting, path, readings, *, owner, root_owned, own=()):
    """Problems with how the host resolves PATH (normalized) of SETTING, from READINGS (uwsgi_info
    paths: lstat of each path read, by path).

    Every existing directory above PATH must be a real directory (not a symbolic link) owned by
    root; PATH itself, if it exists, must be a directory owned by OWNER (root for ROOT_OWNED
    ones). Components not read are not judged, nor those in OWN (the app's own directories,
    judged as such).
    """
    problems = []
    for above in ancestors(path):
        found = {} if above in own else readings.get(above) or {}
        if not found.get("exists"):
            continue
        if found.get("type") == "link":
            problems.append(
                f"{setting} {path}: {above} is a symbolic link (to {found.get('target')}); the"
                " collection judges paths as the kernel resolves them: set it to the resolved"
                " path."
            )
        elif found.get("type") != "directory" or found.get("owner") != "root":
            problems.append(
                f"{setting} {path}: {above} is a {found.get('type')} owned by"
                f" {found.get('owner')}, not a directory of root's, so someone else could change"
                " what the app's directories resolve to."
            )
    found = readings.get(path) or {}
    if found.get("exists"):
        wanted = "root" if root_owned else owner
        if found.get("type") != "directory":
            problems.append(
                f"{setting} {path} exists and is a {found.get('type')}"
                f"{' to ' + str(found.get('target')) if found.get('target') else ''}, not a"
                " directory the app made."
            )
        elif found.get("owner") != wanted:
            problems.append(
                f"{setting} {path} exists and belongs to {found.get('owner')}, not to"
                f" {wanted}: pyops.uwsgi never makes an app own a directory it did not create."
                " Choose another path or app name."
            )
    return problems


def table_rows():
    """The table as (setting, where, owner) rows for docs/bad-inputs.md."""
    rows = []
    for place in PLACES.values():
        parents = " or ".join(
            "`uwsgi_run_dir`" if parent == "RUN_DIR" else f"`{parent}`" for parent in place.parents
        )
        name = {
            "app": "the app's name",
            "uwsgi": "`uwsgi` or `uwsgi-...`",
            "any": "a name of its own (not "
            + ", ".join(f"`{taken}`" for taken in sorted(_ETC_UWSGI_TAKEN))
            + ")",
        }[place.name]
        rows.append((place.setting, f"{parents} / {name}, e.g. `{place.example}`", place.owner))
    return rows
