"""Traffic shapes curl cannot make, sent to nginx inside an instance (standard library only).

    python3 shapes.py burst --host hello.test --path /nap/100 --count 300 --timeout 30
    python3 shapes.py slow-reader --host hello.test --path /stream/32 --after 1048576 --pause 8
    python3 shapes.py chunked-upload --host hello.test --path /upload --size 2000000
    python3 shapes.py many-headers --host hello.test --path /request --count 1000 --bare-lf
    python3 shapes.py events --host hello.test --path /events

Each subcommand sends one shape to 127.0.0.1 port 80 (--address, --port) with the given Host header
and prints one JSON document: many requests at one instant, a client that stops reading for a
while, a body in chunks, thousands of tiny headers, server-sent events timed as they arrive. Every
socket has a timeout and every count and pause a bound, so a run ends by itself.
"""

from __future__ import annotations

import argparse
import hashlib
import http.client
import json
import random
import socket
import sys
import threading
import time
from collections import Counter

CHUNK = 65536
# The most each shape makes: the client refuses more.
MAX_BURST = 1000
MAX_HEADERS = 20000
MAX_BYTES = 64 * 1024 * 1024
MAX_PAUSE = 60.0
MAX_EVENTS = 100
# Header names start with a digit: no HTTP software gives such a name a meaning.
_FIRST = "0123456789"
_REST = "0123456789abcdefghijklmnopqrstuvwxyz"


def header_names(count, width=3):
    """COUNT distinct header names of WIDTH characters."""
    capacity = len(_FIRST) * len(_REST) ** (width - 1)
    if width < 1 or not 0 <= count <= capacity:
        raise ValueError(f"{count} names of {width} characters: at most {capacity}")
    names = []
    for number in range(count):
        rest, left = "", number
        for _place in range(width - 1):
            left, digit = divmod(left, len(_REST))
            rest = _REST[digit] + rest
        names.append(_FIRST[left] + rest)
    return names


def uwsgi_var_bytes(name, value=""):
    """Bytes the header NAME: VALUE takes in nginx's uwsgi packet: HTTP_NAME and its value, each
    after a 2-byte length."""
    key = "HTTP_" + name.upper().replace("-", "_")
    return 2 + len(key.encode("latin-1")) + 2 + len(value.encode("latin-1"))


def headers_packet_bytes(count, width=3, value=""):
    """Bytes COUNT headers of header_names(COUNT, WIDTH), each with VALUE, add to the packet."""
    return sum(uwsgi_var_bytes(name, value) for name in header_names(count, width))


def count_for_packet(limit, width=3, value=""):
    """The most headers of WIDTH-character names and VALUE whose packet bytes stay within LIMIT."""
    capacity = len(_FIRST) * len(_REST) ** (width - 1)
    return min(limit // uwsgi_var_bytes("0" * width, value), capacity)


def request_head(method, path, host, headers=(), eol="\r\n"):
    """The request line and headers (NAME, VALUE pairs after Host), ended by an empty line."""
    lines = [f"{method} {path} HTTP/1.1", f"Host: {host}", "Connection: close"]
    lines += [f"{name}: {value}" if value else f"{name}:" for name, value in headers]
    return (eol.join(lines) + eol + eol).encode("latin-1")


def chunked(body, size=CHUNK):
    """BODY framed as HTTP/1.1 chunks of SIZE bytes, then the last, empty chunk."""
    for start in range(0, len(body), size):
        piece = body[start : start + size]
        yield b"%x\r\n" % len(piece) + piece + b"\r\n"
    yield b"0\r\n\r\n"


def open_socket(address, port, timeout, rcvbuf=0):
    """A TCP connection whose every operation gives up after TIMEOUT seconds."""
    sock = socket.socket(socket.AF_INET6 if ":" in address else socket.AF_INET)
    sock.settimeout(timeout)
    if rcvbuf:
        # Before connecting: the window the client offers stays this small, so a pause in
        # reading holds the server back instead of filling a large kernel buffer.
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, rcvbuf)
    try:
        sock.connect((address, port))
    except OSError:
        sock.close()
        raise
    return sock


