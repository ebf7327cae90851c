"""The wait loop the modules share, on a clock of its own: how often it tries, and when it stops."""

from __future__ import annotations

import pytest
from ansible_collections.pyops.uwsgi.plugins.module_utils import waiter


class FakeClock:
    """A clock that moves only when the code sleeps or a try takes time."""

    def __init__(self) -> None:
        self.now = 100.0
        self.sleeps: list[float] = []

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds


def run(outcomes, *, wait, interval, cost=0.0):
    """Wait on OUTCOMES (the last repeats), each try taking COST seconds; -> (Waited, tries)."""
    clock = FakeClock()
    tries = []

    def attempt():
        tries.append(clock.now - 100.0)
        clock.now += cost
        return outcomes[min(len(tries), len(outcomes)) - 1]

    waited = waiter.wait_for(
        attempt, lambda outcome: outcome == "ok", wait=wait, interval=interval,
        clock=clock, sleep=clock.sleep,
    )  # fmt: skip
    return waited, tries, clock


def test_accepted_at_once_does_not_sleep():
    waited, _tries, clock = run(["ok"], wait=5, interval=1)
    assert (waited.accepted, waited.attempts, waited.outcome) == (True, 1, "ok")
    assert clock.sleeps == []


def test_accepted_after_some_tries():
    waited, tries, _clock = run(["no", "no", "ok"], wait=5, interval=1)
    assert (waited.accepted, waited.attempts) == (True, 3)
    assert tries == [0, 1, 2]


def test_quick_tries_are_as_many_as_until_retries_made():
    # until / retries: 5 / delay: 1 tried 6 times, 1 s apart; so does a wait of 5 s every 1 s.
    waited, tries, _clock = run(["no"], wait=5, interval=1)
    assert (waited.accepted, waited.attempts, waited.outcome) == (False, 6, "no")
    assert tries == [0, 1, 2, 3, 4, 5]


def test_the_last_try_comes_when_the_deadline_does():
    # Tries that take time: the sleeps shrink so that the last try starts at the deadline.
    waited, tries, clock = run(["no"], wait=3, interval=1, cost=0.25)
    assert tries == [0, 1.25, 2.5, 3]
    assert clock.sleeps == [1, 1, 0.25]
    assert waited.waited == pytest.approx(3.25)


def test_a_slow_try_is_not_cut_short_and_none_starts_after_the_deadline():
    waited, tries, clock = run(["no"], wait=3, interval=1, cost=10)
    assert (waited.attempts, tries, clock.sleeps) == (1, [0], [])
    assert waited.waited == 10


def test_no_wait_tries_once():
    waited, _tries, clock = run(["no"], wait=0, interval=1)
    assert (waited.accepted, waited.attempts, clock.sleeps) == (False, 1, [])
    assert waiter.summary(waited, wait=0) == ""


def test_summary_counts_the_tries():
    waited, _tries, _clock = run(["no"], wait=2, interval=1)
    assert waiter.summary(waited, wait=2) == (
        "3 tries in 2.0 s (wait 2 s), none accepted; the last: "
    )


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"wait": -1, "interval": 1}, "wait must be 0 seconds (one try) or more; got -1"),
        ({"wait": 5, "interval": 0}, "interval must be more than 0 seconds; got 0"),
        ({"wait": 5, "interval": -0.5}, "interval must be more than 0 seconds; got -0.5"),
    ],
)
def test_refused_options(options, message):
    assert waiter.check(**options) == message


def test_good_options():
    assert waiter.check(wait=0, interval=0.1) is None


@pytest.mark.parametrize(
    ("statuses", "text"),
    [
        ([200], "200"),
        ([201, 204], "201 or 204"),
        (list(range(200, 400)), "200-399"),
        ([200, 201, 202, 204, 301, 302], "200-202 or 204 or 301 or 302"),
        ([302, 200, 200], "200 or 302"),
    ],
)
def test_statuses_text(statuses, text):
    assert waiter.statuses_text(statuses) == text


def test_excerpt():
    assert waiter.excerpt("") == ""
    assert waiter.excerpt("  \n ") == ""
    assert waiter.excerpt("warming\n  up\n") == '"warming up"'
    long = waiter.excerpt("x" * 500)
    assert len(long) == waiter.EXCERPT + 2 and long.endswith('..."')
