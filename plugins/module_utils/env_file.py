# Copyright: pyops.uwsgi contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The app's environment (app_env) as a systemd EnvironmentFile, carried byte for byte.

systemd reads an EnvironmentFile= line by line as ``KEY=value``. Unquoted values lose leading and
trailing white space and a ``#`` or ``;`` starts a comment at the start of a line, so every value
is written in double quotes. Inside double quotes systemd's parser (``parse_env_file`` in
env-file.c) takes a backslash before one of ``"``, ``\\``, `````` ` `````` and ``$`` as that
character and anything else literally, line breaks included; it expands neither ``%`` specifiers
nor ``$VARIABLES`` there. So quoting those four characters with a backslash is all it takes:
checked with systemd 252 (Debian 12) and 257 (Debian 13) on values with spaces at both ends,
quotes, backslashes (a trailing one too), ``$HOME``, ``${X}``, ``%d``, back quotes, ``#``, ``;``,
tabs, line breaks, carriage returns, other control characters and non-ASCII text.

The only value an environment cannot hold is one with a NUL byte, which is refused.

Pure: no I/O.
"""

from __future__ import annotations

import re

# What systemd takes as a variable name in an environment file (env_name_is_valid).
NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
# Characters a backslash must protect inside double quotes.
_ESCAPED = frozenset('"\\`$')


class EnvFileError(ValueError):
    """A name or value an environment file cannot carry."""


def quote(value):
    """VALUE as systemd reads it back byte for byte from inside an environment file."""
    return '"' + "".join("\\" + char if char in _ESCAPED else char for char in value) + '"'


# Variables that configure what runs the app rather than the app: uWSGI takes every UWSGI_*
# variable of its environment as an option (UWSGI_HTTP_SOCKET=0.0.0.0:9090 is http-socket), the
# dynamic loader reads LD_*, Python PYTHONHOME, systemd's socket activation and notification
# LISTEN_* and NOTIFY_SOCKET.
_CONFIGURING = (
    (
        "UWSGI_",
        "uWSGI reads every UWSGI_* variable of its environment as one of its options (a"
        " socket on every address, a module to load), past the role's checks and nginx",
    ),
    (
        "LD_",
        "the dynamic loader reads LD_* variables (LD_PRELOAD, LD_LIBRARY_PATH, ...) to load"
        " other code into uWSGI and Python",
    ),
)
_CONFIGURING_NAMES = {
    "PYTHONHOME": "PYTHONHOME points Python away from the release's virtualenv",
    "PYTHONEXECUTABLE": "PYTHONEXECUTABLE changes which Python the app's processes take as theirs",
    "NOTIFY_SOCKET": "systemd's NOTIFY_SOCKET is how the service tells systemd it is ready",
    "LISTEN_FDS": "systemd's LISTEN_* variables hand the socket over to uWSGI",
    "LISTEN_PID": "systemd's LISTEN_* variables hand the socket over to uWSGI",
    "LISTEN_FDNAMES": "systemd's LISTEN_* variables hand the socket over to uWSGI",
}


def configuring(name):
    """Why NAME, as an app_env name, would configure uWSGI, the loader, Python or systemd rather
    than the app; "" for a name the app may have."""
    upper = str(name).upper()
    for prefix, reason in _CONFIGURING:
        if upper.startswith(prefix):
            return reason
    return _CONFIGURING_NAMES.get(upper, "")


def text_value(name, value):
    """VALUE of app_env as the text every process of the app sees (the vassal's env lines, the
    envdir, the EnvironmentFile of its commands, workers and jobs): a string as it is, a boolean
    as YAML and JSON write it (true, false), a number as Python writes it."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return str(value)
    if isinstance(value, str):
        if "\x00" in value:
            raise EnvFileError(
                f"the value of {name} contains a NUL byte, which no environment holds"
            )
        return value
    raise EnvFileError(
        f"the value of {name} must be a string or a number, not {type(value).__name__}"
    )


def environment_file(env, header=""):
    """ENV (name -> value) as the text of a systemd EnvironmentFile.

    HEADER, comment lines without the leading "# ", goes first. Raises EnvFileError for a name
    systemd would not take or a value it cannot carry.
    """
    lines = [f"# {line}".rstrip() for line in header.splitlines()]
    for name, value in env.items():
        if not isinstance(name, str) or not NAME.fullmatch(name):
            raise EnvFileError(f"invalid environment variable name {name!r}")
        lines.append(f"{name}={quote(text_value(name, value))}")
    return "\n".join(lines) + "\n"


def parse(text):
    """The variables of an environment file written by environment_file, as systemd reads them.

    Only the subset environment_file writes (comments, NAME="..." lines); for tests and for
    reading back what is on a host.
    """
    found, index = {}, 0
    while index < len(text):
        end = text.find("\n", index)
        end = len(text) if end < 0 else end
        line = text[index:end]
        if line.startswith("#") or not line:
            index = end + 1
            continue
        name, _equals, rest = line.partition("=")
        if not rest.startswith('"'):
            raise EnvFileError(f"unquoted value for {name}")
        value, position = [], index + len(name) + 2
        while True:
            if position >= len(text):
                raise EnvFileError(f"unterminated value for {name}")
            char = text[position]
            if char == "\\" and position + 1 < len(text) and text[position + 1] in _ESCAPED:
                value.append(text[position + 1])
                position += 2
            elif char == '"':
                break
            else:
                value.append(char)
                position += 1
        found[name] = "".join(value)
        index = text.find("\n", position)
        index = len(text) if index < 0 else index + 1
    return found
