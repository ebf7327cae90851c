"""ini_value against a model of uWSGI's ini reading and against real uWSGI binaries.

The real runs start a uWSGI (PyPI's 2.0.31 with Python built in, found like the other tests find
it, and Debian's uwsgi-core with its python3 plugin when installed) on an ini written with
ini_value, and compare what it parsed (``--show-config``) and what the app sees in os.environ with
the values. Each run is one short-lived process (about 0.1 s) that exits by itself.
"""

from __future__ import annotations

import json
import os
import random
import re
import subprocess
from pathlib import Path

import pytest
from ansible_collections.pyops.uwsgi.plugins.module_utils import uwsgi_literal as lit
from ansible_collections.pyops.uwsgi.plugins.module_utils.uwsgi_literal import (
    EMPTY_PLACEHOLDER,
    IMMEDIATE_OPTIONS,
    env_ini_value,
    envdir_content,
    ini_value,
)

# --- a model of uWSGI 2.0.x reading one ini value ---------------------------------------------
# Written from the behaviour documented in uwsgi_literal's docstring. It is pessimistic: every
# $(NAME) has an environment variable, every @(PATH) a file and every %(NAME) an option, so any
# expansion at all shows up in the result.

MAGIC = {"%": "%", "(": "%(", "d": "<dir>", "n": "<name>", "k": "<cores>", "[": "\x1b"}


def _magic_sub(text: str) -> str:
    out, i = [], 0
    while i < len(text):
        if text[i] == "%" and i + 1 < len(text):
            out.append(MAGIC.get(text[i + 1], ""))
            i += 2
        else:
            out.append(text[i])
            i += 1
    return "".join(out)


def _placeholder(key: str) -> str | None:
    if " " not in key:
        return f"<option {key}>"
    # placeholder math: a name that is no option counts as empty; "=" is never an option
    tokens = [t for t in key.split(" ") if t]
    if not tokens:
        return None
    return "".join(t if t.isdigit() else ("" if t == "=" else f"<option {t}>") for t in tokens)


def _config_pass(value: str, symbol: str, hook) -> str:
    j, state, depth, start = 0, 0, 0, 0
    while j < len(value):
        c = value[j]
        if c == symbol:
            state = 1
        elif c == "(" and state == 1:
            state, depth, start = 2, 0, j + 1
        elif state > 1:
            if c == "(":
                state, depth = state + 1, depth + 1
            elif c == ")":
                if depth > 0:
                    state, depth = state + 1, depth - 1
                elif state <= 2:
                    state = 0
                else:
                    key = value[start : start + state - 2]
                    result = hook(key)
                    if result is not None:
                        value = value[: start - 2] + result + value[start + state - 1 :]
                        j = 0  # uWSGI starts the value over (at its second character)
                    state = 0
            else:
                state += 1
        else:
            state = 0
        j += 1
    return value


def uwsgi_reads(text: str, *, immediate: bool = False) -> str:
    """What the option handler gets for ``key = TEXT`` in an ini file (model)."""
    # the whole file goes through magic_sub: a lone % at the end would eat the line break
    value = _magic_sub(text + "\n").split("\n", 1)[0].strip(" \t\r")
    if immediate:
        return value
    value = _config_pass(value, "$", lambda key: f"<env {key}>")
    value = _config_pass(value, "@", lambda key: f"<file {key}>")
    return _config_pass(value, "%", _placeholder)


# --- the values --------------------------------------------------------------------------------

HOSTILE = [
    "",
    "plain",
    "%",
    "%%",
    "%%%",
    "100%",
    "%d",
    "%n",
    "%k",
    "%x",
    "%[",
    "%[31m",
    "%Z",
    "p%40ss%2Fw0rd",
    "postgresql://shop:p%40ss%2Fw0rd@db:5432/shop",
    "$(HOME)",
    "$$(HOME)",
    "$HOME",
    "${HOME}",
    "$(",
    "$()",
    "$(LIT_DEFINED)",
    "@(/etc/hostname)",
    "@(",
    "user@(example)",
    "x@(y)$(z)",
    "%$(HOME)",
    "%@(x)",
    "%)",
    "(%)",
    "%[...]",
    ";",
    "; leading semicolon",
    "#",
    "# hash",
    "a ; b # c",
    '"quoted"',
    "'single'",
    "\\",
    "back\\slash",
    "trailing\\",
    "\\n\\t\\\\",
    " ",
    "  ",
    "\t",
    " lead",
    "trail ",
    "  both  ",
    "\tboth\t",
    " $(HOME) ",
    "=",
    "a=b=c",
    "==",
    "[uwsgi]",
    "[section",
    "Grüße ✓",
    "日本語",
    "emoji 🐍",
    "\x1b[0m",
    "\x7f",
    "\x01\x02",
    "\x0b\x0c",
    "\x85\u2028\u2029",
    "\ufeff",
    "a" * 5000,
]

