"""Every bad input of docs/bad-inputs.md, refused by the roles' argument specs and rules.

The cases are tests/unit/bad_inputs.yml. Each runs where the roles run it (Ansible's argument spec
validator, then the role's rules or the app's plan) against the stand-in host, in milliseconds.
"""

from __future__ import annotations

import time
from importlib import util

import pytest
import yaml
from ansible_collections.pyops.uwsgi.plugins.module_utils import role_rules
from ansible_collections.pyops.uwsgi.plugins.plugin_utils import tls_files
from ansible_collections.pyops.uwsgi.tests.unit.plugins import stand_in

CASES = yaml.safe_load((stand_in.ROOT / "tests" / "unit" / "bad_inputs.yml").read_text())


def refusal(case):
    """The messages that refuse CASE, joined; empty when it is accepted."""
    role, entry_point = case.get("role", "app"), case.get("entry_point", "main")
    readings = case.get("readings", {})
    if role == "app":
        # The app of molecule/_shared/bad_input.yml, which tries the on_host cases.
        return " ".join(
            stand_in.app(host=readings, **{"app_name": "probe", **case["vars"]})["errors"]
        )
    overrides = dict(case["vars"])
    if entry_point == "site":
        overrides.setdefault("nginx_site_name", "probe")
        overrides.setdefault("nginx_site_uwsgi_pass", "unix:/run/uwsgi/probe/probe.sock")
    checked, errors = stand_in.settings(role, entry_point, **overrides)
    if not errors and entry_point == "site":
        # As the role_settings action does: a certificate and key on the controller are read.
        readings = dict(readings)
        material = tls_files.controller_material(checked, _find)[1]
        if material is not None:
            readings["tls"] = material
    if not errors:
        errors = role_rules.errors(role, entry_point, checked, readings)
    return " ".join(errors)


def _find(path):
    """A controller path as the action finds it; here relative to the repository."""
    found = stand_in.ROOT / path
    return str(found) if found.is_file() else None


@pytest.mark.parametrize("case", CASES, ids=[case["case"] for case in CASES])
def test_bad_input_is_refused_naming_the_variable(case):
    message = " ".join(refusal(case).split())
    assert " ".join(case["expect"].split()) in message, message
    # The message names the variable to fix (the uwsgi role names its Python by version).
    assert any(name in message for name in case["vars"]) or "Python 3.9" in message, message


def test_the_stand_in_host_accepts_the_defaults():
    assert stand_in.app()["errors"] == []
    for role, entry_point, extra in [
        ("uwsgi", "main", {}),
        ("nginx", "main", {}),
        (
            "nginx",
            "site",
            {"nginx_site_name": "probe", "nginx_site_uwsgi_pass": "unix:/run/x/x.sock"},
        ),
    ]:
        checked, errors = stand_in.settings(role, entry_point, **extra)
        assert errors == []
        assert role_rules.errors(role, entry_point, checked) == []


def test_the_whole_table_takes_milliseconds():
    start = time.perf_counter()
    for case in CASES:
        refusal(case)
    elapsed = time.perf_counter() - start
    print(f"{len(CASES)} bad inputs in {elapsed * 1000:.0f} ms")
    assert elapsed < 5


def test_the_hostile_settings_are_tried_on_a_host():
    on_host = [case for case in CASES if case.get("on_host")]
    assert len(on_host) >= 25
    assert all(case.get("role", "app") == "app" for case in on_host)
    # Each tries one bad thing; the play gives every case an app of its own name.
    assert len({case["case"] for case in on_host}) == len(on_host)


def test_bad_inputs_page_is_current():
    spec = util.spec_from_file_location(
        "bad_inputs_doc", stand_in.ROOT / "scripts" / "bad_inputs_doc.py"
    )
    module = util.module_from_spec(spec)
    spec.loader.exec_module(module)
    page = (stand_in.ROOT / "docs" / "bad-inputs.md").read_text()
    assert page == module.render(), "regenerate docs/bad-inputs.md (see its header)"
