"""Maintenance mode: the site nginx is given, nginx itself answering from it, and the app's plan."""

from __future__ import annotations

import http.client
import os
import shutil
import socket
import subprocess
import threading
import time

import pytest
from ansible_collections.pyops.uwsgi.plugins.module_utils import maintenance, role_rules
from ansible_collections.pyops.uwsgi.tests.unit.plugins import stand_in

SOCKET = "unix:/run/uwsgi/shop/shop.sock"


def site_settings(**changes):
    changes = {"nginx_site_name": "shop", "nginx_site_uwsgi_pass": SOCKET, **changes}
    settings, errors = stand_in.settings("nginx", "site", **changes)
    assert errors == []
    return settings


MAINTENANCE = {
    "nginx_site_maintenance": True,
    "nginx_site_maintenance_allowed": ["127.0.0.1", "10.0.0.0/8"],
    "nginx_site_maintenance_retry_after": 120,
    "nginx_site_health_path": "/health",
}


def block(lines, opening):
    """The directives between OPENING's brace and its closing one (nested blocks included)."""
    start = lines.index(opening) + 1
    depth, end = 1, start
    while depth:
        depth += lines[end].endswith("{") - (lines[end] == "}")
        end += 1
    return lines[start : end - 1]


def test_off_the_site_has_no_trace_of_it():
    text = stand_in.site_file(site_settings(nginx_site_health_path="/health"))
    assert "$pyops_shop_maintenance" not in text
    assert maintenance.PAGE_URI not in text
    assert "location = /health" not in text


def test_on_clients_outside_the_networks_get_503_with_the_page():
    lines = stand_in.directives(stand_in.site_file(site_settings(**MAINTENANCE)))
    assert block(lines, "geo $pyops_shop_maintenance {") == [
        "default 1;",
        "127.0.0.1 0;",
        "10.0.0.0/8 0;",
    ]
    root = block(lines, "location / {")
    # First, before anything passes to the app: the one safe use of "if" (return).
    assert root[:4] == [
        "if ($pyops_shop_maintenance) {",
        f"error_page 503 {maintenance.PAGE_URI};",
        "return 503;",
        "}",
    ]
    page = block(lines, f"location = {maintenance.PAGE_URI} {{")
    assert page[:5] == [
        "internal;",
        "alias /etc/nginx/pyops-maintenance/shop.html;",
        "default_type text/html;",
        "add_header Retry-After 120 always;",
        'add_header Cache-Control "no-store" always;',
    ]
    # Its own add_header drops the server's: the security headers are repeated.
    server_headers = [line for line in lines[: lines.index("location / {")] if "add_header" in line]
    assert server_headers
    assert page[5:] == server_headers


def test_on_the_health_path_passes_to_the_app_as_location_root_does():
    lines = stand_in.directives(stand_in.site_file(site_settings(**MAINTENANCE)))
    root = block(lines, "location / {")
    assert block(lines, "location = /health {") == root[4:]
    assert "uwsgi_pass unix:/run/uwsgi/shop/shop.sock;" in root


def test_past_the_queue_the_busy_503_still_stands_beside_it():
    lines = stand_in.directives(
        stand_in.site_file(site_settings(nginx_site_max_conns=16, **MAINTENANCE))
    )
    assert "error_page 503 @pyops_shop_busy;" in block(lines, "location / {")
    assert "error_page 503 @pyops_shop_busy;" in block(lines, "location = /health {")


def test_without_a_page_of_the_user_s_the_role_writes_a_short_one():
    found = role_rules.nginx_site(site_settings(**MAINTENANCE))["maintenance"]
    assert found["page_own"] is False
    assert "come back in 2 minutes" in found["default_page"]
    assert found["page_file"] == "/etc/nginx/pyops-maintenance/shop.html"


# --- nginx itself, from the site file (skipped where there is no nginx) ------------------------


def _app_peer(path):
    """A stand-in for the app behind the socket PATH: 200 "app" to whatever it is asked."""
    server = socket.socket(socket.AF_UNIX)
    server.bind(path)
    server.listen(8)

    def serve():
        while True:
            try:
                connection, _address = server.accept()
            except OSError:
                return
            with connection:
                connection.recv(65536)
                connection.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n\r\napp\n")

    threading.Thread(target=serve, daemon=True).start()
    return server


def _ask(port, path, method="GET", source="127.0.0.1"):
    connection = http.client.HTTPConnection(
        "127.0.0.1", port, timeout=5, source_address=(source, 0)
    )
    try:
        connection.request(method, path, body=b"a=1" if method == "POST" else None)
        response = connection.getresponse()
        return response.status, dict(response.getheaders()), response.read()
    finally:
        connection.close()


