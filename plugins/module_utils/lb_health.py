# Copyright: pyops.uwsgi contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""A load balancer's health URL on an nginx site: its rules, and the values its server is from.

A load balancer (an AWS target group's health check, among others) asks each host by its address,
with the address (or nothing the site names) as Host: a strict app (Django's ALLOWED_HOSTS) answers
400 and the host is taken out. With networks declared, the site gets a server of its own that is the
default server of its ports, so a request whose Host names none of the site's names lands there. It
answers one exact path, GET or HEAD only, to those networks alone (others 403), and 404 to any other
path; it passes the app a fixed health request (its health path, a Host the app serves, no header or
body of the client's), so the app's host check stays strict and the URL proxies nothing else.

A site behind a load balancer keeps idle connections open longer than the load balancer does
(limits.keepalive_timeout): nginx closing one first would meet a request the load balancer sent on
it, and answer it with nothing (the load balancer's 502).

The app role hands its app_lb_health_* settings to the nginx role's site (nginx_site_lb_health_*),
and both check them with these rules, each under its own names (NGINX_NAMES, APP_NAMES).

Pure: no I/O.
"""

from __future__ import annotations

import re

from ansible_collections.pyops.uwsgi.plugins.module_utils import limits, maintenance, values

NGINX_NAMES = {
    "networks": "nginx_site_lb_health_networks",
    "path": "nginx_site_lb_health_path",
    "listen": "nginx_site_lb_health_listen",
    "site_listen": "nginx_site_listen",
    "tls": "nginx_site_tls",
    "tls_listen": "nginx_site_tls_listen",
    "server_names": "nginx_site_server_names",
}
APP_NAMES = {
    "networks": "app_lb_health_networks",
    "path": "app_lb_health_path",
    "listen": "app_lb_health_listen",
    "site_listen": "app_http_listen",
    "tls": "app_tls",
    "tls_listen": "app_tls_listen",
    "server_names": "app_server_names",
}
# A listen value of the health server: a port, or an address and a port (the role adds
# default_server; other flags belong to the site's own listen values).
_LISTEN = re.compile(r"^(?:[0-9]{1,5}|[0-9.]+:[0-9]{1,5}|\[[0-9A-Fa-f:.]+\]:[0-9]{1,5})$")
# The app's health URI as nginx passes it in a quoted parameter: no '$' (a variable), quotes,
# backslashes, spaces, ';', braces, '#' or '%' (PATH_INFO is the decoded path).
_APP_URI = re.compile(r"^/[A-Za-z0-9._~!&()*+,=:@/?-]*$")
_HOST = re.compile(r"^[A-Za-z0-9](?:[A-Za-z0-9.-]*[A-Za-z0-9])?$")


def port_of(listen) -> str:
    """The port of a listen value ("80", "10.0.1.5:8081 default_server", "[::]:80")."""
    return str(listen).split(" ", 1)[0].rpartition(":")[2]


def _socket(listen) -> str:
    """A listen value's address and port alone, flags dropped."""
    return str(listen).split(" ", 1)[0]


def listen_of(s, n) -> list[str]:
    """The health server's listen values: n["listen"], or the site's HTTP listen values."""
    return [_socket(item) for item in s[n["listen"]] or s[n["site_listen"]]]


def networks_rule(s, n):
    networks = s[n["networks"]]
    return (
        all(values.peer_network(item) for item in networks),
        f"{n['networks']} takes the addresses or networks (CIDR, such as 10.0.0.0/16: the VPC's, or"
        " the load balancer's subnets') the load balancer asks from; not 0.0.0.0/0 or ::/0, which"
        f" would open the health URL to everyone; got {networks}.",
    )


def path_rule(s, n, path):
    """PATH, the URL the load balancer asks (n["path"] or what it falls back to)."""
    return (
        not s[n["networks"]] or maintenance.HEALTH_PATH.fullmatch(path) is not None,
        f"{n['path']} must be an absolute URL path (such as /health or /.lb/shop), which nginx"
        " matches exactly: no query, and only letters, digits and /._~!&()*+,=:@- (no spaces,"
        f" quotes, ';', braces, '#' or '%'); got '{path}'.",
    )


def listen_rule(s, n):
    """Values of the form the server takes, none on a port the site serves HTTPS on."""
    given, ports = s[n["listen"]], {port_of(item) for item in listen_of(s, n)}
    https = {port_of(item) for item in s[n["tls_listen"]]} if s[n["tls"]] != "none" else set()
    return (
        not s[n["networks"]]
        or (all(_LISTEN.fullmatch(str(item)) for item in given) and not ports & https),
        f"{n['listen']} takes ports or ADDRESS:PORT values (such as 8081 or 10.0.1.5:8081; the role"
        f" adds default_server), none of them a port of {n['tls_listen']}: the load balancer's"
        f" health check asks over HTTP; got {given}, HTTPS on {sorted(https)}.",
    )


def address_rule(s, n):
    """An ADDRESS:PORT value on a port the site listens on must be one of the site's own: nginx
    gives a connection to ADDRESS:PORT only to the servers listening on that very address, so the
    site, on the port's wildcard, would no longer answer there (only the health server would)."""
    site = {_socket(item) for item in s[n["site_listen"]]}
    site_ports = {port_of(item) for item in site}
    hidden = [
        str(item)
        for item in s[n["listen"]]
        if ":" in _socket(item) and port_of(item) in site_ports and _socket(item) not in site
    ]
    return (
        not s[n["networks"]] or not hidden,
        f"{n['listen']} {hidden} would take those addresses away from the site, which listens on"
        f" the same ports for every address ({n['site_listen']} {s[n['site_listen']]}): nginx gives"
        " a connection to ADDRESS:PORT only to the servers listening on that very address, so"
        " every request to it would get the health server's 404. Give the bare port (such as 80),"
        " or a port of its own (such as 8081).",
    )


def default_server_rule(s, n):
    """The health server is the default server of its ports: the site's own server may not be
    one of them too (a site named "_", or a listen value with default_server)."""
    ports = {port_of(item) for item in listen_of(s, n)}
    taken = sorted(
        port_of(item)
        for item in s[n["site_listen"]]
        if port_of(item) in ports
        and ("_" in s[n["server_names"]] or "default_server" in str(item).split()[1:])
    )
    return (
        not s[n["networks"]] or not taken,
        f"{n['networks']} makes the load balancer's health server the default server of port"
        f' {", ".join(taken)}, which the site itself already is ({n["server_names"]} "_" or'
        f" default_server in {n['site_listen']}): give {n['listen']} a port of its own, such as"
        " 8081, or name the site's hosts.",
    )


def app_uri_rule(uri, name):
    """The app's health URI, passed to the app as its request."""
    return (
        _APP_URI.fullmatch(uri) is not None,
        f"{name} must be an absolute URL path, with a query if any, of letters, digits and"
        f" /._~!&()*+,=:@?- (it is passed to the app as the load balancer's request); got '{uri}'.",
    )


def host_rule(host, name):
    return (
        host == "" or _HOST.fullmatch(host) is not None,
        f"{name} must be a host name the app serves (the Host the load balancer's health request"
        f" reaches it with), such as shop.example.org; got '{host}'.",
    )


def site(s, *, tls_site: dict, target: dict) -> dict:
    """The values the site template writes the health server from (enabled false: none).

    TLS_SITE: tls.site_tls's values (an HTTPS site tells the app so); TARGET: where the site's own
    health check reaches it (values.site_target), whose Host and port the app is passed.
    """
    networks = s.get("nginx_site_lb_health_networks") or []
    idle = s.get("nginx_load_balancer_idle_timeout", limits.Path().lb_idle_timeout)
    if not networks:
        return {"enabled": False}
    uri = s["nginx_site_lb_health_app_uri"] or s["nginx_site_lb_health_path"]
    path, _mark, query = uri.partition("?")
    https = bool(tls_site.get("enabled") and tls_site.get("ready"))
    return {
        "enabled": True,
        "listen": [f"{item} default_server" for item in listen_of(s, NGINX_NAMES)],
        "path": s["nginx_site_lb_health_path"],
        "networks": list(networks),
        # The request the app is passed, whatever the load balancer sent but its method.
        "host": s["nginx_site_lb_health_host"] or target["host"],
        "request_uri": uri,
        "path_info": path,
        "query_string": query,
        "scheme": "https" if https else "http",
        "server_port": target["port"] or 80,
        "keepalive_timeout": limits.keepalive_timeout(
            keepalive=s.get("nginx_keepalive_timeout", limits.Path().keepalive_timeout),
            lb_idle=idle,
        ),
    }


def shared_ports(sites: list[dict]) -> list[str]:
    """Messages for the ports two SITES of one host (the apps' nginx site variables) would each be
    the default server of (a health server's, a site named "_"): nginx -t refuses that."""
    owners: dict[str, list[str]] = {}
    for item in sites:
        listen = []
        if item.get("nginx_site_lb_health_networks"):
            listen = item.get("nginx_site_lb_health_listen") or item.get("nginx_site_listen") or []
        elif "_" in (item.get("nginx_site_server_names") or []):
            # A site named "_" is the default server of its own ports.
            listen = item.get("nginx_site_listen") or []
        for port in dict.fromkeys(port_of(value) for value in listen):
            owners.setdefault(port, []).append(item["nginx_site_name"])
    return [
        f"{' and '.join(names)} would each be the default server of port {port} (a load"
        " balancer's health server, or a site named \"_\"): give each load balancer's health"
        " server ports of its own in app_lb_health_listen (nginx_site_lb_health_listen), such as"
        " 8081 and 8082."
        for port, names in owners.items()
        if len(names) > 1
    ]
