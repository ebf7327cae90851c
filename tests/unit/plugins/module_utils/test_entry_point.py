"""The WSGI entry point as uWSGI 2.0 reads it, and the check that imports it in a virtualenv.

The check runs for real: a virtualenv made here (no pip, a second or so), whose site-packages holds
an installed project of the src layout, and a code directory with a package whose __init__ binds
a factory, an app function, an app object and a module-level __getattr__.
"""

from __future__ import annotations

import subprocess
import sys
import venv
from pathlib import Path

import pytest
from ansible_collections.pyops.uwsgi.plugins.module_utils import entry_point

PACKAGE = """
import os

def create_app(test_config=None):
    return app

def app(environ, start_response):
    start_response("200 OK", [])
    return [b"ok"]

class App:
    def __call__(self, environ, start_response):
        return app(environ, start_response)

wsgi_app = App()
settings = {"debug": False}

def needs_arguments(config):
    return app

def __getattr__(name):
    if name == "lazy":
        return app
    raise AttributeError(name)
"""


@pytest.fixture(scope="module")
def release(tmp_path_factory):
    """(python, code): a virtualenv with project "installed" in it, and the app's code."""
    root = tmp_path_factory.mktemp("release")
    venv.EnvBuilder(with_pip=False, symlinks=True).create(root / "venv")
    python = root / "venv" / "bin" / "python"
    site = subprocess.run(
        [str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    installed = Path(site) / "installed"
    installed.mkdir(parents=True)
    (installed / "__init__.py").write_text("")
    (installed / "wsgi.py").write_text("def application(environ, start_response):\n    return []\n")
    code = root / "code"
    (code / "pkg" / "sub").mkdir(parents=True)
    (code / "pkg" / "__init__.py").write_text(PACKAGE)
    (code / "pkg" / "sub" / "__init__.py").write_text("")
    (code / "pkg" / "sub" / "wsgi.py").write_text("from pkg import app as application\n")
    (code / "needs_flask.py").write_text("import flask_that_is_not_there\n")
    (code / "raises.py").write_text("import os\nSECRET = os.environ['PYOPS_TEST_SECRET']\n")
    (code / "prints.py").write_text("print('PYOPS-ENTRY-POINT not json')\napplication = 1\n")
    (code / "multi.py").write_text("applications = {'/': 'app'}\n")
    return str(python), str(code)


def check(release, module, callable_text):
    python, code = release
    out = subprocess.run(
        entry_point.check_argv(python, module, callable_text),
        cwd=code,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    ).stdout
    return entry_point.verdict(entry_point.result_of(out), module, callable_text)


@pytest.mark.parametrize(
    ("module", "callable_text"),
    [
        ("pkg", "create_app()"),
        ("pkg", "app"),
        ("pkg", "wsgi_app"),
        ("pkg.sub.wsgi", "application"),
        # In the virtualenv only, as a project of the src layout installed there.
        ("installed.wsgi", "application"),
        # uWSGI's multi-app form: the dict wins over the callable.
        ("multi", "whatever"),
    ],
)
def test_entry_points_uwsgi_can_load_pass(release, module, callable_text):
    ok, message = check(release, module, callable_text)
    assert ok, message


@pytest.mark.parametrize(
    ("module", "callable_text", "expected"),
    [
        (
            "pkg",
            "create_app",
            "create_app is an application factory: write app_wsgi_callable: create_app()",
        ),
        ("pkg", "app()", "app is a WSGI application, not an application factory"),
        ("pkg", "wsgi_app()", "wsgi_app is a WSGI application, not an application factory"),
        ("pkg", "needs_arguments()", "cannot be called without arguments"),
        ("pkg", "application", "Pitfall 1b (Wrong callable): module pkg"),
        ("pkg", "lazy", "a module-level __getattr__ does not count"),
        ("pkg", "settings", "is a dict, which cannot be called"),
        ("pgk", "app", "Pitfall 1a (Wrong entry point): app_wsgi_module 'pgk'"),
        ("pkg.wsgi", "app", "Pitfall 1a (Wrong entry point): app_wsgi_module 'pkg.wsgi'"),
        ("needs_flask", "app", "Pitfall 2 (Package missing from the virtualenv)"),
        ("raises", "app", "raised KeyError: 'PYOPS_TEST_SECRET'"),
    ],
)
def test_what_uwsgi_would_fail_on_is_named_with_the_fix(release, module, callable_text, expected):
    ok, message = check(release, module, callable_text)
    assert not ok
    assert expected in message, message


def test_the_app_printing_does_not_confuse_the_result(release):
    ok, message = check(release, "prints", "application")
    assert not ok
    assert "is a int, which cannot be called" in message


def test_a_missing_package_names_the_import_line(release):
    _ok, message = check(release, "needs_flask", "app")
    assert "No module named 'flask_that_is_not_there'" in message
    assert "'flask_that_is_not_there' to app_requirements_file" in message


@pytest.mark.parametrize(
    ("text", "parsed"),
    [
        ("application", ("application", False, "")),
        ("create_app()", ("create_app", True, "")),
        ("_private", ("_private", False, "")),
    ],
)
def test_callables_uwsgi_reads(text, parsed):
    assert entry_point.parse_callable(text) == parsed


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ('create_app("prod")', "only without arguments"),
        ("create_app(config=1)", "only without arguments"),
        ("app.wsgi_app", "does not follow attributes"),
        ("create app", "Python name"),
        ("", "Python name"),
        ("app:app", "Python name"),
    ],
)
def test_callables_uwsgi_cannot_read(text, reason):
    assert reason in entry_point.parse_callable(text)[2]


def test_the_script_has_no_dollar_for_systemd_run_to_expand():
    assert "$" not in entry_point.SCRIPT
    assert entry_point.check_argv("/v/bin/python", "pkg", "create_app()")[3:] == [
        "pkg",
        "create_app",
        "1",
    ]


def test_the_script_runs_on_this_python_too():
    # The interpreter is the app's (any 3.x); the test's own must run it as well.
    out = subprocess.run(
        [sys.executable, "-c", entry_point.SCRIPT, "json", "dumps", "0"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    assert entry_point.result_of(out)["kind"] == "ok"


def test_no_result_is_a_failure():
    assert entry_point.result_of("Traceback ...\n") is None
    assert entry_point.verdict(None, "pkg", "app") == (
        False,
        "The entry point check printed no result.",
    )
