# Copyright: pyops.uwsgi contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Where a check reaches an nginx site from the host itself (values.site_target)."""

from __future__ import annotations

from ansible.errors import AnsibleFilterError
from ansible_collections.pyops.uwsgi.plugins.module_utils.values import site_target


def nginx_site_target(listen, server_names):
    """{"address", "port", "host", "url"} for a site's LISTEN values and SERVER_NAMES."""
    if not isinstance(listen, list) or not isinstance(server_names, list):
        raise AnsibleFilterError(
            "nginx_site_target takes two lists: listen values and server names"
        )
    try:
        return site_target(listen, server_names)
    except ValueError as exc:
        raise AnsibleFilterError(f"nginx_site_target: {exc}") from None


class FilterModule:
    """pyops.uwsgi filters."""

    def filters(self):
        return {"nginx_site_target": nginx_site_target}
