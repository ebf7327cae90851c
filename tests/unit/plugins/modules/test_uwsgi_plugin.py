"""Tests for pyops.uwsgi.uwsgi_plugin.

Most tests run the module against a fake interpreter and a fake uWSGI (shell scripts in tmp_path)
whose "build" writes a dummy plugin in a blink. ``test_real_build`` builds the real plugin for
/usr/bin/python3 with Debian's uwsgi-core and uwsgi-src (apt-get install uwsgi-dev python3-dev),
loads it into uWSGI and runs Python in it; it skips where those are not installed.
"""

from __future__ import annotations

import grp
import hashlib
import json
import os
import pwd
import shutil
import stat
import subprocess
from pathlib import Path

import pytest
from ansible_collections.pyops.uwsgi.plugins.modules import uwsgi_plugin
from ansible_collections.pyops.uwsgi.tests.unit.plugins.module_args import run_main

OWNER = pwd.getpwuid(os.geteuid()).pw_name
GROUP = grp.getgrgid(os.getegid()).gr_name

FAKE_PYTHON = """\
#!/bin/sh
exec cat '{state}/facts.json'
"""

# Stands in for uwsgi-core: --version, and --build-plugin "<dir> <name>" writing <name>_plugin.so
# into the current directory, unless told to fail. Every build appends a line to state/calls.
FAKE_UWSGI = """\
#!/bin/sh
state='{state}'
if [ "$1" = --version ]; then
  cat "$state/uwsgi-version"
  exit "$(cat "$state/version-rc")"
fi
[ "$1" = --build-plugin ] || exit 64
printf '%s|%s|%s\\n' "$PWD" "$PYTHON" "$2" >>"$state/calls"
cat "$state/build-output"
if [ -e "$state/build-writes-so" ]; then
  printf 'fake plugin, build %s\\n' "$(wc -l <"$state/calls")" >"${{2##* }}_plugin.so"
fi
exit "$(cat "$state/build-rc")"
"""

FACTS = {
    "version": "3.11.2",
    "build": "3.11.2 (main, Apr 28 2025, 14:11:48) [GCC 12.2.0]",
    "abi": "cpython-311-x86_64-linux-gnu",
    "short": "3.11",
}


def write_script(path: Path, text: str) -> str:
    path.write_text(text)
    path.chmod(0o755)
    return str(path)


class FakeHost:
    """An interpreter, a uWSGI binary, sources, headers and a compiler, all fake, in tmp_path."""

    def __init__(self, root: Path) -> None:
        self.state = root / "state"
        self.state.mkdir()
        bin_dir = root / "bin"
        bin_dir.mkdir()
        self.include = root / "include"
        self.include.mkdir()
        (self.include / "Python.h").write_text("/* fake */\n")
        self.src = root / "src"
        (self.src / "plugins" / "python").mkdir(parents=True)
        (self.src / "plugins" / "python" / "uwsgiplugin.py").write_text("NAME = 'python'\n")
        self.python = write_script(bin_dir / "python3.11", FAKE_PYTHON.format(state=self.state))
        self.uwsgi = write_script(bin_dir / "uwsgi", FAKE_UWSGI.format(state=self.state))
        self.compiler = write_script(bin_dir / "fake-cc", "#!/bin/sh\nexit 0\n")
        self.dest = root / "plugins"
        self.set_facts(**FACTS, include=str(self.include), cc=self.compiler)
        self.set_uwsgi_version("2.0.30")
        self.set_build(rc=0, output="*** fake plugin built ***\n")

    def set_facts(self, **changes) -> None:
        path = self.state / "facts.json"
        facts = json.loads(path.read_text()) if path.exists() else {}
        facts.update(changes)
        path.write_text(json.dumps(facts))

    def set_uwsgi_version(self, version: str, rc: int = 0) -> None:
        (self.state / "uwsgi-version").write_text(version + "\n")
        (self.state / "version-rc").write_text(str(rc))

    def set_build(self, rc: int = 0, output: str = "", writes_so: bool = True) -> None:
        (self.state / "build-rc").write_text(str(rc))
        (self.state / "build-output").write_text(output)
        flag = self.state / "build-writes-so"
        if writes_so:
            flag.touch()
        elif flag.exists():
            flag.unlink()

    def builds(self) -> list[list[str]]:
        calls = self.state / "calls"
        return (
            [line.split("|") for line in calls.read_text().splitlines()] if calls.exists() else []
        )

    def args(self, **overrides) -> dict:
        args = {
            "python": self.python,
            "uwsgi": self.uwsgi,
            "src": str(self.src),
            "dest": str(self.dest),
            "owner": OWNER,
            "group": GROUP,
        }
        args.update(overrides)
        return args

    @property
    def plugin(self) -> Path:
        return self.dest / "python311_plugin.so"

    @property
    def record(self) -> Path:
        return self.dest / "python311_plugin.json"

    def edit_record(self, **changes) -> None:
        record = json.loads(self.record.read_text())
        record.update(changes)
        self.record.write_text(json.dumps(record))

    def drop_from_record(self, key: str) -> None:
        record = json.loads(self.record.read_text())
        del record[key]
        self.record.write_text(json.dumps(record))


