# Copyright: pyops.uwsgi contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The one line of a failed task's output that says why it failed, instead of the whole dump."""

from __future__ import annotations

import os
import re
import shlex
from collections.abc import Mapping

from ansible.errors import AnsibleFilterError

# What Ansible's modules say when the output, not the message, holds the reason.
_GENERIC = re.compile(
    r"^(?:non-zero return code|Error executing command\.|MODULE FAILURE\b.*|All items completed"
    r"|One or more items failed"
    r"|stdout: |:?stderr: )",
    re.IGNORECASE | re.DOTALL,
)
# Lines that look decisive but only point elsewhere.
_NOISE = re.compile(
    r"^(?:ERROR: Exception:$|ERROR: ResolutionImpossible: for help visit|note: |hint: "
    r"|See (?:https?://|\"systemctl|'journalctl))",
    re.IGNORECASE,
)

# name -> (pattern of the decisive line, what usually fixes it). Checked in this order: a full
# disk causes every other kind of error after it, so it comes first. The first three decide even
# over a task's own message; the others only where the message is Ansible's generic one.
RULES = {
    "disk_full": (
        re.compile(r"No space left on device|\bENOSPC\b|Errno 28\b|Disk quota exceeded"),
        "the filesystem it writes to is full: free space there (or lower app_keep_releases)",
    ),
    "interpreter_missing": (
        re.compile(r"No such file or directory: b?'[^']*/python[\d.]*'"),
        "that interpreter is not installed: rerun pyops.uwsgi.uwsgi with the app's"
        " app_python_version among uwsgi_python_versions, which installs it",
    ),
    "ensurepip_missing": (
        # venv breaks its own message across lines: "... because ensurepip is not\navailable."
        re.compile(r"\bensurepip is not\b|No module named '?ensurepip"),
        "that Python has no ensurepip (Debian's pythonX.Y-venv package): rerun"
        " pyops.uwsgi.uwsgi, which installs it",
    ),
    "pip_error": (re.compile(r"^ERROR: \S"), ""),
    "python_error": (re.compile(r"^(?:[\w.]+(?:Error|Exception)|Error): \S"), ""),
    "error_word": (
        re.compile(
            r"\b(?:error|failed|cannot|can't|unable|denied|not permitted|not found|no such)\b",
            re.IGNORECASE,
        ),
        "",
    ),
}
_DECIDE_OVER_MESSAGE = ("disk_full", "interpreter_missing", "ensurepip_missing")
# The pip module puts both streams in its message: "stdout: ...\n:stderr: ...".
_STREAM_PREFIX = re.compile(r"^:?(?:stdout|stderr): ")
_LONGEST = 300


def _lines(text):
    return [_STREAM_PREFIX.sub("", line.strip()) for line in text.splitlines() if line.strip()]


def _not_run(result):
    """What ansible-core 2.19's command module leaves out when the command could not be run at
    all ("Error executing command.", rc the errno): "[Errno 2] No such file or directory: 'CMD'"."""
    rc, cmd = result.get("rc"), result.get("cmd")
    if not (isinstance(rc, int) and 0 < rc < 256 and isinstance(result.get("msg"), str)):
        return None
    if not result["msg"].startswith("Error executing command"):
        return None
    try:
        words = shlex.split(cmd) if isinstance(cmd, str) else [str(word) for word in cmd or []]
    except ValueError:
        words = str(cmd).split()
    return f"[Errno {rc}] {os.strerror(rc)}: '{words[0]}'" if words else None


def _texts(result, with_msg=True):
    """The failed result's output (and message), as lists of lines, most telling first."""
    not_run = _not_run(result)
    texts = [[not_run]] if not_run else []
    # ansible.builtin.unarchive keeps tar's output apart, in extract_results.
    extracted = result.get("extract_results")
    extracted = extracted if isinstance(extracted, Mapping) else {}
    values = [
        *(result.get(key) for key in ("stderr", "module_stderr")),
        extracted.get("err"),
        *(result.get(key) for key in ("stdout", "module_stdout")),
        extracted.get("out"),
        result.get("msg") if with_msg else None,
    ]
    texts += [_lines(value) for value in values if isinstance(value, str) and value.strip()]
    return texts


def _failed_item(result):
    """A loop's first failed item, or the result itself."""
    items = result.get("results")
    if isinstance(items, list):
        for item in items:
            if isinstance(item, Mapping) and item.get("failed"):
                return item
    return result


def _short(line):
    return line if len(line) <= _LONGEST else line[: _LONGEST - 3] + "..."


def _match(texts, names):
    """(the first line a rule of NAMES finds, in rule order, and its fix), or (None, None)."""
    for name in names:
        pattern, fix = RULES[name]
        for lines in texts:
            for line in lines:
                if pattern.search(line) and not _NOISE.search(line):
                    return line, fix
    return None, None


def failure_reason(result, task=""):
    """One line that says why the failed task TASK (its name) failed, from its RESULT.

    A task's own message is kept as it is, unless its output shows a full disk, a missing
    interpreter or a Python without ensurepip. Where the message is Ansible's generic one
    ("non-zero return code", pip's dump of both streams), the decisive line of the output (pip's
    ERROR line, a Python exception, a line that says what failed) is quoted once. A result hidden by
    no_log says so and names the task.
    """
    if not isinstance(result, Mapping):
        raise AnsibleFilterError(
            f"failure_reason expects a task result (dict), got {type(result).__name__}"
        )
    named = f"{task} failed" if task else "A task failed"
    result = _failed_item(result)
    if "censored" in result:
        return (
            f"{named}; its output is hidden (no_log), as it may hold secrets such as app_env"
            " values."
        )
    texts = _texts(result)
    # A command's own message may hold the cause (an older ansible-core's "[Errno 2] No such file
    # or directory: b'/usr/bin/python3.9'"); a message without output (ansible.builtin.fail saying
    # why, perhaps quoting a full disk itself) is kept whole.
    ran = any(key in result for key in ("rc", "cmd", "stderr", "stdout", "extract_results"))
    line, fix = _match(_texts(result, with_msg=ran), _DECIDE_OVER_MESSAGE)
    msg = result.get("msg")
    if not line and isinstance(msg, str) and msg.strip() and not _GENERIC.search(msg.strip()):
        return msg.strip()
    if not line:
        line, fix = _match(texts, [name for name in RULES if name not in _DECIDE_OVER_MESSAGE])
    if not line:
        line = next((lines[-1] for lines in texts if lines), "")
    if line:
        return f'{named}: "{_short(line)}"' + (f"; {fix}." if fix else ".")
    rc = result.get("rc")
    return named + (f" with return code {rc}." if rc is not None else " and said nothing.")


class FilterModule:
    """pyops.uwsgi filters."""

    def filters(self):
        return {"failure_reason": failure_reason}
