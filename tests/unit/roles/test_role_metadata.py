"""Keep what the roles document, default and accept in one shape.

- every default in defaults/main.yml is documented in meta/argument_specs.yml with the same value,
  and every documented default is in defaults/main.yml;
- every default has a comment line above it;
- every variable whose type and choices do not say it all has a rule in the roles' Python;
- the roles' tasks read no test hooks, and their registered names are private.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[3]
ROLES = sorted(p.name for p in (ROOT / "roles").iterdir() if (p / "meta").is_dir())


def _defaults(role):
    path = ROOT / "roles" / role / "defaults" / "main.yml"
    return (yaml.safe_load(path.read_text()) if path.exists() else None) or {}


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
    path = ROOT / "roles" / role / "defaults" / "main.yml"
    lines = path.read_text().splitlines() if path.exists() else []
    for number, line in enumerate(lines):
        if line and not line.startswith((" ", "#", "-", "---")):
            above = lines[number - 1]
            assert above.startswith("# "), (
                f"{role} defaults line {number + 1}: {line!r} has no comment"
            )


def test_app_validate_entry_point_takes_the_main_options_without_listing_them_again():
    """ansible-doc lists each option once; the validate entry point says whose it takes."""
    specs = yaml.safe_load((ROOT / "roles" / "app" / "meta" / "argument_specs.yml").read_text())
    validate = specs["argument_specs"]["validate"]
    assert "options" not in validate
    assert "same variables as the C(main) entry point" in " ".join(validate["description"])


# The Python that holds each role's rules (module_utils/).
RULES = {
    "app": [
        "_app/rules.py",
        "_app/rules_app.py",
        "_app/rules_serving.py",
        "_app/rules_release.py",
        # The names tls.rules gives its messages (APP_TLS_NAMES).
        "_app/site.py",
        # The names the load balancer's health rules give their messages (APP_NAMES).
        "lb_health.py",
        # The rollback entry point's own settings (rollback_errors).
        "app_state.py",
        "pip_settings.py",
        "tls.py",
        "maintenance.py",
    ],
    "uwsgi": ["role_rules.py", "pip_settings.py"],
    "nginx": ["role_rules.py", "tls.py", "maintenance.py", "lb_health.py"],
    "platform": [],
}
# Entry points whose options are lists of other entry points' settings, checked item by item.
LIST_ENTRY_POINTS = {"apps", "sites", "check"}


@pytest.mark.parametrize("role", ROLES)
def test_every_variable_is_checked_beyond_its_type(role):
    """argument_specs check types and choices; every other variable needs a rule in Python."""
    code = "\n".join((ROOT / "plugins" / "module_utils" / name).read_text() for name in RULES[role])
    specs = yaml.safe_load((ROOT / "roles" / role / "meta" / "argument_specs.yml").read_text())
    unchecked = [
        name
        for entry, spec in specs["argument_specs"].items()
        if entry not in LIST_ENTRY_POINTS
        for name, option in spec.get("options", {}).items()
        if not option.get("choices")
        and option["type"] != "bool"
        # pip_settings.py names the pip variables by their role's prefix.
        and f'"{name}"' not in code
        and f"'{name}'" not in code
        and not (name.partition("_")[2].startswith("pip_") and name.partition("_")[2] in code)
    ]
    assert not unchecked, f"{role}: no rule checks {unchecked}"


@pytest.mark.parametrize("role", ROLES)
def test_tasks_read_no_test_hooks_and_register_private_names(role):
    for path in sorted((ROOT / "roles" / role).rglob("*.yml")):
        text = path.read_text()
        assert "__test" not in text and "_test_" not in text, path
        for found in re.finditer(r"^ *register: (\S+)", text, re.MULTILINE):
            assert found.group(1).startswith("__"), f"{path}: register {found.group(1)}"


def test_no_argument_spec_text_holds_a_template():
    # Ansible templates the whole spec when it validates a role's arguments: "{{ x.y }}" in a
    # description fails every play that includes the role ("object of type 'dict' has no
    # attribute"). Only defaults may be templates.
    for spec in sorted(ROOT.glob("roles/*/meta/argument_specs.yml")):
        for number, line in enumerate(spec.read_text().splitlines(), 1):
            if "{{" in line or "{%" in line:
                assert line.strip().startswith("default:"), f"{spec}:{number}: {line.strip()}"
