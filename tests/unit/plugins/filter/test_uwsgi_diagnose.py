"""uwsgi_diagnose on lines captured from uWSGI 2.0.31 on CPython 3.11, as the journal shows them.

Each fixture is real output (trimmed of uWSGI's start-up chatter) of
``uwsgi --master --need-app --socket ... --chdir DIR --module M:C --strict --die-on-term`` for a
tiny app made to fail one way; only paths and host names were changed.
"""

from __future__ import annotations

import pytest
from ansible.errors import AnsibleFilterError
from ansible_collections.pyops.uwsgi.plugins.filter.uwsgi_diagnose import (
    FilterModule,
    uwsgi_diagnose,
)

SOCKET = "/run/uwsgi/shop/shop.sock"
APP = {
    "name": "shop",
    "wsgi_module": "wsgi",
    "wsgi_callable": "application",
    "python_version": "3.11",
    "requirements_file": "requirements.txt",
    "socket": SOCKET,
    "web_user": "www-data",
    "plugin": "python311",
}

START = [
    "*** Starting uWSGI 2.0.31 (64bit) on [Sat Nov 21 14:46:04 2026] ***",
    "compiled with version: 12.2.0 on 21 November 2026 14:13:12",
    "detected binary path: /usr/bin/uwsgi-core",
    "chdir() to /srv/shop/code",
    f"uwsgi socket 0 bound to UNIX address {SOCKET} fd 3",
    "Python version: 3.11.7 (main, May  9 2026, 07:35:25) [GCC 12.2.0]",
    "Python main interpreter initialized at 0x7ff431776ef8",
    "python threads support enabled",
    "*** Operational MODE: preforking ***",
]
VERDICT = "unable to load app 0 (mountpoint='') (callable not found or import error)"
GAME_OVER = [VERDICT, "*** no app loaded. GAME OVER ***"]
READY = [
    "WSGI app 0 (mountpoint='') ready in 0 seconds on interpreter 0x7f2148976ef8 pid: 18125"
    " (default app)",
    "*** uWSGI is running in multiple interpreter mode ***",
    "spawned uWSGI master process (pid: 18125)",
    "spawned uWSGI worker 1 (pid: 18127, cores: 1)",
]