def send_then_read(sock, head, body_parts=(), method="GET"):
    """Send HEAD and BODY_PARTS; return (response, the error that cut the sending short).

    A server may answer (413, 400) and close before it has read everything: its answer is read
    all the same."""
    send_error = None
    try:
        sock.sendall(head)
        for part in body_parts:
            sock.sendall(part)
    except OSError as exc:
        send_error = type(exc).__name__
    response = http.client.HTTPResponse(sock, method=method)
    response.begin()
    return response, send_error


def exchange(address, port, timeout, head, *, body_parts=(), method="GET"):
    """One request on a connection of its own: status, the answer (JSON when it is) and errors."""
    report = {"status": None, "send_error": None, "error": None, "app": None}
    try:
        with open_socket(address, port, timeout) as sock:
            response, report["send_error"] = send_then_read(sock, head, body_parts, method)
            report["status"] = response.status
            report["app"] = _json_or_text(response.read())
    except (OSError, http.client.HTTPException) as exc:
        report["error"] = type(exc).__name__
    return report


def _json_or_text(data):
    try:
        return json.loads(data)
    except ValueError:
        return data[:300].decode("latin-1")


def _milliseconds(values, fraction):
    if not values:
        return None
    ordered = sorted(values)
    return round(ordered[min(len(ordered) - 1, int(len(ordered) * fraction))] * 1000, 1)


def _one_get(address, port, host, path, timeout):
    """(status, Retry-After) of one GET on a connection of its own."""
    conn = http.client.HTTPConnection(address, port, timeout=timeout)
    try:
        conn.request("GET", path, headers={"Host": host, "Connection": "close"})
        response = conn.getresponse()
        response.read()
        return response.status, response.getheader("Retry-After")
    finally:
        conn.close()


