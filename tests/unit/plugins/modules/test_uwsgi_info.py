"""Tests for pyops.uwsgi.uwsgi_info.

The module runs as it does on a host, against this one: /proc, /etc/group, /usr/bin and a real
uWSGI (the pip-built one next to this Python, else a distribution's uwsgi-core on PATH). A few
shell scripts stand in for a uWSGI whose --help fails or prints given lines, and os/grp are
replaced where the host cannot show a case (no such Python, a group with members).
"""

from __future__ import annotations

import grp
import json
import os
import re
import shutil
import subprocess
import types
from pathlib import Path

import pytest
from ansible.module_utils import basic
from ansible_collections.pyops.uwsgi.plugins.modules import uwsgi_info
from ansible_collections.pyops.uwsgi.tests.unit.plugins.conftest import find_uwsgi
from ansible_collections.pyops.uwsgi.tests.unit.plugins.module_args import patch_module_args

# How the module asks uWSGI to load a plugin: --need-plugin fails where --plugin only warns.
PLUGIN = "--need-plugin="
DEBIAN_UWSGI = "/usr/bin/uwsgi-core"
DEBIAN_PLUGINS = "/usr/lib/uwsgi/plugins"


def real_uwsgi() -> str | None:
    """A uWSGI binary of any build that answers --help."""
    for candidate in (find_uwsgi(), shutil.which("uwsgi-core"), shutil.which("uwsgi")):
        if candidate is None:
            continue
        usage = subprocess.run(
            [candidate, "--help"], capture_output=True, text=True, timeout=10, check=False
        ).stdout
        if usage.startswith("Usage:"):
            return candidate
    return None


REAL_UWSGI = real_uwsgi()
needs_uwsgi = pytest.mark.skipif(
    REAL_UWSGI is None, reason="no uwsgi (pip install -r tests/unit/requirements.txt)"
)


@pytest.fixture
def run(capsys):
    """run(**options) -> the module's JSON result, with "rc" its exit code."""

    def invoke(**options):
        with patch_module_args(options), pytest.raises(SystemExit) as exited:
            uwsgi_info.main()
        result = json.loads(capsys.readouterr().out)
        result["rc"] = exited.value.code
        assert (result["rc"] != 0) == bool(result.get("failed"))
        return result

    return invoke


def write_script(path: Path, text: str) -> str:
    path.write_text(text)
    path.chmod(0o755)
    return str(path)


def help_of(binary: str, *args: str) -> str:
    return subprocess.run(
        [binary, *args, "--help"], capture_output=True, text=True, timeout=10, check=False
    ).stdout


def names_in(usage: str) -> set[str]:
    """Option names of a --help text, read another way than the module: the first word's --NAME."""
    names = set()
    for line in usage.splitlines()[1:]:
        words = line.split()
        if line.startswith("    ") and words:
            names.update(p[2:] for p in words[0].split("|") if p.startswith("--") and len(p) > 2)
    return names


# --- the whole module on this host ----------------------------------------------------------


def test_without_uwsgi(run):
    result = run()
    assert result["changed"] is False
    assert result["uwsgi_options"] is None
    assert result["somaxconn"] == int(Path("/proc/sys/net/core/somaxconn").read_text())
    try:
        assert result["group_members"] == grp.getgrnam("www-data").gr_mem
    except KeyError:  # no nginx here
        assert result["group_members"] == []
    assert all(re.match(r"^3\.[0-9]+$", version) for version in result["pythons"])
    if os.access("/usr/bin/python3", os.X_OK):
        assert result["python3"] in result["pythons"]
    else:
        assert result["python3"] == ""


def test_check_mode(run):
    result = run(_ansible_check_mode=True)
    assert result["changed"] is False
    assert "failed" not in result


