# Copyright: pyops.uwsgi contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Name the pitfall behind a failed health check from uWSGI's, Python's and nginx's lines."""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import datetime

from ansible.errors import AnsibleFilterError

# journalctl's short and short-iso forms: "Nov 21 13:39:00 host uwsgi-shop[123]: ".
_JOURNAL_PREFIX = re.compile(
    r"^(?:[A-Z][a-z]{2} [ \d]\d \d\d:\d\d:\d\d(?:\.\d+)?|\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\S*)"
    r" \S+ ([^\s\[\]:]+)(?:\[\d+\])?:(?: |$)"
)
_START = re.compile(r"\*\*\* Starting uWSGI ", re.IGNORECASE)
_READY = re.compile(r"\bWSGI app \d+ \(mountpoint='[^']*'\) ready", re.IGNORECASE)
# How a start ends: the app loaded, or uWSGI gave up on it.
_OUTCOME = re.compile(_READY.pattern + r"|unable to load app \d+|no app loaded", re.IGNORECASE)
# journalctl --output=short-iso(-precise): "2026-12-07T07:05:30.123456+00:00 host ident[pid]: ".
_ISO_STAMP = re.compile(r"^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(?:\.\d+)?(?:[+-]\d\d:?\d\d|Z)?) ")
_READY_IN = re.compile(r"\bWSGI app \d+ \(mountpoint='[^']*'\) ready in (\d+) seconds")
# systemd gave up on a start (TimeoutStartSec): systemd-run's words, then the journal's.
_TIMED_OUT = re.compile(
    r"failed because a timeout was exceeded|start operation timed out|Failed with result 'timeout'",
    re.IGNORECASE,
)
_PYTHON_VERSION = re.compile(r"\bPython version: (\d+\.\d+)", re.IGNORECASE)
# Python 3 says ModuleNotFoundError: No module named 'x'; older ones ImportError: No module named x.
_NO_MODULE = re.compile(r"\b(?:ModuleNotFoundError|ImportError): No module named '?([\w.]+)")
# What --wsgi-file says about a file that is not there.
_ENTRY_FILE_MISSING = re.compile(r"\bfailed to open python file ", re.IGNORECASE)
_CALLABLE_MISSING = re.compile(
    # --wsgi-file says "application" whatever the callable's name.
    r'\bunable to find "[^"]*" callable in file'
    r"|\bImportError: cannot import name\b"
    r"|\bNameError: (?:global )?name '?\w+'? is not defined"
    r"|\bAttributeError: module '?[\w.]+'? has no attribute\b"
)
# uWSGI's verdict on any failed load; with --module, all it says when the callable is missing.
_LOAD_FAILED = re.compile(r"callable not found or import error", re.IGNORECASE)
# What Python prints before that verdict when the import itself raised.
_PYTHON_ERROR = re.compile(r"^(?:Traceback \(most recent call last\)|[\w.]*(?:Error|Exception)\b)")
_NGINX_CONNECT = re.compile(r"\bconnect\(\) to unix:(\S+) failed \((\d+): ")
# nginx refused a request past the app's queue (nginx_site_max_conns, from app_listen).
_QUEUE_LIMIT = re.compile(r'\blimiting connections by zone "pyops_')
# uWSGI could not enter the code directory: missing there, or hidden by the sandbox.
_CHDIR = re.compile(r"\bchdir\(\): (?:No such file or directory|Permission denied)")
# A worker that died of state shared across the fork: a crash, or a connection made at import.
_FORK = re.compile(
    r"worker \d+ \(pid: \d+\) died, killed by signal (?:6|7|11)\b"
    r"|decryption failed or bad record mac|SSL error: (?:bad record|unexpected eof)"
    r"|server closed the connection unexpectedly|lost synchronization with server",
    re.IGNORECASE,
)
# A line that says what went wrong, when no rule knows it.
_DECISIVE = re.compile(
    r"\b(?:error|failed|failure|no such file|permission denied|not permitted|cannot|can't"
    r"|unable|refused|denied|exception|fatal|killed|bad system call|in use)\b"
    # uWSGI's own reports of a failed system call: "bind(): Address already in use [...]".
    r"|^\w+\(\): ",
    re.IGNORECASE,
)
# Lines of a normal life that match those words.
_ROUTINE = re.compile(r"successfully|gracefully|goodbye to uWSGI", re.IGNORECASE)
# Words of a decisive line, and the setting that is usually behind them.
_SETTING_HINTS = (
    ("chdir", "app_root"),
    ("bind", "app_socket"),
    ("socket", "app_socket"),
    ("memory", "app_systemd_memory_deny_write_execute"),
    ("bad system call", "app_systemd_options (its system call filter)"),
    ("not permitted", "app_systemd_options (its sandbox)"),
    ("permission denied", "app_user and the file's owner"),
    ("harakiri", "app_harakiri"),
    ("listen queue", "app_listen"),
)
_TAIL = 5


