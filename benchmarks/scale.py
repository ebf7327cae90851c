"""`make scale`: how long playbooks/site.yml takes to converge 1, 4 and 8 hosts at once.

For each number of hosts N (--hosts, default 1 4 8), after waiting for a quiet machine as
benchmarks/bench.py does:

1. start N fresh Debian 13 systemd containers, pyops-uwsgi-scale-1..N, the way bench.py starts its
   one (same image, flags and package caches, except that each host has its own apt archive,
   seeded with hard links to the shared one: apt locks its archive for a whole install, so one
   shared by all the hosts would run their installs one at a time, which real hosts do not);
2. converge them all at once (`ansible-playbook -f N`) with the sample app of benchmarks/inventory,
   timing the first converge (failed=0 on every host) and the re-run (changed=0 on every host);
3. remove them, also on failure.

With --ref REF it converges an export of that commit rather than the checkout, so that edits in
progress in the working tree neither break the runs nor differ between them.

It reports and does not assert: build/bench/scale.json and docs/scale.md give each wall clock, its
ratio to 1 host (the goal for 8 hosts is at most 3x), the load average around each run, the CPU
time the hosts, the controller and the Docker engine spent, and the slowest tasks
(ansible.posix.profile_tasks). All the hosts share this machine's CPUs, which real hosts would
not: the report says how busy they were.
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import resource
import shlex
import shutil
import sys
import tempfile
import time
from pathlib import Path

import bench

PREFIX = "pyops-uwsgi-scale-"
OUTPUT = bench.BUILD / "scale.json"
REPORT = bench.TOP / "docs" / "scale.md"
GOAL_RATIO = 3.0  # at most this many times the 1-host wall clock for 8 hosts
SLOWEST_SHOWN = 5


# --- Measuring ------------------------------------------------------------------------------------


def machine_busy_seconds() -> float:
    """CPU time spent by everything on this machine since boot (all CPUs, idle and iowait out)."""
    fields = [int(v) for v in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:9]]
    user, nice, system, _idle, _iowait, irq, softirq, steal = fields
    return (user + nice + system + irq + softirq + steal) / os.sysconf("SC_CLK_TCK")


def children_seconds() -> float:
    """CPU time of the ended children: ansible-playbook, its workers and their docker clients."""
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def container_seconds(name: str) -> float | None:
    """CPU time of a container's processes so far (docker exec's included), from its cgroup."""
    container_id = bench.run("docker", "inspect", "-f", "{{.Id}}", name).strip()
    v1 = Path(f"/sys/fs/cgroup/cpuacct/docker/{container_id}/cpuacct.usage")
    if v1.exists():
        return int(v1.read_text()) / 1e9
    v2 = Path(f"/sys/fs/cgroup/system.slice/docker-{container_id}.scope/cpu.stat")
    if v2.exists():
        usage = dict(line.split() for line in v2.read_text().splitlines())
        return int(usage["usage_usec"]) / 1e6
    return None  # another cgroup layout: the report leaves the column empty


def engine_seconds() -> float:
    """CPU time so far of the Docker engine's own processes (dockerd, containerd, the shims).

    The hosts are reached through it (community.docker.docker), where real ones would be reached
    over SSH.
    """
    ticks = 0
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            text = stat.read_text()
        except OSError:  # ended meanwhile
            continue
        name, _sep, rest = text.partition("(")[2].rpartition(")")
        if name in {"dockerd", "containerd"} or name.startswith("containerd-shim"):
            fields = rest.split()
            ticks += int(fields[11]) + int(fields[12])  # utime and stime, not the children's
    return ticks / os.sysconf("SC_CLK_TCK")


def hosts_seconds(names: list[str]) -> float | None:
    seconds = [container_seconds(name) for name in names]
    return None if None in seconds else sum(seconds)


def others_running(mine: list[str]) -> list[str]:
    """The names of the containers running here that this script did not start."""
    names = bench.run("docker", "ps", "--format", "{{.Names}}").split()
    return sorted(name for name in names if name not in mine)


def apt_cache_packages() -> int:
    return len(list(bench.APT_CACHE.glob("*.deb")))


def host_apt_cache(name: str) -> Path:
    """A host's own apt archive, with hard links to the packages of the shared one."""
    cache = bench.APT_CACHE.parent / "scale" / name
    shutil.rmtree(cache, ignore_errors=True)
    cache.mkdir(parents=True)
    for package in bench.APT_CACHE.glob("*.deb"):
        os.link(package, cache / package.name)
    return cache


