# Copyright: pyops.uwsgi contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The titles of an app's uWSGI processes, what they say, and the waits that read them.

Private to pyops.uwsgi: it may change in any release. Standard library only: it is shipped to the
managed host inside modules.

With ``auto-procname`` and ``procname-prefix-spaced = APP GENERATION``, uWSGI titles its processes
``APP GENERATION uWSGI master``, ``APP GENERATION uWSGI worker 1``, ``APP GENERATION uWSGI mule 1``
and so on (``procname-append`` may add text after them). GENERATION is a digest of the vassal's
options, so a title says which configuration a process runs; the canary's GENERATION is
``canary``. A deploy knows a reload is done when every process serving the app runs the new one.
"""

from __future__ import annotations

import re
import typing as t

# The generation of the canary's processes.
CANARY = "canary"
# The processes that serve requests; a deploy waits on these (mules and spoolers serve none).
SERVING_KINDS = ("master", "worker")

# "[PREFIX ]uWSGI KIND[ N]...": the kinds uWSGI names first, so that text procname-append added
# right after one ("uWSGI masterX") leaves the kind as it is.
_TITLE = re.compile(
    r"^(?:(?P<prefix>.*?) )?uWSGI"
    r" (?P<kind>master|worker|mule|spooler|[A-Za-z]+)(?: (?P<number>[0-9]+))?"
)


def prefix(app: str, generation: str) -> str:
    """The ``procname-prefix-spaced`` of APP's processes running GENERATION."""
    return f"{app} {generation}"


def parse(title: str, *, pid: int) -> dict[str, t.Any] | None:
    """What the process title says, or None for a process that is not uWSGI's.

    ``name`` and ``generation`` are null when the title has no prefix (uWSGI not started by the
    app role); ``number`` is a worker's or mule's, null for the others.
    """
    found = _TITLE.match(title)
    if found is None:
        return None
    name = generation = None
    if found["prefix"] is not None:
        name, _space, generation = found["prefix"].partition(" ")
    return {
        "pid": pid,
        "name": name,
        "generation": generation,
        "canary": generation == CANARY,
        "kind": found["kind"],
        "number": None if found["number"] is None else int(found["number"]),
        "title": title,
    }


def serving(processes: t.Iterable[dict[str, t.Any]], *, app: str) -> list[dict[str, t.Any]]:
    """The masters and workers serving APP, its canary's aside.

    A title without a prefix is not counted, as the role's waits never counted it.
    """
    return [
        process
        for process in processes
        if process["kind"] in SERVING_KINDS
        and process["name"] is not None
        and not (process["name"] == app and process["canary"])
    ]


def _listed(processes: list[dict[str, t.Any]]) -> str:
    shown = ", ".join(f"{process['title']} (pid {process['pid']})" for process in processes[:5])
    return shown + (f" and {len(processes) - 5} more" if len(processes) > 5 else "")


def runs_generation(processes, *, app: str, generation: str | None) -> str | None:
    """None when APP's processes all run GENERATION, two at least (a master and a worker)."""
    found = serving(processes, app=app)
    if len(found) < 2:
        have = f": {_listed(found)}" if found else ""
        return (
            f"{len(found)} uWSGI master or worker of {app} runs{have}; a reload is done when two"
            f" at least (a master and a worker) run generation {generation}"
        )
    stale = [
        process
        for process in found
        if process["name"] != app or process["generation"] != generation
    ]
    if stale:
        return f"{len(stale)} of {len(found)} do not run generation {generation}: {_listed(stale)}"
    return None


def stopped(processes, *, app: str, generation: str | None = None) -> str | None:
    """None when no master or worker serves APP but its canary's, else what still runs."""
    found = serving(processes, app=app)
    if found:
        return f"{len(found)} uWSGI master or worker of {app} still run: {_listed(found)}"
    return None


# What a wait on an app's processes may wait for, by name (uwsgi_info's wait_for): each says
# None when it holds, else what the processes show instead.
PREDICATES: dict[str, t.Callable[..., str | None]] = {
    "generation": runs_generation,
    "stopped": stopped,
}
