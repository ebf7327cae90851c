"""How benchmarks/bench.py keeps its figures: written as each stage has them, kept on a failure.

No container: the measuring functions get stand-ins for wrk and `docker exec`.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import bench  # benchmarks/ is no package: found through sys.path


def read(path: Path) -> dict:
    return json.loads(path.read_text())


def test_each_update_is_on_disk_at_once_and_whole(tmp_path: Path) -> None:
    results = bench.Results(tmp_path / "results.json", tmp_path / "snapshots")
    results.update(settings={"runs": 1})
    assert read(tmp_path / "results.json")["settings"] == {"runs": 1}
    results.update(machine={"cpus": 2})
    on_disk = read(tmp_path / "results.json")
    assert on_disk["settings"] == {"runs": 1}
    assert on_disk["machine"] == {"cpus": 2}
    assert on_disk["complete"] is False
    assert "wall_seconds" in on_disk
    # Written through a temporary file that is renamed: none is left beside it.
    assert sorted(p.name for p in tmp_path.iterdir()) == ["results.json", "snapshots"]
    assert [p.name for p in sorted((tmp_path / "snapshots").iterdir())] == ["001.json", "002.json"]


def test_an_earlier_runs_file_is_kept_aside(tmp_path: Path) -> None:
    (tmp_path / "results.json").write_text('{"earlier": true}\n')
    bench.Results(tmp_path / "results.json").update(settings={})
    assert read(tmp_path / "results.previous.json") == {"earlier": True}
    assert "earlier" not in read(tmp_path / "results.json")


def test_stages_done_in_order_make_a_complete_run(tmp_path: Path) -> None:
    results = bench.Results(tmp_path / "results.json")
    for stage in bench.STAGES:
        with results.stage(stage):
            assert read(tmp_path / "results.json").get("running_stage") in {None, stage}
            results.update(**{f"figures_of_{stage}": 1})
    results.finish()
    on_disk = read(tmp_path / "results.json")
    assert on_disk["stages_done"] == list(bench.STAGES)
    assert on_disk["complete"] is True
    assert "running_stage" not in on_disk
    assert "error" not in on_disk


def test_a_failed_stage_keeps_what_came_before_and_names_itself(tmp_path: Path) -> None:
    results = bench.Results(tmp_path / "results.json")
    with results.stage("converge"):
        results.update(converge=[{"label": "first"}])
    with pytest.raises(TypeError), results.stage("stacks"):
        results.update(defaults={"workers": 2})
        raise TypeError("'int' object is not callable")
    # main() records failures outside any stage; one a stage recorded stays as it is.
    results.fail(RuntimeError("outside"), None)
    results.finish()
    on_disk = read(tmp_path / "results.json")
    assert on_disk["converge"] == [{"label": "first"}]
    assert on_disk["defaults"] == {"workers": 2}
    assert on_disk["stages_done"] == ["converge"]
    assert on_disk["failed_stage"] == "stacks"
    assert on_disk["error"] == "TypeError: 'int' object is not callable"
    assert on_disk["complete"] is False


def test_a_failure_before_any_stage_is_recorded(tmp_path: Path) -> None:
    results = bench.Results(tmp_path / "results.json")
    results.fail(KeyboardInterrupt(), None)
    on_disk = read(tmp_path / "results.json")
    assert on_disk["failed_stage"] is None
    assert on_disk["error"] == "KeyboardInterrupt"


def fake_wrk(rates: list[float], fail_at: int | None = None):
    """A stand-in for bench.wrk returning the given rates in turn; raises at call fail_at."""
    calls = iter(range(len(rates)))

    def wrk(target: bench.Target, seconds: int) -> dict:
        number = next(calls)
        if number == fail_at:
            raise RuntimeError("wrk broke")
        return {
            "rps": rates[number],
            "requests": 100,
            "p50_ms": 1.0,
            "p99_ms": 2.0,
            "non_2xx": 0,
            "socket_errors": 0,
            "cpu_us_per_request": {"nginx": 10.0},
        }

    return wrk


TARGETS = [
    bench.Target("ceiling", "ceiling", "ceiling", 8081, "-"),
    bench.Target("defaults", "defaults", "defaults", 80, "none"),
]


def test_the_closed_loop_hands_over_every_run_and_the_rounds_done(monkeypatch) -> None:
    monkeypatch.setattr(bench, "wrk", fake_wrk([10, 20, 11, 21]))
    seen = []
    closed = bench.measure_closed_loop(
        TARGETS,
        2,
        1,
        0,
        lambda runs, rounds: seen.append(({k: len(v) for k, v in runs.items()}, rounds)),
    )
    assert seen == [
        ({"ceiling": 1, "defaults": 0}, 0),
        ({"ceiling": 1, "defaults": 1}, 1),
        ({"ceiling": 2, "defaults": 1}, 1),
        ({"ceiling": 2, "defaults": 2}, 2),
    ]
    assert closed["ceiling"]["rps"] == {"median": 10.5, "min": 10, "max": 11}
    assert closed["defaults"]["rps"] == {"median": 20.5, "min": 20, "max": 21}


def test_a_closed_loop_that_fails_keeps_its_runs_and_rounds(monkeypatch, tmp_path: Path) -> None:
    """closed_loop_stage as bench() runs it, with wrk failing in the second round."""
    monkeypatch.setattr(bench, "wrk", fake_wrk([10, 20, 11, 21], fail_at=3))
    monkeypatch.setattr(bench, "worker_recycles", lambda target, since: None)
    results = bench.Results(tmp_path / "results.json")
    results.update(load={"start": {}})
    args = type("Args", (), {"runs": 2, "duration": 1, "warmup": 0})()
    with pytest.raises(RuntimeError, match="wrk broke"), results.stage("closed_loop"):
        bench.closed_loop_stage(args, results, TARGETS)
    on_disk = read(tmp_path / "results.json")
    assert on_disk["failed_stage"] == "closed_loop"
    assert on_disk["closed_loop_rounds"] == 1
    assert [t["key"] for t in on_disk["targets"]] == ["ceiling", "defaults"]
    assert [len(t["runs"]) for t in on_disk["targets"]] == [1, 1]
    # The second round's first run, though its round never ended.
    assert [r["rps"] for r in on_disk["closed_loop_runs"]["ceiling"]] == [10, 11]


def test_in_process_runs_are_handed_over_a_pair_at_a_time(monkeypatch) -> None:
    # python, embedded, python, ...; uWSGI's banner before the embedded run's figures
    rates = (100.0, 90.0, 300.0, 250.0, 200.0, 180.0)
    outputs = iter(
        ("*** Operational MODE: command ***\n" if i % 2 else "")
        + json.dumps({"calls_per_second": rate, "non_2xx": 0})
        + "\n"
        for i, rate in enumerate(rates)
    )
    commands = []

    def inside(*command, **options):
        commands.append(command)
        return next(outputs)

    monkeypatch.setattr(bench, "inside", inside)
    record = {
        "default_python": "3.13",
        "binary": "/usr/bin/uwsgi-core",
        "plugin_dir": "/usr/local/lib/uwsgi/plugins",
        "plugins": {"3.13": "python313"},
    }
    seen = []
    python, embedded = bench.measure_in_process(3, 0.1, record, lambda *pair: seen.append(pair))
    assert [(len(p["runs"]), len(e["runs"])) for p, e in seen] == [(1, 1), (2, 2), (3, 3)]
    assert seen[0][0]["calls_per_second"] == {"median": 100.0, "min": 100.0, "max": 100.0}
    assert python["calls_per_second"] == {"median": 200.0, "min": 100.0, "max": 300.0}
    assert embedded["calls_per_second"] == {"median": 180.0, "min": 90.0, "max": 250.0}
    # The same script and arguments, in the virtualenv's python and in uWSGI's plugin for it.
    assert (
        f"{bench.APP_VENV}/bin/python {bench.REMOTE}/container/inprocess.py --code"
        in (commands[0][-1])
    )
    embedded_line = commands[1][-1]
    assert "/usr/bin/uwsgi-core --plugins-dir /usr/local/lib/uwsgi/plugins" in embedded_line
    assert f"--plugin python313 --virtualenv {bench.APP_VENV} --pyrun" in embedded_line
    assert "--pyargv '--code " in embedded_line and embedded_line.endswith(" 2>&1")


def test_a_closed_loop_that_ends_leaves_the_table_of_all_rounds(
    monkeypatch, tmp_path: Path
) -> None:
    monkeypatch.setattr(bench, "wrk", fake_wrk([10, 20, 11, 21]))
    monkeypatch.setattr(bench, "worker_recycles", lambda target, since: 0)
    results = bench.Results(tmp_path / "results.json")
    results.update(load={"start": {}})
    args = type("Args", (), {"runs": 2, "duration": 1, "warmup": 0})()
    with results.stage("closed_loop"):
        closed = bench.closed_loop_stage(args, results, TARGETS)
    on_disk = read(tmp_path / "results.json")
    assert "closed_loop_runs" not in on_disk
    assert on_disk["closed_loop_rounds"] == 2
    assert [t["rps"] for t in on_disk["targets"]] == [
        closed["ceiling"]["rps"],
        closed["defaults"]["rps"],
    ]
    assert [t["worker_recycles"] for t in on_disk["targets"]] == [0, 0]


class Done:
    def __init__(self, returncode: int, stdout: str = "", stderr: str = "") -> None:
        self.returncode, self.stdout, self.stderr = returncode, stdout, stderr


WRK_OUTPUT = """Running 20s test @ http://127.0.0.1:80/
  10000 requests in 2.00s, 1.00MB read
