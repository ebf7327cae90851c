"""benchmarks/container/inprocess.py against the sample app, for a fraction of a second.

`make bench` runs it in the bench container only after about 20 minutes of converging and wrk; here
it runs on this machine in a virtualenv with the app's requirements (`make bench-smoke` makes it,
build/bench-app-venv; PYOPS_BENCH_APP_PYTHON names another interpreter).
"""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import pytest

TOP = Path(__file__).resolve().parents[2]
INPROCESS = TOP / "benchmarks" / "container" / "inprocess.py"
HELLO = TOP / "examples" / "apps" / "hello"
APP_PYTHON = Path(
    os.environ.get("PYOPS_BENCH_APP_PYTHON", TOP / "build" / "bench-app-venv" / "bin" / "python")
)
BATCH = 200  # inprocess.py's calls between two looks at the clock


def run_inprocess(*arguments: str) -> subprocess.CompletedProcess:
    if not APP_PYTHON.exists():
        pytest.fail(f"{APP_PYTHON} is missing: `make bench-smoke` makes it (flask for the app)")
    return subprocess.run(
        [str(APP_PYTHON), str(INPROCESS), "--code", str(HELLO), *arguments],
        capture_output=True,
        text=True,
        check=False,
        timeout=60,
        env={**os.environ, "PYTHONDONTWRITEBYTECODE": "1"},
    )


def test_calls_the_app_in_a_loop_and_prints_its_rate() -> None:
    done = run_inprocess("--host-header", "hello.example.org", "--seconds", "0.05")
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout)
    assert result["status"] == "200 OK"
    assert result["non_2xx"] == 0
    assert result["body_bytes"] == len("<h1>Hello from pyops.uwsgi</h1>\n")
    # At least one batch, and the rate is the calls over the time they took.
    assert result["calls"] >= BATCH
    assert result["calls"] % BATCH == 0
    assert result["calls_per_second"] == pytest.approx(result["calls"] / result["seconds"])


def test_counts_responses_outside_2xx() -> None:
    done = run_inprocess("--path", "/no-such-page", "--seconds", "0.01")
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout)
    assert result["status"].startswith("404")
    # Every call of the loop, and the first one that measured the body.
    assert result["non_2xx"] == result["calls"] + 1
