"""A bounded HTTP load generator the verifiers run inside an instance (standard library only).

    python3 loadgen.py --target hello.test=/ --target second.test=/ --connections 8 \
        --stop-file /tmp/load.stop --max-seconds 300 > /tmp/load.json

Each connection keeps one HTTP/1.1 keep-alive connection to nginx on 127.0.0.1:80 and sends GET
requests to its target (targets are dealt out to connections in turn), pausing --pause seconds
between requests so the load stays bounded. It stops when the stop file appears or after
--max-seconds, then prints one JSON document: requests, statuses per target, errors per kind
and latency figures. With --tally KEY, it also counts the values of KEY in 2xx JSON answers (which
host answered, say).
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import threading
import time
from collections import Counter


def run_connection(target, args, deadline, stop, record):
    server_name, path = target
    conn = None
    while not stop.is_set() and time.monotonic() < deadline:
        if conn is None:
            conn = http.client.HTTPConnection(args.address, args.port, timeout=args.timeout)
        start = time.monotonic()
        try:
            conn.request("GET", path, headers={"Host": server_name})
            response = conn.getresponse()
            body = response.read()
        except (OSError, http.client.HTTPException) as exc:
            record(server_name, None, type(exc).__name__, time.monotonic() - start)
            conn.close()
            conn = None
        else:
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
    parser.add_argument("--pause", type=float, default=0.01)
    parser.add_argument("--timeout", type=float, default=30.0)
    parser.add_argument("--stop-file", required=True)
    parser.add_argument("--max-seconds", type=float, default=300.0)
    parser.add_argument("--tally", help="count the values of this key in 2xx JSON answers")
    args = parser.parse_args()
    targets = [tuple(item.split("=", 1)) for item in args.target]

    lock = threading.Lock()
    statuses = {name: Counter() for name, _path in targets}
    errors = Counter()
    latencies = []
    tally = Counter()

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
                "p50_ms": round(latencies[count // 2] * 1000, 1) if count else None,
                "p99_ms": round(latencies[int(count * 0.99)] * 1000, 1) if count else None,
                "max_ms": round(latencies[-1] * 1000, 1) if count else None,
            }
        )
    )


if __name__ == "__main__":
    main()
