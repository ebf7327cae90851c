"""Open-loop HTTP load at a fixed rate: the latency a stack gives below its maximum.

wrk keeps its connections busy (a closed loop): when the server slows down, wrk sends less, and the
requests it did not send never show up as slow. Here requests fall due at fixed times (RATE per
second for SECONDS) whatever the server does, and each latency runs from the moment its request was
due, so a request that waits for a free connection counts that wait too (no coordinated omission).
Debian has wrk but not wrk2, which does the same; this stands in for it.

Bounded: RATE x SECONDS requests at most, and it stops SECONDS + 10 s after its start whatever
happens. SIGTERM ends it early: no request falls due after it, and those due are still awaited (how
the bench holds a load for as long as a redeploy takes). Runs in the bench container with the
system python3 (stdlib only) and prints one JSON object.
"""

from __future__ import annotations

import argparse
import json
import resource
import selectors
import signal
import socket
import time
from collections import deque

GRACE_SECONDS = 10


class Connection:
    """One keep-alive connection carrying at most one request at a time."""

    def __init__(self, address: tuple[str, int], selector: selectors.BaseSelector) -> None:
        self.address = address
        self.selector = selector
        self.due: float | None = None  # when the request in flight fell due; None: idle
        self.buffer = b""
        self.sock = self._connect()

    def _connect(self) -> socket.socket:
        sock = socket.create_connection(self.address)
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        sock.setblocking(False)
        self.selector.register(sock, selectors.EVENT_READ, self)
        return sock

    def reconnect(self) -> None:
        self.selector.unregister(self.sock)
        self.sock.close()
        self.buffer = b""
        self.due = None
        self.sock = self._connect()

    def take_response(self) -> tuple[int, bool] | None:
        """(status, keep-alive) of the response completed in the buffer, or None until it is."""
        head_end = self.buffer.find(b"\r\n\r\n")
        if head_end < 0:
            return None
        status_line, *header_lines = self.buffer[:head_end].decode("latin-1").split("\r\n")
        headers = {}
        for line in header_lines:
            name, _colon, value = line.partition(":")
            headers[name.strip().lower()] = value.strip().lower()
        if "content-length" not in headers:
            raise RuntimeError(f"response without Content-Length: {status_line}")
        body_end = head_end + 4 + int(headers["content-length"])
        if len(self.buffer) < body_end:
            return None
        self.buffer = self.buffer[body_end:]
        return int(status_line.split(" ", 2)[1]), headers.get("connection") != "close"


def cpu_ticks() -> tuple[int, int]:
    """(busy, total) jiffies of the machine's CPUs so far, from /proc/stat."""
    with open("/proc/stat", encoding="ascii") as stat:
        fields = [int(value) for value in stat.readline().split()[1:]]
    idle = fields[3] + fields[4]  # idle and iowait
    return sum(fields) - idle, sum(fields)


def own_cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def percentile(ordered: list[float], fraction: float) -> float:
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))]


