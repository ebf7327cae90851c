# Copyright: pyops.uwsgi contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Private (see __init__.py): the app resolved from its settings, named once.

``App`` holds who the app runs as, where its files and sockets are, which uWSGI serves it and who
supervises it, how many workers it has and which directories it owns. The vassal, the units, the
site and the rules read these values; none of them is computed twice.

Pure: no I/O.
"""

from __future__ import annotations

import hashlib
import json
import posixpath
import typing as t

from ansible_collections.pyops.uwsgi.plugins.module_utils import limits, values

# The app's user logs in nowhere.
NOLOGIN = "/usr/sbin/nologin"
# Where the apps' own uWSGI configurations live (app_supervisor systemd) and their units.
SERVICE_INI_DIR = "/etc/uwsgi/services"
# Per app, the envdirs of the values an ini line cannot carry (root:APP, 0750 and 0640).
ENV_DIR = "/etc/uwsgi/env"
UNIT_DIR = "/etc/systemd/system"
# One file per app naming its root, for pyops-releases and the local fact pyops_releases.
RELEASES_REGISTRY = "/etc/pyops-releases"
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
HEADER = "{what} of {name}: written by pyops.uwsgi.app, edits are overwritten."
# The nginx role's timeouts toward clients (its settings on this host where the play has them,
# else its defaults): the app's limits follow them (module_utils/limits.py).
NGINX_TIMEOUTS = {
    "client_header_timeout": 15,
    "client_body_timeout": 15,
    "send_timeout": 15,
    "keepalive_timeout": 30,
}


def _seconds(value, default):
    """VALUE as whole seconds, DEFAULT when it is not a number (the nginx role's rules say so)."""
    return int(value) if str(value).isdigit() else default


def digest(data, length):
    """The first LENGTH hex digits of the SHA-256 of DATA as JSON: names that follow content."""
    return hashlib.sha256(json.dumps(data).encode("utf-8")).hexdigest()[:length]


def version_tuple(text):
    """A version "X.Y" as a tuple of numbers, for comparing."""
    return tuple(int(part) for part in text.split("."))


def src_dir(settings, playbook_dir):
    """app_src_dir as an absolute path on the controller ("" when the code comes from git)."""
    path = settings["app_src_dir"]
    if path == "" or path.startswith("/"):
        return path
    return posixpath.join(playbook_dir or ".", path)


def maintenance_page(settings, playbook_dir):
    """app_maintenance_page as an absolute path on the controller ("" for the built-in page)."""
    path = settings["app_maintenance_page"]
    if path == "":
        return path
    return posixpath.normpath(posixpath.join(playbook_dir or ".", path))


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
    return digest(parts, 12)


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


class App:
    """The derived values of one app, named once; make_plan assembles them into the plan."""

    def __init__(
        self,
        settings: dict[str, t.Any],
        *,
        record: dict[str, t.Any] | None,
        uwsgi_settings: dict[str, t.Any] | None,
        host: dict[str, t.Any] | None,
        platform: dict[str, t.Any],
        source: str | None,
        playbook_dir: str,
        templates: dict[str, str | None] | None = None,
        release: str | None = None,
    ):
        s = self.s = settings
        # app_config_files' templates (src) as the controller rendered them; None: not found.
        self.templates = templates or {}
        self.record = record or {}
        self.host = host or {}
        self.name = s["app_name"]
        self.user = s["app_user"] or self.name
        self.group = s["app_group"] or self.user
        self.web_user = platform["web_user"]
        self.web_group = platform["web_group"]
        self.host_apps = max(1, int(platform.get("host_apps") or 1))
        self.src_dir = src_dir(s, playbook_dir)
        self.maintenance_page = maintenance_page(s, playbook_dir)
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
        # A rollback names a kept release: the old code and virtualenv, served with these settings.
        self.release = release or (release_id(s, source, self.python) if source else "")
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
        self.nginx_timeouts = {
            key: (uwsgi_settings or {}).get(f"nginx_{key}", default)
            for key, default in NGINX_TIMEOUTS.items()
        }

    def limits_path(self) -> limits.Path:
        """The settings the limits along the request's path follow (module_utils/limits.py)."""
        s = self.s
        size = s["app_response_headers_limit"]
        timeouts = {
            key: _seconds(value, NGINX_TIMEOUTS[key]) for key, value in self.nginx_timeouts.items()
        }
        return limits.Path(
            harakiri=s["app_harakiri"],
            read_timeout=self.read_timeout,
            listen=s["app_listen"],
            # A size the rules refuse stands at the default meanwhile.
            response_headers=limits.bytes_of(size)
            if values.nginx_size(size)
            else limits.Path._field_defaults["response_headers"],
            header_buffers=self.nginx_header_buffers,
            body_size=s["app_client_max_body_size"],
            somaxconn=self.host.get("somaxconn"),
            **timeouts,
        )

    @property
    def release_dir(self):
        return f"{self.s['app_root']}/releases/{self.release or 'new'}"

    @property
    def code(self):
        return f"{self.release_dir}/code"

    @property
    def static_bridge_time(self):
        """Seconds the previous release's static files are served after a switch; 0: never (no
        static location, or no site to serve them)."""
        s = self.s
        served = s["app_static_url"] and s["app_nginx_site"]
        return s["app_static_bridge_time"] if served else 0

    # --- Sizing and directories ---------------------------------------------------------------

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
            found += shared_directories(self)
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


def shared_directories(app: App) -> list[dict[str, str]]:
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


# A rule's outcome: whether it holds, and the message naming the variable and the fix. A rule is a
# function of (app, controller readings) that yields them (rules.py).
Check = tuple[bool, str]
Checks = t.Iterator[Check]
Rule = t.Callable[[App, dict], Checks]
