from __future__ import annotations

import json
import socket
import struct

import pytest
from ansible_collections.pyops.uwsgi.plugins.module_utils import uwsgi_protocol as proto


def decode_packet(packet: bytes) -> tuple[int, int, dict[str, bytes], bytes]:
    """Read a request the way uWSGI does: (modifier1, modifier2, vars, body)."""
    modifier1, size, modifier2 = struct.unpack("<BHB", packet[:4])
    block, body = packet[4 : 4 + size], packet[4 + size :]
    assert len(block) == size
    variables = {}
    offset = 0
    while offset < size:
        (key_length,) = struct.unpack("<H", block[offset : offset + 2])
        key = block[offset + 2 : offset + 2 + key_length]
        offset += 2 + key_length
        (value_length,) = struct.unpack("<H", block[offset : offset + 2])
        variables[key.decode()] = block[offset + 2 : offset + 2 + value_length]
        offset += 2 + value_length
    assert offset == size
    return modifier1, modifier2, variables, body


# --- encoding ---------------------------------------------------------------------------------


def test_vars_block_bytes():
    assert proto.encode_vars([("A", "bc"), ("", ""), ("KEY", b"\x00\xff")]) == (
        b"\x01\x00A\x02\x00bc" + b"\x00\x00\x00\x00" + b"\x03\x00KEY\x02\x00\x00\xff"
    )


def test_lengths_are_little_endian():
    block = proto.encode_vars([("K", "v" * 0x0102)])
    assert block[:3] == b"\x01\x00K"
    assert block[3:5] == b"\x02\x01"
    packet = proto.pack_packet(block)
    # datasize 0x0107 = 2 + 1 + 2 + 0x0102, low byte first, between modifier1 and modifier2
    assert packet[:4] == b"\x00\x07\x01\x00"
    assert packet[4:] == block


def test_modifiers():
    assert proto.pack_packet(b"", modifier1=5, modifier2=9) == b"\x05\x00\x00\x09"
    with pytest.raises(ValueError, match="single bytes"):
        proto.pack_packet(b"", modifier1=256)


def test_largest_packet_and_one_byte_more():
    # 2 + 1 + 2 + 65530 = 65535 bytes: the largest block the 16-bit size field can carry.
    block = proto.encode_vars([("K", "x" * 65530)])
    assert len(block) == proto.MAX_VARS_SIZE
    assert proto.pack_packet(block)[:4] == b"\x00\xff\xff\x00"
    with pytest.raises(proto.RequestTooLarge, match="16-bit size field"):
        proto.pack_packet(proto.encode_vars([("K", "x" * 65531)]))


def test_value_over_its_length_field():
    with pytest.raises(proto.RequestTooLarge, match="16-bit length field"):
        proto.encode_vars([("K", "x" * 65536)])


def test_large_request_refused_before_any_connection():
    # No peer listens at that path: the size is checked first.
    with pytest.raises(proto.RequestTooLarge):
        proto.request("/nonexistent/uwsgi.sock", headers={"X-Big": "x" * 70000})


def test_build_request_like_nginx():
    packet = proto.build_request(
        "POST",
        "/caf%C3%A9/a%2Fb?x=1&y=%20",
        "shop.example.org",
        {"Content-Type": "application/json", "X-Forwarded-For": "10.0.0.1", "accept": "*/*"},
        '{"a": 1}',
    )
    modifier1, modifier2, variables, body = decode_packet(packet)
    assert (modifier1, modifier2) == (0, 0)
    assert body == b'{"a": 1}'
    assert variables == {
        "REQUEST_METHOD": b"POST",
        "REQUEST_URI": b"/caf%C3%A9/a%2Fb?x=1&y=%20",
        "PATH_INFO": "/café/a/b".encode(),
        "QUERY_STRING": b"x=1&y=%20",
        "SERVER_PROTOCOL": b"HTTP/1.1",
        "REQUEST_SCHEME": b"http",
        "SERVER_NAME": b"shop.example.org",
        "SERVER_PORT": b"80",
        "REMOTE_ADDR": b"127.0.0.1",
        "REMOTE_PORT": b"0",
        "HTTP_HOST": b"shop.example.org",
        "CONTENT_TYPE": b"application/json",
        "CONTENT_LENGTH": b"8",
        "HTTP_X_FORWARDED_FOR": b"10.0.0.1",
        "HTTP_ACCEPT": b"*/*",
    }
    assert list(variables)[:4] == ["REQUEST_METHOD", "REQUEST_URI", "PATH_INFO", "QUERY_STRING"]


