# Copyright: pyops.uwsgi contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The rules of the uwsgi and nginx roles' settings, and the values an nginx site is written from.

Argument specs check types and choices; these check values. Each rule yields (ok, message), the
message naming the variable and the fix. ``errors(role, entry_point, settings, readings)`` runs a
role entry point's rules. Pure: no I/O (readings are passed in).
"""

from __future__ import annotations

import re

from ansible_collections.pyops.uwsgi.plugins.module_utils import (
    front_rules,
    host_paths,
    lb_health,
    limits,
    maintenance,
    patch_rules,
    pip_settings,
    tls,
    values,
)

_RELEASE = re.compile(r"^[0-9]+\.[0-9]+\.[0-9]+$")
_RELEASE_NUMBER = re.compile(r"^[0-9]+(\.[0-9]+)*$")
_UNIT_NAME = re.compile(r"^[A-Za-z0-9_.-]+$")
_APT_SOURCE = re.compile(r"^(ppa:[a-z0-9._-]+/[a-z0-9._-]+|deb(-src)? .+)$")
_DEBIAN_PACKAGE = re.compile(r"^[a-z0-9][a-z0-9.+-]+$")
_SITE_NAME = re.compile(r"^[a-z0-9][a-z0-9_.-]{0,63}$")
_HEADER_BUFFERS = re.compile(r"^[1-9][0-9]* [0-9]+[kKmM]?$")
_WORKERS = re.compile(r"^(auto|[1-9][0-9]*)$")
_ACCESS_LOG = re.compile(r"^/[^ ;{}]+$")
_HEADER_NAME = re.compile(r"^[A-Za-z0-9-]{1,64}$")
_EXPIRES = re.compile(r"^(off|max|epoch|-?[0-9]+[smhdwMy]?)$")
_UWSGI_PASS = re.compile(
    r"^(unix:/run/[^ ;{}]+|[A-Za-z0-9.-]+:[0-9]{1,5}|\[[0-9A-Fa-f:]+\]:[0-9]{1,5})$"
)
_FORWARDING_HEADERS = (
    "x_forwarded_for",
    "x_forwarded_proto",
    "x_forwarded_ssl",
    "x_forwarded_host",
    "x_forwarded_port",
    "forwarded",
)
_STATIC_URL = re.compile(r"^/[^ ;{}]*/$")
_STATIC_DIR = re.compile(r"^/[^ ;{}]*/?$")


def uwsgi_rules(s, readings):
    """The uwsgi role. READINGS: {"packages": {name: offered}, "distribution", "python3"}, when
    apt was asked (pyops.uwsgi.uwsgi_info)."""
    versions = [*s["uwsgi_python_versions"], *s["uwsgi_pip_python_versions"]]
    yield (
        all(values.PYTHON_VERSION.fullmatch(str(version)) for version in versions),
        'uwsgi_python_versions and uwsgi_pip_python_versions take Python versions as "X.Y", such'
        f' as "3.13" (not "3", "python3.13" or "3.13.1"); got {s["uwsgi_python_versions"]} and'
        f" {s['uwsgi_pip_python_versions']}.",
    )
    yield (
        bool(_RELEASE.fullmatch(s["uwsgi_pip_version"])),
        'uwsgi_pip_version must be a uWSGI release such as "2.0.31"; got'
        f" '{s['uwsgi_pip_version']}'.",
    )
    # Each directory the role owns, judged as the kernel resolves it against the table of places
    # (module_utils/host_paths.py): never /run, /etc, a parent or another's directory.
    for setting in ("uwsgi_run_dir", "uwsgi_vassals_dir", "uwsgi_plugin_dir", "uwsgi_pip_root"):
        problem = host_paths.judge(setting, s[setting])
        yield (not problem, problem)
    yield (
        bool(_UNIT_NAME.fullmatch(s["uwsgi_emperor_service"])),
        "uwsgi_emperor_service must be a systemd unit name without suffix; got"
        f" '{s['uwsgi_emperor_service']}'.",
    )
    yield (
        bool(_RELEASE_NUMBER.fullmatch(s["uwsgi_uwsgitop_version"])),
        "uwsgi_uwsgitop_version must be a release number such as 0.12; got"
        f" '{s['uwsgi_uwsgitop_version']}'.",
    )
    yield (
        s["uwsgi_emperor_scan_interval"] >= 1 and s["uwsgi_emperor_limit_nofile"] >= 1024,
        "uwsgi_emperor_scan_interval must be at least 1 second and uwsgi_emperor_limit_nofile at"
        f" least 1024; got {s['uwsgi_emperor_scan_interval']} and"
        f" {s['uwsgi_emperor_limit_nofile']}.",
    )
    weight = s["uwsgi_system_slice_cpu_weight"]
    yield (
        0 <= weight <= 10000,
        "uwsgi_system_slice_cpu_weight must be a systemd CPUWeight from 1 to 10000 (100 is"
        f" systemd's own), or 0 to leave system.slice as it is; got {weight}.",
    )
    repository = s["uwsgi_python_apt_repository"]
    yield (
        repository == "" or bool(_APT_SOURCE.fullmatch(repository)),
        'uwsgi_python_apt_repository must be an apt source such as "ppa:deadsnakes/ppa" or a'
        f" \"deb ...\" line, or empty; got '{repository}'.",
    )
    yield from pip_settings.rules("uwsgi", s)
    yield (
        all(_DEBIAN_PACKAGE.fullmatch(name) for name in s["uwsgi_extra_packages"]),
        "uwsgi_extra_packages takes Debian package names such as uwsgi-plugin-gevent-python3; got"
        f" {s['uwsgi_extra_packages']}.",
    )
    yield (
        s["uwsgi_apt_cache_valid_time"] >= 0,
        "uwsgi_apt_cache_valid_time must be 0 or more seconds; got"
        f" {s['uwsgi_apt_cache_valid_time']}.",
    )
    yield (
        "emperor" not in s["uwsgi_emperor_options"],
        "uwsgi_emperor_options must not set emperor: each Emperor watches its own vassal directory"
        " (uwsgi_vassals_dir, and -pipXY for the pip method).",
    )
    # Whether apt's index offers each package it was asked about (pyops.uwsgi.uwsgi_info).
    offered = (readings or {}).get("packages") or {}
    release = (readings or {}).get("distribution", "this host")
    default_python = (readings or {}).get("python3", "")
    asked = dict.fromkeys([*s["uwsgi_python_versions"], *s["uwsgi_pip_python_versions"]])
    missing = {
        version: [
            name
            for name in (f"python{version}", f"python{version}-dev", f"python{version}-venv")
            if offered.get(name) is False
        ]
        for version in asked
    }
    missing = {version: names for version, names in missing.items() if names}
    yield (
        not missing,
        f"Python {' and '.join(missing)} (from uwsgi_python_versions / uwsgi_pip_python_versions)"
        " cannot be installed on this host: its apt sources offer no"
        f" {', '.join(name for names in missing.values() for name in names)}"
        f" ({release} has Python {default_python}). Pick a version the distribution packages, or"
        " set uwsgi_python_apt_repository to a source that has it.",
    )


def nginx_rules(s, _readings):
    """The nginx role's server-wide settings."""
    sizes = (s["nginx_client_header_buffer_size"], s["nginx_client_body_buffer_size"])
    timeouts = (
        s["nginx_client_body_timeout"],
        s["nginx_client_header_timeout"],
        s["nginx_keepalive_timeout"],
        s["nginx_send_timeout"],
    )
    yield (
        values.nginx_size(s["nginx_client_max_body_size"]),
        "nginx_client_max_body_size must be an nginx size such as 1m or 512k, not"
        f" '{s['nginx_client_max_body_size']}'.",
    )
    yield (
        all(values.nginx_size(size) for size in sizes)
        and bool(_HEADER_BUFFERS.fullmatch(s["nginx_large_client_header_buffers"])),
        "nginx_client_header_buffer_size and nginx_client_body_buffer_size must be nginx sizes"
        ' (1k, 16k) and nginx_large_client_header_buffers "NUMBER SIZE" (4 8k); got'
        f" '{sizes[0]}', '{sizes[1]}' and '{s['nginx_large_client_header_buffers']}'.",
    )
    buffers = s["nginx_large_client_header_buffers"]
    need = values.uwsgi_packet_need(buffers) if _HEADER_BUFFERS.fullmatch(buffers) else 0
    yield (
        need <= values.UWSGI_PACKET,
        f"nginx_large_client_header_buffers ({buffers}) lets a request reach the app with up to"
        f" {need} bytes of request line and headers in its uwsgi packet, more than the"
        f" {values.UWSGI_PACKET} bytes a uwsgi packet (and so uWSGI's buffer-size) can hold: uWSGI"
        " would drop such a request and the client get 502. Keep (NUMBER + 1) x SIZE under 52k,"
        " such as 4 8k (the default) or 2 16k.",
    )
    yield (
        bool(_WORKERS.fullmatch(str(s["nginx_worker_processes"]))),
        'nginx_worker_processes must be "auto" or a number of processes; got'
        f" '{s['nginx_worker_processes']}'.",
    )
    yield (
        s["nginx_worker_connections"] >= 64,
        f"nginx_worker_connections must be at least 64; got {s['nginx_worker_connections']}.",
    )
    log = s["nginx_access_log"]
    yield (
        log == "off"
        or (
            bool(_ACCESS_LOG.fullmatch(log))
            and host_paths.normalize(log) == log
            and host_paths.inside(log, "/var/log")
            and log != "/var/log"
        ),
        'nginx_access_log must be "off" or a file under /var/log written as the kernel resolves'
        " it (nginx's master, root, appends to it: /etc/passwd would take every request line);"
        f" got '{log}'.",
    )
    yield (
        min(timeouts) >= 1,
        "nginx_client_body_timeout, nginx_client_header_timeout, nginx_keepalive_timeout and"
        " nginx_send_timeout are seconds, 1 or more.",
    )
    yield (
        s["nginx_apt_cache_valid_time"] >= 0,
        "nginx_apt_cache_valid_time must be 0 or more seconds; got"
        f" {s['nginx_apt_cache_valid_time']}.",
    )
    yield _headers_rule(s)
    yield _idle_timeout_rule(s)


