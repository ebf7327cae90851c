"""The rules of the uwsgi and nginx roles, and the values an nginx site is written from.

Settings start from each role's defaults/main.yml, as the role_settings action passes them once
Ansible has templated them. Every rule has a bad value that breaks it alone (a test checks the
table reaches every rule, so a new rule needs a row) and the defaults plus realistic non-defaults
break none.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml
from ansible_collections.pyops.uwsgi.plugins.module_utils import role_rules
from ansible_collections.pyops.uwsgi.tests.unit.plugins import stand_in

ROOT = Path(__file__).resolve().parents[4]
_TEMPLATED = re.compile(r"\{\{\s*([A-Za-z_][A-Za-z0-9_]*)\s*\}\}")


def role_defaults(role):
    """ROLE's defaults, "{{ name }}" replaced by the default of that name (as Ansible would)."""
    raw = yaml.safe_load((ROOT / "roles" / role / "defaults" / "main.yml").read_text())

    def resolve(value):
        if isinstance(value, str):
            return _TEMPLATED.sub(lambda match: str(raw[match.group(1)]), value)
        return value

    return {name: resolve(value) for name, value in raw.items()}


UWSGI_MAIN = ("uwsgi", "main")
NGINX_MAIN = ("nginx", "main")
NGINX_SITE = ("nginx", "site")
FRONT_DRAIN = ("front", "drain")
FRONT_RESTORE = ("front", "restore")
PATCH_MAIN = ("patch", "main")
# The front role's settings for an app host behind one nginx front (its defaults are templates of
# inventory variables).
FRONT = {
    **role_defaults("front"),
    "front_nginx_hosts": ["front1"],
    "front_addresses": ["10.0.1.21"],
    "front_target_id": "i-0123456789abcdef0",
    "front_target_region": "",
}
TARGET_GROUP_ARN = (
    "arn:aws:elasticloadbalancing:eu-west-1:123456789012:targetgroup/shop-web/0123456789abcdef"
)

SOCKET = "unix:/run/uwsgi/shop/shop.sock"
BASE = {
    UWSGI_MAIN: role_defaults("uwsgi"),
    NGINX_MAIN: role_defaults("nginx"),
    # nginx_site_name is required, and a present site needs somewhere to pass requests to.
    NGINX_SITE: {
        **role_defaults("nginx"),
        "nginx_site_name": "shop",
        "nginx_site_uwsgi_pass": SOCKET,
    },
    FRONT_DRAIN: FRONT,
    FRONT_RESTORE: FRONT,
    PATCH_MAIN: role_defaults("patch"),
}


# What the uwsgi role read from apt: every version it asked about can be installed.
def offered(version, *missing):
    """apt's answer for a Python version's three packages, MISSING among them not offered."""
    names = [f"python{version}{suffix}" for suffix in ("", "-dev", "-venv")]
    return {name: name not in missing for name in names}


APT_OK = {"packages": offered("3.12"), "distribution": "Debian 12", "python3": "3.11"}
READINGS = {UWSGI_MAIN: APT_OK}
UPSTREAM = ["10.0.1.21:3031", "10.0.1.22:3031"]


def settings_and_readings(entry, changes, readings=None):
    settings = {**BASE[entry], **changes}
    return settings, READINGS.get(entry, {}) if readings is None else readings


def broken(entry, changes, readings=None):
    """The positions, among ENTRY's rules, of the rules CHANGES break."""
    settings, readings = settings_and_readings(entry, changes, readings)
    rules = role_rules.RULES[entry](settings, readings)
    return {number for number, (ok, _message) in enumerate(rules) if not ok}


def bad(entry, variable, value, readings=None, **more):
    """A row: VARIABLE set to VALUE (with MORE changes) breaks one rule, which names VARIABLE."""
    changes = {variable: value, **more}
    label = f"{entry[0]}.{entry[1]}:{variable}={value!r}" + ("+readings" if readings else "")
    return pytest.param(entry, changes, readings, variable, id=label)


def good(entry, label, readings=None, **changes):
    return pytest.param(entry, changes, readings, id=f"{entry[0]}.{entry[1]}:{label}")


# A site named for its host, behind a load balancer that asks from 10.0.0.0/16.
NAMED = {"nginx_site_server_names": ["shop.example.org"]}
LB = {"nginx_site_lb_health_networks": ["10.0.0.0/16"], **NAMED}

