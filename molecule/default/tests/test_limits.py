"""Scenario default: what nginx accepts reaches the app; what it refuses gets a 4xx, never a 502.

nginx's limits (large_client_header_buffers 4 8k, client_max_body_size) decide what a request may
bring; uWSGI's buffer-size is the largest uwsgi packet, so everything nginx lets through fits. Each
limit is tried at its edge: the largest request nginx accepts is answered by the app, one byte more
is refused by nginx with its own 4xx.
"""

from __future__ import annotations

import shlex

import pytest

# One platform is enough: nginx and uWSGI take the same sizes on both.
testinfra_hosts = ["ansible://uwsgi-default-debian13"]
SITE = "hello.test"


def status(host, query=0, headers=(), body=None):
    """HTTP status of GET (or POST with BODY bytes) /?a..a with HEADERS, each (name, length)."""
    args = [f"-H {shlex.quote(f'{name}: ' + 'v' * length)}" for name, length in headers]
    data = f"head -c {body} /dev/zero | " if body is not None else ""
    post = "--data-binary @- " if body is not None else ""
    url = f"http://127.0.0.1/?{'a' * query}" if query else "http://127.0.0.1/"
    out = host.check_output(
        f"{data}curl -sS -o /dev/null -w '%{{http_code}}' --max-time 10 {post}"
        f"-H 'Host: {SITE}' {' '.join(args)} {shlex.quote(url)}"
    )
    return int(out)


def largest(accepted, low, high):
    """The largest n in [low, high] with accepted(n), given accepted(low) and not accepted(high)."""
    assert accepted(low) and not accepted(high)
    while high - low > 1:
        middle = (low + high) // 2
        low, high = (middle, high) if accepted(middle) else (low, middle)
    return low


def test_the_request_a_single_sign_on_proxy_sends_is_answered(host):
    # A 7 KB query string and three 7 KB headers: each line within nginx's 8k buffers.
    headers = [("X-Sso-Assertion", 7168), ("X-Sso-Groups", 7168), ("X-Sso-Claims", 7168)]
    assert status(host, query=7168, headers=headers) == 200


def test_the_longest_request_line_nginx_accepts_reaches_the_app(host):
    longest = largest(lambda n: status(host, query=n) != 414, 100, 16384)
    assert status(host, query=longest) == 200
    assert status(host, query=longest + 1) == 414


def test_the_longest_header_nginx_accepts_reaches_the_app(host):
    longest = largest(lambda n: status(host, headers=[("X-Big", n)]) != 400, 100, 16384)
    assert status(host, headers=[("X-Big", longest)]) == 200
    assert status(host, headers=[("X-Big", longest + 1)]) == 400


def test_all_of_nginx_header_buffers_nearly_full_reach_the_app(host):
    # The request line and three headers, each nearly filling one of the four 8k buffers (the
    # small headers curl sends need room too): about 32 KB, as much as nginx takes and more than
    # uWSGI's former buffer-size of 32768 bytes held once the URI is counted twice.
    line = largest(lambda n: status(host, query=n) != 414, 100, 16384) - 512
    header = largest(lambda n: status(host, headers=[("X-Big", n)]) != 400, 100, 16384) - 512
    full = [("X-One", header), ("X-Two", header), ("X-Three", header)]
    assert status(host, query=line, headers=full) == 200
    assert status(host, query=line, headers=[*full, ("X-Four", header)]) == 400


@pytest.mark.parametrize(("extra", "expected"), [(0, 405), (1, 413)])
def test_the_largest_body_nginx_accepts_reaches_the_app(host, extra, expected):
    # hello's site takes 10m; its / takes GET only, so the app itself answers a POST with 405.
    assert status(host, body=10 * 1024 * 1024 + extra) == expected