def test_build_request_defaults():
    modifier1, modifier2, variables, body = decode_packet(proto.build_request())
    assert (modifier1, modifier2, body) == (0, 0, b"")
    assert variables["REQUEST_METHOD"] == b"GET"
    assert variables["PATH_INFO"] == b"/"
    assert variables["QUERY_STRING"] == b""
    assert variables["HTTP_HOST"] == variables["SERVER_NAME"] == b"localhost"
    assert variables["CONTENT_LENGTH"] == b"0"
    assert variables["CONTENT_TYPE"] == b""


def test_repeated_headers_and_host_override():
    variables = dict(
        proto.wsgi_vars(
            "GET", "/", "internal", headers=[("X-A", "1"), ("x-a", "2"), ("Host", "public")]
        )
    )
    assert variables["HTTP_X_A"] == "1, 2"
    assert variables["HTTP_HOST"] == "public"
    assert variables["SERVER_NAME"] == "internal"


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"method": "GE T"}, "invalid HTTP method"),
        ({"path": "health"}, "must start with /"),
        ({"path": "/a b"}, "must start with /"),
        ({"host": "a\r\nX-Evil: 1"}, "line break"),
        ({"headers": {"Bad Name": "x"}}, "invalid HTTP header name"),
        ({"headers": {"X-A": "1\r\nX-B: 2"}}, "line break"),
        ({"headers": {"Content-Length": "5"}}, "set from the body"),
    ],
)
def test_invalid_requests(kwargs, message):
    with pytest.raises(ValueError, match=message):
        proto.build_request(**kwargs)


@pytest.mark.parametrize(
    ("address", "expected"),
    [
        ("/run/uwsgi/shop/shop.sock", (socket.AF_UNIX, "/run/uwsgi/shop/shop.sock")),
        ("unix:/run/shop.sock", (socket.AF_UNIX, "/run/shop.sock")),
        ("app.sock", (socket.AF_UNIX, "app.sock")),
        ("./a:8000", (socket.AF_UNIX, "./a:8000")),
        ("@shop", (socket.AF_UNIX, "\0shop")),
        ("127.0.0.1:8001", (socket.AF_INET, ("127.0.0.1", 8001))),
        ("localhost:3031", (socket.AF_INET, ("localhost", 3031))),
        (":3031", (socket.AF_INET, ("127.0.0.1", 3031))),
        ("[::1]:3031", (socket.AF_INET6, ("::1", 3031))),
    ],
)
def test_parse_address(address, expected):
    assert proto.parse_address(address) == expected


@pytest.mark.parametrize("address", ["", "127.0.0.1:0", "127.0.0.1:70000"])
def test_parse_address_refuses(address):
    with pytest.raises(ValueError):
        proto.parse_address(address)


# --- response parsing -------------------------------------------------------------------------


def test_parse_response():
    status, reason, headers, body = proto.parse_response(
        b"HTTP/1.1 404 Not Found\r\n"
        b"Content-Type: text/plain\r\n"
        b"X-Long:  first\r\n"
        b"\tsecond\r\n"
        b"Set-Cookie: a=1\r\n"
        b"Set-Cookie: b=2\r\n"
        b"\r\n"
        b"no such page\r\n\r\nstill the body"
    )
    assert (status, reason) == (404, "Not Found")
    assert headers == [
        ("Content-Type", "text/plain"),
        ("X-Long", "first second"),
        ("Set-Cookie", "a=1"),
        ("Set-Cookie", "b=2"),
    ]
    assert body == b"no such page\r\n\r\nstill the body"


def test_parse_response_bare_newlines_no_reason_no_body():
    assert proto.parse_response(b"HTTP/1.0 204\nX-A: 1\n\n") == (204, "", [("X-A", "1")], b"")


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"", "empty response"),
        (b"xyz", "not an HTTP response"),
        (b"xyz\r\n\r\n", "not an HTTP response"),
        (b"HTTP/1.1 2000 OK\r\n\r\n", "not an HTTP response"),
        (b"HTTP/1.1 OK\r\n\r\n", "not an HTTP response"),
        (b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n", "truncated"),
        (b"HTTP/1.1 200 OK\r\nno colon here\r\n\r\n", "malformed HTTP header"),
        (b"HTTP/1.1 200 OK\r\nBad Name: x\r\n\r\n", "malformed HTTP header"),
    ],
)
def test_parse_response_refuses(data, message):
    with pytest.raises(proto.ProtocolError, match=message) as raised:
        proto.parse_response(data)
    assert raised.value.category == "protocol_error"


