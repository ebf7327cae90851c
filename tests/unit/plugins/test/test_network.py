from __future__ import annotations

import pytest
from ansible_collections.pyops.uwsgi.plugins.test.network import (
    TestModule as NetworkTests,
)
from ansible_collections.pyops.uwsgi.plugins.test.network import (
    peer_network,
    private_endpoint,
)


@pytest.mark.parametrize(
    "value", ["10.0.1.21:3031", "172.31.5.9:1", "192.168.0.2:65535", "[fd00::21]:3031"]
)
def test_private_endpoints(value):
    assert private_endpoint(value)


@pytest.mark.parametrize(
    "value",
    [
        "0.0.0.0:3031",  # every address: the socket would face every network
        "[::]:3031",
        "8.8.8.8:3031",  # public
        "10.0.1.21",  # no port
        "10.0.1.21:0",
        "10.0.1.21:70000",
        "app1.internal:3031",  # a name, not one address
        "10.0.1.300:3031",
        "fd00::21:3031",  # IPv6 without brackets
        "",
        3031,
        None,
    ],
)
def test_not_private_endpoints(value):
    assert not private_endpoint(value)


@pytest.mark.parametrize("value", ["10.0.1.10", "10.0.1.0/24", "172.16.0.0/12", "fd00::/8", "::1"])
def test_peer_networks(value):
    assert peer_network(value)


@pytest.mark.parametrize("value", ["0.0.0.0/0", "::/0", "front1", "10.0.1.0/33", "", None, 10])
def test_not_peer_networks(value):
    assert not peer_network(value)


def test_registered():
    assert set(NetworkTests().tests()) == {"private_endpoint", "peer_network"}
