# Copyright: pyops.uwsgi contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Private (see __init__.py): an app's plan assembled from its pieces, in the shape of schema.Plan.

``render`` writes the texts (the vassal and the canary, the units, the EnvironmentFile, the
workers' and jobs' units), or says which setting broke one; ``assemble`` puts the plan together,
section by section.

Pure: no I/O.
"""

from __future__ import annotations

import posixpath
import typing as t

from ansible_collections.pyops.uwsgi.plugins.module_utils import env_file, host_paths, pip_settings
from ansible_collections.pyops.uwsgi.plugins.module_utils._app import (
    config_files,
    run,
    site,
    units,
    vassal,
)
from ansible_collections.pyops.uwsgi.plugins.module_utils._app.model import (
    ENV_DIR,
    NOLOGIN,
    RELEASES_REGISTRY,
    SERVICE_INI_DIR,
    UNIT_DIR,
    App,
)
from ansible_collections.pyops.uwsgi.plugins.module_utils._app.schema import Plan
from ansible_collections.pyops.uwsgi.plugins.module_utils.render import (
    RenderError,
    systemd_properties,
)


def render(app: App) -> tuple[dict[str, t.Any] | None, str | None]:
    """The texts of the vassal, the canary and the units, or (None, error)."""
    texts, error = vassal.render(app)
    if error:
        return None, error
    try:
        texts["units"] = {
            "service": units.service_unit(app),
            "socket": units.socket_unit(app) if app.s["app_socket_activation"] else "",
        }
        texts["sandbox"] = systemd_properties(vassal.canary_sandbox(app))
    except RenderError as exc:
        return None, f"app_systemd_options: {exc}"
    try:
        texts["environment"] = units.environment(app)
    except env_file.EnvFileError as exc:
        return None, f"app_env: {exc}"
    try:
        texts["workers"] = units.workers(app)
    except RenderError as exc:
        return None, f"app_workers, app_jobs or app_systemd_options: {exc}"
    return texts, None


def assemble(app: App, texts: dict[str, t.Any]) -> Plan:
    """The plan of APP, from the TEXTS render() made of it."""
    s = app.s
    return {
        "name": app.name,
        "user": app.user,
        "group": app.group,
        "shell": NOLOGIN,
        # Its GECOS: how a later run knows the account is this app's (host_paths.account_problem).
        "comment": host_paths.ACCOUNT_MARKER.format(name=app.name),
        "web_user": app.web_user,
        "supervisor": s["app_supervisor"],
        "socket_activation": s["app_socket_activation"],
        "python": {"version": app.python, "interpreter": app.interpreter},
        "uwsgi_binary": app.uwsgi["binary"],
        "source": _source(app),
        "release": _release(app),
        "paths": _paths(app),
        "directories": app.directories(),
        # What an env line cannot carry: files of uWSGI's envdir, one per variable (no envdir: {}).
        "envdir": {
            "root": f"{ENV_DIR}/{app.name}",
            "path": vassal.envdir_path(app) or "",
            "files": vassal.environment(app)[1],
        },
        "tmpfiles": units.tmpfiles(app),
        "vassal": {"generation": texts["generation"], "text": texts["vassal"]},
        "canary": vassal.canary(app, ini=texts["canary"], properties=texts["sandbox"]),
        "unit": {
            "name": app.unit,
            "dir": UNIT_DIR,
            "service": texts["units"]["service"],
            "socket": texts["units"]["socket"],
        },
        # journalctl's selection of the app's log.
        "journal": app.supervisor["journal"],
        "nginx_site_enabled": s["app_nginx_site"],
        "nginx_site": site.nginx_site(app),
        "static_bridge": site.static_bridge(app),
        "health": site.health(app),
        "diagnose": site.diagnose(app),
        # Seconds to wait for the app's processes to leave a supervisor.
        "stop_timeout": s["app_worker_reload_mercy"] + 10,
        # app_env for systemd: the app's commands, workers and jobs read it.
        "environment": texts["environment"],
        # Directories of app_shared_paths (created with the others, in directories), linked into
        # each release's code.
        "shared": {"paths": _shared_paths(app)},
        # app_config_files: written under config/DIGEST, linked through config/current.
        "config": config_files.plan(app),
        # The entry point check, the project's install, build and release commands.
        "phases": units.phases(app),
        "workers": texts["workers"],
        # pyops-run's record of the app: a command run as the app, by hand or from a task.
        "run": run.run(app),
    }


def _source(app):
    s = app.s
    return {
        "src_dir": app.src_dir,
        "git_repo": s["app_git_repo"],
        "git_version": s["app_git_version"],
        "git_dir": f"{s['app_root']}/repo",
        "exclude": list(s["app_src_exclude"]),
    }


def _release(app):
    s, code = app.s, app.code
    return {
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
        "requirements": f"{code}/{s['app_requirements_file']}"
        if s["app_requirements_file"]
        else "",
        "pip_packages": list(s["app_pip_packages"]),
        "pip_environment": pip_settings.environment("app", s),
        "keep": s["app_keep_releases"],
        # A converge may deploy over a rollback (state.held otherwise).
        "deploy_rolled_back": s["app_deploy_rolled_back"],
    }


def _paths(app):
    root = app.s["app_root"]
    return {
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
        # Written by a rollback, removed by the next deploy: the release rolled back to, and those
        # it replaced, which a converge does not deploy again unless told (state.held).
        "rolled_back": f"{root}/rolled-back.json",
        # Where pyops-releases finds the app (its root), and the local fact pyops_releases.
        "releases_registry": f"{RELEASES_REGISTRY}/{app.name}.json",
    }


def _shared_paths(app):
    code, s = app.code, app.s
    return [
        {
            "path": item["path"],
            "link": f"{code}/{item['path']}",
            "parent": posixpath.dirname(f"{code}/{item['path']}"),
            "target": f"{s['app_state_dir']}/shared/{item['path']}",
        }
        for item in s["app_shared_paths"]
    ]