@pytest.fixture
def host(tmp_path, monkeypatch) -> FakeHost:
    monkeypatch.delenv("CC", raising=False)
    return FakeHost(tmp_path)


@pytest.fixture
def run(capsys):
    """Run the module with these args; return its result, failed or not."""

    def run_module(args: dict, check_mode: bool = False, diff: bool = False) -> dict:
        args = dict(args, _ansible_check_mode=check_mode, _ansible_diff=diff)
        return run_main(uwsgi_plugin.main, capsys, args)[0]

    return run_module


def mode_of(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


# --- building and installing -----------------------------------------------------------------


def test_first_run_builds_installs_and_records(host, run):
    result = run(host.args())

    assert result["changed"] is True
    assert result["rebuilt"] is True
    assert result["reason"] == "not built yet"
    assert result["plugin"] == str(host.plugin)
    assert result["build_seconds"] >= 0
    assert result["build_log"] == ["*** fake plugin built ***"]
    assert host.plugin.read_text() == "fake plugin, build 1\n"
    assert (
        json.loads(host.record.read_text())
        == result["record"]
        == {
            "python": host.python,
            "python_version": "3.11.2",
            "python_build": FACTS["build"],
            "abi": "cpython-311-x86_64-linux-gnu",
            "uwsgi": host.uwsgi,
            "uwsgi_version": "2.0.30",
            "plugin_sha256": result["record"]["plugin_sha256"],
        }
    )
    assert result["record"]["plugin_sha256"] == hashlib.sha256(host.plugin.read_bytes()).hexdigest()
    assert mode_of(host.plugin) == mode_of(host.record) == 0o644
    assert mode_of(host.dest) == 0o755
    assert sorted(p.name for p in host.dest.iterdir()) == [host.record.name, host.plugin.name]

    [(cwd, python, spec)] = host.builds()
    assert spec == f"{host.src}/plugins/python python311"
    assert python == host.python
    # A scratch directory of its own, gone afterwards.
    assert cwd != str(host.dest)
    assert not os.path.exists(cwd)


def test_second_run_changes_nothing(host, run):
    run(host.args())
    result = run(host.args())

    assert result["changed"] is False
    assert result["rebuilt"] is False
    assert result["reason"] == ""
    assert result["build_seconds"] == 0
    assert "build_log" not in result
    assert result["record"] == json.loads(host.record.read_text())
    assert len(host.builds()) == 1


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        pytest.param(
            lambda host: host.set_facts(version="3.11.9"),
            "Python changed: 3.11.2 -> 3.11.9",
            id="python-version",
        ),
        pytest.param(
            lambda host: host.set_facts(build="3.11.2 (main, Jun 1 2025) [GCC 12.2.0]"),
            f"Python build changed: {FACTS['build']} -> 3.11.2 (main, Jun 1 2025) [GCC 12.2.0]",
            id="python-build",
        ),
        pytest.param(
            lambda host: host.set_facts(abi="cpython-311d-x86_64-linux-gnu"),
            "Python ABI changed: cpython-311-x86_64-linux-gnu -> cpython-311d-x86_64-linux-gnu",
            id="abi",
        ),
        pytest.param(
            lambda host: host.set_uwsgi_version("2.0.31"),
            "uWSGI changed: 2.0.30 -> 2.0.31",
            id="uwsgi-version",
        ),
        pytest.param(
            lambda host: host.edit_record(python="/usr/bin/python3.11"),
            "interpreter changed: /usr/bin/python3.11 -> {python}",
            id="python-path",
        ),
        pytest.param(
            lambda host: host.edit_record(uwsgi="/usr/local/bin/uwsgi"),
            "uWSGI binary changed: /usr/local/bin/uwsgi -> {uwsgi}",
            id="uwsgi-path",
        ),
        pytest.param(
            lambda host: host.plugin.write_text("tampered\n"),
            "plugin file differs from the record",
            id="plugin-changed",
        ),
        pytest.param(
            lambda host: host.plugin.unlink(),
            "plugin file is missing",
            id="plugin-missing",
        ),
        pytest.param(
            lambda host: host.record.unlink(),
            "the record of what the plugin was built against is missing",
            id="record-missing",
        ),
        pytest.param(
            lambda host: host.record.write_text("{not json"),
            "the record of what the plugin was built against is unreadable",
            id="record-garbage",
        ),
        pytest.param(
            lambda host: host.record.write_text("[1, 2]"),
            "the record of what the plugin was built against is unreadable",
            id="record-not-a-dict",
        ),
        pytest.param(
            lambda host: host.drop_from_record("python_version"),
            "Python changed: None -> 3.11.2",
            id="record-lacks-a-field",
        ),
    ],
)
def test_a_change_rebuilds_once(host, run, change, reason):
    run(host.args())
    change(host)

    result = run(host.args())
    assert result["changed"] is True
    assert result["rebuilt"] is True
    assert result["reason"] == reason.format(python=host.python, uwsgi=host.uwsgi)
    assert len(host.builds()) == 2
    assert host.plugin.read_text() == "fake plugin, build 2\n"
    assert json.loads(host.record.read_text()) == result["record"]

    again = run(host.args())
    assert again["changed"] is False
    assert len(host.builds()) == 2