class OpenLoop:
    """RATE requests per second for SECONDS over a fixed set of connections."""

    def __init__(self, address: tuple[str, int], host: str, path: str, connections: int) -> None:
        self.request = f"GET {path} HTTP/1.1\r\nHost: {host}\r\n\r\n".encode()
        self.selector = selectors.DefaultSelector()
        self.idle = deque(Connection(address, self.selector) for slot in range(connections))
        self.due_times: deque[float] = deque()  # requests due that no connection has taken yet
        self.latencies: list[float] = []
        self.due_of: list[float] = []  # when each answered request fell due, as latencies
        self.start = 0.0
        self.lateness: list[float] = []  # how long after its due time the loop saw each request
        self.errors = 0
        self.non_2xx = 0
        self.scheduled = 0
        self.stopping = False  # SIGTERM: no request falls due after it

    def send_due(self) -> None:
        while self.due_times and self.idle:
            connection = self.idle.popleft()
            connection.due = self.due_times.popleft()
            try:
                connection.sock.send(self.request)
            except OSError:
                self.errors += 1
                connection.reconnect()
                self.idle.append(connection)

    def receive(self, connection: Connection) -> None:
        try:
            data = connection.sock.recv(65536)
        except OSError:
            data = b""
        if not data:  # closed by the server
            if connection.due is not None:
                self.errors += 1
                self.idle.append(connection)
            connection.reconnect()
            return
        connection.buffer += data
        response = connection.take_response()
        if response is None:
            return
        status, keep_alive = response
        self.latencies.append(time.perf_counter() - connection.due)
        self.due_of.append(connection.due)
        self.non_2xx += not 200 <= status < 300
        if keep_alive:
            connection.due = None
        else:
            connection.reconnect()
        self.idle.append(connection)

    def run(self, rate: float, seconds: float) -> float:
        """Send and receive until every request is answered or failed; the seconds it took."""
        total = round(rate * seconds)
        start = self.start = time.perf_counter() + 0.1
        deadline = start + seconds + GRACE_SECONDS
        while len(self.latencies) + self.errors < total and time.perf_counter() < deadline:
            now = time.perf_counter()
            if self.stopping and total > self.scheduled:
                total = self.scheduled
                deadline = min(deadline, now + GRACE_SECONDS)
                continue  # everything due may be answered already: no wait for more
            while self.scheduled < total and start + self.scheduled / rate <= now:
                self.due_times.append(start + self.scheduled / rate)
                self.lateness.append(now - self.due_times[-1])
                self.scheduled += 1
            self.send_due()
            next_due = start + self.scheduled / rate if self.scheduled < total else deadline
            for key, _events in self.selector.select(max(0.0, next_due - time.perf_counter())):
                self.receive(key.data)
        return time.perf_counter() - start

    def stop(self, _signum: int, _frame: object) -> None:
        self.stopping = True

    def summary(self, rate: float, elapsed: float, cpu: dict | None = None) -> dict:
        """The figures of the run; CPU: the generator's own CPU seconds and the machine's busy
        share over the run (what the rate cost next to the stack it loaded)."""
        if not self.latencies:
            raise RuntimeError("no response at all")
        latencies = sorted(self.latencies)
        total = self.scheduled
        milliseconds = {
            f"p{label}_ms": percentile(latencies, fraction) * 1000
            for label, fraction in (("50", 0.50), ("90", 0.90), ("99", 0.99), ("99.9", 0.999))
        }
        return {
            "target_rate": rate,
            "seconds": total / rate,
            "requests_due": total,
            "completed": len(latencies),
            "achieved_rate": len(latencies) / elapsed,
            "errors": self.errors,
            "unanswered": total - len(latencies) - self.errors,
            "non_2xx": self.non_2xx,
            **milliseconds,
            "max_ms": latencies[-1] * 1000,
            # The generator's own lateness, waiting for a free connection not included: large
            # values mean it could not keep the rate itself.
            "lateness_p99_ms": percentile(sorted(self.lateness), 0.99) * 1000,
            "by_second": self.by_second(),
            **(cpu or {}),
        }

    def by_second(self) -> list[list[float]]:
        """[second, requests answered, p99 ms, max ms] for each second requests fell due in: when
        during a run its slow requests fell due."""
        seconds: dict[int, list[float]] = {}
        for due, latency in zip(self.due_of, self.latencies):
            seconds.setdefault(int(due - self.start), []).append(latency)
        return [
            [second, len(found), round(percentile(sorted(found), 0.99) * 1000, 2),
             round(max(found) * 1000, 2)]
            for second, found in sorted(seconds.items())
        ]  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--address", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=80)
    parser.add_argument("--host-header", default="localhost")
    parser.add_argument("--path", default="/")
    parser.add_argument("--rate", type=float, required=True, help="requests per second")
    parser.add_argument("--seconds", type=float, default=30)
    parser.add_argument("--connections", type=int, default=32)
    args = parser.parse_args()
    load = OpenLoop((args.address, args.port), args.host_header, args.path, args.connections)
    signal.signal(signal.SIGTERM, load.stop)
    busy_before, total_before = cpu_ticks()
    own_before = own_cpu_seconds()
    elapsed = load.run(args.rate, args.seconds)
    busy, total = cpu_ticks()
    cpu = {
        "generator_cpu_us_per_request": (own_cpu_seconds() - own_before)
        * 1e6
        / max(1, len(load.latencies)),
        "cpus_busy": (busy - busy_before) / max(1, total - total_before),
    }
    summary = load.summary(args.rate, elapsed, cpu)
    print(json.dumps({**summary, "connections": args.connections}))


if __name__ == "__main__":
    main()