# --module wsgi2:application, no wsgi2.py
ENTRY_MISSING = ["ModuleNotFoundError: No module named 'wsgi2'"]
# --module mysite.wsgi:application, no mysite package
PACKAGE_OF_ENTRY_MISSING = ["ModuleNotFoundError: No module named 'mysite'"]
# --module mysite.wsgi:application, mysite/__init__.py but no mysite/wsgi.py
DOTTED_ENTRY_MISSING = ["ModuleNotFoundError: No module named 'mysite.wsgi'"]
# --wsgi-file wsgi2.py
ENTRY_FILE_MISSING = ["failed to open python file wsgi2.py"]
# --module wsgi:app where wsgi.py defines application: uWSGI says nothing but its verdict.
CALLABLE_MISSING: list[str] = []
# --wsgi-file wsgi.py --callable app ("application" is uWSGI's wording whatever the name)
FILE_CALLABLE_MISSING = ['unable to find "application" callable in file wsgi.py']
# wsgi.py: from myflask import app, where myflask defines application
CANNOT_IMPORT = [
    "Traceback (most recent call last):",
    '  File "/srv/shop/code/wsgi.py", line 1, in <module>',
    "    from myflask import app",
    "ImportError: cannot import name 'app' from 'myflask' (/srv/shop/code/myflask.py)",
]
# wsgi.py: application = make_app()
NAME_ERROR = [
    "Traceback (most recent call last):",
    '  File "/srv/shop/code/wsgi.py", line 1, in <module>',
    "    application = make_app()",
    "                  ^^^^^^^^",
    "NameError: name 'make_app' is not defined",
]
# wsgi.py: import os; application = os.make_wsgi_app
ATTRIBUTE_ERROR = [
    "Traceback (most recent call last):",
    '  File "/srv/shop/code/wsgi.py", line 2, in <module>',
    "    application = os.make_wsgi_app",
    "                  ^^^^^^^^^^^^^^^^",
    "AttributeError: module 'os' has no attribute 'make_wsgi_app'",
]
# wsgi.py: import flask_nonexistent
PACKAGE_MISSING = [
    "Traceback (most recent call last):",
    '  File "/srv/shop/code/wsgi.py", line 1, in <module>',
    "    import flask_nonexistent",
    "ModuleNotFoundError: No module named 'flask_nonexistent'",
]
# wsgi.py: DB = os.environ["DATABASE_URL"], unset
KEY_ERROR = [
    "Traceback (most recent call last):",
    '  File "/srv/shop/code/wsgi.py", line 2, in <module>',
    '    DB = os.environ["DATABASE_URL"]',
    "         ~~~~~~~~~~^^^^^^^^^^^^^^^^",
    '  File "<frozen os>", line 679, in __getitem__',
    "KeyError: 'DATABASE_URL'",
]
# wsgi.py: def application(environ, start_response)   (no colon)
SYNTAX_ERROR = [
    '  File "/srv/shop/code/wsgi.py", line 1',
    "    def application(environ, start_response)",
    "                                            ^",
    "SyntaxError: expected ':'",
]
# uWSGI 2.0.31 on 3.11 with --virtualenv of a Python 3.14 virtualenv, wsgi.py imports flask.
PYTHON_MISMATCH = [
    "*** Starting uWSGI 2.0.31 (64bit) on [Sat Nov 21 14:48:12 2026] ***",
    "Python version: 3.11.7 (main, May  9 2026, 07:35:25) [GCC 12.2.0]",
    "PEP 405 virtualenv detected: /srv/shop/venv",
    "Set PythonHome to /srv/shop/venv",
    "Python main interpreter initialized at 0x7f824f576ef8",
    "*** Operational MODE: single process ***",
    "Traceback (most recent call last):",
    '  File "/srv/shop/code/wsgi.py", line 1, in <module>',
    "    import flask",
    "ModuleNotFoundError: No module named 'flask'",
    *GAME_OVER,
]
# Errors of requests to an app that loaded.
REQUEST_NAME_ERROR = [
    "Traceback (most recent call last):",
    '  File "/srv/shop/code/wsgi.py", line 4, in application',
    "    return undefined_view(environ, start_response)",
    "NameError: name 'undefined_view' is not defined",
    "[pid: 18127|app: 0|req: 1/1] 127.0.0.1 () {24 vars in 246 bytes} [Sat Nov 21 14:50:47 2026]"
    " GET / => generated 0 bytes in 0 msecs (HTTP/1.1 500) 0 headers in 0 bytes (0 switches on"
    " core 0)",
]
REQUEST_PACKAGE_MISSING = [
    "Traceback (most recent call last):",
    '  File "/srv/shop/code/wsgi.py", line 3, in application',
    "    import flask_lazy_missing",
    "ModuleNotFoundError: No module named 'flask_lazy_missing'",
]

NGINX_DENIED = (
    "2026/11/21 13:39:20 [crit] 1768#1768: *99 connect() to unix:{path} failed (13: Permission"
    ' denied) while connecting to upstream, client: 127.0.0.1, server: shop.test, request: "GET /'
    ' HTTP/1.1", upstream: "uwsgi://unix:{path}:", host: "shop.test"'
)
NGINX_MISSING = NGINX_DENIED.replace("(13: Permission denied)", "(2: No such file or directory)")
NGINX_OTHER = (
    "2026/11/21 13:38:02 [notice] 1767#1767: signal process started",
    "2026/11/21 13:38:02 [warn] 1768#1768: conflicting server name"
    ' "shop.test" on 0.0.0.0:80, ignored',
)


def journal(lines, ident="uwsgi-shop", pid=4242):
    """LINES as `journalctl -t IDENT` shows them, between lines of other processes."""
    return [
        "Nov 21 13:38:59 web1 systemd[1]: Reloading uwsgi-emperor.service - uWSGI Emperor...",
        *(f"Nov 21 13:39:00 web1 {ident}[{pid}]: {line}" for line in lines),
        "Nov 21 13:39:01 web1 sshd[977]: pam_unix(sshd:session): session closed for user admin",
    ]


def failed_start(error):
    return journal([*START, *error, *GAME_OVER])


def app(**changes):
    return {**APP, **changes}


def assert_message(result):
    """The message names the pitfall, quotes the line and ends with the fix."""
    assert result["message"] == (
        f'Pitfall {result["id"]} ({result["title"]}): "{result["line"]}". {result["fix"]}'
    )
    assert "\n" not in result["message"]


