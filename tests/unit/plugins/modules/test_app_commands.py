"""pyops.uwsgi.app_commands run as on a host, without a sandbox: order, failure, creates, check."""

from __future__ import annotations

import sys

import pytest
from ansible_collections.pyops.uwsgi.plugins.modules import app_commands
from ansible_collections.pyops.uwsgi.tests.unit.plugins.module_args import run_main


@pytest.fixture
def run(capsys):
    return lambda **options: run_main(app_commands.main, capsys, options)[0]


def python(code):
    return [sys.executable, "-u", "-c", code]


def test_commands_run_in_order_in_their_directory_with_their_environment(run, tmp_path):
    result = run(
        chdir=str(tmp_path),
        env={"SHOP": "$not expanded"},
        commands=[
            {"command": python("import os; open('one', 'w').write(os.environ['SHOP'])")},
            {"command": python("print(open('one').read())")},
        ],
    )
    assert result["changed"] is True
    assert [item["rc"] for item in result["results"]] == [0, 0]
    assert result["results"][1]["output"] == ["$not expanded"]


def test_the_first_failure_stops_the_rest_and_is_quoted(run, tmp_path):
    result = run(
        chdir=str(tmp_path),
        name="mysite",
        commands=[
            {"command": python("print('applying 0001'); raise SystemExit('migration failed')")},
            {"command": python("open('never', 'w')")},
        ],
    )
    assert not (tmp_path / "never").exists()
    message = result["msg"]
    assert message.startswith("mysite: release command 1 `")
    assert "failed (exit status 1), 1 more not run. Its last lines:\n" in message
    assert "  applying 0001\n  migration failed" in message


def test_a_command_whose_path_exists_is_skipped(run, tmp_path):
    (tmp_path / "instance").mkdir()
    (tmp_path / "instance" / "flaskr.sqlite").write_text("")
    result = run(
        chdir=str(tmp_path),
        commands=[{"command": ["false"], "creates": "instance/flaskr.sqlite"}],
    )
    assert result["changed"] is False
    assert result["results"] == [{"command": ["false"], "rc": None, "skipped": True, "output": []}]


def test_check_mode_runs_nothing(run, tmp_path):
    result = run(
        chdir=str(tmp_path),
        commands=[{"command": python("open('ran', 'w')")}],
        _ansible_check_mode=True,
    )
    assert result["changed"] is True
    assert not (tmp_path / "ran").exists()


def test_a_program_that_is_not_there(run, tmp_path):
    result = run(chdir=str(tmp_path), commands=[{"command": ["no-such-program-here"]}])
    assert "did not finish" in result["msg"]
