# Copyright: pyops.uwsgi contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Predicates for values the roles write into nginx, systemd and uWSGI configuration.

Shared by the roles' rules (app_plan, role_rules) and by the Jinja tests of plugins/test/. Pure.
"""

from __future__ import annotations

import ipaddress
import re

# A size as nginx reads it: bytes, or k/m/g units.
_SIZE = re.compile(r"^[0-9]+[kKmMgG]?$")
# A listen value: port, address:port or [v6]:port, then optional flags (default_server, ...).
_LISTEN = re.compile(
    r"^(?:[0-9]{1,5}|[A-Za-z0-9.-]+:[0-9]{1,5}|\[[0-9A-Fa-f:]+\]:[0-9]{1,5}|unix:/[^ ;{}]+)"
    r"(?: [a-z_]+(?:=[A-Za-z0-9]+)?)*$"
)
# A server_name: host name, wildcard (*.example.org, example.*), "_" or a regex (~...).
_SERVER_NAME = re.compile(
    r"^(?:_|~[^ ;{}\"']+|(?:\*\.)?[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*(?:\.\*)?)$"
)
# ADDRESS:PORT, the address IPv4 or bracketed IPv6.
_ENDPOINT = re.compile(r"^(?:(?P<v4>[0-9.]+)|\[(?P<v6>[0-9A-Fa-f:.]+)\]):(?P<port>[0-9]{1,5})$")
# System user and group names the roles create: what useradd takes, kept portable.
SYSTEM_NAME = re.compile(r"^[a-z][a-z0-9_-]{0,31}$")
# A Python identifier (module parts, callables, environment variable names).
IDENTIFIER = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
# A Python version as X.Y.
PYTHON_VERSION = re.compile(r"^3\.[0-9]{1,2}$")
# An absolute path with no spaces.
ABSOLUTE_PATH = re.compile(r"^/[^ ]+$")
HTTP_URL = re.compile(r"^https?://[^ ]+$")


def _text(value):
    return isinstance(value, (str, int)) and not isinstance(value, bool)


def nginx_size(value):
    """True for a size nginx accepts, such as 1m, 512k or 1048576."""
    return _text(value) and bool(_SIZE.fullmatch(str(value)))


def nginx_size_bytes(value):
    """The bytes an nginx size stands for (1k is 1024)."""
    text = str(value)
    unit = {"k": 1024, "m": 1024**2, "g": 1024**3}.get(text[-1:].lower(), 1)
    return int(text[:-1] if unit > 1 else text) * unit


def nginx_listen(value):
    """True for one value of nginx's listen directive, such as 80, 127.0.0.1:8080 or [::]:80."""
    return _text(value) and bool(_LISTEN.fullmatch(str(value)))


def nginx_server_name(value):
    """True for one value of nginx's server_name directive."""
    return isinstance(value, str) and bool(_SERVER_NAME.fullmatch(value))


def nginx_regex(value):
    """Whether VALUE is a regular expression an nginx site may hold: one Python compiles (PCRE
    reads the same), without control characters (nginx's file would break the line there)."""
    if not isinstance(value, str) or re.search(r"[\x00-\x1f\x7f]", value):
        return False
    try:
        re.compile(value)
    except re.error:
        return False
    return True


def nginx_prefixes_nested(first, second):
    """Whether two different location prefixes (each ending in /) lie one inside the other."""
    return first != second and (first.startswith(second) or second.startswith(first))


def private_endpoint(value):
    """True for ADDRESS:PORT where ADDRESS is one private address of a host (not 0.0.0.0 or ::)."""
    match = _ENDPOINT.fullmatch(value) if isinstance(value, str) else None
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


def site_target(listen, server_names, scheme="http"):
    """Where a check reaches an nginx site from the host itself, and the Host it sends.

    The first listen value on TCP (not a unix socket), on loopback unless it names an address; the
    first server name that is a host name (not "_", a wildcard or a regex), else "localhost".
    Returns {"address", "port", "host", "url"} with url "SCHEME://ADDRESS:PORT" (SCHEME http, or
    https for the TLS listen values of an HTTPS site, where HOST is also the TLS server name); with
    no TCP listen value, address and url are "" and port 0.
    """
    # nginx listens on port 80 when a server has no listen directive.
    tcp = [
        str(item).split(" ", maxsplit=1)[0]
        for item in listen or ["80"]
        if not str(item).startswith("unix:")
    ]
    names = [
        name
        for name in server_names or []
        if name not in ("_", "") and not name.startswith(("~", "*")) and not name.endswith("*")
    ]
    host = (names or ["localhost"])[0]
    if not tcp:
        return {"address": "", "port": 0, "host": host, "url": ""}
    address, _colon, port = tcp[0].rpartition(":")
    if address in ("", "*", "0.0.0.0"):
        address = "127.0.0.1"
    elif address == "[::]":
        address = "[::1]"
    return {
        "address": address,
        "port": int(port),
        "host": host,
        "url": f"{scheme}://{address}:{port}",
    }


# The largest uwsgi packet: its size field has 16 bits; uWSGI's buffer-size can be at most this.
UWSGI_PACKET = 65535
# Room for the request variables nginx adds besides the headers (uwsgi_params: method, protocol,
# addresses, ports, names), with their length fields.
_UWSGI_PARAMS_ROOM = 4096
# Header lines Debian's nginx takes (max_headers; 400 past it), and what each grows by as a
# variable: "n:v" and its line end (3 bytes around name and value at least) become two length
# fields and "HTTP_" (9 bytes): 7 more, 1000 tiny headers 7000 bytes more than their lines.
_HEADER_LINES = 1000
_VARIABLE_GROWTH = 7


def uwsgi_packet_need(large_client_header_buffers):
    """Bytes of uwsgi request variables a request nginx accepts with these buffers can need.

    nginx takes the request line and each header line into one of NUMBER buffers of SIZE, so all of
    them together are at most NUMBER * SIZE; in the uwsgi packet the URI comes twice (REQUEST_URI,
    and PATH_INFO with QUERY_STRING), one buffer's worth more, the params around them, and what
    each header line grows by as a variable.
    """
    number, size = str(large_client_header_buffers).split()
    growth = _HEADER_LINES * _VARIABLE_GROWTH
    return (int(number) + 1) * nginx_size_bytes(size) + _UWSGI_PARAMS_ROOM + growth