@pytest.mark.parametrize(
    ("error", "wsgi_module"),
    [
        (ENTRY_MISSING, "wsgi2"),
        (PACKAGE_OF_ENTRY_MISSING, "mysite.wsgi"),
        (DOTTED_ENTRY_MISSING, "mysite.wsgi"),
        (["ImportError: No module named wsgi2"], "wsgi2"),  # Python 2's wording
        (ENTRY_FILE_MISSING, "wsgi"),
    ],
)
def test_1a_entry_module_missing(error, wsgi_module):
    result = uwsgi_diagnose(failed_start(error), app(wsgi_module=wsgi_module))
    assert result["id"] == "1a"
    assert result["title"] == "Wrong entry point"
    assert result["line"] == error[-1]
    assert f"app_wsgi_module (now '{wsgi_module}')" in result["fix"]
    assert "no .py" in result["fix"]
    assert_message(result)


@pytest.mark.parametrize(
    "error",
    [CALLABLE_MISSING, FILE_CALLABLE_MISSING, CANNOT_IMPORT, NAME_ERROR, ATTRIBUTE_ERROR],
    ids=["bare-verdict", "wsgi-file", "cannot-import", "name-error", "attribute-error"],
)
def test_1b_callable_missing(error):
    result = uwsgi_diagnose(failed_start(error), app(wsgi_callable="app"))
    assert result["id"] == "1b"
    assert result["title"] == "Wrong callable"
    assert result["line"] == (error[-1] if error else VERDICT)
    assert "app_wsgi_callable (now 'app')" in result["fix"]
    assert "fix the import in the entry module" in result["fix"]
    assert_message(result)


def test_1b_message_for_the_flask_import():
    result = uwsgi_diagnose(failed_start(CANNOT_IMPORT), APP)
    assert result["message"] == (
        "Pitfall 1b (Wrong callable): \"ImportError: cannot import name 'app' from 'myflask'"
        " (/srv/shop/code/myflask.py)\". Set app_wsgi_callable (now 'application') to the name"
        " that wsgi binds the WSGI app to (Flask apps often call it app), or fix the import in"
        " the entry module."
    )


@pytest.mark.parametrize("error", [KEY_ERROR, SYNTAX_ERROR], ids=["key-error", "syntax-error"])
def test_other_import_errors_are_not_a_wrong_callable(error):
    # uWSGI's verdict follows any import error; here Python's own error is the cause.
    result = uwsgi_diagnose(failed_start(error), APP)
    assert result["id"] == "unknown"
    assert error[-1] in result["message"]


def test_2_package_missing():
    result = uwsgi_diagnose(failed_start(PACKAGE_MISSING), APP)
    assert result["id"] == "2"
    assert result["title"] == "Package missing from the virtualenv"
    assert result["line"] == "ModuleNotFoundError: No module named 'flask_nonexistent'"
    for words in (
        "'flask_nonexistent'",
        "PyPI name may differ",
        "requirements.txt (app_requirements_file)",
        "app_pip_packages",
        "another user or system-wide",
    ):
        assert words in result["fix"]
    assert_message(result)


def test_2_names_the_top_level_package():
    lines = failed_start(["ModuleNotFoundError: No module named 'yaml.constructor'"])
    result = uwsgi_diagnose(lines, app(requirements_file="requirements/prod.txt"))
    assert result["id"] == "2"
    assert "provides 'yaml'" in result["fix"]
    assert "requirements/prod.txt" in result["fix"]


def test_2_a_sibling_of_the_entry_package_is_not_the_entry_point():
    lines = failed_start(["ModuleNotFoundError: No module named 'mysite.settings_prod'"])
    assert uwsgi_diagnose(lines, app(wsgi_module="mysite.wsgi"))["id"] == "2"


@pytest.mark.parametrize(
    ("version_line", "python_version"),
    [
        (PYTHON_MISMATCH[1], "3.14"),
        ("Python version: 3.13.5 (main, Aug 10 2026, 12:06:59) [GCC 14.2.0]", "3.14"),
    ],
)
def test_003_wins_over_the_missing_packages_it_causes(version_line, python_version):
    lines = journal([PYTHON_MISMATCH[0], version_line, *PYTHON_MISMATCH[2:]])
    result = uwsgi_diagnose(lines, app(python_version=python_version, plugin="python314"))
    assert result["id"] == "003"
    assert result["title"] == "Plugin embeds another Python"
    assert result["line"] == version_line
    running = version_line.split()[2].rsplit(".", 1)[0]
    for words in (
        f"uWSGI runs Python {running} but the virtualenv is Python {python_version}",
        "app_python_version",
        "do not set plugin or virtualenv in app_uwsgi_options",
        "the plugin python314 was replaced, rerun pyops.uwsgi.uwsgi",
    ):
        assert words in result["fix"]
    assert_message(result)


