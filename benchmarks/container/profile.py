"""Where the CPU went while perf recorded: samples by process and by what they were running (JSON).

Usage: profile.py PERF_DATA. Reads `perf script` of a system-wide recording (perf record -a -F HZ)
and counts its samples by process group (uWSGI, nginx, wrk, idle, other) and, within each, by
code: the kernel (any address in the kernel's half of the address space, resolved or not), the
Python interpreter (libpython), the process's own code (its binary; uWSGI's plugins too), the C
library and the dynamic loader (libc, ld-linux: thread-local lookups of a shared libpython land
there) and the rest. The bench turns counts into microseconds per request: each sample stands
for 1/HZ of one CPU's time.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
from collections import Counter
from pathlib import PurePosixPath

LINE = re.compile(r"^\s*(?P<comm>.+?)\s+(?P<ip>[0-9a-f]+)\s+\((?P<dso>.*)\)\s*$")
KERNEL_START = 0xFFFF800000000000  # x86-64: the kernel's half of the address space
GROUPS = {"uwsgi-core": "uwsgi", "uwsgi": "uwsgi", "nginx": "nginx", "wrk": "wrk"}
IDLE = "swapper"  # what a CPU runs when it has nothing else


def code_of(comm: str, ip: int, dso: str) -> str:
    if ip >= KERNEL_START:
        return "kernel"
    name = PurePosixPath(dso).name
    if name.startswith("libpython"):
        return "python"
    if name == comm or (GROUPS.get(comm) == "uwsgi" and name.endswith("_plugin.so")):
        return "own"
    if name.startswith(("libc.so", "ld-linux")):
        return "libc"
    return "other"


def summarize(lines) -> dict:
    """Sample counts: {"groups": {group: {code: n}}, "idle": n, "total": n, "unparsed": n}."""
    groups: dict[str, Counter] = {}
    idle = total = unparsed = 0
    for line in lines:
        if not line.strip():
            continue
        found = LINE.match(line)
        if not found:
            unparsed += 1
            continue
        total += 1
        comm = found["comm"]
        if comm == IDLE:
            idle += 1
            continue
        group = GROUPS.get(comm, "other")
        groups.setdefault(group, Counter())[code_of(comm, int(found["ip"], 16), found["dso"])] += 1
    return {
        "groups": {group: dict(codes) for group, codes in groups.items()},
        "idle": idle,
        "total": total,
        "unparsed": unparsed,
    }


def main() -> None:
    script = subprocess.run(
        ["perf", "script", "-i", sys.argv[1], "-G", "-F", "comm,ip,dso"],
        capture_output=True,
        text=True,
        check=True,
    )
    lines = script.stdout.splitlines()
    counted = summarize(lines)
    if not counted["total"]:
        sys.exit(f"no sample in perf script's output could be read; it begins: {lines[:3]}")
    print(json.dumps(counted))


if __name__ == "__main__":
    main()
