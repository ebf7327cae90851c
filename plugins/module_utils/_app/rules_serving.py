# Copyright: pyops.uwsgi contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Private (see __init__.py): the rules of how the app is served and reached.

uWSGI's options, the socket and the unit, the nginx site and its HTTPS. Each rule is a function
of (app, controller) that yields (ok, message); rules.py lists them by name, in the order their
messages show.

Pure: no I/O.
"""

from __future__ import annotations

import posixpath
import re

from ansible_collections.pyops.uwsgi.plugins.module_utils import (
    env_file,
    host_paths,
    lb_health,
    limits,
    maintenance,
    tls,
    values,
)
from ansible_collections.pyops.uwsgi.plugins.module_utils._app import site, vassal
from ansible_collections.pyops.uwsgi.plugins.module_utils._app.model import (
    CANARY_SOCKET,
    NGINX_SOCKET,
    UNIX_SOCKET_BYTES,
    App,
    Checks,
)

# Options of app_uwsgi_options the role sets itself: the socket boundary, identity, the release.
RESERVED_OPTIONS = (
    "socket",
    "uwsgi-socket",
    "chmod-socket",
    "chown-socket",
    "uid",
    "gid",
    "chdir",
    "plugins-dir",
    "procname-prefix-spaced",
    "master-fifo",
)
# Settings of the app's own unit the role owns: who it runs as, how it starts and stops.
RESERVED_UNIT_SETTINGS = (
    "Type",
    "User",
    "Group",
    "DynamicUser",
    "ExecStart",
    "ExecReload",
    "ExecStop",
    "NotifyAccess",
    "RuntimeDirectory",
)
_UNIT_SETTING = re.compile(r"^[A-Z][A-Za-z0-9]+$")
_GROUP_NAME = re.compile(r"^[a-z_][a-z0-9_-]{0,31}$")
_HOST_NAME = re.compile(
    r"[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?(\.[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?)*"
)
# A URL prefix nginx serves a location under: app_static_url, app_shared_paths url.
URL_PREFIX = re.compile(r"^/[^ ;{}]*/$")
_RELATIVE_DIR = re.compile(r"^[^/ ;{}][^ ;{}]*$")


# --- uWSGI --------------------------------------------------------------------------------------


def reserved_options(app: App, controller: dict) -> Checks:
    reserved = [option for option in RESERVED_OPTIONS if option in app.s["app_uwsgi_options"]]
    yield (
        not reserved,
        f"app_uwsgi_options must not set {', '.join(reserved)}: the role sets them. The socket, its"
        " owner and its mode are the boundary that lets nginx in and keeps everyone else out (use"
        " app_socket), uid/gid come from app_user/app_group, chdir and plugins-dir from the"
        " release, the process names from the deploy.",
    )


def buffer_size(app: App, controller: dict) -> Checks:
    size = app.s["app_uwsgi_options"].get("buffer-size", values.UWSGI_PACKET)
    need = values.uwsgi_packet_need(app.nginx_header_buffers)
    yield (
        not isinstance(size, (int, str))
        or not str(size).isdigit()
        or need <= int(size) <= values.UWSGI_PACKET,
        f"app_uwsgi_options buffer-size ({size}) must be between what nginx lets a request"
        f" bring (up to {need} bytes with nginx_large_client_header_buffers"
        f" {app.nginx_header_buffers}) and {values.UWSGI_PACKET}, the largest uwsgi packet: below"
        " it, uWSGI drops requests nginx accepted and the client gets 502. Leave buffer-size to the"
        " role.",
    )


def processes_and_threads(app: App, controller: dict) -> Checks:
    s = app.s
    yield (
        s["app_processes"] >= 0 and s["app_threads"] >= 1,
        "app_processes must be 0 (one per CPU core) or more, and app_threads 1 or more; got"
        f" {s['app_processes']} and {s['app_threads']}.",
    )


def memory_per_process(app: App, controller: dict) -> Checks:
    s = app.s
    yield (
        s["app_process_memory_mb"] >= 1,
        f"app_process_memory_mb must be 1 or more (MB one process of the app takes); got"
        f" {s['app_process_memory_mb']}.",
    )


def harakiri_below_read_timeout(app: App, controller: dict) -> Checks:
    s = app.s
    yield (
        s["app_harakiri"] >= 1
        and s["app_nginx_read_timeout"] >= 0
        and s["app_harakiri"] < app.read_timeout,
        f"app_harakiri ({s['app_harakiri']}) must be at least 1 and below app_nginx_read_timeout"
        f" ({s['app_nginx_read_timeout']}; 0 means harakiri + 5): otherwise nginx gives up on a"
        " slow request before uWSGI recycles its worker.",
    )


def listen_within_somaxconn(app: App, controller: dict) -> Checks:
    s, somaxconn = app.s, app.host.get("somaxconn")
    yield (
        1 <= s["app_listen"] <= (s["app_listen"] if somaxconn is None else somaxconn),
        f"app_listen ({s['app_listen']}) must be between 1 and the host's net.core.somaxconn"
        f" ({somaxconn}), or uWSGI refuses to start. Lower app_listen or raise the sysctl.",
    )


def recycling(app: App, controller: dict) -> Checks:
    s = app.s
    limits = (s["app_max_requests"], s["app_max_worker_lifetime"], s["app_reload_on_rss"])
    yield (
        min(limits) >= 0 and s["app_worker_reload_mercy"] >= 1,
        "app_max_requests, app_max_worker_lifetime and app_reload_on_rss must be 0 (no limit) or"
        " more, and app_worker_reload_mercy 1 second or more; got"
        f" {s['app_max_requests']}, {s['app_max_worker_lifetime']}, {s['app_reload_on_rss']} and"
        f" {s['app_worker_reload_mercy']}.",
    )


def stats_group(app: App, controller: dict) -> Checks:
    group = app.s["app_stats_group"]
    yield (
        bool(_GROUP_NAME.fullmatch(group)) and group not in (app.web_group, app.group),
        f"app_stats_group must be a group name other than nginx's {app.web_group} and the app's"
        f" own ({app.group}): whoever reads the stats socket sees every request being served;"
        f" got '{group}'.",
    )


def env_names(app: App, controller: dict) -> Checks:
    s = app.s
    yield (
        all(values.IDENTIFIER.fullmatch(key) for key in s["app_env"]),
        "app_env names must be environment variable names (letters, digits, '_'); got"
        f" {list(s['app_env'])}.",
    )


def env_not_configuring(app: App, controller: dict) -> Checks:
    configuring = {key: env_file.configuring(key) for key in app.s["app_env"]}
    configuring = {key: reason for key, reason in configuring.items() if reason}
    yield (
        not configuring,
        "app_env must not set "
        + "; nor ".join(f"{key}: {reason}" for key, reason in configuring.items())
        + ". Remove it from app_env (the role sets what uWSGI, the loader and systemd need).",
    )


def env_values_carried(app: App, controller: dict) -> Checks:
    """One message per app_env value neither an env line nor an envdir file carries; none when
    every value reaches the app (the common case)."""
    for key, reason in vassal.environment(app)[2].items():
        yield (False, f"app_env {key} cannot reach the app as it is: {reason}.")


# --- The socket and the unit --------------------------------------------------------------------


def socket_path(app: App, controller: dict) -> Checks:
    # The canary's socket and nginx's link sit beside it, and must fit the limit too.
    socket_bytes = max(
        len(path.encode("utf-8")) for path in (app.socket, app.canary_socket, app.nginx_socket)
    )
    yield (
        app.socket.startswith("/run/")
        and app.socket.endswith(".sock")
        and not any(char in app.socket for char in " ;{}")
        and socket_bytes <= UNIX_SOCKET_BYTES
        and posixpath.basename(app.socket) not in (CANARY_SOCKET, NGINX_SOCKET),
        "app_socket must be an absolute path under /run ending in .sock, named other than"
        f" {CANARY_SOCKET} and {NGINX_SOCKET} (the canary's socket and nginx's link to the socket"
        f" serving, beside it), and it and they at most {UNIX_SOCKET_BYTES} bytes long (uWSGI's"
        f" limit for a unix socket); got '{app.socket}' ({socket_bytes} bytes).",
    )


def socket_directory(app: App, controller: dict) -> Checks:
    # Its directory is the app's (owner, mode, tmpfiles entry): one of its own name in the uwsgi
    # role's runtime directory, never that directory, /run or another's.
    problem = host_paths.judge("app_socket", app.socket, app=app.name, run_dir=app.run_dir)
    yield (not problem, problem)


def activation_needs_systemd(app: App, controller: dict) -> Checks:
    yield (
        not app.s["app_socket_activation"] or not app.emperor,
        "app_socket_activation needs app_supervisor systemd: the Emperor's vassals bind their"
        " sockets themselves. Set app_supervisor to systemd, or app_socket_activation to false.",
    )


def private_tcp_endpoint(app: App, controller: dict) -> Checks:
    tcp = app.s["app_tcp_socket"]
    yield (
        tcp == "" or values.private_endpoint(tcp),
        "app_tcp_socket must be ADDRESS:PORT on one private address of the host, such as"
        " 10.0.1.21:3031 or [fd00::21]:3031 (not 0.0.0.0, :: or a public address: the uwsgi"
        f" protocol has no authentication); got '{tcp}'.",
    )


def tcp_needs_socket_unit(app: App, controller: dict) -> Checks:
    yield (
        app.s["app_tcp_socket"] == "" or (not app.emperor and app.s["app_socket_activation"]),
        "app_tcp_socket needs app_supervisor systemd and app_socket_activation true: only the"
        " socket unit limits who may connect (the uwsgi protocol has no authentication, and a"
        " vassal's socket admits anyone who reaches it). Set both, or leave app_tcp_socket empty.",
    )


def tcp_peers(app: App, controller: dict) -> Checks:
    tcp, peers = app.s["app_tcp_socket"], app.s["app_tcp_allowed_peers"]
    yield (
        (tcp == "") == (len(peers) == 0) and all(values.peer_network(peer) for peer in peers),
        "app_tcp_allowed_peers must list the addresses or networks (CIDR, not 0.0.0.0/0) of the"
        f" front hosts allowed to reach app_tcp_socket, and be empty without it; got {peers} for"
        f" app_tcp_socket '{tcp}'.",
    )


def unit_settings(app: App, controller: dict) -> Checks:
    unit_keys = list(app.s["app_systemd_options"])
    yield (
        all(_UNIT_SETTING.fullmatch(key) for key in unit_keys)
        and not any(key in RESERVED_UNIT_SETTINGS for key in unit_keys),
        "app_systemd_options takes [Service] settings of systemd such as MemoryDenyWriteExecute or"
        f" ReadWritePaths, other than {', '.join(RESERVED_UNIT_SETTINGS)}, which the role sets"
        f" (the user from app_user, the start from the release); got {unit_keys}.",
    )


# --- The site and its health check --------------------------------------------------------------


def health_timeout(app: App, controller: dict) -> Checks:
    s = app.s
    yield (
        5 <= s["app_health_timeout"] <= 3600,
        f"app_health_timeout must be 5 to 3600 seconds; got {s['app_health_timeout']}.",
    )


def _answers(server_name, host):
    """Whether nginx's server_name SERVER_NAME matches HOST."""
    if server_name.startswith("~"):
        return re.search(server_name[1:], host) is not None
    if server_name.startswith("*."):
        return host.endswith(server_name[1:])
    if server_name.startswith("."):
        return host == server_name[1:] or host.endswith(server_name)
    if server_name.endswith(".*"):
        return host.startswith(server_name[:-1])
    return host == server_name