@pytest.mark.parametrize("state", ["missing", "not-executable"])
def test_a_uwsgi_that_cannot_run_gives_null(run, tmp_path, state):
    binary = tmp_path / "uwsgi"
    if state == "not-executable":
        binary.write_text("#!/bin/sh\necho 'Usage: x'\necho '    --master  m'\n")
        binary.chmod(0o644)
    result = run(uwsgi=str(binary), plugins=["python3"])
    assert result["uwsgi_options"] is None
    assert "failed" not in result


def test_group_members_of_a_real_group(run):
    group = grp.getgrgid(os.getegid())
    assert run(group=group.gr_name)["group_members"] == list(group.gr_mem)
    assert run(group="no-such-group-x")["group_members"] == []


@needs_uwsgi
def test_options_of_a_real_uwsgi(run):
    options = run(uwsgi=REAL_UWSGI)["uwsgi_options"]
    assert {"socket", "master", "processes", "http-socket", "strict", "plugins-dir"} <= set(options)
    assert options == sorted(set(options))
    assert all(re.match(r"^[a-z0-9][a-z0-9_.-]*$", name) for name in options)
    # Every option the --help text lists, read another way, and nothing else.
    assert set(options) == names_in(help_of(REAL_UWSGI))
    assert len(options) > 500


@pytest.mark.skipif(
    not os.path.exists(f"{DEBIAN_PLUGINS}/python3_plugin.so") or not shutil.which("uwsgi-core"),
    reason="needs Debian's uwsgi-core and uwsgi-plugin-python3",
)
def test_a_plugin_adds_its_options(run):
    without = run(uwsgi=DEBIAN_UWSGI)["uwsgi_options"]
    loaded = run(uwsgi=DEBIAN_UWSGI, plugins_dir=DEBIAN_PLUGINS, plugins=["python3"])
    assert "wsgi-file" not in without
    assert {"wsgi-file", "module", "pythonpath"} <= set(loaded["uwsgi_options"])
    assert set(without) < set(loaded["uwsgi_options"])


@needs_uwsgi
@pytest.mark.parametrize("plugin_file", ["missing", "garbage"])
def test_a_plugin_that_does_not_load_fails_with_uwsgis_message(run, tmp_path, plugin_file):
    if plugin_file == "garbage":
        # As a plugin built for another uWSGI or a broken download would be.
        (tmp_path / "no_such_plugin.so").write_bytes(b"not an ELF file")
    result = run(uwsgi=REAL_UWSGI, plugins_dir=str(tmp_path), plugins=["no_such_plugin"])
    assert result.get("failed") is True
    assert "--help failed: " in result["msg"]
    assert re.search(r"(?i)unable to load (uwsgi )?plugin.*no_such_plugin", result["msg"])


# --- a uWSGI whose --help fails or prints given lines ---------------------------------------

# Records its arguments, prints state/out to stdout and state/err to stderr, exits with state/rc.
FAKE_UWSGI = """\
#!/bin/sh
printf '%s\\n' "$@" >'{state}/argv'
cat '{state}/out'
cat '{state}/err' >&2
exit "$(cat '{state}/rc')"
"""


@pytest.fixture
def fake_uwsgi(tmp_path, monkeypatch):
    # These tests are about uWSGI's answer: spare them starting the host's Python each run.
    monkeypatch.setattr(uwsgi_info, "_python3", lambda module: "3.11")
    state = tmp_path / "state"
    state.mkdir()

    def make(out="", err="", rc=0):
        (state / "out").write_text(out)
        (state / "err").write_text(err)
        (state / "rc").write_text(str(rc))
        return write_script(tmp_path / "uwsgi", FAKE_UWSGI.format(state=state))

    make.argv = lambda: (state / "argv").read_text().splitlines()
    return make


def test_plugins_are_passed_before_help(run, fake_uwsgi):
    binary = fake_uwsgi(out="Usage: uwsgi [options...]\n    --master   enable master process\n")
    result = run(uwsgi=binary, plugins_dir="/usr/local/lib/uwsgi", plugins=["python313", "syslog"])
    assert result["uwsgi_options"] == ["master"]
    assert fake_uwsgi.argv() == [
        "--plugins-dir",
        "/usr/local/lib/uwsgi",
        f"{PLUGIN}python313",
        f"{PLUGIN}syslog",
        "--help",
    ]


