"""How the app's commands, workers and jobs run: their sandbox, systemd-run's and ExecStart= words.

The quoting was checked on systemd 252 and 257: a unit's ExecStart= and a systemd-run command line
made here reached a Python that printed its argv, equal to the list given.
"""

from __future__ import annotations

import pytest
from ansible_collections.pyops.uwsgi.plugins.module_utils import sandbox

SERVICE = {
    "Type": "notify",
    "User": "shop",
    "Group": "shop",
    "ExecStart": "/usr/bin/uwsgi-core --ini /etc/uwsgi/services/shop.ini",
    "ExecReload": "/bin/kill -HUP $MAINPID",
    "KillSignal": "SIGINT",
    "RuntimeDirectory": "uwsgi-app-shop",
    "ReadWritePaths": ["/run/uwsgi/shop", "/var/lib/shop"],
    "RemoveIPC": True,
    "ProtectSystem": "strict",
    "CapabilityBoundingSet": "",
    "IPAddressDeny": None,
    "SystemCallFilter": ["@system-service", "~@privileged @resources"],
    "Environment": "TZ=UTC",
}
AWKWARD = ["$HOME", "${HOME}", "$$", "%n", "%%", ";", "a b", "", "  sp  ", 'q"q', "it's"]
AWKWARD += ["back\\slash", "\\n", "line\nbreak", "tab\tx", "end\\", "-x", "@x", "é☃", "\x01"]


def test_a_command_keeps_the_sandbox_but_not_uwsgis_lifecycle():
    kept = sandbox.settings(SERVICE, ["/srv/shop/releases/1/code"])
    assert "Type" not in kept and "ExecStart" not in kept and "RuntimeDirectory" not in kept
    assert kept["User"] == "shop" and kept["ProtectSystem"] == "strict"
    assert kept["ReadWritePaths"] == ["/srv/shop/releases/1/code"]
    # Its end must not remove the IPC objects of the app still serving.
    assert kept["RemoveIPC"] is False
    assert kept["Environment"] == "TZ=UTC"
    assert sandbox.settings(SERVICE, [])["ReadWritePaths"] is None


def test_systemd_run_properties_repeat_lists_and_write_booleans_as_systemd_does():
    properties = sandbox.run_properties(sandbox.settings(SERVICE, ["/a", "/b"]))
    assert "ReadWritePaths=/a" in properties and "ReadWritePaths=/b" in properties
    assert "SystemCallFilter=~@privileged @resources" in properties
    assert "RemoveIPC=no" in properties and "CapabilityBoundingSet=" in properties
    assert not [item for item in properties if item.startswith("IPAddressDeny")]


def test_systemd_run_doubles_dollars_and_finds_the_program_through_env():
    argv = sandbox.run_argv(
        sandbox.settings(SERVICE, []),
        ["flask", "--app", "flaskr", "$X"],
        working_directory="/srv/shop/releases/1/code",
        env={"PATH": "/srv/shop/releases/1/venv/bin:/usr/bin"},
        environment_file="/etc/uwsgi/env/shop.env",
        description="shop release command 1",
        timeout=60,
    )
    assert argv[:6] == [
        "systemd-run",
        "--wait",
        "--pipe",
        "--collect",
        "--quiet",
        "--service-type=exec",
    ]
    assert argv[argv.index("--") :] == [
        "--",
        "/usr/bin/env",
        "--",
        "flask",
        "--app",
        "flaskr",
        "$$X",
    ]
    assert "--working-directory=/srv/shop/releases/1/code" in argv
    assert "--setenv=PATH=/srv/shop/releases/1/venv/bin:/usr/bin" in argv
    pairs = list(zip(argv, argv[1:]))
    assert ("--property", "EnvironmentFile=/etc/uwsgi/env/shop.env") in pairs
    assert ("--property", "RuntimeMaxSec=60") in pairs
    assert ("--property", "User=shop") in pairs


def test_execstart_words_are_quoted_and_escaped():
    assert sandbox.unit_word("a b") == '"a b"'
    assert sandbox.unit_word('q"\\') == '"q\\"\\\\"'
    assert sandbox.unit_word("%n $X") == '"%%n $$X"'
    assert sandbox.unit_word("line\nbreak\x01") == '"line\\nbreak\\x01"'
    assert sandbox.unit_word("$X", dollars=False) == '"$X"'


def test_execstart_of_awkward_arguments_has_no_line_break_and_starts_with_env():
    line = sandbox.unit_exec(AWKWARD)
    assert "\n" not in line and "\r" not in line
    assert line.startswith('"/usr/bin/env" "--" "$$HOME" "$${HOME}" "$$$$" "%%n" "%%%%" ";"')
    # Every word is one double-quoted string: as many as the arguments, plus env and --.
    assert line.count('" "') == len(AWKWARD) + 1


def test_unit_environment_escapes_specifiers_not_variables():
    assert sandbox.unit_environment({"PATH": "/srv/a%b/venv/bin", "X": "$Y"}) == [
        '"PATH=/srv/a%%b/venv/bin"',
        '"X=$Y"',
    ]


@pytest.mark.parametrize(("text", "escaped"), [("/srv/100%", "/srv/100%%"), ("/srv/a", "/srv/a")])
def test_specifiers(text, escaped):
    assert sandbox.specifiers(text) == escaped
