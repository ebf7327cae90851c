"""RSS and PSS of each stack's processes, and the container's own memory (JSON).

With --reset-peak, it starts the container's peak memory anew instead. Otherwise each argument is
KEY=UNIT:USER: the processes of systemd unit UNIT that run as USER (a uWSGI under
the Emperor shares its unit with the Emperor, which runs as root and is left out). A process's role
is master when its parent is not one of them, worker otherwise. Figures come from
/proc/PID/smaps_rollup (kernel 4.14 and later): RSS counts every page a process maps, PSS divides
each shared page among the processes that share it, so the PSS of a stack's processes adds up to
what the stack costs. Runs in the bench container as root with the system python3 (stdlib only).
"""

from __future__ import annotations

import json
import pwd
import subprocess
import sys
from pathlib import Path

CGROUP = Path("/sys/fs/cgroup")


def unit_pids(unit: str) -> list[int]:
    group = subprocess.run(
        ["systemctl", "show", "--property=ControlGroup", "--value", unit],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    if not group:
        return []
    pids = []
    # cgroup v2 at /sys/fs/cgroup; on a v1 host, systemd's own hierarchy (or the hybrid unified).
    for top in (CGROUP, CGROUP / "systemd", CGROUP / "unified"):
        for procs in (top / group.lstrip("/")).rglob("cgroup.procs"):
            pids += [int(line) for line in procs.read_text().split()]
    return sorted(set(pids))


def rollup(pid: int) -> dict[str, int]:
    """The kB fields of smaps_rollup (RSS, PSS, ...)."""
    fields = {}
    for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines()[1:]:
        name, _colon, value = line.partition(":")
        parts = value.split()
        if len(parts) == 2 and parts[1] == "kB":
            fields[name] = int(parts[0])
    return fields


def status(pid: int) -> dict[str, str]:
    lines = Path(f"/proc/{pid}/status").read_text().splitlines()
    return {name: value.strip() for name, _colon, value in (line.partition(":") for line in lines)}


def stack(unit: str, user: str) -> dict:
    uid = pwd.getpwnam(user).pw_uid
    found = []
    for pid in unit_pids(unit):
        try:
            st = status(pid)
            if int(st["Uid"].split()[0]) != uid:
                continue
            memory = rollup(pid)
        except (OSError, KeyError):  # ended meanwhile
            continue
        found.append(
            {
                "pid": pid,
                "ppid": int(st["PPid"]),
                "comm": st["Name"],
                "rss_kib": memory["Rss"],
                "pss_kib": memory["Pss"],
            }
        )
    pids = {p["pid"] for p in found}
    for process in found:
        process["role"] = "worker" if process["ppid"] in pids else "master"
    return {"unit": unit, "user": user, "processes": found}


def container() -> dict:
    """The container's memory cgroup (the one its init is in): limit, current use and peak, in
    bytes (None where the kernel does not say, or for no limit)."""
    lines = Path("/proc/1/cgroup").read_text().splitlines()
    # cgroup v1: the memory controller's line ("4:memory:/docker/ID/init.scope"); v2: "0::/...".
    v1 = [line.split(":", 2)[2] for line in lines if line.split(":", 2)[1] == "memory"]
    group = v1[0] if v1 else lines[0].split(":", 2)[2]
    base = CGROUP / "memory" if v1 else CGROUP
    path = base / group.lstrip("/")
    if path.name == "init.scope":  # systemd moves itself below the container's own group
        path = path.parent
    files = (
        ("memory.limit_in_bytes", "memory.usage_in_bytes", "memory.max_usage_in_bytes")
        if v1
        else ("memory.max", "memory.current", "memory.peak")
    )

    def read(name: str) -> int | None:
        try:
            text = (path / name).read_text().strip()
        except OSError:
            return None
        # v1 says "no limit" with a huge number (a page-aligned LONG_MAX), v2 with "max".
        return None if text == "max" or int(text) >= 2**62 else int(text)

    limit, current, peak = (read(name) for name in files)
    try:
        stat = dict(line.split() for line in (path / "memory.stat").read_text().splitlines())
    except OSError:
        stat = {}
    # Current use counts the page cache (files read, reclaimed under pressure); anonymous memory
    # is what the processes themselves hold, and what would have to go to swap.
    anon = stat.get("total_rss" if v1 else "anon")
    return {
        "cgroup": str(path),
        "limit_bytes": limit,
        "current_bytes": current,
        "peak_bytes": peak,
        "anon_bytes": None if anon is None else int(anon),
    }


def reset_peak() -> None:
    """Start the container's peak anew (v1: max_usage_in_bytes; v2: memory.peak, kernel 6.12+)."""
    path = Path(container()["cgroup"])
    for name in ("memory.max_usage_in_bytes", "memory.peak"):
        if (path / name).exists():
            (path / name).write_text("0\n")
            return


def main(arguments: list[str]) -> None:
    if arguments == ["--reset-peak"]:
        reset_peak()
        return
    stacks = {}
    for argument in arguments:
        key, _equals, where = argument.partition("=")
        unit, _colon, user = where.partition(":")
        stacks[key] = stack(unit, user)
    print(json.dumps({"stacks": stacks, "container": container()}))


if __name__ == "__main__":
    main(sys.argv[1:])
