# Copyright: pyops.uwsgi contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The plan of the pyops.uwsgi.nginx role's main entry point: what its tasks decide, in one place.

``make_plan(settings, platform)`` takes the role's settings (its ``nginx_*`` variables, checked
against its argument spec) and this platform's constants (``vars/<distribution>.yml``, named as in
``PLATFORM``). It returns the request for the one read of the host (``host_request``, the arguments
of ``pyops.uwsgi.uwsgi_info``); given that read's answer (``host``), it adds whether apt must
install nginx, whether the distribution's default site must go and whether nginx must be started.

The site entry point's values are role_rules.nginx_site's. Pure: no I/O. The action
``pyops.uwsgi.role_plan`` gathers the settings and calls this.
"""

from __future__ import annotations

from ansible_collections.pyops.uwsgi.plugins.module_utils.uwsgi_role_plan import (
    lacks_packages,
    needs_start,
)

# The platform's constants the plan reads: the role's variable -> the key of PLATFORM.
PLATFORM = {
    "__nginx_packages": "packages",
    "__nginx_sites_enabled": "sites_enabled",
}
SERVICE = "nginx"


def settings_read(with_host: bool) -> tuple[str, ...]:
    """The settings the plan reads. Before the host is read, none: that plan runs under any tag,
    where the role's checks (tagged validate) may not have run."""
    return ("nginx_remove_default_site",) if with_host else ()


def make_plan(settings: dict, platform: dict, *, host: dict | None = None) -> dict:
    """The role's plan; with HOST (pyops.uwsgi.uwsgi_info's answer to host_request), complete."""
    default_site = f"{platform['sites_enabled']}/default"
    plan = {
        # What is there already: apt, the default site's removal and nginx's start run only when
        # needed.
        "host_request": {
            "installed": list(platform["packages"]),
            "paths": [default_site],
            "services": [SERVICE],
        },
        "packages": list(platform["packages"]),
        "default_site": default_site,
    }
    if host is None:
        return plan
    # dpkg lacked one of nginx's packages when the role read the host.
    install = lacks_packages(host.get("installed"))
    found = (host.get("paths") or {}).get(default_site) or {}
    plan.update(
        install=install,
        # A package installed just now brings it.
        remove_default_site=bool(settings["nginx_remove_default_site"])
        and (install or bool(found.get("exists"))),
        start=needs_start(host.get("services"), SERVICE),
    )
    return plan