def test_force_rebuilds(host, run):
    run(host.args())
    result = run(host.args(force=True))

    assert result["changed"] is True
    assert result["reason"] == "forced"
    assert len(host.builds()) == 2


def test_mode_drift_is_fixed_without_a_rebuild(host, run):
    run(host.args())
    host.plugin.chmod(0o600)
    host.record.chmod(0o755)

    result = run(host.args())
    assert result["changed"] is True
    assert result["rebuilt"] is False
    assert result["reason"] == ""
    assert mode_of(host.plugin) == mode_of(host.record) == 0o644
    assert len(host.builds()) == 1


@pytest.mark.skipif(os.geteuid() != 0, reason="changing a file's owner needs root")
def test_owner_drift_is_fixed_without_a_rebuild(host, run):
    run(host.args(owner="root", group="root"))
    os.chown(host.plugin, 1, 1)

    check = run(host.args(owner="root", group="root"), check_mode=True)
    assert check["changed"] is True
    assert host.plugin.stat().st_uid == 1

    result = run(host.args(owner="root", group="root"))
    assert result["changed"] is True
    assert result["rebuilt"] is False
    assert (host.plugin.stat().st_uid, host.plugin.stat().st_gid) == (0, 0)
    assert len(host.builds()) == 1


@pytest.mark.parametrize("mode", ["0640", "640", 0o640])
def test_mode_as_string_or_number(host, run, mode):
    run(host.args(mode=mode))
    assert mode_of(host.plugin) == mode_of(host.record) == 0o640
    assert run(host.args(mode=mode))["changed"] is False


def test_name_and_default_name(host, run):
    named = run(host.args(name="shop_py"))
    assert named["plugin"] == str(host.dest / "shop_py_plugin.so")
    assert (host.dest / "shop_py_plugin.json").is_file()
    assert host.builds()[-1][2].endswith("/plugins/python shop_py")

    host.set_facts(short="3.13")
    derived = run(host.args())
    assert derived["plugin"] == str(host.dest / "python313_plugin.so")


def test_failed_rebuild_keeps_the_old_plugin(host, run):
    run(host.args())
    plugin, record = host.plugin.read_bytes(), host.record.read_bytes()
    host.set_uwsgi_version("2.0.31")
    host.set_build(rc=2, output="boom\n")

    result = run(host.args())
    assert result["failed"] is True
    assert host.plugin.read_bytes() == plugin
    assert host.record.read_bytes() == record
    assert sorted(p.name for p in host.dest.iterdir()) == [host.record.name, host.plugin.name]


