"""Keep what the roles document, default and accept in one shape.

- every default in defaults/main.yml is documented in meta/argument_specs.yml with the same value,
  and every documented default is in defaults/main.yml;
- every default has a comment line above it;
- playbooks/site.yml passes exactly the app role's documented variables.
- playbooks/fleet.yml passes front sites only nginx site variables, the ones it checks.
"""

from __future__ import annotations

import importlib.util
import re
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[3]
ROLES = sorted(p.name for p in (ROOT / "roles").iterdir() if (p / "meta").is_dir())


def _defaults(role):
    path = ROOT / "roles" / role / "defaults" / "main.yml"
    return yaml.safe_load(path.read_text()) or {}


def _spec_options(role):
    specs = yaml.safe_load((ROOT / "roles" / role / "meta" / "argument_specs.yml").read_text())
    options = {}
    for entry in specs["argument_specs"].values():
        options.update(entry.get("options", {}))
    return options


def test_there_are_roles():
    assert set(ROLES) >= {"uwsgi", "app", "nginx"}


@pytest.mark.parametrize("role", ROLES)
def test_spec_defaults_equal_role_defaults(role):
    defaults = _defaults(role)
    options = _spec_options(role)
    documented = {name: opt["default"] for name, opt in options.items() if "default" in opt}
    assert documented == defaults
    required = {name for name, opt in options.items() if opt.get("required")}
    assert not required & set(defaults), "required options must not have defaults"
    for name, opt in options.items():
        assert opt.get("description"), f"{role}: {name} has no description"
        assert opt.get("type"), f"{role}: {name} has no type"


@pytest.mark.parametrize("role", ROLES)
def test_every_default_has_a_comment(role):
    lines = (ROOT / "roles" / role / "defaults" / "main.yml").read_text().splitlines()
    for number, line in enumerate(lines):
        if line and not line.startswith((" ", "#", "-", "---")):
            above = lines[number - 1]
            assert above.startswith("# "), (
                f"{role} defaults line {number + 1}: {line!r} has no comment"
            )


@pytest.mark.parametrize("section", ["pre_tasks", "tasks"])
def test_site_playbook_passes_every_app_variable(section):
    site = yaml.safe_load((ROOT / "playbooks" / "site.yml").read_text())
    includes = [task for task in site[0][section] if "ansible.builtin.include_role" in task]
    assert includes
    for include in includes:
        assert include["ansible.builtin.include_role"]["name"] == "pyops.uwsgi.app"
        assert set(include["vars"]) == set(_spec_options("app"))
        for name, value in include["vars"].items():
            assert f"__site_app.{name}" in value


def test_app_validate_entry_point_takes_the_same_options():
    specs = yaml.safe_load((ROOT / "roles" / "app" / "meta" / "argument_specs.yml").read_text())
    entries = specs["argument_specs"]
    assert entries["validate"]["options"] == entries["main"]["options"]


def _checks(node):
    """The `ok` expressions of check lists anywhere below NODE (loop items or task vars)."""
    if isinstance(node, dict):
        found = [str(node["ok"])] if "ok" in node else []
        return found + [text for value in node.values() for text in _checks(value)]
    if isinstance(node, list):
        return [text for value in node for text in _checks(value)]
    return []


def _checked_expressions(role):
    """Text of every value check in the role's tasks: assert `that`s and `ok` check items."""
    texts = []
    for path in (ROOT / "roles" / role / "tasks").glob("*.yml"):
        for task in yaml.safe_load(path.read_text()) or []:
            assertion = task.get("ansible.builtin.assert")
            if assertion is not None:
                texts.append(str(assertion.get("that", "")))
                texts.extend(_checks(task))
    return "\n".join(texts)


@pytest.mark.parametrize("role", ROLES)
def test_every_variable_is_checked_beyond_its_type(role):
    """argument_specs check types and choices; every other variable needs an assert on its value."""
    checked = _checked_expressions(role)
    unchecked = [
        name
        for name, option in _spec_options(role).items()
        if not option.get("choices")
        and option["type"] != "bool"
        # A check on a value derived straight from it (__app_user from app_user) counts.
        and not re.search(rf"(?<![A-Za-z0-9]){re.escape(name)}\b", checked)
    ]
    assert not unchecked, f"{role}: no assert checks {unchecked}"


def test_bad_inputs_page_is_current():
    spec = importlib.util.spec_from_file_location(
        "bad_inputs_doc", ROOT / "molecule" / "_shared" / "bad_inputs_doc.py"
    )
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    page = (ROOT / "docs" / "bad-inputs.md").read_text()
    assert page == module.render(), "regenerate docs/bad-inputs.md (see its header)"
    rows = [line for line in page.splitlines() if re.match(r"^\| [0-9]+ \|", line)]
    assert len(rows) >= 15, "the page lists at least 15 bad inputs"


def test_fleet_playbook_passes_only_nginx_site_variables():
    plays = yaml.safe_load((ROOT / "playbooks" / "fleet.yml").read_text())
    front = plays[1]
    specs = yaml.safe_load((ROOT / "roles" / "nginx" / "meta" / "argument_specs.yml").read_text())
    site_options = set(specs["argument_specs"]["site"]["options"])
    (include,) = [task for task in front["tasks"] if "ansible.builtin.include_role" in task]
    checked = front["pre_tasks"][1]["vars"]["__fleet_keys"]
    assert set(include["vars"]) == set(checked)
    assert set(checked) <= site_options
    for name, value in include["vars"].items():
        assert f"__fleet_site.{name}" in value