# An ALB's idle timeout is 1 to 4000 seconds.
_LB_IDLE_MAX = 4000


def _idle_timeout_rule(s):
    idle = s["nginx_load_balancer_idle_timeout"]
    return (
        1 <= idle <= _LB_IDLE_MAX,
        f"nginx_load_balancer_idle_timeout must be 1 to {_LB_IDLE_MAX} seconds (the idle timeout"
        f" of the load balancer in front, 60 for an ALB's default); got {idle}.",
    )


def _headers_rule(s):
    headers = s["nginx_security_headers"]
    return (
        all(_HEADER_NAME.fullmatch(name) for name in headers)
        and not any(char in str(value) for value in headers.values() for char in '"\\$\n\r'),
        "nginx_security_headers takes header names (1-64 letters, digits, '-') and values without"
        " double quotes, backslashes, '$' (nginx would read a variable) or line breaks; got"
        f" {headers}.",
    )


def _internal_locations_rule(s):
    """Internal locations (X-Accel-Redirect only): no expires, and a URL prefix of their own."""
    locations, static_url = s["nginx_site_locations"], s["nginx_site_static_url"]
    internal = [item for item in locations if item["internal"]]
    urls = [item["url"] for item in locations] + ([static_url] if static_url else [])
    nested = any(
        values.nginx_prefixes_nested(item["url"], url) for item in internal for url in urls
    )
    return (
        not nested and all(item["expires"] == "" for item in internal),
        "nginx_site_locations internal items take no expires (the app's Cache-Control reaches the"
        " client) and a url that neither lies inside another location's (nginx_site_static_url"
        f" included) nor holds one; got {internal} among {urls}.",
    )


