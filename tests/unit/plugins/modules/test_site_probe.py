"""pyops.uwsgi.site_probe against a real HTTPS server on loopback, with the test certificates of
tests/unit/files/tls (a CA of its own, a certificate for shop.example.org)."""

from __future__ import annotations

import http.server
import json
import ssl
import threading
import typing as t
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


class _Warming(http.server.BaseHTTPRequestHandler):
    """Plain HTTP: /after/N answers 503 "warming up" to its first N requests, then 200."""

    asked: t.ClassVar[dict[str, int]] = {}

    def do_GET(self):
        count = self.asked[self.path] = self.asked.get(self.path, 0) + 1
        ready = self.path.startswith("/after/") and count > int(self.path.rsplit("/", 1)[1])
        body = b"ready" if ready else b"warming\n up"
        self.send_response(200 if ready else 503)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


@pytest.fixture(scope="module")
def plain_server():
    """A plain HTTP server on 127.0.0.1 (_Warming); yields its port."""
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Warming)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield httpd.server_address[1]
    httpd.shutdown()
    httpd.server_close()


def test_wait_accepted_at_once(run, plain_server):
    result = run(
        port=plain_server, host="shop.example.org", path="/after/0", tls=False,
        expect_status=[200], wait=5, interval=0.05,
    )  # fmt: skip
    assert result["rc"] == 0, result
    assert (result["status"], result["attempts"], result["tls_version"]) == (200, 1, "")


def test_wait_accepted_after_some_tries(run, plain_server):
    result = run(
        port=plain_server, host="shop.example.org", path="/after/2", tls=False,
        expect_status=[200], wait=5, interval=0.05,
    )  # fmt: skip
    assert result["rc"] == 0, result
    assert (result["status"], result["attempts"]) == (200, 3)
    assert _Warming.asked["/after/2"] == 3


def test_without_expect_status_any_status_is_accepted(run, plain_server):
    result = run(port=plain_server, host="shop.example.org", path="/never", tls=False, wait=5)
    assert result["rc"] == 0, result
    assert (result["status"], result["attempts"]) == (503, 1)


def test_a_status_not_expected_fails_at_once_without_wait(run, plain_server):
    result = run(
        port=plain_server, host="shop.example.org", path="/never/1", tls=False,
        expect_status=list(range(200, 400)),
    )  # fmt: skip
    assert result["rc"] == 1
    assert result["attempts"] == 1 and result["status"] == 503
    assert result["msg"] == 'the site answered 503, expected 200-399; body "warming up"'


def test_wait_runs_out_quoting_the_last_status_and_body(run, plain_server):
    result = run(
        port=plain_server, host="shop.example.org", path="/never/2", tls=False,
        expect_status=[200], wait=0.3, interval=0.1,
    )  # fmt: skip
    assert result["rc"] == 1
    assert result["attempts"] == _Warming.asked["/never/2"] >= 3
    assert result["msg"].startswith(f"{result['attempts']} tries in 0.3 s (wait 0.3 s), none")
    assert result["msg"].endswith(
        'the last: the site answered 503, expected 200; body "warming up"'
    )


def test_wait_runs_out_quoting_the_connection_error(run, unused_tcp_address):
    port = int(unused_tcp_address.rpartition(":")[2])
    result = run(
        port=port, host="shop.example.org", tls=False, expect_status=[200], wait=0.3,
        interval=0.1,
    )  # fmt: skip
    assert result["rc"] == 1
    assert result["attempts"] >= 3
    assert "none accepted; the last: No answer from 127.0.0.1:" in result["msg"]
    assert "Connection refused" in result["msg"]


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"wait": -2}, "wait must be 0 seconds (one try) or more; got -2"),
        ({"interval": 0}, "interval must be more than 0 seconds; got 0"),
    ],
)
def test_refused_wait_options(run, unused_tcp_address, options, message):
    port = int(unused_tcp_address.rpartition(":")[2])
    result = run(port=port, host="shop.example.org", **options)
    assert result["rc"] == 1
    assert result["msg"] == message
