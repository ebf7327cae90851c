# Copyright: pyops.uwsgi contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Waiting inside a module: try, judge the outcome, sleep, until it is accepted or time is up.

Private to pyops.uwsgi (its modules import it; nothing outside the collection should): it may
change in any release. Standard library only: it is shipped to the managed host inside modules.

A wait of ``wait`` seconds tries at once, then every ``interval`` seconds, and once more when the
deadline comes, so that a wait of W seconds every I seconds tries as often as Ansible's
``until``/``retries: W/I``/``delay: I`` did (1 + W/I times when each try is quick). A try that is
slow is not cut short: it runs to its own timeout, and none starts after the deadline.
"""

from __future__ import annotations

import time
import typing as t

T = t.TypeVar("T")

# Longest body excerpt a failure quotes, in characters.
EXCERPT = 160


class Waited(t.NamedTuple):
    """How a wait ended: the last outcome, whether it was accepted, tries made, seconds spent."""

    outcome: t.Any
    accepted: bool
    attempts: int
    waited: float


def check(*, wait: float, interval: float) -> str | None:
    """What is wrong with the wait's options, in words, or None."""
    if wait < 0:
        return f"wait must be 0 seconds (one try) or more; got {wait:g}"
    if interval <= 0:
        return f"interval must be more than 0 seconds; got {interval:g}"
    return None


def wait_for(
    attempt: t.Callable[[], T],
    accepted: t.Callable[[T], bool],
    *,
    wait: float,
    interval: float,
    clock: t.Callable[[], float] = time.monotonic,
    sleep: t.Callable[[float], object] = time.sleep,
) -> Waited:
    """Call ATTEMPT until ACCEPTED takes its outcome or WAIT seconds have passed."""
    started = clock()
    deadline = started + wait
    attempts = 0
    while True:
        outcome = attempt()
        attempts += 1
        if accepted(outcome):
            return Waited(outcome, True, attempts, clock() - started)
        remaining = deadline - clock()
        if remaining <= 0:
            return Waited(outcome, False, attempts, clock() - started)
        sleep(min(interval, remaining))


def summary(waited: Waited, *, wait: float) -> str:
    """The words a failed wait starts its message with; empty for a single try (wait 0)."""
    if wait <= 0:
        return ""
    tries = "1 try" if waited.attempts == 1 else f"{waited.attempts} tries"
    return f"{tries} in {waited.waited:.1f} s (wait {wait:g} s), none accepted; the last: "


def statuses_text(statuses: t.Iterable[int]) -> str:
    """STATUSES in words: runs of three or more as a range (200-399), the rest joined by 'or'."""
    ordered = sorted(set(statuses))
    parts = []
    start = 0
    while start < len(ordered):
        end = start
        while end + 1 < len(ordered) and ordered[end + 1] == ordered[end] + 1:
            end += 1
        if end - start >= 2:
            parts.append(f"{ordered[start]}-{ordered[end]}")
        else:
            parts.extend(str(status) for status in ordered[start : end + 1])
        start = end + 1
    return " or ".join(parts)


def excerpt(body: str, limit: int = EXCERPT) -> str:
    """BODY on one line, quoted, cut at LIMIT characters; empty for an empty body."""
    text = " ".join(body.split())
    if not text:
        return ""
    if len(text) > limit:
        text = text[: limit - 3] + "..."
    return f'"{text}"'