def test_003_with_pip_built_uwsgi():
    result = uwsgi_diagnose(journal(PYTHON_MISMATCH), app(python_version="3.14", plugin=""))
    assert result["id"] == "003"
    assert "If uWSGI was replaced" in result["fix"]


def test_003_uses_the_last_python_version_line():
    old = "Python version: 3.13.5 (main, Aug 10 2026, 12:06:59) [GCC 14.2.0]"
    new = "Python version: 3.14.0 (main, Oct  7 2026, 10:00:00) [GCC 14.2.0]"
    fixed = journal([old, "ModuleNotFoundError: No module named 'flask'", new, *ENTRY_MISSING])
    assert uwsgi_diagnose(fixed, app(wsgi_module="wsgi2", python_version="3.14"))["id"] == "1a"
    broke = journal([new, old, *PACKAGE_MISSING])
    result = uwsgi_diagnose(broke, app(python_version="3.14"))
    assert (result["id"], result["line"]) == ("003", old)


def test_same_python_is_no_003():
    result = uwsgi_diagnose(failed_start(PACKAGE_MISSING), app(python_version="3.11"))
    assert result["id"] == "2"
    assert uwsgi_diagnose(failed_start(PACKAGE_MISSING), app(python_version=None))["id"] == "2"


def test_only_the_newest_start_counts():
    # The first start lacked a module; the fixed release loaded, and nginx is now refused.
    lines = journal([*START, *ENTRY_MISSING, *GAME_OVER, *START, *READY])
    result = uwsgi_diagnose(
        lines, app(wsgi_module="wsgi2"), None, [NGINX_DENIED.format(path=SOCKET)]
    )
    assert result["id"] == "3b"


def test_a_start_still_loading_leaves_the_previous_verdict():
    lines = journal([*START, *NAME_ERROR, *GAME_OVER, *START[:5]])
    result = uwsgi_diagnose(lines, APP)
    assert (result["id"], result["line"]) == ("1b", NAME_ERROR[-1])


def test_request_errors_are_not_load_errors():
    probe = {"error": "app_error_5xx", "status": 500, "error_message": "the app answered 500"}
    lines = journal([*START, *READY, *REQUEST_NAME_ERROR])
    result = uwsgi_diagnose(lines, APP, probe)
    assert result["id"] == "unknown"
    assert "the probe reported app_error_5xx: the app answered 500" in result["message"]
    assert "NameError: name 'undefined_view' is not defined" in result["message"]
    # A package imported by a request is still missing from the virtualenv.
    result = uwsgi_diagnose(lines + journal(REQUEST_PACKAGE_MISSING), APP, probe)
    assert (result["id"], result["line"]) == ("2", REQUEST_PACKAGE_MISSING[-1])


def test_3b_from_nginx():
    nginx = [*NGINX_OTHER, NGINX_DENIED.format(path=SOCKET)]
    result = uwsgi_diagnose(journal([*START, *READY]), APP, {"error": None}, nginx)
    assert result["id"] == "3b"
    assert result["title"] == "Permission denied on the socket"
    assert result["line"] == NGINX_DENIED.format(path=SOCKET)
    for words in ("www-data", "0660", "pyops.uwsgi.uwsgi and pyops.uwsgi.app", "chmod-socket"):
        assert words in result["fix"]
    assert "app_uwsgi_options" in result["fix"]
    assert "but the app's socket is" not in result["fix"]
    assert_message(result)


def test_3b_from_the_probe_alone():
    probe = {
        "error": "permission_denied",
        "error_message": f"{SOCKET}: Permission denied: check the owner, group and mode",
    }
    result = uwsgi_diagnose([], APP, probe, [])
    assert (result["id"], result["line"]) == ("3b", "")
    assert result["message"].startswith(
        "Pitfall 3b (Permission denied on the socket): the probe reported permission_denied:"
        f" {SOCKET}: Permission denied"
    )


