"""A load balancer's health URL: the site nginx is given, nginx itself answering from it, and the
app role's mapping of its settings."""

from __future__ import annotations

import http.client
import json
import os
import shutil
import socket
import struct
import subprocess
import threading
import time

import pytest
from ansible_collections.pyops.uwsgi.plugins.module_utils import lb_health
from ansible_collections.pyops.uwsgi.tests.unit.plugins import stand_in

SOCKET = "unix:/run/uwsgi/shop/shop.sock"
# An HTTPS site whose certificate is given (ready from the start).
HTTPS = {
    "nginx_site_tls": "files",
    "nginx_site_tls_certificate": "files/shop-fullchain.pem",
    "nginx_site_tls_key": "files/shop.key",
}
LB = {
    "nginx_site_server_names": ["shop.example.org", "www.shop.example.org"],
    "nginx_site_lb_health_networks": ["10.0.0.0/16", "10.1.0.0/16"],
    "nginx_site_max_conns": 100,
}


def site_settings(**changes):
    changes = {"nginx_site_name": "shop", "nginx_site_uwsgi_pass": SOCKET, **changes}
    settings, errors = stand_in.settings("nginx", "site", **changes)
    assert errors == []
    return settings


def block(lines, opening, nth=0):
    """The directives between the NTH OPENING's brace and its closing one."""
    start = [number for number, line in enumerate(lines) if line == opening][nth] + 1
    depth, end = 1, start
    while depth:
        depth += lines[end].endswith("{") - (lines[end] == "}")
        end += 1
    return lines[start : end - 1]


def test_off_the_site_has_no_health_server_and_nginx_s_keepalive():
    named = {"nginx_site_server_names": ["shop.example.org"]}
    lines = stand_in.directives(stand_in.site_file(site_settings(**named)))
    assert lines.count("server {") == 1
    assert not [line for line in lines if "default_server" in line or "keepalive" in line]


def test_on_the_health_server_is_the_default_server_and_answers_one_path():
    lines = stand_in.directives(stand_in.site_file(site_settings(**LB)))
    assert lines.count("server {") == 2
    main, health = block(lines, "server {"), block(lines, "server {", nth=1)
    # The site's own server stays as it was: its names, no default_server.
    assert main[:2] == ["listen 80;", "server_name shop.example.org www.shop.example.org;"]
    assert health[0] == "listen 80 default_server;"
    assert not [line for line in health if line.startswith("server_name")]
    assert block(health, "location / {") == ["return 404;"]
    location = block(health, "location = /health {")
    assert location[:3] == ["allow 10.0.0.0/16;", "allow 10.1.0.0/16;", "deny all;"]
    assert block(location, "limit_except GET {") == ["deny all;"]


def test_on_the_app_is_passed_a_fixed_request_with_the_host_it_serves():
    location = block(
        stand_in.directives(stand_in.site_file(site_settings(**LB))), "location = /health {"
    )
    # Nothing of the client's but its method: no header, no body, no uwsgi_params.
    assert "uwsgi_pass_request_headers off;" in location
    assert "uwsgi_pass_request_body off;" in location
    assert not [line for line in location if line.startswith("include")]
    assert "uwsgi_param HTTP_HOST shop.example.org;" in location
    assert "uwsgi_param SERVER_NAME shop.example.org;" in location
    assert 'uwsgi_param PATH_INFO "/health";' in location
    assert "uwsgi_param HTTPS on;" not in location
    assert f"uwsgi_pass {SOCKET};" in location
    # It counts with the site's requests: past the app's queue, 503 at once.
    assert "limit_conn pyops_shop 100;" in location


def test_the_app_s_health_path_query_and_host_pass_as_given():
    lines = stand_in.directives(
        stand_in.site_file(
            site_settings(
                **LB,
                nginx_site_lb_health_path="/.lb/shop",
                nginx_site_lb_health_app_uri="/health?full=1",
                nginx_site_lb_health_host="www.shop.example.org",
                nginx_site_lb_health_listen=["8081", "[::]:8081"],
            )
        )
    )
    health = block(lines, "server {", nth=1)
    assert health[:2] == ["listen 8081 default_server;", "listen [::]:8081 default_server;"]
    location = block(health, "location = /.lb/shop {")
    assert 'uwsgi_param REQUEST_URI "/health?full=1";' in location
    assert 'uwsgi_param PATH_INFO "/health";' in location
    assert 'uwsgi_param QUERY_STRING "full=1";' in location
    assert "uwsgi_param HTTP_HOST www.shop.example.org;" in location


