"""pyops.uwsgi.site_probe against a real HTTPS server on loopback, with the test certificates of
tests/unit/files/tls (a CA of its own, a certificate for shop.example.org)."""

from __future__ import annotations

import http.server
import json
import ssl
import threading
from pathlib import Path

import pytest
from ansible_collections.pyops.uwsgi.plugins.modules import site_probe
from ansible_collections.pyops.uwsgi.tests.unit.plugins.module_args import run_main

FILES = Path(__file__).resolve().parents[2] / "files" / "tls"


class _Handler(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        body = json.dumps({"host": self.headers["Host"], "path": self.path}).encode()
        self.send_response(200 if self.path != "/moved" else 301)
        if self.path == "/moved":
            self.send_header("Location", "https://shop.example.org/")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


@pytest.fixture(scope="module")
def server():
    """An HTTPS server on 127.0.0.1 with shop.example.org's certificate; yields its port."""
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(FILES / "shop-fullchain.pem", FILES / "shop.key")
    httpd.socket = context.wrap_socket(httpd.socket, server_side=True)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield httpd.server_address[1]
    httpd.shutdown()
    httpd.server_close()


@pytest.fixture
def run(capsys):
    def invoke(**options):
        result, code = run_main(site_probe.main, capsys, options)
        result["rc"] = code
        return result

    return invoke


def test_the_site_answers_with_its_name_as_server_name_and_host(run, server):
    result = run(port=server, host="shop.example.org", path="/up", ca_file=str(FILES / "ca.pem"))
    assert result["rc"] == 0, result
    assert result["status"] == 200
    assert result["changed"] is False
    assert ["DNS", "www.shop.example.org"] in result["certificate"]["subjectAltName"]
    assert result["tls_version"] in ("TLSv1.2", "TLSv1.3")


def test_a_redirect_is_returned_not_followed(run, server):
    result = run(port=server, host="shop.example.org", path="/moved", ca_file=str(FILES / "ca.pem"))
    assert result["status"] == 301
    assert result["location"] == "https://shop.example.org/"


def test_a_name_the_certificate_does_not_cover_fails(run, server):
    result = run(port=server, host="other.example.org", ca_file=str(FILES / "ca.pem"))
    assert result["rc"] == 1
    assert "does not verify" in result["msg"]
    assert "other.example.org" in result["msg"]


def test_a_certificate_of_an_unknown_ca_fails_unless_not_validated(run, server):
    result = run(port=server, host="shop.example.org")
    assert result["rc"] == 1
    assert "the system store" in result["msg"]
    result = run(port=server, host="shop.example.org", validate_certs=False)
    assert result["rc"] == 0
    assert result["status"] == 200


def test_nothing_listening_fails_naming_where(run, unused_tcp_address):
    port = int(unused_tcp_address.rpartition(":")[2])
    result = run(port=port, host="shop.example.org", timeout=2)
    assert result["rc"] == 1
    assert f"No answer from 127.0.0.1:{port} (shop.example.org)" in result["msg"]