@pytest.fixture
def nginx_site(tmp_path, unused_tcp_address):
    """nginx serving the site with maintenance on, loopback 127.0.0.1 allowed, 127.0.0.2 not."""
    binary = shutil.which("nginx", path="/usr/sbin:/usr/bin:" + os.environ.get("PATH", ""))
    if binary is None or not os.path.exists("/etc/nginx/uwsgi_params"):
        pytest.skip("no nginx here")
    port = int(unused_tcp_address.rpartition(":")[2])
    peer = _app_peer(str(tmp_path / "app.sock"))
    (tmp_path / "static").mkdir()
    (tmp_path / "static" / "a.css").write_text("css\n")
    page = tmp_path / "page.html"
    page.write_text("<h1>Back soon</h1>\n")
    settings = site_settings(
        nginx_site_listen=[f"127.0.0.1:{port}"],
        nginx_site_uwsgi_pass=f"unix:{tmp_path}/app.sock",
        nginx_site_static_url="/static/",
        nginx_site_static_dir=str(tmp_path / "static"),
        **{**MAINTENANCE, "nginx_site_maintenance_allowed": ["127.0.0.1"]},
    )
    site = stand_in.site_file(settings).replace(maintenance.page_file("shop"), str(page))
    temp = " ".join(
        f"{kind}_temp_path {tmp_path};"
        for kind in ("client_body", "proxy", "uwsgi", "fastcgi", "scgi")
    )
    (tmp_path / "nginx.conf").write_text(
        # Run as root, nginx's workers would be nobody, who cannot read the test's directory.
        ("user root;\n" if os.geteuid() == 0 else "")
        + f"daemon off; pid {tmp_path}/nginx.pid; error_log {tmp_path}/error.log;\n"
        f"events {{}}\nhttp {{ include /etc/nginx/mime.types; access_log off; {temp}\n{site}\n}}\n"
    )
    process = subprocess.Popen([binary, "-p", str(tmp_path), "-c", str(tmp_path / "nginx.conf")])
    try:
        for _attempt in range(50):
            if socket.socket().connect_ex(("127.0.0.1", port)) == 0:
                break
            time.sleep(0.1)
        yield port
    finally:
        process.terminate()
        process.wait()
        peer.close()


def test_nginx_answers_outsiders_503_the_page_and_retry_after(nginx_site):
    for method in ("GET", "POST"):
        status, headers, body = _ask(nginx_site, "/orders", method, source="127.0.0.2")
        assert (status, body) == (503, b"<h1>Back soon</h1>\n"), method
        assert headers["Retry-After"] == "120"
        assert headers["X-Frame-Options"] == "SAMEORIGIN"


def test_nginx_lets_allowed_clients_and_everyone_s_health_check_through(nginx_site):
    assert _ask(nginx_site, "/orders")[0::2] == (200, b"app\n")
    assert _ask(nginx_site, "/health", source="127.0.0.2")[0::2] == (200, b"app\n")
    assert _ask(nginx_site, "/static/a.css", source="127.0.0.2")[0::2] == (200, b"css\n")
    # The page's own URI is nginx's: a client asking for it gets 404.
    assert _ask(nginx_site, maintenance.PAGE_URI, source="127.0.0.2")[0] == 404


# --- the app role: the site alone changes -----------------------------------------------------


def test_switching_maintenance_changes_the_site_and_nothing_the_app_runs():
    off = stand_in.app(app_health_path="/health?full=1")["plan"]
    on = stand_in.app(
        app_health_path="/health?full=1",
        app_maintenance=True,
        app_maintenance_allowed=["10.0.0.0/8"],
        app_maintenance_page="../examples/maintenance.html",
        app_maintenance_retry_after=60,
    )["plan"]
    for section in ("vassal", "canary", "unit", "release", "workers", "environment", "tmpfiles"):
        assert on[section] == off[section], section
    site = on["nginx_site"]
    assert off["nginx_site"]["nginx_site_maintenance"] is False
    assert site["nginx_site_maintenance"] is True
    assert site["nginx_site_maintenance_allowed"] == ["10.0.0.0/8"]
    assert site["nginx_site_maintenance_retry_after"] == 60
    # The query is the app's: nginx matches the path.
    assert site["nginx_site_health_path"] == "/health"
    # Relative to the playbook's directory, as app_src_dir.
    assert site["nginx_site_maintenance_page"] == str(stand_in.ROOT / "examples/maintenance.html")
    assert os.path.isfile(site["nginx_site_maintenance_page"])
