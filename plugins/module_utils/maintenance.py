# Copyright: pyops.uwsgi contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Maintenance mode of an nginx site: its rules, and the values its site file is written from.

With maintenance on, the site answers 503 with a page and Retry-After to every client outside the
networks allowed; those still reach the app, the app's health path answers everyone as before, and
the site's files keep being served. The app role hands its app_maintenance* settings to the nginx
role's site (nginx_site_maintenance*), and both check them with these rules, each under its own
names (NGINX_NAMES, APP_NAMES).

Pure: no I/O.
"""

from __future__ import annotations

import html
import re

from ansible_collections.pyops.uwsgi.plugins.module_utils import values

NGINX_NAMES = {
    "maintenance": "nginx_site_maintenance",
    "allowed": "nginx_site_maintenance_allowed",
    "page": "nginx_site_maintenance_page",
    "retry_after": "nginx_site_maintenance_retry_after",
    "health_path": "nginx_site_health_path",
}
APP_NAMES = {
    "maintenance": "app_maintenance",
    "allowed": "app_maintenance_allowed",
    "page": "app_maintenance_page",
    "retry_after": "app_maintenance_retry_after",
    "health_path": "app_health_path",
}
# Where the nginx role writes each site's page (root's, readable by nginx's workers).
PAGE_DIR = "/etc/nginx/pyops-maintenance"
# The URI the 503 is redirected to inside nginx: an exact, internal location (a client asking for
# it gets 404). A URI rather than a named location: nginx then serves the page to a POST as well.
PAGE_URI = "/.pyops-maintenance.html"
RETRY_AFTER_MAX = 86400
# A path nginx can match exactly in a location written without quotes: no query, no spaces,
# quotes, ';', braces, '#' or percent-encoding (nginx matches the decoded path).
HEALTH_PATH = re.compile(r"^/[A-Za-z0-9._~!&()*+,=:@/-]*$")


def health_location(path):
    """The path of a health URL that nginx matches (the part before any query)."""
    return path.split("?", 1)[0]


def allowed_rule(s, n):
    allowed = s[n["allowed"]]
    return (
        all(values.peer_network(item) for item in allowed),
        f"{n['allowed']} takes addresses or networks (CIDR, such as 10.0.0.0/16 or 192.0.2.7;"
        f" not 0.0.0.0/0 or ::/0, which would leave nobody out) that still reach the app during"
        f" maintenance; got {allowed}.",
    )


def retry_after_rule(s, n):
    retry_after = s[n["retry_after"]]
    return (
        1 <= retry_after <= RETRY_AFTER_MAX,
        f"{n['retry_after']} must be 1 to {RETRY_AFTER_MAX} seconds (the Retry-After of the"
        f" maintenance page); got {retry_after}.",
    )


def health_path_rule(s, n, health_path):
    """HEALTH_PATH (as nginx matches it) answers everyone in maintenance: never the home page."""
    return (
        not s[n["maintenance"]]
        or health_path == ""
        or (health_path != "/" and HEALTH_PATH.fullmatch(health_path) is not None),
        f"{n['maintenance']} keeps {n['health_path']} open to everyone, so it must be a path of its"
        " own, such as /health: not / (the home page would stay open), and only letters, digits"
        f" and /._~!&()*+,=:@- (no spaces, quotes, ';', braces, '#' or '%'); got '{health_path}'.",
    )


def page_rule(s, n, found):
    """The page on the controller: FOUND is None when nobody looked (nothing to say)."""
    page = s[n["page"]]
    return (
        page == "" or found is not False,
        f"{n['page']} must be an HTML file on the controller (empty: a short page of the role's);"
        f" there is no file '{page}'.",
    )


def page_file(site_name):
    """Where the site's page is on the host."""
    return f"{PAGE_DIR}/{site_name}.html"


def default_page(retry_after):
    """The short page the site answers with when no page of the user's is given."""
    minutes = max(1, round(retry_after / 60))
    wait = f"{minutes} minute{'s' if minutes > 1 else ''}"
    return (
        "<!DOCTYPE html>\n"
        '<html lang="en">\n'
        '<head><meta charset="utf-8"><title>Down for maintenance</title></head>\n'
        "<body>\n"
        "<h1>Down for maintenance</h1>\n"
        f"<p>This site is being worked on. Please come back in {html.escape(wait)}.</p>\n"
        "</body>\n"
        "</html>\n"
    )


def site(s, variables, health_path):
    """The values the site template writes maintenance mode from (enabled false: nothing but
    where the page is, for the site's removal)."""
    if not s.get(NGINX_NAMES["maintenance"]):
        return {"enabled": False, "page_file": page_file(s["nginx_site_name"])}
    retry_after = s[NGINX_NAMES["retry_after"]]
    return {
        "enabled": True,
        # 1 for a client outside the networks allowed, 0 inside (geo reads $remote_addr, which is
        # the client's once the trusted proxies' X-Forwarded-For was believed).
        "variable": f"${variables}_maintenance",
        "allowed": list(s[NGINX_NAMES["allowed"]]),
        "retry_after": retry_after,
        "page_uri": PAGE_URI,
        "page_file": page_file(s["nginx_site_name"]),
        "page_own": s[NGINX_NAMES["page"]] != "",
        "default_page": default_page(retry_after),
        "health_path": health_path,
    }
