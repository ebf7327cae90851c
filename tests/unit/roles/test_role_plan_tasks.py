"""The uwsgi and nginx roles read their plan (pyops.uwsgi.role_plan) where it has been made: the
plan from the settings carries `always`, so the checks of --tags validate and every other tag find
it; the plan with the host's answer runs under the same tags as the read it takes that answer from;
and vars/ holds data only."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[3]


def _tasks(role):
    """Every task of ROLE's task files, in the order main.yml imports validate.yml (uwsgi)."""
    tasks = []
    for name in ("main.yml", "validate.yml"):
        path = ROOT / "roles" / role / "tasks" / name
        if path.exists():
            tasks += yaml.safe_load(path.read_text())
    return tasks


@pytest.mark.parametrize("role", ["uwsgi", "nginx"])
def test_the_plan_from_the_settings_runs_under_every_tag(role):
    plans = [task for task in _tasks(role) if "pyops.uwsgi.role_plan" in task]
    first = next(task for task in plans if "host" not in task["pyops.uwsgi.role_plan"])
    assert first["pyops.uwsgi.role_plan"] == {"role": role}
    assert first["register"] == f"__{role}_plan"
    assert first["tags"] == ["always"]
    assert "when" not in first


@pytest.mark.parametrize("role", ["uwsgi", "nginx"])
def test_the_plan_with_the_host_runs_where_the_host_is_read(role):
    tasks = _tasks(role)
    index = next(
        number
        for number, task in enumerate(tasks)
        if "host" in (task.get("pyops.uwsgi.role_plan") or {})
    )
    plan, read = tasks[index], tasks[index - 1]
    assert read["register"] == f"__{role}_host"
    assert "pyops.uwsgi.uwsgi_info" in read
    assert plan["pyops.uwsgi.role_plan"]["host"] == "{{ __" + role + "_host }}"
    assert plan["register"] == f"__{role}_plan"
    assert plan.get("tags") == read.get("tags")
    assert "when" not in plan and "when" not in read


@pytest.mark.parametrize("role", ["uwsgi", "nginx"])
def test_vars_hold_no_jinja(role):
    for path in sorted((ROOT / "roles" / role / "vars").glob("*.yml")):
        assert "{{" not in path.read_text() and "{%" not in path.read_text(), path