# --- check mode and diff mode ----------------------------------------------------------------


def test_check_mode_reports_a_build_without_building(host, run):
    result = run(host.args(), check_mode=True, diff=True)

    assert result["changed"] is True
    assert result["rebuilt"] is True
    assert result["reason"] == "not built yet"
    assert result["record"]["plugin_sha256"] is None
    assert result["record"]["uwsgi_version"] == "2.0.30"
    assert result["diff"]["before"] == ""
    assert json.loads(result["diff"]["after"]) == result["record"]
    assert not host.dest.exists()
    assert host.builds() == []


def test_check_mode_leaves_an_outdated_plugin_alone(host, run):
    run(host.args())
    plugin, record = host.plugin.read_bytes(), host.record.read_bytes()
    host.set_facts(version="3.11.9")
    host.plugin.chmod(0o600)

    result = run(host.args(), check_mode=True)
    assert result["changed"] is True
    assert result["reason"] == "Python changed: 3.11.2 -> 3.11.9"
    assert host.plugin.read_bytes() == plugin
    assert host.record.read_bytes() == record
    assert mode_of(host.plugin) == 0o600
    assert len(host.builds()) == 1


def test_check_mode_when_up_to_date(host, run):
    run(host.args())
    result = run(host.args(), check_mode=True)
    assert result["changed"] is False
    assert result["rebuilt"] is False


def test_diff_shows_the_record(host, run):
    first = run(host.args(), diff=True)
    assert first["diff"]["before"] == ""
    assert first["diff"]["after"] == host.record.read_text()
    old = host.record.read_text()

    host.set_uwsgi_version("2.0.31")
    second = run(host.args(), diff=True)
    assert second["diff"]["before"] == old
    assert second["diff"]["after"] == host.record.read_text()
    assert '"uwsgi_version": "2.0.31"' in second["diff"]["after"]

    third = run(host.args(), diff=True)
    assert third["diff"]["before"] == third["diff"]["after"]


# --- state=absent ----------------------------------------------------------------------------


def test_absent_removes_plugin_and_record(host, run):
    run(host.args())
    record_text = host.record.read_text()

    check = run(host.args(state="absent"), check_mode=True, diff=True)
    assert check["changed"] is True
    assert check["diff"] == {
        "before_header": str(host.record),
        "after_header": str(host.record),
        "before": record_text,
        "after": "",
    }
    assert host.plugin.exists()
    assert host.record.exists()

    result = run(host.args(state="absent"))
    assert result["changed"] is True
    assert result["record"] == {}
    assert list(host.dest.iterdir()) == []

    assert run(host.args(state="absent"))["changed"] is False


def test_absent_after_the_interpreter_is_gone(host, run):
    unversioned = str(Path(host.python).with_name("python3"))
    shutil.copy(host.python, unversioned)
    run(host.args())
    run(host.args(python=unversioned, name="shop_py"))
    os.unlink(host.python)
    os.unlink(unversioned)

    # Named pythonX.Y, the interpreter's path still gives the plugin's name.
    assert run(host.args(state="absent"))["changed"] is True
    assert not host.plugin.exists()
    assert not host.record.exists()

    result = run(host.args(state="absent", python=unversioned))
    assert result["failed"] is True
    assert "set name" in result["msg"]
    assert run(host.args(state="absent", python=unversioned, name="shop_py"))["changed"] is True
    assert list(host.dest.iterdir()) == []


# --- failures, all before anything is written ------------------------------------------------


def assert_failed_cleanly(host, result, *fragments):
    assert result["failed"] is True
    for fragment in fragments:
        assert fragment in result["msg"]
    assert not host.dest.exists()


def test_interpreter_missing_names_the_debian_package(host, run):
    result = run(host.args(python="/usr/bin/python3.99"))
    assert_failed_cleanly(
        host, result, "/usr/bin/python3.99", "install the python3.99 package (Debian/Ubuntu)"
    )


def test_interpreter_missing_elsewhere(host, run):
    result = run(host.args(python="/opt/nowhere/bin/python3"))
    assert_failed_cleanly(host, result, "/opt/nowhere/bin/python3 is missing", "set python")


