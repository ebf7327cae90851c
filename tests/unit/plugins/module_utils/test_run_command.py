"""pyops-run (module_utils/run_command.py): its arguments, the app's record, systemd-run's command
line, and the script as the host runs it (the standard library alone)."""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys

import pytest
from ansible_collections.pyops.uwsgi.plugins.module_utils import run_command
from ansible_collections.pyops.uwsgi.tests.unit.plugins import stand_in

Refusal = run_command.Refusal


def planned(**overrides):
    result = stand_in.app(**overrides)
    assert result["errors"] == []
    return result["plan"]


def record_of(plan):
    return run_command.check_record(plan["run"]["text"], plan["name"])


# --- Arguments -----------------------------------------------------------------------------------


def test_the_command_follows_the_app_and_its_options():
    request = run_command.parse(
        ["shop", "--env", "TOKEN", "-e", "MODE=fast", "--env=LANG", "--", "python", "-V"],
        {"TOKEN": "s3cret", "LANG": "C.UTF-8"},
    )
    assert request == {
        "action": "run",
        "app": "shop",
        # A name alone: systemd-run takes the value from its own environment, off any command line.
        "env": {"TOKEN": None, "MODE": "fast", "LANG": None},
        "command": ["python", "-V"],
    }


def test_without_the_double_dash_the_first_word_starts_the_command():
    request = run_command.parse(["shop", "flask", "--app", "x", "shell"], {})
    assert request["command"] == ["flask", "--app", "x", "shell"]
    # After --, options are the command's.
    assert run_command.parse(["shop", "--", "-e", "x"], {})["command"] == ["-e", "x"]


REFUSED = {
    "no-command": (["shop"], "no command to run as shop"),
    "no-command-after-dashes": (["shop", "--"], "no command to run as shop"),
    "unknown-option": (["shop", "--user", "root", "--", "id"], "unknown option --user"),
    "bad-app": (["../etc", "--", "id"], "is not an app's name"),
    "unset-name": (["shop", "--env", "TOKEN", "--", "id"], "TOKEN is not set"),
    "bad-name": (["shop", "-e", "A-B=1", "--", "id"], "a variable's name"),
    "env-without-value": (["shop", "--env"], "takes NAME or NAME=VALUE"),
    "list-with-words": (["--list", "shop"], "--list takes no arguments"),
}


@pytest.mark.parametrize("case", sorted(REFUSED))
def test_a_wrong_command_line_is_refused_as_usage(case):
    args, message = REFUSED[case]
    with pytest.raises(Refusal) as caught:
        run_command.parse(args, {})
    assert caught.value.status == run_command.EXIT_USAGE
    assert message in caught.value.message


def test_the_refusals_have_statuses_of_their_own():
    statuses = [value for name, value in vars(run_command).items() if name.startswith("EXIT_")]
    assert len(statuses) == len(set(statuses)) and 0 not in statuses


# --- The record, from the app's plan -------------------------------------------------------------


def test_the_record_runs_the_command_as_the_release_commands_run():
    plan = planned(app_env={"DJANGO_SECRET_KEY": "x"}, app_state_dir="/var/lib/hello")
    record = record_of(plan)
    properties = record["properties"]
    assert "User=hello" in properties and "Group=hello" in properties
    assert f"EnvironmentFile={plan['environment']['file']}" in properties
    # The release commands' sandbox: the app's writable paths, no IPC removal when it ends.
    release = plan["phases"]["release"]["sandbox"]
    assert "ProtectSystem=strict" in properties and "RemoveIPC=no" in properties
    assert properties.count("ReadWritePaths=/var/lib/hello") == 1
    assert release["ReadWritePaths"] == ["/var/lib/hello"]
    assert not any(
        item.startswith(("ExecStart=", "Type=", "WorkingDirectory=")) for item in properties
    )
    assert record["current"] == plan["paths"]["current"]
    assert record["releases"] == plan["paths"]["releases"]
    assert record["reserved"] == ["DJANGO_SECRET_KEY", "PATH", "VIRTUAL_ENV"]
    assert plan["run"]["file"] == "/etc/uwsgi/run/hello.json"
    # No value of app_env: the record names its file.
    assert "x" not in json.dumps(record["reserved"])


