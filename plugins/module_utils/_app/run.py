# Copyright: pyops.uwsgi contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Private (see __init__.py): what pyops-run needs to run a command as the app.

The record ``/etc/uwsgi/run/APP.json`` that ``module_utils/run_command.py`` (installed as
``/usr/local/bin/pyops-run``) reads: where the app's releases are and ``current``, the sandbox of
its release commands as systemd-run properties (its user and group, its unit's settings, the
EnvironmentFile of app_env), and the names a caller may not set (app_env's, which its
EnvironmentFile would override, and the virtualenv's PATH and VIRTUAL_ENV).

Pure: no I/O.
"""

from __future__ import annotations

import json
import typing as t

from ansible_collections.pyops.uwsgi.plugins.module_utils import run_command, sandbox
from ansible_collections.pyops.uwsgi.plugins.module_utils._app import units
from ansible_collections.pyops.uwsgi.plugins.module_utils._app.model import App


def record(app: App) -> dict[str, t.Any]:
    """The record of APP that pyops-run reads."""
    root = app.s["app_root"]
    properties = sandbox.run_properties(units.phases(app)["release"]["sandbox"])
    properties.append(f"EnvironmentFile={units.environment_file(app)}")
    return {
        "version": run_command.RECORD_VERSION,
        "app": app.name,
        "current": f"{root}/current",
        "releases": f"{root}/releases",
        "system_path": sandbox.SYSTEM_PATH,
        "properties": properties,
        "reserved": sorted({*app.s["app_env"], *sandbox.environment("")}),
    }


def run(app: App) -> dict[str, str]:
    """The plan's section run: pyops-run's path, the record's directory, file and text."""
    return {
        "command": run_command.COMMAND,
        "dir": run_command.RECORD_DIR,
        "file": run_command.record_path(app.name),
        "text": json.dumps(record(app), indent=2, sort_keys=True) + "\n",
    }
