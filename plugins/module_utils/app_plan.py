# Copyright: pyops.uwsgi contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The plan of one app: every value the pyops.uwsgi.app role writes or checks, decided in one place.

``make_plan(settings, ...)`` takes the app's settings (the role's ``app_*`` variables, already
checked against its argument spec), the uwsgi role's record of the host, the few readings of the
host and the controller, and the digest of the release's source. It returns ``{"errors": [...]}``
with one message per broken rule (each naming the variable and the fix), or ``{"errors": [],
"plan": {...}}`` with the user and group, every path, the vassal's options and ini text, the canary,
the unit files, the tmpfiles entry, the nginx site, the health check and the diagnosis context.

Pure: no I/O. The action plugin pyops.uwsgi.app_plan gathers the readings and calls this.
"""

from __future__ import annotations

import hashlib
import json
import posixpath
import re

from ansible_collections.pyops.uwsgi.plugins.module_utils import (
    entry_point,
    env_file,
    host_paths,
    pip_settings,
    sandbox,
    tls,
    uwsgi_literal,
    values,
)
from ansible_collections.pyops.uwsgi.plugins.module_utils.render import (
    RenderError,
    systemd_properties,
    systemd_unit,
    uwsgi_ini,
)

# Options of app_uwsgi_options the role sets itself: the socket boundary, identity, the release.
RESERVED_OPTIONS = (
    "socket",
    "uwsgi-socket",
    "chmod-socket",
    "chown-socket",
    "uid",
    "gid",
    "chdir",
    "plugins-dir",
    "procname-prefix-spaced",
    "master-fifo",
)
# Options that would point uWSGI at another Python environment than the release's virtualenv.
VIRTUALENV_OPTIONS = ("virtualenv", "venv", "home", "pyhome")
# Settings of the app's own unit the role owns: who it runs as, how it starts and stops.
RESERVED_UNIT_SETTINGS = (
    "Type",
    "User",
    "Group",
    "DynamicUser",
    "ExecStart",
    "ExecReload",
    "ExecStop",
    "NotifyAccess",
    "RuntimeDirectory",
)
# The app's user logs in nowhere.
NOLOGIN = "/usr/sbin/nologin"
# Where the apps' own uWSGI configurations live (app_supervisor systemd) and their units.
SERVICE_INI_DIR = "/etc/uwsgi/services"
# Per app, the envdirs of the values an ini line cannot carry (root:APP, 0750 and 0640).
ENV_DIR = "/etc/uwsgi/env"
UNIT_DIR = "/etc/systemd/system"
DEFAULT_RUN_DIR = "/run/uwsgi"
# Share of the host's memory the apps' uWSGI processes may take together when the role sizes them;
# the rest is for nginx, the system, the page cache and the apps' peaks.
APPS_MEMORY_SHARE = 0.5
# Workers per CPU when the role sizes them: while a worker waits (for nginx to take its answer, for
# a database), another runs; the ablation of `make bench` measured 2 per CPU 12 to 18 % faster
# than 1 on the sample app (two runs, 2 CPUs), for about 15 MB of PSS each (docs/benchmark.md).
PROCESSES_PER_CPU = 2
# In the app's runtime directory, beside its socket: the canary's socket, and the link nginx
# connects through (to the app's socket, or to the canary's while the service reloads).
CANARY_SOCKET = "canary.sock"
NGINX_SOCKET = "nginx.sock"
# The longest unix socket path uWSGI 2.0 binds (core/socket.c: "invalid socket name" beyond it).
UNIX_SOCKET_BYTES = 102
# Settings of the app's unit that are about its life, not its sandbox; the canary, a transient
# unit beside it, leaves them out (RuntimeDirectory and RemoveIPC would clean up what the unit
# serving uses when the canary stops).
_NOT_SANDBOX = frozenset(
    (
        "Type",
        "ExecStart",
        "ExecReload",
        "ExecStop",
        "KillSignal",
        "KillMode",
        "TimeoutStopSec",
        "Restart",
        "RestartSec",
        "SyslogIdentifier",
        "RuntimeDirectory",
        "RuntimeDirectoryMode",
        "RemoveIPC",
    )
)
# The setting behind each option the role writes from a user's value.
_SETTING_OF_OPTION = {
    "env": "app_env",
    "chdir": "app_root",
    "pythonpath": "app_root",
    "virtualenv": "app_root",
    "socket": "app_socket",
    "module": "app_wsgi_module",
    "uid": "app_user",
    "gid": "app_group",
    "chown-socket": "app_user",
}
_UNIT_SETTING = re.compile(r"^[A-Z][A-Za-z0-9]+$")
_GIT_VERSION = re.compile(r"^[^ ;]+$")
_GROUP_NAME = re.compile(r"^[a-z_][a-z0-9_-]{0,31}$")
_HOST_NAME = re.compile(
    r"[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?(\.[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?)*"
)
_URL_PREFIX = re.compile(r"^/[^ ;{}]*/$")
_RELATIVE_DIR = re.compile(r"^[^/ ;{}][^ ;{}]*$")
HEADER = "{what} of {name}: written by pyops.uwsgi.app, edits are overwritten."


def _digest(data, length):
    return hashlib.sha256(json.dumps(data).encode("utf-8")).hexdigest()[:length]


def src_dir(settings, playbook_dir):
    """app_src_dir as an absolute path on the controller ("" when the code comes from git)."""
    path = settings["app_src_dir"]
    if path == "" or path.startswith("/"):
        return path
    return posixpath.join(playbook_dir or ".", path)


def entry_module_paths(settings, playbook_dir):
    """Files on the controller, one of which must exist for app_wsgi_module to name a module."""
    base = posixpath.join(src_dir(settings, playbook_dir), *settings["app_wsgi_module"].split("."))
    return [base + ".py", base + "/__init__.py"]


def release_id(settings, source, python):
    """The release's name: the same code, Python, packages and build make the same release."""
    parts = [
        source,
        python,
        settings["app_uwsgi_method"],
        settings["app_requirements_file"],
        settings["app_pip_packages"],
        settings["app_src_exclude"],
    ]
    # What else shapes a release's files, named only when set: releases made before these
    # settings existed keep their names.
    built = {
        "project_install": settings.get("app_project_install", False),
        "build_commands": settings.get("app_build_commands", []),
        "shared_paths": [item.get("path") for item in settings.get("app_shared_paths") or []],
    }
    if any(built.values()):
        parts.append(built)
    return _digest(parts, 12)


def python_version(settings, record, host):
    """The app's Python (X.Y): app_python_version, else the uwsgi role's default, else python3's."""
    return (
        settings["app_python_version"]
        or (record or {}).get("default_python")
        or (host or {}).get("python3", "")
    )


def served_by(method, version, record, uwsgi_settings, host):
    """The plugin-or-pip choice: which uWSGI runs the app, and which Pythons it serves that way.

    METHOD "plugin": the distribution's uWSGI and its Emperor, with the plugin built for exactly
    VERSION; "pip": the uWSGI built from PyPI for VERSION, with Python built in, and its own
    Emperor. Before the uwsgi role ran (no RECORD), its settings and the host's python3 stand in.
    """
    uwsgi_settings = uwsgi_settings or {}
    if method == "plugin":
        if record.get("plugins") is not None:
            served = list(record["plugins"])
        else:
            python3 = [host["python3"]] if host.get("python3") else []
            served = list(uwsgi_settings.get("python_versions") or python3)
        plugin = record.get("plugins", {}).get(version) or "python" + version.replace(".", "")
        return {
            "method": "plugin",
            "label": "plugin",
            "versions_var": "uwsgi_python_versions",
            "served": served,
            "binary": record.get("binary", ""),
            "vassals_dir": record.get("vassals_dir", ""),
            "plugins_dir": record.get("plugin_dir"),
            "plugin": plugin,
            # The plugin built for exactly the virtualenv's Python, and the syslog logger.
            "plugins": [plugin, "syslog"],
        }
    if record.get("pip_vassals_dirs") is not None:
        served = list(record["pip_vassals_dirs"])
    else:
        served = list(uwsgi_settings.get("pip_python_versions") or [])
    return {
        "method": "pip",
        "label": "pip-built",
        "versions_var": "uwsgi_pip_python_versions",
        "served": served,
        "binary": record.get("pip_binaries", {}).get(version, ""),
        "vassals_dir": record.get("pip_vassals_dirs", {}).get(version, ""),
        # Python and the syslog logger are built in.
        "plugins_dir": None,
        "plugin": "",
        "plugins": None,
    }


def supervised_by(supervisor, *, name, user, group, web_group, uwsgi):
    """The Emperor-or-systemd choice: where the app's configuration lives and who starts it.

    SUPERVISOR "emperor": a vassal in the Emperor's directory (UWSGI, from served_by); the Emperor
    starts it as root, and it drops to the app's user and hands the socket to nginx's group.
    "systemd": a unit of its own, uwsgi-app-NAME, which starts as the app's user already, in the
    set-group-ID runtime directory, and stops gracefully through the master FIFO.
    """
    unit = f"uwsgi-app-{name}"
    if supervisor == "emperor":
        return {
            "emperor": True,
            "config": f"{uwsgi['vassals_dir']}/{name}.ini",
            "journal": f"--identifier=uwsgi-{name}",
            "options": {"uid": user, "gid": group, "chown-socket": f"{user}:{web_group}"},
        }
    return {
        "emperor": False,
        "config": f"{SERVICE_INI_DIR}/{name}.ini",
        "journal": f"--unit={unit}.service",
        "options": {"master-fifo": f"/run/{unit}/master.fifo"},
    }


