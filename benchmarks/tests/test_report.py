"""benchmarks/report.py on every state the results file of a bench run went through.

`make bench-smoke` runs the bench with --snapshots (a copy of the results file at each write) and
then this with PYOPS_BENCH_SNAPSHOTS naming that directory: each partial file must render, say
which stages are missing and exit 1; the complete one must render without saying so. report.py
runs in the bench's own venv (matplotlib), PYOPS_BENCH_REPORT_PYTHON or build/bench-venv.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench import STAGES  # benchmarks/ is no package: found through sys.path

TOP = Path(__file__).resolve().parents[2]
REPORT = TOP / "benchmarks" / "report.py"
REPORT_PYTHON = Path(
    os.environ.get("PYOPS_BENCH_REPORT_PYTHON", TOP / "build" / "bench-venv" / "bin" / "python")
)
SNAPSHOTS = os.environ.get("PYOPS_BENCH_SNAPSHOTS")
if not SNAPSHOTS:
    pytest.skip(
        "PYOPS_BENCH_SNAPSHOTS is not set (make bench-smoke sets it)", allow_module_level=True
    )

# Renders each results file given in one process (matplotlib loads once); what each page says.
DRIVER = """
import json, sys
from pathlib import Path
sys.path.insert(0, sys.argv[1])
import report
out = Path(sys.argv[2])
rendered = {}
for number, name in enumerate(sys.argv[3:]):
    page, chart = out / f"{number}.md", out / f"{number}.png"
    done = report.render(json.loads(Path(name).read_text()), page, chart)
    rendered[name] = {
        "missing": done.missing,
        "problems": done.problems,
        "markdown": page.read_text(),
        "chart_bytes": chart.stat().st_size,
    }
print(json.dumps(rendered))
"""


def render(paths: list[Path], out: Path) -> dict[str, dict]:
    if not REPORT_PYTHON.exists():
        pytest.fail(f"{REPORT_PYTHON} is missing: `make bench-smoke` makes it")
    done = subprocess.run(
        [str(REPORT_PYTHON), "-c", DRIVER, str(REPORT.parent), str(out), *map(str, paths)],
        capture_output=True,
        text=True,
        check=False,
        timeout=600,
    )
    assert done.returncode == 0, done.stderr
    return {Path(name).name: page for name, page in json.loads(done.stdout).items()}


@pytest.fixture(scope="module")
def snapshots() -> list[Path]:
    found = sorted(Path(SNAPSHOTS).glob("*.json"))
    assert found, f"no results files in {SNAPSHOTS}: did the bench run with --snapshots?"
    return found


@pytest.fixture(scope="module")
def pages(snapshots: list[Path], tmp_path_factory: pytest.TempPathFactory) -> dict[str, dict]:
    return render(snapshots, tmp_path_factory.mktemp("pages"))


def test_every_state_of_the_results_renders_and_names_what_is_missing(
    snapshots: list[Path], pages: dict[str, dict]
) -> None:
    for path in snapshots:
        results = json.loads(path.read_text())
        page = pages[path.name]
        missing = [stage for stage in STAGES if stage not in results["stages_done"]]
        assert page["missing"] == missing, path.name
        assert page["chart_bytes"] > 0
        if missing:
            assert "**This run is incomplete.**" in page["markdown"], path.name
            for stage in missing:
                assert STAGES[stage] in page["markdown"], (path.name, stage)
        else:
            assert "incomplete" not in page["markdown"], path.name


def test_the_run_ended_complete(snapshots: list[Path], pages: dict[str, dict]) -> None:
    last = json.loads(snapshots[-1].read_text())
    assert last["complete"] is True
    assert last["stages_done"] == list(STAGES)
    assert pages[snapshots[-1].name]["problems"] == []


def test_a_failure_shows_its_error_and_what_was_half_done(
    snapshots: list[Path], tmp_path: Path
) -> None:
    """A snapshot taken during the closed loop, as bench.py leaves it when wrk fails there."""
    during = next(
        p for p in snapshots if "closed_loop_runs" in json.loads(p.read_text())
    )  # a wrk run in, the round not over
    results = json.loads(during.read_text())
    results.pop("running_stage", None)
    results.update(failed_stage="closed_loop", error="RuntimeError: wrk broke\nwith `details`")
    failed = tmp_path / "failed.json"
    failed.write_text(json.dumps(results))
    nothing = tmp_path / "nothing.json"
    nothing.write_text(
        json.dumps(
            {"complete": False, "stages_done": [], "wall_seconds": 1, "error": "KeyboardInterrupt"}
        )
    )
    pages = render([failed, nothing], tmp_path)
    markdown = pages["failed.json"]["markdown"]
    assert f"It failed in {STAGES['closed_loop']}: `RuntimeError: wrk broke with 'details'`" in (
        markdown
    )
    assert "closed loop: " in markdown
    assert "wrk runs in all in the results file" in markdown
    assert pages["failed.json"]["missing"] == [*STAGES][[*STAGES].index("closed_loop") :]
    assert "# Benchmark: nothing measured" in pages["nothing.json"]["markdown"]
    assert "`KeyboardInterrupt`" in pages["nothing.json"]["markdown"]


def test_a_results_file_from_before_stages_were_kept_is_complete(
    snapshots: list[Path], tmp_path: Path, pages: dict[str, dict]
) -> None:
    results = json.loads(snapshots[-1].read_text())
    for key in ("complete", "stages_done"):
        results.pop(key)
    old = tmp_path / "old.json"
    old.write_text(json.dumps(results))
    page = render([old], tmp_path)["old.json"]
    assert page["missing"] == []
    assert page["markdown"] == pages[snapshots[-1].name]["markdown"]


def test_the_command_fails_on_an_incomplete_run(snapshots: list[Path], tmp_path: Path) -> None:
    partial = next(p for p in snapshots if not json.loads(p.read_text())["complete"])
    done = subprocess.run(
        [
            str(REPORT_PYTHON),
            str(REPORT),
            str(partial),
            "--markdown",
            str(tmp_path / "benchmark.md"),
            "--chart",
            str(tmp_path / "benchmark.png"),
        ],
        capture_output=True,
        text=True,
        check=False,
        timeout=300,
    )
    assert done.returncode == 1
    assert "incomplete run, not measured: " in done.stderr
    assert (tmp_path / "benchmark.md").exists()


def test_a_bench_that_fails_exits_non_zero_and_leaves_a_file_that_renders(tmp_path: Path) -> None:
    """bench.py for real, told to reuse a container that does not exist: it fails in its second
    stage, after the first (nothing to converge with --reuse) is done."""
    absent = f"pyops-uwsgi-bench-absent-{os.getpid()}"
    output = tmp_path / "results.json"
    bench = [sys.executable, str(TOP / "benchmarks" / "bench.py"), "--reuse", "--max-wait", "0"]
    done = subprocess.run(
        [*bench, "--output", str(output)],
        capture_output=True,
        text=True,
        check=False,
        timeout=300,
        env={
            **os.environ,
            "PYOPS_BENCH_NAME": absent,
            # ansible-playbook, which it asks for its version, beside this Python
            "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}",
        },
    )
    assert done.returncode != 0
    results = json.loads(output.read_text())
    assert results["complete"] is False
    assert results["stages_done"] == ["converge"]
    assert results["failed_stage"] == "stacks"
    assert absent in results["error"]
    page = render([output], tmp_path)["results.json"]
    assert page["missing"] == [stage for stage in STAGES if stage != "converge"]
    assert f"It failed in {STAGES['stacks']}: `RuntimeError: docker exec" in page["markdown"]