def _clean(lines, ident=None):
    """Return the non-empty lines, one message per line, without journalctl's prefix.

    When some lines come from the journal identifier IDENT, lines of other identifiers go.
    """
    if lines is None:
        return []
    if isinstance(lines, str):
        lines = [lines]
    elif not isinstance(lines, (list, tuple)):
        raise AnsibleFilterError(
            f"uwsgi_diagnose expects a list of log lines, got {type(lines).__name__}"
        )
    split = []  # (journal identifier or None, message)
    for item in lines:
        for raw in str(item).splitlines():
            prefix = _JOURNAL_PREFIX.match(raw.strip())
            line = _JOURNAL_PREFIX.sub("", raw.strip()).strip()
            if line:
                split.append((prefix.group(1) if prefix else None, line))
    if ident not in {pair[0] for pair in split}:
        ident = None
    return [line for source, line in split if ident is None or source in (None, ident)]


def _current_start(lines):
    """The lines from the newest uWSGI start that got as far as loading the app or giving up.

    An older start's error may be fixed by now; the newest start may still be loading.
    """
    starts = [index for index, line in enumerate(lines) if _START.search(line)]
    for start in reversed(starts):
        if any(_OUTCOME.search(line) for line in lines[start:]):
            return lines[start:]
    return lines


def _newest(lines, pattern):
    """The last line matching PATTERN and its match, or (None, None)."""
    for line in reversed(lines):
        found = pattern.search(line)
        if found:
            return line, found
    return None, None


class _Evidence:
    """The lines, the probe and the app, as the rules look at them."""

    def __init__(self, log_lines, app, probe, nginx_lines, start=None):
        self.app = app
        self.probe = probe or {}
        self.start = start or {}
        self.stamped = _stamped(log_lines)
        self.nginx = _clean(nginx_lines)
        ident = f"uwsgi-{app['name']}" if app.get("name") else None
        self.log = _current_start(_clean(log_lines, ident))
        # Errors after the app was ready come from requests, not from loading the app.
        ready = next((i for i, line in enumerate(self.log) if _READY.search(line)), len(self.log))
        self.loading = self.log[:ready]

    def get(self, key):
        value = self.app.get(key)
        return "" if value is None else str(value).strip()

    def entry_modules(self):
        """The entry module and the packages above it: mysite.wsgi -> mysite, mysite.wsgi."""
        parts = self.get("wsgi_module").split(".")
        return {".".join(parts[: count + 1]) for count in range(len(parts)) if all(parts)}

    def nginx_connect(self, errno):
        """The newest nginx connect() failure with ERRNO, the app's own socket first."""
        failures = []
        for line in self.nginx:
            found = _NGINX_CONNECT.search(line)
            if found and found.group(2) == errno:
                failures.append((line, found.group(1)))
        paths = (self.get("socket"), self.get("nginx_socket"))
        own = [failure for failure in failures if failure[1] in paths]
        return (own or failures or [("", "")])[-1]

    def elsewhere(self, path):
        """A sentence when nginx connects to another path than the app's socket (or the link to
        it that the collection's site connects through)."""
        socket = self.get("socket")
        if path and socket and path not in (socket, self.get("nginx_socket")):
            return f"nginx connects to {path}, but the app's socket is {socket}. "
        return ""


def _stamped(lines):
    """(time or None, message) of each line; the time from journalctl's short-iso(-precise)."""
    if isinstance(lines, str):
        lines = [lines]
    stamped = []
    for item in lines if isinstance(lines, (list, tuple)) else []:
        for raw in str(item).splitlines():
            found = _ISO_STAMP.match(raw.strip())
            try:
                when = datetime.fromisoformat(found.group(1)) if found else None
            except ValueError:
                when = None
            stamped.append((when, _JOURNAL_PREFIX.sub("", raw.strip()).strip()))
    return stamped