def help_request(settings, record):
    """What to ask the installed uWSGI for its options: (binary, plugins_dir, plugins), or None.

    None before the uwsgi role ran (no record) or when no uWSGI serves the app's Python that way.
    """
    version = python_version(settings, record, {})
    uwsgi = served_by(settings["app_uwsgi_method"], version, record or {}, {}, {})
    if not record or not uwsgi["binary"] or not version:
        return None
    plugins = list(uwsgi["plugins"] or [])
    extra = settings["app_uwsgi_options"].get("plugin") or []
    for plugin in extra if isinstance(extra, list) else [extra]:
        if str(plugin) not in plugins:
            plugins.append(str(plugin))
    return uwsgi["binary"], uwsgi["plugins_dir"] or "", plugins


class _App:
    """The derived values of one app, named once; make_plan assembles them into the plan."""

    def __init__(self, settings, *, record, uwsgi_settings, host, platform, source, playbook_dir):
        s = self.s = settings
        self.record = record or {}
        self.host = host or {}
        self.name = s["app_name"]
        self.user = s["app_user"] or self.name
        self.group = s["app_group"] or self.user
        self.web_user = platform["web_user"]
        self.web_group = platform["web_group"]
        self.host_apps = max(1, int(platform.get("host_apps") or 1))
        self.src_dir = src_dir(s, playbook_dir)
        self.run_dir = (
            self.record.get("run_dir") or (uwsgi_settings or {}).get("run_dir") or DEFAULT_RUN_DIR
        )
        self.python = python_version(s, self.record, self.host)
        self.interpreter = self.record.get("interpreters", {}).get(
            self.python, "/usr/bin/python" + self.python
        )
        self.uwsgi = served_by(
            s["app_uwsgi_method"], self.python, self.record, uwsgi_settings, self.host
        )
        self.by_plugin = self.uwsgi["method"] == "plugin"
        self.supervisor = supervised_by(
            s["app_supervisor"],
            name=self.name,
            user=self.user,
            group=self.group,
            web_group=self.web_group,
            uwsgi=self.uwsgi,
        )
        self.emperor = self.supervisor["emperor"]
        self.source = source
        self.release = release_id(s, source, self.python) if source else ""
        self.socket = s["app_socket"] or f"{self.run_dir}/{self.name}/{self.name}.sock"
        self.runtime_dir = posixpath.dirname(self.socket)
        self.canary_socket = f"{self.runtime_dir}/{CANARY_SOCKET}"
        self.nginx_socket = f"{self.runtime_dir}/{NGINX_SOCKET}"
        self.stats_dir = f"{self.run_dir}/stats/{self.name}"
        self.read_timeout = s["app_nginx_read_timeout"] or s["app_harakiri"] + 5
        self.unit = f"uwsgi-app-{self.name}"
        # nginx's header limits where they are known (the nginx role's settings on this host),
        # else its default.
        self.nginx_header_buffers = (uwsgi_settings or {}).get(
            "nginx_large_client_header_buffers", "4 8k"
        )

    @property
    def release_dir(self):
        return f"{self.s['app_root']}/releases/{self.release or 'new'}"

    @property
    def code(self):
        return f"{self.release_dir}/code"

    # --- The vassal ---------------------------------------------------------------------------

    def role_options(self):
        """The role's uWSGI options, before app_uwsgi_options is merged over them."""
        s, known = self.s, self.host.get("uwsgi_options") or []
        py_call_osafterfork = None
        if values.PYTHON_VERSION.fullmatch(self.python) and _version(self.python) < (3, 13):
            # Lets workers handle signals from the app's own code. Fatal on Python 3.13+ with
            # uWSGI <= 2.0.31 (workers abort: "PyMutex_Unlock: unlocking mutex that is not locked").
            py_call_osafterfork = True
        max_requests = s["app_max_requests"]
        lifetime = s["app_max_worker_lifetime"]
        identity = self.supervisor["options"]
        return {
            "strict": True,
            "plugins-dir": self.uwsgi["plugins_dir"],
            "plugin": self.uwsgi["plugins"],
            "master": True,
            # No app (import error, wrong callable) means exit, not "full dynamic mode".
            "need-app": True,
            "uid": identity.get("uid"),
            "gid": identity.get("gid"),
            # The unix socket for nginx; with app_tcp_socket also the TCP one for front hosts (both
            # held by the socket unit; uWSGI matches the descriptors it inherits by address).
            "socket": [self.socket, s["app_tcp_socket"]] if s["app_tcp_socket"] else self.socket,
            "chown-socket": identity.get("chown-socket"),
            "chmod-socket": 660,
            "listen": s["app_listen"],
            # A socket of systemd's stays when uWSGI exits.
            "vacuum": not s["app_socket_activation"],
            "master-fifo": identity.get("master-fifo"),
            "die-on-term": True,
            "virtualenv": f"{self.release_dir}/venv",
            "chdir": self.code,
            "pythonpath": self.code,
            "module": f"{s['app_wsgi_module']}:{s['app_wsgi_callable']}",
            "processes": self.processes(),
            "threads": s["app_threads"],
            "enable-threads": True,
            # Each worker imports the app itself: nothing made at import (a connection, a
            # thread) is shared across the fork, and os.register_at_fork needs no hooks.
            "lazy-apps": s["app_lazy_apps"] or None,
            "single-interpreter": True,
            "py-call-osafterfork": py_call_osafterfork,
            "harakiri": s["app_harakiri"],
            # Recycling; the -delta variants stagger workers; only newer 2.0.x releases know them.
            "max-requests": max_requests or None,
            "max-requests-delta": (max_requests // 10 or None)
            if "max-requests-delta" in known
            else None,
            "max-worker-lifetime": lifetime or None,
            "max-worker-lifetime-delta": (lifetime // 60 or None)
            if "max-worker-lifetime-delta" in known
            else None,
            "reload-on-rss": s["app_reload_on_rss"] or None,
            "worker-reload-mercy": s["app_worker_reload_mercy"],
            # Stats for ops (uwsgitop), on a socket only app_stats_group can open.
            "stats": f"{self.stats_dir}/stats.sock" if s["app_stats"] else None,
            # As large as a uwsgi packet can be: whatever nginx's header limits let through fits
            # (nginx_large_client_header_buffers is held to it), so no request it accepts gets 502.
            "buffer-size": values.UWSGI_PACKET,
            # The whole body is read before the app runs (in memory up to 64 KB, then a file in
            # the unit's private /tmp): an app that answers without reading it (405, 401) would
            # otherwise close the socket while nginx still sends, and the client get 502.
            "post-buffering": 65536,
            "auto-procname": True,
            # Per-request logging costs CPU; keep errors only. The master collects the workers'
            # output too and hands everything to journald under the app's own name.
            "disable-logging": True,
            "log-4xx": True,
            "log-5xx": True,
            "log-master": True,
            "logger": f"syslog:uwsgi-{self.name}",
            # The environment: on env lines where an ini line can carry the value exactly, the
            # rest in an envdir of files uWSGI reads as they are (environment()).
            "env": [f"{key}={value}" for key, value in self.environment()[0].items()],
            "envdir": self.envdir_path(),
        }

    def environment(self):
        """(for env lines, for the envdir, refused): app_env split by what can carry each value."""
        lines, files, refused = {}, {}, {}
        for key, value in self.s["app_env"].items():
            try:
                text = env_file.text_value(key, value)
            except env_file.EnvFileError as exc:
                refused[key] = str(exc)
                continue
            reason = ""
            try:
                uwsgi_literal.env_ini_value(key, text)
                lines[key] = text
                continue
            except (TypeError, ValueError) as exc:
                reason = str(exc)
            try:
                files[key] = uwsgi_literal.envdir_content(text)
            except (TypeError, ValueError) as exc:
                refused[key] = f"{reason}; nor can a file of uWSGI's envdir carry it: {exc}"
        return lines, files, refused

    def envdir_path(self):
        """The envdir of this environment (named after its content, so a deploy never edits the
        one serving), or None when the env lines carry everything."""
        files = self.environment()[1]
        return f"{ENV_DIR}/{self.name}/{_digest(files, 12)}" if files else None

    def processes(self):
        """app_processes, or with 0 PROCESSES_PER_CPU workers per CPU the host has, as many as the
        memory holds: each app of the host may have APPS_MEMORY_SHARE of the memory over the apps,
        a process app_process_memory_mb of it, the master one of them. "%k" (uWSGI's count of
        CPUs) when the host was not read."""
        s = self.s
        if s["app_processes"] > 0:
            return s["app_processes"]
        cpus, memory = self.host.get("cpus"), self.host.get("memory_mb")
        if not cpus or not memory:
            return "%k"
        share = memory * APPS_MEMORY_SHARE / self.host_apps
        fits = int(share // max(1, s["app_process_memory_mb"])) - 1  # refused below 1
        return max(1, min(PROCESSES_PER_CPU * cpus, fits))

    def raw_options(self):
        """Options whose values uWSGI is to expand: the role's "%k" (one worker per core)."""
        return ("processes",) if self.options().get("processes") == "%k" else ()

    def setting_of(self, error):
        """The setting a RenderError about one option comes from."""
        option = str(error).split("'")[1] if "'" in str(error) else ""
        if option in self.s["app_uwsgi_options"]:
            return "app_uwsgi_options"
        return _SETTING_OF_OPTION.get(option, "app_uwsgi_options")

    def options(self):
        """The vassal's options: the role's, with app_uwsgi_options merged over them."""
        return {**self.role_options(), **self.s["app_uwsgi_options"]}

    def merged_plugins(self):
        """Every plugin the merged options load (plugin and plugins are one option, comma lists)."""
        merged = self.options()
        found = []
        for key in ("plugin", "plugins"):
            value = merged.get(key)
            for item in value if isinstance(value, list) else [value]:
                if item:
                    found.extend(part.strip() for part in str(item).split(","))
        return found

    # --- The unit ---------------------------------------------------------------------------

    def service_settings(self):
        """[Service] of the app's own unit: identity, lifecycle, then the sandbox."""
        s = self.s
        paths = [self.runtime_dir]
        paths += [self.stats_dir] if s["app_stats"] else []
        paths += [s["app_state_dir"]] if s["app_state_dir"] else []
        outbound = s["app_systemd_outbound_network"]
        settings = {
            "Type": "notify",
            "User": self.user,
            "Group": self.group,
            "ExecStart": f"{self.uwsgi['binary']} --ini {self.supervisor['config']}",
            # SIGHUP: graceful reload of every worker, reading the configuration again.
            "ExecReload": "/bin/kill -HUP $MAINPID",
            # uWSGI 2.0 takes SIGTERM and SIGQUIT as reload or brutal kill; "q" on its FIFO lets
            # workers finish. systemd expands $1, hence $$1.
            "ExecStop": (
                '/bin/sh -c \'kill -0 "$$1" 2>/dev/null || exit 0;'
                f" echo q > /run/{self.unit}/master.fifo;"
                ' while kill -0 "$$1" 2>/dev/null; do sleep 0.2; done\' stop $MAINPID'
            ),
            "KillSignal": "SIGINT",
            "TimeoutStopSec": s["app_worker_reload_mercy"] + 15,
            "Restart": "on-failure",
            "RestartSec": 1,
            "SyslogIdentifier": f"uwsgi-{self.name}",
            "RuntimeDirectory": self.unit,
            "RuntimeDirectoryMode": "0700",
            "UMask": "0027",
            "ReadWritePaths": paths,
            "NoNewPrivileges": True,
            "CapabilityBoundingSet": "",
            "AmbientCapabilities": "",
            "ProtectSystem": "strict",
            "ProtectHome": True,
            "PrivateTmp": True,
            "PrivateDevices": True,
            # PrivateUsers is left out: hosts that are containers often cannot create user
            # namespaces (the unit then fails at step USER). Where they can,
            # app_systemd_options {PrivateUsers: true} adds it.
            "ProtectHostname": True,
            "ProtectClock": True,
            "ProtectKernelTunables": True,
            "ProtectKernelModules": True,
            "ProtectKernelLogs": True,
            "ProtectControlGroups": True,
            "ProtectProc": "invisible",
            "ProcSubset": "pid",
            "RestrictNamespaces": True,
            "RestrictRealtime": True,
            "RestrictSUIDSGID": True,
            "LockPersonality": True,
            "RemoveIPC": True,
            "DevicePolicy": "closed",
            "KeyringMode": "private",
            "MemoryDenyWriteExecute": s["app_systemd_memory_deny_write_execute"],
            "RestrictAddressFamilies": "AF_UNIX AF_INET AF_INET6" if outbound else "AF_UNIX",
            "PrivateNetwork": not outbound,
            "IPAddressDeny": None if outbound else "any",
            "SystemCallArchitectures": "native",
            "SystemCallFilter": ["@system-service", "~@privileged @resources"],
            "SystemCallErrorNumber": "EPERM",
        }
        return {**settings, **s["app_systemd_options"]}

    def serving_sandbox(self):
        """(unit, systemd settings) of what runs the app: the Emperor's unit, or its own."""
        if self.emperor:
            service = self.record.get("emperor_service", "uwsgi-emperor")
            if not self.by_plugin:
                service += "-pip" + self.python.replace(".", "")
            return f"{service}.service", dict(self.record.get("emperor_sandbox") or {})
        return f"{self.unit}.service", self.service_settings()

    def canary_sandbox(self):
        """The systemd settings the canary runs under: the serving unit's, less its lifecycle.

        An Emperor's canary starts as root, as the Emperor does, and drops to the app's user by the
        vassal's own uid and gid; a unit's canary starts as the app's user, as the unit does.
        """
        settings = self.serving_sandbox()[1]
        return {key: value for key, value in settings.items() if key not in _NOT_SANDBOX}

    def service_unit(self):
        unit = {
            "Description": f"uWSGI app {self.name}",
            "Documentation": "man:uwsgi(1)",
            "After": "network.target",
        }
        if self.s["app_socket_activation"]:
            unit["Requires"] = f"{self.unit}.socket"
            unit["After"] = ["network.target", f"{self.unit}.socket"]
        header = (
            HEADER.format(what="Unit", name=self.name) + "\n"
            f"`systemctl reload {self.unit}` reloads its workers gracefully; "
            f"`systemd-analyze security {self.unit}` shows what the sandbox allows."
        )
        sections = {
            "Unit": unit,
            "Service": self.service_settings(),
            "Install": {"WantedBy": "multi-user.target"},
        }
        return systemd_unit(sections, header)

    def socket_unit(self):
        s = self.s
        listen = {
            "ListenStream": self.socket,
            "SocketUser": self.user,
            "SocketGroup": self.web_group,
            "SocketMode": "0660",
            "DirectoryMode": "2750",
            "Backlog": s["app_listen"],
        }
        if s["app_tcp_socket"]:
            # The uwsgi protocol has no authentication: of the hosts that reach this port, only the
            # front hosts may connect; everyone else's packets are dropped (eBPF on this unit's
            # sockets, not on the app's own outbound connections). FreeBind lets the socket come
            # up before the address does.
            listen.update(
                {
                    "ListenStream": [self.socket, s["app_tcp_socket"]],
                    "FreeBind": True,
                    "NoDelay": True,
                    "IPAddressDeny": "any",
                    "IPAddressAllow": list(s["app_tcp_allowed_peers"]),
                }
            )
        header = (
            HEADER.format(what="Socket unit", name=self.name) + "\n"
            "systemd holds the socket: it exists before uWSGI starts and stays while uWSGI\n"
            "restarts (requests wait in its backlog).\n"
            "nginx's group may connect, nobody else."
        )
        sections = {
            "Unit": {"Description": f"Socket of uWSGI app {self.name}"},
            "Socket": listen,
            "Install": {"WantedBy": "sockets.target"},
        }
        return systemd_unit(sections, header)

    def tmpfiles(self):
        lines = [
            "# " + HEADER.format(what="Runtime directories", name=self.name),
            "# The app may create its socket here, nginx's group may reach it, nobody else may",
            "# look inside. Set-group-ID: what the app creates here belongs to nginx's group.",
            f"d {self.runtime_dir} 2750 {self.user} {self.web_group} -",
            "# nginx connects through this link to the socket serving.",
            f"L {self.nginx_socket} - - - - {self.socket}",
        ]
        if self.s["app_stats"]:
            lines += [
                f"# Its stats socket: for app_stats_group ({self.s['app_stats_group']}) alone.",
                f"d {posixpath.dirname(self.stats_dir)} 0755 root root -",
                f"d {self.stats_dir} 2750 {self.user} {self.s['app_stats_group']} -",
            ]
        return "\n".join(lines) + "\n"

    def directories(self):
        """Directories the role creates, in order, with owner, group and mode."""
        s = self.s
        found = [
            {"path": s["app_root"], "owner": "root", "group": "root", "mode": "0755"},
            {"path": f"{s['app_root']}/releases", "owner": "root", "group": "root", "mode": "0755"},
        ]
        if s["app_state_dir"]:
            # nginx's group may pass through (0710) to shared data it serves, and no further.
            served = any(item["url"] for item in s["app_shared_paths"])
            found.append(
                {
                    "path": s["app_state_dir"],
                    "owner": self.user,
                    "group": self.web_group if served else self.group,
                    "mode": "0710" if served else "0750",
                }
            )
            found += _shared_directories(self)
        found.append(
            {"path": self.runtime_dir, "owner": self.user, "group": self.web_group, "mode": "2750"}
        )
        if s["app_stats"]:
            stats_parent = posixpath.dirname(self.stats_dir)
            found += [
                {"path": stats_parent, "owner": "root", "group": "root", "mode": "0755"},
                {
                    "path": self.stats_dir,
                    "owner": self.user,
                    "group": s["app_stats_group"],
                    "mode": "2750",
                },
            ]
        return found


def _version(text):
    return tuple(int(part) for part in text.split("."))


def _identity_rules(app):
    s, user, group, web_group = app.s, app.user, app.group, app.web_group
    yield (
        bool(values.SYSTEM_NAME.fullmatch(s["app_name"])),
        "app_name must be 1-32 characters of a-z, 0-9, '_' and '-' starting with a letter (it names"
        f" a system user, a socket and files); got '{s['app_name']}'.",
    )
    yield (
        bool(values.SYSTEM_NAME.fullmatch(user) and values.SYSTEM_NAME.fullmatch(group)),
        "app_user and app_group must be system names of 1-32 characters of a-z, 0-9, '_' and '-'"
        f" starting with a letter; got user '{user}' and group '{group}'.",
    )
    named = {"app_name": s["app_name"], "app_user": user, "app_group": group}
    for variable in ("app_name", "app_user", "app_group"):
        name = named[variable]
        first = variable == "app_name" or name != s["app_name"]
        # root, nobody and nginx's group have a message of their own, below.
        yield (
            not first
            or name in ("root", "nobody", "nogroup", web_group)
            or not host_paths.name_problem(variable, name),
            host_paths.name_problem(variable, name),
        )
    yield (
        user not in ("root", "nobody", web_group) and group not in ("root", "nogroup", web_group),
        "The app must run as a user and group of its own, never root, nobody or nginx's"
        f" {web_group}: set app_user / app_group to a dedicated name (default: app_name).",
    )
    yield (
        user not in (app.host.get("group_members") or []),
        f"User {user} is a member of {web_group}, so it could open every app's socket. Remove it"
        f" (gpasswd -d {user} {web_group}) or set app_user to a dedicated user.",
    )


def _code_rules(app, controller):
    s = app.s
    src_is_dir = controller.get("src_dir_is_dir")
    module = s["app_wsgi_module"]
    module_file = posixpath.join(app.src_dir, *module.split("."))
    yield (
        (s["app_src_dir"] != "") != (s["app_git_repo"] != ""),
        "Set exactly one source of code: app_src_dir (a directory on the controller) or"
        f" app_git_repo (a git URL); got app_src_dir='{s['app_src_dir']}' and"
        f" app_git_repo='{s['app_git_repo']}'.",
    )
    yield (
        s["app_src_dir"] == "" or src_is_dir is not False,
        f"app_src_dir '{s['app_src_dir']}' is not a directory on the controller (a relative path"
        f" is taken from the playbook's directory, {controller.get('playbook_dir', '')}).",
    )
    yield (
        # "wsgi.py" names module py of package wsgi: the tutorials' slip, never meant.
        all(values.IDENTIFIER.fullmatch(part) for part in module.split("."))
        and not module.endswith(".py"),
        "app_wsgi_module must be a Python module name such as wsgi or mysite.wsgi (no .py, no"
        f" slashes); got '{module}'.",
    )
    callable_problem = entry_point.parse_callable(s["app_wsgi_callable"])[2]
    yield (
        not callable_problem,
        f"app_wsgi_callable '{s['app_wsgi_callable']}' is not an entry point uWSGI 2.0 can load:"
        f" {callable_problem}. Write a name the module binds (application, app) or a factory"
        " called without arguments (create_app()).",
    )
    # Only when nothing but the code goes into the virtualenv can a module missing from the code
    # be proven missing; anything installed (requirements, packages, the project itself) may
    # provide it, and the import in the built release answers.
    only_code = not (
        s["app_project_install"]
        or s["app_pip_packages"]
        or controller.get("requirements_found")
        or controller.get("module_stdlib")
    )
    yield (
        s["app_src_dir"] == ""
        or not src_is_dir
        or controller.get("module_found") is not False
        or not only_code,
        f"Pitfall 1a (Wrong entry point): app_wsgi_module '{module}' names no module in"
        f" app_src_dir: neither {module_file}.py nor {module_file}/__init__.py exists, and"
        " nothing else goes into the virtualenv (no requirements file, app_pip_packages or"
        " app_project_install). Set app_wsgi_module to the module that holds the WSGI callable.",
    )
    yield (
        s["app_git_repo"] == "" or bool(_GIT_VERSION.fullmatch(s["app_git_version"])),
        "app_git_version must name a branch, tag or commit (no spaces); got"
        f" '{s['app_git_version']}'.",
    )
    yield (
        not any("/" in item for item in s["app_src_exclude"]),
        "app_src_exclude takes file and directory names or patterns (such as .git or *.pyc), not"
        f" paths; got {s['app_src_exclude']}.",
    )
    yield (
        s["app_keep_releases"] >= 1,
        "app_keep_releases must be 1 or more (the release serving counts as one); got"
        f" {s['app_keep_releases']}.",
    )
    for setting in ("app_root", "app_state_dir"):
        if setting == "app_state_dir" and s[setting] == "":
            continue  # no state directory
        problem = host_paths.judge(setting, s[setting], app=s["app_name"], run_dir=app.run_dir)
        yield (not problem, problem)


def _python_rules(app):
    s, host = app.s, app.host
    method, versions_var = app.uwsgi["label"], app.uwsgi["versions_var"]
    python_plugins = [plugin for plugin in app.merged_plugins() if plugin.startswith("python")]
    requirements = s["app_requirements_file"]
    yield (
        s["app_python_version"] == ""
        or bool(values.PYTHON_VERSION.fullmatch(s["app_python_version"])),
        'app_python_version must be a Python version as "X.Y", such as "3.13" (not "3",'
        f' "python3.13" or "3.13.1"); got \'{s["app_python_version"]}\'.',
    )
    yield (
        app.python in app.uwsgi["served"],
        f"app_python_version {app.python} is not served by {method} uWSGI on this host, which"
        f" serves Python {', '.join(app.uwsgi['served']) or 'none'} that way: add {app.python} to"
        f" {versions_var} of the pyops.uwsgi.uwsgi role, or set app_python_version to a version"
        " it serves.",
    )
    yield (
        not app.record or app.python in (host.get("pythons") or []),
        f"The interpreter for Python {app.python} ({app.interpreter}) is not installed; apply the"
        f" pyops.uwsgi.uwsgi role with {app.python} in its versions.",
    )
    yield (
        python_plugins == ([app.uwsgi["plugin"]] if app.by_plugin else []),
        "Pitfall 003 (Plugin embeds another Python): app_uwsgi_options loads"
        f" {', '.join(app.merged_plugins())}, but the app's virtualenv runs Python {app.python},"
        f" which only plugin {app.uwsgi['plugin']} embeds (pip-built uWSGI needs none); another"
        " plugin would run another Python and the virtualenv's packages would not import. Remove"
        " 'plugin' from app_uwsgi_options: app_python_version chooses both.",
    )
    yield (
        not any(option in s["app_uwsgi_options"] for option in VIRTUALENV_OPTIONS),
        "app_uwsgi_options must not set virtualenv/venv/home/pyhome: the role builds each"
        f" release's virtualenv with Python {app.python} and points uWSGI at it (pitfall 003"
        " otherwise). Install packages with app_requirements_file or app_pip_packages.",
    )
    yield (
        requirements == ""
        or (not requirements.startswith(("/", " ")) and ".." not in requirements),
        "app_requirements_file must be a path inside the code, such as requirements.txt (not"
        f" absolute, no '..'), or empty; got '{requirements}'.",
    )
    yield (
        all(_pip_requirement(item) for item in s["app_pip_packages"]),
        "app_pip_packages takes pip requirement strings such as flask==3.1.3, one per item, no"
        f" spaces; got {s['app_pip_packages']}.",
    )
    yield from pip_settings.rules("app", s)


def _uwsgi_rules(app):
    s = app.s
    reserved = [option for option in RESERVED_OPTIONS if option in s["app_uwsgi_options"]]
    limits = (s["app_max_requests"], s["app_max_worker_lifetime"], s["app_reload_on_rss"])
    stats_group = s["app_stats_group"]
    somaxconn = app.host.get("somaxconn")
    yield (
        not reserved,
        f"app_uwsgi_options must not set {', '.join(reserved)}: the role sets them. The socket, its"
        " owner and its mode are the boundary that lets nginx in and keeps everyone else out (use"
        " app_socket), uid/gid come from app_user/app_group, chdir and plugins-dir from the"
        " release, the process names from the deploy.",
    )
    buffer_size = s["app_uwsgi_options"].get("buffer-size", values.UWSGI_PACKET)
    need = values.uwsgi_packet_need(app.nginx_header_buffers)
    yield (
        not isinstance(buffer_size, (int, str))
        or not str(buffer_size).isdigit()
        or need <= int(buffer_size) <= values.UWSGI_PACKET,
        f"app_uwsgi_options buffer-size ({buffer_size}) must be between what nginx lets a request"
        f" bring (up to {need} bytes with nginx_large_client_header_buffers"
        f" {app.nginx_header_buffers}) and {values.UWSGI_PACKET}, the largest uwsgi packet: below"
        " it, uWSGI drops requests nginx accepted and the client gets 502. Leave buffer-size to the"
        " role.",
    )
    yield (
        s["app_processes"] >= 0 and s["app_threads"] >= 1,
        "app_processes must be 0 (one per CPU core) or more, and app_threads 1 or more; got"
        f" {s['app_processes']} and {s['app_threads']}.",
    )
    yield (
        s["app_process_memory_mb"] >= 1,
        f"app_process_memory_mb must be 1 or more (MB one process of the app takes); got"
        f" {s['app_process_memory_mb']}.",
    )
    yield (
        s["app_harakiri"] >= 1
        and s["app_nginx_read_timeout"] >= 0
        and s["app_harakiri"] < app.read_timeout,
        f"app_harakiri ({s['app_harakiri']}) must be at least 1 and below app_nginx_read_timeout"
        f" ({s['app_nginx_read_timeout']}; 0 means harakiri + 5): otherwise nginx gives up on a"
        " slow request before uWSGI recycles its worker.",
    )
    yield (
        1 <= s["app_listen"] <= (s["app_listen"] if somaxconn is None else somaxconn),
        f"app_listen ({s['app_listen']}) must be between 1 and the host's net.core.somaxconn"
        f" ({somaxconn}), or uWSGI refuses to start. Lower app_listen or raise the sysctl.",
    )
    yield (
        min(limits) >= 0 and s["app_worker_reload_mercy"] >= 1,
        "app_max_requests, app_max_worker_lifetime and app_reload_on_rss must be 0 (no limit) or"
        " more, and app_worker_reload_mercy 1 second or more; got"
        f" {s['app_max_requests']}, {s['app_max_worker_lifetime']}, {s['app_reload_on_rss']} and"
        f" {s['app_worker_reload_mercy']}.",
    )
    yield (
        bool(_GROUP_NAME.fullmatch(stats_group)) and stats_group not in (app.web_group, app.group),
        f"app_stats_group must be a group name other than nginx's {app.web_group} and the app's"
        f" own ({app.group}): whoever reads the stats socket sees every request being served;"
        f" got '{stats_group}'.",
    )
    yield (
        all(values.IDENTIFIER.fullmatch(key) for key in s["app_env"]),
        "app_env names must be environment variable names (letters, digits, '_'); got"
        f" {list(s['app_env'])}.",
    )
    configuring = {key: env_file.configuring(key) for key in s["app_env"]}
    configuring = {key: reason for key, reason in configuring.items() if reason}
    yield (
        not configuring,
        "app_env must not set "
        + "; nor ".join(f"{key}: {reason}" for key, reason in configuring.items())
        + ". Remove it from app_env (the role sets what uWSGI, the loader and systemd need).",
    )
    for key, reason in app.environment()[2].items():
        yield (False, f"app_env {key} cannot reach the app as it is: {reason}.")


def _socket_rules(app):
    s = app.s
    tcp, peers = s["app_tcp_socket"], s["app_tcp_allowed_peers"]
    # The canary's socket and nginx's link sit beside it, and must fit the limit too.
    socket_bytes = max(
        len(path.encode("utf-8")) for path in (app.socket, app.canary_socket, app.nginx_socket)
    )
    yield (
        app.socket.startswith("/run/")
        and app.socket.endswith(".sock")
        and not any(char in app.socket for char in " ;{}")
        and socket_bytes <= UNIX_SOCKET_BYTES
        and posixpath.basename(app.socket) not in (CANARY_SOCKET, NGINX_SOCKET),
        "app_socket must be an absolute path under /run ending in .sock, named other than"
        f" {CANARY_SOCKET} and {NGINX_SOCKET} (the canary's socket and nginx's link to the socket"
        f" serving, beside it), and it and they at most {UNIX_SOCKET_BYTES} bytes long (uWSGI's"
        f" limit for a unix socket); got '{app.socket}' ({socket_bytes} bytes).",
    )
    # Its directory is the app's (owner, mode, tmpfiles entry): one of its own name in the uwsgi
    # role's runtime directory, never that directory, /run or another's.
    problem = host_paths.judge("app_socket", app.socket, app=s["app_name"], run_dir=app.run_dir)
    yield (not problem, problem)
    yield (
        not s["app_socket_activation"] or not app.emperor,
        "app_socket_activation needs app_supervisor systemd: the Emperor's vassals bind their"
        " sockets themselves. Set app_supervisor to systemd, or app_socket_activation to false.",
    )
    yield (
        tcp == "" or values.private_endpoint(tcp),
        "app_tcp_socket must be ADDRESS:PORT on one private address of the host, such as"
        " 10.0.1.21:3031 or [fd00::21]:3031 (not 0.0.0.0, :: or a public address: the uwsgi"
        f" protocol has no authentication); got '{tcp}'.",
    )
    yield (
        tcp == "" or (not app.emperor and s["app_socket_activation"]),
        "app_tcp_socket needs app_supervisor systemd and app_socket_activation true: only the"
        " socket unit limits who may connect (the uwsgi protocol has no authentication, and a"
        " vassal's socket admits anyone who reaches it). Set both, or leave app_tcp_socket empty.",
    )
    yield (
        (tcp == "") == (len(peers) == 0) and all(values.peer_network(peer) for peer in peers),
        "app_tcp_allowed_peers must list the addresses or networks (CIDR, not 0.0.0.0/0) of the"
        f" front hosts allowed to reach app_tcp_socket, and be empty without it; got {peers} for"
        f" app_tcp_socket '{tcp}'.",
    )
    unit_keys = list(s["app_systemd_options"])
    yield (
        all(_UNIT_SETTING.fullmatch(key) for key in unit_keys)
        and not any(key in RESERVED_UNIT_SETTINGS for key in unit_keys),
        "app_systemd_options takes [Service] settings of systemd such as MemoryDenyWriteExecute or"
        f" ReadWritePaths, other than {', '.join(RESERVED_UNIT_SETTINGS)}, which the role sets"
        f" (the user from app_user, the start from the release); got {unit_keys}.",
    )


def _site_rules(app):
    s = app.s
    names, listen = s["app_server_names"], s["app_http_listen"]
    static_url, static_dir = s["app_static_url"], s["app_static_dir"]
    proxies = s["app_trusted_proxies"]
    yield (
        5 <= s["app_health_timeout"] <= 3600,
        f"app_health_timeout must be 5 to 3600 seconds; got {s['app_health_timeout']}.",
    )
    health_host = s["app_health_host"]
    yield (
        health_host == ""
        or (
            _HOST_NAME.fullmatch(health_host) is not None
            and ("_" in names or any(_answers(name, health_host) for name in names))
        ),
        f"app_health_host '{health_host}' must be a host name the site answers to, one that"
        f' app_server_names {names} match (or any, with "_" among them).',
    )
    yield (
        all(100 <= status <= 599 for status in s["app_health_status"]),
        "app_health_status takes HTTP statuses (100-599), or none for any 2xx or 3xx; got"
        f" {s['app_health_status']}.",
    )
    yield (
        s["app_health_path"].startswith("/") and " " not in s["app_health_path"],
        f"app_health_path must be a URL path starting with '/'; got '{s['app_health_path']}'.",
    )
    yield (
        len(names) > 0 and all(values.nginx_server_name(name) for name in names),
        f'app_server_names must be host names (or "_" for any); got {names}.',
    )
    yield (
        all(values.nginx_listen(item) for item in listen)
        and values.site_target(listen, names)["url"] != "",
        'app_http_listen items must be nginx listen values such as "80" or "[::]:80", at least one'
        " of them on TCP (the health check reaches the site through it from the host); got"
        f" {listen}.",
    )
    yield (
        all(values.peer_network(proxy) for proxy in proxies),
        "app_trusted_proxies takes the addresses or networks (CIDR, not 0.0.0.0/0 or ::/0) of the"
        f" proxies in front of the site (a load balancer); got {proxies}.",
    )
    yield (
        values.nginx_size(s["app_client_max_body_size"]),
        "app_client_max_body_size must be an nginx size such as 10m; got"
        f" '{s['app_client_max_body_size']}'.",
    )
    yield (
        static_url == ""
        or (
            _URL_PREFIX.fullmatch(static_url) is not None
            and _RELATIVE_DIR.fullmatch(static_dir) is not None
            and not any(part in (".", "..") for part in static_dir.split("/"))
            and posixpath.normpath(static_dir) == static_dir.rstrip("/")
        ),
        "app_static_url must start and end with '/' (e.g. /static/) and app_static_dir be a"
        " directory inside the code, not the code itself (such as static or mysite/static;"
        " no '.', '..' or '//': nginx would serve the code, settings included); got"
        f" '{static_url}' and '{static_dir}'.",
    )


def _answers(server_name, host):
    """Whether nginx's server_name SERVER_NAME matches HOST."""
    if server_name.startswith("~"):
        return re.search(server_name[1:], host) is not None
    if server_name.startswith("*."):
        return host.endswith(server_name[1:])
    if server_name.startswith("."):
        return host == server_name[1:] or host.endswith(server_name)
    if server_name.endswith(".*"):
        return host.startswith(server_name[:-1])
    return host == server_name


# --- Release phases, shared data, workers and jobs ------------------------------------------------

_WORKER_NAME = re.compile(r"^[a-z0-9][a-z0-9_-]{0,31}$")
_SHARED_PATH = re.compile(r"^[A-Za-z0-9_.@+-]+(/[A-Za-z0-9_.@+-]+)*$")


def _command_problem(command):
    """Why COMMAND is not a list of arguments a program can be started with, or ""."""
    if isinstance(command, str):
        return (
            f"'{command}' is one string, not a list of arguments; write it as"
            f" [{', '.join(command.split()) or '...'}] (no shell runs it)"
        )
    if not isinstance(command, list) or not command:
        return "it must be a list of arguments such as [python, manage.py, migrate]"
    program = str(command[0])
    checks = (
        (
            all(
                isinstance(arg, (str, int, float)) and not isinstance(arg, bool) for arg in command
            ),
            f"its arguments must be strings; got {command}",
        ),
        (
            program != "" and not any(char.isspace() for char in program),
            f"its program '{program}' has white space: each argument is an item of its own, such"
            f" as [{', '.join(program.split()) or '...'}]",
        ),
        (
            "=" not in program,
            f"its program '{program}' has '=' in it, which env takes as a variable",
        ),
        (not any("\x00" in str(arg) for arg in command), "an argument holds a NUL byte"),
    )
    return next((message for ok, message in checks if not ok), "")


def _phase_items(value):
    """([{command, creates}], [problem]) of app_build_commands or app_release_commands."""
    items, problems = [], []
    if value and all(isinstance(item, str) and item.split() == [item] for item in value):
        problems.append(
            "it takes a list of commands, each a list of arguments: write"
            f" [[{', '.join(value)}]] for one command"
        )
        return items, problems
    for index, item in enumerate(value, 1):
        command, creates = item, ""
        if isinstance(item, dict):
            command, creates = item.get("command"), item.get("creates", "")
            unknown = sorted(set(item) - {"command", "creates"})
            if unknown:
                problems.append(f"command {index} has keys {unknown}; it takes command and creates")
            if not isinstance(creates, str) or "\x00" in creates:
                problems.append(f"command {index}: creates must be a path; got {creates!r}")
                creates = ""
        problem = _command_problem(command)
        if problem:
            problems.append(f"command {index}: {problem}")
        else:
            items.append({"command": [str(arg) for arg in command], "creates": creates})
    return items, problems


def _phase_rules(app):
    s = app.s
    for var in ("app_build_commands", "app_release_commands"):
        problems = _phase_items(s[var])[1]
        yield (
            not problems,
            f"{var} takes commands, each a list of arguments (or a dict with command and, to skip"
            f" it once a path exists, creates): {'; '.join(problems)}.",
        )
    yield (
        1 <= s["app_command_timeout"] <= 86400,
        f"app_command_timeout must be 1 to 86400 seconds; got {s['app_command_timeout']}.",
    )


def _shared_problem(path):
    if not isinstance(path, str) or not _SHARED_PATH.fullmatch(path):
        return "is not a relative path of names (letters, digits, . _ - @ +) joined by /"
    if path.startswith("/") or any(part in ("", ".", "..") for part in path.split("/")):
        return "escapes the code directory (absolute, '.' or '..')"
    return ""


def _overlaps(first, second):
    return first == second or first.startswith(second + "/") or second.startswith(first + "/")


def _shared_rules(app, controller):
    s = app.s
    shared = s["app_shared_paths"]
    paths = [item["path"] for item in shared]
    bad = {path: _shared_problem(path) for path in paths if _shared_problem(path)}
    yield (
        not bad,
        "app_shared_paths paths must be directories inside the code, such as instance or"
        " media/uploads: "
        + "; ".join(f"'{path}' {problem}" for path, problem in bad.items())
        + ".",
    )
    overlapping = sorted(
        {
            f"'{first}' and '{second}'"
            for index, first in enumerate(paths)
            for second in paths[index + 1 :]
            if _overlaps(first, second)
        }
    )
    yield (
        not overlapping,
        "app_shared_paths paths must not overlap (one inside another, or twice):"
        f" {', '.join(overlapping)}.",
    )
    top = s["app_wsgi_module"].split(".")[0]
    hiding = [
        path
        for path in paths
        if controller.get("module_found") and path.split("/")[0] in (top, f"{top}.py")
    ]
    yield (
        not hiding,
        f"app_shared_paths must not replace the code: {', '.join(hiding)} holds the entry module"
        f" {s['app_wsgi_module']}.",
    )
    yield (
        not shared or s["app_state_dir"] != "",
        "app_shared_paths live under app_state_dir, which is empty: set app_state_dir (such as"
        f" /var/lib/{s['app_name']}) or leave app_shared_paths empty.",
    )
    urls = [item["url"] for item in shared if item["url"]]
    taken = [s["app_static_url"]] if s["app_static_url"] else []
    yield (
        all(_URL_PREFIX.fullmatch(url) and url != "/" for url in urls)
        and len(set(urls + taken)) == len(urls + taken),
        "app_shared_paths urls must start and end with '/' (such as /media/), differ from each"
        f" other and from app_static_url ('{s['app_static_url']}'), and not be '/'; got {urls}.",
    )
    yield (
        not urls or s["app_nginx_site"],
        "app_shared_paths url needs the app's nginx site (app_nginx_site true), which serves it.",
    )


def _worker_rules(app):
    s = app.s
    workers, jobs = s["app_workers"], s["app_jobs"]
    for var, items in (("app_workers", workers), ("app_jobs", jobs)):
        names = [item["name"] for item in items]
        yield (
            all(_WORKER_NAME.fullmatch(name) for name in names) and len(set(names)) == len(names),
            f"{var} names must be distinct, 1-32 characters of a-z, 0-9, '_' and '-' (they name"
            f" systemd units); got {names}.",
        )
        problems = [
            f"{item['name']}: {_command_problem(item['command'])}"
            for item in items
            if _command_problem(item["command"])
        ]
        yield (
            not problems,
            f"{var} commands must be lists of arguments: {'; '.join(problems)}.",
        )
    low = [f"{item['name']}: {item['count']}" for item in workers if item["count"] < 1]
    yield (
        not low,
        f"app_workers counts must be 1 or more (remove a worker from the list to stop it); got"
        f" {', '.join(low)}.",
    )
    calendars = app.host.get("calendars") or {}
    rejected = []
    for item in jobs:
        calendar = item["calendar"]
        found = calendars.get(calendar)
        if not calendar.strip() or any(char in calendar for char in "\n\r"):
            rejected.append(f"{item['name']}: '{calendar}' is empty or has a line break")
        elif found and not found.get("valid"):
            rejected.append(f"{item['name']}: '{calendar}': {found.get('message')}")
        elif found and found.get("next") == "never":
            rejected.append(f"{item['name']}: '{calendar}' never elapses (a time in the past)")
    yield (
        not rejected,
        "app_jobs calendars must be systemd calendar expressions (OnCalendar=, such as daily or"
        " Mon *-*-* 04:00; see systemd.time(7)), as `systemd-analyze calendar` on the host takes"
        f" them: {'; '.join(rejected)}.",
    )


def _shared_directories(app):
    """The shared directories of app_shared_paths, parents first, under app_state_dir/shared.

    Each is the app's alone (0750), except that nginx's group may traverse to, and read, what is
    served under a URL: the directories above it 0710 and its own 2750 (set-group-ID, so what the
    app creates in it belongs to nginx's group, readable and nothing more).
    """
    s = app.s
    root = f"{s['app_state_dir']}/shared"
    served = [item["path"] for item in s["app_shared_paths"] if item["url"]]
    found = {}
    for item in s["app_shared_paths"]:
        parts = item["path"].split("/")
        for depth in range(len(parts)):
            relative = "/".join(parts[: depth + 1])
            leaf = depth == len(parts) - 1
            crossed = any(path.startswith(relative + "/") for path in served)
            if leaf and item["url"]:
                owner_group, mode = app.web_group, "2750"
            elif crossed:
                owner_group, mode = app.web_group, "0710"
            else:
                owner_group, mode = app.group, "0750"
            found[relative] = {
                "path": f"{root}/{relative}",
                "owner": app.user,
                "group": owner_group,
                "mode": mode,
            }
    top = {
        "path": root,
        "owner": app.user,
        "group": app.web_group if served else app.group,
        "mode": "0710" if served else "0750",
    }
    return [top, *found.values()] if found else []


def _as_list(value):
    if value is None:
        return []
    return list(value) if isinstance(value, (list, tuple)) else [value]


def _app_writable(app, service):
    """What the app's unit may write, less its uWSGI runtime and stats directories."""
    paths = _as_list(service.get("ReadWritePaths"))
    return [path for path in paths if path not in (app.runtime_dir, app.stats_dir)]


def _phases(app):
    s = app.s
    venv = f"{app.release_dir}/venv"
    service = app.service_settings()
    writable = _app_writable(app, service)
    build, _problems = _phase_items(s["app_build_commands"])
    release, _problems = _phase_items(s["app_release_commands"])
    release_sandbox = sandbox.settings(service, writable)
    return {
        "chdir": app.code,
        "env": sandbox.environment(venv),
        "environment_file": _environment_file(app),
        "timeout": s["app_command_timeout"],
        "project_install": s["app_project_install"],
        "entry_point": {
            "python": f"{venv}/bin/python",
            "module": s["app_wsgi_module"],
            "callable": s["app_wsgi_callable"],
            "sandbox": release_sandbox,
        },
        # Build commands may write the release's code, which is theirs until it is locked.
        "build": {
            "commands": build,
            "sandbox": sandbox.settings(service, [app.code, *writable]),
        },
        "release": {"commands": release, "sandbox": release_sandbox},
    }


def _unit_service(app, service, command, kind, name):
    """[Service] of a worker or job: the app's sandbox, the release's code and environment."""
    venv = f"{app.release_dir}/venv"
    kept = sandbox.settings(service, _app_writable(app, service))
    user_env = _as_list(kept.pop("Environment", None))
    user_files = _as_list(kept.pop("EnvironmentFile", None))
    env_file = _environment_file(app)
    return {
        "Type": "exec" if kind == "worker" else "oneshot",
        "ExecStart": sandbox.unit_exec(command),
        # The release this unit was written for, not current: a running worker keeps importing
        # from its own release while the next one is switched in, until it is restarted.
        "WorkingDirectory": sandbox.specifiers(app.code),
        "Environment": [*user_env, *sandbox.unit_environment(sandbox.environment(venv))],
        "EnvironmentFile": [*[path for path in user_files if path != env_file], env_file],
        "SyslogIdentifier": f"{app.name}-{kind}-{name}",
        **(
            {"Restart": "always", "RestartSec": 2}
            if kind == "worker"
            else {"TimeoutStartSec": app.s["app_command_timeout"]}
        ),
        **kept,
    }


def _workers(app):
    """The unit files of app_workers and app_jobs, the instances and timers to run."""
    s = app.s
    service = app.service_settings()

    def header(what):
        return HEADER.format(what=what, name=app.name)

    units, instances, timers = [], [], []
    for item in s["app_workers"]:
        name = f"{app.unit}.worker-{item['name']}"
        text = systemd_unit(
            {
                "Unit": {
                    "Description": f"{app.name} worker {item['name']} %i",
                    "After": "network.target",
                },
                "Service": _unit_service(app, service, item["command"], "worker", item["name"]),
                "Install": {"WantedBy": "multi-user.target"},
            },
            header(f"Worker {item['name']} (release {app.release})"),
        )
        units.append({"name": f"{name}@.service", "text": text})
        instances += [f"{name}@{number}.service" for number in range(1, item["count"] + 1)]
    for item in s["app_jobs"]:
        name = f"{app.unit}.job-{item['name']}"
        service_text = systemd_unit(
            {
                "Unit": {"Description": f"{app.name} job {item['name']}"},
                "Service": _unit_service(app, service, item["command"], "job", item["name"]),
            },
            header(f"Job {item['name']} (release {app.release})"),
        )
        timer_text = systemd_unit(
            {
                "Unit": {"Description": f"{app.name} job {item['name']}, on its calendar"},
                "Timer": {
                    "OnCalendar": sandbox.specifiers(item["calendar"]),
                    # A run missed while the host was down happens at boot.
                    "Persistent": True,
                    # On time rather than within systemd's default minute.
                    "AccuracySec": "1s",
                    "Unit": f"{name}.service",
                },
                "Install": {"WantedBy": "timers.target"},
            },
            header(f"Timer of job {item['name']}"),
        )
        units += [
            {"name": f"{name}.service", "text": service_text},
            {"name": f"{name}.timer", "text": timer_text},
        ]
        timers.append(f"{name}.timer")
    return {
        "dir": UNIT_DIR,
        "units": units,
        "instances": instances,
        "timers": timers,
        # Every unit file and enabled instance of this app's workers and jobs matches one of these
        # (app names have no dots), so the ones no longer listed are found and removed.
        "patterns": [f"{app.unit}.worker-*", f"{app.unit}.job-*"],
        "wants": [f"{UNIT_DIR}/multi-user.target.wants", f"{UNIT_DIR}/timers.target.wants"],
    }


def _environment_file(app):
    """The app's EnvironmentFile, named after its content: what a worker or job running now reads
    is never rewritten, so one that restarts after a failed deploy keeps the environment of its
    own release."""
    return f"{ENV_DIR}/{app.name}.{_digest(app.s['app_env'], 12)}.env"


def _environment(app):
    """The app's environment as a systemd EnvironmentFile (root:APP 0640)."""
    header = (
        HEADER.format(what="Environment (app_env)", name=app.name)
        + "\nRead by systemd for the app's commands, workers and jobs; values byte for byte."
    )
    return {
        "dir": ENV_DIR,
        "file": _environment_file(app),
        "pattern": f"{app.name}.*.env",
        "text": env_file.environment_file(app.s["app_env"], header),
    }


def host_request(settings, *, record=None, uwsgi_settings=None, platform=None):
    """What pyops.uwsgi.uwsgi_info reads for _host_rules: every existing component of the app's
    directories (paths), the entries of its root (directories), its user and group."""
    app = _App(
        settings,
        record=record,
        uwsgi_settings=uwsgi_settings,
        host={},
        platform=platform or {"web_user": "www-data", "web_group": "www-data"},
        source=None,
        playbook_dir="",
    )
    wanted = set()
    for item in app.directories():
        normal = host_paths.normalize(item["path"])
        if normal:
            wanted.update([*host_paths.ancestors(normal), normal])
    root = host_paths.normalize(settings["app_root"])
    return {
        "paths": sorted(wanted),
        "directories": [root] if root else [],
        "users": [app.user],
        "groups": [app.group],
    }


def _directory_setting(app, path):
    """The setting that puts the app's directory PATH where it is."""
    s = app.s
    if path in (app.runtime_dir,):
        return "app_socket"
    if s["app_state_dir"] and host_paths.inside(path, s["app_state_dir"]):
        return "app_state_dir"
    if host_paths.inside(path, s["app_root"]):
        return "app_root"
    return "app_stats"


def _host_rules(app):
    """What the host says of the app's directories and accounts, read before anything changes
    (host_request): no symbolic link or stranger's directory on their way, nothing the app did
    not create taken over."""
    host, root = app.host, host_paths.normalize(app.s["app_root"])
    readings = host.get("paths")
    problems = []
    own = {host_paths.normalize(item["path"]) for item in app.directories()}
    for item in app.directories() if readings is not None else []:
        path = host_paths.normalize(item["path"])
        if path is None:
            continue
        problems += host_paths.component_problems(
            _directory_setting(app, item["path"]),
            path,
            readings,
            owner=item["owner"],
            root_owned=item["owner"] == "root",
            own=own,
        )
    entries = (host.get("entries") or {}).get(root) or []
    names = sorted(entry["name"] for entry in entries)
    if names and "releases" not in names:
        problems.append(
            f"app_root {root} exists and holds {', '.join(names[:5])}"
            f"{', ...' if len(names) > 5 else ''}, which pyops.uwsgi did not put there: an app"
            " never takes over a directory it did not create. Choose another app_root or app name."
        )
    yield not problems, " ".join(dict.fromkeys(problems))
    users, groups = host.get("users"), host.get("groups")
    problem = ""
    if users is not None and groups is not None:
        problem = host_paths.account_problem(
            app=app.name,
            user=app.user,
            group=app.group,
            root=app.s["app_root"],
            account=users.get(app.user),
            group_found=groups.get(app.group),
        )
    yield not problem, problem


def _rules(app, controller):
    """(ok, message) for every rule of the app's settings."""
    yield from _identity_rules(app)
    yield from _host_rules(app)
    yield from _code_rules(app, controller)
    yield from _python_rules(app)
    yield from _uwsgi_rules(app)
    yield from _socket_rules(app)
    yield from _site_rules(app)
    yield from _tls_rules(app)
    yield from _phase_rules(app)
    yield from _shared_rules(app, controller)
    yield from _worker_rules(app)


def _pip_requirement(item):
    return bool(item) and item[:1].isalnum() and not any(char.isspace() for char in item)


def _render(app):
    """The texts of the vassal, the canary and the units, or (None, error)."""
    known = app.host.get("uwsgi_options")
    options = app.options()
    generation = _digest([options, app.environment()[1]], 8)
    canary = {
        **options,
        # The canary: the new release on a socket of its own, as many workers as the service, as
        # it bridges for the service while that reloads (nginx's socket links to it meanwhile),
        # logging to its unit. Its identity is the service's: a vassal's uid, gid and
        # chown-socket, or the unit's user.
        "socket": app.canary_socket,
        "logger": None,
        "log-master": None,
        "stats": None,
        "procname-prefix-spaced": f"{app.name} canary",
        "vacuum": True,
        "master-fifo": None,
        # Its unit stops it with SIGHUP: a graceful reload (each worker finishes its request),
        # after which it exits instead of starting again.
        "exit-on-reload": True,
    }
    try:
        # Its generation (a digest of its options) is in every process title, "APP GENERATION
        # uWSGI worker 1": which configuration a process runs, and when a reload is done.
        vassal = uwsgi_ini(
            {**options, "procname-prefix-spaced": f"{app.name} {generation}"},
            known_options=known,
            raw=app.raw_options(),
        )
        canary_ini = uwsgi_ini(canary, raw=app.raw_options())
    except RenderError as exc:
        if known is not None and "is not an option" in str(exc):
            return None, (
                f"{exc} ({app.uwsgi['binary']} --help does not list it): check its spelling in"
                " app_uwsgi_options, or load the plugin that provides it."
            )
        return None, f"{app.setting_of(exc)}: {exc}"
    try:
        units = {
            "service": app.service_unit(),
            "socket": app.socket_unit() if app.s["app_socket_activation"] else "",
        }
        sandbox = systemd_properties(app.canary_sandbox())
    except RenderError as exc:
        return None, f"app_systemd_options: {exc}"
    try:
        environment = _environment(app)
    except env_file.EnvFileError as exc:
        return None, f"app_env: {exc}"
    try:
        workers = _workers(app)
    except RenderError as exc:
        return None, f"app_workers, app_jobs or app_systemd_options: {exc}"
    header = "# " + HEADER.format(what=f"Release {app.release}", name=app.name) + "\n"
    texts = {
        "options": options,
        "generation": generation,
        "vassal": header + vassal,
        "canary": canary_ini,
        "sandbox": sandbox,
        "units": units,
        "environment": environment,
        "workers": workers,
    }
    return texts, None


def make_plan(
    settings,
    *,
    record=None,
    uwsgi_settings=None,
    host=None,
    controller=None,
    platform=None,
    source=None,
):
    """The app's plan, or the errors that stop it; see the module docstring."""
    platform = platform or {"web_user": "www-data", "web_group": "www-data"}
    controller = controller or {}
    app = _App(
        settings,
        record=record,
        uwsgi_settings=uwsgi_settings,
        host=host,
        platform=platform,
        source=source,
        playbook_dir=controller.get("playbook_dir", ""),
    )
    errors = [message for ok, message in _rules(app, controller) if not ok]
    if errors:
        return {"errors": errors}
    texts, error = _render(app)
    if error:
        return {"errors": [error]}
    return {"errors": [], "plan": _with_tls(app, _assemble(app, texts))}


def _assemble(app, texts):
    s = app.s
    root, code = s["app_root"], app.code
    module_path = "/".join(s["app_wsgi_module"].split("."))
    target = values.site_target(s["app_http_listen"], s["app_server_names"])
    plugin = app.uwsgi["plugin"]
    return {
        "name": app.name,
        "user": app.user,
        "group": app.group,
        "shell": NOLOGIN,
        # Its GECOS: how a later run knows the account is this app's (host_paths.account_problem).
        "comment": host_paths.ACCOUNT_MARKER.format(name=app.name),
        "web_user": app.web_user,
        "web_group": app.web_group,
        "supervisor": s["app_supervisor"],
        "socket_activation": s["app_socket_activation"],
        "python": {"version": app.python, "interpreter": app.interpreter, "plugin": plugin},
        "uwsgi_binary": app.uwsgi["binary"],
        "source": {
            "src_dir": app.src_dir,
            "git_repo": s["app_git_repo"],
            "git_version": s["app_git_version"],
            "git_dir": f"{root}/repo",
            "exclude": list(s["app_src_exclude"]),
        },
        "release": {
            "id": app.release,
            "dir": app.release_dir,
            "code": code,
            "venv": f"{app.release_dir}/venv",
            "marker": f"{app.release_dir}/.pyops-release.json",
            "record": {
                "release": app.release,
                "source": app.source or "",
                "python": app.python,
                "uwsgi_method": s["app_uwsgi_method"],
            },
            "entry_module_files": [f"{code}/{module_path}.py", f"{code}/{module_path}/__init__.py"],
            "requirements": f"{code}/{s['app_requirements_file']}"
            if s["app_requirements_file"]
            else "",
            "pip_packages": list(s["app_pip_packages"]),
            "pip_environment": pip_settings.environment("app", s),
            "keep": s["app_keep_releases"],
        },
        "paths": {
            "root": root,
            "releases": f"{root}/releases",
            "current": f"{root}/current",
            "socket": app.socket,
            # What nginx connects to: a link to the socket serving, switched to the canary's while
            # the service reloads.
            "nginx_socket": app.nginx_socket,
            "config": app.supervisor["config"],
            "emperor_vassal": f"{app.uwsgi['vassals_dir']}/{app.name}.ini",
            "service_ini": f"{SERVICE_INI_DIR}/{app.name}.ini",
            "service_ini_dir": SERVICE_INI_DIR,
            "tmpfiles": f"/etc/tmpfiles.d/uwsgi-app-{app.name}.conf",
        },
        "directories": app.directories(),
        # What an env line cannot carry: files of uWSGI's envdir, one per variable (no envdir: {}).
        "envdir": {
            "root": f"{ENV_DIR}/{app.name}",
            "path": app.envdir_path() or "",
            "files": app.environment()[1],
        },
        "tmpfiles": app.tmpfiles(),
        "vassal": {
            "options": texts["options"],
            "generation": texts["generation"],
            "text": texts["vassal"],
        },
        "canary": {
            # Started as a transient unit under the sandbox of the service it stands for.
            "argv": [
                "systemd-run",
                f"--unit=uwsgi-canary-{app.name}",
                "--service-type=notify",
                "--collect",
                "--quiet",
                f"--property=TimeoutStartSec={s['app_health_timeout']}",
                # A graceful stop (exit-on-reload): SIGHUP to the master alone, which lets each
                # worker finish its request; whatever is left at the timeout gets SIGKILL.
                "--property=KillSignal=SIGHUP",
                "--property=KillMode=mixed",
                f"--property=TimeoutStopSec={s['app_worker_reload_mercy'] + 15}",
                *[f"--property={setting}" for setting in texts["sandbox"]],
                app.uwsgi["binary"],
                "--ini",
                f"{app.release_dir}/canary.ini",
            ],
            "ini": texts["canary"],
            "socket": app.canary_socket,
            "unit": f"uwsgi-canary-{app.name}",
        },
        "unit": {
            "name": app.unit,
            "dir": UNIT_DIR,
            "service": texts["units"]["service"],
            "socket": texts["units"]["socket"],
        },
        # journalctl's selection of the app's log.
        "journal": app.supervisor["journal"],
        "nginx_site_enabled": s["app_nginx_site"],
        "nginx_site": {
            "nginx_site_name": app.name,
            "nginx_site_listen": list(s["app_http_listen"]),
            "nginx_site_server_names": list(s["app_server_names"]),
            # The link to the socket serving (the vassal's, or the canary's during a reload):
            # nginx cannot point anywhere else.
            "nginx_site_uwsgi_pass": f"unix:{app.nginx_socket}",
            "nginx_site_uwsgi_read_timeout": app.read_timeout,
            "nginx_site_static_url": s["app_static_url"],
            "nginx_site_static_dir": f"{root}/current/code/{s['app_static_dir']}"
            if s["app_static_url"]
            else "",
            "nginx_site_client_max_body_size": s["app_client_max_body_size"],
            "nginx_site_trusted_proxies": list(s["app_trusted_proxies"]),
            # Shared data served as it is (app_shared_paths with a url), from where it lives.
            "nginx_site_locations": [
                {"url": item["url"], "dir": f"{s['app_state_dir']}/shared/{item['path']}"}
                for item in s["app_shared_paths"]
                if item["url"]
            ],
        },
        "health": {
            "path": s["app_health_path"],
            "timeout": s["app_health_timeout"],
            "host": s["app_health_host"] or target["host"],
            "url": target["url"] + s["app_health_path"],
            "status": list(s["app_health_status"]) or list(range(200, 400)),
            # How long a probe queued behind the requests an instance has may wait: as long as
            # nginx waits for an answer (a deploy drains an instance so before it reloads or stops).
            "drain_timeout": app.read_timeout,
        },
        # What the diagnosis of a failed deploy needs (filter pyops.uwsgi.uwsgi_diagnose).
        "diagnose": {
            "name": app.name,
            "wsgi_module": s["app_wsgi_module"],
            "wsgi_callable": s["app_wsgi_callable"],
            "python_version": app.python,
            "requirements_file": s["app_requirements_file"],
            "socket": app.socket,
            "nginx_socket": app.nginx_socket,
            "web_user": app.web_user,
            "plugin": plugin,
            "root": root,
            "unit": app.serving_sandbox()[0],
            "health_path": s["app_health_path"],
            "health_host": s["app_health_host"] or target["host"],
            "health_status": list(s["app_health_status"]) or list(range(200, 400)),
            "lazy_apps": str(s["app_lazy_apps"]),
        },
        # Seconds to wait for the app's processes to leave a supervisor.
        "stop_timeout": s["app_worker_reload_mercy"] + 10,
        # app_env for systemd: the app's commands, workers and jobs read it.
        "environment": texts["environment"],
        # Directories of app_shared_paths (created with the others, in directories), linked into
        # each release's code.
        "shared": {
            "paths": [
                {
                    "path": item["path"],
                    "link": f"{code}/{item['path']}",
                    "parent": posixpath.dirname(f"{code}/{item['path']}"),
                    "target": f"{s['app_state_dir']}/shared/{item['path']}",
                }
                for item in s["app_shared_paths"]
            ],
        },
        # The entry point check, the project's install, build and release commands.
        "phases": _phases(app),
        "workers": texts["workers"],
    }


# --- HTTPS: the app's app_tls_* settings, handed to its nginx site (module_utils/tls.py) ---------

# app setting -> the nginx site's.
TLS_SITE_SETTINGS = {
    "app_tls": "nginx_site_tls",
    "app_tls_listen": "nginx_site_tls_listen",
    "app_tls_certificate": "nginx_site_tls_certificate",
    "app_tls_key": "nginx_site_tls_key",
    "app_tls_remote_src": "nginx_site_tls_remote_src",
    "app_tls_hsts_max_age": "nginx_site_tls_hsts_max_age",
    "app_tls_hsts_include_subdomains": "nginx_site_tls_hsts_include_subdomains",
    "app_tls_hsts_preload": "nginx_site_tls_hsts_preload",
}
# The names tls.rules gives its messages, for the app's settings.
APP_TLS_NAMES = {
    "tls": "app_tls",
    "listen": "app_http_listen",
    "tls_listen": "app_tls_listen",
    "server_names": "app_server_names",
    "certificate": "app_tls_certificate",
    "key": "app_tls_key",
    "remote_src": "app_tls_remote_src",
    "hsts_max_age": "app_tls_hsts_max_age",
    "hsts_include_subdomains": "app_tls_hsts_include_subdomains",
    "hsts_preload": "app_tls_hsts_preload",
}


def _tls_rules(app):
    s = app.s
    yield from tls.rules(s, APP_TLS_NAMES)
    yield (
        s["app_tls_ca_file"] == ""
        or (
            values.ABSOLUTE_PATH.fullmatch(s["app_tls_ca_file"]) is not None
            and host_paths.normalize(s["app_tls_ca_file"]) == s["app_tls_ca_file"]
        ),
        "app_tls_ca_file must be an absolute path on the host, written as the kernel resolves it"
        " (no '.', '..', '//' or trailing '/'; the CA bundle the health check trusts for the"
        f" site's certificate) or empty; got '{s['app_tls_ca_file']}'.",
    )


def _with_tls(app, plan):
    """PLAN with the app's HTTPS: its nginx site takes the TLS settings, the health check HTTPS."""
    s = app.s
    if s["app_tls"] == "none":
        return plan
    plan["nginx_site"].update({site: s[own] for own, site in TLS_SITE_SETTINGS.items()})
    target = values.site_target(s["app_tls_listen"], s["app_server_names"], scheme="https")
    ca_file = s["app_tls_ca_file"]
    if not ca_file and s["app_tls"] == "self_signed":
        ca_file = tls.paths(app.name, "self_signed")["certificate"]
    plan["health"].update(
        {
            "scheme": "https",
            "url": target["url"] + s["app_health_path"],
            "address": target["address"].strip("[]"),
            "port": target["port"],
            # The TLS server name too: the health check asks as a client of the site's name would.
            "host": s["app_health_host"] or target["host"],
            "ca_file": ca_file,
        }
    )
    return plan
