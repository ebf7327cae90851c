# Copyright: pyops.uwsgi contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Tests for values that end up in nginx configuration, shared by the nginx and app roles."""

from __future__ import annotations

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


def _text(value):
    return isinstance(value, (str, int)) and not isinstance(value, bool)


def nginx_size(value):
    """True for a size nginx accepts, such as 1m, 512k or 1048576."""
    return _text(value) and bool(_SIZE.match(str(value)))


def nginx_listen(value):
    """True for one value of nginx's listen directive, such as 80, 127.0.0.1:8080 or [::]:80."""
    return _text(value) and bool(_LISTEN.match(str(value)))


def nginx_server_name(value):
    """True for one value of nginx's server_name directive."""
    return isinstance(value, str) and bool(_SERVER_NAME.match(value))


class TestModule:
    """pyops.uwsgi tests."""

    def tests(self):
        return {
            "nginx_size": nginx_size,
            "nginx_listen": nginx_listen,
            "nginx_server_name": nginx_server_name,
        }
