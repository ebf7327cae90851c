# Copyright: pyops.uwsgi contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""How an app's own commands run as the app does: its user, its environment, its sandbox.

Build and release commands, the entry point check, workers and jobs all run in the sandbox of the
app's own unit (``service_settings`` in ``_app/units.py``), minus what only uWSGI's unit needs: the
commands run once through ``systemd-run --wait --pipe`` (``run_argv``), workers and jobs as units of
their own (``unit_exec`` for their ExecStart=).

A command is a list of arguments and reaches the program as written, byte for byte:

- ``systemd-run`` hands the arguments to the service manager, which expands ``$NAME`` and
  ``${NAME}`` in them (systemd 252 always; 254+ unless --expand-environment=no, which 252 lacks)
  and turns ``$$`` into ``$``; specifiers (``%n``) are left alone. So ``$`` is doubled, on every
  version (checked on 252 and 257).
- In a unit file, ExecStart= splits words at white space, takes quotes and C escapes
  (``\\n``, ``\\x01``), expands specifiers and ``$`` variables, and takes a lone ``;`` as the
  end of a command. Each argument is written in double quotes with ``\\`` and ``"`` escaped, line
  breaks and control characters as C escapes, ``%`` as ``%%`` and ``$`` as ``$$``; a quoted ``;``
  stays an argument (checked on 252 and 257 with 20 awkward arguments).

The program is found through ``/usr/bin/env`` with PATH starting at the release's virtualenv, as
an activated virtualenv would find it: systemd looks a bare name up in a search path of its own,
never in the unit's PATH.

Pure: no I/O.
"""

from __future__ import annotations

# [Service] settings of the app's unit that belong to uWSGI's own process, not to a command.
LIFECYCLE = (
    "Type",
    "ExecStart",
    "ExecReload",
    "ExecStop",
    "ExecStartPre",
    "ExecStartPost",
    "KillSignal",
    "KillMode",
    "NotifyAccess",
    "Restart",
    "RestartSec",
    "TimeoutStopSec",
    "TimeoutStartSec",
    "SyslogIdentifier",
    "RuntimeDirectory",
    "RuntimeDirectoryMode",
    "WatchdogSec",
    "Sockets",
    # Each command has its own (the release's code); Environment= and EnvironmentFile= stay, and
    # the command's own are added to them.
    "WorkingDirectory",
)
# The search path after the virtualenv's bin, as Debian's default PATH for services.
SYSTEM_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
ENV = "/usr/bin/env"


def settings(service, writable):
    """The sandbox of a command: SERVICE (the app unit's [Service]) without uWSGI's lifecycle.

    WRITABLE replaces the app's ReadWritePaths: what this command may write.
    RemoveIPC is turned off: when such a short-lived unit stops, systemd would remove the System V
    and POSIX IPC objects of the app's user, those of the app still serving included.
    """
    kept = {key: value for key, value in service.items() if key not in LIFECYCLE}
    kept["ReadWritePaths"] = list(writable) or None
    kept["RemoveIPC"] = False
    return kept


def environment(venv):
    """Environment= of a command: the release's virtualenv first on PATH, as activate sets it."""
    return {"PATH": f"{venv}/bin:{SYSTEM_PATH}", "VIRTUAL_ENV": venv}


def _scalar(value):
    if isinstance(value, bool):
        return "yes" if value else "no"
    return str(value)


def run_properties(sandbox):
    """SANDBOX ([Service] settings) as systemd-run --property values, lists repeated."""
    found = []
    for key, value in sandbox.items():
        if value is None:
            continue
        for item in value if isinstance(value, (list, tuple)) else [value]:
            found.append(f"{key}={_scalar(item)}")
    return found


def run_arguments(command):
    """COMMAND's arguments as systemd-run passes them on literally: every $ doubled."""
    return [str(argument).replace("$", "$$") for argument in command]


def run_argv(
    sandbox, command, *, working_directory, env, environment_file="", description="", timeout=0
):
    """The systemd-run command line that runs COMMAND once, as the app, and waits for it.

    Its output comes back on systemd-run's own (--pipe) and its exit status is systemd-run's
    (--wait). ENV (name -> value) is set before ENVIRONMENT_FILE is read, which wins.
    """
    argv = ["systemd-run", "--wait", "--pipe", "--collect", "--quiet", "--service-type=exec"]
    if description:
        argv.append(f"--description={description}")
    argv.append(f"--working-directory={working_directory}")
    argv += [f"--setenv={name}={value}" for name, value in env.items()]
    properties = run_properties(sandbox)
    if environment_file:
        properties.append(f"EnvironmentFile={environment_file}")
    if timeout:
        properties.append(f"RuntimeMaxSec={timeout}")
    for item in properties:
        argv += ["--property", item]
    return [*argv, "--", *run_arguments([ENV, "--", *command])]


def specifiers(text):
    """TEXT with systemd's specifiers escaped, for a unit setting that expands them."""
    return str(text).replace("%", "%%")


def unit_word(word, dollars=True):
    """One word of ExecStart= (or, without DOLLARS, Environment=), quoted to arrive as it is."""
    out = []
    for char in str(word):
        if char in '\\"':
            out.append("\\" + char)
        elif char == "%":
            out.append("%%")
        elif char == "$" and dollars:
            out.append("$$")
        elif char == "\n":
            out.append("\\n")
        elif ord(char) < 32 or ord(char) == 127:
            out.append(f"\\x{ord(char):02x}")
        else:
            out.append(char)
    return '"' + "".join(out) + '"'


def unit_exec(command):
    """ExecStart= of a unit that runs COMMAND (found on the unit's PATH, through env)."""
    return " ".join(unit_word(word) for word in [ENV, "--", *command])


def unit_environment(env):
    """Environment= values of a unit for ENV (name -> value), each one quoted word."""
    # Environment= expands specifiers, not variables.
    return [unit_word(f"{name}={value}", dollars=False) for name, value in env.items()]
