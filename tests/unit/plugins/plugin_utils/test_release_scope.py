"""Release commands split by scope, and post-release commands, in the app's plan."""

from __future__ import annotations

from ansible.parsing.dataloader import DataLoader
from ansible.template import Templar, trust_as_template
from ansible_collections.pyops.uwsgi.plugins.module_utils._app import units
from ansible_collections.pyops.uwsgi.tests.unit.plugins import stand_in

MIGRATE = ["python", "manage.py", "migrate", "--noinput"]
COMPILE = ["python", "-m", "compileall", "."]
PLAYBOOK_SCOPE = "pyops_uwsgi_release_commands_scope"


def plan(**overrides):
    planned = stand_in.app(**overrides)
    assert planned["errors"] == [], planned["errors"]
    return planned["plan"]


def test_every_host_is_the_role_default():
    release = plan(app_release_commands=[MIGRATE])["phases"]["release"]
    assert release["commands"] == [{"command": MIGRATE, "creates": ""}]
    assert release["once"] == []


def test_the_default_scope_and_each_items_own():
    release = plan(
        app_release_commands_scope="once",
        app_release_commands=[
            MIGRATE,
            {"command": COMPILE, "scope": "every_host"},
            {"command": ["flask", "init-db"], "creates": "instance/db"},
        ],
    )["phases"]["release"]
    assert release["once"] == [
        {"command": MIGRATE, "creates": ""},
        # creates on a once command is fine.
        {"command": ["flask", "init-db"], "creates": "instance/db"},
    ]
    assert release["commands"] == [{"command": COMPILE, "creates": ""}]


def test_the_playbooks_variable_sets_the_role_default_scope():
    # The role's default, rendered as Ansible renders it: fleet.yml sets the variable.
    default = stand_in.defaults("app")["app_release_commands_scope"]
    for variables, expected in (({}, "every_host"), ({PLAYBOOK_SCOPE: "once"}, "once")):
        templar = Templar(loader=DataLoader(), variables=variables)
        assert templar.template(trust_as_template(default)) == expected


def test_post_release_commands_run_in_the_release_commands_sandbox():
    phases = plan(app_post_release_commands=[MIGRATE, {"command": COMPILE, "creates": "x"}])[
        "phases"
    ]
    assert phases["post_release"]["commands"] == [
        {"command": MIGRATE, "creates": ""},
        {"command": COMPILE, "creates": "x"},
    ]
    assert phases["post_release"]["sandbox"] == phases["release"]["sandbox"]


def test_post_release_commands_without_release_commands_are_fine():
    phases = plan(app_post_release_commands=[MIGRATE])["phases"]
    assert phases["release"]["commands"] == phases["release"]["once"] == []


def test_refused_scopes_name_the_variable_and_the_choices():
    refused = stand_in.app(app_release_commands=[{"command": MIGRATE, "scope": "all"}])["errors"]
    assert any(
        "app_release_commands" in error and "scope must be once" in error and "'all'" in error
        for error in refused
    )
    refused = stand_in.app(app_post_release_commands=[{"command": MIGRATE, "scope": "once"}])
    assert any("app_post_release_commands" in error for error in refused["errors"])


def test_phase_items_without_a_default_scope_take_no_scope():
    items, problems = units.phase_items([MIGRATE])
    assert items == [{"command": MIGRATE, "creates": ""}] and problems == []
    items, problems = units.phase_items([{"command": MIGRATE, "scope": "once"}])
    assert problems == ["command 1 has keys ['scope']; it takes command and creates"]