REFUSED = [
    ("line\nbreak", "line break"),
    ("line\rbreak", "line break"),
    ("trailing\n", "line break"),
    ("nul\0byte", "NUL"),
    ("%(x)", "%("),
    ("%(= =)", "%("),
    ("%%(x)", "%("),
    ("100%(", "%("),
    ("\udcff", "not valid Unicode"),
]


# --- format and model --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "text"),
    [
        ("p%40ss", "p%%40ss"),
        ("%%", "%%%%"),
        ("$(HOME)", "$%(= =)(HOME)"),
        ("@(/etc/hostname)", "@%(= =)(/etc/hostname)"),
        (" x ", "%(= =) x %(= =)"),
        ("\t", "%(= =)\t%(= =)"),
        ("", ""),
        ("a=b ;# \"'\\", "a=b ;# \"'\\"),
        ("Grüße ✓", "Grüße ✓"),
    ],
)
def test_written_form(value, text):
    assert ini_value(value) == text


@pytest.mark.parametrize("value", HOSTILE)
def test_model_reads_back_every_hostile_value(value):
    assert uwsgi_reads(ini_value(value)) == value


@pytest.mark.parametrize("value", [v for v in HOSTILE if v.strip(" \t") == v])
def test_model_reads_back_immediate(value):
    assert uwsgi_reads(ini_value(value, immediate=True), immediate=True) == value


def test_model_shows_the_raw_values_are_mangled():
    # The bug this module fixes: written as they are, these values do not arrive.
    for value in ["p%40ss%2Fw0rd", "%d", "$(HOME)", "@(/etc/hostname)", " x ", "%%"]:
        assert uwsgi_reads(value) != value


def test_model_fuzz():
    rng = random.Random(20240611)
    alphabet = "%$@()= \t;#\"'\\[]dnkx(é✓"
    accepted = 0
    for _round in range(20000):
        value = "".join(rng.choice(alphabet) for _char in range(rng.randint(0, 10)))
        try:
            text = ini_value(value)
        except ValueError:
            assert "%(" in value
            continue
        accepted += 1
        assert uwsgi_reads(text) == value, (value, text)
        assert "\n" not in text
    assert accepted > 10000


def test_model_fuzz_immediate():
    rng = random.Random(20240612)
    alphabet = "%$@()= \t;#\"'\\[]dnkx(é✓"
    for _round in range(5000):
        value = "".join(rng.choice(alphabet) for _char in range(rng.randint(0, 10)))
        try:
            text = ini_value(value, immediate=True)
        except ValueError:
            assert value != value.strip(" \t")
            continue
        assert uwsgi_reads(text, immediate=True) == value, (value, text)


@pytest.mark.parametrize(("value", "reason"), REFUSED)
def test_refused(value, reason):
    with pytest.raises(ValueError, match=re.escape(reason)):
        ini_value(value)


@pytest.mark.parametrize(("value", "reason"), [r for r in REFUSED if r[1] != "%("])
def test_refused_immediate(value, reason):
    with pytest.raises(ValueError, match=re.escape(reason)):
        ini_value(value, immediate=True)


@pytest.mark.parametrize("value", [" x", "x ", "\tx", "x\t", " "])
def test_immediate_refuses_blank_ends(value):
    with pytest.raises(ValueError, match="space or tab"):
        ini_value(value, immediate=True)


@pytest.mark.parametrize("value", ["%(x)", "$(HOME)", "@(f)", "100%"])
def test_immediate_keeps_parentheses(value):
    assert ini_value(value, immediate=True) == value.replace("%", "%%")


@pytest.mark.parametrize("value", [None, 1, b"bytes", ["x"]])
def test_not_a_string(value):
    with pytest.raises(TypeError):
        ini_value(value)


def test_immediate_options():
    assert {"plugin", "plugin-dir", "listen", "umask", "set-placeholder"} <= IMMEDIATE_OPTIONS
    assert not {"env", "chdir", "module", "socket", "envdir"} & IMMEDIATE_OPTIONS


