# Copyright: pyops.uwsgi contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Which host of a play runs an app's once-scoped release commands and its post-release commands.

Both are the same host: the first host, in the play's inventory order, that carries the app and has
not failed. Post-release commands are due only once every host of the play that carries the app
serves the release it deployed this run, one of them a new one.
"""

from __future__ import annotations

from ansible.errors import AnsibleFilterError
from ansible_collections.pyops.uwsgi.plugins.module_utils._app import units


def _hosts(hosts, name):
    if not isinstance(hosts, (list, tuple)) or not all(isinstance(h, str) for h in hosts):
        raise AnsibleFilterError(f"release_host: {name} must be a list of host names")
    return list(hosts)


def _carriers(app, hosts, carried):
    """The HOSTS whose list in CARRIED (host: app names) holds APP, in HOSTS' order."""
    if not isinstance(carried, dict):
        raise AnsibleFilterError("release_host: carried must map each host to its apps' names")
    return [host for host in hosts if app in (carried.get(host) or [])]


def release_host(hosts, app, active, carried):
    """The first of HOSTS (the play's, in inventory order) that carries APP and is in ACTIVE (the
    hosts that have not failed), or "" when none does."""
    hosts, active = _hosts(hosts, "hosts"), set(_hosts(active, "active"))
    return next((host for host in _carriers(app, hosts, carried) if host in active), "")


def release_host_apps(apps, host, hosts, active, carried):
    """The APPS (names) whose release_host is HOST, in APPS' order."""
    if not isinstance(apps, list):
        raise AnsibleFilterError("release_host_apps: apps must be a list of app names")
    return [app for app in apps if release_host(hosts, app, active, carried) == host]


def post_release_host(hosts, app, active, carried, deployed):
    """The host that runs APP's post-release commands now, or "" when they are not due.

    DEPLOYED maps each host to what its deploy of this run recorded, by app name: {"serves": the
    deploy ended with the release serving, "switched": it switched to a new release}. Due when
    every host of HOSTS that carries APP is in ACTIVE and serves, and one of them switched.
    """
    hosts, active = _hosts(hosts, "hosts"), set(_hosts(active, "active"))
    if not isinstance(deployed, dict):
        raise AnsibleFilterError("post_release_host: deployed must map each host to its records")
    carriers = _carriers(app, hosts, carried)
    records = [(deployed.get(host) or {}).get(app) for host in carriers]
    due = (
        bool(carriers)
        and all(host in active for host in carriers)
        and all(record and record.get("serves") for record in records)
        and any(record.get("switched") for record in records)
    )
    return release_host(hosts, app, sorted(active), carried) if due else ""


def once_release_apps(apps, commands=None, scope="every_host"):
    """The names of APPS (items of uwsgi_apps) with once-scoped release commands, an item's own
    app_release_commands and app_release_commands_scope over COMMANDS and SCOPE (the host's)."""
    if not isinstance(apps, list) or not all(isinstance(item, dict) for item in apps):
        raise AnsibleFilterError("once_release_apps: apps must be a list of dicts (uwsgi_apps)")
    names = []
    for item in apps:
        own = item.get("app_release_commands", commands or [])
        default = item.get("app_release_commands_scope", scope)
        if not isinstance(own, list) or default not in units.SCOPES:
            # The app's own check refuses it, naming the variable, when the deploy plans it.
            continue
        if units.scoped(units.phase_items(own, default)[0], "once"):
            names.append(item.get("app_name"))
    return names


class FilterModule:
    """pyops.uwsgi filters."""

    def filters(self):
        return {
            "release_host": release_host,
            "release_host_apps": release_host_apps,
            "post_release_host": post_release_host,
            "once_release_apps": once_release_apps,
        }
