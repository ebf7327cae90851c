# Copyright: pyops.uwsgi contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Private (see __init__.py): every rule of an app's settings, by name, in the order they speak.

Each rule is a function of (app, controller readings) that yields (ok, message); a broken rule's
message names the variable and the fix. A rule yields one pair, but for three: ``state directory``
yields none without app_state_dir, ``site TLS`` none with app_tls none (it yields tls.rules'
pairs, which the nginx role's sites share), ``env values carried`` one per app_env value that
cannot reach the app. The names are those of the unit tests' table of rules
(tests/unit/plugins/module_utils/test_app_plan.py RULES), which has a bad and a good case for each.

Pure: no I/O.
"""

from __future__ import annotations

from ansible_collections.pyops.uwsgi.plugins.module_utils._app import rules_app as a
from ansible_collections.pyops.uwsgi.plugins.module_utils._app import rules_release as r
from ansible_collections.pyops.uwsgi.plugins.module_utils._app import rules_serving as v
from ansible_collections.pyops.uwsgi.plugins.module_utils._app.model import App, Checks, Rule

RULES: dict[str, Rule] = {
    # Who the app is.
    "name": a.name_form,
    "system names": a.system_names,
    "app name not the collection's or the system's": a.name_not_taken("app_name"),
    "app user not the system's": a.name_not_taken("app_user"),
    "app group not the system's": a.name_not_taken("app_group"),
    "own identity": a.own_identity,
    "not in nginx's group": a.not_in_web_group,
    # What the host has of it (module_utils/app_plan.py host_request).
    "host components": a.host_components,
    "existing account": a.existing_account,
    # Its code.
    "one source": a.one_source,
    "source directory": a.source_directory,
    "module name": a.module_name,
    "callable name": a.callable_name,
    "entry module exists": a.entry_module_exists,
    "git version": a.git_version,
    "exclude names": a.exclude_names,
    "keep releases": a.keep_releases,
    "root": a.place("app_root"),
    "state directory": a.place("app_state_dir"),
    # Its Python.
    "python version form": a.python_version_form,
    "python served": a.python_served,
    "interpreter installed": a.interpreter_installed,
    "pitfall 003": a.one_python_plugin,
    "virtualenv options": a.virtualenv_options,
    "requirements file": a.requirements_file,
    "pip packages": a.pip_packages,
    "pip index": a.pip_setting(0),
    "pip CA bundle": a.pip_setting(1),
    # uWSGI's options and the environment.
    "reserved options": v.reserved_options,
    "buffer size": v.buffer_size,
    "processes and threads": v.processes_and_threads,
    "memory per process": v.memory_per_process,
    "harakiri below read timeout": v.harakiri_below_read_timeout,
    "listen within somaxconn": v.listen_within_somaxconn,
    "recycling": v.recycling,
    "stats group": v.stats_group,
    "env names": v.env_names,
    "env that configures uWSGI": v.env_not_configuring,
    "env values carried": v.env_values_carried,
    # The socket and the unit.
    "socket path": v.socket_path,
    "socket directory of its own": v.socket_directory,
    "activation needs systemd": v.activation_needs_systemd,
    "private TCP endpoint": v.private_tcp_endpoint,
    "TCP needs the socket unit": v.tcp_needs_socket_unit,
    "TCP peers": v.tcp_peers,
    "unit settings": v.unit_settings,
    # The site, its health check and its HTTPS.
    "health timeout": v.health_timeout,
    "health host": v.health_host,
    "health statuses": v.health_statuses,
    "health path": v.health_path,
    "server names": v.server_names,
    "listen values": v.listen_values,
    "trusted proxies": v.trusted_proxies,
    "maintenance allowed": v.maintenance_allowed,
    "maintenance retry after": v.maintenance_retry_after,
    "maintenance health path": v.maintenance_health_path,
    "maintenance page": v.maintenance_page,
    "load balancer networks": v.lb_health_networks,
    "load balancer path": v.lb_health_path,
    "load balancer app path": v.lb_health_app_path,
    "load balancer listen": v.lb_health_listen,
    "load balancer address": v.lb_health_address,
    "load balancer default server": v.lb_health_default_server,
    "body size": v.body_size,
    "response headers limit": v.response_headers_limit,
    "limits agree": v.limits_agree,
    "static location": v.static_location,
    "static bridge": v.static_bridge,
    "site TLS": v.site_tls,
    "health check CA": v.health_check_ca,
    # The release's commands.
    "build commands": r.phase_commands("app_build_commands"),
    "release commands": r.phase_commands("app_release_commands", scoped=True),
    "post-release commands": r.phase_commands("app_post_release_commands"),
    "command timeout": r.command_timeout,
    # Configuration files.
    "config files inside the code": r.config_inside_code,
    "config files keep the code": r.config_keep_code,
    "config files beside shared paths": r.config_beside_shared,
    "config files once": r.config_once,
    "config file source": r.config_source,
    "config file modes": r.config_modes,
    # Shared data.
    "shared paths inside the code": r.shared_inside_code,
    "shared paths apart": r.shared_apart,
    "shared paths keep the code": r.shared_keep_code,
    "shared paths need a state directory": r.shared_need_state_dir,
    "shared urls": r.shared_urls,
    "shared internal needs a url": r.shared_internal_needs_url,
    "shared internal apart": r.shared_internal_apart,
    "shared url needs the site": r.shared_url_needs_site,
    # Workers and jobs.
    "worker names": r.unit_names("app_workers"),
    "worker commands": r.unit_commands("app_workers"),
    "job names": r.unit_names("app_jobs"),
    "job commands": r.unit_commands("app_jobs"),
    "worker count": r.worker_count,
    "job calendar": r.job_calendar,
}
# The rules that may yield no pair or several (see the module's docstring); the others yield one.
VARIABLE = ("state directory", "site TLS", "env values carried")


def checks(app: App, controller: dict) -> Checks:
    """(ok, message) of every rule of the app's settings, in RULES' order."""
    for rule in RULES.values():
        yield from rule(app, controller)


def errors(app: App, controller: dict) -> list[str]:
    """The messages of the rules the app's settings break, in RULES' order."""
    return [message for ok, message in checks(app, controller) if not ok]
