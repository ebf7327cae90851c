# Copyright: pyops.uwsgi contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Private (see __init__.py): the app's systemd units and sandbox, its workers, jobs and phases.

The app's own unit (app_supervisor systemd) and its socket unit, the tmpfiles entry of its runtime
directories, the sandbox every process of the app runs under (the unit serving it, the release's
commands, its workers and jobs), the units of app_workers and app_jobs, and app_env as systemd's
EnvironmentFile.

Pure: no I/O.
"""

from __future__ import annotations

import posixpath
import typing as t

from ansible_collections.pyops.uwsgi.plugins.module_utils import env_file, sandbox
from ansible_collections.pyops.uwsgi.plugins.module_utils._app.model import (
    ENV_DIR,
    HEADER,
    UNIT_DIR,
    App,
    digest,
)
from ansible_collections.pyops.uwsgi.plugins.module_utils.render import systemd_unit

# --- The app's own unit -------------------------------------------------------------------------


def service_settings(app: App) -> dict[str, t.Any]:
    """[Service] of the app's own unit: identity, lifecycle, then the sandbox."""
    return {**_lifecycle(app), **_sandbox(app), **app.s["app_systemd_options"]}


def _lifecycle(app):
    """Who the app's unit runs as, how it starts, reloads and stops."""
    s = app.s
    return {
        "Type": "notify",
        "User": app.user,
        "Group": app.group,
        "ExecStart": f"{app.uwsgi['binary']} --ini {app.supervisor['config']}",
        # SIGHUP: graceful reload of every worker, reading the configuration again.
        "ExecReload": "/bin/kill -HUP $MAINPID",
        # uWSGI 2.0 takes SIGTERM and SIGQUIT as reload or brutal kill; "q" on its FIFO lets
        # workers finish. systemd expands $1, hence $$1.
        "ExecStop": (
            '/bin/sh -c \'kill -0 "$$1" 2>/dev/null || exit 0;'
            f" echo q > /run/{app.unit}/master.fifo;"
            ' while kill -0 "$$1" 2>/dev/null; do sleep 0.2; done\' stop $MAINPID'
        ),
        "KillSignal": "SIGINT",
        "TimeoutStopSec": s["app_worker_reload_mercy"] + 15,
        "Restart": "on-failure",
        "RestartSec": 1,
        "SyslogIdentifier": f"uwsgi-{app.name}",
        "RuntimeDirectory": app.unit,
        "RuntimeDirectoryMode": "0700",
    }


def _sandbox(app):
    """What the app's unit may see and do; its commands, workers and jobs take it too."""
    s = app.s
    paths = [app.runtime_dir]
    paths += [app.stats_dir] if s["app_stats"] else []
    paths += [s["app_state_dir"]] if s["app_state_dir"] else []
    outbound = s["app_systemd_outbound_network"]
    return {
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


def serving_sandbox(app: App):
    """(unit, systemd settings) of what runs the app: the Emperor's unit, or its own."""
    if app.emperor:
        service = app.record.get("emperor_service", "uwsgi-emperor")
        if not app.by_plugin:
            service += "-pip" + app.python.replace(".", "")
        return f"{service}.service", dict(app.record.get("emperor_sandbox") or {})
    return f"{app.unit}.service", service_settings(app)


def service_unit(app: App):
    unit = {
        "Description": f"uWSGI app {app.name}",
        "Documentation": "man:uwsgi(1)",
        "After": "network.target",
    }
    if app.s["app_socket_activation"]:
        unit["Requires"] = f"{app.unit}.socket"
        unit["After"] = ["network.target", f"{app.unit}.socket"]
    header = (
        HEADER.format(what="Unit", name=app.name) + "\n"
        f"`systemctl reload {app.unit}` reloads its workers gracefully; "
        f"`systemd-analyze security {app.unit}` shows what the sandbox allows."
    )
    sections = {
        "Unit": unit,
        "Service": service_settings(app),
        "Install": {"WantedBy": "multi-user.target"},
    }
    return systemd_unit(sections, header)


def socket_unit(app: App):
    s = app.s
    listen = {
        "ListenStream": app.socket,
        "SocketUser": app.user,
        "SocketGroup": app.web_group,
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
                "ListenStream": [app.socket, s["app_tcp_socket"]],
                "FreeBind": True,
                "NoDelay": True,
                "IPAddressDeny": "any",
                "IPAddressAllow": list(s["app_tcp_allowed_peers"]),
            }
        )
    header = (
        HEADER.format(what="Socket unit", name=app.name) + "\n"
        "systemd holds the socket: it exists before uWSGI starts and stays while uWSGI\n"
        "restarts (requests wait in its backlog).\n"
        "nginx's group may connect, nobody else."
    )
    sections = {
        "Unit": {"Description": f"Socket of uWSGI app {app.name}"},
        "Socket": listen,
        "Install": {"WantedBy": "sockets.target"},
    }
    return systemd_unit(sections, header)


