"""values.site_target (where a check reaches an nginx site from its host) and nginx_size_bytes."""

from __future__ import annotations

import pytest
from ansible_collections.pyops.uwsgi.plugins.module_utils.values import (
    nginx_size,
    nginx_size_bytes,
    site_target,
)


@pytest.mark.parametrize(
    ("listen", "address", "port"),
    [
        (["80"], "127.0.0.1", 80),
        (["8080"], "127.0.0.1", 8080),
        (["127.0.0.1:8080"], "127.0.0.1", 8080),
        (["10.0.1.21:8000"], "10.0.1.21", 8000),
        (["localhost:8081"], "localhost", 8081),
        (["[::]:80"], "[::1]", 80),
        (["[::1]:8080"], "[::1]", 8080),
        (["[fd00::21]:80"], "[fd00::21]", 80),
        (["*:80"], "127.0.0.1", 80),
        (["0.0.0.0:80"], "127.0.0.1", 80),
        (["80 default_server"], "127.0.0.1", 80),
        (["[::]:443 ssl default_server"], "[::1]", 443),
        (["127.0.0.1:8080 reuseport backlog=511"], "127.0.0.1", 8080),
        # The first listen value is the one reached.
        (["127.0.0.1:8080", "80"], "127.0.0.1", 8080),
        (["[::]:8000", "127.0.0.1:9000"], "[::1]", 8000),
        ([8080], "127.0.0.1", 8080),
        ([], "127.0.0.1", 80),
        (None, "127.0.0.1", 80),
    ],
)
def test_address_and_port(listen, address, port):
    target = site_target(listen, ["shop.example.org"])
    assert (target["address"], target["port"]) == (address, port)
    assert target["url"] == f"http://{address}:{port}"


@pytest.mark.parametrize(
    ("names", "host"),
    [
        (["shop.example.org"], "shop.example.org"),
        (["_"], "localhost"),
        (["_", "shop.example.org"], "shop.example.org"),
        (["*.example.org"], "localhost"),
        (["*.example.org", "www.example.org"], "www.example.org"),
        (["example.*"], "localhost"),
        (["example.*", "shop"], "shop"),
        (["~^www\\d+\\.example\\.org$"], "localhost"),
        (["~^(?<sub>.+)\\.example\\.org$", "_", "api.example.org"], "api.example.org"),
        (["", "shop.example.org"], "shop.example.org"),
        (["a.example.org", "b.example.org"], "a.example.org"),
        ([], "localhost"),
        (None, "localhost"),
    ],
)
def test_host(names, host):
    assert site_target(["80"], names)["host"] == host


def test_the_whole_answer():
    assert site_target(["[::]:8000 default_server"], ["_", "shop.example.org"]) == {
        "address": "[::1]",
        "port": 8000,
        "host": "shop.example.org",
        "url": "http://[::1]:8000",
    }


def test_the_arguments_are_left_alone():
    listen, names = ["80 default_server"], ["_", "shop.example.org"]
    site_target(listen, names)
    assert (listen, names) == (["80 default_server"], ["_", "shop.example.org"])


@pytest.mark.parametrize(
    ("size", "size_bytes"),
    [
        ("0", 0),
        (0, 0),
        ("1", 1),
        (10, 10),
        ("1048576", 1048576),
        ("1k", 1024),
        ("1K", 1024),
        ("512k", 512 * 1024),
        ("0k", 0),
        ("1m", 1024**2),
        ("1M", 1024**2),
        ("10m", 10 * 1024**2),
        ("1g", 1024**3),
        ("2G", 2 * 1024**3),
    ],
)
def test_nginx_size_bytes(size, size_bytes):
    assert nginx_size(size)
    assert nginx_size_bytes(size) == size_bytes


def test_nginx_size_bytes_orders_sizes_as_nginx_does():
    sizes = ["1m", "1000k", "1048577", "1g", "1023m"]
    assert sorted(sizes, key=nginx_size_bytes) == ["1000k", "1m", "1048577", "1023m", "1g"]