def test_3a_nginx_on_another_path():
    wrong = "/tmp/shop.sock"
    nginx = [NGINX_MISSING.format(path=wrong)]
    result = uwsgi_diagnose(journal([*START, *READY]), APP, None, nginx)
    assert result["id"] == "3a"
    assert result["title"] == "nginx points at a missing socket"
    assert result["line"] == nginx[0]
    assert result["fix"].startswith(
        f"nginx connects to {wrong}, but the app's socket is {SOCKET}. "
    )
    assert f"app_socket ({SOCKET})" in result["fix"]
    assert "pyops.uwsgi.app" in result["fix"]
    assert_message(result)


def test_3a_prefers_the_apps_own_socket():
    nginx = [NGINX_MISSING.format(path=SOCKET), NGINX_MISSING.format(path="/run/other.sock")]
    result = uwsgi_diagnose([], APP, None, nginx)
    assert (result["id"], result["line"]) == ("3a", nginx[0])
    assert "but the app's socket is" not in result["fix"]
    assert "its log says why" in result["fix"]


def test_3a_through_the_link_to_the_apps_socket_is_the_apps_own():
    link = "/run/uwsgi/shop/nginx.sock"
    nginx = [NGINX_MISSING.format(path=link), NGINX_MISSING.format(path="/run/other.sock")]
    result = uwsgi_diagnose([], {**APP, "nginx_socket": link}, None, nginx)
    assert (result["id"], result["line"]) == ("3a", nginx[0])
    assert "but the app's socket is" not in result["fix"]


def test_3a_from_the_probe_alone():
    probe = {"error": "socket_missing", "error_message": f"{SOCKET}: No such file or directory"}
    result = uwsgi_diagnose(journal(["Python version: 3.11.7 (main) [GCC 12.2.0]"]), APP, probe)
    assert (result["id"], result["line"]) == ("3a", "")
    assert "the probe reported socket_missing" in result["message"]


@pytest.mark.parametrize(
    ("error", "expected"),
    [(ENTRY_MISSING, "1a"), (CALLABLE_MISSING, "1b"), (PACKAGE_MISSING, "2")],
)
def test_app_errors_win_over_nginx_and_probe(error, expected):
    nginx = [NGINX_DENIED.format(path=SOCKET), NGINX_MISSING.format(path=SOCKET)]
    for probe in ({"error": "socket_missing"}, {"error": "permission_denied"}):
        result = uwsgi_diagnose(failed_start(error), app(wsgi_module="wsgi2"), probe, nginx)
        assert result["id"] == expected


def test_3b_before_3a():
    nginx = [NGINX_DENIED.format(path=SOCKET), NGINX_MISSING.format(path=SOCKET)]
    assert uwsgi_diagnose([], APP, None, nginx)["id"] == "3b"


def test_unknown_quotes_the_tail():
    lines = journal([*START, *READY, "worker 1 killed successfully (pid: 18127)", "", "   "])
    result = uwsgi_diagnose(lines, APP, {"error": "refused", "error_message": "refused"})
    assert result["id"] == "unknown"
    assert result["title"] == "No known pitfall"
    assert result["line"] == ""
    assert result["fix"] == (
        "Read the app's log (journalctl -t uwsgi-shop) and nginx's error.log for the cause."
    )
    # The last five of the app's own lines; systemd's and sshd's lines are left out.
    assert result["message"] == (
        "No known pitfall matched; the probe reported refused: refused. Last log lines:"
        " \"WSGI app 0 (mountpoint='') ready in 0 seconds on interpreter 0x7f2148976ef8 pid:"
        ' 18125 (default app)" | "*** uWSGI is running in multiple interpreter mode ***" |'
        ' "spawned uWSGI master process (pid: 18125)" | "spawned uWSGI worker 1 (pid: 18127,'
        ' cores: 1)" | "worker 1 killed successfully (pid: 18127)". Read the app\'s log'
        " (journalctl -t uwsgi-shop) and nginx's error.log for the cause."
    )


def test_lines_of_other_identifiers_are_left_out():
    other_app = journal([*START, *PACKAGE_MISSING, *GAME_OVER], ident="uwsgi-blog")
    own = journal([*START, *READY])
    assert uwsgi_diagnose(own + other_app, APP)["id"] == "unknown"
    # Without a line of its own identifier, or without a name, nothing is left out.
    assert uwsgi_diagnose(other_app, APP)["id"] == "2"
    assert uwsgi_diagnose(own + other_app, app(name=None))["id"] == "2"


