"""Scenario default: a client's X-Forwarded-* headers reach the app only through a declared proxy.

uWSGI takes the request's scheme from X-Forwarded-Proto and X-Forwarded-Ssl as they come, and apps
take the client's address from X-Forwarded-For: a client that may set them poses as anybody, over
HTTPS. hello declares no proxy; second declares 127.0.0.1 (app_trusted_proxies).
"""

from __future__ import annotations

import json

import pytest

FORGED = "-H 'X-Forwarded-Proto: https' -H 'X-Forwarded-Ssl: on' -H 'X-Forwarded-For: 203.0.113.7'"


def client(host, site, address):
    """What the app saw of a request to SITE sent to nginx at ADDRESS, with forged headers."""
    out = host.check_output(
        f"curl -sS --max-time 10 -H 'Host: {site}' {FORGED} http://{address}/client"
    )
    return json.loads(out)


def own_address(host):
    """The instance's own address on its network (not loopback)."""
    return host.check_output("hostname -I").split()[0]


@pytest.mark.parametrize("loopback", [True, False], ids=["loopback", "network"])
def test_without_a_declared_proxy_the_app_sees_the_connection(host, loopback):
    address = "127.0.0.1" if loopback else own_address(host)
    seen = client(host, "hello.test", address)
    assert seen == {"scheme": "http", "remote_addr": address, "forwarded_for": None}


def test_a_declared_proxy_brings_the_client_and_its_scheme(host):
    seen = client(host, "second.test", "127.0.0.1")
    assert seen == {"scheme": "https", "remote_addr": "203.0.113.7", "forwarded_for": "203.0.113.7"}


def test_anybody_else_is_not_believed_on_a_site_with_a_proxy(host):
    address = own_address(host)
    seen = client(host, "second.test", address)
    assert seen == {"scheme": "http", "remote_addr": address, "forwarded_for": None}
