# Copyright: pyops.uwsgi contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The uwsgi wire protocol, as nginx's ``uwsgi_pass`` speaks it, for modules to share.

A request is a packet (a 4-byte header, then the vars block) followed by the body::

    modifier1 (u8) | datasize (u16 little-endian) | modifier2 (u8)
    for each var:  key length (u16 LE) | key | value length (u16 LE) | value

``datasize`` is the length of the vars block. For a WSGI app (modifier1 0) uWSGI answers with
plain HTTP (status line, headers, body) and closes the connection.

Standard library only: this file is shipped to the managed host inside modules.
"""

from __future__ import annotations

import errno
import re
import socket
import struct
import time
from collections.abc import Iterable, Mapping
from urllib.parse import unquote_to_bytes

MODIFIER1_WSGI = 0
MAX_VARS_SIZE = 0xFFFF
# uWSGI's default buffer-size: a vars block above it is dropped without a reply.
UWSGI_DEFAULT_BUFFER_SIZE = 4096
MAX_HEAD_SIZE = 65536

_HEADER = struct.Struct("<BHB")
_LENGTH = struct.Struct("<H")
_TOKEN = re.compile(r"^[!#$%&'*+.^_`|~0-9A-Za-z-]+$")
_STATUS_LINE = re.compile(rb"^HTTP/(\d)\.(\d) (\d{3})(?: (.*))?$")
_TCP_ADDRESS = re.compile(r"^(\[[^\]/]*\]|[^:/\[\]]*):(\d{1,5})$")


class UwsgiError(Exception):
    """A request that got no usable response; ``category`` says why."""

    category = "connection_error"

    def __init__(self, message: str, os_errno: int | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.os_errno = os_errno


class SocketMissing(UwsgiError):
    """The unix socket path does not exist (ENOENT): nginx logs this as a 502."""

    category = "socket_missing"


class SocketPermissionDenied(UwsgiError):
    """The socket or a directory above it may not be opened by this user (EACCES)."""

    category = "permission_denied"


class ConnectRefused(UwsgiError):
    """Nothing accepts connections there (ECONNREFUSED), or its listen queue is full."""

    category = "refused"


class RequestTimeout(UwsgiError):
    """No complete response within the timeout."""

    category = "timeout"


class ProtocolError(UwsgiError):
    """The peer closed without a reply, or replied with something that is not HTTP."""

    category = "protocol_error"


class RequestTooLarge(ValueError):
    """The vars block does not fit the protocol's 16-bit size field."""


class UwsgiResponse:
    """What the app answered: status, reason, headers as received, body (up to the limit)."""

    def __init__(
        self,
        status: int,
        reason: str,
        headers: list[tuple[str, str]],
        body: bytes,
        *,
        elapsed: float = 0.0,
        body_size: int | None = None,
    ) -> None:
        self.status = status
        self.reason = reason
        self.headers = headers
        self.body = body
        self.elapsed = elapsed
        # Bytes the app sent in the body, of which ``body`` keeps the first ``body_limit``.
        self.body_size = len(body) if body_size is None else body_size

    @property
    def truncated(self) -> bool:
        return self.body_size > len(self.body)

    def header(self, name: str, default: str | None = None) -> str | None:
        """Return the header NAME (any case); repeated headers joined with ", "."""
        values = [value for key, value in self.headers if key.lower() == name.lower()]
        return ", ".join(values) if values else default

    def __repr__(self) -> str:
        return f"UwsgiResponse({self.status} {self.reason!r}, {self.body_size} body bytes)"


def _to_bytes(value: str | bytes | int) -> bytes:
    if isinstance(value, bytes):
        return value
    return str(value).encode("utf-8")


def encode_vars(variables: Iterable[tuple[str | bytes, str | bytes | int]]) -> bytes:
    """Return the vars block: each key and value preceded by its u16-LE length."""
    parts = []
    for key, value in variables:
        for item in (_to_bytes(key), _to_bytes(value)):
            if len(item) > MAX_VARS_SIZE:
                raise RequestTooLarge(
                    f"uwsgi var {_to_bytes(key)[:40]!r}: {len(item)} bytes does not fit the"
                    f" protocol's 16-bit length field (max {MAX_VARS_SIZE})"
                )
            parts.append(_LENGTH.pack(len(item)))
            parts.append(item)
    return b"".join(parts)