def keep_downloads(cache: Path) -> None:
    """Hand what a host downloaded to the shared archive, then drop the host's."""
    for package in cache.glob("*.deb"):
        if not (bench.APT_CACHE / package.name).exists():
            os.link(package, bench.APT_CACHE / package.name)
    shutil.rmtree(cache, ignore_errors=True)


def export(ref: str) -> Path:
    """The collection as of ref, exported once under build/scale-src."""
    commit = bench.run("git", "-C", str(bench.TOP), "rev-parse", "--verify", f"{ref}^{{commit}}")
    top = bench.TOP / "build" / "scale-src" / commit.strip()[:12]
    if not top.exists():
        partial = top.with_name(top.name + ".partial")
        shutil.rmtree(partial, ignore_errors=True)
        partial.mkdir(parents=True)
        archive = shlex.join(["git", "-C", str(bench.TOP), "archive", commit.strip()])
        bench.run("sh", "-c", f"{archive} | tar -x -C {shlex.quote(str(partial))}")
        partial.rename(top)
    return top


def write_inventory(directory: Path, names: list[str], top: Path) -> None:
    """The hosts in group uwsgi_hosts, with benchmarks/inventory's group_vars (the same app).

    The directory sits two levels below the collection, as benchmarks/inventory does: the app's
    app_src_dir is relative to inventory_dir.
    """
    hosts = {
        "uwsgi_hosts": {
            "hosts": {name: {} for name in names},
            "vars": {"ansible_connection": "community.docker.docker"},
        }
    }
    (directory / "hosts.yml").write_text(json.dumps(hosts, indent=2) + "\n")  # JSON is YAML
    (directory / "group_vars").symlink_to(top / "benchmarks" / "inventory" / "group_vars")


def converge(label: str, inventory: Path, names: list[str], top: Path) -> dict:
    """One timed run of site.yml on all the hosts, with what it cost in CPU time."""
    hosts_before, engine_before = hosts_seconds(names), engine_seconds()
    busy_before, controller_before = machine_busy_seconds(), children_seconds()
    result = bench.run_site(label, inventory, "-f", str(len(names)), top=top)
    controller = children_seconds() - controller_before
    busy = machine_busy_seconds() - busy_before
    engine = engine_seconds() - engine_before
    hosts_after = hosts_seconds(names)
    missing = sorted(set(names) - set(result["recap"]))
    if missing:
        raise RuntimeError(f"converge ({label}): no recap for {', '.join(missing)}")
    result["cpu_seconds"] = {
        "hosts": None if hosts_after is None else round(hosts_after - hosts_before, 1),
        "controller": round(controller, 1),
        "docker_engine": round(engine, 1),
        "machine": round(busy, 1),
    }
    # Retries of until: loops (the apt tasks retry on apt's locks).
    log = (bench.BUILD / f"converge-{label}.log").read_text()
    result["retries"] = log.count("FAILED - RETRYING:")
    result["load_after"] = bench.load_average()
    changed = sum(counts.get("changed", 0) for counts in result["recap"].values())
    bench.log(f"converge ({label}): {result['seconds']:.0f} s, {changed} changed in all")
    return result


def scale_run(hosts: int, args: argparse.Namespace, top: Path) -> dict:
    """Start the hosts, converge them twice, remove them."""
    names = [f"{PREFIX}{number}" for number in range(1, hosts + 1)]
    measured: dict = {"hosts": hosts, "forks": hosts}
    measured["quiet"] = bench.wait_for_quiet_machine(args.max_load, args.max_wait)
    measured["other_containers"] = {"start": others_running(names)}
    caches = []
    try:
        for name in names:
            caches.append(host_apt_cache(name))
            bench.start_container(name, caches[-1])
        measured["container_os"] = (
            "Debian " + bench.run("docker", "exec", names[0], "cat", "/etc/debian_version").strip()
        )
        measured["apt_cache_packages"] = {"start": apt_cache_packages()}
        measured["load_before"] = bench.load_average()
        (top / "build").mkdir(exist_ok=True)
        with tempfile.TemporaryDirectory(dir=top / "build", prefix="scale-inventory-") as tmp:
            write_inventory(Path(tmp), names, top)
            measured["first"] = converge(f"scale-{hosts}-first", Path(tmp), names, top)
            measured["again"] = converge(f"scale-{hosts}-again", Path(tmp), names, top)
        measured["other_containers"]["end"] = others_running(names)
    finally:
        for name in names:
            bench.remove_container(name)
        for cache in caches:
            keep_downloads(cache)
    measured["apt_cache_packages"]["end"] = apt_cache_packages()
    measured["problems"] = [
        f"{hosts} hosts: the re-run changed {counts['changed']} tasks on {host} (must be 0)"
        for host, counts in measured["again"]["recap"].items()
        if counts.get("changed", 0) != 0
    ]
    return measured