def test_behind_a_load_balancer_every_server_of_the_site_outlasts_its_idle_timeout():
    settings = site_settings(**LB, **HTTPS, nginx_load_balancer_idle_timeout=120)
    lines = stand_in.directives(stand_in.site_file(settings))
    # The HTTP redirect, the HTTPS server and the health server.
    assert lines.count("server {") == 3
    assert lines.count("keepalive_timeout 135s;") == 3
    longer = site_settings(**LB, nginx_keepalive_timeout=300)
    assert "keepalive_timeout 300s;" in stand_in.site_file(longer)


def test_an_https_site_tells_the_app_so_and_the_health_server_speaks_http():
    lines = stand_in.directives(stand_in.site_file(site_settings(**LB, **HTTPS)))
    # The redirect to HTTPS stays the site's names' alone.
    assert block(lines, "server {")[0] == "listen 80;"
    health = block(lines, "server {", nth=2)
    assert health[0] == "listen 80 default_server;"
    location = block(health, "location = /health {")
    assert "uwsgi_param HTTPS on;" in location
    assert "uwsgi_param REQUEST_SCHEME https;" in location
    assert "uwsgi_param SERVER_PORT 443;" in location


def test_maintenance_leaves_the_load_balancer_s_health_url_answering():
    settings = site_settings(**LB, nginx_site_maintenance=True)
    lines = stand_in.directives(stand_in.site_file(settings))
    location = block(block(lines, "server {", nth=1), "location = /health {")
    assert not [line for line in location if "maintenance" in line or line.startswith("if")]


# --- the app role: its settings mapped to the site's -----------------------------------------


def test_the_app_s_site_passes_its_health_path_and_the_host_its_check_sends():
    planned = stand_in.app(
        app_server_names=["*.hello.test"],
        app_health_host="www.hello.test",
        app_health_path="/health?full=1",
        app_lb_health_networks=["10.0.0.0/16"],
    )
    assert planned["errors"] == []
    site = planned["plan"]["nginx_site"]
    assert {key: value for key, value in site.items() if "_lb_" in key} == {
        "nginx_site_lb_health_networks": ["10.0.0.0/16"],
        "nginx_site_lb_health_path": "/health",
        "nginx_site_lb_health_listen": [],
        "nginx_site_lb_health_host": "www.hello.test",
        "nginx_site_lb_health_app_uri": "/health?full=1",
    }
    text = stand_in.site_file(site_settings(**{**site, "nginx_site_name": "hello"}))
    assert "uwsgi_param HTTP_HOST www.hello.test;" in text


def test_an_app_without_load_balancer_networks_passes_none_of_it():
    site = stand_in.app()["plan"]["nginx_site"]
    assert not [key for key in site if "_lb_" in key]


def test_two_sites_of_one_host_may_not_share_a_health_port():
    sites = [
        {"nginx_site_name": "shop", "nginx_site_lb_health_networks": ["10.0.0.0/16"],
         "nginx_site_lb_health_listen": [], "nginx_site_listen": ["80", "[::]:80"]},
        {"nginx_site_name": "blog", "nginx_site_lb_health_networks": ["10.0.0.0/16"],
         "nginx_site_lb_health_listen": ["8081"], "nginx_site_listen": ["80"]},
        {"nginx_site_name": "wiki", "nginx_site_lb_health_networks": ["10.0.0.0/16"],
         "nginx_site_lb_health_listen": ["8081"], "nginx_site_listen": ["80"]},
        {"nginx_site_name": "docs", "nginx_site_listen": ["80"],
         "nginx_site_server_names": ["docs.example.org"]},
        {"nginx_site_name": "any", "nginx_site_listen": ["80"], "nginx_site_server_names": ["_"]},
    ]  # fmt: skip
    found = lb_health.shared_ports(sites)
    assert [message.split(" would")[0] for message in found] == ["shop and any", "blog and wiki"]
    assert "port 8081 (a load balancer's health server" in found[1]
    assert "such as 8081 and 8082." in found[1]
    assert lb_health.shared_ports(sites[:2] + sites[3:4]) == []


# --- nginx itself, from the site file (skipped where there is no nginx) ------------------------