def test_response_header_lookup():
    response = proto.UwsgiResponse(200, "OK", [("X-A", "1"), ("x-a", "2")], b"abc")
    assert response.header("X-a") == "1, 2"
    assert response.header("missing") is None
    assert not response.truncated


# --- a real uWSGI -----------------------------------------------------------------------------


def echo(response: proto.UwsgiResponse) -> dict:
    assert response.status == 200, response.body
    return json.loads(response.body)


def test_get_over_unix_socket(uwsgi_server):
    response = proto.request(uwsgi_server.unix_socket, path="/hello?name=x", host="shop.test")
    assert (response.status, response.reason) == (200, "OK")
    assert response.header("content-type") == "application/json"
    assert response.header("X-Echo") == "one, two"
    assert 0 < response.elapsed < 5
    environ = echo(response)["environ"]
    assert environ["PATH_INFO"] == "/hello"
    assert environ["QUERY_STRING"] == "name=x"
    assert environ["REQUEST_URI"] == "/hello?name=x"
    assert environ["HTTP_HOST"] == environ["SERVER_NAME"] == "shop.test"
    assert environ["SERVER_PROTOCOL"] == "HTTP/1.1"
    assert environ["wsgi.url_scheme"] == "http"


def test_post_over_tcp(uwsgi_server):
    response = proto.request(
        uwsgi_server.tcp_address,
        "PUT",
        "/items/7",
        headers={"Content-Type": "text/plain; charset=utf-8", "X-Request-Id": "abc"},
        body="héllo",
    )
    got = echo(response)
    assert got["body"].encode("latin-1").decode("utf-8") == "héllo"
    environ = got["environ"]
    assert environ["REQUEST_METHOD"] == "PUT"
    assert environ["CONTENT_TYPE"] == "text/plain; charset=utf-8"
    assert environ["CONTENT_LENGTH"] == "6"
    assert environ["HTTP_X_REQUEST_ID"] == "abc"
    assert environ["SERVER_PORT"] == uwsgi_server.tcp_address.rsplit(":", 1)[1]
    assert environ["REMOTE_ADDR"] == "127.0.0.1"
    assert environ["REMOTE_PORT"] != "0"


def test_body_limit_reads_to_the_end(uwsgi_server):
    response = proto.request(uwsgi_server.unix_socket, path="/bytes?300000", body_limit=1000)
    assert response.body == b"x" * 1000
    assert response.body_size == 300000
    assert response.truncated


def test_app_5xx_is_a_response(uwsgi_server):
    response = proto.request(uwsgi_server.unix_socket, path="/fail")
    assert (response.status, response.reason, response.body) == (
        500,
        "Internal Server Error",
        b"it broke",
    )


def test_app_raising_gets_no_reply(uwsgi_server):
    with pytest.raises(proto.ProtocolError, match=r"empty response.*raised before start_response"):
        proto.request(uwsgi_server.unix_socket, path="/raise")


def test_vars_over_uwsgi_buffer_size(uwsgi_server):
    # Fits the protocol, not uWSGI's default buffer-size (4096): uWSGI drops the connection.
    with pytest.raises(proto.ProtocolError, match="buffer-size"):
        proto.request(uwsgi_server.unix_socket, headers={"X-Big": "x" * 5000})


def test_timeout(uwsgi_server):
    with pytest.raises(proto.RequestTimeout) as raised:
        proto.request(uwsgi_server.unix_socket, path="/sleep?1.5", timeout=0.3)
    assert raised.value.category == "timeout"


def test_socket_missing(tmp_path):
    with pytest.raises(proto.SocketMissing) as raised:
        proto.request(str(tmp_path / "none.sock"))
    assert raised.value.category == "socket_missing"
    assert raised.value.os_errno == 2


def test_socket_file_with_no_listener(tmp_path):
    path = str(tmp_path / "stale.sock")
    stale = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    stale.bind(path)
    stale.close()  # leaves the file, as a crashed uWSGI without vacuum does
    with pytest.raises(proto.ConnectRefused) as raised:
        proto.request(path)
    assert raised.value.category == "refused"


def test_refused_tcp(unused_tcp_address):
    with pytest.raises(proto.ConnectRefused):
        proto.request(unused_tcp_address)


@pytest.mark.parametrize("reply", [b"xyz", b"", b"HTTP/1.1 200 OK\r\nX-A: 1\r\n"])
def test_not_uwsgi_peer(fake_peer, reply):
    peer = fake_peer(reply)
    with pytest.raises(proto.ProtocolError):
        proto.request(peer.address, timeout=3)
    # The peer got a well-formed packet.
    assert decode_packet(peer.requests[0])[2]["REQUEST_METHOD"] == b"GET"
