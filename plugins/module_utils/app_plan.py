# Copyright: pyops.uwsgi contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The plan of one app: every value the pyops.uwsgi.app role writes or checks, decided in one place.

``make_plan(settings, ...)`` takes the app's settings (the role's ``app_*`` variables, already
checked against its argument spec), the uwsgi role's record of the host, the few readings of the
host and the controller, and the digest of the release's source. It returns ``{"errors": [...]}``
with one message per broken rule (each naming the variable and the fix), or ``{"errors": [],
"plan": {...}}`` with the user and group, every path, the vassal's options and ini text, the canary,
the unit files, the tmpfiles entry, the nginx site, the health check and the diagnosis context.

This module is the front; the work is done in the private package ``_app``, one concern a module:
``model`` (the app resolved: identity, paths, supervisor, sizing), ``rules`` (the table of rules by
name), ``vassal`` (the vassal and the canary), ``units`` (systemd units and sandbox, workers, jobs
and phases), ``site`` (nginx site, health check, diagnosis), ``schema`` (the plan's shape, field
by field) and ``assembly`` (a plan of that shape made from the others).

Pure: no I/O. The action plugin pyops.uwsgi.app_plan gathers the readings and calls this.
"""

from __future__ import annotations

import typing as t

from ansible_collections.pyops.uwsgi.plugins.module_utils._app import assembly, rules, rules_app
from ansible_collections.pyops.uwsgi.plugins.module_utils._app.model import (
    APPS_MEMORY_SHARE,
    CANARY_SOCKET,
    DEFAULT_RUN_DIR,
    ENV_DIR,
    HEADER,
    NGINX_SOCKET,
    NOLOGIN,
    PROCESSES_PER_CPU,
    SERVICE_INI_DIR,
    UNIT_DIR,
    UNIX_SOCKET_BYTES,
    App,
    digest,
    entry_module_paths,
    help_request,
    maintenance_page,
    python_version,
    release_id,
    served_by,
    src_dir,
    supervised_by,
)
from ansible_collections.pyops.uwsgi.plugins.module_utils._app.rules_app import (
    VIRTUALENV_OPTIONS,
)
from ansible_collections.pyops.uwsgi.plugins.module_utils._app.rules_serving import (
    RESERVED_OPTIONS,
    RESERVED_UNIT_SETTINGS,
)
from ansible_collections.pyops.uwsgi.plugins.module_utils._app.site import (
    APP_TLS_NAMES,
    TLS_SITE_SETTINGS,
)

__all__ = [
    "APPS_MEMORY_SHARE",
    "APP_TLS_NAMES",
    "CANARY_SOCKET",
    "DEFAULT_RUN_DIR",
    "ENV_DIR",
    "HEADER",
    "NGINX_SOCKET",
    "NOLOGIN",
    "PROCESSES_PER_CPU",
    "RESERVED_OPTIONS",
    "RESERVED_UNIT_SETTINGS",
    "SERVICE_INI_DIR",
    "TLS_SITE_SETTINGS",
    "UNIT_DIR",
    "UNIX_SOCKET_BYTES",
    "VIRTUALENV_OPTIONS",
    "entry_module_paths",
    "help_request",
    "host_request",
    "maintenance_page",
    "make_plan",
    "python_version",
    "release_id",
    "served_by",
    "src_dir",
    "supervised_by",
]

_WEB = {"web_user": "www-data", "web_group": "www-data"}
# For the unit tests: the app resolved, every rule's (ok, message), the digest that names things.
_App = App
_rules = rules.checks
_digest = digest


def make_plan(
    settings: dict[str, t.Any],
    *,
    record: dict[str, t.Any] | None = None,
    uwsgi_settings: dict[str, t.Any] | None = None,
    host: dict[str, t.Any] | None = None,
    controller: dict[str, t.Any] | None = None,
    platform: dict[str, t.Any] | None = None,
    source: str | None = None,
    release: str | None = None,
) -> dict[str, t.Any]:
    """The app's plan, or the errors that stop it; see the module docstring. RELEASE, a kept
    release's name, plans that release instead of the one SOURCE builds (a rollback)."""
    controller = controller or {}
    app = App(
        settings,
        record=record,
        uwsgi_settings=uwsgi_settings,
        host=host,
        platform=platform or _WEB,
        source=source,
        playbook_dir=controller.get("playbook_dir", ""),
        templates=controller.get("config_templates"),
        release=release,
    )
    errors = rules.errors(app, controller)
    if errors:
        return {"errors": errors}
    texts, error = assembly.render(app)
    if error:
        return {"errors": [error]}
    return {"errors": [], "plan": assembly.assemble(app, texts)}


def host_request(
    settings: dict[str, t.Any],
    *,
    record: dict[str, t.Any] | None = None,
    uwsgi_settings: dict[str, t.Any] | None = None,
    platform: dict[str, t.Any] | None = None,
) -> dict[str, list[str]]:
    """What pyops.uwsgi.uwsgi_info reads for the host rules: every existing component of the app's
    directories (paths), the entries of its root (directories), its user and group."""
    app = App(
        settings,
        record=record,
        uwsgi_settings=uwsgi_settings,
        host={},
        platform=platform or _WEB,
        source=None,
        playbook_dir="",
    )
    return rules_app.host_request(app)
