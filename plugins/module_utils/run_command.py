# Copyright: pyops.uwsgi contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""pyops-run: a command run as an app, in the release serving, with its environment and sandbox.

The app role installs this file on the host as ``/usr/local/bin/pyops-run`` (with a line
``#!/usr/bin/python3`` above) and writes, at each deploy, a record per app,
``/etc/uwsgi/run/APP.json`` (root's, 0600): where its releases are, the sandbox of its release
commands as ``systemd-run`` properties (its user and group, the EnvironmentFile of ``app_env``
included) and the names ``--env`` may not set. The record is made by the app's plan
(``_app/run.py``); this file reads it:

    pyops-run APP [--env NAME | -e NAME=VALUE]... [--] COMMAND [ARGUMENT]...
    pyops-run --list

The command runs once as a transient unit (``systemd-run --wait --collect``) in the code directory
of the release ``current`` points at when it starts, that release's virtualenv first on PATH, with
``--pty`` when standard input, output and error are all terminals, else ``--pipe``. Its exit status
is pyops-run's. pyops-run's own refusals are one line on standard error, each with a status of its
own (``EXIT_*``), so a script can tell them from the command's.

It runs on the host's python3 alone, hence the standard library only, and the few words of
``sandbox.run_argv`` it needs (every ``$`` of the command doubled, the program found through
``/usr/bin/env``) are written here again rather than imported.

Everything but ``main`` and the helpers it calls is pure; ``main`` takes the caller's identity,
environment, streams and ``execvp`` as arguments, so the unit tests run it on a directory of their
own.
"""

from __future__ import annotations

import json
import os
import re
import shlex
import sys

COMMAND = "/usr/local/bin/pyops-run"
RECORD_DIR = "/etc/uwsgi/run"
RECORD_VERSION = 1
ENV = "/usr/bin/env"

EXIT_USAGE = 64  # sysexits EX_USAGE: the command line is wrong
EXIT_BAD_RECORD = 65  # EX_DATAERR: the app's record is not one this pyops-run reads
EXIT_UNKNOWN_APP = 66  # EX_NOINPUT: no record of that app on this host
EXIT_NO_RELEASE = 69  # EX_UNAVAILABLE: the app has no release serving
EXIT_NO_SYSTEMD_RUN = 71  # EX_OSERR: systemd-run could not be started
EXIT_NOT_ROOT = 77  # EX_NOPERM: only root may run a command as an app

USAGE = (
    "usage: pyops-run APP [--env NAME | -e NAME=VALUE]... [--] COMMAND [ARGUMENT]...\n"
    "       pyops-run --list\n"
    "Runs COMMAND as the app APP, in the code of its release serving, with app_env and the\n"
    "app's sandbox; interactive when a terminal is attached. --env NAME passes NAME from\n"
    "pyops-run's own environment; -e NAME=VALUE sets a value (visible to other users in ps:\n"
    "prefer --env).\n"
    "--list names the apps of this host and the release each serves. Root only."
)
_APP = re.compile(r"^[a-z][a-z0-9_-]{0,31}$")
_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
_RECORD_KEYS = {"version", "app", "current", "releases", "system_path", "properties", "reserved"}


class Refusal(Exception):
    """What pyops-run refuses to do: one line, and its exit status."""

    def __init__(self, status: int, message: str):
        super().__init__(message)
        self.status = status
        self.message = message


def record_path(app: str) -> str:
    return f"{RECORD_DIR}/{app}.json"


def _env_option(word, environ, env):
    """Adds the variable of one --env / -e value WORD to ENV (name -> value or None)."""
    name, sep, value = word.partition("=")
    if not _NAME.fullmatch(name):
        raise Refusal(EXIT_USAGE, f"--env {word!r}: a variable's name is letters, digits and _")
    if not sep and name not in environ:
        raise Refusal(
            EXIT_USAGE,
            f"--env {name}: {name} is not set in pyops-run's environment; set it, or give"
            f" -e {name}=VALUE",
        )
    # None: systemd-run takes the value from its own environment, off every command line.
    env[name] = value if sep else None


def parse(args: list[str], environ: dict[str, str]) -> dict:
    """{action: run|list, app, env, command} of pyops-run's arguments ARGS (help aside)."""
    if args[0] == "--list":
        if len(args) > 1:
            raise Refusal(EXIT_USAGE, "--list takes no arguments")
        return {"action": "list"}
    app, rest, env = args[0], list(args[1:]), {}
    if not _APP.fullmatch(app):
        raise Refusal(EXIT_USAGE, f"{app!r} is not an app's name; pyops-run --list names them")
    while rest and rest[0].startswith("-"):
        option = rest.pop(0)
        if option == "--":
            break
        if option.startswith("--env="):
            _env_option(option[len("--env=") :], environ, env)
        elif option in ("--env", "-e"):
            if not rest:
                raise Refusal(EXIT_USAGE, f"{option} takes NAME or NAME=VALUE")
            _env_option(rest.pop(0), environ, env)
        else:
            raise Refusal(EXIT_USAGE, f"unknown option {option}; the command follows --")
    if not rest:
        raise Refusal(EXIT_USAGE, f"no command to run as {app}: pyops-run {app} -- COMMAND ...")
    return {"action": "run", "app": app, "env": env, "command": rest}


def check_record(text: str, app: str) -> dict:
    """The record of APP read from TEXT, or a Refusal saying why it cannot be used."""
    fix = "deploy the app again with the pyops.uwsgi.app role"
    try:
        record = json.loads(text)
    except ValueError as exc:
        raise Refusal(EXIT_BAD_RECORD, f"{record_path(app)} is not JSON ({exc}); {fix}") from None
    if not isinstance(record, dict) or set(record) != _RECORD_KEYS:
        raise Refusal(EXIT_BAD_RECORD, f"{record_path(app)} is not an app's record; {fix}")
    if record["version"] != RECORD_VERSION or record["app"] != app:
        raise Refusal(
            EXIT_BAD_RECORD,
            f"{record_path(app)} is of version {record['version']} for app {record['app']!r};"
            f" this pyops-run reads version {RECORD_VERSION}: {fix}",
        )
    return record


def release_dir(record: dict, target: str | None, is_dir) -> str:
    """The release RECORD's current link points at (TARGET, None when it does not exist)."""
    app, current = record["app"], record["current"]
    fix = f"deploy {app} with the pyops.uwsgi.app role"
    if target is None:
        raise Refusal(
            EXIT_NO_RELEASE, f"{app} has no release serving ({current} is missing); {fix}"
        )
    release = os.path.normpath(os.path.join(os.path.dirname(current), target))
    if os.path.dirname(release) != record["releases"] or not all(
        is_dir(f"{release}/{part}") for part in ("code", "venv/bin")
    ):
        raise Refusal(
            EXIT_NO_RELEASE,
            f"{app}: {current} points at {release}, which is not a release of"
            f" {record['releases']} with its code and virtualenv; {fix}",
        )
    return release


def systemd_run_argv(record: dict, release: str, request: dict, *, tty: bool) -> list[str]:
    """systemd-run's command line that runs REQUEST's command as RECORD's app in RELEASE."""
    taken = sorted(set(request["env"]) & set(record["reserved"]))
    if taken:
        raise Refusal(
            EXIT_USAGE,
            f"--env {', '.join(taken)}: set by {record['app']}'s app_env or its virtualenv, which"
            " win; change app_env, or pass another name",
        )
    venv = f"{release}/venv"
    argv = ["systemd-run", "--wait", "--collect", "--quiet", "--service-type=exec"]
    argv.append("--pty" if tty else "--pipe")
    description = f"{record['app']} pyops-run: {shlex.join(request['command'])}"
    argv.append(f"--description={description[:200]}")
    argv.append(f"--working-directory={release}/code")
    argv.append(f"--setenv=PATH={venv}/bin:{record['system_path']}")
    argv.append(f"--setenv=VIRTUAL_ENV={venv}")
    for name, value in sorted(request["env"].items()):
        argv.append(f"--setenv={name}" if value is None else f"--setenv={name}={value}")
    for item in record["properties"]:
        argv += ["--property", item]
    # systemd expands $NAME in a command's arguments; $$ is one $.
    words = [ENV, "--", *request["command"]]
    return [*argv, "--", *[word.replace("$", "$$") for word in words]]


def listing(records: dict[str, dict], targets: dict[str, str | None], is_dir) -> list[str]:
    """Lines of --list: each app, the release it serves (or that none does) and its code."""
    lines = []
    for app in sorted(records):
        try:
            release = release_dir(records[app], targets.get(app), is_dir)
        except Refusal:
            lines.append(f"{app}\t(no release serving)")
            continue
        lines.append(f"{app}\t{os.path.basename(release)}\t{release}/code")
    return lines


def _read_record(app):
    try:
        with open(record_path(app), encoding="utf-8") as handle:
            return check_record(handle.read(), app)
    except FileNotFoundError:
        raise Refusal(
            EXIT_UNKNOWN_APP,
            f"no app {app} on this host ({record_path(app)} is missing); pyops-run --list names"
            " the apps the pyops.uwsgi.app role deployed here",
        ) from None


def _target(path):
    try:
        return os.readlink(path)
    except OSError:
        return None


def _list(out):
    names = sorted(
        name[: -len(".json")]
        for name in (os.listdir(RECORD_DIR) if os.path.isdir(RECORD_DIR) else [])
        if name.endswith(".json")
    )
    records = {}
    for name in names:
        try:
            records[name] = _read_record(name)
        except Refusal as refusal:
            out.write(f"{name}\t({refusal.message})\n")
    targets = {name: _target(record["current"]) for name, record in records.items()}
    out.write("".join(f"{line}\n" for line in listing(records, targets, os.path.isdir)))
    return 0


def main(args=None, *, environ=None, euid=None, execvp=os.execvp, out=None, err=None) -> int:
    """pyops-run: returns its status, or becomes systemd-run (its status then the command's)."""
    args = sys.argv[1:] if args is None else args
    environ = dict(os.environ) if environ is None else environ
    out, err = out or sys.stdout, err or sys.stderr
    try:
        if not args or args[0] in ("-h", "--help"):
            out.write(USAGE + "\n")
            return 0 if args else EXIT_USAGE
        if (os.geteuid() if euid is None else euid) != 0:
            raise Refusal(EXIT_NOT_ROOT, "only root may run a command as an app: run it with sudo")
        request = parse(args, environ)
        if request["action"] == "list":
            return _list(out)
        record = _read_record(request["app"])
        release = release_dir(record, _target(record["current"]), os.path.isdir)
        tty = all(os.isatty(fd) for fd in (0, 1, 2))
        argv = systemd_run_argv(record, release, request, tty=tty)
        try:
            execvp(argv[0], argv)
        except OSError as exc:
            raise Refusal(EXIT_NO_SYSTEMD_RUN, f"cannot start systemd-run: {exc}") from None
        return 0
    except Refusal as refusal:
        err.write(f"pyops-run: {refusal.message}\n")
        return refusal.status


if __name__ == "__main__":
    raise SystemExit(main())
