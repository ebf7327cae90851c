"""Scenario default: every traffic shape nginx accepts is answered as the app meant it (issue 22).

Each test sends one shape through nginx on the instance's loopback to the sample app's endpoints
(examples/apps/hello/myflask.py): curl where it can make the shape, molecule/_shared/shapes.py
(copied into the instance) where it cannot: a burst, a client that stops reading, a chunked body,
a thousand tiny headers, server-sent events. Counts and pauses are bounded; the whole file takes
about 35 s. docs/production.md, "Traffic shapes", lists the shapes with what client and app see.
A redeploy under load is test_production.py's test_redeploy_under_load_loses_no_request.
"""

from __future__ import annotations

import base64
import hashlib
import json
import re
import shlex
from urllib.parse import quote

import pytest
from pyops_verify import http_json, install_script

# One platform is enough: nginx and uWSGI take the same shapes on both.
testinfra_hosts = ["ansible://uwsgi-default-debian13"]
HELLO, SECOND = "hello.test", "second.test"
STREAM_BYTES = 32 * 1024 * 1024


@pytest.fixture(scope="module")
def client(host):
    """shapes.py, copied into the instance: its path there."""
    return install_script(host, "shapes.py")


def shape_command(client, command, site=HELLO, **options):
    """The command line of one shape of shapes.py, sent with Host SITE."""
    flags = [f"--host {site}"]
    for name, value in options.items():
        flag = "--" + name.replace("_", "-")
        flags.append(flag if value is True else f"{flag} {shlex.quote(str(value))}")
    return f"python3 {client} {command} {' '.join(flags)}"


def run_shape(host, client, command, site=HELLO, **options):
    """The report of one shape of shapes.py, as a dict."""
    return json.loads(host.check_output(shape_command(client, command, site, **options)))


def curl(host, path, site=HELLO, options=""):
    """Status, header lines as (lower-case name, value) and body of GET PATH."""
    out = host.check_output(
        f"curl -sS -D - --max-time 20 -H {shlex.quote('Host: ' + site)} {options} "
        f"{shlex.quote('http://127.0.0.1' + path)}"
    )
    head, _blank, body = out.partition("\r\n\r\n")
    lines = head.split("\r\n")
    pairs = [line.partition(":") for line in lines[1:]]
    return int(lines[0].split()[1]), [(n.strip().lower(), v.strip()) for n, _c, v in pairs], body


def values(headers, name):
    return [value for key, value in headers if key == name]


@pytest.mark.parametrize(
    ("size", "expected"), [(4700, 200), (20000, 200), (30000, 200), (40000, 502)]
)
def test_large_response_headers_reach_the_client_whole_or_fail_in_the_app(host, size, expected):
    # nginx takes the app's headers into uwsgi_buffer_size (app_response_headers_limit, 32k) and
    # uWSGI's response-headers-limit is the same: what uWSGI sends nginx reads. Above it the app's
    # start_response fails, and its log says so (nginx can only answer 502: nothing was sent).
    status, headers, body = curl(host, f"/headers/{size}")
    assert status == expected, (size, status, body[:300])
    if expected == 200:
        sent = json.loads(body)
        [cookie] = values(headers, "set-cookie")
        assert cookie.startswith("session=") and len(cookie) == sent["cookie_length"]
        assert sum(len(n) + len(v) + 4 for n, v in headers) >= sent["header_bytes"]
    else:
        log = host.check_output("journalctl -t uwsgi-hello --no-pager --since -1min")
        assert "unable to add header to the response" in log


def _hello_workers(host):
    vassal = host.file("/etc/uwsgi/vassals/hello.ini").content_string
    return int(re.search(r"^processes\s*=\s*(\d+)\s*$", vassal, re.MULTILINE).group(1))