@pytest.mark.parametrize("lines", [[], None, ""])
def test_empty_inputs(lines):
    result = uwsgi_diagnose(lines, {})
    assert result["id"] == "unknown"
    assert result["message"] == (
        "No known pitfall matched. Last log lines: none. Read the app's log"
        " (journalctl -t uwsgi-APP) and nginx's error.log for the cause."
    )
    assert uwsgi_diagnose(lines, {}, {}, [])["id"] == "unknown"


def test_unknown_quotes_nginx_when_the_log_is_empty():
    line = (
        "2026/11/21 13:39:20 [error] 1768#1768: *3 upstream timed out (110: Connection timed out)"
    )
    assert f'"{line}"' in uwsgi_diagnose([], APP, None, [line])["message"]


def test_journal_prefixes_and_multiline_messages():
    lines = [
        "2026-11-21T13:39:00+0000 web1 uwsgi-shop[4242]: Python version: 3.11.7 (main) [GCC]",
        # journald keeps a burst of lines as one message; -o json gives it with its newlines.
        'Traceback (most recent call last):\n  File "/srv/shop/code/wsgi.py", line 1\n'
        "ModuleNotFoundError: No module named 'wsgi2'\n" + VERDICT,
        "Nov  1 09:05:07 web1 uwsgi-shop[4242]: *** no app loaded. GAME OVER ***",
    ]
    result = uwsgi_diagnose(lines, app(wsgi_module="wsgi2"))
    assert (result["id"], result["line"]) == ("1a", "ModuleNotFoundError: No module named 'wsgi2'")
    as_text = uwsgi_diagnose("\n".join(failed_start(ENTRY_MISSING)), app(wsgi_module="wsgi2"))
    assert as_text["line"] == ENTRY_MISSING[0]


def test_lines_keep_their_own_prefixes():
    # Only the journal's prefix goes; a line quoted is otherwise verbatim.
    line = "[uwsgi-shop] ModuleNotFoundError: No module named 'wsgi2'  "
    result = uwsgi_diagnose([line], app(wsgi_module="wsgi2"))
    assert result["line"] == line.strip()


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        ((["x"], None), "app must be a dict"),
        ((["x"], "shop"), "app must be a dict"),
        ((["x"], APP, "refused"), "probe must be a dict"),
        (({"a": 1}, APP), "list of log lines"),
        ((["x"], APP, None, 5), "list of log lines"),
    ],
)
def test_refuses_bad_arguments(arguments, message):
    with pytest.raises(AnsibleFilterError, match=message):
        uwsgi_diagnose(*arguments)


def test_registered():
    assert FilterModule().filters()["uwsgi_diagnose"] is uwsgi_diagnose


def test_a_code_directory_the_sandbox_hides_is_named():
    app = {**APP, "root": "/home/shop", "unit": "uwsgi-emperor.service"}
    lines = journal(
        [
            *START,
            "chdir() to /home/shop/releases/abc/code",
            "chdir(): No such file or directory [core/uwsgi.c line 2662]",
        ]
    )
    result = uwsgi_diagnose(lines, app)
    assert result["id"] == "reach"
    assert result["message"].startswith(
        "Code out of the service's reach: \"chdir(): No such file or directory"
    )
    assert "cannot enter /home/shop/releases/abc/code" in result["message"]
    assert "app_root (/home/shop)" in result["message"]
    assert "uwsgi-emperor.service" in result["message"]
    # A worker's chdir2 after the app loaded counts too.
    late = journal([*START, *READY, "chdir() to /root", "chdir(): Permission denied [x]"])
    assert "cannot enter /root" in uwsgi_diagnose(late, app)["message"]