def test_no_plugins_just_help(run, fake_uwsgi):
    run(uwsgi=fake_uwsgi(out="Usage: uwsgi\n"))
    assert fake_uwsgi.argv() == ["--help"]


@pytest.mark.parametrize(
    ("answer", "last"),
    [
        (
            {
                "err": 'open("./bad_plugin.so"): No such file or directory\n'
                'unable to load plugin "bad"\n',
                "rc": 1,
            },
            'unable to load plugin "bad"',
        ),
        ({"out": "Usage: uwsgi\n", "err": "first\nsecond\n\n", "rc": 2}, "second"),
        ({"out": "some output\nits last line\n", "rc": 3}, "its last line"),
        ({"rc": 4}, "4"),
    ],
    ids=["stderr", "stderr-trailing-blank", "stdout-only", "silent"],
)
def test_a_failing_help_fails_with_uwsgis_last_line(run, fake_uwsgi, answer, last):
    binary = fake_uwsgi(**answer)
    result = run(uwsgi=binary, plugins=["bad"])
    assert result["failed"] is True
    assert result["msg"] == f"{binary} {PLUGIN}bad --help failed: {last}"
    assert result["argv"] == [binary, f"{PLUGIN}bad"]


@pytest.mark.parametrize(
    ("line", "names"),
    [
        ("    -s|--socket                bind to the specified UNIX/TCP socket", ["socket"]),
        ("    -p|--processes             spawn the specified number of workers", ["processes"]),
        ("    --master                   enable master process", ["master"]),
        ("    --http-socket-modifier1    force the specified modifier1", ["http-socket-modifier1"]),
        ("    --py-call-osafterfork      trap OS signals in forks", ["py-call-osafterfork"]),
        ("    -M|--master                enable master process", ["master"]),
        ("    --emperor-on-demand-extension  ...", ["emperor-on-demand-extension"]),
        ("--strict                         top level, no indent", ["strict"]),
        ("Usage: /usr/bin/uwsgi-core [options...]", []),
        ("", []),
        ("    bind to --socket in a wrapped description", []),
        ("    -s socket without the long form", []),
        ("    --                           nothing after the dashes", []),
        ("    ---triple                    three dashes", []),
        ("    --Upper                      not a uWSGI name", []),
    ],
    ids=lambda value: value.split()[0] if isinstance(value, str) and value.strip() else None,
)
def test_option_names_of_help_lines(run, fake_uwsgi, line, names):
    binary = fake_uwsgi(out=f"Usage: uwsgi [options...]\n{line}\n")
    assert run(uwsgi=binary)["uwsgi_options"] == names


def test_option_names_are_sorted_and_distinct(run, fake_uwsgi):
    out = "Usage: uwsgi\n    -s|--socket  a\n    --master  b\n    --socket  again\n    --chdir  c\n"
    assert run(uwsgi=fake_uwsgi(out=out))["uwsgi_options"] == ["chdir", "master", "socket"]


# --- the helpers where the host cannot show a case ------------------------------------------


class Failed(Exception):
    pass


class FakeModule:
    def __init__(self, rc=0, out="", err=""):
        self.answer = (rc, out, err)
        self.commands = []

    def run_command(self, argv):
        self.commands.append(argv)
        return self.answer

    def fail_json(self, **kwargs):
        raise Failed(kwargs)


def fake_os(monkeypatch, names=None, executable=True):
    """os as the module sees it: /usr/bin holding NAMES (None: unreadable)."""

    def listdir(path):
        assert path == "/usr/bin"
        if names is None:
            raise PermissionError(path)
        return list(names)

    replacement = types.SimpleNamespace(
        listdir=listdir, access=lambda path, mode: executable, X_OK=os.X_OK
    )
    monkeypatch.setattr(uwsgi_info, "os", replacement)