def test_a_burst_on_the_emperors_vassal_is_answered_in_full(host, client):
    # 300 connections at one instant; each request naps so that the pool's work stays under 8 s.
    nap = min(200, 8000 * _hello_workers(host) // 300)
    report = run_shape(host, client, "burst", path=f"/nap/{nap}", count=300, timeout=30)
    latency = f"p99 {report['p99_ms']} ms, max {report['max_ms']} ms, nap {nap} ms"
    assert report["statuses"] == {"200": 300} and report["errors"] == {}, (latency, report)


def test_a_burst_over_an_own_units_listen_queue_gets_503_with_retry_after(host, client):
    # second's listen queue (app_listen) is 32: what it cannot queue is turned away with a 503
    # that says when to come back, never a 502.
    report = run_shape(host, client, "burst", SECOND, path="/nap/500", count=150, timeout=30)
    statuses = report["statuses"]
    assert report["errors"] == {} and set(statuses) <= {"200", "503"}, report
    assert statuses.get("503", 0) > 0 and statuses.get("200", 0) > 0, report
    assert report["503_without_retry_after"] == 0, report


def test_a_client_that_stops_reading_gets_the_whole_stream_buffered_or_not(host, client):
    # Both at once (8 s each): nginx buffers the first; the second (X-Accel-Buffering: no) holds
    # uWSGI on nginx, which holds on the client, longer than uWSGI's default socket-timeout.
    paths = ["/stream/32", "/stream/32?unbuffered=1"]
    readers = [
        shape_command(client, "slow-reader", path=path, after=1048576, pause=8, timeout=30)
        + f" > /root/shape-slow-{n}.json &"
        for n, path in enumerate(paths)
    ]
    host.run_expect([0], f"rm -f /root/shape-slow-*.json; {' '.join(readers)} wait")
    for n, path in enumerate(paths):
        report = json.loads(host.check_output(f"cat /root/shape-slow-{n}.json"))
        assert report["status"] == 200 and report["complete"], (path, report)
        assert report["received"] == STREAM_BYTES, (path, report)


def test_a_chunked_upload_reaches_the_app_whole(host, client):
    report = run_shape(host, client, "chunked-upload", path="/upload", size=2000000)
    app = report["app"]
    assert report["status"] == 200, report
    assert app["length"] == 2000000 and app["sha256"] == report["sent_sha256"], report
    # nginx de-chunks the body and sends its length; the app sees no Transfer-Encoding.
    assert app["transfer_encoding"] is None, report


@pytest.fixture(scope="module")
def baseline_headers(host, client):
    """HTTP_* variables a request of shapes.py brings the app with no header of its own."""
    report = run_shape(host, client, "many-headers", path="/request", count=0, bare_lf=True)
    assert report["status"] == 200, report
    return report["app"]["http_headers"]


# Debian's nginx takes at most 1000 header lines (max_headers); Host and Connection are two.
MOST_HEADERS = 1000 - 2


@pytest.mark.parametrize("count", [113, MOST_HEADERS])
def test_many_tiny_headers_reach_the_app_each(host, client, baseline_headers, count):
    # uWSGI's default max-vars (64) dropped a request of 113 with 502 ("max vec size reached").
    report = run_shape(host, client, "many-headers", path="/request", count=count, bare_lf=True)
    assert report["status"] == 200, {**report, "app": str(report["app"])[:300]}
    assert report["app"]["http_headers"] == baseline_headers + count, report["app"]
    assert report["packet_bytes"] < 65535, report


def test_more_header_lines_than_nginx_takes_are_refused_by_nginx(host, client):
    count = MOST_HEADERS + 1
    report = run_shape(host, client, "many-headers", path="/request", count=count, bare_lf=True)
    # nginx's own 400 ("client sent too many header lines"), never a 500 or a 502.
    assert report["status"] == 400, {**report, "app": str(report["app"])[:300]}


def test_an_apps_own_security_headers_reach_the_client_alone(host):
    status, headers, _body = curl(host, "/frame")
    assert status == 200
    assert values(headers, "x-frame-options") == ["DENY"], headers
    assert values(headers, "referrer-policy") == ["no-referrer"], headers
    assert values(headers, "content-security-policy") == ["default-src 'none'"], headers
    assert set(values(headers, "x-content-type-options")) == {"nosniff"}, headers


def test_the_sites_frame_policy_is_sent_once_where_the_app_sets_none(host):
    status, headers, _body = curl(host, "/")
    assert status == 200
    assert values(headers, "x-frame-options") == ["SAMEORIGIN"], headers


def test_the_app_and_the_children_it_starts_run_the_releases_python(host):
    found = http_json(host, "/executable", HELLO)
    python = re.fullmatch(
        r"(/srv/hello/releases/[^/]+/venv)/bin/python[0-9.]*", found["executable"]
    )
    assert python, found
    assert found["prefix"] == python.group(1) and found["child_prefix"] == found["prefix"], found


def test_server_sent_events_reach_the_client_as_they_are_sent(host, client):
    # Three events half a second apart: each arrives when sent, not all at the end.
    report = run_shape(host, client, "events", path="/events")
    assert report["status"] == 200, report
    assert report["content_type"].startswith("text/event-stream"), report
    assert len(report["events_s"]) == 3, report
    first, _second, last = report["events_s"]
    assert first < 0.45 and last >= 0.9, report


def test_percent_and_dollar_in_a_header_arrive_as_sent(host):
    value = "100%25 $host $1 %s"
    status, _headers, body = curl(
        host, "/request", options=f"-H {shlex.quote('X-Shape-A: ' + value)}"
    )
    assert status == 200, body[:300]
    assert json.loads(body)["headers"] == {"X-Shape-A": value}


def test_a_non_ascii_path_and_its_query_arrive_as_sent(host):
    path = "/request/ünï code"
    status, _headers, body = curl(host, quote(path) + "?a=%25&b=$1")
    assert status == 200, body[:300]
    received = json.loads(body)
    assert received["path"] == path and received["query"] == "a=%25&b=$1", received


def test_a_utf8_body_comes_back_byte_for_byte(host):
    sent = json.dumps({"greeting": "Grüße ✓", "money": "100% $5"}, ensure_ascii=False).encode()
    host.run_expect(
        [0],
        f"echo {base64.b64encode(sent).decode()} | base64 -d > /root/shape-body.json && "
        f"curl -sS --fail --max-time 20 -H 'Host: {HELLO}' --data-binary @/root/shape-body.json "
        "-o /root/shape-echo.json 'http://127.0.0.1/upload?echo=1'",
    )
    echoed = host.check_output("sha256sum < /root/shape-echo.json").split()[0]
    assert echoed == hashlib.sha256(sent).hexdigest()


def test_a_thread_started_by_a_request_runs(host):
    # Started after the worker was forked: it runs because uWSGI enables the app's threads.
    assert http_json(host, "/thread", HELLO)["result"] == sum(n * n for n in range(1000))