def test_env_ini_value():
    assert env_ini_value("DATABASE_URL", "p%40ss") == "DATABASE_URL=p%%40ss"
    assert env_ini_value("A", " x") == "A= x"  # the blank is not at an end of the line
    assert uwsgi_reads(env_ini_value("A", "x ")) == "A=x "
    for name in ["", "A=B"]:
        with pytest.raises(ValueError, match="invalid environment variable name"):
            env_ini_value(name, "x")
    with pytest.raises(ValueError, match=r"environment variable A: .*%\("):
        env_ini_value("A", "%(x)")


def test_envdir_content():
    assert envdir_content("two\nlines %(x) $(HOME)") == "two\nlines %(x) $(HOME)"
    for value, reason in [
        ("", "unsets"),
        ("x ", "whitespace"),
        ("x\n", "whitespace"),
        ("a\0b", "NUL"),
        ("\udcff", "not valid Unicode"),
    ]:
        with pytest.raises(ValueError, match=reason):
            envdir_content(value)


def test_empty_placeholder_is_what_is_documented():
    assert EMPTY_PLACEHOLDER == "%(= =)"
    assert lit.__doc__ and "%(= =)" in lit.__doc__


# --- real uWSGI ---------------------------------------------------------------------------------

APP = """\
import json
import os

with open(os.environ["LIT_OUT"], "w") as out:
    json.dump({k.decode(): v.hex() for k, v in os.environb.items() if k.startswith(b"LIT_")}, out)
os._exit(0)
"""
DEBIAN_BINARY = "/usr/bin/uwsgi-core"
DEBIAN_PLUGIN_DIR = "/usr/lib/uwsgi/plugins"
RUN_TIMEOUT = 20


@pytest.fixture(params=["pypi", "debian"])
def uwsgi_command(request) -> list[str]:
    """The start of a uWSGI command line with Python available; skips when there is none."""
    if request.param == "debian":
        if not (
            os.access(DEBIAN_BINARY, os.X_OK)
            and Path(DEBIAN_PLUGIN_DIR, "python3_plugin.so").is_file()
        ):
            pytest.skip("no Debian uwsgi-core with uwsgi-plugin-python3")
        return [DEBIAN_BINARY, "--plugin-dir", DEBIAN_PLUGIN_DIR, "--plugin", "python3"]
    # find_uwsgi() of tests/unit/plugins/conftest.py, however pytest imported that conftest
    plugins = request.config.pluginmanager.get_plugins()
    find = next((p.find_uwsgi for p in plugins if hasattr(p, "find_uwsgi")), None)
    binary = find() if find else None
    if binary is None:
        pytest.skip("no uwsgi with Python built in (pip install -r tests/unit/requirements.txt)")
    return [binary]


class Run:
    """One uWSGI run: what it parsed (show-config) and the app's environment."""

    def __init__(self, options: list[tuple[str, str]], environ: dict[str, bytes]) -> None:
        self.options = options
        self.environ = environ

    def values(self, key: str) -> list[str]:
        return [value for k, value in self.options if k == key]


def run_uwsgi(command: list[str], directory: Path, lines: list[str]) -> Run:
    """Start uWSGI on an ini with LINES in its [uwsgi] section, let the app report and exit."""
    app = directory / "app.py"
    app.write_text(APP)
    out = directory / "environ.json"
    ini = directory / "vassal.ini"
    body = [
        "[uwsgi]",
        "strict = true",
        f"socket = {directory / 's.sock'}",
        f"wsgi-file = {app}",
        "need-app = true",
        "show-config = true",
        *lines,
    ]
    ini.write_text("\n".join(body) + "\n", encoding="utf-8")
    environ = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "HOME": "/home-of-test",
        "LIT_OUT": str(out),
        "LIT_DEFINED": "defined-value",
    }
    result = subprocess.run(
        [*command, "--ini", str(ini)],
        stdin=subprocess.DEVNULL,
        capture_output=True,
        timeout=RUN_TIMEOUT,
        env=environ,
        check=False,
        cwd=directory,
    )
    log = (result.stdout + result.stderr).decode("utf-8", "surrogateescape")
    assert result.returncode == 0, log[-3000:]
    # Split at "\n" only: values may hold other characters str.splitlines() breaks at.
    shown = log.split(";uWSGI instance configuration\n[uwsgi]\n", 1)[1]
    shown = shown.split(";end of configuration\n", 1)[0]
    options = [tuple(line.split(" = ", 1)) for line in shown.split("\n") if line]
    # only what the ini file set, not the command line (Debian's --plugin-dir)
    options = options[options.index(("ini", str(ini))) + 1 :]
    reported = json.loads(out.read_text())
    return Run(options, {k: bytes.fromhex(v) for k, v in reported.items()})


