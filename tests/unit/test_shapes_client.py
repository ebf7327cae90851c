"""molecule/_shared/shapes.py, the traffic-shapes client, against a real server on loopback.

The server is the standard library's, on an ephemeral port of 127.0.0.1, with a few paths that
answer as the sample app's do (a nap, a stream, an upload's digest, the headers received, events)
and a few that misbehave (every other answer a 503, a body cut short). The uwsgi packet arithmetic
is checked against the collection's own encoder of the protocol.
"""

from __future__ import annotations

import hashlib
import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from importlib import util
from pathlib import Path

import pytest
from ansible_collections.pyops.uwsgi.plugins.module_utils import uwsgi_protocol

_PATH = Path(__file__).resolve().parents[2] / "molecule" / "_shared" / "shapes.py"
_SPEC = util.spec_from_file_location("shapes", _PATH)
shapes = util.module_from_spec(_SPEC)
_SPEC.loader.exec_module(shapes)


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def do_GET(self):
        route, _slash, argument = self.path.strip("/").partition("/")
        getattr(self, "get_" + route)(argument)

    def do_POST(self):
        # The body as it came on the wire: chunk sizes as framed, then the data.
        sizes, data = [], b""
        while True:
            size = int(self.rfile.readline().strip(), 16)
            sizes.append(size)
            data += self.rfile.read(size)
            self.rfile.readline()
            if size == 0:
                break
        self.server.seen["chunks"] = sizes
        self.answer_json(
            length=len(data),
            sha256=hashlib.sha256(data).hexdigest(),
            transfer_encoding=self.headers.get("Transfer-Encoding"),
        )

    def answer_json(self, status=200, extra=(), **document):
        body = json.dumps(document).encode()
        self.send_response(status)
        for name, value in extra:
            self.send_header(name, value)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def get_nap(self, milliseconds):
        seen, lock = self.server.seen, self.server.lock
        with lock:
            seen["in_flight"] += 1
            seen["peak"] = max(seen["peak"], seen["in_flight"])
        time.sleep(int(milliseconds) / 1000)
        with lock:
            seen["in_flight"] -= 1
        self.answer_json(slept_ms=int(milliseconds))

    def get_full(self, _argument):
        # Every other request is turned away, as a full listen queue would have it.
        with self.server.lock:
            self.server.seen["full"] += 1
            turned_away = self.server.seen["full"] % 2 == 0
        if turned_away:
            self.answer_json(503, [("Retry-After", "3")], full=True)
        else:
            self.answer_json(full=False)

    def get_stream(self, size, sent=None):
        self.send_response(200)
        self.send_header("Content-Length", size)
        self.end_headers()
        left = int(size) if sent is None else sent
        while left > 0:
            self.wfile.write(b"s" * min(left, 65536))
            left -= 65536

    def get_short(self, size):
        # Announces SIZE bytes, sends half of them and closes.
        self.get_stream(size, sent=int(size) // 2)
        self.close_connection = True

    def get_request(self, _argument):
        self.answer_json(http_headers=len(self.headers))

    def get_events(self, _argument):
        self.send_response(200)
        self.send_header("Content-Type", "text/event-stream")
        self.send_header("Transfer-Encoding", "chunked")
        self.end_headers()
        for number in range(3):
            if number:
                time.sleep(0.2)
            event = f"data: {number}\n\n".encode()
            self.wfile.write(b"%x\r\n%s\r\n" % (len(event), event))
            self.wfile.flush()
        self.wfile.write(b"0\r\n\r\n")


class Server(ThreadingHTTPServer):
    daemon_threads = True
    # A burst connects all at once: a backlog of 5 would drop SYNs and delay them by a second.
    request_queue_size = 128


@pytest.fixture
def server():
    httpd = Server(("127.0.0.1", 0), Handler)
    httpd.seen = {"in_flight": 0, "peak": 0, "full": 0, "chunks": []}
    httpd.lock = threading.Lock()
    thread = threading.Thread(target=httpd.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    yield httpd
    httpd.shutdown()
    httpd.server_close()


def common(httpd, path, timeout=10.0):
    return {
        "address": "127.0.0.1",
        "port": httpd.server_address[1],
        "host": "shapes.test",
        "path": path,
        "timeout": timeout,
    }


def test_a_burst_starts_every_request_at_once(server):
    report = shapes.burst(**common(server, "/nap/300"), count=10)
    assert report["statuses"] == {"200": 10} and report["errors"] == {}, report
    # All ten napped at the same time: one nap's time, not ten.
    assert server.seen["peak"] == 10
    assert report["seconds"] < 2.0
    assert 300 <= report["p50_ms"] <= report["p99_ms"] <= report["max_ms"]


def test_a_burst_counts_each_status_and_the_retry_after_of_each_503(server):
    report = shapes.burst(**common(server, "/full"), count=20)
    assert report["statuses"] == {"200": 10, "503": 10}
    assert report["retry_after"] == {"3": 10}
    assert report["503_without_retry_after"] == 0


def test_a_burst_counts_connection_errors(server):
    port = server.server_address[1]
    server.shutdown()
    server.server_close()
    report = shapes.burst(
        address="127.0.0.1", port=port, host="shapes.test", path="/", count=5, timeout=5
    )
    assert report["statuses"] == {}
    assert report["errors"] == {"ConnectionRefusedError": 5}
    assert report["p99_ms"] is None


def test_chunks_are_framed_as_http_1_1_says():
    assert b"".join(shapes.chunked(b"abc", 2)) == b"2\r\nab\r\n1\r\nc\r\n0\r\n\r\n"
    assert b"".join(shapes.chunked(b"")) == b"0\r\n\r\n"


def test_a_chunked_upload_arrives_in_chunks_and_whole(server):
    report = shapes.chunked_upload(**common(server, "/upload"), size=200000)
    assert report["status"] == 200 and report["error"] is None, report
    assert server.seen["chunks"] == [65536, 65536, 65536, 200000 - 3 * 65536, 0]
    assert report["app"]["transfer_encoding"] == "chunked"
    assert report["app"]["length"] == report["sent_length"] == 200000
    assert report["app"]["sha256"] == report["sent_sha256"]


def test_header_names_are_distinct_and_of_their_width():
    names = shapes.header_names(12960, 3)
    assert len(set(names)) == 12960
    assert {len(name) for name in names} == {3}
    assert all(name[0].isdigit() for name in names)
    with pytest.raises(ValueError):
        shapes.header_names(12961, 3)


@pytest.mark.parametrize(("width", "value"), [(3, ""), (3, "v"), (8, "")])
def test_packet_bytes_are_what_the_headers_add_to_a_uwsgi_packet(width, value):
    headers = [(name, value) for name in shapes.header_names(300, width)]
    base = len(uwsgi_protocol.encode_vars(uwsgi_protocol.wsgi_vars()))
    packet = len(uwsgi_protocol.encode_vars(uwsgi_protocol.wsgi_vars(headers=headers)))
    assert shapes.headers_packet_bytes(300, width, value) == packet - base
    assert shapes.uwsgi_var_bytes("X-Shape-A", "1") == len(
        uwsgi_protocol.encode_vars([("HTTP_X_SHAPE_A", "1")])
    )


def test_the_count_for_a_packet_straddles_its_limit_within_nginx_header_buffers():
    count = shapes.count_for_packet(65535)
    assert shapes.headers_packet_bytes(count) <= 65535 < shapes.headers_packet_bytes(count + 1)
    # One more header than the packet holds still fits nginx's 4 8k buffers as bare LF lines.
    headers = [(name, "") for name in shapes.header_names(count + 1)]
    assert len(shapes.request_head("GET", "/request", "hello.test", headers, eol="\n")) < 31000


def test_bare_lf_requests_have_no_carriage_return():
    head = shapes.request_head("GET", "/", "h", [("0ab", ""), ("0ac", "v")], eol="\n")
    assert head == b"GET / HTTP/1.1\nHost: h\nConnection: close\n0ab:\n0ac: v\n\n"


@pytest.mark.parametrize(("count", "status"), [(50, 200), (150, 431)])
def test_many_headers_reach_the_server(server, count, status):
    # The standard library's server takes at most 100 headers and answers 431 beyond.
    report = shapes.many_headers(
        **common(server, "/request"), count=count, name_width=3, value="", bare_lf=True
    )
    assert report["status"] == status, report
    assert report["packet_bytes"] == 12 * count
    if status == 200:
        # Host and Connection, then each tiny header.
        assert report["app"]["http_headers"] == count + 2


def test_a_slow_reader_gets_the_whole_body_after_its_pause(server):
    report = shapes.slow_reader(
        **common(server, "/stream/3000000"), after=65536, pause=0.3, rcvbuf=65536
    )
    assert report["status"] == 200 and report["complete"], report
    assert report["received"] == report["content_length"] == 3000000
    assert report["seconds"] >= 0.3


def test_a_slow_reader_reports_a_body_cut_short(server):
    report = shapes.slow_reader(
        **common(server, "/short/1000000"), after=65536, pause=0.1, rcvbuf=65536
    )
    assert report["status"] == 200 and not report["complete"], report
    assert report["received"] == 500000 and report["content_length"] == 1000000


def test_events_are_timed_as_they_arrive(server):
    report = shapes.events(**common(server, "/events"))
    assert report["status"] == 200 and report["content_type"] == "text/event-stream"
    first, second, last = report["events_s"]
    assert first < 0.15 <= second - first and last - first >= 0.35, report


def test_the_command_line_prints_one_json_document(server, capsys):
    port = str(server.server_address[1])
    shapes.main(["burst", "--port", port, "--host", "h", "--path", "/nap/1", "--count", "3"])
    assert json.loads(capsys.readouterr().out)["statuses"] == {"200": 3}


@pytest.mark.parametrize(
    "arguments",
    [
        ["burst", "--count", "1001"],
        ["slow-reader", "--pause", "61"],
        ["many-headers", "--count", "20001"],
        ["chunked-upload", "--size", str(64 * 1024 * 1024 + 1)],
    ],
)
def test_the_command_line_refuses_shapes_beyond_their_bounds(arguments):
    with pytest.raises(SystemExit):
        shapes.main([*arguments, "--host", "h", "--path", "/"])