BAD = [
    # --- uwsgi ----------------------------------------------------------------------------------
    bad(UWSGI_MAIN, "uwsgi_python_versions", ["3"]),
    bad(UWSGI_MAIN, "uwsgi_python_versions", ["python3.13"]),
    bad(UWSGI_MAIN, "uwsgi_python_versions", ["3.13.1"]),
    bad(UWSGI_MAIN, "uwsgi_pip_python_versions", ["2.7"]),
    bad(UWSGI_MAIN, "uwsgi_pip_version", "latest"),
    bad(UWSGI_MAIN, "uwsgi_pip_version", "2.0"),
    bad(UWSGI_MAIN, "uwsgi_pip_version", "v2.0.31"),
    bad(UWSGI_MAIN, "uwsgi_run_dir", "/tmp/uwsgi"),
    bad(UWSGI_MAIN, "uwsgi_run_dir", "/var/run/uwsgi"),
    bad(UWSGI_MAIN, "uwsgi_run_dir", "/run/my uwsgi"),
    bad(UWSGI_MAIN, "uwsgi_vassals_dir", "etc/uwsgi/vassals"),
    bad(UWSGI_MAIN, "uwsgi_plugin_dir", ""),
    bad(UWSGI_MAIN, "uwsgi_pip_root", "/opt/my uwsgi"),
    bad(UWSGI_MAIN, "uwsgi_emperor_service", "uwsgi emperor"),
    bad(UWSGI_MAIN, "uwsgi_emperor_service", "uwsgi/emperor"),
    bad(UWSGI_MAIN, "uwsgi_uwsgitop_version", "latest"),
    bad(UWSGI_MAIN, "uwsgi_uwsgitop_version", "0.12a"),
    bad(UWSGI_MAIN, "uwsgi_emperor_scan_interval", 0),
    bad(UWSGI_MAIN, "uwsgi_emperor_limit_nofile", 1000),
    bad(UWSGI_MAIN, "uwsgi_system_slice_cpu_weight", -1),
    bad(UWSGI_MAIN, "uwsgi_system_slice_cpu_weight", 10001),
    bad(UWSGI_MAIN, "uwsgi_python_apt_repository", "deadsnakes"),
    bad(UWSGI_MAIN, "uwsgi_python_apt_repository", "ppa:deadsnakes"),
    bad(
        UWSGI_MAIN,
        "uwsgi_python_apt_repository",
        "https://ppa.launchpadcontent.net/deadsnakes/ppa/ubuntu",
    ),
    bad(UWSGI_MAIN, "uwsgi_pip_index_url", "pypi.example.org/simple"),
    bad(UWSGI_MAIN, "uwsgi_pip_extra_index_urls", ["ftp://mirror.example.org/simple"]),
    bad(UWSGI_MAIN, "uwsgi_pip_ca_bundle", "certs/ca.pem"),
    bad(UWSGI_MAIN, "uwsgi_extra_packages", ["Uwsgi-plugin-gevent-python3"]),
    bad(UWSGI_MAIN, "uwsgi_extra_packages", ["uwsgi-plugin-gevent-python3 curl"]),
    bad(UWSGI_MAIN, "uwsgi_extra_packages", ["uwsgi_plugin"]),
    bad(UWSGI_MAIN, "uwsgi_apt_cache_valid_time", -1),
    bad(UWSGI_MAIN, "uwsgi_emperor_options", {"emperor": "/etc/uwsgi/other"}),
    # apt offers no python3.12, or not all of its packages.
    bad(
        UWSGI_MAIN,
        "uwsgi_python_versions",
        ["3.12"],
        readings={"packages": offered("3.12", "python3.12", "python3.12-dev", "python3.12-venv")},
    ),
    bad(
        UWSGI_MAIN,
        "uwsgi_pip_python_versions",
        ["3.12"],
        readings={"packages": offered("3.12", "python3.12-venv"), "distribution": "Debian 12"},
    ),
    # --- nginx (server-wide) --------------------------------------------------------------------
    bad(NGINX_MAIN, "nginx_client_max_body_size", "1mb"),
    bad(NGINX_MAIN, "nginx_client_max_body_size", "10 m"),
    bad(NGINX_MAIN, "nginx_client_max_body_size", "-1"),
    bad(NGINX_MAIN, "nginx_client_header_buffer_size", "1kb"),
    bad(NGINX_MAIN, "nginx_client_body_buffer_size", "big"),
    bad(NGINX_MAIN, "nginx_large_client_header_buffers", "8k"),
    bad(NGINX_MAIN, "nginx_large_client_header_buffers", "0 8k"),
    bad(NGINX_MAIN, "nginx_large_client_header_buffers", "4x8k"),
    # More than a uwsgi packet (65535 bytes) can carry to the app.
    bad(NGINX_MAIN, "nginx_large_client_header_buffers", "8 16k"),
    bad(NGINX_MAIN, "nginx_large_client_header_buffers", "4 12k"),
    bad(NGINX_MAIN, "nginx_worker_processes", "0"),
    bad(NGINX_MAIN, "nginx_worker_processes", "many"),
    bad(NGINX_MAIN, "nginx_worker_processes", "-1"),
    bad(NGINX_MAIN, "nginx_worker_connections", 63),
    bad(NGINX_MAIN, "nginx_access_log", "access.log"),
    bad(NGINX_MAIN, "nginx_access_log", "/var/log/nginx/access.log combined"),
    bad(NGINX_MAIN, "nginx_access_log", "/var/log/nginx/access.log;"),
    bad(NGINX_MAIN, "nginx_client_body_timeout", 0),
    bad(NGINX_MAIN, "nginx_client_header_timeout", 0),
    bad(NGINX_MAIN, "nginx_keepalive_timeout", 0),
    bad(NGINX_MAIN, "nginx_send_timeout", -5),
    bad(NGINX_MAIN, "nginx_apt_cache_valid_time", -1),
    bad(NGINX_MAIN, "nginx_load_balancer_idle_timeout", 0),
    bad(NGINX_MAIN, "nginx_security_headers", {"X Frame Options": "DENY"}),
    bad(NGINX_MAIN, "nginx_security_headers", {"X-Frame-Options:": "DENY"}),
    bad(NGINX_MAIN, "nginx_security_headers", {"X-Test": 'a" always; add_header X-Evil "1'}),
    bad(NGINX_MAIN, "nginx_security_headers", {"X-Test": "a\nSet-Cookie: session=1"}),
    bad(NGINX_MAIN, "nginx_security_headers", {"Content-Security-Policy": "default-src $host"}),
    bad(NGINX_MAIN, "nginx_security_headers", {"X-Test": "a\\"}),
    bad(NGINX_MAIN, "nginx_security_headers", {"X-" + "a" * 63: "1"}),
    # --- nginx site (present) -------------------------------------------------------------------
    bad(NGINX_SITE, "nginx_site_name", "Shop"),
    bad(NGINX_SITE, "nginx_site_name", "my shop"),
    bad(NGINX_SITE, "nginx_site_name", ""),
    bad(NGINX_SITE, "nginx_site_name", "../shop"),
    bad(NGINX_SITE, "nginx_site_name", "s" * 65),
    bad(NGINX_SITE, "nginx_site_uwsgi_pass", ""),
    bad(NGINX_SITE, "nginx_site_uwsgi_pass", "/run/uwsgi/shop/shop.sock"),
    bad(NGINX_SITE, "nginx_site_uwsgi_pass", "unix:/tmp/shop.sock"),
    bad(NGINX_SITE, "nginx_site_uwsgi_pass", "http://127.0.0.1:3031"),
    bad(NGINX_SITE, "nginx_site_uwsgi_pass", "127.0.0.1:3031; include /etc/passwd"),
    # Both set: which one is meant is not said.
    bad(NGINX_SITE, "nginx_site_upstream", UPSTREAM),
    bad(NGINX_SITE, "nginx_site_upstream", ["10.0.1.21:3031"] * 2, nginx_site_uwsgi_pass=""),
    bad(NGINX_SITE, "nginx_site_upstream", ["unix:/run/uwsgi/a.sock"], nginx_site_uwsgi_pass=""),
    bad(NGINX_SITE, "nginx_site_upstream", ["10.0.1.21"], nginx_site_uwsgi_pass=""),
    bad(NGINX_SITE, "nginx_site_upstream_max_fails", -1),
    bad(NGINX_SITE, "nginx_site_upstream_fail_timeout", 0),
    bad(NGINX_SITE, "nginx_site_uwsgi_connect_timeout", 0),
    bad(NGINX_SITE, "nginx_site_listen", []),
    bad(NGINX_SITE, "nginx_site_listen", ["80;"]),
    bad(NGINX_SITE, "nginx_site_listen", ["80", "http://0.0.0.0:80"]),
    bad(NGINX_SITE, "nginx_site_server_names", []),
    bad(NGINX_SITE, "nginx_site_server_names", ["shop example.org"]),
    bad(NGINX_SITE, "nginx_site_server_names", ["shop.example.org;"]),
    bad(NGINX_SITE, "nginx_site_static_url", "static/", nginx_site_static_dir="/srv/shop/static"),
    bad(NGINX_SITE, "nginx_site_static_url", "/static", nginx_site_static_dir="/srv/shop/static"),
    bad(NGINX_SITE, "nginx_site_static_url", "/static/"),
    bad(NGINX_SITE, "nginx_site_static_dir", "static", nginx_site_static_url="/static/"),
    bad(NGINX_SITE, "nginx_site_static_expires", "1 hour"),
    bad(NGINX_SITE, "nginx_site_static_expires", "forever"),
    bad(NGINX_SITE, "nginx_site_static_bridge_dir", "/srv/shop/previous/code/static"),
    bad(
        NGINX_SITE,
        "nginx_site_static_bridge_dir",
        "previous/code/static",
        nginx_site_static_url="/static/",
        nginx_site_static_dir="/srv/shop/current/code/static",
    ),
    bad(
        NGINX_SITE,
        "nginx_site_static_bridge_dir",
        "/srv/shop/current/code/static/",
        nginx_site_static_url="/static/",
        nginx_site_static_dir="/srv/shop/current/code/static",
    ),
    bad(
        NGINX_SITE,
        "nginx_site_static_bridge_pattern",
        "([0-9a-f]{8}",
        nginx_site_static_url="/static/",
        nginx_site_static_dir="/srv/shop/current/code/static",
        nginx_site_static_bridge_dir="/srv/shop/previous/code/static",
    ),
    bad(
        NGINX_SITE,
        "nginx_site_static_bridge_pattern",
        "\\.js$\n}",
        nginx_site_static_url="/static/",
        nginx_site_static_dir="/srv/shop/current/code/static",
        nginx_site_static_bridge_dir="/srv/shop/previous/code/static",
    ),
    bad(
        NGINX_SITE,
        "nginx_site_locations",
        [{"url": "media/", "dir": "/srv/m", "expires": "", "internal": False}],
    ),
    bad(
        NGINX_SITE,
        "nginx_site_locations",
        [{"url": "/media/", "dir": "media", "expires": "", "internal": False}],
    ),
    bad(
        NGINX_SITE,
        "nginx_site_locations",
        [{"url": "/", "dir": "/srv/m", "expires": "", "internal": False}],
    ),
    bad(
        NGINX_SITE,
        "nginx_site_locations",
        [{"url": "/m/", "dir": "/srv/m", "expires": "1 d", "internal": False}],
    ),
    bad(
        NGINX_SITE,
        "nginx_site_locations",
        [{"url": "/static/", "dir": "/srv/m", "expires": "", "internal": False}],
        nginx_site_static_url="/static/",
        nginx_site_static_dir="/srv/shop/static",
    ),
    bad(
        NGINX_SITE,
        "nginx_site_locations",
        [{"url": "/protected/", "dir": "/srv/p", "expires": "1h", "internal": True}],
    ),
    bad(
        NGINX_SITE,
        "nginx_site_locations",
        [{"url": "/static/private/", "dir": "/srv/p", "expires": "", "internal": True}],
        nginx_site_static_url="/static/",
        nginx_site_static_dir="/srv/shop/static",
    ),
    bad(
        NGINX_SITE,
        "nginx_site_locations",
        [
            {"url": "/files/", "dir": "/srv/p", "expires": "", "internal": True},
            {"url": "/files/public/", "dir": "/srv/f", "expires": "", "internal": False},
        ],
    ),
    bad(NGINX_SITE, "nginx_site_uwsgi_read_timeout", 0),
    bad(NGINX_SITE, "nginx_site_uwsgi_buffer_size", "2k"),
    bad(NGINX_SITE, "nginx_site_uwsgi_buffer_size", "128k"),
    bad(NGINX_SITE, "nginx_site_uwsgi_buffer_size", "32 KB"),
    bad(NGINX_SITE, "nginx_site_max_conns", -1),
    bad(NGINX_SITE, "nginx_site_retry_after", 0),
    bad(NGINX_SITE, "nginx_site_client_max_body_size", "10mb"),
    bad(NGINX_SITE, "nginx_security_headers", {"X Frame Options": "DENY"}),
    bad(NGINX_SITE, "nginx_site_trusted_proxies", ["0.0.0.0/0"]),
    bad(NGINX_SITE, "nginx_site_trusted_proxies", ["lb.example.org"]),
    bad(NGINX_SITE, "nginx_security_headers", {"X-Test": "a\rSet-Cookie: session=1"}),
    bad(NGINX_SITE, "nginx_site_maintenance_allowed", ["0.0.0.0/0"]),
    bad(NGINX_SITE, "nginx_site_maintenance_allowed", ["office.example.org"]),
    bad(NGINX_SITE, "nginx_site_maintenance_retry_after", 0),
    bad(NGINX_SITE, "nginx_site_maintenance_retry_after", 86401),
    # A load balancer's health URL (module_utils/lb_health.py).
    bad(NGINX_SITE, "nginx_site_lb_health_networks", ["0.0.0.0/0"], **NAMED),
    bad(NGINX_SITE, "nginx_site_lb_health_networks", ["10.0.0.0/33"], **NAMED),
    bad(NGINX_SITE, "nginx_site_lb_health_path", "health", **LB),
    bad(NGINX_SITE, "nginx_site_lb_health_path", "/health?x=1", **LB),
    bad(NGINX_SITE, "nginx_site_lb_health_listen", ["443"], **LB, nginx_site_tls="self_signed"),
    bad(NGINX_SITE, "nginx_site_lb_health_listen", ["8081 default_server"], **LB),
    bad(NGINX_SITE, "nginx_site_lb_health_listen", ["unix:/run/lb.sock"], **LB),
    bad(NGINX_SITE, "nginx_site_lb_health_listen", ["10.0.1.5:80"], **LB),
    bad(NGINX_SITE, "nginx_site_lb_health_networks", ["10.0.0.0/16"]),
    bad(
        NGINX_SITE,
        "nginx_site_lb_health_networks",
        ["10.0.0.0/16"],
        nginx_site_server_names=["shop.example.org"],
        nginx_site_listen=["80 default_server"],
    ),
    bad(NGINX_SITE, "nginx_site_lb_health_app_uri", "/health;x", **LB),
    bad(NGINX_SITE, "nginx_site_lb_health_app_uri", '/he"alth', **LB),
    bad(NGINX_SITE, "nginx_site_lb_health_host", "shop.example.org;", **LB),
    bad(NGINX_SITE, "nginx_site_lb_health_host", "_", **LB),
    bad(NGINX_SITE, "nginx_load_balancer_idle_timeout", 4001),
    bad(NGINX_SITE, "nginx_site_health_path", "/", nginx_site_maintenance=True),
    bad(NGINX_SITE, "nginx_site_health_path", "/health?full=1", nginx_site_maintenance=True),
    bad(NGINX_SITE, "nginx_site_health_path", "/a;b", nginx_site_maintenance=True),
    bad(NGINX_SITE, "nginx_site_health_path", "/a%20b", nginx_site_maintenance=True),
    bad(
        NGINX_SITE,
        "nginx_site_maintenance_page",
        "files/missing.html",
        readings={"maintenance_page_found": False},
    ),
    # --- front (drain and restore share their rules) ---------------------------------------------
    *[
        row
        for entry in (FRONT_DRAIN, FRONT_RESTORE)
        for row in (
            bad(entry, "front_addresses", []),
            bad(entry, "front_nginx_drain_timeout", -1),
            bad(entry, "front_nginx_healthy_timeout", 3601),
            bad(entry, "front_target_drain_timeout", 7200),
            bad(entry, "front_target_healthy_timeout", -5),
            bad(entry, "front_target_groups", ["shop_web"]),
            bad(entry, "front_target_groups", ["a" * 33]),
            bad(entry, "front_target_groups", ["shop-"]),
            bad(entry, "front_target_id", "", front_target_groups=["shop-web"]),
            bad(entry, "front_target_port", 70000),
            bad(entry, "front_target_region", "Ireland"),
        )
    ],
    # --- patch ------------------------------------------------------------------------------------
    bad(PATCH_MAIN, "patch_reboot_timeout", 0),
    bad(PATCH_MAIN, "patch_lock_timeout", 4000),
    bad(PATCH_MAIN, "patch_boot_time_command", " cut -d' ' -f22 /proc/1/stat"),
]