def mismatches(expected: list[str], got: list[str]) -> list[tuple[str, str]]:
    assert len(expected) == len(got), (len(expected), len(got))
    return [(e, g) for e, g in zip(expected, got) if e != g]


def test_uwsgi_reads_back_hostile_values(uwsgi_command, tmp_path):
    lines = []
    for index, value in enumerate(HOSTILE):
        lines.append(f"env = LIT_{index}={ini_value(value)}")
        lines.append(f"procname-prefix = {ini_value(value)}")
        if value.strip(" \t") == value:
            lines.append(f"plugin-dir = {ini_value(value, immediate=True)}")
    run = run_uwsgi(uwsgi_command, tmp_path, lines)

    # what the app sees
    seen = {name: run.environ.get(f"LIT_{i}") for i, name in enumerate(HOSTILE)}
    wrong = {v: s for v, s in seen.items() if s != v.encode("utf-8")}
    assert not wrong, wrong
    # what uWSGI handed to a regular and to an immediate option
    assert not mismatches(HOSTILE, run.values("procname-prefix"))
    immediate = [v for v in HOSTILE if v.strip(" \t") == v]
    assert not mismatches(immediate, run.values("plugin-dir"))


def test_uwsgi_mangles_raw_values(uwsgi_command, tmp_path):
    """The expansions ini_value guards against, as this uWSGI does them (the bug)."""
    (tmp_path / "file").write_text("file-content\n")
    # %0-%9 are the components of the ini file's directory, "" past the last one
    parts = os.path.realpath(tmp_path).strip("/").split("/") + [""] * 10
    cases = [
        ("p%40ss%2Fw0rd", f"p{parts[4]}0ss{parts[2]}Fw0rd"),
        ("%%", "%"),
        ("%%d", "%d"),
        ("%Z|", "|"),
        ("$(LIT_DEFINED)", "defined-value"),
        ("$$(LIT_DEFINED)", "$defined-value"),
        ("$(LIT_UNDEFINED)", "$(LIT_UNDEFINED)"),
        (f"@({tmp_path}/file)", "file-content"),
        ("%%(= =)x", "x"),  # %% gives %(, which the last pass expands
        ("x ; y # z", "x ; y # z"),
        ("\"q\" \\ 's' \\", "\"q\" \\ 's' \\"),
    ]
    lines = [f"env = LIT_{i}={raw}" for i, (raw, _expected) in enumerate(cases)]
    lines += [f"procname-prefix = {raw}" for raw, _expected in cases]
    lines += ["procname-prefix =   both ends\t "]
    run = run_uwsgi(uwsgi_command, tmp_path, lines)
    got = [run.environ[f"LIT_{i}"].decode() for i in range(len(cases))]
    assert got == [expected for _raw, expected in cases]
    assert run.values("procname-prefix") == [e for _raw, e in cases] + ["both ends"]


def test_uwsgi_fuzz(uwsgi_command, tmp_path):
    rng = random.Random(7)
    alphabet = "%$@()= \t;#\"'\\[]dnkx(é✓"
    values = []
    while len(values) < 300:
        value = "".join(rng.choice(alphabet) for _char in range(rng.randint(0, 12)))
        if "%(" not in value:
            values.append(value)
    lines = [f"env = LIT_{i}={ini_value(v)}" for i, v in enumerate(values)]
    run = run_uwsgi(uwsgi_command, tmp_path, lines)
    wrong = {
        v: run.environ.get(f"LIT_{i}")
        for i, v in enumerate(values)
        if run.environ.get(f"LIT_{i}") != v.encode("utf-8")
    }
    assert not wrong, wrong


def test_envdir_carries_what_ini_cannot(uwsgi_command, tmp_path):
    envdir = tmp_path / "env"
    envdir.mkdir()
    values = {
        "LIT_LINES": "first line\nsecond %(x) $(HOME) @(/etc/hostname)\n\tindented",
        "LIT_PLACEHOLDER": "%(= =)%(socket)",
        "LIT_LEAD": "  leading blanks",
    }
    for name, value in values.items():
        (envdir / name).write_text(envdir_content(value) + "\n", encoding="utf-8")
    (envdir / "LIT_GONE").write_text("")
    lines = [
        f"env = LIT_GONE={ini_value('set by env')}",
        f"envdir = {ini_value(str(envdir))}",
    ]
    run = run_uwsgi(uwsgi_command, tmp_path, lines)
    for name, value in values.items():
        assert run.environ[name] == value.encode("utf-8")
    assert "LIT_GONE" not in run.environ  # an empty file unsets