def test_the_record_follows_the_app_s_own_unit_settings():
    record = record_of(planned(app_systemd_options={"MemoryMax": "300M"}))
    assert "MemoryMax=300M" in record["properties"]


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("{", "is not JSON"),
        ('{"app": "hello"}', "is not an app's record"),
        ("[]", "is not an app's record"),
    ],
)
def test_a_record_this_pyops_run_cannot_read_names_the_fix(text, message):
    with pytest.raises(Refusal) as caught:
        run_command.check_record(text, "hello")
    assert caught.value.status == run_command.EXIT_BAD_RECORD
    assert message in caught.value.message and "deploy the app again" in caught.value.message


def test_a_record_of_another_version_or_app_is_refused():
    plan = planned()
    newer = {**json.loads(plan["run"]["text"]), "version": run_command.RECORD_VERSION + 1}
    for text, app in ((json.dumps(newer), "hello"), (plan["run"]["text"], "shop")):
        with pytest.raises(Refusal) as caught:
            run_command.check_record(text, app)
        assert caught.value.status == run_command.EXIT_BAD_RECORD


# --- The release serving -------------------------------------------------------------------------

RECORD = {
    "version": 1,
    "app": "shop",
    "current": "/srv/shop/current",
    "releases": "/srv/shop/releases",
    "system_path": "/usr/bin:/bin",
    "properties": ["User=shop", "Group=shop", "EnvironmentFile=/etc/uwsgi/env/shop.0a1b.env"],
    "reserved": ["PATH", "SECRET_KEY", "VIRTUAL_ENV"],
}
BUILT = {"/srv/shop/releases/r1/code", "/srv/shop/releases/r1/venv/bin"}


@pytest.mark.parametrize("target", ["/srv/shop/releases/r1", "releases/r1", "./releases/r1/"])
def test_the_release_is_where_current_points(target):
    assert run_command.release_dir(RECORD, target, BUILT.__contains__) == "/srv/shop/releases/r1"


@pytest.mark.parametrize(
    ("target", "built", "message"),
    [
        (None, BUILT, "shop has no release serving (/srv/shop/current is missing)"),
        ("/tmp/r1", BUILT, "which is not a release of /srv/shop/releases"),
        ("releases/r1", {"/srv/shop/releases/r1/code"}, "with its code and virtualenv"),
    ],
)
def test_without_a_release_serving_nothing_runs(target, built, message):
    with pytest.raises(Refusal) as caught:
        run_command.release_dir(RECORD, target, built.__contains__)
    assert caught.value.status == run_command.EXIT_NO_RELEASE
    assert message in caught.value.message and "deploy shop" in caught.value.message


# --- systemd-run's command line -----------------------------------------------------------------


def argv(command, env=None, tty=False):
    request = {"action": "run", "app": "shop", "env": env or {}, "command": command}
    return run_command.systemd_run_argv(RECORD, "/srv/shop/releases/r1", request, tty=tty)


def test_the_command_runs_as_the_app_in_the_release_and_waits():
    line = argv(["python", "manage.py", "shell"])
    head, words = line[: line.index("--")], line[line.index("--") + 1 :]
    assert head[:5] == ["systemd-run", "--wait", "--collect", "--quiet", "--service-type=exec"]
    assert "--pipe" in head and "--pty" not in head
    assert "--working-directory=/srv/shop/releases/r1/code" in head
    assert "--setenv=PATH=/srv/shop/releases/r1/venv/bin:/usr/bin:/bin" in head
    assert "--setenv=VIRTUAL_ENV=/srv/shop/releases/r1/venv" in head
    for item in RECORD["properties"]:
        assert head[head.index(item) - 1] == "--property"
    assert words == ["/usr/bin/env", "--", "python", "manage.py", "shell"]


def test_a_terminal_makes_it_interactive():
    line = argv(["bash"], tty=True)
    assert "--pty" in line and "--pipe" not in line


def test_every_word_reaches_the_command_as_written():
    line = argv(["echo", "$HOME", "${X}", "$$", "a b", "%n"])
    assert line[-5:] == ["$$HOME", "$${X}", "$$$$", "a b", "%n"]


def test_a_variable_passed_by_name_stays_off_the_command_line():
    line = argv(["id"], env={"TOKEN": None, "MODE": "fast"})
    assert "--setenv=TOKEN" in line and "--setenv=MODE=fast" in line


@pytest.mark.parametrize("name", ["SECRET_KEY", "PATH", "VIRTUAL_ENV"])
def test_a_name_app_env_or_the_virtualenv_sets_is_refused(name):
    with pytest.raises(Refusal) as caught:
        argv(["id"], env={name: None})
    assert caught.value.status == run_command.EXIT_USAGE
    assert f"--env {name}: set by shop's app_env or its virtualenv" in caught.value.message