GOOD = [
    good(UWSGI_MAIN, "defaults"),
    good(UWSGI_MAIN, "defaults-without-readings", readings={}),
    good(
        UWSGI_MAIN,
        "several-pythons",
        readings={"packages": {**offered("3.11"), **offered("3.12"), **offered("3.13")}},
        uwsgi_python_versions=["3.11", "3.13"],
        uwsgi_pip_python_versions=["3.12"],
        uwsgi_pip_version="2.0.28",
    ),
    good(UWSGI_MAIN, "ppa", uwsgi_python_apt_repository="ppa:deadsnakes/ppa"),
    good(
        UWSGI_MAIN,
        "deb-line",
        uwsgi_python_apt_repository="deb [signed-by=/usr/share/keyrings/deadsnakes.gpg]"
        " https://ppa.launchpadcontent.net/deadsnakes/ppa/ubuntu noble main",
    ),
    good(
        UWSGI_MAIN,
        "private-index",
        uwsgi_pip_index_url="https://pypi.example.org/simple",
        uwsgi_pip_extra_index_urls=["http://mirror.internal/simple"],
        uwsgi_pip_ca_bundle="/etc/ssl/certs/ca-certificates.crt",
    ),
    good(
        UWSGI_MAIN,
        "emperor-and-paths",
        uwsgi_run_dir="/run/uwsgi-apps",
        uwsgi_vassals_dir="/etc/uwsgi/vassals-main",
        uwsgi_emperor_service="uwsgi_emperor.main",
        uwsgi_emperor_scan_interval=5,
        uwsgi_emperor_limit_nofile=1024,
        uwsgi_emperor_options={"emperor-stats": "/run/uwsgi/emperor.sock", "vassal-set": ["a=1"]},
        uwsgi_extra_packages=["uwsgi-plugin-gevent-python3", "libpq5", "g++"],
        uwsgi_apt_cache_valid_time=0,
        uwsgi_uwsgitop_version="0.11",
    ),
    good(NGINX_MAIN, "defaults"),
    good(
        NGINX_MAIN,
        "tuned",
        nginx_worker_processes="4",
        nginx_worker_connections=64,
        nginx_access_log="off",
        nginx_client_max_body_size="1048576",
        nginx_client_header_buffer_size="4K",
        nginx_client_body_buffer_size="1M",
        nginx_large_client_header_buffers="2 16k",
        nginx_keepalive_timeout=1,
        nginx_apt_cache_valid_time=0,
    ),
    good(NGINX_MAIN, "no-headers", nginx_security_headers={}),
    good(
        NGINX_MAIN,
        "hsts",
        nginx_security_headers={
            "Strict-Transport-Security": "max-age=63072000; includeSubDomains",
            "Permissions-Policy": "geolocation=(), camera=()",
        },
    ),
    good(NGINX_SITE, "socket"),
    good(NGINX_SITE, "tcp", nginx_site_uwsgi_pass="127.0.0.1:3031"),
    good(NGINX_SITE, "ipv6", nginx_site_uwsgi_pass="[::1]:3031"),
    good(NGINX_SITE, "host-name", nginx_site_uwsgi_pass="app-1.internal:3031"),
    good(
        NGINX_SITE,
        "upstream",
        nginx_site_uwsgi_pass="",
        nginx_site_upstream=UPSTREAM,
        nginx_site_upstream_max_fails=0,
        nginx_site_upstream_fail_timeout=1,
        nginx_site_uwsgi_connect_timeout=1,
    ),
    good(
        NGINX_SITE,
        "names-and-listen",
        nginx_site_name="shop.example.org",
        nginx_site_listen=["80", "[::]:80", "127.0.0.1:8080", "8081 default_server"],
        nginx_site_server_names=["shop.example.org", "*.shop.example.org", "~^www\\d+\\.shop$"],
    ),
    good(
        NGINX_SITE,
        "static",
        nginx_site_static_url="/static/",
        nginx_site_static_dir="/srv/shop/static",
        nginx_site_static_expires="7d",
    ),
    good(
        NGINX_SITE, "static-dir-slash", nginx_site_static_url="/s/", nginx_site_static_dir="/srv/"
    ),
    good(
        NGINX_SITE,
        "locations",
        nginx_site_static_url="/static/",
        nginx_site_static_dir="/srv/shop/static",
        nginx_site_locations=[
            {
                "url": "/media/",
                "dir": "/var/lib/shop/shared/media",
                "expires": "",
                "internal": False,
            },
            {"url": "/downloads/", "dir": "/srv/files/", "expires": "7d", "internal": False},
            {
                "url": "/protected/",
                "dir": "/var/lib/shop/shared/private",
                "expires": "",
                "internal": True,
            },
        ],
    ),
    good(
        NGINX_SITE,
        "static-bridge",
        nginx_site_static_url="/static/",
        nginx_site_static_dir="/srv/shop/current/code/static",
        nginx_site_static_bridge_dir="/srv/shop/previous/code/static",
    ),
    good(
        NGINX_SITE,
        "static-bridge-every-file",
        nginx_site_static_url="/static/",
        nginx_site_static_dir="/srv/shop/current/code/static",
        nginx_site_static_bridge_dir="/srv/shop/previous/code/static",
        nginx_site_static_bridge_pattern="",
    ),
    # Without a bridge directory, the pattern is not read.
    good(NGINX_SITE, "static-bridge-off", nginx_site_static_bridge_pattern="(unclosed"),
    good(NGINX_SITE, "expires-off", nginx_site_static_expires="off"),
    good(NGINX_SITE, "expires-epoch", nginx_site_static_expires="epoch"),
    good(NGINX_SITE, "expires-negative", nginx_site_static_expires="-1"),
    good(
        NGINX_SITE, "limits", nginx_site_client_max_body_size="10m", nginx_site_uwsgi_read_timeout=1
    ),
    good(
        NGINX_SITE,
        "response-and-queue-limits",
        nginx_site_uwsgi_buffer_size="64k",
        nginx_site_max_conns=1024,
        nginx_site_retry_after=3600,
    ),
    good(NGINX_SITE, "small-response-headers", nginx_site_uwsgi_buffer_size="4k"),
    good(
        NGINX_SITE,
        "maintenance",
        readings={"maintenance_page_found": True},
        nginx_site_maintenance=True,
        nginx_site_maintenance_allowed=["127.0.0.1", "::1", "10.0.0.0/8"],
        nginx_site_maintenance_page="files/maintenance.html",
        nginx_site_maintenance_retry_after=86400,
        nginx_site_health_path="/health",
    ),
    good(NGINX_SITE, "maintenance-without-health-path", nginx_site_maintenance=True),
    good(NGINX_SITE, "load-balancer-health", **LB),
    good(
        NGINX_SITE,
        "load-balancer-health-own-port",
        nginx_site_lb_health_networks=["10.0.0.0/16", "2001:db8::/32"],
        nginx_site_lb_health_listen=["8081", "[::]:8081", "10.0.1.5:8082"],
        nginx_site_lb_health_path="/.lb/shop",
        nginx_site_lb_health_app_uri="/health?full=1",
        nginx_site_lb_health_host="www.example.org",
        nginx_load_balancer_idle_timeout=4000,
    ),
    # A site that is the default server of its own port keeps it; the health server takes another.
    good(
        NGINX_SITE,
        "load-balancer-health-beside-a-default-site",
        nginx_site_lb_health_networks=["10.0.0.0/16"],
        nginx_site_lb_health_listen=["8081"],
    ),
    good(NGINX_SITE, "load-balancer-health-https", **LB, nginx_site_tls="self_signed"),
    # Out of maintenance the health path is the app's business only.
    good(NGINX_SITE, "health-path-home", nginx_site_health_path="/"),
    good(
        FRONT_DRAIN, "target-groups-by-name-and-arn", front_target_groups=["web", TARGET_GROUP_ARN]
    ),
    good(FRONT_DRAIN, "no-fronts-no-address", front_nginx_hosts=[], front_addresses=[]),
    good(FRONT_RESTORE, "port-and-region", front_target_port=8080, front_target_region="eu-west-1"),
    good(UWSGI_MAIN, "system-slice-untouched", uwsgi_system_slice_cpu_weight=0),
    good(UWSGI_MAIN, "system-slice-bounds", uwsgi_system_slice_cpu_weight=10000),
    good(PATCH_MAIN, "container-boot-time", patch_boot_time_command="cut -d' ' -f22 /proc/1/stat"),
]