def health_host(app: App, controller: dict) -> Checks:
    names, host = app.s["app_server_names"], app.s["app_health_host"]
    yield (
        host == ""
        or (
            _HOST_NAME.fullmatch(host) is not None
            and ("_" in names or any(_answers(name, host) for name in names))
        ),
        f"app_health_host '{host}' must be a host name the site answers to, one that"
        f' app_server_names {names} match (or any, with "_" among them).',
    )


def health_statuses(app: App, controller: dict) -> Checks:
    s = app.s
    yield (
        all(100 <= status <= 599 for status in s["app_health_status"]),
        "app_health_status takes HTTP statuses (100-599), or none for any 2xx or 3xx; got"
        f" {s['app_health_status']}.",
    )


def health_path(app: App, controller: dict) -> Checks:
    s = app.s
    yield (
        s["app_health_path"].startswith("/") and " " not in s["app_health_path"],
        f"app_health_path must be a URL path starting with '/'; got '{s['app_health_path']}'.",
    )


def server_names(app: App, controller: dict) -> Checks:
    names = app.s["app_server_names"]
    yield (
        len(names) > 0 and all(values.nginx_server_name(name) for name in names),
        f'app_server_names must be host names (or "_" for any); got {names}.',
    )


def listen_values(app: App, controller: dict) -> Checks:
    names, listen = app.s["app_server_names"], app.s["app_http_listen"]
    yield (
        all(values.nginx_listen(item) for item in listen)
        and values.site_target(listen, names)["url"] != "",
        'app_http_listen items must be nginx listen values such as "80" or "[::]:80", at least one'
        " of them on TCP (the health check reaches the site through it from the host); got"
        f" {listen}.",
    )