def _static_bridge_rule(s):
    """The previous release's static directory: beside a static location, and a pattern nginx
    and Python read alike (PCRE and re agree on what a hashed name's pattern needs)."""
    bridge_dir, pattern = s["nginx_site_static_bridge_dir"], s["nginx_site_static_bridge_pattern"]
    return (
        bridge_dir == ""
        or (
            s["nginx_site_static_url"] != ""
            and bool(_STATIC_DIR.fullmatch(bridge_dir))
            and bridge_dir.rstrip("/") != s["nginx_site_static_dir"].rstrip("/")
            and values.nginx_regex(pattern)
        ),
        "nginx_site_static_bridge_dir takes an absolute directory other than"
        " nginx_site_static_dir, with nginx_site_static_url set, and"
        " nginx_site_static_bridge_pattern a regular expression without control characters (or"
        f" empty: every file); got '{bridge_dir}', '{s['nginx_site_static_url']}' and"
        f" {pattern!r}.",
    )


def nginx_site_rules(s, readings):
    """One site of the nginx role (entry point site)."""
    upstream, uwsgi_pass = s["nginx_site_upstream"], s["nginx_site_uwsgi_pass"]
    listen, names = s["nginx_site_listen"], s["nginx_site_server_names"]
    static_url, static_dir = s["nginx_site_static_url"], s["nginx_site_static_dir"]
    present = s["nginx_site_state"] == "present"
    yield (
        bool(_SITE_NAME.fullmatch(s["nginx_site_name"])),
        "nginx_site_name must be 1-64 characters of a-z, 0-9, '_', '.', '-' (it names a file), not"
        f" '{s['nginx_site_name']}'.",
    )
    if not present:
        return
    yield (
        (bool(_UWSGI_PASS.fullmatch(uwsgi_pass)) and not upstream)
        or (uwsgi_pass == "" and len(upstream) > 0),
        "Set either nginx_site_uwsgi_pass ('unix:' and an absolute socket path under /run, or"
        " 'host:port') or nginx_site_upstream (a list of 'host:port'); got"
        f" '{uwsgi_pass}' and {upstream}.",
    )
    yield (
        all(_UWSGI_PASS.fullmatch(server) and not server.startswith("unix:") for server in upstream)
        and len(set(upstream)) == len(upstream),
        "nginx_site_upstream items must be distinct 'host:port' values such as 10.0.1.21:3031;"
        f" got {upstream}.",
    )
    yield (
        s["nginx_site_upstream_max_fails"] >= 0
        and s["nginx_site_upstream_fail_timeout"] >= 1
        and s["nginx_site_uwsgi_connect_timeout"] >= 1,
        "nginx_site_upstream_max_fails must be 0 or more, nginx_site_upstream_fail_timeout and"
        " nginx_site_uwsgi_connect_timeout 1 second or more; got"
        f" {s['nginx_site_upstream_max_fails']}, {s['nginx_site_upstream_fail_timeout']} and"
        f" {s['nginx_site_uwsgi_connect_timeout']}.",
    )
    yield (
        len(listen) > 0 and all(values.nginx_listen(item) for item in listen),
        f'nginx_site_listen items must be listen values such as "80" or "[::]:80"; got {listen}.',
    )
    yield (
        len(names) > 0 and all(values.nginx_server_name(name) for name in names),
        f'nginx_site_server_names items must be host names (or "_"); got {names}.',
    )
    yield (
        static_url == ""
        or (bool(_STATIC_URL.fullmatch(static_url)) and bool(_STATIC_DIR.fullmatch(static_dir))),
        "nginx_site_static_url must start and end with '/' (e.g. /static/) and"
        " nginx_site_static_dir be an absolute directory; got"
        f" '{static_url}' and '{static_dir}'.",
    )
    locations = s["nginx_site_locations"]
    urls = [item["url"] for item in locations] + ([static_url] if static_url else [])
    yield (
        all(
            _STATIC_URL.fullmatch(item["url"])
            and item["url"] != "/"
            and _STATIC_DIR.fullmatch(item["dir"])
            and (item["expires"] == "" or _EXPIRES.fullmatch(item["expires"]))
            for item in locations
        )
        and len(set(urls)) == len(urls),
        "nginx_site_locations items need a url that starts and ends with '/' (not '/'), given once"
        " and not equal to nginx_site_static_url, an absolute dir, and an expires value such as 1h"
        f" or empty; got {locations}.",
    )
    yield _internal_locations_rule(s)
    yield (
        bool(_EXPIRES.fullmatch(str(s["nginx_site_static_expires"]))),
        "nginx_site_static_expires must be an nginx expires value such as 1h, 7d or off; got"
        f" '{s['nginx_site_static_expires']}'.",
    )
    yield _static_bridge_rule(s)
    yield from _site_limits_rules(s)
    proxies = s["nginx_site_trusted_proxies"]
    yield (
        all(values.peer_network(proxy) for proxy in proxies),
        "nginx_site_trusted_proxies takes the addresses or networks (CIDR, narrower than"
        f" everything: not 0.0.0.0/0 or ::/0) of the proxies in front of the site; got {proxies}.",
    )
    yield _headers_rule(s)
    yield (
        values.nginx_size(s["nginx_site_client_max_body_size"]),
        "nginx_site_client_max_body_size must be an nginx size such as 10m, not"
        f" '{s['nginx_site_client_max_body_size']}'.",
    )
    yield from _site_maintenance_rules(s, readings)
    yield from _site_lb_health_rules(s)
    yield from nginx_site_tls_rules(s, readings)