def _import_timed_out(evidence):
    stamped = evidence.stamped
    # The newest start's timeout (the log may hold an earlier try's).
    newest = next((i for i in reversed(range(len(stamped))) if _START.search(stamped[i][1])), 0)
    timed_out = next(
        (i for i in range(newest, len(stamped)) if _TIMED_OUT.search(stamped[i][1])), None
    )
    said = [raw.strip() for raw in str(evidence.start.get("stderr") or "").splitlines()]
    if timed_out is None and not _newest(said, _TIMED_OUT)[0]:
        return None
    before = stamped[newest:] if timed_out is None else stamped[newest:timed_out]
    # The app was ready before systemd gave up: something else hung, not the import.
    if any(_READY.search(line) for _stamp, line in before):
        return None
    started = next((i for i in reversed(range(len(before))) if _START.search(before[i][1])), None)
    timeout = evidence.get("health_timeout")
    setting = f"app_health_timeout ({timeout} s)" if timeout else "app_health_timeout"
    began, ended = (
        (before[started][0] if started is not None else None),
        (stamped[timed_out][0] if timed_out is not None else None),
    )
    if began and ended:
        so_far = (
            f"uWSGI started at {began:%H:%M:%S} and had been importing the app for"
            f" {(ended - began).total_seconds():.0f} s without finishing"
        )
    elif timeout:
        so_far = f"uWSGI had been importing the app for about {timeout} s without finishing"
    else:
        so_far = "uWSGI had not finished importing the app"
    # uWSGI goes on importing after the timeout (it takes the stop signal once the app is in), and
    # may say how long the import took in all.
    after = stamped[timed_out:] if timed_out is not None else []
    took = next((_READY_IN.search(line) for _stamp, line in after if _READY_IN.search(line)), None)
    if took:
        so_far += f"; it was ready {took.group(1)} s after it began, too late"
    line = stamped[timed_out][1] if timed_out is not None else _newest(said, _TIMED_OUT)[0]
    return line, (
        f"The canary was still loading the app when {setting} ran out: {so_far}. Raise"
        " app_health_timeout above the time the import takes, or make the import faster (open"
        " connections, load data or models on first use rather than at import)."
    )


def _python_mismatch(evidence):
    line, found = _newest(evidence.log, _PYTHON_VERSION)
    wanted = evidence.get("python_version")
    if not line or not wanted or found.group(1) == wanted:
        return None
    replaced = f"the plugin {evidence.get('plugin')}" if evidence.get("plugin") else "uWSGI"
    return line, (
        f"uWSGI runs Python {found.group(1)} but the virtualenv is Python {wanted}: the plugin and"
        " the virtualenv must come from one Python, which app_python_version chooses for both, so"
        " do not set plugin or virtualenv in app_uwsgi_options. If"
        f" {replaced} was replaced, rerun pyops.uwsgi.uwsgi, which rebuilds it from its record."
    )


def _entry_module_missing(evidence):
    for line in reversed(evidence.loading):
        found = _NO_MODULE.search(line)
        entry = found and found.group(1) in evidence.entry_modules()
        if entry or _ENTRY_FILE_MISSING.search(line):
            return line, (
                f"Set app_wsgi_module (now '{evidence.get('wsgi_module')}') to the module that"
                " defines or imports the WSGI callable: its path relative to the code directory,"
                " with dots for packages and no .py (mysite/wsgi.py is mysite.wsgi)."
            )
    return None


def _bare_verdict(lines):
    """uWSGI's newest load verdict, unless Python printed an error just before it.

    Such an error (KeyError, SyntaxError...) is the cause; without one, the module imported but
    lacks the callable. "Just before" means since the previous start or verdict.
    """
    verdict, errored = None, False
    for line in lines:
        if _LOAD_FAILED.search(line):
            verdict = None if errored else line
        if _START.search(line) or _OUTCOME.search(line):
            errored = False
        elif _PYTHON_ERROR.search(line):
            errored = True
    return verdict


def _callable_missing(evidence):
    line = _newest(evidence.loading, _CALLABLE_MISSING)[0] or _bare_verdict(evidence.loading)
    if not line:
        return None
    return line, (
        f"Set app_wsgi_callable (now '{evidence.get('wsgi_callable')}') to the name that"
        f" {evidence.get('wsgi_module') or 'the entry module'} binds the WSGI app to (Flask apps"
        " often call it app), or fix the import in the entry module."
    )


def _package_missing(evidence):
    line, found = _newest(evidence.log, _NO_MODULE)
    if not line:
        return None
    package = found.group(1).split(".")[0]
    requirements = evidence.get("requirements_file") or "the requirements file"
    return line, (
        f"Add the distribution that provides '{package}' (often the same name, but the PyPI name"
        f" may differ) to {requirements} (app_requirements_file) or to app_pip_packages, unless"
        f" '{package}' is part of the app's code. Packages installed for another user or"
        " system-wide are not visible to the app's virtualenv."
    )


