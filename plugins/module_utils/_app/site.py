# Copyright: pyops.uwsgi contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Private (see __init__.py): the app's nginx site, its health check and its diagnosis context.

The site is handed to the pyops.uwsgi.nginx role as its site variables; with app_tls other than
none it takes the app's app_tls_* settings (module_utils/tls.py checks them), and the health
check asks over HTTPS, as a client of the site's name would.

Pure: no I/O.
"""

from __future__ import annotations

import typing as t

from ansible_collections.pyops.uwsgi.plugins.module_utils import maintenance, tls, values
from ansible_collections.pyops.uwsgi.plugins.module_utils._app import units
from ansible_collections.pyops.uwsgi.plugins.module_utils._app.model import App

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


def _statuses(app):
    """The statuses the health check accepts: app_health_status, or any 2xx or 3xx."""
    return list(app.s["app_health_status"]) or list(range(200, 400))


def nginx_site(app: App) -> dict[str, t.Any]:
    """The pyops.uwsgi.nginx role's site variables for the app, with its HTTPS if any."""
    s, root = app.s, app.s["app_root"]
    site = {
        "nginx_site_name": app.name,
        "nginx_site_listen": list(s["app_http_listen"]),
        "nginx_site_server_names": list(s["app_server_names"]),
        # The link to the socket serving (the vassal's, or the canary's during a reload):
        # nginx cannot point anywhere else.
        "nginx_site_uwsgi_pass": f"unix:{app.nginx_socket}",
        "nginx_site_uwsgi_read_timeout": app.read_timeout,
        # The site's limits toward the app agree with the vassal's (module_utils/limits.py).
        "nginx_site_uwsgi_buffer_size": s["app_response_headers_limit"],
        "nginx_site_max_conns": s["app_listen"],
        "nginx_site_static_url": s["app_static_url"],
        "nginx_site_static_dir": f"{root}/current/code/{s['app_static_dir']}"
        if s["app_static_url"]
        else "",
        # The previous release's, through the link a deploy keeps for app_static_bridge_time.
        "nginx_site_static_bridge_dir": f"{root}/previous/code/{s['app_static_dir']}"
        if app.static_bridge_time
        else "",
        "nginx_site_static_bridge_pattern": s["app_static_bridge_pattern"],
        "nginx_site_client_max_body_size": s["app_client_max_body_size"],
        "nginx_site_trusted_proxies": list(s["app_trusted_proxies"]),
        # Maintenance mode: the site alone changes, so switching it reloads nginx, not the app.
        "nginx_site_maintenance": s["app_maintenance"],
        "nginx_site_maintenance_allowed": list(s["app_maintenance_allowed"]),
        "nginx_site_maintenance_page": app.maintenance_page,
        "nginx_site_maintenance_retry_after": s["app_maintenance_retry_after"],
        "nginx_site_health_path": maintenance.health_location(s["app_health_path"]),
        # Shared data served as it is (app_shared_paths with a url), from where it lives.
        "nginx_site_locations": [
            {
                "url": item["url"],
                "dir": f"{s['app_state_dir']}/shared/{item['path']}",
                "internal": item["internal"],
            }
            for item in s["app_shared_paths"]
            if item["url"]
        ],
    }
    if s["app_tls"] != "none":
        site.update({site_key: s[own] for own, site_key in TLS_SITE_SETTINGS.items()})
    if s["app_lb_health_networks"]:
        site.update(lb_health_site(app))
    return site


def lb_health_path(app: App) -> str:
    """The path the load balancer asks: app_lb_health_path, or app_health_path's."""
    return app.s["app_lb_health_path"] or maintenance.health_location(app.s["app_health_path"])


def lb_health_site(app: App) -> dict[str, t.Any]:
    """The site's health URL for load balancers: the app's health request, with the Host the
    deploy's own health check sends."""
    s = app.s
    return {
        "nginx_site_lb_health_networks": list(s["app_lb_health_networks"]),
        "nginx_site_lb_health_path": lb_health_path(app),
        "nginx_site_lb_health_listen": list(s["app_lb_health_listen"]),
        "nginx_site_lb_health_host": health(app)["host"],
        "nginx_site_lb_health_app_uri": s["app_health_path"],
    }


def static_bridge(app: App) -> dict[str, t.Any]:
    """The link to the previous release and the transient timer that removes it.

    A transient timer needs no file and no reload of nginx: when the time is up the link goes,
    and nginx answers 404 as it did before the bridge. A boot loses the timer, so the app's
    tmpfiles.d entry removes the link at boot (units.tmpfiles): after a boot the window has
    passed, or nearly.
    """
    time, link = app.static_bridge_time, f"{app.s['app_root']}/previous"
    unit = f"uwsgi-static-bridge-{app.name}"
    argv = [
        "systemd-run",
        f"--unit={unit}",
        f"--description=Ends the static bridge of {app.name}: removes {link}",
        f"--on-active={time}s",
        "--timer-property=AccuracySec=1s",
        "--collect",
        "--quiet",
        "/bin/rm",
        "-f",
        "--",
        link,
    ]
    return {"time": time, "link": link, "unit": unit, "argv": argv if time else []}


def health(app: App) -> dict[str, t.Any]:
    """How the deploy checks the app through its site: over HTTP, or HTTPS with app_tls."""
    s = app.s
    target = values.site_target(s["app_http_listen"], s["app_server_names"])
    found = {
        "path": s["app_health_path"],
        "timeout": s["app_health_timeout"],
        "host": s["app_health_host"] or target["host"],
        "url": target["url"] + s["app_health_path"],
        "status": _statuses(app),
        # How long a probe queued behind the requests an instance has may wait: as long as
        # nginx waits for an answer (a deploy drains an instance so before it reloads or stops).
        "drain_timeout": app.read_timeout,
    }
    if s["app_tls"] == "none":
        return found
    target = values.site_target(s["app_tls_listen"], s["app_server_names"], scheme="https")
    ca_file = s["app_tls_ca_file"]
    if not ca_file and s["app_tls"] == "self_signed":
        ca_file = tls.paths(app.name, "self_signed")["certificate"]
    found.update(
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
    return found


def diagnose(app: App) -> dict[str, t.Any]:
    """What the diagnosis of a failed deploy needs (filter pyops.uwsgi.uwsgi_diagnose)."""
    s = app.s
    target = values.site_target(s["app_http_listen"], s["app_server_names"])
    return {
        "name": app.name,
        "wsgi_module": s["app_wsgi_module"],
        "wsgi_callable": s["app_wsgi_callable"],
        "python_version": app.python,
        "requirements_file": s["app_requirements_file"],
        "socket": app.socket,
        "nginx_socket": app.nginx_socket,
        "web_user": app.web_user,
        "plugin": app.uwsgi["plugin"],
        "root": s["app_root"],
        "unit": units.serving_sandbox(app)[0],
        "health_path": s["app_health_path"],
        "health_host": s["app_health_host"] or target["host"],
        "health_status": _statuses(app),
        "lazy_apps": str(s["app_lazy_apps"]),
    }