def tmpfiles(app: App):
    lines = [
        "# " + HEADER.format(what="Runtime directories", name=app.name),
        "# The app may create its socket here, nginx's group may reach it, nobody else may",
        "# look inside. Set-group-ID: what the app creates here belongs to nginx's group.",
        f"d {app.runtime_dir} 2750 {app.user} {app.web_group} -",
        "# nginx connects through this link to the socket serving.",
        f"L {app.nginx_socket} - - - - {app.socket}",
    ]
    if app.s["app_stats"]:
        lines += [
            f"# Its stats socket: for app_stats_group ({app.s['app_stats_group']}) alone.",
            f"d {posixpath.dirname(app.stats_dir)} 0755 root root -",
            f"d {app.stats_dir} 2750 {app.user} {app.s['app_stats_group']} -",
        ]
    if app.static_bridge_time:
        lines += [
            "# A boot ends a static bridge: its timer does not outlive the boot.",
            f"r {app.s['app_root']}/previous",
        ]
    return "\n".join(lines) + "\n"


# --- Release phases, workers and jobs ------------------------------------------------------


def command_problem(command):
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


SCOPES = ("once", "every_host")


def phase_items(value, default_scope=None):
    """([{command, creates}], [problem]) of app_build_commands or app_post_release_commands.

    With DEFAULT_SCOPE (app_release_commands), each item also takes scope (once, every_host), which
    defaults to DEFAULT_SCOPE, and carries it.
    """
    items, problems = [], []
    if value and all(isinstance(item, str) and item.split() == [item] for item in value):
        problems.append(
            "it takes a list of commands, each a list of arguments: write"
            f" [[{', '.join(value)}]] for one command"
        )
        return items, problems
    keys = {"command", "creates", *(["scope"] if default_scope else [])}
    for index, item in enumerate(value, 1):
        command, creates, scope = item, "", default_scope
        if isinstance(item, dict):
            command, creates = item.get("command"), item.get("creates", "")
            scope = item.get("scope", default_scope)
            unknown = sorted(set(item) - keys)
            if unknown:
                problems.append(
                    f"command {index} has keys {unknown}; it takes {' and '.join(sorted(keys))}"
                )
            if not isinstance(creates, str) or "\x00" in creates:
                problems.append(f"command {index}: creates must be a path; got {creates!r}")
                creates = ""
            if default_scope and scope not in SCOPES:
                problems.append(
                    f"command {index}: scope must be once (one host of the play, before any"
                    f" switches) or every_host; got {scope!r}"
                )
        problem = command_problem(command)
        if problem:
            problems.append(f"command {index}: {problem}")
        else:
            found = {"command": [str(arg) for arg in command], "creates": creates}
            items.append({**found, "scope": scope} if default_scope else found)
    return items, problems


def scoped(items, scope):
    """The {command, creates} of ITEMS (phase_items with a scope) whose scope is SCOPE, in order."""
    return [
        {"command": item["command"], "creates": item["creates"]}
        for item in items
        if item["scope"] == scope
    ]


def _as_list(value):
    if value is None:
        return []
    return list(value) if isinstance(value, (list, tuple)) else [value]


def _app_writable(app, service):
    """What the app's unit may write, less its uWSGI runtime and stats directories."""
    paths = _as_list(service.get("ReadWritePaths"))
    return [path for path in paths if path not in (app.runtime_dir, app.stats_dir)]