# --- The report -----------------------------------------------------------------------------------


def table(header: list[str], rows: list[list[str]]) -> list[str]:
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join("---" for _column in header) + "|"]
    return lines + ["| " + " | ".join(row) + " |" for row in rows]


def plural(hosts: int) -> str:
    return f"{hosts} host" + ("s" if hosts != 1 else "")


def task_name(task: str) -> str:
    return "`" + task.replace("|", "\\|") + "`"


def seconds_or_dash(value: float | None) -> str:
    return "-" if value is None else f"{value:.0f}"


def busy_share(converge: dict, cpus: int) -> float:
    return 100 * converge["cpu_seconds"]["machine"] / (converge["seconds"] * cpus)


def tasks_per_host(converge: dict) -> int:
    """Tasks one host ran or skipped (the recap's ok counts the changed ones too)."""
    return max(c.get("ok", 0) + c.get("skipped", 0) for c in converge["recap"].values())


def dominates(runs: list[dict], cpus: int) -> list[str]:
    """What the first converge's time went to, from the slowest tasks and the CPU time."""
    largest = max(runs, key=lambda run: run["hosts"])
    first = largest["first"]
    top = first["slowest"][:3]
    listed = ", ".join(f"{task_name(task)} ({seconds:.0f} s)" for task, seconds in top)
    slowest = sum(seconds for _task, seconds in first["slowest"])
    rest = tasks_per_host(first) - len(first["slowest"])
    cpu = first["cpu_seconds"]
    lines = [
        f"At {plural(largest['hosts'])}, the three slowest tasks of the first converge are "
        f"{listed}. The {len(first['slowest'])} slowest take "
        f"{100 * slowest / first['seconds']:.0f} % of its {first['seconds']:.0f} s; the rest "
        f"is spread over the other {rest} or so tasks of each host, "
        f"{(first['seconds'] - slowest) / max(rest, 1):.1f} s each on average.",
        f"The machine's {cpus} CPUs were {busy_share(first, cpus):.0f} % busy meanwhile: of "
        f"{cpu['machine']:.0f} CPU-s, the controller (ansible-playbook, its workers and their "
        f"docker clients) took {cpu['controller']:.0f}, the Docker engine "
        f"{cpu['docker_engine']:.0f} and the hosts themselves {seconds_or_dash(cpu['hosts'])}; "
        "the rest is everything else on the machine.",
    ]
    one = next((run for run in runs if run["hosts"] == 1), None)
    if one is not None:
        # Derived, not measured: no schedule on these CPUs can take less than their CPU time.
        floor = cpu["machine"] / cpus
        controller = cpu["controller"] / cpus
        lines.append(
            f"On {cpus} CPUs that CPU time alone needs at least {floor:.0f} s "
            f"({floor / one['first']['seconds']:.1f}x the 1-host wall clock), the controller's "
            f"share alone {controller:.0f} s ({controller / one['first']['seconds']:.1f}x)."
        )
    if one is not None and largest is not one:
        before = dict(one["first"]["slowest"])
        grown = [
            (seconds - before[task], task, before[task], seconds)
            for task, seconds in first["slowest"]
            if task in before
        ]
        if grown:
            _growth, task, at_one, at_most = max(grown)
            lines.append(
                f"Of the tasks in both lists, the one that grew most from 1 host is "
                f"{task_name(task)}: {at_one:.0f} s at 1 host, {at_most:.0f} s at "
                f"{largest['hosts']}."
            )
    return lines