def _socket_denied(evidence):
    line, path = evidence.nginx_connect("13")
    if not line and evidence.probe.get("error") != "permission_denied":
        return None
    web_user = evidence.get("web_user") or "nginx's user"
    return line, evidence.elsewhere(path) + (
        f"nginx's user ({web_user}) must be able to open the socket: mode 0660, owned by the app"
        " with nginx's group, in a directory that group can traverse. Rerun pyops.uwsgi.uwsgi and"
        " pyops.uwsgi.app, and keep chmod-socket, chown-socket, uid and gid out of"
        " app_uwsgi_options."
    )


def _socket_missing(evidence):
    line, path = evidence.nginx_connect("2")
    if not line and evidence.probe.get("error") != "socket_missing":
        return None
    return line, evidence.elsewhere(path) + (
        "nginx's site must use the app's own socket: leave the site to pyops.uwsgi.app and make"
        f" app_socket ({evidence.get('socket')}) the path nginx uses. If uWSGI never created the"
        " socket, its log says why."
    )


def _out_of_reach(evidence):
    line = _newest(evidence.log, _CHDIR)[0]
    if not line:
        return None
    # uWSGI says where it goes first: "chdir() to /srv/shop/releases/ID/code".
    index = len(evidence.log) - 1 - evidence.log[::-1].index(line)
    target = next(
        (
            earlier.split("chdir() to ", 1)[1]
            for earlier in reversed(evidence.log[:index])
            if earlier.startswith("chdir() to ")
        ),
        "a directory",
    )
    unit = evidence.get("unit") or "its unit"
    root = evidence.get("root") or "app_root"
    return line, (
        f"uWSGI, started as {unit} starts it, cannot enter {target}: that unit's sandbox hides it"
        " (ProtectHome hides /home and /root, PrivateTmp /tmp) or the app's user may not read it."
        f" The release's code lives under app_root ({root}), best under /srv (the default); a"
        " chdir or chdir2 of app_uwsgi_options must point where the app may go, or an app under a"
        " unit of its own may loosen the sandbox with app_systemd_options."
    )


def _queue_full(evidence):
    # nginx counted more requests than the app queues (limit_conn: 503 with Retry-After), or the
    # socket's queue was full when nginx connected (EAGAIN: 502).
    line = _newest(evidence.nginx, _QUEUE_LIMIT)[0] or evidence.nginx_connect("11")[0]
    if not line:
        return None
    return line, (
        "More requests came at once than the app's workers take plus the requests its queue holds"
        " (app_listen): past it nginx answers 503 with Retry-After. Raise app_processes (or"
        " app_threads) if the workers are the bottleneck, app_listen (at most the host's"
        " net.core.somaxconn) if bursts should wait longer, or make the slow requests faster;"
        " docs/limits.md says how the queue and the timeouts agree."
    )


def _healthy(evidence):
    return [int(status) for status in evidence.app.get("health_status") or range(200, 400)]


def _unhealthy_answer(evidence):
    status = evidence.probe.get("status")
    # A 5xx is the app failing: its traceback, found below, says more than the status.
    if not isinstance(status, int) or status in _healthy(evidence) or status >= 500:
        return None
    # The app's own reason first (uWSGI logs the request after it), else uWSGI's request line.
    reason = _newest(evidence.log, re.compile(r"Invalid HTTP_HOST|DisallowedHost"))[0]
    answer = re.compile(rf"\(HTTP/\d(?:\.\d)? {status}\)|\s{status}\s")
    line = reason or _newest(evidence.log, answer)[0] or ""
    healthy = _healthy(evidence)
    accepted = (
        "any 2xx or 3xx" if healthy == list(range(200, 400)) else ", ".join(map(str, healthy))
    )
    return line, (
        f"The app answered {status} to GET {evidence.get('health_path') or '/'} with Host"
        f" {evidence.get('health_host') or 'localhost'}, and the health check takes {accepted}"
        " (app_health_status). An app that checks the Host it is asked for (Django's"
        " ALLOWED_HOSTS) needs app_health_host set to a name it serves; one that asks clients to"
        " log in needs app_health_path pointed at a page that does not, or that status in"
        " app_health_status."
    )


def _shared_across_fork(evidence):
    if evidence.get("lazy_apps") == "True":
        return None
    line = _newest(evidence.log, _FORK)[0]
    if not line:
        return None
    return line, (
        "A worker died of what it shares with the others since uWSGI forked them from the master"
        " after importing the app once: a connection, client socket or thread made at import."
        " Set app_lazy_apps: true, so each worker imports the app itself, or open such things on"
        " first use."
    )