def _site_lb_health_rules(s):
    """The load balancer's health URL (module_utils/lb_health.py)."""
    n = lb_health.NGINX_NAMES
    yield lb_health.networks_rule(s, n)
    yield lb_health.path_rule(s, n, s["nginx_site_lb_health_path"])
    yield lb_health.listen_rule(s, n)
    yield lb_health.address_rule(s, n)
    yield lb_health.default_server_rule(s, n)
    # Empty: nginx_site_lb_health_path, which its own rule checks.
    uri = s["nginx_site_lb_health_app_uri"]
    ok, message = lb_health.app_uri_rule(uri, "nginx_site_lb_health_app_uri")
    yield (ok or not uri or not s["nginx_site_lb_health_networks"], message)
    yield lb_health.host_rule(s["nginx_site_lb_health_host"], "nginx_site_lb_health_host")
    yield _idle_timeout_rule(s)


def _site_maintenance_rules(s, readings):
    """Maintenance mode (module_utils/maintenance.py); READINGS["maintenance_page_found"] says
    whether the page is on the controller (absent: not looked for)."""
    n = maintenance.NGINX_NAMES
    yield maintenance.allowed_rule(s, n)
    yield maintenance.retry_after_rule(s, n)
    yield maintenance.health_path_rule(s, n, s[n["health_path"]])
    yield maintenance.page_rule(s, n, (readings or {}).get("maintenance_page_found"))