@pytest.mark.parametrize(("entry", "changes", "readings", "variable"), BAD)
def test_a_bad_value_is_refused_naming_its_variable(entry, changes, readings, variable):
    settings, readings = settings_and_readings(entry, changes, readings)
    found = role_rules.errors(*entry, settings, readings)
    assert len(found) == 1, found
    assert variable in found[0]


@pytest.mark.parametrize(("entry", "changes", "readings"), GOOD)
def test_good_values_are_accepted(entry, changes, readings):
    settings, readings = settings_and_readings(entry, changes, readings)
    assert role_rules.errors(*entry, settings, readings) == []


@pytest.mark.parametrize("entry", sorted(role_rules.RULES))
def test_every_rule_has_a_bad_value(entry):
    settings, readings = settings_and_readings(entry, {})
    rules = list(role_rules.RULES[entry](settings, readings))
    covered = set()
    for row in BAD:
        row_entry, changes, row_readings, _variable = row.values
        if row_entry == entry:
            found = broken(entry, changes, row_readings)
            assert len(found) == 1, (row.id, found)
            covered |= found
    assert covered == set(range(len(rules)))


def test_every_entry_point_with_rules_is_tested():
    assert set(role_rules.RULES) == set(BASE)


def test_defaults_have_no_template_left():
    for settings in BASE.values():
        assert not [name for name, value in settings.items() if "{{" in str(value)]
    assert BASE[NGINX_SITE]["nginx_site_client_max_body_size"] == "1m"