# Checked in this order. A dead app makes nginx fail too, so the app's own errors come first; a
# plugin on another Python makes the app's packages look missing, so it comes before those. An app
# that loaded and answered badly comes after the load errors. Ids of the tutorials' pitfalls are
# theirs; the others name what went wrong.
_RULES = (
    # A start systemd gave up on says nothing else: no error was logged, the import just ran long.
    ("timeout", "Import slower than app_health_timeout", _import_timed_out),
    ("reach", "Code out of the service's reach", _out_of_reach),
    ("003", "Plugin embeds another Python", _python_mismatch),
    ("1a", "Wrong entry point", _entry_module_missing),
    ("1b", "Wrong callable", _callable_missing),
    ("2", "Package missing from the virtualenv", _package_missing),
    ("fork", "State shared across the fork", _shared_across_fork),
    ("status", "The app answered with another status", _unhealthy_answer),
    ("3b", "Permission denied on the socket", _socket_denied),
    ("3a", "nginx points at a missing socket", _socket_missing),
    # Overload, not a broken deploy: only when nothing above explains the failure.
    ("queue", "More requests than the app queues", _queue_full),
)
_PITFALLS = ("003", "1a", "1b", "2", "3a", "3b")


def _probe_words(probe):
    """The probe's finding in words, or "" when it found nothing wrong."""
    if probe and not probe.get("error") and isinstance(probe.get("status"), int):
        return f"the app answered {probe['status']}"
    if not probe or not probe.get("error"):
        return ""
    detail = f": {probe['error_message']}" if probe.get("error_message") else ""
    return f"the probe reported {probe['error']}{detail}"


def _decisive(evidence):
    """The newest line that says what went wrong, and the setting usually behind it."""
    log = [line for line in evidence.log if not _ROUTINE.search(line)]
    line = _newest(log, _DECISIVE)[0] or _newest(evidence.nginx, _DECISIVE)[0]
    if not line:
        return None, None
    lowered = line.lower()
    setting = next((name for word, name in _SETTING_HINTS if word in lowered), None)
    return line, setting


def uwsgi_diagnose(log_lines, app, probe=None, nginx_lines=None, start=None):
    """Name the pitfall that LOG_LINES, NGINX_LINES, PROBE and START show for APP.

    START is the canary's start (the registered result of its systemd-run: stderr, end, delta).

    Returns a dict with ``id``, ``title``, the decisive ``line`` (journal prefix removed), the
    ``fix`` in terms of the role's variables and a one-line ``message`` for a failed task.
    """
    if not isinstance(app, Mapping):
        raise AnsibleFilterError(f"uwsgi_diagnose: app must be a dict, got {type(app).__name__}")
    if probe is not None and not isinstance(probe, Mapping):
        raise AnsibleFilterError(
            f"uwsgi_diagnose: probe must be a dict or null, got {type(probe).__name__}"
        )
    if start is not None and not isinstance(start, Mapping):
        raise AnsibleFilterError(
            f"uwsgi_diagnose: start must be a dict or null, got {type(start).__name__}"
        )
    evidence = _Evidence(log_lines, app, probe, nginx_lines, start)
    for pitfall, title, rule in _RULES:
        found = rule(evidence)
        if found:
            line, fix = found
            quoted = f'"{line}"' if line else _probe_words(probe)
            named = f"Pitfall {pitfall} ({title})" if pitfall in _PITFALLS else title
            message = f"{named}: {quoted}. {fix}"
            return {"id": pitfall, "title": title, "line": line, "fix": fix, "message": message}

    fix = (
        f"Read the app's log (journalctl -t uwsgi-{evidence.get('name') or 'APP'}) and nginx's"
        " error.log for the cause."
    )
    tail = evidence.log[-_TAIL:] or evidence.nginx[-_TAIL:]
    seen = " | ".join(f'"{line}"' for line in tail) if tail else "none"
    probed = _probe_words(probe)
    line, setting = _decisive(evidence)
    decisive = ""
    if line:
        decisive = f' The decisive line: "{line}"' + (f" (look at {setting})." if setting else ".")
    message = (
        f"No known pitfall matched{'; ' + probed if probed else ''}.{decisive}"
        f" Last log lines: {seen}."
    )
    return {
        "id": "unknown",
        "title": "No known pitfall",
        "line": line or "",
        "fix": fix,
        "message": f"{message} {fix}",
    }


class FilterModule:
    """pyops.uwsgi filters."""

    def filters(self):
        return {"uwsgi_diagnose": uwsgi_diagnose}
