# Copyright: pyops.uwsgi contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Private (see __init__.py): the vassal's options and ini text, and the canary in its place.

The vassal is the app's uWSGI configuration: the role's options, with app_uwsgi_options merged
over them, and app_env split into what an ini line can carry and what goes to an envdir. The
canary is the same configuration on a socket of its own, run as a transient unit under the
sandbox of the service it stands for while that reloads; everything about it is in this module.

Pure: no I/O.
"""

from __future__ import annotations

import typing as t

from ansible_collections.pyops.uwsgi.plugins.module_utils import (
    env_file,
    limits,
    uwsgi_literal,
    values,
)
from ansible_collections.pyops.uwsgi.plugins.module_utils._app import config_files, units
from ansible_collections.pyops.uwsgi.plugins.module_utils._app.model import (
    ENV_DIR,
    HEADER,
    App,
    digest,
    version_tuple,
)
from ansible_collections.pyops.uwsgi.plugins.module_utils.render import RenderError, uwsgi_ini

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


# --- The vassal ---------------------------------------------------------------------------------


def role_options(app: App) -> dict[str, t.Any]:
    """The role's uWSGI options, before app_uwsgi_options is merged over them."""
    return {
        **_identity_options(app),
        **_python_options(app),
        **_worker_options(app),
        **_log_options(app),
    }


def _identity_options(app):
    """The plugins, who the vassal runs as and the sockets it serves on."""
    s = app.s
    identity = app.supervisor["options"]
    return {
        "strict": True,
        "plugins-dir": app.uwsgi["plugins_dir"],
        "plugin": app.uwsgi["plugins"],
        "master": True,
        # No app (import error, wrong callable) means exit, not "full dynamic mode".
        "need-app": True,
        "uid": identity.get("uid"),
        "gid": identity.get("gid"),
        # The unix socket for nginx; with app_tcp_socket also the TCP one for front hosts (both
        # held by the socket unit; uWSGI matches the descriptors it inherits by address).
        "socket": [app.socket, s["app_tcp_socket"]] if s["app_tcp_socket"] else app.socket,
        "chown-socket": identity.get("chown-socket"),
        "chmod-socket": 660,
        # A socket of systemd's stays when uWSGI exits.
        "vacuum": not s["app_socket_activation"],
        "master-fifo": identity.get("master-fifo"),
        "die-on-term": True,
    }


def _python_options(app):
    """The release's virtualenv and code, the entry point and how workers import it."""
    s = app.s
    py_call_osafterfork = None
    if values.PYTHON_VERSION.fullmatch(app.python) and version_tuple(app.python) < (3, 13):
        # Lets workers handle signals from the app's own code. Fatal on Python 3.13+ with
        # uWSGI <= 2.0.31 (workers abort: "PyMutex_Unlock: unlocking mutex that is not locked").
        py_call_osafterfork = True
    return {
        "virtualenv": f"{app.release_dir}/venv",
        # The release's Python, not the uWSGI binary: subprocess.run([sys.executable, ...]) and
        # multiprocessing's spawn start it.
        "py-sys-executable": f"{app.release_dir}/venv/bin/python",
        "chdir": app.code,
        "pythonpath": app.code,
        "module": f"{s['app_wsgi_module']}:{s['app_wsgi_callable']}",
        "processes": app.processes(),
        "threads": s["app_threads"],
        "enable-threads": True,
        # Each worker imports the app itself: nothing made at import (a connection, a
        # thread) is shared across the fork, and os.register_at_fork needs no hooks.
        "lazy-apps": s["app_lazy_apps"] or None,
        "single-interpreter": True,
        "py-call-osafterfork": py_call_osafterfork,
    }


def _worker_options(app):
    """How long a request may take, when workers are recycled, how requests are buffered."""
    s = app.s
    known = app.host.get("uwsgi_options") or []
    path = app.limits_path()
    max_requests = s["app_max_requests"]
    lifetime = s["app_max_worker_lifetime"]
    return {
        # How long a request may take, how large what it brings and sends may be, how many may
        # wait: limits that agree with nginx's (module_utils/limits.py, docs/limits.md).
        **limits.uwsgi_options(
            harakiri=s["app_harakiri"],
            listen=s["app_listen"],
            response_headers=path.response_headers,
            send_timeout=path.send_timeout,
        ),
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
        "stats": f"{app.stats_dir}/stats.sock" if s["app_stats"] else None,
    }


def _log_options(app):
    """Process names, logging, and the app's environment."""
    return {
        "auto-procname": True,
        # Per-request logging costs CPU; keep errors only. The master collects the workers'
        # output too and hands everything to journald under the app's own name.
        "disable-logging": True,
        "log-4xx": True,
        "log-5xx": True,
        "log-master": True,
        "logger": f"syslog:uwsgi-{app.name}",
        # The environment: on env lines where an ini line can carry the value exactly, the
        # rest in an envdir of files uWSGI reads as they are (environment()).
        "env": [f"{key}={value}" for key, value in environment(app)[0].items()],
        "envdir": envdir_path(app),
    }


