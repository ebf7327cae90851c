"""Write docs/benchmark.md and docs/benchmark.png from the results of benchmarks/bench.py.

Runs in build/bench-venv (matplotlib, pinned in benchmarks/requirements.txt); only the chart needs
matplotlib, so the page's sections can be tested without it. Every figure in the two files comes
from the results file; nothing here is a measurement. Exits 1 when the run broke a
requirement (an error or a non-2xx response under load, a re-run that changed something) or is
incomplete: a run that failed leaves the figures of the stages before the failure, which this
renders as they are, saying at the top and in each section what is missing.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from string import Template
from typing import Any

from bench import CONTROL, STAGES

TOP = Path(__file__).resolve().parent.parent
ERROR_SHOWN = 300  # characters of a failed run's error on the page (all of it in the results)
NOT_READ = "not read (the run ended before the stacks ran)"

# The goals for the defaults: (what, comparison target kind, minimum ratio, its aim); the
# best stack of the kind is the one compared (the better of the two gunicorn stacks).
RATIO_GOALS = [
    ("Granian", "granian", 1.1, 1.25),
    ("the best tutorial config", "tutorial", 1.25, None),
    ("gunicorn in either mode (the better of the two)", "gunicorn", 2.0, None),
]
CPU_GOAL = 3.0  # the stack's CPU per request at most this many times the app's own per call
P99_GOAL_MS = 10.0
P99_GOAL_SHARE = "80"  # percent of the maximum rate the p99 goal is held at
# A redeploy under a steady load: its p99 within this factor of the steady state's, its max below.
REDEPLOY_P99_FACTOR = 2.0
REDEPLOY_MAX_MS = 250.0
KEPT_UP = 0.98  # share of the open loop's rate a stack must answer for its p99 to count
ABLATION_NOTABLE = 0.05  # a variant's rate this far from the baseline's is named below its table
KIND_COLOURS = {
    "ceiling": "#9e9e9e",
    "defaults": "#1565c0",
    "candidate": "#64b5f6",
    "tutorial": "#ef6c00",
    "gunicorn": "#2e7d32",
    "granian": "#c62828",
    "tcp": "#6a1b9a",
    "in_process": "#424242",
}
# Stacks of a kind drawn apart from the others of it.
KEY_COLOURS = {"gunicorn-uwsgi": "#81c784"}


# Process names in the CPU accounting, in the columns of the CPU table; the rest is "other".
CPU_COLUMNS = {
    "nginx": ["nginx"],
    # A Granian worker is a fork of its main process, "granian" like it (Python 3.13 forks).
    "app server": ["uwsgi-core", "gunicorn", "granian"],
    "journald": ["systemd-journal"],
    "wrk": ["wrk"],
}


# The profile's process groups and kinds of code (benchmarks/container/profile.py), as named here.
PROFILE_GROUPS = {"uwsgi": "uWSGI", "nginx": "nginx", "wrk": "wrk", "other": "the rest"}
PROFILE_CODES = {
    "python": "Python (libpython)",
    "own": "its own code (binary; uWSGI's plugins)",
    "libc": "libc, loader",
    "kernel": "kernel",
    "other": "other libraries",
}


def pyplot() -> Any:
    """matplotlib's pyplot, drawing to files only."""
    import matplotlib  # noqa: PLC0415 (only the chart needs it; the sections are tested without)

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt  # noqa: PLC0415

    return plt


def busy(figures: dict) -> str:
    """ "N %" of the machine's CPUs busy over an open-loop run; "-" where older results lack it."""
    return f"{figures['cpus_busy'] * 100:.0f} %" if "cpus_busy" in figures else "-"


def busy_note(figures: dict) -> str:
    """ ", CPUs N % busy" for an open-loop run that read it (older results did not)."""
    return f", CPUs {busy(figures)} busy" if "cpus_busy" in figures else ""


def number(value: float) -> str:
    return f"{value:,.0f}"


def ms(value: float) -> str:
    return f"{value:.2f}"


def ratio(value: float) -> str:
    return f"{value:.2f}x"


def mib(kib: float) -> str:
    return f"{kib / 1024:.1f}"


def signed(value: float, unit: str) -> str:
    return f"{value:+.1f}{unit}"


def shares_text(shares: list[str]) -> str:
    """["50 %", "80 %"] as "50 % and 80 %"."""
    if len(shares) < 2:
        return "".join(shares)
    return ", ".join(shares[:-1]) + " and " + shares[-1]


def open_loop_by_share(results: dict) -> dict[str, dict[str, dict]]:
    """The open-loop figures by share of the maximum (percent, a string), then by target, the
    lowest share first. A file from before several shares has one share and no level for it."""
    open_loop = results.get("open_loop") or {}
    if any("target_rate" in figures for figures in open_loop.values()):
        return {f"{results['settings']['open_loop_share'] * 100:g}": open_loop}
    return dict(sorted(open_loop.items(), key=lambda item: float(item[0])))


def server_cpu(figures: dict) -> float:
    """CPU µs per request of everything but wrk, from a stack's closed-loop figures."""
    spent = figures["cpu_us_per_request"]
    return sum(us for name, us in spent.items() if name not in CPU_COLUMNS["wrk"])


def verdict(value: float, minimum: float, aim: float | None) -> str:
    if value < minimum:
        return "**missed**"
    return "met" if aim is None or value >= aim else f"met, short of the {aim:g}x aim"


def table(header: list[str], rows: list[list[str]]) -> list[str]:
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join(" --- " for column in header) + "|"]
    return lines + ["| " + " | ".join(row) + " |" for row in rows]