def test_an_answer_the_health_check_does_not_take_names_the_status_and_the_settings():
    app = {**APP, "health_path": "/", "health_host": "localhost"}
    invalid = (
        "Invalid HTTP_HOST header: 'localhost'. You may need to add 'localhost' to ALLOWED_HOSTS."
    )
    # uWSGI logs the request after the app logged why it refused it: the reason is the line.
    request = (
        "[pid: 8453|app: 0|req: 4/4] 127.0.0.1 () {26 vars in 254 bytes} [Sun Nov 29 18:17:43"
        " 2026] GET / => generated 167 bytes in 1 msecs (HTTP/1.1 400) 2 headers in 89 bytes"
    )
    lines = journal([*START, *READY, invalid, request])
    result = uwsgi_diagnose(lines, app, {"error": None, "status": 400})
    assert result["id"] == "status"
    assert result["line"] == invalid
    assert "The app answered 400 to GET / with Host localhost" in result["message"]
    assert "app_health_host" in result["message"] and "app_health_status" in result["message"]
    # What app_health_status accepts is not a failure.
    assert uwsgi_diagnose(lines, {**app, "health_status": [400]}, {"status": 400})["id"] != "status"
    # An app that says nothing: uWSGI's line for the request.
    quiet = uwsgi_diagnose(journal([*START, *READY, request]), app, {"status": 400})
    assert quiet["line"] == request


def test_a_worker_killed_by_what_it_shares_across_the_fork_points_at_lazy_apps():
    died = "DAMN ! worker 2 (pid: 4242) died, killed by signal 11 :( trying respawn ..."
    lines = journal([*START, *READY, died])
    result = uwsgi_diagnose(lines, {**APP, "lazy_apps": "False"}, {"error": "refused"})
    assert (result["id"], result["line"]) == ("fork", died)
    assert "app_lazy_apps: true" in result["message"]
    assert uwsgi_diagnose(lines, {**APP, "lazy_apps": "True"}, {"error": "refused"})["id"] != "fork"


def test_an_unknown_cause_still_quotes_the_decisive_line_and_a_setting():
    failed = "bind(): Address already in use [core/socket.c line 769]"
    lines = journal([*START, failed, "spawned uWSGI master process (pid: 12)"])
    result = uwsgi_diagnose(lines, APP, {"error": "refused", "error_message": "refused"})
    assert result["id"] == "unknown"
    assert f'The decisive line: "{failed}" (look at app_socket).' in result["message"]


# A canary of an app whose import sleeps 60 s, with app_health_timeout 20, as
# `journalctl --unit=uwsgi-canary-shop --output=short-iso-precise` showed it on Debian testing
# (systemd 258, uWSGI 2.0.31-debian, Python 3.14); uWSGI's start-up chatter trimmed.
def _canary(stamp, ident, line):
    return f"2026-12-07T07:08:{stamp}+00:00 uwsgi-pitfalls {ident}: {line}"


_RELEASE = "/srv/shop/releases/3b9d58291a5e"
SLOW_IMPORT = [
    _canary(
        "21.751140",
        "systemd[1]",
        f"Starting uwsgi-canary-shop.service - [systemd-run] /usr/bin/uwsgi-core --ini"
        f" {_RELEASE}/canary.ini...",
    ),
    *(
        _canary("21.794619", "uwsgi-core[5211]", line)
        for line in [
            f"[uWSGI] getting INI configuration from {_RELEASE}/canary.ini",
            "*** Starting uWSGI 2.0.31-debian (64bit) on [Mon Dec  7 07:08:21 2026] ***",
            f"chdir() to {_RELEASE}/code",
            "uwsgi socket 0 bound to UNIX address /run/uwsgi/shop/canary.sock fd 4",
            "Python version: 3.14.8 (main, Oct  1 2026, 19:55:55) [GCC 16.2.0]",
            "Python main interpreter initialized at 0x7f890d875900",
            "*** Operational MODE: preforking ***",
            f"added {_RELEASE}/code/ to pythonpath.",
        ]
    ),
    _canary(
        "41.857842",
        "systemd[1]",
        "uwsgi-canary-shop.service: start operation timed out. Terminating.",
    ),
]
SLOW_IMPORT_KILLED = [
    _canary("57.857974", "systemd[1]", f"uwsgi-canary-shop.service: {line}")
    for line in [
        "State 'stop-sigterm' timed out. Killing.",
        "Killing process 5211 (uwsgi-core) with signal SIGKILL.",
        "Main process exited, code=killed, status=9/KILL",
        "Failed with result 'timeout'.",
    ]
]
# With a longer stop timeout, the import ends meanwhile: uWSGI says how long it took.
SLOW_IMPORT_READY_LATE = [
    _canary(
        "59.000000",
        "uwsgi-core[5211]",
        "WSGI app 0 (mountpoint='') ready in 60 seconds on interpreter 0x7f5970d6f900 pid: 5211"
        " (default app)",
    ),
    _canary("59.000100", "uwsgi-core[5211]", "spawned uWSGI worker 1 (pid: 5212, cores: 1)"),
]
SYSTEMD_RUN_TIMEOUT = {
    "rc": 1,
    "stderr": "Job for uwsgi-canary-shop.service failed because a timeout was exceeded.\nSee"
    ' "systemctl status uwsgi-canary-shop.service" and "journalctl -xeu'
    ' uwsgi-canary-shop.service" for details.',
    "delta": "0:00:36.112731",
}