def _site_limits_rules(s):
    """The site's limits toward the app (module_utils/limits.py)."""
    yield (
        s["nginx_site_uwsgi_read_timeout"] >= 1,
        "nginx_site_uwsgi_read_timeout must be 1 or more seconds; got"
        f" {s['nginx_site_uwsgi_read_timeout']}.",
    )
    size = s["nginx_site_uwsgi_buffer_size"]
    yield (
        values.nginx_size(size) and 4096 <= limits.bytes_of(size) <= 65536,
        "nginx_site_uwsgi_buffer_size must be an nginx size from 4k to 64k (the bytes of response"
        f" headers nginx takes from the app); got '{size}'.",
    )
    yield (
        s["nginx_site_max_conns"] >= 0 and 1 <= s["nginx_site_retry_after"] <= 3600,
        "nginx_site_max_conns must be 0 (no limit) or more requests, nginx_site_retry_after 1 to"
        f" 3600 seconds; got {s['nginx_site_max_conns']} and {s['nginx_site_retry_after']}.",
    )


def nginx_site_tls_rules(s, readings):
    """The site's HTTPS: its settings, and the certificate and key READINGS["tls"] holds, if any.

    READINGS["tls"]: {"chain": PEM, "public_key": PEM of the key's public half, "where": {
    "certificate": ..., "key": ...} (where each was read), "key_owner", "key_mode" (a key on the
    host), "error": why they could not be read}. Given for nginx_site_tls files, before anything
    changes.
    """
    if s["nginx_site_tls"] == "none":
        return
    yield from tls.rules(s)
    if s["nginx_site_tls"] == "acme":
        yield from tls.acme_rules(s)
    material = (readings or {}).get("tls")
    if not material or s["nginx_site_tls"] != "files":
        return
    if material.get("error"):
        yield False, material["error"]
        return
    owner, mode = material.get("key_owner"), material.get("key_mode")
    yield (
        owner is None or (owner == "root" and int(str(mode), 8) & 0o077 == 0),
        f"nginx_site_tls_key ({material['where']['key']}) must belong to root and be readable by"
        f" root only (mode 0600 or 0400), as nginx reads it before it drops privileges; it is"
        f" {owner}'s, mode {mode}. chown root:root and chmod 0600 it.",
    )
    for message in tls.material_errors(
        s["nginx_site_server_names"],
        material.get("chain"),
        material.get("public_key"),
        material["where"],
    ):
        yield False, message