class Report:
    def __init__(self, results: dict) -> None:
        self.r = results
        self.targets = results.get("targets", [])
        self.by_key = {t["key"]: t for t in self.targets}
        ceiling = self.by_key.get("ceiling")
        self.ceiling = ceiling["rps"]["median"] if ceiling else None
        in_process = results.get("in_process")
        self.in_process = in_process["calls_per_second"] if in_process else None
        embedded = results.get("in_process_embedded")  # runs from before it had none
        self.embedded = embedded["calls_per_second"] if embedded else None
        self.open_loop = open_loop_by_share(results)
        # Files written before the bench kept partial results were complete or not written at all.
        self.done = results.get("stages_done", list(STAGES))
        # A complete run of a bench that had fewer stages lacks the later ones: not missing.
        complete = results.get("complete", "stages_done" not in results)
        self.missing = [] if complete else [s for s in STAGES if s not in self.done]
        self.problems: list[str] = []

    def rate(self, kind: str) -> tuple[str, float] | None:
        """Label and median rate of the best stack of a kind; None when the run did not measure
        it."""
        of_kind = [t for t in self.targets if t["kind"] == kind]
        if not of_kind:
            return None
        best = max(of_kind, key=lambda t: t["rps"]["median"])
        return best["label"], best["rps"]["median"]

    def not_measured(self, stage: str) -> list[str]:
        if stage not in self.missing:  # a file (or a bench.py) from before the stage
            return [f"Not measured: this run had no stage for {STAGES.get(stage, stage)}."]
        return [f"Not measured: the run ended before {STAGES[stage]} (see the top of the page)."]

    def label(self, key: str) -> str:
        """A target's label; its key when the targets were not kept."""
        return self.by_key[key]["label"] if key in self.by_key else key

    def times_ceiling(self, rate: float) -> str:
        return "" if self.ceiling is None else ratio(rate / self.ceiling)

    # --- an incomplete run ------------------------------------------------------------------------

    def partly_done(self) -> list[str]:
        """What the stages that began but did not end left."""
        lines = []
        runs = self.r.get("settings", {}).get("runs", "?")
        if "converge" in self.missing and self.r.get("converge"):
            done = ", ".join(c["label"] for c in self.r["converge"])
            lines.append(f"converges done: {done}")
        rounds = self.r.get("closed_loop_rounds")
        if "closed_loop" in self.missing and (rounds or self.r.get("closed_loop_runs")):
            wrk_runs = sum(len(r) for r in self.r.get("closed_loop_runs", {}).values())
            lines.append(
                f"closed loop: {rounds or 0} of {runs} rounds in the tables, "
                f"{wrk_runs} wrk runs in all in the results file (closed_loop_runs)"
            )
        memory = self.r.get("memory", {}).get("stacks")
        if "memory" in self.missing and memory:
            lines.append(f"memory: {', '.join(map(self.label, memory))} read")
        in_process = self.r.get("in_process")
        if "in_process" in self.missing and in_process:
            lines.append(f"in-process: {len(in_process['runs'])} of {runs} runs")
        if "open_loop" in self.missing and self.open_loop:
            done = "; ".join(
                f"{share} %: {', '.join(map(self.label, by_key))}"
                for share, by_key in self.open_loop.items()
            )
            lines.append(f"open loop: {done} measured")
        ablation = self.r.get("ablation")
        if "ablation" in self.missing and ablation:
            rounds = ablation.get("rounds", 0)
            lines.append(
                f"ablation: {rounds} of {self.r['settings'].get('ablation_runs', '?')} rounds, "
                f"{len(ablation.get('summary', {}))} of {len(ablation.get('variants', []))} "
                "variants in the table"
            )
        redeploy = self.r.get("redeploy")
        if "redeploy" in self.missing and redeploy:
            done = ", ".join(run["label"] for run in redeploy.get("runs", [])) or "none"
            lines.append(f"redeploys: {done} measured")
        return lines

    def incomplete(self) -> list[str]:
        """The notice at the top of the page of a run that did not end."""
        if not self.missing:
            return []
        failed = self.r.get("failed_stage") or self.r.get("running_stage")
        where = f"in {STAGES[failed]}" if failed else "before its first stage ended"
        if "error" in self.r:
            error = self.r["error"].replace("`", "'").replace("\n", " ")
            if len(error) > ERROR_SHOWN:
                error = error[:ERROR_SHOWN] + "..."
            how = f"It failed {where}: `{error}`."
        else:
            how = f"It stopped {where}, and recorded no error (killed?)."
        lines = [
            "",
            f"**This run is incomplete.** {how} Missing: "
            + "; ".join(STAGES[stage] for stage in self.missing)
            + ". Everything below is what it measured before.",
        ]
        partly = self.partly_done()
        if partly:
            lines += ["", "Stages it began: " + "; ".join(partly) + "."]
        return [*lines, ""]

    # --- sections ---------------------------------------------------------------------------------

    def results_table(self) -> list[str]:
        if not self.targets:
            return self.not_measured("closed_loop")
        defaults = self.by_key["defaults"]["rps"]["median"]
        rows = []
        for t in self.targets:
            rps = t["rps"]
            faults = t["socket_errors"] + t["non_2xx"]
            if faults:
                self.problems.append(
                    f"{t['label']}: {t['socket_errors']} socket errors, {t['non_2xx']} non-2xx"
                )
            rows.append(
                [
                    f"**{t['label']}**" if t["kind"] == "defaults" else t["label"],
                    t["server_log"],
                    number(rps["median"]),
                    f"{number(rps['min'])}-{number(rps['max'])}",
                    ms(t["p50_ms"]),
                    ms(t["p99_ms"]),
                    self.times_ceiling(rps["median"]),
                    "" if t["kind"] in {"defaults", "ceiling"} else ratio(defaults / rps["median"]),
                    f"{t['socket_errors']} / {t['non_2xx']}",
                    "-" if t["worker_recycles"] is None else str(t["worker_recycles"]),
                ]
            )
        for key, title, calls in self.in_process_kinds():
            rows.append(
                [
                    f"{title}, one CPU (calls/s, no server)",
                    "-",
                    number(calls["median"]),
                    f"{number(calls['min'])}-{number(calls['max'])}",
                    "",
                    "",
                    self.times_ceiling(calls["median"]),
                    ratio(defaults / calls["median"]),
                    f"- / {self.r[key]['non_2xx']}",
                    "-",
                ]
            )
        return table(
            [
                "stack (all behind the same nginx)",
                "request log of the server behind nginx",
                "req/s median",
                "range",
                "p50 ms",
                "p99 ms",
                "÷ ceiling",
                "defaults ÷ this",
                "socket errors / non-2xx",
                "workers recycled",
            ],
            rows,
        )

    def cpu_table(self) -> list[str]:
        if not self.targets:
            return self.not_measured("closed_loop")
        cpus = self.r["machine"]["cpus"]
        rows = []
        for t in self.targets:
            spent = dict(t["cpu_us_per_request"])
            columns = [sum(spent.pop(name, 0) for name in names) for names in CPU_COLUMNS.values()]
            total = sum(columns) + sum(spent.values())
            rows.append(
                [
                    t["label"],
                    *(f"{value:.1f}" for value in columns),
                    f"{sum(spent.values()):.1f}",
                    f"{total:.1f}",
                    number(cpus * 1_000_000 / total),
                    f"{t['rps']['median'] * total / (cpus * 10_000):.0f} %",
                ]
            )
        for _key, title, calls in self.in_process_kinds():
            app_us = 1_000_000 / calls["median"]
            rows.append(
                [
                    f"{title} (calls, no server)",
                    "-",
                    f"{app_us:.1f}",
                    "-",
                    "-",
                    "-",
                    f"{app_us:.1f}",
                    number(cpus * 1_000_000 / app_us),
                    "one CPU",
                ]
            )
        return table(
            [
                "stack",
                *(f"{name} µs" for name in CPU_COLUMNS),
                "other µs",
                "total µs",
                f"req/s if all {cpus} CPUs did only this",
                "CPUs busy",
            ],
            rows,
        )

    def goals_table(self, key: str) -> list[str]:
        if key not in self.by_key:
            return self.not_measured("closed_loop")
        target = self.by_key[key]
        rate = target["rps"]["median"]
        rows = []
        for what, kind, minimum, aim in RATIO_GOALS:
            goal = f"≥ {minimum:g}x {what}" + (f" (aim {aim:g}x)" if aim else "")
            measured = self.rate(kind)
            if measured is None:
                rows.append([goal, f"not measured ({STAGES['closed_loop']})", ""])
                continue
            label, other = measured
            value = rate / other
            rows.append(
                [
                    goal,
                    f"{ratio(value)} ({number(rate)} ÷ {number(other)} req/s, {label})",
                    verdict(value, minimum, aim),
                ]
            )
        rows += [self.cpu_row(target), *self.latency_rows(key)]
        if key == "defaults":
            rows += self.redeploy_rows()
        return table(["goal for " + target["label"], "measured", ""], rows)

    def redeploy_rows(self) -> list[list[str]]:
        """Each redeploy under load against its goals: no failed request, p99 within
        REDEPLOY_P99_FACTOR of the steady state's, max under REDEPLOY_MAX_MS."""
        redeploy = self.r.get("redeploy") or {}
        steady = redeploy.get("steady")
        if not steady:
            return [["redeploys under load", f"not measured ({STAGES['redeploy']})", ""]]
        rows = []
        runs = [run for run in redeploy.get("runs", []) if run["label"] != CONTROL]
        control = next((r for r in redeploy.get("runs", []) if r["label"] == CONTROL), None)
        beside = f"; no change: {ms(control['load']['p99_ms'])}" if control else ""
        for run in runs:
            o = run["load"]
            failed = o["errors"] + o["non_2xx"] + o["unanswered"]
            met = (
                failed == 0
                and o["p99_ms"] <= REDEPLOY_P99_FACTOR * steady["p99_ms"]
                and o["max_ms"] < REDEPLOY_MAX_MS
            )
            rows.append(
                [
                    f"redeploy, {run['label']}: 0 failed, p99 ≤ {REDEPLOY_P99_FACTOR:g}x steady, "
                    f"max < {REDEPLOY_MAX_MS:g} ms",
                    f"{failed} failed of {number(o['requests_due'])}, p99 {ms(o['p99_ms'])} ms "
                    f"({ratio(o['p99_ms'] / steady['p99_ms'])} of {ms(steady['p99_ms'])}{beside}), "
                    f"max {o['max_ms']:,.0f} ms",
                    "met" if met else "**missed**",
                ]
            )
        return rows

    def redeploy_section(self) -> list[str]:
        redeploy = self.r.get("redeploy") or {}
        steady = redeploy.get("steady")
        if not steady:
            return self.not_measured("redeploy")
        rows = [["steady state", "", "", "", *self.load_cells(steady)]]
        for run in redeploy.get("runs", []):
            o, recap = run["load"], run["converge"]["recap"]
            failed = o["errors"] + o["non_2xx"] + o["unanswered"]
            if failed:
                self.problems.append(
                    f"redeploy ({run['label']}): {o['errors']} errors, {o['non_2xx']} non-2xx, "
                    f"{o['unanswered']} unanswered"
                )
            rows.append(
                [
                    run["label"],
                    f"{run['release_before']} → {run['release_after']}",
                    f"{run['converge']['seconds']:.0f}",
                    str(recap.get("changed")),
                    *self.load_cells(o),
                ]
            )
        return [
            f"{number(redeploy['rate'])} req/s due ({redeploy['share'] * 100:g} % of the defaults' "
            "maximum rate):",
            "",
            *table(
                ["redeploy", "release", "converge s", "changed", "req/s due", "req/s answered",
                 "p50 ms", "p99 ms", "max ms", "errors / non-2xx / unanswered"],
                rows,
            ),
        ]  # fmt: skip

    @staticmethod
    def load_cells(o: dict) -> list[str]:
        return [
            number(o["target_rate"]),
            number(o["achieved_rate"]),
            ms(o["p50_ms"]),
            ms(o["p99_ms"]),
            ms(o["max_ms"]),
            f"{o['errors']} / {o['non_2xx']} / {o['unanswered']}",
        ]

    def cpu_row(self, target: dict) -> list[str]:
        """The stack's CPU per request against the app's own cost per call: at most CPU_GOAL
        times."""
        what = f"stack CPU per request ≤ {CPU_GOAL:g}x the app's own in-process call"
        if self.in_process is None:
            return [what, f"not measured ({STAGES['in_process']})", ""]
        stack, app = server_cpu(target), 1_000_000 / self.in_process["median"]
        return [
            what,
            f"{ratio(stack / app)} ({stack:.1f} µs per request ÷ {app:.1f} µs per call)",
            "met" if stack <= CPU_GOAL * app else "**missed**",
        ]

    def latency_rows(self, key: str) -> list[list[str]]:
        """A stack's p50 and p99 at P99_GOAL_SHARE of its maximum rate, against the p99 goal."""
        what = (
            f"p99 at {P99_GOAL_SHARE} % of the maximum rate ≤ {P99_GOAL_MS:g} ms "
            f"({KEPT_UP * 100:g} % of the rate answered)"
        )
        o = self.open_loop.get(P99_GOAL_SHARE, {}).get(key)
        if o is None:
            return [[what, f"not measured ({STAGES['open_loop']})", ""]]
        met = o["p99_ms"] <= P99_GOAL_MS and o["achieved_rate"] >= KEPT_UP * o["target_rate"]
        return [
            [
                what,
                f"p99 {ms(o['p99_ms'])} ms (p50 {ms(o['p50_ms'])}) at "
                f"{number(o['target_rate'])} req/s due, {number(o['achieved_rate'])} answered"
                + busy_note(o),
                "met" if met else "**missed**",
            ]
        ]

    def generator_cost(self) -> list[str]:
        """What the open-loop runs cost the machine, next to the stack they load."""
        runs = [
            (share, key, o)
            for share, by_key in self.open_loop.items()
            for key, o in by_key.items()
            if "cpus_busy" in o
        ]
        if not runs:
            return []
        parts = [
            f"{self.label(key)} at {share} %: {o['generator_cpu_us_per_request']:.1f} µs, CPUs "
            f"{busy(o)} busy"
            for share, key, o in runs
        ]
        return [
            "The generator shares the machine's CPUs with the stacks; its own CPU time per request "
            "answered and how busy all CPUs were over each run (wrk's CPU per request is in "
            f'"Where the CPU goes"): {"; ".join(parts)}.'
        ]

    def generator_held(self) -> list[str]:
        """Whether the open-loop generator kept the rate it was given, by the ceiling at each share
        (nginx alone, at the defaults' rate)."""
        if not self.open_loop:
            return []
        figures, held = [], True
        for share, by_key in self.open_loop.items():
            ceiling = by_key.get("ceiling")
            if ceiling is None:
                figures.append(f"at {share} % not measured")
                held = False
                continue
            held = held and ceiling["achieved_rate"] >= KEPT_UP * ceiling["target_rate"]
            figures.append(
                f"at {share} % it answered {number(ceiling['achieved_rate'])} of "
                f"{number(ceiling['target_rate'])} req/s due, p99 {ms(ceiling['p99_ms'])} ms"
            )
        verdict = (
            f"The open-loop generator held the rate: the ceiling (nginx alone, at the defaults' "
            f"rate) answered at least {KEPT_UP * 100:g} % of it at each share"
            if held
            else "**The open-loop generator did not demonstrably hold the rate**: the ceiling "
            f"(nginx alone, at the defaults' rate) did not answer {KEPT_UP * 100:g} % of it at "
            "each share, so the latencies above include the generator's own delay"
        )
        return [f"{verdict} ({'; '.join(figures)})."]

    def open_loop_notes(self) -> list[str]:
        """Say where a stack did not answer the rate it was given: the p99 is a queue's then."""
        behind = [
            f"- {self.label(key)} at {share} %: {number(o['achieved_rate'])} of "
            f"{number(o['target_rate'])} req/s answered."
            for share, by_key in self.open_loop.items()
            for key, o in by_key.items()
            if o["achieved_rate"] < KEPT_UP * o["target_rate"]
        ]
        if not behind:
            return []
        return [
            "These stacks answered fewer requests than were due (the generator's own lateness",
            "is in the last column): next to the generator, which shares the CPUs with them, they",
            "ran above their capacity at that rate, so their p99 is that of a growing queue rather",
            "than the latency at that share of their maximum (wrk's maximum, which the rate is",
            "taken from, left the generator's extra CPU per request out; see its cost below):",
            "",
            *behind,
        ]

    def open_loop_table(self) -> list[str]:
        if not self.open_loop:
            return self.not_measured("open_loop")
        rows = []
        for share, by_key in self.open_loop.items():
            for key, o in by_key.items():
                if o["errors"] or o["non_2xx"] or o["unanswered"]:
                    self.problems.append(
                        f"open loop {key} at {share} %: {o['errors']} errors, "
                        f"{o['non_2xx']} non-2xx, {o['unanswered']} unanswered"
                    )
                rows.append(
                    [
                        f"{share} %",
                        self.label(key),
                        number(o["target_rate"]),
                        number(o["achieved_rate"]),
                        ms(o["p50_ms"]),
                        ms(o["p90_ms"]),
                        ms(o["p99_ms"]),
                        ms(o["p99.9_ms"]),
                        ms(o["max_ms"]),
                        f"{o['errors']} / {o['non_2xx']}",
                        ms(o["lateness_p99_ms"]),
                        f"{o['generator_cpu_us_per_request']:.1f}"
                        if "generator_cpu_us_per_request" in o
                        else "-",
                        busy(o),
                    ]
                )
        return table(
            [
                "share of max",
                "stack",
                "req/s due",
                "req/s answered",
                "p50 ms",
                "p90 ms",
                "p99 ms",
                "p99.9 ms",
                "max ms",
                "errors / non-2xx",
                "generator's own lateness, p99 ms",
                "generator CPU µs/req",
                "CPUs busy",
            ],
            rows,
        )

    def in_process_kinds(self) -> list[tuple[str, str, dict]]:
        """The in-process measurements this run has: results key, title, calls/s summary."""
        kinds = [
            ("in_process", "app in-process", self.in_process),
            ("in_process_embedded", "app in-process in uWSGI's embedded Python", self.embedded),
        ]
        return [(key, title, calls) for key, title, calls in kinds if calls is not None]

    def embedded_cost(self) -> list[str]:
        """The app's own call in uWSGI's embedded interpreter against the virtualenv's python."""
        if self.in_process is None or self.embedded is None:
            return []
        python = 1_000_000 / self.in_process["median"]
        embedded = 1_000_000 / self.embedded["median"]
        return [
            "",
            f"The app's own call, in-process on one CPU: {python:.1f} µs in the virtualenv's "
            f"python, {embedded:.1f} µs in uWSGI's embedded interpreter "
            f"({embedded / python - 1:+.0%}; the same script run by the collection's plugin with "
            "`--pyrun`). Debian's python executable has the interpreter linked into it; the "
            "plugin calls it in the shared library libpython. Granian and gunicorn run in the "
            "python executable.",
        ]

    def profile_section(self) -> list[str]:
        profile = self.r.get("profile")
        if not profile:
            return self.not_measured("profile")
        if "error" in profile:
            return [f"Not measured: perf could not record in this container: `{profile['error']}`."]
        us = profile["us_per_request"]
        rows = []
        for group, title in PROFILE_GROUPS.items():
            codes = us.get(group, {})
            if not codes:
                continue
            rows.append(
                [
                    title,
                    *(f"{codes.get(code, 0):.1f}" for code in PROFILE_CODES),
                    f"{sum(codes.values()):.1f}",
                ]
            )
        samples = profile["samples"]
        idle = samples["idle"] / samples["total"] if samples["total"] else 0
        lines = [
            f"`perf record -a -F {profile['hz']}` ({profile['perf']}) on every CPU for one wrk "
            f"run of {profile['seconds']} s on the {self.label(profile['target'])} "
            f"({number(profile['rps'])} req/s, {number(profile['requests'])} requests), its "
            "samples counted by `benchmarks/container/profile.py` by process and by the code they "
            "ran: µs of CPU per request (a sample is 1/"
            f"{profile['hz']} s of one CPU).",
            "",
            *table(["process", *PROFILE_CODES.values(), "total µs"], rows),
            "",
            f"The CPUs were idle in {idle:.0%} of the samples.",
        ]
        server = us.get("uwsgi", {})
        if server:
            outside = sum(v for code, v in server.items() if code != "python")
            lines += [
                "",
                f"Of uWSGI's {sum(server.values()):.1f} µs per request, "
                f"{server.get('python', 0):.1f} µs ran in the Python interpreter (the app, and the "
                "plugin's calls into Python to build each request's environ and read the "
                f"response) and {outside:.1f} µs outside it: "
                f"{server.get('kernel', 0):.1f} in the kernel (accepting nginx's connection, "
                f"reading, writing, closing it, waking and switching), "
                f"{server.get('own', 0):.1f} in uWSGI's own code and "
                f"{server.get('libc', 0):.1f} in libc and the loader.",
            ]
        return lines + self.embedded_cost()

    def memory_section(self) -> list[str]:
        memory = self.r.get("memory")
        if not memory:
            return self.not_measured("memory")
        stacks = memory.get("stacks", {})
        order = [t["key"] for t in self.targets if t["key"] in stacks]
        order += [key for key in stacks if key not in order]
        rows = [self.memory_row(key, stacks[key]["processes"]) for key in order]
        pss = sum(p["pss_kib"] for stack in stacks.values() for p in stack["processes"])
        lines = table(
            [
                "stack",
                "processes",
                "master RSS / PSS MiB",
                "per worker RSS / PSS MiB (mean)",
                "total RSS / PSS MiB",
            ],
            rows,
        )
        return [*lines, "", self.container_memory(memory.get("container", {}), pss)]

    def memory_row(self, key: str, processes: list[dict]) -> list[str]:
        def rss_pss(of: list[dict], per: int = 1) -> str:
            if not of:
                return "-"
            rss, pss = (sum(p[field] for p in of) / per for field in ("rss_kib", "pss_kib"))
            return f"{mib(rss)} / {mib(pss)}"

        masters = [p for p in processes if p["role"] == "master"]
        workers = [p for p in processes if p["role"] == "worker"]
        counts = {}
        for p in processes:
            counts[p["role"]] = counts.get(p["role"], 0) + 1
        return [
            self.label(key),
            " + ".join(f"{n} {role}{'' if n == 1 else 's'}" for role, n in counts.items())
            or "none found",
            rss_pss(masters),
            rss_pss(workers, len(workers)),
            rss_pss(processes),
        ]

    @staticmethod
    def container_memory(container: dict, pss_kib: float) -> str:
        def read(field: str) -> str:
            value = container.get(field)
            return "not read" if value is None else f"{mib(value / 1024)} MiB"

        limit = container.get("limit_bytes")
        anon = container.get("anon_bytes")
        own = "" if anon is None else f", of which {read('anon_bytes')} the processes' own"
        return (
            f"The bench container: limit {'none' if limit is None else read('limit_bytes')}; "
            f"peak {read('peak_bytes')} while the stacks served; {read('current_bytes')} when "
            f"read{own} (the rest is page cache, which the kernel reclaims under pressure); all "
            f"its processes, nginx and systemd included. The stacks above together: "
            f"{mib(pss_kib)} MiB PSS."
        )

    def ablation_section(self) -> list[str]:
        ablation = self.r.get("ablation")
        if not ablation:
            return self.not_measured("ablation")
        variants, summary = ablation.get("variants", []), ablation.get("summary", {})
        s = self.r["settings"]
        runs, seconds = s.get("ablation_runs", "?"), s.get("ablation_duration_s", "?")
        lines = [
            f"wrk as in the main table: {s.get('ablation_warmup_s', '?')} s of warm-up per "
            f"variant, then {runs} rounds of {seconds} s, each running every variant once.",
            "",
        ]
        base = next((v for v in variants if v["layer"] == "baseline"), None)
        baseline = summary.get(base["key"]) if base else None
        ordered = ([base] if base else []) + [v for v in variants if v is not base]
        rows = [self.ablation_row(v, summary.get(v["key"]), baseline) for v in ordered]
        lines += table(
            [
                "layer",
                "setting",
                "change",
                "req/s median",
                "range",
                "vs baseline",
                "p99 ms",
                "nginx µs/req",
                "uWSGI µs/req",
                "Δ CPU µs/req vs baseline",
            ],
            rows,
        )
        if baseline is None:
            return [*lines, "", "No baseline measured: nothing to compare the variants with."]
        return [*lines, "", *self.ablation_reading(ordered[1:], summary, baseline)]

    def ablation_row(self, variant: dict, figures: dict | None, baseline: dict | None) -> list[str]:
        setting = [variant["layer"], variant["setting"], variant["change"].replace("|", "\\|")]
        if figures is None:
            return [*setting, "not measured", "", "", "", "", "", ""]
        faults = figures["socket_errors"] + figures["non_2xx"]
        if faults:
            self.problems.append(
                f"ablation {variant['key']}: {figures['socket_errors']} socket errors, "
                f"{figures['non_2xx']} non-2xx"
            )
        layers = figures["cpu_by_layer"]
        compared = baseline is not None and variant["layer"] != "baseline"
        return [
            *setting,
            number(figures["rps"]["median"]),
            f"{number(figures['rps']['min'])}-{number(figures['rps']['max'])}",
            signed(self.rate_change(figures, baseline), " %") if compared else "",
            ms(figures["p99_ms"]),
            f"{layers.get('nginx', 0):.1f}",
            f"{layers.get('uwsgi', 0):.1f}",
            signed(self.cpu_change(figures, baseline), "") if compared else "",
        ]

    @staticmethod
    def rate_change(figures: dict, baseline: dict) -> float:
        """How much faster than the baseline, in percent."""
        return (figures["rps"]["median"] / baseline["rps"]["median"] - 1) * 100

    @staticmethod
    def cpu_change(figures: dict, baseline: dict) -> float:
        """CPU µs per request more than the baseline's, wrk left out."""
        return sum(figures["cpu_by_layer"].values()) - sum(baseline["cpu_by_layer"].values())

    def ablation_reading(self, variants: list[dict], summary: dict, baseline: dict) -> list[str]:
        """The variants this run found more than ABLATION_NOTABLE faster with less CPU, and those
        it found more than that slower; either only where no run of the variant overlaps the
        baseline's range (closer, the rounds' spread could explain it)."""
        notable = ABLATION_NOTABLE * 100
        adopt, pay = [], []
        for v in variants:
            figures = summary.get(v["key"])
            if figures is None:
                continue
            change, cpu = self.rate_change(figures, baseline), self.cpu_change(figures, baseline)
            line = (
                f"- {v['setting']} ({v['layer']}: {v['change']}): "
                f"{number(figures['rps']['median'])} req/s, {signed(change, ' %')}; "
                f"{signed(cpu, ' µs')} CPU per request"
            )
            apart_above = figures["rps"]["min"] > baseline["rps"]["max"]
            apart_below = figures["rps"]["max"] < baseline["rps"]["min"]
            if change > notable and cpu < 0 and apart_above:
                adopt.append(line)
            elif change < -notable and apart_below:
                pay.append(line)
        return [
            "How this run reads (one run, not a decision). A variant counts as different only when "
            "its rate is more than "
            f"{notable:g} % from the baseline's and none of its runs falls within the baseline's "
            "range: closer than that, the spread between rounds could explain it.",
            "",
            f"More than {notable:g} % faster than the baseline with less CPU per request "
            "(candidates to adopt):",
            "",
            *(adopt or ["- none"]),
            "",
            f"More than {notable:g} % slower than the baseline: the rate the deployed setting "
            "keeps and the change gives up (what the defaults pay for):",
            "",
            *(pay or ["- none"]),
        ]

    def peer_commands(self) -> list[str]:
        """The peers' command lines and nginx configuration, as the run wrote them."""
        peers = self.r.get("peers")
        if not peers:
            if "stacks" in self.missing:
                return self.not_measured("stacks")
            return ["Not recorded in this run (its bench.py kept no command lines)."]
        lines = ["```text"]
        for peer in peers.values():
            lines += [f"# {peer['label']}", peer["command"], peer["nginx"], ""]
        return [*lines[:-1], "```"]

    def body_check(self) -> list[str]:
        """What each stack handed the client of the app's /stream, with and without its length;
        a broken body of the collection's own stacks is a problem."""
        check = self.r.get("body_check")
        if not check:
            if "stacks" in self.missing:
                return self.not_measured("stacks")
            return ["Not checked in this run (its bench.py had no body check)."]
        rows, broken = [], []
        for stack in check["stacks"].values():
            cells = [self.body_cell(stack[name]) for name in ("without_length", "with_length")]
            rows.append([stack["label"], *cells])
            if not all(stack[name]["intact"] for name in ("without_length", "with_length")):
                broken.append(stack["label"])
                if stack["kind"] in {"defaults", "candidate", "tcp"}:
                    self.problems.append(f"{stack['label']}: a body of /stream came back broken")
        expected = check["expected"]
        reading = (
            f"Every stack handed the client the app's {check['mib']} MiB whole, with its length "
            "or without."
            if not broken
            else f"**Not every stack handed the client the app's body whole**: {', '.join(broken)}."
        )
        return [
            *table(
                [
                    "stack",
                    f"`/{check['paths']['without_length']}`",
                    f"`/{check['paths']['with_length']}`",
                ],
                rows,
            ),
            "",
            f"{reading} Expected: {number(expected['bytes'])} bytes, sha256 "
            f"`{expected['sha256'][:16]}…`.",
        ]

    @staticmethod
    def body_cell(got: dict) -> str:
        if got["intact"]:
            return f"whole ({got['framing']})"
        faults = [f"status {got['status']}"] if got["status"] != 200 else []
        faults.append(f"{number(got['bytes'])} bytes")
        faults += ["sha256 differs"] + (
            [f"curl exit {got['curl_exit']}"] if got["curl_exit"] else []
        )
        return f"**{', '.join(faults)}** ({got['framing']})"

    def converge_section(self) -> list[str]:
        converges = self.r.get("converge")
        if not converges:
            if converges is None or "converge" in self.missing:
                return [*self.not_measured("converge"), ""]
            return ["Not measured in this run (it reused a container).", ""]
        lines = []
        if self.r["settings"].get("rerun") is False:
            lines += ["No idempotent re-run in this run (`--no-rerun`).", ""]
        names = {
            "first": "First converge of the fresh instance",
            "again": "Idempotent re-run",
            "candidates": "Candidates deployed as further apps (not part of the timing goal)",
        }
        for c in converges:
            recap = c["recap"]
            if c["label"] == "again" and recap.get("changed", 0) != 0:
                self.problems.append(f"the re-run changed {recap['changed']} tasks (must be 0)")
            lines += [
                f"### {names.get(c['label'], c['label'])}: {c['seconds']:.0f} s",
                "",
                f"ok={recap.get('ok')} changed={recap.get('changed')} "
                f"failed={recap.get('failed')} skipped={recap.get('skipped')}",
                "",
                *table(
                    ["slowest tasks (profile_tasks)", "s"],
                    [[name.replace("|", "\\|"), f"{s:.2f}"] for name, s in c["slowest"]],
                ),
                "",
            ]
        return lines

    def machine_section(self) -> list[str]:
        m, v, load = self.r["machine"], self.r["versions"], self.r["load"]
        commit = v["collection_commit"] + (
            " with uncommitted changes in roles/, playbooks/ or plugins/"
            if v["uncommitted_changes"]
            else ""
        )
        start = load["start"]
        if "nginx" in v:  # read once the stacks run
            container = f"{v['container']} with systemd, on all the machine's CPUs, {self.limit()}"
            software = (
                f"nginx {v['nginx']}, uWSGI {v['uwsgi']}, Python {v['python']}, "
                f"Flask {v['flask']}, gunicorn {v['gunicorn']}, "
                f"Granian {v.get('granian', '(not read)')}, wrk {v['wrk']}, "
                f"ansible-core {v['ansible_core']}"
            )
        else:
            container = (
                f"{NOT_READ}; Debian 13 with systemd, on all the machine's CPUs, {self.limit()}"
            )
            software = f"{NOT_READ}; ansible-core {v['ansible_core']}"
        return table(
            ["", ""],
            [
                ["date", self.r["date"]],
                ["machine", f"{m['cpu']}, {m['cpus']} CPUs, {m['memory_gib']} GiB, {m['os']}"],
                ["kernel, Docker", f"{m['kernel']}, Docker engine {m['docker']}"],
                ["bench container", container],
                ["versions", software],
                ["collection", commit],
                [
                    "load average (1, 5, 15 min)",
                    f"{start['load']} at the start, after waiting {start['waited_seconds']} s for "
                    f"at most {self.r['settings']['max_load']}; {load.get('measure', '-')} when "
                    f"measuring began (our converges included); {load.get('end', '-')} at the end",
                ],
                ["whole run, the wait included", f"{self.r['wall_seconds'] / 60:.1f} min"],
            ],
        )

    def limit(self, short: bool = False) -> str:
        """The bench container's memory limit."""
        limit = self.r["settings"].get("memory_limit_bytes")
        if limit is None:
            return "no limit" if short else "no memory limit"
        return f"{mib(limit / 1024)} MiB" if short else f"memory limited to {mib(limit / 1024)} MiB"

    def candidates_section(self) -> list[str]:
        lines = [""]
        for candidate in (t for t in self.targets if t["kind"] == "candidate"):
            lines += [
                f"Candidate `{candidate['label'].removeprefix('candidate ')}` "
                "(`benchmarks/candidates.yml`, measured with `BENCH_ARGS=--candidates`), deployed",
                "by the collection as one more app of the same code, with "
                f"`{candidate['settings']}`:",
                "",
                *self.goals_table(candidate["key"]),
                "",
            ]
        return lines

    def began(self) -> bool:
        """Whether the run got as far as its settings, machine and starting load."""
        return all(key in self.r for key in ("settings", "machine", "versions", "load"))

    def markdown(self) -> str:
        if not self.began():
            return "\n".join(
                [
                    "# Benchmark: nothing measured",
                    "",
                    "<!-- Written by benchmarks/report.py from the results of a run that ended "
                    "before its first figure. -->",
                    *self.incomplete(),
                ]
            )
        s = self.r["settings"]
        defaults = self.r.get("defaults", {})
        wrk2 = self.r.get("wrk2_in_debian")
        generator = (
            "wrk2 is in Debian's archive now, yet this run used"
            if wrk2
            else "Debian packages wrk but not wrk2 (checked in this run), so this is"
            if wrk2 is not None
            else "Whether Debian packages wrk2 was not checked in this run; this is"
        )
        # The tables first: building them collects the run's problems.
        sections = {
            "goals": [*self.goals_table("defaults"), "", *self.generator_held()],
            "candidates": self.candidates_section(),
            "machine": self.machine_section(),
            "results": self.results_table(),
            "peer_commands": self.peer_commands(),
            "body_check": self.body_check(),
            "open_loop_table": [
                *self.open_loop_table(),
                "",
                *self.open_loop_notes(),
                "",
                *self.generator_cost(),
            ],
            "cpu": self.cpu_table(),
            "memory": self.memory_section(),
            "profile": self.profile_section(),
            "ablation": self.ablation_section(),
            "converge": self.converge_section(),
            "redeploy": self.redeploy_section(),
        }
        problems = (
            ["", "**This run broke a requirement:** " + "; ".join(self.problems) + ".", ""]
            if self.problems
            else [""]
        )
        problems += self.incomplete()
        template = Template((Path(__file__).parent / "benchmark.md.in").read_text())
        return template.substitute(
            {name: "\n".join(lines) for name, lines in sections.items()},
            problems="\n".join(problems),
            cpus=self.r["machine"]["cpus"],
            workers=defaults.get("workers", "(not read)"),
            threads=defaults.get("threads", "(not read)"),
            gunicorn=self.r["versions"].get("gunicorn", "(version not read)"),
            granian=self.r["versions"].get("granian", "(version not read)"),
            body_mib=(self.r.get("body_check") or {}).get("mib", "N"),
            access_log=self.r.get("nginx_access_log", NOT_READ),
            connections=s["connections"],
            duration=s["duration_s"],
            load_cpu=s["load_cpu"],
            warmup=s["warmup_s"],
            runs=s["runs"],
            in_process=f"{s['in_process_s']:g}",
            open_loop_shares=shares_text([f"{share} %" for share in self.open_loop_shares()]),
            open_loop=f"{s['open_loop_s']:g}",
            generator=generator,
            vassal=defaults.get("ini", f"; {NOT_READ}").rstrip(),
            memory_limit=self.limit(short=True),
        )

    def open_loop_shares(self) -> list[str]:
        """The shares of the maximum rate the run was set to measure, in percent."""
        s = self.r["settings"]
        shares = s.get("open_loop_shares") or [s["open_loop_share"]]
        return [f"{share * 100:g}" for share in sorted(shares)]

    def chart(self, path: Path) -> None:
        bars = [
            (
                t["label"],
                t["rps"]["median"],
                t["rps"]["min"],
                t["rps"]["max"],
                KEY_COLOURS.get(t["key"], KIND_COLOURS[t["kind"]]),
            )
            for t in self.targets
        ]
        for _key, title, calls in self.in_process_kinds():
            bars.append(
                (
                    f"{title}, one CPU (calls/s)",
                    calls["median"],
                    calls["min"],
                    calls["max"],
                    KIND_COLOURS["in_process"],
                )
            )
        if not bars:
            self.empty_chart(path)
            return
        bars.reverse()  # matplotlib draws the first bar at the bottom
        plt = pyplot()
        labels = [b[0] for b in bars]
        medians = [b[1] for b in bars]
        errors = [[b[1] - b[2] for b in bars], [b[3] - b[1] for b in bars]]
        figure, axes = plt.subplots(figsize=(10, 0.45 * len(bars) + 1.6), dpi=110)
        axes.barh(
            labels,
            medians,
            xerr=errors,
            color=[b[4] for b in bars],
            capsize=3,
        )
        for y, (_name, median, _lowest, highest, _colour) in enumerate(bars):
            share = "" if self.ceiling is None else f"  ({median / self.ceiling:.2f}x ceiling)"
            axes.text(highest, y, f"  {median:,.0f}{share}", va="center", fontsize=8)
        axes.set_xlim(0, max(b[3] for b in bars) * 1.35)
        axes.set_xlabel("requests per second: median of the runs, bar = min-max")
        settings = self.r["settings"]
        runs = len(self.targets[0]["runs"]) if self.targets else 0
        axes.set_title(
            f"GET / of the sample Flask app, wrk -t1 -c{settings['connections']} "
            f"-d{settings['duration_s']}s x {runs}, {self.r['machine']['cpus']} CPUs, "
            f"{self.r['date']}" + ("" if not self.missing else " (incomplete run)"),
            fontsize=10,
        )
        axes.grid(axis="x", alpha=0.3)
        figure.tight_layout()
        figure.savefig(path, metadata={"Software": None})
        plt.close(figure)

    def empty_chart(self, path: Path) -> None:
        """A chart that says nothing was measured (the page links it either way)."""
        plt = pyplot()
        figure, axes = plt.subplots(figsize=(10, 1.6), dpi=110)
        axes.axis("off")
        axes.text(
            0.5,
            0.5,
            f"No rate measured: the run ended before {STAGES['closed_loop']} "
            f"({self.r.get('date', 'undated')})",
            ha="center",
            va="center",
        )
        figure.savefig(path, metadata={"Software": None})
        plt.close(figure)


def render(results: dict, markdown: Path, chart: Path) -> Report:
    """Write the page and the chart of a results file (complete or not); the report, whose problems
    and missing stages say whether the run met its requirements."""
    report = Report(results)
    markdown.write_text(report.markdown())
    report.chart(chart)
    return report


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("results", type=Path, nargs="?", default=TOP / "build/bench/results.json")
    parser.add_argument("--markdown", type=Path, default=TOP / "docs/benchmark.md")
    parser.add_argument("--chart", type=Path, default=TOP / "docs/benchmark.png")
    args = parser.parse_args()
    report = render(json.loads(args.results.read_text()), args.markdown, args.chart)
    print(f"wrote {args.markdown} and {args.chart}")
    for problem in report.problems:
        print(f"requirement broken: {problem}", file=sys.stderr)
    if report.missing:
        missing = "; ".join(STAGES[stage] for stage in report.missing)
        print(f"incomplete run, not measured: {missing}", file=sys.stderr)
    return 1 if report.problems or report.missing else 0


if __name__ == "__main__":
    sys.exit(main())