def test_an_entry_point_without_rules_has_no_errors():
    assert role_rules.errors("app", "main", {}) == []
    assert role_rules.errors("nginx", "sites", {}) == []


def test_apt_readings_name_each_version_that_cannot_be_installed():
    readings = {
        "packages": {
            **offered("3.9", "python3.9", "python3.9-dev", "python3.9-venv"),
            **offered("3.11"),
            **offered("3.14", "python3.14-dev"),
        },
        "distribution": "Debian 12",
        "python3": "3.11",
    }
    settings = {**BASE[UWSGI_MAIN], "uwsgi_python_versions": ["3.9", "3.11", "3.14"]}
    found = role_rules.errors("uwsgi", "main", settings, readings)
    assert len(found) == 1
    assert found[0].startswith("Python 3.9 and 3.14 (from uwsgi_python_versions")
    assert (
        "offer no python3.9, python3.9-dev, python3.9-venv, python3.14-dev (Debian 12" in found[0]
    )
    assert "has Python 3.11)" in found[0]
    assert "uwsgi_python_apt_repository" in found[0]
    # Versions apt was not asked about (the host's own python3) are not judged.
    assert role_rules.errors("uwsgi", "main", BASE[UWSGI_MAIN], {"packages": {}}) == []


def test_no_nginx_site_upstream_nor_uwsgi_pass_names_both():
    settings = {**BASE[NGINX_SITE], "nginx_site_uwsgi_pass": ""}
    [message] = role_rules.errors("nginx", "site", settings)
    assert "nginx_site_uwsgi_pass" in message
    assert "nginx_site_upstream" in message