def cpu_rows(runs: list[dict], cpus: int) -> list[list[str]]:
    rows = []
    for run in runs:
        for which, label in (("first", "first"), ("again", "second")):
            converge = run[which]
            cpu = converge["cpu_seconds"]
            rows.append(
                [
                    str(run["hosts"]),
                    label,
                    f"{converge['seconds']:.0f}",
                    seconds_or_dash(cpu["hosts"]),
                    f"{cpu['controller']:.0f}",
                    f"{cpu['docker_engine']:.0f}",
                    f"{cpu['machine']:.0f}",
                    f"{busy_share(converge, cpus):.0f} %",
                    str(converge["retries"]),
                ]
            )
    return rows


def report(results: dict) -> str:
    runs = results["runs"]
    cpus = results["machine"]["cpus"]
    base = next((run for run in runs if run["hosts"] == 1), None)

    def ratio(run: dict, which: str) -> str:
        return "-" if base is None else f"{run[which]['seconds'] / base[which]['seconds']:.2f}x"

    lines = [
        "# How long site.yml takes on more hosts",
        "",
        "<!-- Written by benchmarks/scale.py (`make scale`) from build/bench/scale.json; "
        "edits are overwritten. -->",
        "",
        f"`ansible-playbook -f N playbooks/site.yml` on N fresh {runs[0]['container_os']} systemd "
        "containers on one machine, converged at once with the sample app `hello` as `make bench` "
        f"deploys it (benchmarks/inventory), on {results['date']}. Wall clock of the whole run "
        "of ansible-playbook; the second converge must change nothing.",
        "",
        *table(
            [
                "hosts",
                "first converge (s)",
                "second converge (s)",
                "first, ratio to 1 host",
                "second, ratio to 1 host",
            ],
            [
                [
                    str(run["hosts"]),
                    f"{run['first']['seconds']:.1f}",
                    f"{run['again']['seconds']:.1f}",
                    ratio(run, "first"),
                    ratio(run, "again"),
                ]
                for run in runs
            ],
        ),
        "",
    ]
    largest = max(runs, key=lambda run: run["hosts"])
    if base is not None and largest is not base:
        first = largest["first"]["seconds"] / base["first"]["seconds"]
        again = largest["again"]["seconds"] / base["again"]["seconds"]
        verdict = "within" if max(first, again) <= GOAL_RATIO else "over"
        lines += [
            f"{largest['hosts']} hosts took {first:.2f}x the 1-host time for the first converge "
            f"and {again:.2f}x for the second: {verdict} the goal of at most {GOAL_RATIO:g}x "
            "for 8 hosts.",
            "",
        ]
    lines += [
        "## What dominates",
        "",
        " ".join(dominates(runs, cpus)),
        "",
        "The hosts here share the machine's CPUs with the controller and the Docker engine; real "
        "hosts would each have their own and be reached over SSH. Where the machine was busy "
        "throughout, the ratios above are those of its CPUs as much as the playbook's. CPU time "
        "of each converge (CPU-s), and its retries of `until:` loops (the apt tasks retry on "
        "apt's locks):",
        "",
        *table(
            [
                "hosts",
                "converge",
                "wall (s)",
                "hosts",
                "controller",
                "Docker engine",
                "whole machine",
                f"busy ({cpus} CPUs)",
                "retries",
            ],
            cpu_rows(runs, cpus),
        ),
        "",
        f"Slowest tasks of the first converge ({SLOWEST_SHOWN} of ansible.posix.profile_tasks; "
        "with N hosts a task lasts until the last host has done it), in seconds:",
        "",
    ]
    shown = max(runs, key=lambda run: run["hosts"])["first"]["slowest"][:SLOWEST_SHOWN]
    for run in runs:
        shown += [t for t in run["first"]["slowest"][:SLOWEST_SHOWN] if t[0] not in dict(shown)]
    rows = [
        [
            task_name(task),
            *(
                f"{dict(run['first']['slowest'])[task]:.1f}"
                if task in dict(run["first"]["slowest"])
                else "-"
                for run in runs
            ),
        ]
        for task, _seconds in shown
    ]
    lines += table(["task", *(plural(run["hosts"]) for run in runs)], rows)
    if any("-" in row for row in rows):
        lines += ["", "(-: not among that run's 10 slowest.)"]
    lines += [
        "",
        "## Load on the machine",
        "",
        "Load averages (1, 5, 15 min). Before each N the script waited for the 1-minute load to "
        f"fall to {results['settings']['max_load']} (at most {results['settings']['max_wait']:g} "
        "s). The containers listed were running beside the script's (other work on the same "
        "machine, such as another engineer's tests).",
        "",
        *table(
            [
                "hosts",
                "waited (s)",
                "after the wait",
                "before first converge",
                "after first",
                "after second",
                "other containers running (start; end)",
            ],
            [
                [
                    str(run["hosts"]),
                    str(run["quiet"]["waited_seconds"]),
                    str(run["quiet"]["load"]),
                    str(run["load_before"]),
                    str(run["first"]["load_after"]),
                    str(run["again"]["load_after"]),
                    f"{', '.join(run['other_containers']['start']) or 'none'}; "
                    f"{', '.join(run['other_containers']['end']) or 'none'}",
                ]
                for run in runs
            ],
        ),
        "",
    ]
    machine = results["machine"]
    versions = results["versions"]
    commit = f"{versions['collection_commit']} ({versions['converged']})" + (
        " with uncommitted changes in roles/, playbooks/ or plugins/"
        if versions["uncommitted_changes"]
        else ""
    )
    cache = "; ".join(
        f"{plural(run['hosts'])}: {run['apt_cache_packages']['start']} before, "
        f"{run['apt_cache_packages']['end']} after"
        for run in runs
    )
    lines += [
        "## What ran where",
        "",
        *table(
            ["", ""],
            [
                [
                    "machine",
                    f"{machine['cpu']}, {cpus} CPUs, {machine['memory_gib']} GiB, {machine['os']}",
                ],
                ["kernel, Docker", f"{machine['kernel']}, Docker engine {machine['docker']}"],
                ["ansible-core", versions["ansible_core"]],
                ["collection", commit],
                [
                    "apt archive",
                    "each host its own, seeded with hard links to the shared cache's packages "
                    f"(in the shared cache: {cache})",
                ],
                ["whole run, the waits included", f"{results['wall_seconds'] / 60:.1f} min"],
            ],
        ),
    ]
    problems = [problem for run in runs for problem in run["problems"]]
    if problems:
        lines += ["", "## Problems", "", *(f"- {problem}" for problem in problems)]
    return "\n".join(lines) + "\n"