def trusted_proxies(app: App, controller: dict) -> Checks:
    proxies = app.s["app_trusted_proxies"]
    yield (
        all(values.peer_network(proxy) for proxy in proxies),
        "app_trusted_proxies takes the addresses or networks (CIDR, not 0.0.0.0/0 or ::/0) of the"
        f" proxies in front of the site (a load balancer); got {proxies}.",
    )


def maintenance_allowed(app: App, controller: dict) -> Checks:
    yield maintenance.allowed_rule(app.s, maintenance.APP_NAMES)


def maintenance_retry_after(app: App, controller: dict) -> Checks:
    yield maintenance.retry_after_rule(app.s, maintenance.APP_NAMES)


def maintenance_health_path(app: App, controller: dict) -> Checks:
    health_path = maintenance.health_location(app.s["app_health_path"])
    yield maintenance.health_path_rule(app.s, maintenance.APP_NAMES, health_path)


def maintenance_page(app: App, controller: dict) -> Checks:
    """The page on the controller (app_source.controller_readings looked for it)."""
    yield maintenance.page_rule(
        app.s, maintenance.APP_NAMES, controller.get("maintenance_page_found")
    )


def lb_health_networks(app: App, controller: dict) -> Checks:
    yield lb_health.networks_rule(app.s, lb_health.APP_NAMES)