RULES = {
    ("uwsgi", "main"): uwsgi_rules,
    ("nginx", "main"): nginx_rules,
    ("nginx", "site"): nginx_site_rules,
    ("front", "drain"): front_rules.front_rules,
    ("front", "restore"): front_rules.front_rules,
    ("patch", "main"): patch_rules.patch_rules,
}


def errors(role, entry_point, settings, readings=None):
    """The messages of the rules ROLE's ENTRY_POINT breaks with SETTINGS."""
    rules = RULES.get((role, entry_point))
    if rules is None:
        return []
    return [message for ok, message in rules(settings, readings or {}) if not ok]


def nginx_site(s, readings=None):
    """The values the nginx site template is written from, decided here rather than in Jinja.

    READINGS (optional): what the host says for an HTTPS site (tls.site_tls).
    """
    upstream = s["nginx_site_upstream"]
    # "_" names no host: it makes the site the one for any Host no other site claims, said outright.
    default = "_" in s["nginx_site_server_names"]
    listen = [
        f"{item} default_server" if default and "default_server" not in str(item) else str(item)
        for item in s["nginx_site_listen"]
    ]
    static_dir = s["nginx_site_static_dir"]
    # Names of the site's own nginx variables: letters, digits and "_" only.
    variables = "pyops_" + re.sub(r"[^A-Za-z0-9_]", "_", s["nginx_site_name"])
    site_tls = tls.site_tls(s, readings)
    return {
        "variables": variables,
        # Request headers that say something of the connection, which the app (and uWSGI, for the
        # scheme) believes: passed on from a trusted proxy only.
        "forwarding_headers": list(_FORWARDING_HEADERS),
        "upstream_name": f"pyops_{s['nginx_site_name']}" if upstream else "",
        "listen": listen,
        "uwsgi_pass": f"pyops_{s['nginx_site_name']}" if upstream else s["nginx_site_uwsgi_pass"],
        "static_alias": static_dir.rstrip("/") + "/" if static_dir else "",
        "static_bridge": _static_bridge(s, variables),
        "locations": [
            _location(item, s["nginx_site_static_expires"])
            for item in s.get("nginx_site_locations") or []
        ],
        "target": values.site_target(s["nginx_site_listen"], s["nginx_site_server_names"]),
        "tls": site_tls,
        "limits": limits.site_directives(
            header_size=limits.bytes_of(s["nginx_site_uwsgi_buffer_size"]),
            read_timeout=s["nginx_site_uwsgi_read_timeout"],
            max_conns=s["nginx_site_max_conns"],
            retry_after=s["nginx_site_retry_after"],
        ),
        "security_headers": _security_headers(s, variables, site_tls),
        "maintenance": maintenance.site(s, variables, s.get("nginx_site_health_path", "")),
        "lb_health": lb_health.site(s, tls_site=site_tls, target=_https_target(s, site_tls)),
    }


