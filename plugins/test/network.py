# Copyright: pyops.uwsgi contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Tests for the network values of an app that front hosts reach over TCP."""

from __future__ import annotations

import ipaddress
import re

# ADDRESS:PORT, the address IPv4 or bracketed IPv6.
_ENDPOINT = re.compile(r"^(?:(?P<v4>[0-9.]+)|\[(?P<v6>[0-9A-Fa-f:.]+)\]):(?P<port>[0-9]{1,5})$")


def private_endpoint(value):
    """True for ADDRESS:PORT where ADDRESS is one private address of a host (not 0.0.0.0 or ::)."""
    match = _ENDPOINT.match(value) if isinstance(value, str) else None
    if not match or not 1 <= int(match["port"]) <= 65535:
        return False
    try:
        address = ipaddress.ip_address(match["v4"] or match["v6"])
    except ValueError:
        return False
    return address.is_private and not address.is_unspecified


def peer_network(value):
    """True for an address or a network (CIDR) narrower than everything, such as 10.0.1.0/24."""
    if not isinstance(value, str):
        return False
    try:
        network = ipaddress.ip_network(value, strict=False)
    except ValueError:
        return False
    return network.prefixlen > 0


class TestModule:
    """pyops.uwsgi tests."""

    def tests(self):
        return {
            "private_endpoint": private_endpoint,
            "peer_network": peer_network,
        }
