"""pyops.uwsgi.wsgi_entry_point run as on a host, without a sandbox, against the test's Python."""

from __future__ import annotations

import sys

import pytest
from ansible_collections.pyops.uwsgi.plugins.modules import wsgi_entry_point
from ansible_collections.pyops.uwsgi.tests.unit.plugins.module_args import run_main


@pytest.fixture
def run(capsys):
    return lambda **options: run_main(wsgi_entry_point.main, capsys, options)[0]


@pytest.fixture
def code(tmp_path):
    (tmp_path / "flaskr").mkdir()
    (tmp_path / "flaskr" / "__init__.py").write_text(
        "import os\n"
        "print('importing flaskr')\n"
        "def create_app(test_config=None):\n"
        "    return lambda environ, start_response: []\n"
    )
    (tmp_path / "needs_env.py").write_text(
        "import os\nassert os.environ['SHOP_MODE'] == 'prod'\napplication = lambda e, s: []\n"
    )
    return str(tmp_path)


def test_a_factory_with_parentheses_passes(run, code):
    result = run(python=sys.executable, module="flaskr", callable="create_app()", chdir=code)
    assert result["changed"] is False
    assert result["result"]["as_factory"] is True
    assert "importing flaskr" in result["output"]


def test_a_factory_without_parentheses_is_named(run, code):
    result = run(python=sys.executable, module="flaskr", callable="create_app", chdir=code)
    assert (
        "create_app is an application factory: write app_wsgi_callable: create_app()"
        in (result["msg"])
    )


def test_arguments_are_refused_before_anything_runs(run, code):
    result = run(python=sys.executable, module="flaskr", callable="create_app('x')", chdir=code)
    assert "only without arguments" in result["msg"]
    assert "result" not in result


def test_the_environment_reaches_the_import(run, code):
    failed = run(python=sys.executable, module="needs_env", callable="application", chdir=code)
    assert "raised KeyError: 'SHOP_MODE'" in failed["msg"]
    passed = run(
        python=sys.executable,
        module="needs_env",
        callable="application",
        chdir=code,
        env={"SHOP_MODE": "prod"},
    )
    assert "failed" not in passed


def test_an_interpreter_that_does_not_run_is_reported(run, code):
    result = run(python="/nonexistent/python", module="flaskr", callable="app", chdir=code)
    assert "could not run" in result["msg"]