def phases(app):
    s = app.s
    venv = f"{app.release_dir}/venv"
    service = service_settings(app)
    writable = _app_writable(app, service)
    build, _problems = phase_items(s["app_build_commands"])
    release, _problems = phase_items(
        s["app_release_commands"], s.get("app_release_commands_scope") or "every_host"
    )
    post_release, _problems = phase_items(s.get("app_post_release_commands", []))
    release_sandbox = sandbox.settings(service, writable)
    return {
        "chdir": app.code,
        "env": sandbox.environment(venv),
        "environment_file": environment_file(app),
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
        # Once-scoped commands run on one host of the play before any host switches; the others on
        # every host, after them (docs/release-phases.md, Scopes).
        "release": {
            "commands": scoped(release, "every_host"),
            "once": scoped(release, "once"),
            "sandbox": release_sandbox,
        },
        "post_release": {"commands": post_release, "sandbox": release_sandbox},
    }


def _unit_service(app, service, command, kind, name):
    """[Service] of a worker or job: the app's sandbox, the release's code and environment."""
    venv = f"{app.release_dir}/venv"
    kept = sandbox.settings(service, _app_writable(app, service))
    user_env = _as_list(kept.pop("Environment", None))
    user_files = _as_list(kept.pop("EnvironmentFile", None))
    own_file = environment_file(app)
    return {
        "Type": "exec" if kind == "worker" else "oneshot",
        "ExecStart": sandbox.unit_exec(command),
        # The release this unit was written for, not current: a running worker keeps importing
        # from its own release while the next one is switched in, until it is restarted.
        "WorkingDirectory": sandbox.specifiers(app.code),
        "Environment": [*user_env, *sandbox.unit_environment(sandbox.environment(venv))],
        "EnvironmentFile": [*[path for path in user_files if path != own_file], own_file],
        "SyslogIdentifier": f"{app.name}-{kind}-{name}",
        **(
            {"Restart": "always", "RestartSec": 2}
            if kind == "worker"
            else {"TimeoutStartSec": app.s["app_command_timeout"]}
        ),
        **kept,
    }


def workers(app: App) -> dict[str, t.Any]:
    """The unit files of app_workers and app_jobs, the instances and timers to run."""
    service = service_settings(app)
    units, instances, timers = [], [], []
    for item in app.s["app_workers"]:
        name = f"{app.unit}.worker-{item['name']}"
        units.append({"name": f"{name}@.service", "text": _worker_unit(app, service, item)})
        instances += [f"{name}@{number}.service" for number in range(1, item["count"] + 1)]
    for item in app.s["app_jobs"]:
        name = f"{app.unit}.job-{item['name']}"
        service_text, timer_text = _job_units(app, service, item, name)
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


def _worker_unit(app, service, item):
    """The template unit of one worker of app_workers (an instance per count)."""
    return systemd_unit(
        {
            "Unit": {
                "Description": f"{app.name} worker {item['name']} %i",
                "After": "network.target",
            },
            "Service": _unit_service(app, service, item["command"], "worker", item["name"]),
            "Install": {"WantedBy": "multi-user.target"},
        },
        HEADER.format(what=f"Worker {item['name']} (release {app.release})", name=app.name),
    )


def _job_units(app, service, item, name):
    """(service unit, timer unit) of one job of app_jobs."""
    service_text = systemd_unit(
        {
            "Unit": {"Description": f"{app.name} job {item['name']}"},
            "Service": _unit_service(app, service, item["command"], "job", item["name"]),
        },
        HEADER.format(what=f"Job {item['name']} (release {app.release})", name=app.name),
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
        HEADER.format(what=f"Timer of job {item['name']}", name=app.name),
    )
    return service_text, timer_text


def environment_file(app):
    """The app's EnvironmentFile, named after its content: what a worker or job running now reads
    is never rewritten, so one that restarts after a failed deploy keeps the environment of its
    own release."""
    return f"{ENV_DIR}/{app.name}.{digest(app.s['app_env'], 12)}.env"


def environment(app):
    """The app's environment as a systemd EnvironmentFile (root:APP 0640)."""
    header = (
        HEADER.format(what="Environment (app_env)", name=app.name)
        + "\nRead by systemd for the app's commands, workers and jobs; values byte for byte."
    )
    return {
        "dir": ENV_DIR,
        "file": environment_file(app),
        "pattern": f"{app.name}.*.env",
        "text": env_file.environment_file(app.s["app_env"], header),
    }