def burst(*, address, port, host, path, count, timeout):
    """COUNT GETs of PATH, each on its own connection, all let go at the same instant."""
    barrier = threading.Barrier(count, timeout=timeout)
    results = []
    lock = threading.Lock()

    def one():
        try:
            barrier.wait()
        except threading.BrokenBarrierError:
            outcome = (None, None, "BrokenBarrierError", 0.0)
        else:
            start = time.monotonic()
            try:
                status, retry_after = _one_get(address, port, host, path, timeout)
                outcome = (status, retry_after, None, time.monotonic() - start)
            except (OSError, http.client.HTTPException) as exc:
                outcome = (None, None, type(exc).__name__, time.monotonic() - start)
        with lock:
            results.append(outcome)

    started = time.monotonic()
    threads = [threading.Thread(target=one, daemon=True) for _client in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(max(0.0, started + 2 * timeout + 5 - time.monotonic()))
    with lock:
        return _burst_report(list(results), count, time.monotonic() - started)


def _burst_report(results, count, seconds):
    statuses = Counter(str(status) for status, _r, error, _s in results if error is None)
    errors = Counter(error for _st, _r, error, _s in results if error is not None)
    unfinished = count - len(results)
    if unfinished:
        errors["unfinished"] = unfinished
    on_503 = [retry for status, retry, _e, _s in results if status == 503]
    latencies = [seconds for _st, _r, error, seconds in results if error is None]
    return {
        "count": count,
        "statuses": dict(statuses),
        "errors": dict(errors),
        "retry_after": dict(Counter(value for value in on_503 if value is not None)),
        "503_without_retry_after": on_503.count(None),
        "p50_ms": _milliseconds(latencies, 0.5),
        "p99_ms": _milliseconds(latencies, 0.99),
        "max_ms": _milliseconds(latencies, 1.0),
        "seconds": round(seconds, 2),
    }


def slow_reader(*, address, port, host, path, after, pause, timeout, rcvbuf):
    """GET PATH, read AFTER bytes of the body, stop reading for PAUSE seconds, read the rest."""
    start = time.monotonic()
    received, error, response = 0, None, None
    with open_socket(address, port, timeout, rcvbuf) as sock:
        try:
            response, _sent = send_then_read(sock, request_head("GET", path, host))
            received = len(response.read(after))
            time.sleep(pause)
            for piece in iter(lambda: response.read(CHUNK), b""):
                received += len(piece)
        except (OSError, http.client.HTTPException) as exc:
            error = type(exc).__name__
    length = response.getheader("Content-Length") if response else None
    length = int(length) if length is not None else None
    return {
        "status": response.status if response else None,
        "content_length": length,
        "received": received,
        "complete": error is None and length is not None and received == length,
        "error": error,
        "seconds": round(time.monotonic() - start, 2),
    }


def chunked_upload(*, address, port, host, path, size, timeout):
    """POST SIZE bytes to PATH with Transfer-Encoding: chunked, 64 KiB a chunk."""
    body = random.Random(size).randbytes(size)
    headers = [("Transfer-Encoding", "chunked"), ("Content-Type", "application/octet-stream")]
    head = request_head("POST", path, host, headers)
    return {
        **exchange(address, port, timeout, head, body_parts=chunked(body), method="POST"),
        "sent_length": size,
        "sent_sha256": hashlib.sha256(body).hexdigest(),
    }


def many_headers(*, address, port, host, path, count, name_width, value, bare_lf, timeout):
    """GET PATH with COUNT distinct tiny headers (NAME:VALUE), line ends LF alone with BARE_LF."""
    headers = [(name, value) for name in header_names(count, name_width)]
    head = request_head("GET", path, host, headers, eol="\n" if bare_lf else "\r\n")
    return {
        **exchange(address, port, timeout, head),
        "count": count,
        "header_bytes": len(head),
        "packet_bytes": headers_packet_bytes(count, name_width, value),
    }


def events(*, address, port, host, path, timeout):
    """GET PATH as server-sent events; the seconds after the request at which each one ended."""
    start = time.monotonic()
    arrivals = []
    with open_socket(address, port, timeout) as sock:
        response, _sent = send_then_read(sock, request_head("GET", path, host))
        headers_at = time.monotonic() - start
        while len(arrivals) < MAX_EVENTS:
            line = response.readline(CHUNK)
            if not line:
                break
            # An empty line ends an event.
            if line in (b"\n", b"\r\n"):
                arrivals.append(round(time.monotonic() - start, 3))
    return {
        "status": response.status,
        "content_type": response.getheader("Content-Type"),
        "headers_s": round(headers_at, 3),
        "events_s": arrivals,
    }


def _bounded(kind, low, high):
    def parse(text):
        number = kind(text)
        if not low <= number <= high:
            raise argparse.ArgumentTypeError(f"{text}: not within {low} and {high}")
        return number

    return parse


# Each subcommand: its function and its own options (flags, keyword arguments of add_argument).
COMMANDS = {
    "burst": (
        burst,
        [("--count", {"type": _bounded(int, 1, MAX_BURST), "required": True})],
    ),
    "slow-reader": (
        slow_reader,
        [
            ("--after", {"type": _bounded(int, 0, MAX_BYTES), "default": 1024 * 1024}),
            ("--pause", {"type": _bounded(float, 0, MAX_PAUSE), "required": True}),
            ("--rcvbuf", {"type": _bounded(int, 0, MAX_BYTES), "default": CHUNK}),
        ],
    ),
    "chunked-upload": (
        chunked_upload,
        [("--size", {"type": _bounded(int, 0, MAX_BYTES), "required": True})],
    ),
    "many-headers": (
        many_headers,
        [
            ("--count", {"type": _bounded(int, 0, MAX_HEADERS), "required": True}),
            ("--name-width", {"type": _bounded(int, 1, 16), "default": 3}),
            ("--value", {"default": ""}),
            ("--bare-lf", {"action": "store_true"}),
        ],
    ),
    "events": (events, []),
}


def parser():
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--address", default="127.0.0.1")
    common.add_argument("--port", type=int, default=80)
    common.add_argument("--host", required=True, help="the Host header")
    common.add_argument("--path", required=True)
    common.add_argument("--timeout", type=_bounded(float, 0.1, 120), default=30.0)
    top = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    commands = top.add_subparsers(dest="command", required=True)
    for name, (_function, options) in COMMANDS.items():
        command = commands.add_parser(name, parents=[common])
        for flag, settings in options:
            command.add_argument(flag, **settings)
    return top


def main(argv=None):
    args = vars(parser().parse_args(argv))
    function = COMMANDS[args.pop("command")][0]
    print(json.dumps(function(**args), sort_keys=True))
    sys.stdout.flush()


if __name__ == "__main__":
    main()