def environment(app: App) -> tuple[dict[str, str], dict[str, str], dict[str, str]]:
    """(for env lines, for the envdir, refused): app_env split by what can carry each value."""
    lines, files, refused = {}, {}, {}
    for key, value in app.s["app_env"].items():
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


def envdir_path(app: App) -> str | None:
    """The envdir of this environment (named after its content, so a deploy never edits the
    one serving), or None when the env lines carry everything."""
    files = environment(app)[1]
    return f"{ENV_DIR}/{app.name}/{digest(files, 12)}" if files else None


def options(app: App) -> dict[str, t.Any]:
    """The vassal's options: the role's, with app_uwsgi_options merged over them."""
    return {**role_options(app), **app.s["app_uwsgi_options"]}


def raw_options(app: App) -> tuple[str, ...]:
    """Options whose values uWSGI is to expand: the role's "%k" (one worker per core)."""
    return ("processes",) if options(app).get("processes") == "%k" else ()


def setting_of(app: App, error: Exception) -> str:
    """The setting a RenderError about one option comes from."""
    option = str(error).split("'")[1] if "'" in str(error) else ""
    if option in app.s["app_uwsgi_options"]:
        return "app_uwsgi_options"
    return _SETTING_OF_OPTION.get(option, "app_uwsgi_options")


def merged_plugins(app: App) -> list[str]:
    """Every plugin the merged options load (plugin and plugins are one option, comma lists)."""
    merged = options(app)
    found = []
    for key in ("plugin", "plugins"):
        value = merged.get(key)
        for item in value if isinstance(value, list) else [value]:
            if item:
                found.extend(part.strip() for part in str(item).split(","))
    return found


def render(app: App) -> tuple[dict[str, t.Any] | None, str | None]:
    """({generation, vassal, canary}: the two ini texts), or (None, error)."""
    known = app.host.get("uwsgi_options")
    merged = options(app)
    parts = [merged, environment(app)[1]]
    # The configuration files' digest (not their text), named only when there are some: apps
    # without them keep their generation.
    parts += [config_files.digest_of(app)] if config_files.items(app) else []
    generation = digest(parts, 8)
    try:
        # Its generation (a digest of its options) is in every process title, "APP GENERATION
        # uWSGI worker 1": which configuration a process runs, and when a reload is done.
        vassal = uwsgi_ini(
            {**merged, "procname-prefix-spaced": f"{app.name} {generation}"},
            known_options=known,
            raw=raw_options(app),
        )
        canary_ini = uwsgi_ini(canary_options(app, merged), raw=raw_options(app))
    except RenderError as exc:
        if known is not None and "is not an option" in str(exc):
            return None, (
                f"{exc} ({app.uwsgi['binary']} --help does not list it): check its spelling in"
                " app_uwsgi_options, or load the plugin that provides it."
            )
        return None, f"{setting_of(app, exc)}: {exc}"
    header = "# " + HEADER.format(what=f"Release {app.release}", name=app.name) + "\n"
    texts = {
        "generation": generation,
        "vassal": header + vassal,
        "canary": canary_ini,
    }
    return texts, None


# --- The canary ---------------------------------------------------------------------------------

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


def canary_options(app: App, merged: dict[str, t.Any]) -> dict[str, t.Any]:
    """The canary's options: the vassal's MERGED options, serving on the canary's socket.

    The new release on a socket of its own, as many workers as the service, as it bridges for
    the service while that reloads (nginx's socket links to it meanwhile), logging to its unit.
    Its identity is the service's: a vassal's uid, gid and chown-socket, or the unit's user.
    """
    return {
        **merged,
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


def canary_sandbox(app: App) -> dict[str, t.Any]:
    """The systemd settings the canary runs under: the serving unit's, less its lifecycle.

    An Emperor's canary starts as root, as the Emperor does, and drops to the app's user by the
    vassal's own uid and gid; a unit's canary starts as the app's user, as the unit does.
    """
    settings = units.serving_sandbox(app)[1]
    return {key: value for key, value in settings.items() if key not in _NOT_SANDBOX}


def canary(app: App, *, ini: str, properties: list[str]) -> dict[str, t.Any]:
    """The plan's canary: its INI, and how it starts, under PROPERTIES (canary_sandbox's)."""
    s = app.s
    return {
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
            *[f"--property={setting}" for setting in properties],
            app.uwsgi["binary"],
            "--ini",
            f"{app.release_dir}/canary.ini",
        ],
        "ini": ini,
        "socket": app.canary_socket,
        "unit": f"uwsgi-canary-{app.name}",
    }
