"""Write docs/benchmark.md and docs/benchmark.png from the results of benchmarks/bench.py.

Runs in build/bench-venv (matplotlib, pinned in benchmarks/requirements.txt). Every figure in the
two files comes from the results file; nothing here is a measurement. Exits 1 when the run broke a
requirement (an error or a non-2xx response under load, a re-run that changed something).
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from string import Template

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt

TOP = Path(__file__).resolve().parent.parent

# The goals for the defaults: (what, comparison target kind, minimum ratio).
RATIO_GOALS = [
    ("best tutorial config", "tutorial", 1.25),
    ("gunicorn, same workers", "gunicorn", 1.5),
    ("app in-process, one CPU", "in_process", 0.6),
]
P99_GOAL_MS = 10.0
KEPT_UP = 0.98  # share of the open loop's rate a stack must answer for its p99 to count
KIND_COLOURS = {
    "ceiling": "#9e9e9e",
    "defaults": "#1565c0",
    "candidate": "#64b5f6",
    "tutorial": "#ef6c00",
    "gunicorn": "#2e7d32",
    "tcp": "#6a1b9a",
    "in_process": "#424242",
}


# Process names in the CPU accounting, in the columns of the CPU table; the rest is "other".
CPU_COLUMNS = {
    "nginx": ["nginx"],
    "app server": ["uwsgi-core", "gunicorn"],
    "journald": ["systemd-journal"],
    "wrk": ["wrk"],
}


def number(value: float) -> str:
    return f"{value:,.0f}"


def ms(value: float) -> str:
    return f"{value:.2f}"


def ratio(value: float) -> str:
    return f"{value:.2f}x"


def table(header: list[str], rows: list[list[str]]) -> list[str]:
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join(" --- " for column in header) + "|"]
    return lines + ["| " + " | ".join(row) + " |" for row in rows]


class Report:
    def __init__(self, results: dict) -> None:
        self.r = results
        self.targets = results["targets"]
        self.by_key = {t["key"]: t for t in self.targets}
        self.ceiling = self.by_key["ceiling"]["rps"]["median"]
        self.in_process = results["in_process"]["calls_per_second"]
        self.problems: list[str] = []

    def rate(self, kind: str) -> tuple[str, float]:
        """Label and median rate of the best stack of a kind (the app in-process for in_process)."""
        if kind == "in_process":
            return "app in-process", self.in_process["median"]
        best = max((t for t in self.targets if t["kind"] == kind), key=lambda t: t["rps"]["median"])
        return best["label"], best["rps"]["median"]

    # --- sections ---------------------------------------------------------------------------------

    def results_table(self) -> list[str]:
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
                    ratio(rps["median"] / self.ceiling),
                    "" if t["kind"] in {"defaults", "ceiling"} else ratio(defaults / rps["median"]),
                    f"{t['socket_errors']} / {t['non_2xx']}",
                    "-" if t["worker_recycles"] is None else str(t["worker_recycles"]),
                ]
            )
        calls = self.in_process
        rows.append(
            [
                "app in-process, one CPU (calls/s, no server)",
                "-",
                number(calls["median"]),
                f"{number(calls['min'])}-{number(calls['max'])}",
                "",
                "",
                ratio(calls["median"] / self.ceiling),
                ratio(defaults / calls["median"]),
                f"- / {self.r['in_process']['non_2xx']}",
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
        app_us = 1_000_000 / self.in_process["median"]
        rows.append(
            [
                "app in-process (calls, no server)",
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
        target = self.by_key[key]
        rows = []
        for what, kind, minimum in RATIO_GOALS:
            label, other = self.rate(kind)
            value = target["rps"]["median"] / other
            rate = number(target["rps"]["median"])
            rows.append(
                [
                    f"≥ {minimum}x {what}",
                    f"{ratio(value)} ({rate} ÷ {number(other)} req/s, {label})",
                    "met" if value >= minimum else "**missed**",
                ]
            )
        open_loop = self.r["open_loop"].get(key)
        if open_loop:
            share = self.r["settings"]["open_loop_share"]
            rows.append(
                [
                    f"p99 ≤ {P99_GOAL_MS:g} ms at {share:.0%} of the maximum rate",
                    f"{ms(open_loop['p99_ms'])} ms at {number(open_loop['target_rate'])} "
                    f"req/s due, {number(open_loop['achieved_rate'])} answered",
                    "met" if open_loop["p99_ms"] <= P99_GOAL_MS else "**missed**",
                ]
            )
        return table(["goal for " + target["label"], "measured", ""], rows)

    def open_loop_notes(self) -> list[str]:
        """Say where a stack did not answer the rate it was given: the p99 is a queue's then."""
        behind = [
            f"- {self.by_key[key]['label']}: {number(o['achieved_rate'])} of "
            f"{number(o['target_rate'])} req/s answered."
            for key, o in self.r["open_loop"].items()
            if o["achieved_rate"] < KEPT_UP * o["target_rate"]
        ]
        if not behind:
            return []
        return [
            "The generator kept its schedule (its own lateness above), but these stacks",
            "answered fewer requests than were due: next to the generator, which shares the",
            "CPUs with them, they ran above their capacity, so their p99 is that of a growing",
            "queue rather than the latency at 80 % (presumably this Python generator costs",
            "more CPU per request than wrk, whose maximum the rate is taken from):",
            "",
            *behind,
        ]

    def open_loop_table(self) -> list[str]:
        rows = []
        for key, o in self.r["open_loop"].items():
            if o["errors"] or o["non_2xx"] or o["unanswered"]:
                self.problems.append(
                    f"open loop {key}: {o['errors']} errors, {o['non_2xx']} non-2xx, "
                    f"{o['unanswered']} unanswered"
                )
            rows.append(
                [
                    self.by_key[key]["label"],
                    number(o["target_rate"]),
                    number(o["achieved_rate"]),
                    ms(o["p50_ms"]),
                    ms(o["p90_ms"]),
                    ms(o["p99_ms"]),
                    ms(o["p99.9_ms"]),
                    ms(o["max_ms"]),
                    f"{o['errors']} / {o['non_2xx']}",
                    ms(o["lateness_p99_ms"]),
                ]
            )
        return table(
            [
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
            ],
            rows,
        )

    def converge_section(self) -> list[str]:
        converges = self.r["converge"]
        if not converges:
            return ["Not measured in this run (it reused a container).", ""]
        lines = []
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
        return table(
            ["", ""],
            [
                ["date", self.r["date"]],
                ["machine", f"{m['cpu']}, {m['cpus']} CPUs, {m['memory_gib']} GiB, {m['os']}"],
                ["kernel, Docker", f"{m['kernel']}, Docker engine {m['docker']}"],
                ["bench container", f"{v['container']} with systemd, on all the machine's CPUs"],
                [
                    "versions",
                    f"nginx {v['nginx']}, uWSGI {v['uwsgi']}, Python {v['python']}, "
                    f"Flask {v['flask']}, gunicorn {v['gunicorn']}, wrk {v['wrk']}, "
                    f"ansible-core {v['ansible_core']}",
                ],
                ["collection", commit],
                [
                    "load average (1, 5, 15 min)",
                    f"{start['load']} at the start, after waiting {start['waited_seconds']} s for "
                    f"at most {self.r['settings']['max_load']}; {load['measure']} when measuring "
                    f"began (our converges included); {load['end']} at the end",
                ],
                ["whole run, the wait included", f"{self.r['wall_seconds'] / 60:.1f} min"],
            ],
        )

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

    def markdown(self) -> str:
        s = self.r["settings"]
        defaults = self.r["defaults"]
        generator = (
            "wrk2 is in Debian's archive now, yet this run used"
            if self.r["wrk2_in_debian"]
            else "Debian packages wrk but not wrk2 (checked in this run), so this is"
        )
        # The tables first: building them collects the run's problems.
        sections = {
            "goals": self.goals_table("defaults"),
            "candidates": self.candidates_section(),
            "machine": self.machine_section(),
            "results": self.results_table(),
            "open_loop_table": [*self.open_loop_table(), "", *self.open_loop_notes()],
            "cpu": self.cpu_table(),
            "converge": self.converge_section(),
        }
        problems = (
            ["", "**This run broke a requirement:** " + "; ".join(self.problems) + ".", ""]
            if self.problems
            else [""]
        )
        template = Template((Path(__file__).parent / "benchmark.md.in").read_text())
        return template.substitute(
            {name: "\n".join(lines) for name, lines in sections.items()},
            problems="\n".join(problems),
            cpus=self.r["machine"]["cpus"],
            workers=defaults["workers"],
            threads=defaults["threads"],
            gunicorn=self.r["versions"]["gunicorn"],
            access_log=self.r["nginx_access_log"],
            connections=s["connections"],
            duration=s["duration_s"],
            load_cpu=s["load_cpu"],
            warmup=s["warmup_s"],
            runs=s["runs"],
            in_process=f"{s['in_process_s']:g}",
            open_loop_share=f"{s['open_loop_share']:.0%}",
            open_loop=f"{s['open_loop_s']:g}",
            generator=generator,
            vassal=defaults["ini"].rstrip(),
        )

    def chart(self, path: Path) -> None:
        bars = [
            (t["label"], t["rps"]["median"], t["rps"]["min"], t["rps"]["max"], t["kind"])
            for t in self.targets
        ]
        bars.append(
            (
                "app in-process, one CPU (calls/s)",
                self.in_process["median"],
                self.in_process["min"],
                self.in_process["max"],
                "in_process",
            )
        )
        bars.reverse()  # matplotlib draws the first bar at the bottom
        labels = [b[0] for b in bars]
        medians = [b[1] for b in bars]
        errors = [[b[1] - b[2] for b in bars], [b[3] - b[1] for b in bars]]
        figure, axes = plt.subplots(figsize=(10, 0.45 * len(bars) + 1.6), dpi=110)
        axes.barh(
            labels,
            medians,
            xerr=errors,
            color=[KIND_COLOURS[b[4]] for b in bars],
            capsize=3,
        )
        for y, (_name, median, _lowest, highest, _colour) in enumerate(bars):
            axes.text(
                highest,
                y,
                f"  {median:,.0f}  ({median / self.ceiling:.2f}x ceiling)",
                va="center",
                fontsize=8,
            )
        axes.set_xlim(0, max(b[3] for b in bars) * 1.35)
        axes.set_xlabel("requests per second: median of the runs, bar = min-max")
        settings = self.r["settings"]
        axes.set_title(
            f"GET / of the sample Flask app, wrk -t1 -c{settings['connections']} "
            f"-d{settings['duration_s']}s x {settings['runs']}, {self.r['machine']['cpus']} CPUs, "
            f"{self.r['date']}",
            fontsize=10,
        )
        axes.grid(axis="x", alpha=0.3)
        figure.tight_layout()
        figure.savefig(path, metadata={"Software": None})
        plt.close(figure)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("results", type=Path, nargs="?", default=TOP / "build/bench/results.json")
    parser.add_argument("--markdown", type=Path, default=TOP / "docs/benchmark.md")
    parser.add_argument("--chart", type=Path, default=TOP / "docs/benchmark.png")
    args = parser.parse_args()
    report = Report(json.loads(args.results.read_text()))
    args.markdown.write_text(report.markdown())
    report.chart(args.chart)
    print(f"wrote {args.markdown} and {args.chart}")
    for problem in report.problems:
        print(f"requirement broken: {problem}", file=sys.stderr)
    return 1 if report.problems else 0


if __name__ == "__main__":
    sys.exit(main())
