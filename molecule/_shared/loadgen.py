"""A bounded HTTP load generator the verifiers run inside an instance (standard library only).

    python3 loadgen.py --target hello.test=/ --target second.test=/ --connections 8 \
        --stop-file /tmp/load.stop --max-seconds 300 > /tmp/load.json

Each connection keeps one HTTP/1.1 keep-alive connection to nginx on 127.0.0.1:80 (with --https
and --cafile, HTTPS on --port, the target's server name as TLS server name, its certificate checked
against that CA) and sends GET requests to its target (targets are dealt out to connections in
turn), pausing --pause seconds between requests so the load stays bounded. It stops when the stop
file appears or after --max-seconds, then prints one JSON document: requests, statuses per target,
errors per kind and latency figures. With --tally KEY, it also counts the values of KEY in 2xx JSON
answers (which host answered, say).
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import socket
import ssl
import threading
import time
from collections import Counter


class TLSConnection(http.client.HTTPSConnection):
    """HTTPS to an address with a site's name as TLS server name (SNI), checked by CONTEXT."""

    def __init__(self, address, port, server_name, context, timeout):
        super().__init__(address, port, timeout=timeout, context=context)
        self.server_name = server_name
        self.tls_context = context

    def connect(self):
        sock = socket.create_connection((self.host, self.port), self.timeout)
        self.sock = self.tls_context.wrap_socket(sock, server_hostname=self.server_name)


def connect(server_name, args):
    if not args.https:
        return http.client.HTTPConnection(args.address, args.port, timeout=args.timeout)
    context = ssl.create_default_context(cafile=args.cafile)
    return TLSConnection(args.address, args.port, server_name, context, args.timeout)


# What a server's close of an idle keep-alive connection looks like to a client that sent a request
# on it at that moment (nginx closes them when its old workers stop, at a reload).
CLOSED = (http.client.RemoteDisconnected, ConnectionResetError, BrokenPipeError)


def get(conn, server_name, path):
    conn.request("GET", path, headers={"Host": server_name})
    response = conn.getresponse()
    return response, response.read()


def run_connection(target, args, deadline, stop, record):
    server_name, path = target
    conn, reused = None, False
    while not stop.is_set() and time.monotonic() < deadline:
        if conn is None:
            conn, reused = connect(server_name, args), False
        start = time.monotonic()
        try:
            try:
                response, body = get(conn, server_name, path)
            except CLOSED:
                # As browsers and HTTP libraries do (RFC 9112, 9.3.1): a GET on a reused
                # connection the server closed before answering is sent again, once, on a new one.
                if not (args.retry_closed and reused):
                    raise
                record.retried()
                conn.close()
                conn = connect(server_name, args)
                response, body = get(conn, server_name, path)
        except (OSError, http.client.HTTPException) as exc:
            record(server_name, None, type(exc).__name__, time.monotonic() - start)
            conn.close()
            conn = None
        else:
            reused = True
            record(server_name, response.status, None, time.monotonic() - start, body)
            if response.will_close:
                conn.close()
                conn = None
        time.sleep(args.pause)
    if conn is not None:
        conn.close()


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--target", action="append", required=True, help="SERVER_NAME=PATH")
    parser.add_argument("--connections", type=int, default=8)
    parser.add_argument("--address", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=80)
    parser.add_argument("--https", action="store_true", help="HTTPS (give --port and --cafile)")
    parser.add_argument("--cafile", help="CA bundle the site's certificate is checked against")
    parser.add_argument("--pause", type=float, default=0.01)
    parser.add_argument("--timeout", type=float, default=30.0)
    parser.add_argument("--stop-file", required=True)
    parser.add_argument("--max-seconds", type=float, default=300.0)
    parser.add_argument("--tally", help="count the values of this key in 2xx JSON answers")
    parser.add_argument(
        "--retry-closed",
        action="store_true",
        help="send a GET again, once, when the server closed a reused connection before answering",
    )
    args = parser.parse_args()
    targets = [tuple(item.split("=", 1)) for item in args.target]

    lock = threading.Lock()
    statuses = {name: Counter() for name, _path in targets}
    errors = Counter()
    latencies = []
    tally = Counter()
    retried = Counter()

    def record(server_name, status, error, seconds, body=b""):
        with lock:
            latencies.append(seconds)
            if error:
                errors[error] += 1
                return
            statuses[server_name][str(status)] += 1
            if args.tally and 200 <= status < 300:
                try:
                    tally[str(json.loads(body)[args.tally])] += 1
                except (ValueError, KeyError, TypeError):
                    tally["(no " + args.tally + ")"] += 1

    def note_retry():
        with lock:
            retried["closed"] += 1

    record.retried = note_retry

    stop = threading.Event()
    started = time.monotonic()
    deadline = started + args.max_seconds
    threads = [
        threading.Thread(
            target=run_connection,
            args=(targets[i % len(targets)], args, deadline, stop, record),
            daemon=True,
        )
        for i in range(args.connections)
    ]
    for thread in threads:
        thread.start()
    while time.monotonic() < deadline and not os.path.exists(args.stop_file):
        time.sleep(0.1)
    stop.set()
    for thread in threads:
        thread.join(args.timeout + 5)

    latencies.sort()
    count = len(latencies)
    print(
        json.dumps(
            {
                "seconds": round(time.monotonic() - started, 1),
                "requests": count,
                "statuses": {name: dict(counter) for name, counter in statuses.items()},
                "non_2xx": sum(
                    n
                    for c in statuses.values()
                    for code, n in c.items()
                    if not code.startswith("2")
                ),
                "errors": dict(errors),
                "tally": dict(tally),
                # Requests sent again after the server closed their keep-alive connection.
                "retried_closed": retried["closed"],
                "p50_ms": round(latencies[count // 2] * 1000, 1) if count else None,
                "p99_ms": round(latencies[int(count * 0.99)] * 1000, 1) if count else None,
                "max_ms": round(latencies[-1] * 1000, 1) if count else None,
            }
        )
    )


if __name__ == "__main__":
    main()