def test_pythons_sorted_by_version(monkeypatch):
    fake_os(
        monkeypatch,
        [
            "python3.9",
            "python3.13",
            "python3",
            "python3.11",
            "python3.13-config",
            "python3.11m",
            "python2.7",
            "pythonw",
            "python3.10",
            "xpython3.12",
            "python3.123",
        ],
    )
    assert uwsgi_info._pythons() == ["3.9", "3.10", "3.11", "3.13"]


@pytest.mark.parametrize("names", [None, []], ids=["unreadable", "empty"])
def test_no_pythons(monkeypatch, names):
    fake_os(monkeypatch, names)
    assert uwsgi_info._pythons() == []


def test_python3_version(monkeypatch):
    fake_os(monkeypatch, [])
    module = FakeModule(out="3.13\n")
    assert uwsgi_info._python3(module) == "3.13"
    [argv] = module.commands
    assert argv[0] == "/usr/bin/python3"


def test_no_python3(monkeypatch):
    fake_os(monkeypatch, [], executable=False)
    module = FakeModule()
    assert uwsgi_info._python3(module) == ""
    assert module.commands == []


def test_a_python3_that_does_not_tell_its_version(monkeypatch):
    fake_os(monkeypatch, [])
    with pytest.raises(Failed) as failed:
        uwsgi_info._python3(FakeModule(rc=1, err="Fatal Python error: init_fs_encoding\n"))
    [kwargs] = failed.value.args
    assert kwargs["msg"] == (
        "/usr/bin/python3 did not tell its version: Fatal Python error: init_fs_encoding"
    )


def test_members(monkeypatch):
    groups = {"www-data": types.SimpleNamespace(gr_mem=["alice", "bob"])}

    def getgrnam(name):
        return groups[name]

    monkeypatch.setattr(uwsgi_info, "grp", types.SimpleNamespace(getgrnam=getgrnam))
    assert uwsgi_info._members("www-data") == ["alice", "bob"]
    assert uwsgi_info._members("nginx") == []


def test_somaxconn(monkeypatch, tmp_path):
    real_open = open
    proc = tmp_path / "somaxconn"
    proc.write_text("4096\n")

    def fake_open(path, *args, **kwargs):
        assert path == "/proc/sys/net/core/somaxconn"
        return real_open(proc, *args, **kwargs)

    monkeypatch.setattr(uwsgi_info, "open", fake_open, raising=False)
    assert uwsgi_info._somaxconn() == 4096


# --- timers' calendars, judged by systemd-analyze ---------------------------------------------

needs_systemd_analyze = pytest.mark.skipif(
    shutil.which("systemd-analyze") is None, reason="no systemd-analyze on this host"
)


@needs_systemd_analyze
def test_calendars_systemd_takes_and_refuses(run):
    found = run(calendars=["daily", "*:*:0/10", "every tuesday", "2001-01-01"])["calendars"]
    assert found["daily"]["valid"] is True
    assert found["daily"]["normalized"] == "*-*-* 00:00:00"
    assert found["*:*:0/10"]["next"] not in ("", "never")
    assert found["every tuesday"] == {
        "valid": False,
        "normalized": "",
        "next": "",
        "message": "Failed to parse calendar specification 'every tuesday': Invalid argument",
    }
    # Taken, but in the past: it never elapses.
    assert (found["2001-01-01"]["valid"], found["2001-01-01"]["next"]) == (True, "never")


@needs_systemd_analyze
def test_no_calendars_asked_none_read(run):
    assert run()["calendars"] == {}


def test_without_systemd_analyze_calendars_are_null(run, monkeypatch):
    monkeypatch.setattr(basic.AnsibleModule, "get_bin_path", lambda self, name, *a, **k: None)
    assert run(calendars=["daily"])["calendars"] is None
