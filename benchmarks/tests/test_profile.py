"""benchmarks/container/profile.py: perf's samples counted by process and by code."""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "container"))

import profile as perf_profile  # benchmarks/container/profile.py, ahead of the standard library's

SCRIPT = """\
      uwsgi-core      7f29d9b66b39 (/usr/lib/x86_64-linux-gnu/libpython3.13.so.1.0)
      uwsgi-core  ffffffff8211b555 ([unknown])
      uwsgi-core  ffffffff8211b555 ([kernel.kallsyms])
      uwsgi-core      7f29d9a00010 (/usr/local/lib/uwsgi/plugins/python313_plugin.so)
      uwsgi-core      561be58f3b30 (/usr/bin/uwsgi-core)
      uwsgi-core      7f29d9000000 (/usr/lib/x86_64-linux-gnu/ld-linux-x86-64.so.2)
      uwsgi-core      7f29d9000100 (/usr/lib/x86_64-linux-gnu/libc.so.6)
      uwsgi-core      7f29d9000200 ([vdso])
           nginx      55d0d0000000 (/usr/sbin/nginx)
           nginx  ffffffff813aecd3 ([unknown])
         swapper  ffffffff8160b2e0 ([unknown])
     kworker/0:1  ffffffff8160b2e0 ([unknown])
      my program      55d0d0000000 (/usr/bin/my program)

not a sample line
"""


def test_samples_are_counted_by_process_group_and_code() -> None:
    counted = perf_profile.summarize(SCRIPT.splitlines())
    assert counted["groups"]["uwsgi"] == {
        "python": 1, "kernel": 2, "own": 2, "libc": 2, "other": 1,
    }  # fmt: skip
    assert counted["groups"]["nginx"] == {"own": 1, "kernel": 1}
    # Any other process is the rest, its name with a space included.
    assert counted["groups"]["other"] == {"kernel": 1, "own": 1}
    assert counted["idle"] == 1
    assert counted["total"] == 13
    assert counted["unparsed"] == 1


def test_a_plugin_is_uwsgis_own_code_only_in_uwsgi() -> None:
    assert perf_profile.code_of("uwsgi-core", 0x7F00, "/x/python313_plugin.so") == "own"
    assert perf_profile.code_of("nginx", 0x7F00, "/x/python313_plugin.so") == "other"
    assert perf_profile.code_of("nginx", 0xFFFF800000000000, "[unknown]") == "kernel"
    assert perf_profile.code_of("nginx", 0x7FFFFFFFFFFF, "[unknown]") == "other"