def pack_packet(vars_block: bytes, modifier1: int = MODIFIER1_WSGI, modifier2: int = 0) -> bytes:
    """Return the 4-byte header followed by VARS_BLOCK, refusing a block over 65535 bytes."""
    if len(vars_block) > MAX_VARS_SIZE:
        raise RequestTooLarge(
            f"the uwsgi vars block is {len(vars_block)} bytes; the protocol's 16-bit size field"
            f" allows at most {MAX_VARS_SIZE} (and uWSGI accepts only its buffer-size,"
            f" {UWSGI_DEFAULT_BUFFER_SIZE} by default): send fewer or shorter headers"
        )
    if not (0 <= modifier1 <= 0xFF and 0 <= modifier2 <= 0xFF):
        raise ValueError("uwsgi modifiers are single bytes (0-255)")
    return _HEADER.pack(modifier1, len(vars_block), modifier2) + vars_block


def wsgi_vars(
    method: str = "GET",
    path: str = "/",
    host: str = "localhost",
    *,
    headers: Mapping[str, str] | Iterable[tuple[str, str]] | None = None,
    content_length: int = 0,
    server_port: int | str = 80,
    remote_addr: str = "127.0.0.1",
    remote_port: int | str = 0,
) -> list[tuple[str, str | bytes]]:
    """Return the request vars nginx's ``uwsgi_params`` would send for this request.

    PATH is the request target (``/path?query``); PATH_INFO gets its percent-decoded path, as
    nginx's ``$document_uri``. HEADERS become ``HTTP_*`` vars (upper case, ``-`` to ``_``),
    except Content-Type, which is CONTENT_TYPE; repeated names are joined with ", ". A Host header
    overrides HTTP_HOST (SERVER_NAME stays HOST). CONTENT_LENGTH is the body's size, given here.
    """
    if not _TOKEN.match(method):
        raise ValueError(f"invalid HTTP method {method!r}")
    if not path.startswith("/") or any(c in path for c in " \r\n\0"):
        raise ValueError(f"the request path must start with / and hold no spaces: {path!r}")
    _check_value("host", host)
    target = path.partition("?")
    uri_path, query = target[0], target[2]
    variables: dict[str, str | bytes] = {
        "REQUEST_METHOD": method,
        "REQUEST_URI": path,
        "PATH_INFO": unquote_to_bytes(uri_path),
        "QUERY_STRING": query,
        "SERVER_PROTOCOL": "HTTP/1.1",
        "REQUEST_SCHEME": "http",
        "SERVER_NAME": host,
        "SERVER_PORT": str(server_port),
        "REMOTE_ADDR": remote_addr,
        "REMOTE_PORT": str(remote_port),
        "HTTP_HOST": host,
        "CONTENT_TYPE": "",
        "CONTENT_LENGTH": str(content_length),
    }
    extra: dict[str, list[str]] = {}
    pairs = headers.items() if isinstance(headers, Mapping) else (headers or ())
    for name, raw_value in pairs:
        if not isinstance(name, str) or not _TOKEN.match(name):
            raise ValueError(f"invalid HTTP header name {name!r}")
        value = str(raw_value)
        _check_value(f"header {name}", value)
        key = name.upper().replace("-", "_")
        if key == "CONTENT_LENGTH":
            raise ValueError("Content-Length is set from the body; leave it out of the headers")
        # WSGI and nginx's uwsgi_params carry Content-Type without the HTTP_ prefix.
        extra.setdefault(key if key == "CONTENT_TYPE" else "HTTP_" + key, []).append(value)
    for key, values in extra.items():
        variables[key] = ", ".join(values)
    return list(variables.items())


def _check_value(what: str, value: str) -> None:
    if any(c in value for c in "\r\n\0"):
        raise ValueError(f"{what}: the value holds a line break or NUL")