def _https_target(s, site_tls):
    """Where a client of the site's name reaches it: its HTTPS server when it serves one."""
    names = s["nginx_site_server_names"]
    if site_tls.get("enabled") and site_tls.get("ready"):
        return values.site_target(s["nginx_site_tls_listen"], names, scheme="https")
    return values.site_target(s["nginx_site_listen"], names)


def _security_headers(s, variables, site_tls):
    """The site's default headers, each with the variable that holds it where the app sent none.

    An app's own value (Django's X-Frame-Options: DENY) must reach the browser once and unchanged:
    two values of one header are invalid. So a header is sent through a map of the app's
    ($upstream_http_NAME): the default when that is empty, nothing otherwise (add_header skips an
    empty value). Answers nginx makes itself (files, errors) have no upstream header: defaults.
    """
    headers = dict(s["nginx_security_headers"])
    if site_tls.get("enabled") and site_tls.get("ready") and site_tls.get("hsts"):
        headers["Strict-Transport-Security"] = site_tls["hsts"]
    found = []
    for name, value in headers.items():
        key = name.lower().replace("-", "_")
        found.append(
            {
                "name": name,
                "value": str(value),
                "upstream": f"$upstream_http_{key}",
                "variable": f"${variables}_header_{key}",
            }
        )
    return found


def quoted(text):
    """TEXT as one double-quoted nginx token, read back by nginx byte for byte."""
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _static_bridge(s, variables):
    """The named location that serves, from the previous release's static directory, a file the
    release serving lacks ({} without nginx_site_static_bridge_dir).

    alias cannot stand in a named location, and try_files with alias joins paths wrongly, so the
    file is looked up under root with the static URL cut off by a rewrite (on the URI nginx has
    decoded and normalised: no ".." is left in it). No symbolic link below the directory is
    followed: only what lies in it is served.
    """
    bridge_dir = s["nginx_site_static_bridge_dir"]
    if not bridge_dir or not s["nginx_site_static_url"]:
        return {}
    root = bridge_dir.rstrip("/") or "/"
    prefix = re.sub(r"([^A-Za-z0-9/])", r"\\\1", s["nginx_site_static_url"])
    pattern = s["nginx_site_static_bridge_pattern"]
    return {
        "location": f"@{variables}_static_bridge",
        "root": root,
        "rewrite": quoted(f"^{prefix}(.*)$"),
        "pattern": quoted(pattern) if pattern else "",
    }


def _location(item, static_expires):
    """A further location: public, with its expiry; or internal, with none (the app's stands)."""
    internal = item["internal"]
    return {
        "url": item["url"],
        "alias": item["dir"].rstrip("/") + "/",
        "internal": internal,
        "expires": "" if internal else item["expires"] or static_expires,
    }