@pytest.mark.parametrize(
    ("lines", "expected"),
    [
        (
            SLOW_IMPORT + SLOW_IMPORT_KILLED,
            "had been importing the app for 20 s without finishing.",
        ),
        (
            SLOW_IMPORT + SLOW_IMPORT_READY_LATE + SLOW_IMPORT_KILLED,
            "had been importing the app for 20 s without finishing; it was ready 60 s after it"
            " began, too late.",
        ),
    ],
    ids=["killed", "ready-too-late"],
)
def test_an_import_slower_than_the_health_timeout_names_the_setting_and_the_time(lines, expected):
    result = uwsgi_diagnose(lines, app(health_timeout=20), start=SYSTEMD_RUN_TIMEOUT)
    assert result["id"] == "timeout"
    assert result["line"] == "uwsgi-canary-shop.service: start operation timed out. Terminating."
    assert result["message"].startswith(
        'Import slower than app_health_timeout: "uwsgi-canary-shop.service: start operation timed'
        ' out. Terminating.". The canary was still loading the app when app_health_timeout (20 s)'
        " ran out: uWSGI started at 07:08:21 and "
    )
    assert expected in result["message"]
    assert "Raise app_health_timeout" in result["message"]
    assert "No known pitfall" not in result["message"]


def test_a_timeout_without_times_says_the_timeout_from_systemd_runs_words():
    # --output=cat: no times; only systemd-run's own words say that it timed out.
    lines = [line.split(": ", 1)[1] for line in SLOW_IMPORT[:-1]]
    result = uwsgi_diagnose(lines, app(health_timeout=20), start=SYSTEMD_RUN_TIMEOUT)
    assert result["id"] == "timeout"
    assert result["line"].startswith("Job for uwsgi-canary-shop.service failed because a timeout")
    assert "importing the app for about 20 s without finishing" in result["fix"]


def test_a_timeout_after_the_app_was_ready_is_not_a_slow_import():
    ready = SLOW_IMPORT[:-1] + SLOW_IMPORT_READY_LATE + SLOW_IMPORT[-1:]
    result = uwsgi_diagnose(ready, app(health_timeout=20), start=SYSTEMD_RUN_TIMEOUT)
    assert result["id"] != "timeout"


def test_a_start_that_failed_otherwise_is_not_a_timeout():
    start = {
        "rc": 1,
        "stderr": "Job for uwsgi-canary-shop.service failed because the control"
        " process exited with error code.",
    }
    result = uwsgi_diagnose(failed_start(ENTRY_MISSING), app(wsgi_module="wsgi2"), start=start)
    assert result["id"] == "1a"


def test_start_must_be_a_result():
    with pytest.raises(AnsibleFilterError, match="start must be a dict"):
        uwsgi_diagnose([], APP, start="timeout")


NGINX_LIMITED = (
    '2026/12/07 14:38:15 [error] 535#535: *87 limiting connections by zone "pyops_shop", client:'
    ' 127.0.0.1, server: shop.test, request: "GET /report HTTP/1.1", host: "shop.test"'
)
NGINX_QUEUE_FULL = NGINX_DENIED.replace(
    "(13: Permission denied)", "(11: Resource temporarily unavailable)"
)


@pytest.mark.parametrize("line", [NGINX_LIMITED, NGINX_QUEUE_FULL.format(path=SOCKET)])
def test_a_burst_past_the_queue_names_app_listen(line):
    result = uwsgi_diagnose(journal([*START, *READY]), APP, {"error": None}, [*NGINX_OTHER, line])
    assert (result["id"], result["line"]) == ("queue", line)
    assert "app_listen" in result["fix"]
    assert "app_processes" in result["fix"]


def test_a_load_error_wins_over_the_queue_it_causes():
    log = journal([*START, "ModuleNotFoundError: No module named 'flask'"])
    result = uwsgi_diagnose(log, APP, None, [NGINX_LIMITED])
    assert result["id"] == "2"
