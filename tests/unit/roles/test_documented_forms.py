"""The README's include_role form of the app role is the one scenario ec2_like proves.

--tags validate reaches an app only through an include_role tagged validate, and a wrong type is one
line only where Ansible's own argument-spec task (whose failure prints the whole spec) is off: every
include of pyops.uwsgi.app the README shows carries both, as the scenario's playbook does.
"""

from __future__ import annotations

import re
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[3]
YAML_BLOCK = re.compile(r"^```yaml\n(.*?)^```", re.MULTILINE | re.DOTALL)


def _includes(tasks):
    """The tasks of TASKS that include pyops.uwsgi.app."""
    return [
        task
        for task in tasks or []
        if task.get("ansible.builtin.include_role", {}).get("name") == "pyops.uwsgi.app"
    ]


def _readme_includes():
    found = []
    for block in YAML_BLOCK.findall((ROOT / "README.md").read_text()):
        data = yaml.safe_load(block)
        plays = data if isinstance(data, list) else []
        # A play, or tasks shown alone (indented as in a play's task list).
        for item in plays:
            found += _includes(item.get("tasks")) if "hosts" in item else _includes([item])
    return found


def _form(task):
    """What of an include decides how --tags validate and a wrong type go: all but its vars."""
    include = task["ansible.builtin.include_role"]
    return {"tags": task.get("tags"), **{k: v for k, v in include.items() if k != "name"}}


def test_the_readme_shows_the_app_role_included():
    assert len(_readme_includes()) >= 3


def test_each_include_of_the_app_in_the_readme_is_reached_by_validate_and_speaks_in_one_line():
    for task in _readme_includes():
        assert _form(task) == {"tags": "validate", "rolespec_validate": False}, task["name"]


def test_the_scenario_runs_the_readmes_form():
    playbook = ROOT / "molecule" / "ec2_like" / "validate_include_role.yml"
    play = yaml.safe_load(playbook.read_text())
    [task] = _includes(play[0]["tasks"])
    assert _form(task) == _form(_readme_includes()[0])
    assert play[0]["roles"] == ["pyops.uwsgi.uwsgi", "pyops.uwsgi.nginx"]


def test_site_imports_the_uwsgi_and_nginx_roles_without_ansibles_spec_dump():
    plays = yaml.safe_load((ROOT / "playbooks" / "site.yml").read_text())
    # The release phase before, the post-release commands after (docs/release-phases.md, Scopes).
    assert len(plays) == 3
    [play] = [play for play in plays if play["name"] == "Serve WSGI apps with uWSGI behind nginx"]
    imports = [
        task["ansible.builtin.import_role"]
        for task in play["tasks"]
        if "ansible.builtin.import_role" in task
    ]
    assert [role["name"] for role in imports] == ["pyops.uwsgi.uwsgi", "pyops.uwsgi.nginx"]
    assert all(role["rolespec_validate"] is False for role in imports)
    assert "roles" not in play