Requests/sec:   5000.00
"""


def test_the_profile_turns_samples_into_microseconds_per_request(monkeypatch) -> None:
    recorded = []

    def run(command, **options):
        recorded.append(command)
        return Done(0, WRK_OUTPUT, "[ perf record: Captured and wrote 1 MB perf.data ]\n")

    samples = {"groups": {"uwsgi": {"python": 999, "kernel": 333}}, "idle": 10, "total": 1342}
    answers = iter([json.dumps(samples), "", "perf version 6.12\n"])
    monkeypatch.setattr(bench, "apt_install", lambda package: None)
    monkeypatch.setattr(bench.subprocess, "run", run)
    monkeypatch.setattr(bench, "parse_wrk", lambda output: {"requests": 10000, "rps": 5000.0})
    monkeypatch.setattr(bench, "inside", lambda *command, **options: next(answers))
    profile = bench.profile_defaults(TARGETS, 2)
    # 999 samples at 999 Hz are one CPU second: 100 µs for each of 10,000 requests.
    assert profile["us_per_request"] == {
        "uwsgi": {"python": 100.0, "kernel": pytest.approx(100 / 3)}
    }
    assert profile["target"] == "defaults" and profile["perf"] == "perf version 6.12"
    command = recorded[0]
    assert command[command.index("-F") + 1] == str(bench.PERF_HZ) and "-a" in command
    assert command[-1] == bench.wrk_command(TARGETS[1], 2)


def test_a_profile_perf_refuses_quotes_perfs_decisive_line(monkeypatch) -> None:
    stderr = (
        "Error:\nAccess to performance monitoring and observability operations is limited.\n"
        "perf_event_paranoid setting is 4:\n  -1: Allow use of (almost) all events\n"
    )
    monkeypatch.setattr(bench, "apt_install", lambda package: None)
    monkeypatch.setattr(bench.subprocess, "run", lambda command, **options: Done(255, "", stderr))
    expected = "Access to performance monitoring and observability operations is limited."
    assert bench.profile_defaults(TARGETS, 2) == {"error": expected}
    assert bench.perf_error("x\nperf_event_open(...) failed\ny\n") == "perf_event_open(...) failed"
    assert bench.perf_error("first\nlast\n") == "last"
    quiet = Done(1, "", "")
    monkeypatch.setattr(bench.subprocess, "run", lambda command, **options: quiet)
    assert bench.profile_defaults(TARGETS, 2) == {"error": "exit status 1"}