# --- main, with a record and a release on disk ---------------------------------------------------


@pytest.fixture
def host(tmp_path, monkeypatch):
    """A record of app shop in a records directory under TMP_PATH, its release built."""
    records = tmp_path / "run"
    records.mkdir()
    release = tmp_path / "srv/shop/releases/r1"
    (release / "code").mkdir(parents=True)
    (release / "venv/bin").mkdir(parents=True)
    os.symlink(release, tmp_path / "srv/shop/current")
    record = {
        **RECORD,
        "current": str(tmp_path / "srv/shop/current"),
        "releases": str(tmp_path / "srv/shop/releases"),
    }
    (records / "shop.json").write_text(json.dumps(record))
    monkeypatch.setattr(run_command, "RECORD_DIR", str(records))
    return tmp_path


def run_main(args, euid=0, environ=None):
    calls, out, err = [], io.StringIO(), io.StringIO()

    def execvp(program, argv):
        calls.append(argv)

    status = run_command.main(
        args, environ=environ or {}, euid=euid, execvp=execvp, out=out, err=err
    )
    return status, calls, out.getvalue(), err.getvalue()


def test_root_becomes_systemd_run(host):
    status, calls, _out, err = run_main(["shop", "--", "python", "-V"])
    assert (status, err) == (0, "")
    assert calls[0][0] == "systemd-run"
    assert f"--working-directory={host}/srv/shop/releases/r1/code" in calls[0]


def test_another_user_is_refused_before_anything_is_read(host):
    status, calls, _out, err = run_main(["shop", "--", "id"], euid=1000)
    assert (status, calls) == (run_command.EXIT_NOT_ROOT, [])
    assert err == "pyops-run: only root may run a command as an app: run it with sudo\n"


def test_an_unknown_app_names_the_list(host):
    status, calls, _out, err = run_main(["blog", "--", "id"])
    assert (status, calls) == (run_command.EXIT_UNKNOWN_APP, [])
    assert "no app blog on this host" in err and "pyops-run --list" in err
    assert err.count("\n") == 1


def test_an_app_whose_current_is_gone_is_told_to_deploy(host):
    (host / "srv/shop/current").unlink()
    status, _calls, _out, err = run_main(["shop", "--", "id"])
    assert status == run_command.EXIT_NO_RELEASE and "deploy shop" in err


def test_a_missing_systemd_run_is_said(host, monkeypatch):
    def execvp(program, argv):
        raise FileNotFoundError(2, "No such file or directory", program)

    err = io.StringIO()
    status = run_command.main(["shop", "--", "id"], environ={}, euid=0, execvp=execvp, err=err)
    assert status == run_command.EXIT_NO_SYSTEMD_RUN
    assert err.getvalue().startswith("pyops-run: cannot start systemd-run:")


def test_list_names_each_app_and_the_release_it_serves(host):
    (host / "run/blog.json").write_text(
        json.dumps({**RECORD, "app": "blog", "current": str(host / "srv/blog/current")})
    )
    (host / "run/old.json").write_text("{")
    status, _calls, out, _err = run_main(["--list"])
    assert status == 0
    lines = out.splitlines()
    assert lines[0].startswith(f"old\t({host}/run/old.json is not JSON")
    assert lines[1:] == [
        "blog\t(no release serving)",
        f"shop\tr1\t{host}/srv/shop/releases/r1/code",
    ]


def test_help_is_for_everyone_and_no_arguments_is_a_usage_error():
    assert run_main(["--help"], euid=1000)[0] == 0
    status, _calls, out, _err = run_main([], euid=1000)
    assert status == run_command.EXIT_USAGE and out.startswith("usage: pyops-run APP")


# --- As the host runs it -----------------------------------------------------------------------


def test_the_file_runs_alone_on_the_standard_library(tmp_path):
    # As the role installs it: a #! line above this very file, run outside the collection.
    script = tmp_path / "pyops-run"
    with open(run_command.__file__, encoding="utf-8") as handle:
        script.write_text("#!/usr/bin/python3\n" + handle.read())
    done = subprocess.run(
        [sys.executable, "-I", "-S", str(script), "--help"],
        capture_output=True,
        text=True,
        check=False,
        cwd=tmp_path,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("usage: pyops-run APP")
