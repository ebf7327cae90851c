"""CPU time so far of every process in the container, in microseconds by process name (JSON).

The bench takes it before and after a run and divides the difference by the requests served.
"""

from __future__ import annotations

import json
import os
from pathlib import Path


def main() -> None:
    tick_us = 1_000_000 // os.sysconf("SC_CLK_TCK")
    spent: dict[str, int] = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        if stat.parent.name == str(os.getpid()):
            continue
        try:
            text = stat.read_text()
        except OSError:  # the process ended meanwhile
            continue
        name = text[text.index("(") + 1 : text.rindex(")")]
        fields = text[text.rindex(")") + 2 :].split()
        # utime, stime, cutime and cstime (fields 14-17 of proc(5), counted from the state, field
        # 3): a worker that ended (recycled) is in its master's cutime once the master reaped it.
        spent[name] = spent.get(name, 0) + tick_us * sum(int(field) for field in fields[11:15])
    print(json.dumps(spent))


if __name__ == "__main__":
    main()