def build_request(
    method: str = "GET",
    path: str = "/",
    host: str = "localhost",
    headers: Mapping[str, str] | Iterable[tuple[str, str]] | None = None,
    body: bytes | str = b"",
    **wsgi_options: int | str,
) -> bytes:
    """Return the bytes to send for one WSGI request: packet, then BODY.

    WSGI_OPTIONS are passed to :func:`wsgi_vars` (server_port, remote_addr, remote_port).
    """
    body = _to_bytes(body)
    variables = wsgi_vars(
        method, path, host, headers=headers, content_length=len(body), **wsgi_options
    )
    return pack_packet(encode_vars(variables)) + body


def _split_head(data: bytes) -> tuple[bytes, bytes] | None:
    """Return (head, rest) split at the first empty line, or None if there is none yet."""
    match = re.search(rb"\r?\n\r?\n", data)
    if match is None:
        return None
    return data[: match.start()], data[match.end() :]


def _describe(data: bytes) -> str:
    return repr(data[:60]) + ("..." if len(data) > 60 else "")


def parse_head(head: bytes) -> tuple[int, str, list[tuple[str, str]]]:
    """Parse a status line and header lines (no empty line) into (status, reason, headers)."""
    lines = re.split(rb"\r?\n", head)
    match = _STATUS_LINE.match(lines[0])
    if match is None:
        raise ProtocolError(f"the reply is not an HTTP response: {_describe(head)}")
    status = int(match.group(3))
    reason = (match.group(4) or b"").decode("latin-1").strip()
    headers: list[tuple[str, str]] = []
    for line in lines[1:]:
        if line[:1] in (b" ", b"\t") and headers:
            # obs-fold: a continuation of the previous header's value
            name, value = headers[-1]
            headers[-1] = (name, value + " " + line.strip().decode("latin-1"))
            continue
        name, colon, value = line.partition(b":")
        if not colon or not _TOKEN.match(name.decode("latin-1")):
            raise ProtocolError(f"malformed HTTP header line in the reply: {_describe(line)}")
        headers.append((name.decode("latin-1"), value.strip().decode("latin-1")))
    return status, reason, headers


def parse_response(data: bytes) -> tuple[int, str, list[tuple[str, str]], bytes]:
    """Parse a whole HTTP response into (status, reason, headers, body)."""
    if not data:
        raise ProtocolError("empty response: the peer closed the connection without a reply")
    parts = _split_head(data)
    if parts is None:
        if _STATUS_LINE.match(data.split(b"\n", 1)[0].rstrip(b"\r")):
            raise ProtocolError(f"truncated HTTP response (no end of headers): {_describe(data)}")
        raise ProtocolError(f"the reply is not an HTTP response: {_describe(data)}")
    head, body = parts
    status, reason, headers = parse_head(head)
    return status, reason, headers, body


def parse_address(address: str) -> tuple[int, str | tuple[str, int]]:
    """Return (socket family, connect address) for a unix socket path or a TCP ``host:port``.

    ``unix:/path`` (nginx's spelling) and ``@name`` (an abstract socket) are unix sockets; so is
    anything with a ``/`` in it. ``:port`` is that port on 127.0.0.1, ``[::1]:port`` IPv6.
    """
    if not address:
        raise ValueError("empty socket address")
    if address.startswith("unix:"):
        address = address[len("unix:") :]
    elif "/" not in address:
        match = _TCP_ADDRESS.match(address)
        if match is not None:
            host, port = match.group(1), int(match.group(2))
            if not 0 < port < 65536:
                raise ValueError(f"TCP port out of range in {address!r}")
            if host.startswith("["):
                return socket.AF_INET6, (host[1:-1], port)
            return socket.AF_INET, (host or "127.0.0.1", port)
    if address.startswith("@"):
        return socket.AF_UNIX, "\0" + address[1:]
    return socket.AF_UNIX, address


def _connect_error(exc: OSError, address: str) -> UwsgiError:
    code = exc.errno
    message = f"{address}: {exc.strerror or exc}"
    if code in (errno.ENOENT, errno.ENOTDIR):
        return SocketMissing(message, code)
    if code in (errno.EACCES, errno.EPERM):
        return SocketPermissionDenied(message, code)
    if code == errno.ECONNREFUSED:
        return ConnectRefused(message, code)
    if code in (errno.EAGAIN, errno.EWOULDBLOCK):
        # A unix socket whose listen queue is full fails at once; nginx answers 502 to that too.
        return ConnectRefused(f"{message} (the listen queue is full)", code)
    return UwsgiError(message, code)