def _uwsgi_vars(data):
    """The variables of a uwsgi packet (DATA: its 4-byte header, then the variables)."""
    found, size, offset = {}, struct.unpack_from("<H", data, 1)[0], 4
    while offset < 4 + size:
        key_size = struct.unpack_from("<H", data, offset)[0]
        key = data[offset + 2 : offset + 2 + key_size].decode()
        offset += 2 + key_size
        value_size = struct.unpack_from("<H", data, offset)[0]
        found[key] = data[offset + 2 : offset + 2 + value_size].decode()
        offset += 2 + value_size
    return found


def _app_peer(path):
    """A stand-in for the app behind the socket PATH: 200 and the variables it was passed."""
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
                data = connection.recv(65536)
                body = json.dumps(_uwsgi_vars(data)).encode()
                connection.sendall(
                    b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n\r\n" + body
                )

    threading.Thread(target=serve, daemon=True).start()
    return server


def _ask(port, path, host, *, method="GET", source="127.0.0.1", headers=None):
    connection = http.client.HTTPConnection(
        "127.0.0.1", port, timeout=5, source_address=(source, 0)
    )
    try:
        connection.putrequest(method, path, skip_host=True)
        connection.putheader("Host", host)
        for name, value in (headers or {}).items():
            connection.putheader(name, value)
        connection.endheaders(b"a=1" if method == "POST" else None)
        response = connection.getresponse()
        body = response.read()
        return response.status, json.loads(body) if response.status == 200 and body else body
    finally:
        connection.close()


@pytest.fixture
def nginx_site(tmp_path, unused_tcp_address):
    """nginx serving the site, its health URL open to 127.0.0.1 and not to 127.0.0.2."""
    binary = shutil.which("nginx", path="/usr/sbin:/usr/bin:" + os.environ.get("PATH", ""))
    if binary is None or not os.path.exists("/etc/nginx/uwsgi_params"):
        pytest.skip("no nginx here")
    port = int(unused_tcp_address.rpartition(":")[2])
    peer = _app_peer(str(tmp_path / "app.sock"))
    settings = site_settings(
        **{**LB, "nginx_site_lb_health_networks": ["127.0.0.1"]},
        nginx_site_listen=[f"127.0.0.1:{port}"],
        nginx_site_uwsgi_pass=f"unix:{tmp_path}/app.sock",
        nginx_site_lb_health_app_uri="/health?full=1",
    )
    temp = " ".join(
        f"{kind}_temp_path {tmp_path};"
        for kind in ("client_body", "proxy", "uwsgi", "fastcgi", "scgi")
    )
    (tmp_path / "nginx.conf").write_text(
        ("user root;\n" if os.geteuid() == 0 else "")
        + f"daemon off; pid {tmp_path}/nginx.pid; error_log {tmp_path}/error.log;\n"
        f"events {{}}\nhttp {{ access_log off; {temp}\n{stand_in.site_file(settings)}\n}}\n"
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


def test_nginx_passes_the_health_request_asked_by_address_with_the_app_s_host(nginx_site):
    for host in ("127.0.0.1", f"127.0.0.1:{nginx_site}", "unknown.example.net"):
        status, passed = _ask(nginx_site, "/health", host, headers={"X-Forwarded-Host": "evil"})
        assert status == 200, host
        assert passed["HTTP_HOST"] == passed["SERVER_NAME"] == "shop.example.org"
        assert (passed["PATH_INFO"], passed["QUERY_STRING"]) == ("/health", "full=1")
        assert not [name for name in passed if name.startswith("HTTP_X_")]
    assert _ask(nginx_site, "/health", "127.0.0.1", method="HEAD")[0] == 200


def test_nginx_refuses_others_and_everything_else_asked_by_address(nginx_site):
    assert _ask(nginx_site, "/health", "127.0.0.1", source="127.0.0.2")[0] == 403
    assert _ask(nginx_site, "/health", "127.0.0.1", method="POST")[0] == 403
    assert _ask(nginx_site, "/admin/", "127.0.0.1")[0] == 404
    assert _ask(nginx_site, "/health/x", "127.0.0.1")[0] == 404


def test_nginx_serves_the_site_s_names_as_before(nginx_site):
    status, passed = _ask(nginx_site, "/admin/", "www.shop.example.org", source="127.0.0.2")
    assert status == 200
    assert passed["HTTP_HOST"] == "www.shop.example.org"
