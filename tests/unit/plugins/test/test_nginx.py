from __future__ import annotations

import pytest
from ansible_collections.pyops.uwsgi.plugins.test.nginx import (
    TestModule as NginxTests,
)
from ansible_collections.pyops.uwsgi.plugins.test.nginx import (
    nginx_listen,
    nginx_server_name,
    nginx_size,
)


@pytest.mark.parametrize("value", ["1m", "512k", "1G", "1048576", 0, 10])
def test_sizes(value):
    assert nginx_size(value)


@pytest.mark.parametrize("value", ["1 m", "1mb", "-1", "", "1m;", True, None, 1.5])
def test_not_sizes(value):
    assert not nginx_size(value)


@pytest.mark.parametrize(
    "value",
    [
        "80",
        8080,
        "127.0.0.1:8080",
        "[::]:80",
        "80 default_server",
        "443 ssl reuseport",
        "unix:/run/x.sock",
    ],
)
def test_listen_values(value):
    assert nginx_listen(value)


@pytest.mark.parametrize(
    "value", ["", "80;", "80; include /etc/passwd", "http://x", "123456", True]
)
def test_not_listen_values(value):
    assert not nginx_listen(value)


@pytest.mark.parametrize(
    "value", ["_", "example.org", "*.example.org", "example.*", "~^www\\d+$", "a-b.c"]
)
def test_server_names(value):
    assert nginx_server_name(value)


@pytest.mark.parametrize("value", ["", "a b", "x;", "{x}", "ex ample.org", 3])
def test_not_server_names(value):
    assert not nginx_server_name(value)


def test_registered_as_tests():
    assert set(NginxTests().tests()) == {"nginx_size", "nginx_listen", "nginx_server_name"}