def lb_health_path(app: App, controller: dict) -> Checks:
    yield lb_health.path_rule(app.s, lb_health.APP_NAMES, site.lb_health_path(app))


def lb_health_app_path(app: App, controller: dict) -> Checks:
    """The app's health path, passed to the app as the load balancer's request."""
    ok, message = lb_health.app_uri_rule(app.s["app_health_path"], "app_health_path")
    yield (ok or not app.s["app_lb_health_networks"], message)


def lb_health_listen(app: App, controller: dict) -> Checks:
    yield lb_health.listen_rule(app.s, lb_health.APP_NAMES)


def lb_health_address(app: App, controller: dict) -> Checks:
    yield lb_health.address_rule(app.s, lb_health.APP_NAMES)


def lb_health_default_server(app: App, controller: dict) -> Checks:
    yield lb_health.default_server_rule(app.s, lb_health.APP_NAMES)


def body_size(app: App, controller: dict) -> Checks:
    s = app.s
    yield (
        values.nginx_size(s["app_client_max_body_size"]),
        "app_client_max_body_size must be an nginx size such as 10m; got"
        f" '{s['app_client_max_body_size']}'.",
    )


def response_headers_limit(app: App, controller: dict) -> Checks:
    size = app.s["app_response_headers_limit"]
    yield (
        values.nginx_size(size) and 4096 <= limits.bytes_of(size) <= 65536,
        "app_response_headers_limit must be an nginx size from 4k to 64k (the bytes of response"
        f" headers the app may send); got '{size}'.",
    )


# Limits a rule of their own checks, with a message in the settings' terms.
_CHECKED_APART = ("request headers", "slow requests", "bursts")


def limits_agree(app: App, controller: dict) -> Checks:
    """The rest of the path's limits (module_utils/limits.py) with the options as written."""
    found = limits.disagreements(app.limits_path(), app.s["app_uwsgi_options"])
    broken = {limit: message for limit, message in found.items() if limit not in _CHECKED_APART}
    yield (
        not broken,
        "app_uwsgi_options would make uWSGI give up before nginx does ("
        + "; ".join(f"{limit}: {message}" for limit, message in broken.items())
        + "): leave those limits to the role, which decides them with nginx's (docs/limits.md).",
    )


def static_location(app: App, controller: dict) -> Checks:
    static_url, static_dir = app.s["app_static_url"], app.s["app_static_dir"]
    yield (
        static_url == ""
        or (
            URL_PREFIX.fullmatch(static_url) is not None
            and _RELATIVE_DIR.fullmatch(static_dir) is not None
            and not any(part in (".", "..") for part in static_dir.split("/"))
            and posixpath.normpath(static_dir) == static_dir.rstrip("/")
        ),
        "app_static_url must start and end with '/' (e.g. /static/) and app_static_dir be a"
        " directory inside the code, not the code itself (such as static or mysite/static;"
        " no '.', '..' or '//': nginx would serve the code, settings included); got"
        f" '{static_url}' and '{static_dir}'.",
    )


def static_bridge(app: App, controller: dict) -> Checks:
    time, pattern = app.s["app_static_bridge_time"], app.s["app_static_bridge_pattern"]
    yield (
        time >= 0 and (time == 0 or values.nginx_regex(pattern)),
        "app_static_bridge_time must be 0 (no bridge) or more seconds, and"
        " app_static_bridge_pattern a regular expression without control characters (or empty:"
        f" every file); got {time} and {pattern!r}.",
    )


def site_tls(app: App, controller: dict) -> Checks:
    """The HTTPS rules the nginx role's sites share (tls.rules): none with app_tls none."""
    yield from tls.rules(app.s, site.APP_TLS_NAMES)


def health_check_ca(app: App, controller: dict) -> Checks:
    ca_file = app.s["app_tls_ca_file"]
    yield (
        ca_file == ""
        or (
            values.ABSOLUTE_PATH.fullmatch(ca_file) is not None
            and host_paths.normalize(ca_file) == ca_file
        ),
        "app_tls_ca_file must be an absolute path on the host, written as the kernel resolves it"
        " (no '.', '..', '//' or trailing '/'; the CA bundle the health check trusts for the"
        f" site's certificate) or empty; got '{ca_file}'.",
    )