# --- restored and absent: only the name is checked ------------------------------------------

SITE_BAD_BUT_NAME = [
    pytest.param(row.values[1], id=row.id)
    for row in BAD
    if row.values[0] == NGINX_SITE and row.values[3] != "nginx_site_name"
]


@pytest.mark.parametrize("state", ["restored", "absent"])
@pytest.mark.parametrize("changes", SITE_BAD_BUT_NAME)
def test_a_site_not_present_needs_only_its_name(state, changes):
    settings = {**BASE[NGINX_SITE], **changes, "nginx_site_state": state}
    assert role_rules.errors("nginx", "site", settings) == []


@pytest.mark.parametrize("state", ["restored", "absent"])
def test_a_site_not_present_still_needs_a_good_name(state):
    settings = {**BASE[NGINX_SITE], "nginx_site_name": "Shop", "nginx_site_state": state}
    [message] = role_rules.errors("nginx", "site", settings)
    assert "nginx_site_name" in message


def test_a_site_not_present_needs_nowhere_to_pass_to():
    settings = {**role_defaults("nginx"), "nginx_site_name": "shop", "nginx_site_state": "absent"}
    assert role_rules.errors("nginx", "site", settings) == []


# --- what the rules let through and should not ----------------------------------------------


@pytest.mark.parametrize(
    "headers",
    [{"X Frame Options": "DENY"}, {"X-Test": "a\nSet-Cookie: session=1"}],
    ids=["name", "line-break"],
)
def test_site_security_headers_are_checked(headers):
    settings = {**BASE[NGINX_SITE], "nginx_security_headers": headers}
    found = role_rules.errors("nginx", "site", settings)
    assert len(found) == 1
    assert "nginx_security_headers" in found[0]


