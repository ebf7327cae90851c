"""Calls per second of a WSGI callable called directly, without any server: the app's own cost.

Builds the smallest environ PEP 3333 allows for one GET, calls the app in a loop for SECONDS and
reads each response completely, as a server would. Run it with the app's own Python (its
virtualenv) pinned to one CPU; it prints one JSON object.
"""

from __future__ import annotations

import argparse
import importlib
import io
import json
import sys
import time

BATCH = 200


def environ(path: str, host: str) -> dict:
    return {
        "REQUEST_METHOD": "GET",
        "SCRIPT_NAME": "",
        "PATH_INFO": path,
        "QUERY_STRING": "",
        "SERVER_NAME": host,
        "SERVER_PORT": "80",
        "SERVER_PROTOCOL": "HTTP/1.1",
        "HTTP_HOST": host,
        "wsgi.version": (1, 0),
        "wsgi.url_scheme": "http",
        "wsgi.input": io.BytesIO(b""),
        "wsgi.errors": sys.stderr,
        "wsgi.multithread": False,
        "wsgi.multiprocess": True,
        "wsgi.run_once": False,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--code", required=True, help="directory of the app's code")
    parser.add_argument("--module", default="wsgi")
    parser.add_argument("--callable", default="application")
    parser.add_argument("--path", default="/")
    parser.add_argument("--host-header", default="localhost")
    parser.add_argument("--seconds", type=float, default=5)
    args = parser.parse_args()

    sys.path.insert(0, args.code)
    app = getattr(importlib.import_module(args.module), args.callable)
    statuses: list[str] = []

    def start_response(status, headers, exc_info=None):
        statuses.append(status)

    def call() -> int:
        response = app(environ(args.path, args.host_header), start_response)
        try:
            return sum(len(chunk) for chunk in response)
        finally:
            if hasattr(response, "close"):
                response.close()

    body_bytes = call()
    calls = 0
    start = time.perf_counter()
    end = start + args.seconds
    while time.perf_counter() < end:
        for _repeat in range(BATCH):
            call()
        calls += BATCH
    elapsed = time.perf_counter() - start
    not_ok = sum(not status.startswith("2") for status in statuses)
    print(
        json.dumps(
            {
                "calls_per_second": calls / elapsed,
                "calls": calls,
                "seconds": elapsed,
                "status": statuses[0],
                "non_2xx": not_ok,
                "body_bytes": body_bytes,
            }
        )
    )


if __name__ == "__main__":
    main()
