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
import pwd
import re
import shutil
import subprocess
import threading
import time
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


@needs_uwsgi
def test_version_of_a_real_uwsgi(run):
    version = subprocess.run(
        [REAL_UWSGI, "--version"], capture_output=True, text=True, timeout=10, check=True
    ).stdout.strip()
    assert re.match(r"^2\.\d", version)
    assert run(uwsgi=REAL_UWSGI)["uwsgi_version"] == version
    assert run()["uwsgi_version"] is None


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

# Records its arguments, prints state/out to stdout and state/err to stderr, exits with state/rc;
# --version alone answers as uWSGI does.
FAKE_UWSGI = """\
#!/bin/sh
[ "$*" = --version ] && echo 2.0.28-debian && exit 0
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
    assert result["uwsgi_version"] == "2.0.28-debian"
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


def fake_host(tmp_path, monkeypatch, cgroup, limits, mem_total_kb=4 * 2**20):
    """A /proc and /sys/fs/cgroup under tmp_path: this process in CGROUP (the text of
    /proc/self/cgroup), LIMITS the files of memory limits there ({relative path: text})."""
    proc, sys_cgroup = tmp_path / "proc", tmp_path / "cgroup"
    (proc / "self").mkdir(parents=True)
    (proc / "meminfo").write_text(f"MemTotal:       {mem_total_kb} kB\nMemFree:  1 kB\n")
    (proc / "self" / "cgroup").write_text(cgroup)
    for path, text in limits.items():
        (sys_cgroup / path).parent.mkdir(parents=True, exist_ok=True)
        (sys_cgroup / path).write_text(text)
    monkeypatch.setattr(uwsgi_info, "_PROC", str(proc))
    monkeypatch.setattr(uwsgi_info, "_CGROUP", str(sys_cgroup))


def test_memory_is_memtotal_without_a_limit(monkeypatch, tmp_path):
    fake_host(tmp_path, monkeypatch, "0::/system.slice/x.service\n", {"memory.max": "max\n"})
    assert uwsgi_info._memory_mb() == 4096


def test_memory_is_a_smaller_limit_of_a_group_above_cgroup_v2(monkeypatch, tmp_path):
    # A container limited to 1 GiB; systemd inside runs the module in a group below it.
    fake_host(
        tmp_path,
        monkeypatch,
        "0::/docker/abc/system.slice/x.service\n",
        {
            "docker/abc/memory.max": f"{2**30}\n",
            "docker/abc/system.slice/memory.max": "max\n",
            "docker/abc/system.slice/x.service/memory.max": "max\n",
        },
    )
    assert uwsgi_info._memory_mb() == 1024


def test_memory_limit_of_cgroup_v1_and_no_limit_there(monkeypatch, tmp_path):
    cgroup = "4:memory:/docker/abc/init.scope\n1:name=systemd:/docker/abc/init.scope\n"
    fake_host(
        tmp_path, monkeypatch, cgroup, {"memory/docker/abc/memory.limit_in_bytes": "536870912\n"}
    )
    assert uwsgi_info._memory_mb() == 512
    # v1 says "no limit" with a huge number.
    fake_host(
        tmp_path / "again", monkeypatch, cgroup,
        {"memory/docker/abc/memory.limit_in_bytes": "9223372036854771712\n"},
    )  # fmt: skip
    assert uwsgi_info._memory_mb() == 4096


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


# --- the state of paths, accounts and packages --------------------------------------------------


def test_paths_as_they_are_a_link_not_what_it_points_to(run, tmp_path):
    shared = tmp_path / "shared"
    shared.mkdir()
    shared.chmod(0o2750)
    config = tmp_path / "app.ini"
    config.write_text("[uwsgi]\n")
    config.chmod(0o640)
    (tmp_path / "current").symlink_to("releases/abc")
    me = pwd.getpwuid(os.getuid()).pw_name
    # Under a file where a directory should be: not there either.
    below_file = str(config / "site.conf")
    asked = [
        str(shared),
        str(config),
        str(tmp_path / "current"),
        str(tmp_path / "none"),
        below_file,
    ]
    found = run(paths=asked)["paths"]
    assert found[str(shared)]["type"] == "directory"
    assert found[str(shared)]["mode"] == "2750"
    assert found[str(shared)]["owner"] == me
    assert found[str(config)] == {
        "exists": True,
        "type": "file",
        "mode": "0640",
        "owner": me,
        "group": grp.getgrgid(os.getgid()).gr_name,
        "size": 8,
        "mtime": config.stat().st_mtime,
    }
    # Dangling, and still reported as the link it is.
    assert found[str(tmp_path / "current")]["type"] == "link"
    assert found[str(tmp_path / "current")]["target"] == "releases/abc"
    assert found[str(tmp_path / "none")] == {"exists": False}
    assert found[below_file] == {"exists": False}


def test_texts_byte_for_byte_and_null_when_missing(run, tmp_path):
    config = tmp_path / "app.ini"
    text = "[uwsgi]\nenv = A=100%% é\n\n"
    config.write_bytes(text.encode())
    found = run(texts=[str(config), str(tmp_path / "none")])["texts"]
    assert found == {str(config): text, str(tmp_path / "none"): None}


@pytest.mark.parametrize(
    ("data", "message"),
    [(b"\xff\xfe", "is not UTF-8 text"), (b"x" * ((1 << 20) + 1), "too large to read whole")],
)
def test_texts_that_are_not_configuration_fail(run, tmp_path, data, message):
    odd = tmp_path / "odd"
    odd.write_bytes(data)
    result = run(texts=[str(odd)])
    assert result["failed"] and message in result["msg"]


def test_entries_sorted_with_their_type(run, tmp_path):
    releases = tmp_path / "releases"
    releases.mkdir()
    (releases / "b").mkdir()
    (releases / "a").write_text("")
    (releases / "c").symlink_to("b")
    found = run(directories=[str(releases), str(tmp_path / "none")])["entries"]
    assert [(e["name"], e["type"]) for e in found[str(releases)]] == [
        ("a", "file"),
        ("b", "directory"),
        ("c", "link"),
    ]
    assert found[str(releases)][1]["mtime"] == (releases / "b").stat().st_mtime
    assert found[str(tmp_path / "none")] is None


def test_users_and_groups(run, monkeypatch):
    me = pwd.getpwuid(os.getuid())
    group = grp.getgrgid(os.getgid()).gr_name
    found = run(users=[me.pw_name, "no-such-user-here"], groups=[group, "no-such-group-here"])
    mine = found["users"][me.pw_name]
    assert (mine["uid"], mine["home"], mine["shell"]) == (me.pw_uid, me.pw_dir, me.pw_shell)
    assert mine["group"] == grp.getgrgid(me.pw_gid).gr_name
    assert found["users"]["no-such-user-here"] is None
    assert found["groups"] == {group: {"gid": os.getgid()}, "no-such-group-here": None}


@pytest.mark.parametrize(
    ("shadow", "locked"),
    [
        ("shop:!:19000:0:99999:7:::\n", True),
        ("shop:!$6$salt$hash:19000::::::\n", False),
        (None, None),
    ],
)
def test_a_locked_password_is_exactly_an_exclamation_mark(monkeypatch, shadow, locked):
    monkeypatch.setattr(
        uwsgi_info.pwd,
        "getpwnam",
        lambda name: types.SimpleNamespace(
            pw_uid=998,
            pw_gid=0,
            pw_dir="/srv/shop",
            pw_shell="/usr/sbin/nologin",
            pw_gecos="pyops.uwsgi app shop",
        ),
    )
    if shadow is None:
        monkeypatch.setattr(uwsgi_info, "_shadow", lambda: None)
    else:
        monkeypatch.setattr(uwsgi_info, "_shadow", lambda: dict([shadow.split(":")[:2]]))
    assert uwsgi_info._users(["shop"])["shop"]["password_locked"] is locked


def test_shadow_fields_read_from_the_file(monkeypatch, tmp_path):
    shadow = tmp_path / "shadow"
    shadow.write_text("root:*:19000:0:99999:7:::\nshop:!:19000::::::\n")
    real_open = open
    monkeypatch.setattr(
        "builtins.open",
        lambda path, *a, **k: real_open(shadow if path == "/etc/shadow" else path, *a, **k),
    )
    assert uwsgi_info._shadow() == {"root": "*", "shop": "!"}


def test_packages_apt_knows_in_one_question(run, tmp_path, monkeypatch):
    apt_cache = write_script(
        tmp_path / "apt-cache",
        "#!/bin/sh\n"
        f'echo "$@" >> {tmp_path}/asked\n'
        "printf 'Package: python3.13\\nVersion: 1\\n\\nPackage: python3.13-dev\\nVersion: 1\\n'\n"
        "echo 'E: No packages found' >&2\nexit 100\n",
    )
    monkeypatch.setattr(basic.AnsibleModule, "get_bin_path", lambda self, name, *a, **k: apt_cache)
    found = run(packages=["python3.13", "python3.13-dev", "python3.13-venv"])["packages"]
    assert found == {"python3.13": True, "python3.13-dev": True, "python3.13-venv": False}
    asked = (tmp_path / "asked").read_text().splitlines()
    assert asked == ["show --no-all-versions python3.13 python3.13-dev python3.13-venv"]


def test_no_packages_asked_none_looked_up(run, monkeypatch):
    monkeypatch.setattr(basic.AnsibleModule, "get_bin_path", lambda self, name, *a, **k: None)
    assert run()["packages"] == {}
    assert run(packages=["python3.13"])["packages"] is None


@pytest.mark.skipif(shutil.which("dpkg-query") is None, reason="no dpkg on this host")
def test_installed_packages_of_this_host(run):
    # dpkg itself is installed wherever dpkg-query is.
    found = run(installed=["dpkg", "no-such-package-here"])["installed"]
    assert found == {"dpkg": True, "no-such-package-here": False}


def test_installed_is_status_ii_alone(run, tmp_path, monkeypatch):
    dpkg_query = write_script(
        tmp_path / "dpkg-query",
        "#!/bin/sh\n"
        "printf 'nginx ii \\nuwsgi-core rc \\nlibc6:amd64 ii \\nlibc6:i386 un \\n"
        "python3 hi \\nuwsgi iU \\ngit iiR\\n'\n"
        "echo 'dpkg-query: no packages found matching gone' >&2\nexit 1\n",
    )
    monkeypatch.setattr(basic.AnsibleModule, "get_bin_path", lambda self, name, *a, **k: dpkg_query)
    found = run(installed=["nginx", "uwsgi-core", "libc6", "gone", "python3", "uwsgi", "git"])
    # Removed but not purged (rc), unpacked (iU) or to be reinstalled (R) is not installed; one
    # architecture installed is, and so is a package on hold (hi).
    assert found["installed"] == {
        "nginx": True,
        "uwsgi-core": False,
        "libc6": True,
        "gone": False,
        "python3": True,
        "uwsgi": False,
        "git": False,
    }
    assert run()["installed"] == {}


def test_services_as_systemd_shows_them(run, tmp_path, monkeypatch):
    systemctl = write_script(
        tmp_path / "systemctl",
        "#!/bin/sh\n"
        f'echo "$@" > {tmp_path}/asked\n'
        "printf 'LoadState=loaded\\nActiveState=active\\nUnitFileState=enabled\\n\\n'\n"
        "printf 'LoadState=not-found\\nActiveState=inactive\\nUnitFileState=\\n'\n",
    )
    monkeypatch.setattr(basic.AnsibleModule, "get_bin_path", lambda self, name, *a, **k: systemctl)
    found = run(services=["nginx", "gone.service"])["services"]
    assert found == {
        "nginx": {"LoadState": "loaded", "ActiveState": "active", "UnitFileState": "enabled"},
        "gone.service": {"LoadState": "not-found", "ActiveState": "inactive", "UnitFileState": ""},
    }
    assert (tmp_path / "asked").read_text().split() == [
        "show",
        "--property=LoadState,ActiveState,UnitFileState",
        "--",
        "nginx",
        "gone.service",
    ]
    assert run()["services"] == {}


def test_services_null_where_systemd_does_not_answer(run, tmp_path, monkeypatch):
    systemctl = write_script(tmp_path / "systemctl", "#!/bin/sh\necho 'Host is down' >&2\nexit 1\n")
    monkeypatch.setattr(basic.AnsibleModule, "get_bin_path", lambda self, name, *a, **k: systemctl)
    assert run(services=["nginx"])["services"] is None


# --- an app's processes -------------------------------------------------------------------------

ME = pwd.getpwuid(os.geteuid())


def uwsgi_argv(title: str, room: int = 64) -> bytes:
    """/proc/PID/cmdline of a process uWSGI titled: the title, a NUL, spaces to argv's old
    length, a NUL (uwsgi_set_processname in core/utils.c)."""
    return title.encode() + b"\0" + b" " * (room - len(title)) + b"\0"


def fake_processes(tmp_path, monkeypatch, processes):
    """A /proc under tmp_path with PROCESSES ({pid: (effective uid, cmdline bytes)})."""
    fake_host(tmp_path, monkeypatch, "0::/\n", {})
    for pid, (uid, cmdline) in processes.items():
        directory = tmp_path / "proc" / str(pid)
        directory.mkdir()
        # Real, effective, saved and filesystem uids: a worker dropped from root has all four.
        (directory / "status").write_text(f"Name:\tuwsgi\nUid:\t0\t{uid}\t{uid}\t{uid}\n")
        (directory / "cmdline").write_bytes(cmdline)


SERVED = {
    4242: (ME.pw_uid, uwsgi_argv("hello 38c4bd74 uWSGI master")),
    4250: (ME.pw_uid, uwsgi_argv("hello 38c4bd74 uWSGI worker 1")),
    4251: (ME.pw_uid, uwsgi_argv("hello 38c4bd74 uWSGI worker 2")),
    4300: (ME.pw_uid, uwsgi_argv("hello canary uWSGI worker 1")),
    # Before it titles itself, and what else the app's user runs: not uWSGI's titles.
    4400: (ME.pw_uid, b"/usr/bin/uwsgi\0--ini\0/etc/uwsgi/services/hello.ini\0"),
    4401: (ME.pw_uid, b"celery\0-A\0hello\0worker\0"),
    # A kernel thread has no cmdline; another user's uWSGI is not the app's.
    4402: (ME.pw_uid, b""),
    4500: (ME.pw_uid + 1, uwsgi_argv("hello 38c4bd74 uWSGI worker 3")),
}


def test_processes_of_an_app_as_fields(run, tmp_path, monkeypatch):
    fake_processes(tmp_path, monkeypatch, SERVED)
    result = run(app="hello", app_user=ME.pw_name)
    assert result["rc"] == 0, result
    assert [(p["pid"], p["generation"], p["kind"], p["number"]) for p in result["processes"]] == [
        (4242, "38c4bd74", "master", None),
        (4250, "38c4bd74", "worker", 1),
        (4251, "38c4bd74", "worker", 2),
        (4300, "canary", "worker", 1),
    ]
    assert result["processes"][1] == {
        "pid": 4250,
        "name": "hello",
        "generation": "38c4bd74",
        "canary": False,
        "kind": "worker",
        "number": 1,
        "title": "hello 38c4bd74 uWSGI worker 1",
    }
    assert "attempts" not in result
    # Without app, no processes are read.
    assert run()["processes"] is None


def test_wait_for_a_generation_that_runs(run, tmp_path, monkeypatch):
    fake_processes(tmp_path, monkeypatch, SERVED)
    result = run(
        app="hello", app_user=ME.pw_name, wait_for="generation", generation="38c4bd74", wait=5
    )
    assert result["rc"] == 0, result
    assert (result["attempts"], len(result["processes"])) == (1, 4)


def test_wait_for_a_generation_runs_out_naming_the_processes_in_the_way(run, tmp_path, monkeypatch):
    fake_processes(tmp_path, monkeypatch, SERVED)
    result = run(
        app="hello",
        app_user=ME.pw_name,
        wait_for="generation",
        generation="5fcaec61",
        wait=0.3,
        interval=0.1,
    )
    assert result["rc"] == 1
    assert result["attempts"] >= 3
    assert result["msg"] == (
        f"{result['attempts']} tries in {result['waited']:.1f} s (wait 0.3 s), none accepted;"
        " the last: 3 of 3 do not run generation 5fcaec61: hello 38c4bd74 uWSGI master"
        " (pid 4242), hello 38c4bd74 uWSGI worker 1 (pid 4250), hello 38c4bd74 uWSGI worker 2"
        " (pid 4251)"
    )
    assert len(result["processes"]) == 4


def test_wait_for_stopped_checks_once_without_wait(run, tmp_path, monkeypatch):
    fake_processes(tmp_path, monkeypatch, SERVED)
    result = run(app="hello", app_user=ME.pw_name, wait_for="stopped")
    assert result["rc"] == 1
    assert result["attempts"] == 1
    assert result["msg"].startswith("3 uWSGI master or worker of hello still run: hello 38c4bd74")
    canary_only = {pid: item for pid, item in SERVED.items() if pid >= 4300}
    fake_processes(tmp_path / "later", monkeypatch, canary_only)
    result = run(app="hello", app_user=ME.pw_name, wait_for="stopped")
    assert result["rc"] == 0, result
    assert [p["pid"] for p in result["processes"]] == [4300]


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"app": "hello", "app_user": "no-such-user-pyops"}, "app_user 'no-such-user-pyops': no"),
        ({"wait_for": "stopped"}, "missing parameter(s) required by 'wait_for': app"),
        ({"app": "hello", "wait_for": "generation"}, "wait_for is generation but all of"),
        ({"app": "hello", "wait": 5}, "wait needs wait_for"),
        ({"app": "hello", "wait_for": "stopped", "wait": -1}, "wait must be 0 seconds"),
        ({"app": "hello", "wait_for": "stopped", "interval": 0}, "interval must be more than 0"),
    ],
)
def test_refused_process_options(run, options, message):
    result = run(**options)
    assert result["rc"] == 1
    assert message in result["msg"]


@pytest.mark.skipif(os.geteuid() != 0, reason="runs processes as another uid")
def test_wait_on_real_processes_until_a_reload_is_done(run, monkeypatch):
    """Real processes titled as uWSGI titles them (bash's exec -a), of a uid of their own: the
    old generation's are replaced by the new one's while the module waits."""
    uid = 64999
    account = types.SimpleNamespace(pw_uid=uid, pw_name="pyops-titles")
    monkeypatch.setattr(
        uwsgi_info,
        "pwd",
        types.SimpleNamespace(getpwnam=lambda name: account, getpwuid=pwd.getpwuid),
    )

    def start(*titles):
        return [
            subprocess.Popen(["bash", "-c", f"exec -a '{title}' sleep 30"], user=uid)
            for title in titles
        ]

    old = start("titles 0ld0ld00 uWSGI master", "titles 0ld0ld00 uWSGI worker 1")
    new = []

    def reload():
        for process in old:
            process.kill()
            process.wait()
        new.extend(start("titles 5fcaec61 uWSGI master", "titles 5fcaec61 uWSGI worker 1"))

    timer = threading.Timer(0.4, reload)
    try:
        deadline = time.monotonic() + 5
        while len(run(app="titles", app_user="pyops-titles")["processes"]) < 2:
            assert time.monotonic() < deadline, "the processes did not title themselves"
            time.sleep(0.05)
        timer.start()
        result = run(
            app="titles", app_user="pyops-titles", wait_for="generation", generation="5fcaec61",
            wait=10, interval=0.1,
        )  # fmt: skip
        assert result["rc"] == 0, result
        assert result["attempts"] > 1
        assert [(p["generation"], p["kind"]) for p in result["processes"]] == [
            ("5fcaec61", "master"),
            ("5fcaec61", "worker"),
        ]
        for process in new:
            process.kill()
            process.wait()
        result = run(app="titles", app_user="pyops-titles", wait_for="stopped", wait=5)
        assert (result["rc"], result["processes"]) == (0, [])
    finally:
        timer.cancel()
        timer.join()
        for process in old + new:
            process.kill()
            process.wait()