class _Deadline:
    def __init__(self, timeout: float) -> None:
        self.end = time.monotonic() + timeout

    def arm(self, sock: socket.socket) -> None:
        remaining = self.end - time.monotonic()
        if remaining <= 0:
            raise socket.timeout("timed out")
        sock.settimeout(remaining)


def _exchange(
    sock: socket.socket, payload: bytes, deadline: _Deadline, body_limit: int
) -> UwsgiResponse:
    deadline.arm(sock)
    sock.sendall(payload)
    data = b""
    parts = None
    while parts is None:
        if len(data) > MAX_HEAD_SIZE:
            raise ProtocolError(f"no end of HTTP headers in the first {MAX_HEAD_SIZE} bytes")
        deadline.arm(sock)
        chunk = sock.recv(65536)
        if not chunk:
            if not data:
                raise ProtocolError(
                    "empty response: the peer closed the connection without a reply; uWSGI does"
                    " that when the app raised before start_response or the request exceeded"
                    " its buffer-size (see its log)"
                )
            parse_response(data)  # raises the ProtocolError that fits
        data += chunk
        parts = _split_head(data)
    head, rest = parts
    status, reason, headers = parse_head(head)
    kept = [rest[:body_limit]]
    size = len(rest)
    # Read to the end, keeping BODY_LIMIT bytes: closing early would make the app log a write error.
    while True:
        deadline.arm(sock)
        chunk = sock.recv(65536)
        if not chunk:
            break
        if size < body_limit:
            kept.append(chunk[: body_limit - size])
        size += len(chunk)
    return UwsgiResponse(status, reason, headers, b"".join(kept), body_size=size)


def request(
    address: str,
    method: str = "GET",
    path: str = "/",
    *,
    host: str = "localhost",
    headers: Mapping[str, str] | Iterable[tuple[str, str]] | None = None,
    body: bytes | str = b"",
    timeout: float = 5.0,
    body_limit: int = 65536,
) -> UwsgiResponse:
    """Send one WSGI request to the uWSGI socket ADDRESS and return its response.

    ADDRESS is a unix socket path or a TCP ``host:port`` (see :func:`parse_address`). TIMEOUT is
    for the whole exchange. The body is read to the end; the response keeps its first BODY_LIMIT
    bytes. Failures raise a :class:`UwsgiError` subclass whose ``category`` names the cause;
    a request that cannot be encoded raises ``ValueError`` (``RequestTooLarge`` for size).
    """
    family, target = parse_address(address)
    body = _to_bytes(body)
    # A list, since the request is encoded twice over TCP and an iterator would be spent.
    headers = list(headers.items() if isinstance(headers, Mapping) else headers or ())
    # Encoded once before connecting, so that a request that cannot be sent is refused first.
    payload = build_request(method, path, host, headers, body)
    deadline = _Deadline(timeout)
    started = time.monotonic()
    sock = socket.socket(family, socket.SOCK_STREAM)
    try:
        try:
            deadline.arm(sock)
            sock.connect(target)
        except socket.timeout:
            raise RequestTimeout(f"{address}: no connection within {timeout:g}s") from None
        except OSError as exc:
            raise _connect_error(exc, address) from None
        if family != socket.AF_UNIX:
            local = sock.getsockname()
            payload = build_request(
                method,
                path,
                host,
                headers,
                body,
                server_port=target[1],
                remote_addr=local[0],
                remote_port=local[1],
            )
        try:
            response = _exchange(sock, payload, deadline, body_limit)
        except socket.timeout:
            raise RequestTimeout(f"{address}: no complete response within {timeout:g}s") from None
        except (ConnectionResetError, BrokenPipeError) as exc:
            raise ProtocolError(
                f"{address}: the peer dropped the connection ({exc.strerror}); uWSGI does that"
                " to a request over its buffer-size, and a peer that is not uWSGI may too",
                exc.errno,
            ) from None
        except ProtocolError as exc:
            raise ProtocolError(f"{address}: {exc.message}") from None
        except OSError as exc:
            raise UwsgiError(f"{address}: {exc.strerror or exc}", exc.errno) from None
    finally:
        sock.close()
    response.elapsed = time.monotonic() - started
    return response