def test_interpreter_not_executable(host, run):
    os.chmod(host.python, 0o644)
    result = run(host.args())
    assert_failed_cleanly(host, result, f"{host.python} is missing or not executable")


def test_interpreter_that_cannot_answer(host, run, tmp_path):
    broken = write_script(
        tmp_path / "python2.7", "#!/bin/sh\necho 'Unknown option: -I' >&2\nexit 2\n"
    )
    result = run(host.args(python=broken))
    assert_failed_cleanly(host, result, f"{broken} failed to report", "rc=2")
    assert "Unknown option" in result["stderr"]


def test_headers_missing_names_the_dev_package(host, run):
    (host.include / "Python.h").unlink()
    result = run(host.args())
    assert_failed_cleanly(host, result, "Python.h is missing", "install python3.11-dev")


def test_sources_missing(host, run, tmp_path):
    result = run(host.args(src=str(tmp_path / "no-src")))
    assert_failed_cleanly(host, result, "uwsgiplugin.py is missing", "install uwsgi-src")


def test_sources_path_with_a_space(host, run, tmp_path):
    spaced = tmp_path / "my src"
    shutil.copytree(host.src, spaced)
    result = run(host.args(src=str(spaced)))
    assert_failed_cleanly(host, result, "white space")


def test_uwsgi_missing(host, run, tmp_path):
    missing = str(tmp_path / "uwsgi-core")
    result = run(host.args(uwsgi=missing))
    assert_failed_cleanly(host, result, f"the uWSGI binary {missing} is missing", "uwsgi-core")


def test_uwsgi_that_cannot_tell_its_version(host, run):
    host.set_uwsgi_version("", rc=1)
    result = run(host.args())
    assert_failed_cleanly(host, result, "--version failed (rc=1)")


def test_compiler_missing(host, run):
    host.set_facts(cc="no-such-compiler-x -pthread")
    result = run(host.args())
    assert_failed_cleanly(
        host, result, "compiles with no-such-compiler-x", "was built with", "install gcc"
    )


def test_compiler_from_cc(host, run, monkeypatch, tmp_path):
    monkeypatch.setenv("CC", f"{tmp_path}/nowhere/cc -m64")
    result = run(host.args())
    assert_failed_cleanly(host, result, f"compiles with {tmp_path}/nowhere/cc ($CC)", "install gcc")

    monkeypatch.setenv("CC", host.compiler)
    host.set_facts(cc="no-such-compiler-x")
    assert run(host.args())["rebuilt"] is True


def test_build_error_shows_the_last_lines(host, run):
    output = "".join(f"compiler line {number:02d}\n" for number in range(1, 31))
    host.set_build(rc=1, output=output, writes_so=False)
    result = run(host.args())

    assert_failed_cleanly(host, result, "building the python311 plugin failed (rc=1)")
    assert result["rc"] == 1
    assert result["build_log"] == [f"compiler line {number:02d}" for number in range(11, 31)]
    assert "compiler line 30" in result["msg"]
    assert "compiler line 11" in result["msg"]
    assert "compiler line 10" not in result["msg"]


def test_build_without_a_plugin_file(host, run):
    host.set_build(rc=0, output="nothing built\n", writes_so=False)
    result = run(host.args())
    assert_failed_cleanly(host, result, "rc=0 but no python311_plugin.so", "nothing built")


@pytest.mark.parametrize(
    ("output", "hint"),
    [
        (
            ".uwsgi_plugins_builder/uwsgi.h:329:10: fatal error: sys/capability.h: No such file"
            " or directory\ncompilation terminated.\n",
            "the header sys/capability.h is missing: install uwsgi-dev",
        ),
        (
            "ModuleNotFoundError: No module named 'distutils'\n",
            "has no distutils, which this uwsgiplugin.py imports: install python3-distutils",
        ),
    ],
)
def test_build_error_names_the_fix(host, run, output, hint):
    host.set_build(rc=1, output=output, writes_so=False)
    assert_failed_cleanly(host, run(host.args()), hint)