# --- The run --------------------------------------------------------------------------------------


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--hosts", type=int, nargs="+", default=[1, 4, 8], help="host counts")
    parser.add_argument("--max-load", type=float, default=0.5, help="wait for a quieter machine")
    parser.add_argument("--max-wait", type=float, default=600, help="seconds to wait at most")
    parser.add_argument("--ref", help="converge this commit (an export of it), not the checkout")
    parser.add_argument("--output", type=Path, default=OUTPUT)
    parser.add_argument("--report", type=Path, default=REPORT)
    parser.add_argument(
        "--report-only", action="store_true", help="write the report from --output, run nothing"
    )
    args = parser.parse_args()
    if args.report_only:
        args.report.write_text(report(json.loads(args.output.read_text())))
        return 0
    if min(args.hosts) < 1:
        parser.error("--hosts: at least 1 each")

    bench.BUILD.mkdir(parents=True, exist_ok=True)
    started = time.monotonic()
    versions = bench.converged_by()
    top = bench.TOP
    if args.ref:
        top = export(args.ref)
        short = bench.run("git", "-C", str(bench.TOP), "rev-parse", "--short", args.ref).strip()
        versions.update(collection_commit=short, uncommitted_changes=False)
    versions["converged"] = f"git archive of {args.ref}" if args.ref else "the working tree"
    results: dict = {
        "date": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
        "settings": {
            "hosts": args.hosts,
            "max_load": args.max_load,
            "max_wait": args.max_wait,
            "ref": args.ref,
        },
        "machine": bench.machine(),
        "versions": versions,
        "image": bench.IMAGE,
        "runs": [],
    }
    for hosts in args.hosts:
        results["runs"].append(scale_run(hosts, args, top))
        results["wall_seconds"] = round(time.monotonic() - started)
        # After each N, so that what was measured survives a later failure.
        args.output.write_text(json.dumps(results, indent=2) + "\n")
    args.report.write_text(report(results))
    bench.log(f"results in {args.output}, report in {args.report}")
    problems = [problem for run in results["runs"] for problem in run["problems"]]
    for problem in problems:
        bench.log(f"problem: {problem}")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
