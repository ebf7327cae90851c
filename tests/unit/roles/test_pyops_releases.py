"""Tests for pyops-releases (roles/app/files/usr/local/bin), run as on a host, on real files."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

SCRIPT = (
    Path(__file__).resolve().parents[3] / "roles" / "app" / "files" / "usr" / "local" / "bin"
) / "pyops-releases.py"


def release(root, name, built, python="3.13"):
    directory = root / "releases" / name
    directory.mkdir(parents=True)
    marker = directory / ".pyops-release.json"
    marker.write_text(json.dumps({"release": name, "python": python, "uwsgi_method": "plugin"}))
    os.utime(marker, (built, built))


@pytest.fixture
def host(tmp_path):
    """App shop with releases aaa, bbb (serving, rolled back to from ccc) and ccc, and a build
    cut short (no marker)."""
    registry, root = tmp_path / "registry", tmp_path / "srv" / "shop"
    registry.mkdir()
    (registry / "shop.json").write_text(json.dumps({"app": "shop", "root": str(root)}))
    for name, built in (("aaa", 100), ("bbb", 200), ("ccc", 300)):
        release(root, name, built)
    (root / "releases" / "half").mkdir()
    (root / "current").symlink_to(root / "releases" / "bbb")
    (root / "rolled-back.json").write_text(
        json.dumps({"release": "bbb", "replaced": ["ccc"], "at": "2025-01-02 03:04:05 UTC"})
    )
    return registry


def run(registry, *args):
    return subprocess.run(
        [sys.executable, str(SCRIPT), *args],
        env={**os.environ, "PYOPS_RELEASES_REGISTRY": str(registry)},
        capture_output=True,
        text=True,
        check=False,
    )


def test_the_json_lists_the_complete_releases_newest_first_and_the_one_serving(host):
    found = json.loads(run(host, "--json").stdout)["shop"]
    assert found["serving"] == "bbb"
    assert [item["id"] for item in found["releases"]] == ["ccc", "bbb", "aaa"]
    assert [item["serving"] for item in found["releases"]] == [False, True, False]
    assert found["releases"][0]["built"] == "1970-01-01 00:05:00 UTC"
    assert found["rolled_back"]["replaced"] == ["ccc"]


def test_the_text_marks_the_release_serving_and_the_rollback(host):
    lines = run(host, "shop").stdout.splitlines()
    assert lines[0].endswith(": serving bbb")
    assert lines[1] == "  rolled back on 2025-01-02 03:04:05 UTC, replacing ccc"
    assert [line.split()[0] for line in lines[2:]] == ["ccc", "*", "aaa"]
    assert lines[3].startswith("  * bbb  built 1970-01-01 00:03:20 UTC  Python 3.13 (plugin)")


def test_an_app_not_registered_is_named_with_those_that_are(host):
    answer = run(host, "nosuch")
    assert answer.returncode == 2
    assert answer.stderr == "pyops-releases: no app nosuch on this host; apps: shop\n"


def test_a_host_without_apps_lists_none(tmp_path):
    answer = run(tmp_path / "none", "--json")
    assert (answer.returncode, json.loads(answer.stdout)) == (0, {})