def test_a_carriage_return_in_a_security_header_is_refused():
    settings = {**BASE[NGINX_MAIN], "nginx_security_headers": {"X-Test": "a\rSet-Cookie: x=1"}}
    found = role_rules.errors("nginx", "main", settings)
    assert len(found) == 1
    assert "nginx_security_headers" in found[0]


def test_a_run_dir_that_climbs_out_of_run_is_refused():
    found = role_rules.errors("uwsgi", "main", {**BASE[UWSGI_MAIN], "uwsgi_run_dir": "/run/../tmp"})
    assert len(found) == 1
    assert "uwsgi_run_dir" in found[0]


@pytest.mark.parametrize(
    ("entry", "variable", "value"),
    [
        (NGINX_SITE, "nginx_site_name", "shop\n"),
        (UWSGI_MAIN, "uwsgi_emperor_service", "uwsgi-emperor\n"),
        (UWSGI_MAIN, "uwsgi_pip_version", "2.0.31\n"),
    ],
    ids=["nginx_site_name", "uwsgi_emperor_service", "uwsgi_pip_version"],
)
def test_a_trailing_line_break_is_refused(entry, variable, value):
    settings, readings = settings_and_readings(entry, {variable: value})
    found = role_rules.errors(*entry, settings, readings)
    assert len(found) == 1
    assert variable in found[0]


@pytest.mark.parametrize("state", ["present", "absent"])
def test_what_the_rules_accept_nginx_site_can_write(state):
    settings = {
        **BASE[NGINX_SITE],
        "nginx_site_state": state,
        "nginx_site_listen": ["unix:/run/nginx/shop.sock"],
    }
    # Either the rules refuse it, or the site can be written from it.
    assert role_rules.errors("nginx", "site", settings) or role_rules.nginx_site(settings)


# --- nginx_site(): the values the site template is written from -----------------------------


def site(**changes):
    return role_rules.nginx_site({**BASE[NGINX_SITE], **changes})


@pytest.mark.parametrize(
    ("listen", "names", "expected"),
    [
        (["80"], ["_"], ["80 default_server"]),
        (
            ["80", "[::]:80"],
            ["_", "shop.example.org"],
            ["80 default_server", "[::]:80 default_server"],
        ),
        (["80 default_server"], ["_"], ["80 default_server"]),
        (["80 default_server", "[::]:80"], ["_"], ["80 default_server", "[::]:80 default_server"]),
        (["443 ssl"], ["shop.example.org", "_"], ["443 ssl default_server"]),
        (["80", "[::]:80"], ["shop.example.org"], ["80", "[::]:80"]),
        (["80"], ["*.example.org", "~^www\\d+\\.example\\.org$"], ["80"]),
    ],
)
def test_default_server_where_a_name_is_underscore(listen, names, expected):
    settings = {**BASE[NGINX_SITE], "nginx_site_listen": listen, "nginx_site_server_names": names}
    assert role_rules.nginx_site(settings)["listen"] == expected
    assert settings["nginx_site_listen"] == listen  # the settings themselves are left alone