@pytest.mark.parametrize(
    ("args", "fragment"),
    [
        ({"mode": "0664"}, "mode 0664 lets others than the owner replace the plugin"),
        ({"mode": "0646"}, "mode 0646 lets others"),
        ({"mode": 0o666}, "mode 0666 lets others"),
        ({"mode": "u=rw,g=r,o=r"}, "mode must be an octal number"),
        ({"mode": "04644"}, "is not a permission mode from 0000 to 0777"),
        ({"mode": 644}, "quote it"),
        ({"name": "Python3"}, "is not a plugin name"),
        ({"name": "3py"}, "is not a plugin name"),
        ({"name": "py-3"}, "is not a plugin name"),
        ({"name": ""}, "is not a plugin name"),
        ({"owner": "no-such-user-x"}, "owner no-such-user-x does not exist"),
        ({"group": "no-such-group-x"}, "group no-such-group-x does not exist"),
    ],
)
def test_bad_options(host, run, args, fragment):
    assert_failed_cleanly(host, run(host.args(**args)), fragment)
    assert host.builds() == []


def test_dest_that_is_a_file(host, run):
    host.dest.write_text("")
    result = run(host.args())
    assert result["failed"] is True
    assert "is not a directory" in result["msg"]


# --- the real thing --------------------------------------------------------------------------

REAL_PYTHON = "/usr/bin/python3"
REAL_UWSGI = "/usr/bin/uwsgi-core"
REAL_SRC = "/usr/src/uwsgi"


def real_build_unavailable() -> str:
    """Why a real build cannot run here, or "" when it can."""
    for path in (REAL_PYTHON, REAL_UWSGI, f"{REAL_SRC}/plugins/python/uwsgiplugin.py"):
        if not os.path.exists(path):
            return f"{path} is missing (apt-get install uwsgi-dev python3-dev)"
    include = subprocess.run(
        [REAL_PYTHON, "-c", "import sysconfig; print(sysconfig.get_paths()['include'])"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    if not os.path.exists(os.path.join(include, "Python.h")):
        return f"{include}/Python.h is missing (apt-get install python3-dev)"
    return ""


def python_in_plugin(plugin_dir: Path, name: str, workdir: Path) -> str:
    """Run Python inside uWSGI with the plugin loaded; return that Python's sys.version."""
    script = workdir / "version.py"
    script.write_text("import json, sys\nprint('SYS_VERSION=' + json.dumps(sys.version))\n")
    completed = subprocess.run(
        [REAL_UWSGI, "--plugins-dir", str(plugin_dir), "--plugin", name, "--pyrun", str(script)],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=workdir,
        check=False,
    )
    # uWSGI sends the script's stdout to its log, on stderr.
    for line in (completed.stdout + completed.stderr).splitlines():
        if line.startswith("SYS_VERSION="):
            return json.loads(line.split("=", 1)[1])
    raise AssertionError(f"uWSGI ran no Python (rc={completed.returncode}):\n{completed.stderr}")


def test_real_build(tmp_path, run, monkeypatch):
    unavailable = real_build_unavailable()
    if unavailable:
        pytest.skip(unavailable)
    monkeypatch.delenv("CC", raising=False)
    dest = tmp_path / "plugins"
    args = {"python": REAL_PYTHON, "dest": str(dest), "owner": OWNER, "group": GROUP}

    first = run(args)
    assert not first.get("failed"), first["msg"]
    assert first["rebuilt"] is True
    assert first["reason"] == "not built yet"
    assert first["build_seconds"] > 0
    record = first["record"]
    name = Path(first["plugin"]).name[: -len("_plugin.so")]
    assert name == "python" + record["python_version"].rsplit(".", 1)[0].replace(".", "")
    assert record["uwsgi"] == REAL_UWSGI
    assert python_in_plugin(dest, name, tmp_path) == record["python_build"]

    second = run(args)
    assert second["changed"] is False
    assert second["rebuilt"] is False

    # As after a distribution rebuild of the same Python version.
    record_path = dest / f"{name}_plugin.json"
    stale = json.loads(record_path.read_text())
    stale["python_build"] = record["python_version"] + " (main, Jan 1 2020, 00:00:00) [GCC 1.0]"
    record_path.write_text(json.dumps(stale))

    third = run(args)
    assert third["rebuilt"] is True
    assert third["reason"].startswith("Python build changed: ")
    assert json.loads(record_path.read_text())["python_build"] == record["python_build"]
    assert python_in_plugin(dest, name, tmp_path) == record["python_build"]

    fourth = run(args)
    assert fourth["changed"] is False
    assert fourth["rebuilt"] is False
