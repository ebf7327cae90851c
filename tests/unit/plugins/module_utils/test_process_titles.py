"""Process titles as the app role sets them: what each says, and the waits that read them."""

from __future__ import annotations

import pytest
from ansible_collections.pyops.uwsgi.plugins.module_utils import process_titles
from ansible_collections.pyops.uwsgi.tests.unit.plugins import stand_in

# Titles as `ps -o args=` showed them on a host of the default scenario, and a few that uWSGI or
# an app_uwsgi_options value may make: (title, name, generation, kind, number).
TITLES = [
    ("hello 38c4bd74 uWSGI master", "hello", "38c4bd74", "master", None),
    ("hello 38c4bd74 uWSGI worker 1", "hello", "38c4bd74", "worker", 1),
    ("hello 38c4bd74 uWSGI worker 12", "hello", "38c4bd74", "worker", 12),
    ("hello canary uWSGI worker 2", "hello", "canary", "worker", 2),
    ("hello 38c4bd74 uWSGI mule 1", "hello", "38c4bd74", "mule", 1),
    ("hello 38c4bd74 uWSGI spooler", "hello", "38c4bd74", "spooler", None),
    # procname-append writes right after the name uWSGI gives.
    ("hello 38c4bd74 uWSGI masterX uWSGI worker 9", "hello", "38c4bd74", "master", None),
    ("hello 38c4bd74 uWSGI worker 3 [shop]", "hello", "38c4bd74", "worker", 3),
    # No prefix: a uWSGI the app role did not start.
    ("uWSGI master", None, None, "master", None),
    ("uWSGI worker 1", None, None, "worker", 1),
]
NOT_UWSGI = [
    "/usr/bin/uwsgi --ini /etc/uwsgi/services/hello.ini",  # before it titles itself
    "celery -A hello worker",
    "hello 38c4bd74 uwsgi worker 1",
    "sleep 30",
    "",
]


@pytest.mark.parametrize(("title", "name", "generation", "kind", "number"), TITLES)
def test_a_title_says_name_generation_kind_and_number(title, name, generation, kind, number):
    process = process_titles.parse(title, pid=42)
    assert process == {
        "pid": 42,
        "name": name,
        "generation": generation,
        "canary": generation == "canary",
        "kind": kind,
        "number": number,
        "title": title,
    }


@pytest.mark.parametrize("title", NOT_UWSGI)
def test_other_titles_are_not_uwsgi_s(title):
    assert process_titles.parse(title, pid=42) is None


def test_the_prefixes_are_those_the_plan_gives_uwsgi():
    # app_plan builds procname-prefix-spaced itself: the titles read here must be the ones it sets.
    planned = stand_in.app()["plan"]
    service = dict(line.split(" = ", 1) for line in planned["vassal"]["text"].splitlines()
                   if " = " in line)  # fmt: skip
    canary = dict(line.split(" = ", 1) for line in planned["canary"]["ini"].splitlines()
                  if " = " in line)  # fmt: skip
    name, generation = planned["name"], planned["vassal"]["generation"]
    assert service["procname-prefix-spaced"] == process_titles.prefix(name, generation)
    assert canary["procname-prefix-spaced"] == process_titles.prefix(name, process_titles.CANARY)
    assert service["auto-procname"] == canary["auto-procname"] == "true"


def ps(*titles):
    return [process_titles.parse(title, pid=pid) for pid, title in enumerate(titles, 100)]


NEW = "hello aaaaaaaa uWSGI"
OLD = "hello bbbbbbbb uWSGI"
CANARY = "hello canary uWSGI"
# The waits, keyed by predicate: (processes, holds, words of the reason when it does not).
CASES = {
    "generation": [
        (ps(f"{NEW} master", f"{NEW} worker 1", f"{NEW} worker 2"), True, ""),
        # The canary's, mules and untitled uWSGI do not count.
        (ps(f"{NEW} master", f"{NEW} worker 1", f"{CANARY} master", f"{OLD} mule 1"), True, ""),
        (ps(f"{NEW} master", f"{NEW} worker 1", "uWSGI worker 1"), True, ""),
        (ps(f"{NEW} master", f"{OLD} worker 1"), False, "1 of 2 do not run generation aaaaaaaa"),
        (ps(f"{NEW} master", "other aaaaaaaa uWSGI worker 1"), False, "other aaaaaaaa uWSGI"),
        (ps(f"{NEW} master"), False, "1 uWSGI master or worker of hello runs: hello aaaaaaaa"),
        (ps(f"{CANARY} master", f"{CANARY} worker 1"), False, "0 uWSGI master or worker"),
        (ps(), False, "0 uWSGI master or worker of hello runs; a reload is done when two"),
    ],
    "stopped": [
        (ps(), True, ""),
        (ps(f"{CANARY} master", f"{CANARY} worker 1", f"{OLD} mule 1", "uWSGI master"), True, ""),
        (ps(f"{CANARY} master", f"{OLD} master"), False, "1 uWSGI master or worker of hello"),
        (ps(*(f"{OLD} worker {n}" for n in range(1, 8))), False, "worker 5 (pid 104) and 2 more"),
    ],
}


@pytest.mark.parametrize(
    ("predicate", "processes", "holds", "words"),
    [(name, *case) for name, cases in CASES.items() for case in cases],
)
def test_predicates(predicate, processes, holds, words):
    why = process_titles.PREDICATES[predicate](processes, app="hello", generation="aaaaaaaa")
    assert (why is None) is holds, why
    if not holds:
        assert words in why


def test_every_predicate_has_cases():
    assert set(CASES) == set(process_titles.PREDICATES)