def test_a_socket_site_passes_to_its_socket():
    values = site()
    assert values["upstream_name"] == ""
    assert values["uwsgi_pass"] == SOCKET


def test_a_tcp_site_passes_to_its_address():
    values = site(nginx_site_uwsgi_pass="127.0.0.1:3031")
    assert (values["upstream_name"], values["uwsgi_pass"]) == ("", "127.0.0.1:3031")


def test_an_upstream_site_passes_to_its_own_upstream_group():
    shop = site(nginx_site_uwsgi_pass="", nginx_site_upstream=UPSTREAM)
    blog = site(nginx_site_name="blog", nginx_site_uwsgi_pass="", nginx_site_upstream=UPSTREAM)
    assert shop["upstream_name"] == shop["uwsgi_pass"] == "pyops_shop"
    assert blog["upstream_name"] == blog["uwsgi_pass"] == "pyops_blog"


@pytest.mark.parametrize(
    ("static_dir", "alias"),
    [
        ("/srv/shop/static", "/srv/shop/static/"),
        ("/srv/shop/static/", "/srv/shop/static/"),
        ("/srv/shop/static///", "/srv/shop/static/"),
        ("/", "/"),
        ("", ""),
    ],
)
def test_static_alias_ends_with_one_slash(static_dir, alias):
    assert (
        site(nginx_site_static_url="/static/", nginx_site_static_dir=static_dir)["static_alias"]
        == alias
    )


@pytest.mark.parametrize(
    ("listen", "names", "target"),
    [
        (
            ["80"],
            ["_"],
            {"address": "127.0.0.1", "port": 80, "host": "localhost", "url": "http://127.0.0.1:80"},
        ),
        (
            ["127.0.0.1:8080", "80"],
            ["_", "shop.example.org"],
            {
                "address": "127.0.0.1",
                "port": 8080,
                "host": "shop.example.org",
                "url": "http://127.0.0.1:8080",
            },
        ),
        (
            ["[::]:8000 default_server"],
            ["*.example.org", "www.example.org"],
            {
                "address": "[::1]",
                "port": 8000,
                "host": "www.example.org",
                "url": "http://[::1]:8000",
            },
        ),
    ],
)
def test_target(listen, names, target):
    assert site(nginx_site_listen=listen, nginx_site_server_names=names)["target"] == target


def test_the_template_reads_only_what_nginx_site_gives():
    template = ROOT / "roles/nginx/templates/etc/nginx/sites-available/site.conf.j2"
    used = set(re.findall(r"\bsite\.([a-z_]+)", template.read_text()))
    assert used
    assert used <= set(site())


MEDIA = {"url": "/media/", "dir": "/var/lib/shop/shared/media", "expires": "", "internal": False}
FILES = {"url": "/files/", "dir": "/srv/files/", "expires": "7d", "internal": False}
PRIVATE = {
    "url": "/protected/",
    "dir": "/var/lib/shop/shared/private",
    "expires": "",
    "internal": True,
}


def test_further_locations_are_aliases_with_their_own_or_the_static_expiry():
    settings = {**BASE[NGINX_SITE], "nginx_site_locations": [MEDIA, FILES, PRIVATE]}
    assert role_rules.nginx_site(settings)["locations"] == [
        {
            "url": "/media/",
            "alias": "/var/lib/shop/shared/media/",
            "expires": "1h",
            "internal": False,
        },
        {"url": "/files/", "alias": "/srv/files/", "expires": "7d", "internal": False},
        # Internal: no expiry of nginx's, whatever the static one (the app's Cache-Control stands).
        {
            "url": "/protected/",
            "alias": "/var/lib/shop/shared/private/",
            "expires": "",
            "internal": True,
        },
    ]
    # A site written before the setting existed (no key at all) has none.
    del settings["nginx_site_locations"]
    assert role_rules.nginx_site(settings)["locations"] == []


def location_block(lines, url):
    """The directives of the site's location URL, between its braces."""
    start = lines.index(f"location {url} {{") + 1
    return lines[start : lines.index("}", start)]


def test_an_internal_location_answers_x_accel_redirect_only_and_a_public_one_everybody():
    settings, errors = stand_in.settings(
        "nginx",
        "site",
        nginx_site_name="shop",
        nginx_site_uwsgi_pass=SOCKET,
        nginx_site_locations=[
            {"url": "/media/", "dir": "/var/lib/shop/shared/media"},
            {"url": "/protected/", "dir": "/var/lib/shop/shared/private", "internal": True},
        ],
    )
    assert errors == []
    lines = stand_in.directives(stand_in.site_file(settings))
    assert location_block(lines, "/media/") == [
        "alias /var/lib/shop/shared/media/;",
        "expires 1h;",
        "access_log off;",
    ]
    private = [line for line in location_block(lines, "/protected/") if not line.startswith("#")]
    assert private == ["internal;", "alias /var/lib/shop/shared/private/;"]
    # "internal;" there and nowhere else: the app's own location stays open to clients.
    assert lines.count("internal;") == 1
