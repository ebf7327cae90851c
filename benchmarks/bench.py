"""`make bench`: the served stack against its ceiling, tutorials' configs, its peers and the app.

In one run, on one throwaway Debian 13 systemd container started like scripts/demo.sh does:

1. converge it with playbooks/site.yml and the sample app hello on the collection's defaults
   (benchmarks/inventory), timing the first converge and the idempotent re-run (changed=0
   required) with ansible.posix.profile_tasks;
2. with --candidates, deploy the settings of benchmarks/candidates.yml as further apps, by the
   collection, to measure them next to the defaults (about 5 minutes more);
3. start the comparison stacks next to the collection's, each behind the same nginx on a bench-only
   server block on 127.0.0.1: nginx's own `return 200` (the ceiling), the tutorials' uWSGI configs
   (benchmarks/tutorials), the peers with as many workers as the defaults (from one virtualenv,
   benchmarks/peers-requirements.txt; see peer_targets): gunicorn's sync workers over HTTP
   (`proxy_pass`), the same gunicorn with `--protocol uwsgi` (`uwsgi_pass`) and Granian's WSGI
   (`proxy_pass` to a keep-alive upstream), and the defaults' own vassal on a TCP socket; then
   check that each stack serving the app hands the client the app's /stream body whole, with its
   Content-Length and without (check_bodies);
4. measure every target with wrk pinned to one CPU, closed loop, in interleaved rounds after a
   warm-up; then, while every stack still runs, the RSS and PSS of each stack's processes
   (benchmarks/container/memory.py); the app's own calls/s in-process on one CPU; and the
   defaults' latency at 50 % and 80 % of their maximum rate with an open-loop generator
   (benchmarks/container/openloop.py), next to nginx's `return 200` at the same rates;
5. the ablation: a copy of the deployed site in front of a copy of the deployed vassal, then one
   setting of either toggled at a time (ABLATION), each on its own loopback port, measured like
   the stacks in interleaved rounds, with nginx's and uWSGI's CPU time per request;
6. benchmarks/report.py turns build/bench/results.json into docs/benchmark.md and
   docs/benchmark.png.

The container is t3.micro-sized: 1 GiB of memory and no swap (MEMORY_LIMIT), on the machine's
CPUs (2 on the machines the page was measured on).

The results file is written again, atomically, whenever a stage adds figures (each converge, each
wrk run, each in-process run, each open-loop run), so that a failure later keeps whatever was
measured before it: the file then says the run is incomplete, which stage failed and why, and
report.py renders it, naming what is missing. The previous run's file is kept as
results.previous.json.

The container is removed at the end, also on failure (--keep leaves it for a look inside).
"""

from __future__ import annotations

import argparse
import datetime
import hashlib
import json
import os
import re
import shlex
import shutil
import statistics
import subprocess
import sys
import time
import traceback
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, replace
from pathlib import Path

TOP = Path(__file__).resolve().parent.parent
BENCH = TOP / "benchmarks"
BUILD = TOP / "build" / "bench"
NAME = os.environ.get("PYOPS_BENCH_NAME") or "pyops-uwsgi-bench"  # see benchmarks/inventory
IMAGE = os.environ.get("PYOPS_IMAGE_DEBIAN13", "pyops-uwsgi/debian:13")
# Package caches shared with the Molecule scenarios of `make test`.
APT_CACHE = Path("/var/cache/pyops-uwsgi/apt/trixie")
PIP_CACHE = Path("/var/cache/pyops-uwsgi/pip")

APP = "hello"
APP_HOST = "hello.example.org"
APP_CODE = f"/srv/{APP}/current/code"
APP_VENV = f"/srv/{APP}/current/venv"
WEB_GROUP = "www-data"
REMOTE = "/opt/pyops-bench"  # the bench's files inside the container (not /tmp: a tmpfs there)
NGINX_CONF = "/etc/nginx/conf.d/pyops-bench.conf"
ABLATION_CONF = "/etc/nginx/conf.d/pyops-bench-ablation.conf"

LOAD_CPU = "1"  # the CPU wrk, the open-loop generator and the in-process loop are pinned to
CONNECTIONS = 32  # below every listen backlog measured (uWSGI's 100, the defaults' 1024)
OPEN_LOOP_SHARES = (0.5, 0.8)  # of the defaults' maximum rate
MEMORY_LIMIT = 2**30  # bytes, as an EC2 t3.micro has (docker --memory, with no swap)

# Settings that might make better defaults, deployed as further apps (see the file).
CANDIDATES = BENCH / "candidates.yml"

# The stages of a run, in order, as the results file names them (report.py says which are missing).
STAGES = {
    "converge": "converging the container with site.yml (and the candidates)",
    "stacks": "starting the comparison stacks behind nginx",
    "closed_loop": "wrk on every stack (closed loop)",
    "memory": "the memory of each stack",
    "profile": "where the defaults' CPU goes, by code (perf)",
    "in_process": "the app in-process",
    "open_loop": "latency at 50 % and 80 % of the maximum rate (open loop)",
    "ablation": "the ablation (one setting toggled at a time)",
    "redeploy": "redeploys under a steady load, for each supervisor",
}

# The steady load a redeploy runs under, as a share of the defaults' maximum rate, and the
# redeploys: each changes the sample app's code, virtualenv (a package's version) and uWSGI options
# (app_env); the second moves it from the Emperor to a unit of its own. Then the control: the last
# converge again, which changes nothing, under the same load: what a converge costs the requests
# on its own (its tasks share the CPUs with the app).
REDEPLOY_SHARE = 0.25
REDEPLOYS = (("emperor", "emperor"), ("to a unit of its own", "systemd"), ("systemd", "systemd"))
CONTROL = "nothing to change (control)"
REDEPLOY_PACKAGES = ("six==1.17.0", "six==1.16.0")


@dataclass
class Target:
    """One stack that serves GET / of the sample app (or nginx's stand-in), and how it is set up."""

    key: str
    label: str
    kind: str  # ceiling, defaults, tutorial, gunicorn, granian, tcp or candidate
    port: int
    server_log: str  # what the server behind nginx logs per request
    location: str = ""  # the bench-only server block's location /; empty: a site of the collection
    host: str = "localhost"
    settings: str = ""  # how it differs from the defaults (candidates)
    journal: str = ""  # the syslog identifier of a uWSGI on the collection's logger
    upstream: str = ""  # an nginx upstream block the location passes to (http level)
    command: str = ""  # the server's command line (the peers), for the page
    block: str = ""  # a whole server block instead of one made from location (a copy of the site)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/"


def uwsgi_location(upstream: str) -> str:
    return f"include uwsgi_params;\n        uwsgi_pass {upstream};"


TUTORIALS = {
    # key: (ini file under benchmarks/tutorials, label)
    "tutorial-one": ("one-process.ini", "tutorial: 1 process"),
    "tutorial-threads": ("threads-memory-report.ini", "tutorial: 4 processes x 8 threads"),
    "tutorial-five": ("five-processes.ini", "tutorial: 5 processes"),
}
TCP_ADDRESS = "127.0.0.1:3031"


def request_log(ini: str) -> str:
    """What a uWSGI ini makes the server log per request."""
    if ini_value(ini, "disable-logging") == "true":
        kept = [key for key in ("log-4xx", "log-5xx") if ini_value(ini, key) == "true"]
        return "none" if not kept else "errors only (" + ", ".join(kept) + ")"
    return "every request"


# The peers: gunicorn and Granian, from one virtualenv with the app's requirements, each with as
# many workers as the defaults' processes, in a transient unit of its own (pyops-bench-KEY).
PEERS_VENV = f"{REMOTE}/peers-venv"
# Granian behind a reverse proxy, as we read its README's "Workers and threads" and "Backpressure":
# the blocking threads (the threads that run the app, per worker) limit the concurrency, few of
# them for an app that answers in a millisecond and does no I/O; the backpressure (connections per
# worker) stays at its default, backlog ÷ workers (1024 ÷ 4 = 256 here), above the keep-alive
# connections nginx holds open to it.
GRANIAN_BLOCKING_THREADS = 2
GRANIAN_UPSTREAM = "pyops_bench_granian"
UPSTREAM_KEEPALIVE = CONNECTIONS  # idle keep-alive connections to Granian each nginx worker keeps


def peer_socket(key: str) -> str:
    return f"/run/pyops-bench-{key}/app.sock"


def peer_commands(workers: int) -> dict[str, list[str]]:
    """The peers' command lines by target key, each run in the app's code directory."""
    gunicorn = [f"{PEERS_VENV}/bin/gunicorn", "--workers", str(workers), "-m", "007"]
    return {
        "gunicorn": [*gunicorn, "--bind", f"unix:{peer_socket('gunicorn')}", "wsgi:application"],
        "gunicorn-uwsgi": [
            *gunicorn, "--protocol", "uwsgi", "--bind", f"unix:{peer_socket('gunicorn-uwsgi')}",
            "wsgi:application",
        ],
        "granian": [
            f"{PEERS_VENV}/bin/granian", "--interface", "wsgi", "--uds", peer_socket("granian"),
            "--uds-permissions", "0660", "--workers", str(workers),
            "--blocking-threads", str(GRANIAN_BLOCKING_THREADS), "wsgi:application",
        ],
    }  # fmt: skip


def peer_targets(workers: int) -> list[Target]:
    commands = {key: shlex.join(command) for key, command in peer_commands(workers).items()}
    proxied = "include proxy_params;\n        "
    return [
        Target(
            "gunicorn",
            "gunicorn (sync workers, HTTP)",
            "gunicorn",
            8085,
            "none (gunicorn's default)",
            f"{proxied}proxy_pass http://unix:{peer_socket('gunicorn')};",
            command=commands["gunicorn"],
        ),
        Target(
            "gunicorn-uwsgi",
            "gunicorn (--protocol uwsgi)",
            "gunicorn",
            8087,
            "none (gunicorn's default)",
            uwsgi_location(f"unix:{peer_socket('gunicorn-uwsgi')}"),
            command=commands["gunicorn-uwsgi"],
        ),
        Target(
            "granian",
            "Granian (WSGI)",
            "granian",
            8088,
            "none (Granian's default)",
            f'{proxied}proxy_http_version 1.1;\n        proxy_set_header Connection "";\n'
            f"        proxy_pass http://{GRANIAN_UPSTREAM};",
            upstream=(
                f"upstream {GRANIAN_UPSTREAM} {{\n    server unix:{peer_socket('granian')};\n"
                f"    keepalive {UPSTREAM_KEEPALIVE};\n}}"
            ),
            command=commands["granian"],
        ),
    ]


def fixed_targets(ceiling_body: str, vassal: str, workers: int, site_block: str) -> list[Target]:
    """The stacks every run measures; site_block is the deployed site's server block, which the
    defaults on TCP are served through (a copy of it passing to TCP), so that only the socket
    differs from the defaults."""
    body = ceiling_body.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")
    targets = [
        Target(
            "ceiling",
            "nginx return 200 (ceiling)",
            "ceiling",
            8081,
            "-",
            f'default_type text/html;\n        return 200 "{body}";',
        ),
        Target(
            "defaults",
            "pyops.uwsgi defaults",
            "defaults",
            80,
            request_log(vassal),
            host=APP_HOST,
            journal=f"uwsgi-{APP}",
        ),
    ]
    for port, (key, (ini, label)) in enumerate(TUTORIALS.items(), start=8082):
        socket = f"unix:/run/pyops-bench-{key.removeprefix('tutorial-')}/app.sock"
        logged = request_log((BENCH / "tutorials" / ini).read_text()) + ", to the journal"
        targets.append(Target(key, label, "tutorial", port, logged, uwsgi_location(socket)))
    targets += [
        *peer_targets(workers),
        Target(
            "tcp",
            f"defaults on TCP {TCP_ADDRESS}",
            "tcp",
            8086,
            request_log(vassal),
            journal=f"uwsgi-{APP}-tcp",
            block=site_copy(site_block, 8086, TCP_ADDRESS),
        ),
    ]
    return targets


# --- Running things -------------------------------------------------------------------------------


def log(message: str) -> None:
    print(f"[bench {time.strftime('%H:%M:%S')}] {message}", flush=True)


def run(*command: str, check: bool = True, stdin: str | None = None) -> str:
    """A command's output; a failure raises with everything it printed."""
    result = subprocess.run(command, input=stdin, capture_output=True, text=True, check=False)
    if check and result.returncode != 0:
        raise RuntimeError(
            f"{shlex.join(command)} failed ({result.returncode}):\n{result.stdout}{result.stderr}"
        )
    return result.stdout


def succeeds(*command: str) -> bool:
    return subprocess.run(command, capture_output=True, check=False).returncode == 0


def inside(*command: str, check: bool = True, stdin: str | None = None) -> str:
    """Run a command in the bench container (as root)."""
    return run("docker", "exec", "-i", NAME, *command, check=check, stdin=stdin)


def put(path: str, text: str) -> None:
    inside("sh", "-c", f"cat > {shlex.quote(path)}", stdin=text)


def load_average() -> list[float]:
    return [round(value, 2) for value in os.getloadavg()]


def wait_for_quiet_machine(max_load: float, max_wait: float) -> dict:
    """Wait until the 1-minute load average is at most max_load, up to max_wait seconds."""
    started = time.monotonic()
    while os.getloadavg()[0] > max_load and time.monotonic() - started < max_wait:
        log(f"load average {load_average()} above {max_load}: waiting")
        time.sleep(15)
    return {"waited_seconds": round(time.monotonic() - started), "load": load_average()}


# --- The container --------------------------------------------------------------------------------


def start_container(name: str = NAME, apt_cache: Path = APT_CACHE, memory: int = 0) -> None:
    """Start a fresh systemd container of IMAGE and wait until it has booted; with memory, limited
    to that many bytes and no swap."""
    if succeeds("docker", "container", "inspect", name):
        log(f"removing {name} left over from an earlier run")
        remove_container(name)
    for cache in (apt_cache, PIP_CACHE):
        cache.mkdir(parents=True, exist_ok=True)
    log(f"starting {name} from {IMAGE}")
    run(
        "docker", "run", "-d", "--name", name, "--hostname", name,
        "--cap-add", "SYS_ADMIN", "--security-opt", "seccomp=unconfined",
        "--cgroupns=host", "-v", "/sys/fs/cgroup:/sys/fs/cgroup:rw",
        "--tmpfs", "/run", "--tmpfs", "/run/lock",
        "-v", f"{apt_cache}:/var/cache/apt/archives:rw", "-v", f"{PIP_CACHE}:/root/.cache/pip:rw",
        *([f"--memory={memory}", f"--memory-swap={memory}"] if memory else []),
        IMAGE, "/lib/systemd/systemd",
    )  # fmt: skip
    for _attempt in range(60):
        state = run("docker", "exec", name, "systemctl", "is-system-running", check=False).strip()
        if state in {"running", "degraded"}:
            return
        time.sleep(1)
    raise RuntimeError(f"{name} did not boot (systemd state {state!r})")


def remove_container(name: str = NAME) -> None:
    run("docker", "rm", "-f", name, check=False)
    log(f"removed {name}")


# --- Converging -----------------------------------------------------------------------------------

RECAP = re.compile(r"^(?P<host>\S+)\s+:\s+(?P<counts>(?:\w+=\d+\s*)+)$")
PROFILE_LINE = re.compile(r"^(?P<task>.+?) -{2,} (?P<seconds>\d+\.\d+)s$")


def run_site(label: str, inventory: Path, *extra: str, top: Path = TOP, logs: Path = BUILD) -> dict:
    """Run playbooks/site.yml of the collection at top (the checkout, or an export of a commit);
    its wall clock, each host's recap and its 10 slowest tasks. Its output goes to logs."""
    collections = top / "build" / "collections"
    (collections / "ansible_collections" / "pyops").mkdir(parents=True, exist_ok=True)
    link = collections / "ansible_collections" / "pyops" / "uwsgi"
    if not link.is_symlink():
        link.symlink_to(top)
    env = {
        **os.environ,
        "ANSIBLE_COLLECTIONS_PATH": os.pathsep.join(
            [str(collections), os.environ.get("ANSIBLE_COLLECTIONS_PATH", "")]
        ),
        "ANSIBLE_CALLBACKS_ENABLED": "ansible.posix.profile_tasks",
        "PROFILE_TASKS_TASK_OUTPUT_LIMIT": "10",
        "ANSIBLE_FORCE_COLOR": "0",
    }
    command = ["ansible-playbook", "-i", str(inventory), *extra, "playbooks/site.yml"]
    log(f"converge ({label}): {shlex.join(command)}")
    started = time.monotonic()
    result = subprocess.run(command, cwd=top, env=env, capture_output=True, text=True, check=False)
    seconds = time.monotonic() - started
    output = result.stdout + result.stderr
    (logs / f"converge-{label}.log").write_text(output)
    recap = {}
    slowest = []
    in_profile = False
    for line in output.splitlines():
        if match := RECAP.match(line):
            counts = (item.split("=") for item in match["counts"].split())
            recap[match["host"]] = {k: int(v) for k, v in counts}
        elif line.startswith("TASKS RECAP"):
            in_profile = True
        elif in_profile and (match := PROFILE_LINE.match(line.strip())):
            slowest.append([match["task"], float(match["seconds"])])
    if result.returncode != 0:
        failed = [h for h, c in recap.items() if c.get("failed") or c.get("unreachable")]
        raise RuntimeError(
            f"converge ({label}) failed on {', '.join(failed) or 'no host'} "
            f"(exit {result.returncode}), see {logs / f'converge-{label}.log'}"
        )
    return {"label": label, "seconds": round(seconds, 1), "recap": recap, "slowest": slowest}


def converge(label: str, logs: Path, *extra: str) -> dict:
    """Converge the bench container (benchmarks/inventory)."""
    result = run_site(label, BENCH / "inventory", *extra, logs=logs)
    recap = next(iter(result["recap"].values()))  # the inventory's one host
    log(f"converge ({label}): {result['seconds']:.0f} s, {recap}")
    return {**result, "recap": recap}


# --- The comparison stacks ------------------------------------------------------------------------


def start_unit(unit: str, command: list[str], *properties: str) -> None:
    """Start a command as a transient systemd service in the container."""
    options = [f"--property={p}" for p in properties]
    inside("systemd-run", f"--unit={unit}", "--collect", *options, *command)


def stop_units(*units: str) -> None:
    """Stop the bench's transient units at once: killed, not asked (a uWSGI master may wait for
    its workers' mercy); nothing in them is worth a graceful end."""
    inside("systemctl", "kill", "--signal=SIGKILL", *units, check=False)
    inside("systemctl", "stop", *units, check=False)


def deployed_vassal(vassals_dir: str) -> str:
    """The defaults' uWSGI ini, as the collection deployed it."""
    path = f"{vassals_dir}/{APP}.ini"
    if succeeds("docker", "exec", NAME, "test", "-f", path):
        return inside("cat", path)
    found = inside("find", "/etc/uwsgi", "-name", f"{APP}.ini").split()
    if not found:
        raise RuntimeError(f"no {APP}.ini under /etc/uwsgi: where did the collection put it?")
    return inside("cat", found[0])


def ini_value(ini: str, key: str) -> str:
    values = [
        line.partition("=")[2].strip()
        for line in ini.splitlines()
        if line.partition("=")[0].strip() == key
    ]
    return values[-1] if values else ""


def start_alternatives(record: dict, workers: int, vassal: str) -> None:
    """The tutorials' uWSGI instances, the peers (gunicorn twice, Granian) and the defaults on TCP,
    each a transient unit."""
    uwsgi = record["binary"]
    python = record["default_python"]
    plugin = ["--plugins-dir", record["plugin_dir"], "--plugin", record["plugins"][python]]
    for key, (ini, _title) in TUTORIALS.items():
        name = key.removeprefix("tutorial-")
        # The tutorials run pip's uWSGI from the activated virtualenv; this host's uWSGI takes the
        # same Python from the collection's plugin, so every uWSGI here is the same build.
        start_unit(
            f"pyops-bench-{name}",
            [uwsgi, *plugin, "--virtualenv", APP_VENV, "--ini", f"{REMOTE}/tutorials/{ini}"],
            f"User={APP}", f"Group={WEB_GROUP}", f"RuntimeDirectory=pyops-bench-{name}",
            f"WorkingDirectory={APP_CODE}", "KillSignal=SIGQUIT",
        )  # fmt: skip

    log("installing the peers (gunicorn, Granian) next to the app's requirements")
    inside(record["interpreters"][python], "-m", "venv", "--clear", PEERS_VENV)
    inside(
        "env", "PIP_CERT=/etc/ssl/certs/ca-certificates.crt", f"{PEERS_VENV}/bin/pip", "install",
        "-q", "-r", f"{APP_CODE}/requirements.txt", "-r", f"{REMOTE}/peers-requirements.txt",
    )  # fmt: skip
    for key, command in peer_commands(workers).items():
        start_unit(
            f"pyops-bench-{key}",
            command,
            f"User={APP}", f"Group={WEB_GROUP}", f"RuntimeDirectory=pyops-bench-{key}",
            f"WorkingDirectory={APP_CODE}",
        )  # fmt: skip

    # The deployed vassal, its socket on TCP (see vassal_copy).
    tcp = ini_set("socket", TCP_ADDRESS)(vassal_copy(vassal, "pyops-bench-tcp"))
    put(f"{REMOTE}/{APP}-tcp.ini", ini_drop("chmod-socket")(tcp))
    start_unit(
        "pyops-bench-tcp",
        [uwsgi, "--ini", f"{REMOTE}/{APP}-tcp.ini"],
        f"User={APP}", f"Group={APP}", "RuntimeDirectory=pyops-bench-tcp", "KillSignal=SIGQUIT",
    )  # fmt: skip


def nginx_server_blocks(targets: list[Target]) -> str:
    """The bench's conf.d file: the upstream blocks, then a server block per target."""
    blocks = [
        "# Bench-only server blocks (benchmarks/bench.py), on loopback, in a throwaway container."
    ]
    blocks += [target.upstream for target in targets if target.upstream]
    blocks += [
        target.block or server_block_of(target)
        for target in targets
        if target.location or target.block
    ]
    return "\n".join(blocks) + "\n"


def server_block_of(target: Target) -> str:
    return (
        f"server {{\n    listen 127.0.0.1:{target.port};\n"
        f"    location / {{\n        {target.location}\n    }}\n}}"
    )


def peers_ran(targets: list[Target]) -> dict:
    """What the page says of each peer: its label, command line and nginx configuration."""
    return {
        t.key: {
            "label": t.label,
            "command": t.command,
            "nginx": "\n".join(filter(None, [t.upstream, server_block_of(t)])),
        }
        for t in targets
        if t.kind in {"gunicorn", "granian"}
    }


def wait_until_served(targets: list[Target], body: str) -> None:
    for target in targets:
        for _attempt in range(60):
            answer = inside(
                "curl", "-s", "-o", "/dev/null", "-w", "%{http_code}",
                "-H", f"Host: {target.host}", target.url, check=False,
            )  # fmt: skip
            if answer == "200":
                break
            time.sleep(1)
        else:
            raise RuntimeError(f"{target.label} does not answer 200 on {target.url}: {answer}")
        served = inside("curl", "-sS", "-H", f"Host: {target.host}", target.url)
        if served != body:
            raise RuntimeError(f"{target.label} serves {served!r}, not the app's {body!r}")


# A body of BODY_MIB MiB from the app's /stream, its length announced or not (?length=0): what each
# stack hands the client, byte for byte. The app sends BODY_MIB MiB of b"s" either way.
BODY_MIB = 8
BODY_PATHS = {"without_length": f"stream/{BODY_MIB}?length=0", "with_length": f"stream/{BODY_MIB}"}


def expected_body() -> dict:
    body = b"s" * (BODY_MIB * 2**20)  # as examples/apps/hello/myflask.py's stream() sends it
    return {"bytes": len(body), "sha256": hashlib.sha256(body).hexdigest()}


def fetch_body(target: Target, path: str) -> dict:
    """Status, length, sha256 and framing (to the client) of one response of the target, and
    curl's exit status (not 0: the transfer broke off)."""
    file = f"{REMOTE}/body"
    written = "%{http_code}|%{size_download}|%header{content-length}|%header{transfer-encoding}"
    output = inside(
        "sh", "-c",
        f": > {file}; curl -sS --max-time 120 -o {file} -w {shlex.quote(written + chr(10))} "
        f"-H {shlex.quote('Host: ' + target.host)} {shlex.quote(target.url + path)}; "
        f"code=$?; sha256sum {file}; rm -f {file}; echo $code",
    )  # fmt: skip
    first, digest, code = output.splitlines()[-3:]
    status, size, length, encoding = first.split("|")
    framing = "chunked" if "chunked" in encoding else "Content-Length" if length else "close"
    return {
        "status": int(status),
        "bytes": int(size),
        "sha256": digest.split()[0],
        "framing": framing,
        "curl_exit": int(code),
    }


def check_bodies(targets: list[Target]) -> dict:
    """Each stack's answer to BODY_PATHS (the ceiling aside: it serves no app), against the body
    the app sends; logged as it goes."""
    expected = expected_body()
    stacks = {}
    for target in targets:
        if target.kind == "ceiling":
            continue
        stacks[target.key] = {"label": target.label, "kind": target.kind}
        for name, path in BODY_PATHS.items():
            got = fetch_body(target, path)
            got["intact"] = (got["status"], got["curl_exit"]) == (200, 0) and all(
                got[field] == expected[field] for field in ("bytes", "sha256")
            )
            stacks[target.key][name] = got
            log(
                f"body {target.label}, {path}: {got['status']}, {got['bytes']} bytes "
                f"({got['framing']}), {'intact' if got['intact'] else 'NOT the app body'}"
            )
    return {"mib": BODY_MIB, "paths": BODY_PATHS, "expected": expected, "stacks": stacks}


# --- Measuring ------------------------------------------------------------------------------------

DURATION_UNITS = {"us": 0.001, "ms": 1.0, "s": 1000.0}


def milliseconds(text: str) -> float:
    number, unit = re.fullmatch(r"([\d.]+)(us|ms|s)", text).groups()
    return float(number) * DURATION_UNITS[unit]


def parse_wrk(output: str) -> dict:
    def find(pattern: str, default: str | None = None) -> str:
        match = re.search(pattern, output, re.MULTILINE)
        if match is None and default is None:
            raise RuntimeError(f"no {pattern!r} in wrk's output:\n{output}")
        return match[1] if match else default

    socket_errors = find(r"^\s*Socket errors: (.*)$", "")
    return {
        "rps": float(find(r"^Requests/sec:\s+([\d.]+)")),
        "requests": int(find(r"^\s*(\d+) requests in")),
        "p50_ms": milliseconds(find(r"^\s+50%\s+(\S+)")),
        "p99_ms": milliseconds(find(r"^\s+99%\s+(\S+)")),
        # wrk counts responses outside 2xx and 3xx; none of the targets redirects.
        "non_2xx": int(find(r"^\s*Non-2xx or 3xx responses: (\d+)", "0")),
        "socket_errors": sum(int(n) for n in re.findall(r"\d+", socket_errors)),
    }


def cpu_time() -> dict[str, int]:
    """CPU time so far of the container's processes, in microseconds by process name."""
    return json.loads(inside("python3", f"{REMOTE}/container/cputime.py"))


def wrk_command(target: Target, seconds: int) -> str:
    return shlex.join(
        [
            "taskset", "-c", LOAD_CPU, "wrk", "-t1", f"-c{CONNECTIONS}", f"-d{seconds}s",
            "--latency", "-H", f"Host: {target.host}", target.url,
        ]
    )  # fmt: skip


def wrk(target: Target, seconds: int) -> dict:
    """One wrk run, and the CPU time each process name spent per request meanwhile."""
    command = wrk_command(target, seconds)
    before = cpu_time()
    # The shell's own stat line last: its children's CPU time (fields 16, 17) is wrk's.
    output = inside("sh", "-c", f'{command} && echo "$(cat /proc/$$/stat)"')
    after = cpu_time()
    result = parse_wrk(output)
    shell = output.rstrip().rpartition("\n")[2].rpartition(")")[2].split()
    # A process that ended unreaped takes its time along: never count less than nothing.
    spent = {name: max(0, after[name] - before.get(name, 0)) for name in after}
    spent["wrk"] = (int(shell[13]) + int(shell[14])) * 1_000_000 // os.sysconf("SC_CLK_TCK")
    result["cpu_us_per_request"] = {
        name: us / result["requests"] for name, us in spent.items() if us
    }
    return result


def summary(values: list[float]) -> dict:
    return {"median": statistics.median(values), "min": min(values), "max": max(values)}


def measure_closed_loop(
    targets: list[Target],
    runs: int,
    seconds: int,
    warmup: int,
    progress: Callable[[dict[str, list[dict]], int], None] = lambda _runs, _rounds: None,
) -> dict:
    """wrk on each target, in rounds (one run of every target per round) after a warm-up each
    (none with warmup 0). progress gets the runs so far and the rounds done after each run."""
    for target in targets if warmup > 0 else []:
        log(f"warm-up {warmup:g} s: {target.label}")
        wrk(target, warmup)
    results: dict[str, list[dict]] = {target.key: [] for target in targets}
    for round_number in range(1, runs + 1):
        for number, target in enumerate(targets, start=1):
            result = wrk(target, seconds)
            results[target.key].append(result)
            log(
                f"round {round_number}/{runs} {target.label}: {result['rps']:.0f} rps, "
                f"p99 {result['p99_ms']:.2f} ms, errors {result['socket_errors']}, "
                f"non-2xx {result['non_2xx']}"
            )
            progress(results, round_number if number == len(targets) else round_number - 1)
    return closed_loop_summary(results)


def closed_loop_summary(results: dict[str, list[dict]]) -> dict:
    """Each target's median and range over its wrk runs."""
    return {
        key: {
            "runs": runs_of,
            "rps": summary([r["rps"] for r in runs_of]),
            "p50_ms": statistics.median(r["p50_ms"] for r in runs_of),
            "p99_ms": statistics.median(r["p99_ms"] for r in runs_of),
            "socket_errors": sum(r["socket_errors"] for r in runs_of),
            "non_2xx": sum(r["non_2xx"] for r in runs_of),
            "cpu_us_per_request": {
                name: statistics.median(r["cpu_us_per_request"].get(name, 0) for r in runs_of)
                for name in sorted({n for r in runs_of for n in r["cpu_us_per_request"]})
            },
        }
        for key, runs_of in results.items()
    }


def worker_recycles(target: Target, since: float) -> int | None:
    """How often the target's uWSGI workers ended to be recycled since then, from its journal."""
    if not target.journal:
        return None
    lines = inside(
        "journalctl", "-q", "-o", "cat", "-t", target.journal, "--since", f"@{since:.0f}"
    )
    return sum("is done. Seeya!" in line for line in lines.splitlines())


def measure_in_process(
    runs: int,
    seconds: float,
    record: dict,
    progress: Callable[[dict, dict], None] = lambda _python, _embedded: None,
) -> tuple[dict, dict]:
    """The app's own calls/s: its WSGI callable called in a loop, as the app's user, on one CPU,
    in the virtualenv's python and in uWSGI's embedded interpreter (the collection's plugin for
    that Python, which links libpython: --pyrun), a run of each in turn. progress gets the
    summaries of the runs so far after each pair."""
    arguments = ["--code", APP_CODE, "--host-header", APP_HOST, "--seconds", str(seconds)]
    python = record["default_python"]
    commands = {
        "python": [f"{APP_VENV}/bin/python", f"{REMOTE}/container/inprocess.py", *arguments],
        "embedded": [
            record["binary"], "--plugins-dir", record["plugin_dir"],
            "--plugin", record["plugins"][python], "--virtualenv", APP_VENV,
            "--pyrun", f"{REMOTE}/container/inprocess.py", "--pyargv", shlex.join(arguments),
        ],
    }  # fmt: skip
    results: dict[str, list[dict]] = {kind: [] for kind in commands}
    for number in range(1, runs + 1):
        for kind, command in commands.items():
            line = shlex.join(
                ["runuser", "-u", APP, "--", "env", "PYTHONDONTWRITEBYTECODE=1",
                 "taskset", "-c", LOAD_CPU, *command]
            )  # fmt: skip
            # uWSGI sends the script's stdout where its log goes (stderr), after its banner: the
            # figures are the last line of both streams.
            output = inside("sh", "-c", f"{line} 2>&1")
            results[kind].append(json.loads(output.strip().rpartition("\n")[2]))
            rate = results[kind][-1]["calls_per_second"]
            log(f"in-process ({kind}) {number}/{runs}: {rate:.0f} calls/s")
        progress(in_process_summary(results["python"]), in_process_summary(results["embedded"]))
    return in_process_summary(results["python"]), in_process_summary(results["embedded"])


def in_process_summary(results: list[dict]) -> dict:
    return {
        "runs": list(results),
        "calls_per_second": summary([r["calls_per_second"] for r in results]),
        "non_2xx": sum(r["non_2xx"] for r in results),
    }


# The open-loop generator stands in for clients on other machines: it runs in a scope of its own
# in system.slice, as the served stack does, so that a converge's tasks (docker exec puts them at
# the top of the container's cgroup) delay requests, not the generator's own clock; pinned like wrk.
OPEN_LOOP = ("systemd-run", "--scope", "--quiet", "taskset", "-c", LOAD_CPU, "python3")


def measure_open_loop(target: Target, rate: float, seconds: float) -> dict:
    output = inside(
        *OPEN_LOOP, f"{REMOTE}/container/openloop.py",
        "--port", str(target.port), "--host-header", target.host, "--rate", f"{rate:.0f}",
        "--seconds", str(seconds), "--connections", str(CONNECTIONS),
    )  # fmt: skip
    result = json.loads(output)
    log(
        f"open loop {target.label} at {rate:.0f}/s: p99 {result['p99_ms']:.2f} ms, "
        f"achieved {result['achieved_rate']:.0f}/s, errors {result['errors']}"
    )
    return result


# --- Memory ---------------------------------------------------------------------------------------


def master_unit(pattern: str) -> str | None:
    """The systemd unit of the process whose command line starts with pattern (a uWSGI master by
    its procname), or None when none runs."""
    pids = inside("pgrep", "-o", "-f", f"^{pattern}", check=False).split()
    if not pids:
        return None
    for line in inside("cat", f"/proc/{pids[0]}/cgroup").splitlines():
        _number, controller, path = line.split(":", 2)
        if controller in {"name=systemd", ""}:
            return path.rstrip("/").rpartition("/")[2]
    return None


def measure_memory(targets: list[Target], vassal: str) -> dict:
    """RSS and PSS of each stack's processes (the ceiling and the TCP copy of the defaults aside)
    and the container's memory, from benchmarks/container/memory.py."""
    units = {
        "tutorial": lambda t: f"pyops-bench-{t.key.removeprefix('tutorial-')}.service",
        "gunicorn": lambda t: f"pyops-bench-{t.key}.service",
        "granian": lambda t: f"pyops-bench-{t.key}.service",
    }
    specs = []
    prefix = ini_value(vassal, "procname-prefix-spaced")
    defaults_unit = master_unit(f"{prefix} uWSGI master" if prefix else "uWSGI master")
    for target in targets:
        if target.kind == "defaults" and defaults_unit:
            specs.append(f"{target.key}={defaults_unit}:{APP}")
        elif target.kind == "candidate" and defaults_unit:
            # A candidate is one more app under the same supervisor, as its own user.
            specs.append(f"{target.key}={defaults_unit}:{target.key.removeprefix('candidate-')}")
        elif target.kind in units:
            specs.append(f"{target.key}={units[target.kind](target)}:{APP}")
    found = json.loads(inside("python3", f"{REMOTE}/container/memory.py", *specs))
    for key, stack in found["stacks"].items():
        pss = sum(p["pss_kib"] for p in stack["processes"]) / 1024
        log(f"memory {key}: {len(stack['processes'])} processes, PSS {pss:.1f} MiB in all")
    return found


# --- The profile ----------------------------------------------------------------------------------
#
# perf (Debian's linux-perf) samples every CPU at PERF_HZ while wrk loads the defaults once, as in
# the closed loop; benchmarks/container/profile.py counts the samples by process and by code
# (kernel, Python, uWSGI's own, libc and the loader). A sample stands for 1/PERF_HZ of one CPU.

PERF_HZ = 999  # not a multiple of the kernel's tick, so sampling does not lock to it
PERF_DATA = f"{REMOTE}/perf.data"  # on the container's disk: /tmp is a tmpfs, counted as memory


def perf_error(stderr: str) -> str:
    """perf's decisive line: the one after its "Error:", else one naming perf_event, else its
    last; empty when it said nothing."""
    lines = [line.strip() for line in stderr.splitlines() if line.strip()]
    for before, after in zip(lines, lines[1:]):
        if before.lower() == "error:":
            return after
    return next((line for line in lines if "perf_event" in line), lines[-1] if lines else "")


def profile_defaults(targets: list[Target], seconds: int) -> dict:
    """The profile of one wrk run on the defaults; {"error": ...} where perf cannot record here
    (a kernel or a container that refuses perf_event_open): the other figures stand without it."""
    target = next(t for t in targets if t.kind == "defaults")
    apt_install("linux-perf")
    done = subprocess.run(
        [
            "docker", "exec", NAME, "perf", "record", "-a", "-F", str(PERF_HZ), "-o", PERF_DATA,
            "--", "sh", "-c", wrk_command(target, seconds),
        ],
        capture_output=True, text=True, check=False,
    )  # fmt: skip
    if done.returncode != 0:
        error = perf_error(done.stderr) or f"exit status {done.returncode}"
        log(f"perf could not record ({done.returncode}): {error}")
        return {"error": error}
    samples = json.loads(inside("python3", f"{REMOTE}/container/profile.py", PERF_DATA))
    inside("rm", "-f", PERF_DATA)
    measured = parse_wrk(done.stdout)
    us = {
        group: {code: n * 1_000_000 / PERF_HZ / measured["requests"] for code, n in codes.items()}
        for group, codes in samples["groups"].items()
    }
    spent = {code: round(value, 1) for code, value in us.get("uwsgi", {}).items()}
    log(f"profile {target.label}: {measured['rps']:.0f} req/s; uWSGI µs per request {spent}")
    return {
        "target": target.key,
        "hz": PERF_HZ,
        "seconds": seconds,
        "requests": measured["requests"],
        "rps": measured["rps"],
        "samples": samples,
        "us_per_request": us,
        "perf": inside("perf", "--version").strip(),
    }


# --- The ablation ---------------------------------------------------------------------------------
#
# A copy of the deployed site (on a loopback port of its own) in front of a copy of the deployed
# vassal (a transient unit of its own) is the baseline; each variant changes one setting of either.
# Copies, so that the deployed app and its site stay as the collection wrote them.

ABLATION_PORT = 8100  # the baseline's; the variants' follow
ABLATION_ACCESS_LOG = "/var/log/nginx/access.log"  # replaced by the path nginx.conf logs to


@dataclass(frozen=True)
class Variant:
    """One setting toggled: what it changes in the site's server block or in the vassal's ini."""

    slug: str
    layer: str  # baseline, nginx or uwsgi
    setting: str
    change: str
    site: Callable[[str], str] | None = None
    ini: Callable[[str], str] | None = None

    @property
    def key(self) -> str:
        return "abl-base" if self.layer == "baseline" else f"abl-{self.layer}-{self.slug}"

    @property
    def unit(self) -> str:
        """The transient unit of the vassal copy this variant is served by."""
        return f"pyops-bench-abl-{'base' if self.ini is None else self.slug}"


def ini_set(key: str, value: str | None) -> Callable[[str], str]:
    """A change of an ini: every line of key replaced by one `key = value` where the first was
    (appended when there was none), or removed (value None)."""

    def change(ini: str) -> str:
        lines, done = [], False
        for line in ini.splitlines():
            if line.partition("=")[0].strip() == key:
                if value is not None and not done:
                    lines.append(f"{key} = {value}")
                done = True
                continue
            lines.append(line)
        if value is not None and not done:
            lines.append(f"{key} = {value}")
        return "\n".join(lines) + "\n"

    return change


def ini_drop(*keys: str) -> Callable[[str], str]:
    def change(ini: str) -> str:
        for key in keys:
            ini = ini_set(key, None)(ini)
        return ini

    return change


def site_drop_lines(prefix: str) -> Callable[[str], str]:
    """A change of a server block: its directives that start with prefix removed."""

    def change(block: str) -> str:
        return "\n".join(line for line in block.splitlines() if not line.strip().startswith(prefix))

    return change


def site_drop_location(url: str) -> Callable[[str], str]:
    def change(block: str) -> str:
        start = block.index(f"location {url} {{")
        # With what it nests (the asset bridge's regex location, whose braces are quoted).
        end = block_end(block, block.index("{", start)) + 1
        return block[:start].rstrip(" ") + block[end:].lstrip("\n")

    return change


def site_add(*directives: str) -> Callable[[str], str]:
    """A change of a server block: directives added at the server level (first in the block)."""

    def change(block: str) -> str:
        head, _brace, rest = block.partition("{")
        return head + "{\n" + "".join(f"    {d};\n" for d in directives) + rest.lstrip("\n")

    return change


def ablation_variants(access_log: str = ABLATION_ACCESS_LOG) -> list[Variant]:
    return [
        Variant("base", "baseline", "as deployed", "a copy of the site and of the vassal"),
        Variant("headers", "nginx", "security headers", "the add_header lines removed",
                site=site_drop_lines("add_header ")),
        Variant("access-log-buffered", "nginx", "access log", "buffered: buffer=64k flush=1s",
                site=site_add(f"access_log {access_log} combined buffer=64k flush=1s")),
        Variant("access-log-off", "nginx", "access log", "access_log off",
                site=site_add("access_log off")),
        Variant("static", "nginx", "static location", "location /static/ removed",
                site=site_drop_location("/static/")),
        Variant("forwarding", "nginx", "forwarding headers",
                "the uwsgi_param lines that clear X-Forwarded-* and Forwarded removed",
                site=site_drop_lines("uwsgi_param HTTP_")),
        Variant("buffers", "nginx", "header and body buffers",
                "4x larger: client_header_buffer_size 4k, large_client_header_buffers 4 32k, "
                "client_body_buffer_size 64k",
                site=site_add("client_header_buffer_size 4k", "large_client_header_buffers 4 32k",
                              "client_body_buffer_size 64k")),
        Variant("uwsgi-buffering", "nginx", "response buffering", "uwsgi_buffering off",
                site=site_add("uwsgi_buffering off")),
        Variant("processes-one-per-cpu", "uwsgi", "processes", "%k: one per CPU",
                ini=ini_set("processes", "%k")),
        Variant("processes-three-per-cpu", "uwsgi", "processes", "%(%k * 3): three per CPU",
                ini=ini_set("processes", "%(%k * 3)")),
        Variant("threads", "uwsgi", "threads", "2", ini=ini_set("threads", "2")),
        Variant("enable-threads", "uwsgi", "enable-threads", "removed",
                ini=ini_drop("enable-threads")),
        Variant("harakiri", "uwsgi", "harakiri", "removed", ini=ini_drop("harakiri")),
        Variant("worker-lifetime", "uwsgi", "max-worker-lifetime", "removed",
                ini=ini_drop("max-worker-lifetime", "max-worker-lifetime-delta")),
        Variant("reload-on-rss", "uwsgi", "reload-on-rss", "512 (MB)",
                ini=ini_set("reload-on-rss", "512")),
        Variant("stats", "uwsgi", "stats", "removed", ini=ini_drop("stats")),
        Variant("log-errors", "uwsgi", "log-4xx, log-5xx", "removed",
                ini=ini_drop("log-4xx", "log-5xx")),
        Variant("log-requests", "uwsgi", "disable-logging", "false: every request logged",
                ini=ini_set("disable-logging", "false")),
        Variant("logger", "uwsgi", "logger", "removed: stderr, to the unit's journal",
                ini=ini_drop("logger")),
        Variant("auto-procname", "uwsgi", "auto-procname", "removed",
                ini=ini_drop("auto-procname")),
        Variant("single-interpreter", "uwsgi", "single-interpreter", "removed",
                ini=ini_drop("single-interpreter")),
        Variant("listen", "uwsgi", "listen", "removed (uWSGI's 100)", ini=ini_drop("listen")),
        Variant("thunder-lock", "uwsgi", "thunder-lock", "true",
                ini=ini_set("thunder-lock", "true")),
        Variant("buffer-size", "uwsgi", "buffer-size", "removed (uWSGI's 4096)",
                ini=ini_drop("buffer-size")),
        Variant("post-buffering", "uwsgi", "post-buffering", "removed",
                ini=ini_drop("post-buffering")),
        Variant("lazy-apps", "uwsgi", "lazy-apps", "true", ini=ini_set("lazy-apps", "true")),
        # Each worker pinned to one CPU (uWSGI spreads them over the CPUs in turn): fewer
        # migrations between CPUs, but a busy CPU no longer hands its worker's request on.
        Variant("cpu-affinity", "uwsgi", "cpu-affinity", "1: each worker pinned to one CPU",
                ini=ini_set("cpu-affinity", "1")),
    ]  # fmt: skip


def block_end(text: str, start: int) -> int:
    """Where the block whose "{" is at START closes: braces in quoted strings ("~ ^/a{8}$"),
    escaped ones and those of comments do not count."""
    depth, quoted, index = 0, False, start
    while index < len(text):
        char = text[index]
        if char == "\\":
            index += 2
            continue
        if char == '"':
            quoted = not quoted
        elif not quoted and char == "#":
            index = text.find("\n", index)
            index = len(text) if index < 0 else index
            continue
        elif not quoted:
            depth += {"{": 1, "}": -1}.get(char, 0)
            if depth == 0:
                return index
        index += 1
    raise ValueError("a block of the site is never closed")


def server_block(site: str) -> str:
    """The server block of a site file that passes requests to uWSGI (not its HTTP redirect)."""
    start = 0
    while (start := site.find("server {", start)) >= 0:
        end = block_end(site, site.index("{", start))
        block = site[start : end + 1]
        if "uwsgi_pass " in block:
            return block
        start = end + 1
    raise ValueError("the site has no server block with uwsgi_pass")


def site_copy(block: str, port: int, upstream: str) -> str:
    """The server block on 127.0.0.1:port, the default server there, passing to upstream (as
    uwsgi_pass takes it: unix:PATH or HOST:PORT)."""
    lines = []
    for line in block.splitlines():
        directive = line.strip()
        if directive.startswith(("listen ", "server_name ")):
            if directive.startswith("listen ") and not any("listen " in k for k in lines):
                lines.append(f"    listen 127.0.0.1:{port};")
            continue
        if directive.startswith("uwsgi_pass "):
            lines.append(line[: line.index("uwsgi_pass ")] + f"uwsgi_pass {upstream};")
            continue
        lines.append(line)
    return "\n".join(lines)


def vassal_copy(ini: str, name: str) -> str:
    """The deployed vassal as the transient unit name runs it: its own socket, stats, fifo and
    logger in the unit's runtime directory; the unit gives the identity the ini would drop to."""
    run_dir = f"/run/{name}"
    moved = {
        "socket": f"{run_dir}/app.sock",
        "stats": f"{run_dir}/stats.sock",
        "master-fifo": f"{run_dir}/master.fifo",
        "logger": f"syslog:uwsgi-{APP}-{name.removeprefix('pyops-bench-')}",
        "procname-prefix-spaced": f"{APP}-{name.removeprefix('pyops-bench-')}",
    }
    ini = ini_drop("uid", "gid", "chown-socket")(ini)
    for key, value in moved.items():
        if ini_value(ini, key) or key == "socket":
            ini = ini_set(key, value)(ini)
    return ini


def ablation_stage(args: argparse.Namespace, results: Results, record: dict, vassal: str) -> None:
    """Every variant served at once, measured in interleaved rounds like the stacks."""
    # The comparison stacks are done; their memory goes to the variants' uWSGI instances, and the
    # container may have more than a t3.micro's: this many instances at once would not fit.
    stop_units("pyops-bench-*")  # every comparison stack; the variants' units start below
    if args.memory_limit:
        limit = str(4 * args.memory_limit)
        run("docker", "update", "--memory", limit, "--memory-swap", limit, NAME)
    log_path = nginx_access_log().split()[1].rstrip(";")
    variants = ablation_variants(log_path)
    site = inside("sh", "-c", f"cat /etc/nginx/sites-enabled/{APP}.conf")
    block = server_block(site)
    # One uWSGI instance per variant of the vassal, the baseline's for the site's variants too.
    for variant in variants:
        if variant.layer != "nginx":
            ini = vassal_copy(vassal, variant.unit)
            put(f"{REMOTE}/{variant.unit}.ini", (variant.ini or (lambda i: i))(ini))
            start_unit(
                variant.unit,
                [record["binary"], "--ini", f"{REMOTE}/{variant.unit}.ini"],
                f"User={APP}", f"Group={WEB_GROUP}", f"RuntimeDirectory={variant.unit}",
            )  # fmt: skip
    variants = [unchanged_noted(v, block, vassal) for v in variants]
    blocks = []
    targets = []
    for port, variant in enumerate(variants, start=ABLATION_PORT):
        copy = site_copy(block, port, f"unix:/run/{variant.unit}/app.sock")
        blocks.append((variant.site or (lambda b: b))(copy))
        label = f"{variant.setting} ({variant.change})"
        targets.append(Target(variant.key, label, "ablation", port, "", location="-"))
    put(ABLATION_CONF, "# The bench's ablation (benchmarks/bench.py).\n" + "\n".join(blocks) + "\n")
    inside("nginx", "-t")
    inside("systemctl", "reload", "nginx")
    wait_until_served(
        targets, inside("curl", "-sS", "-H", f"Host: {APP_HOST}", "http://127.0.0.1/")
    )
    results.update(
        ablation={
            "variants": [
                {"key": v.key, "layer": v.layer, "setting": v.setting, "change": v.change,
                 "port": port}
                for port, v in enumerate(variants, start=ABLATION_PORT)
            ],
            "summary": {},
        }
    )  # fmt: skip

    def progress(runs_so_far: dict[str, list[dict]], rounds_done: int) -> None:
        if rounds_done:
            done = {key: runs[:rounds_done] for key, runs in runs_so_far.items()}
            results.data["ablation"]["summary"] = with_layers(closed_loop_summary(done))
            results.data["ablation"]["rounds"] = rounds_done
            results.save()

    measure_closed_loop(
        targets, args.ablation_runs, args.ablation_duration, args.ablation_warmup, progress
    )


# --- Redeploys under load -------------------------------------------------------------------------


def redeploy_vars(step: int, supervisor: str, logs: Path) -> dict:
    """Extra vars (bench_redeploy, merged over bench_app) for redeploy STEP: a copy of the sample
    app's code with a file of its own, another version of a package, another app_env."""
    code = (logs / "redeploy" / f"{APP}-{step}").resolve()
    if code.exists():
        shutil.rmtree(code)
    shutil.copytree(TOP / "examples" / "apps" / APP, code)
    (code / "REVISION").write_text(f"{step}\n")
    return {
        "bench_redeploy": {
            "app_src_dir": str(code),
            "app_pip_packages": [REDEPLOY_PACKAGES[step % len(REDEPLOY_PACKAGES)]],
            "app_env": {"BENCH_REDEPLOY": str(step)},
            "app_supervisor": supervisor,
        }
    }


class BackgroundLoad:
    """benchmarks/container/openloop.py at RATE against the defaults' site until stopped."""

    def __init__(self, rate: float, limit_seconds: float) -> None:
        self.process = subprocess.Popen(
            ["docker", "exec", NAME, *OPEN_LOOP, f"{REMOTE}/container/openloop.py",
             "--host-header", APP_HOST, "--rate", f"{rate:.0f}", "--seconds", str(limit_seconds),
             "--connections", str(CONNECTIONS)],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        )  # fmt: skip

    def stop(self) -> dict:
        inside("pkill", "-TERM", "-f", "container/openloop.py", check=False)
        out, err = self.process.communicate(timeout=60)
        if self.process.returncode != 0:
            raise RuntimeError(f"the open-loop load failed ({self.process.returncode}): {err}")
        return json.loads(out)


def serving_release() -> str:
    return inside("readlink", f"/srv/{APP}/current").strip().rpartition("/")[2]


def redeploy_stage(args: argparse.Namespace, results: Results, max_rate: float) -> None:
    """The defaults' site under a steady open-loop load, first alone (the steady state), then
    while site.yml redeploys the app (REDEPLOYS), each figure kept as it is measured."""
    # The ablation's instances go, and the container gets its own memory limit back, which the
    # redeploys size the workers by.
    stop_units("pyops-bench-*")
    inside("rm", "-f", ABLATION_CONF)
    inside("systemctl", "reload", "nginx")
    if args.memory_limit:
        limit = str(args.memory_limit)
        run("docker", "update", "--memory", limit, "--memory-swap", limit, NAME)
    rate = REDEPLOY_SHARE * max_rate
    defaults = Target("defaults", "defaults", "defaults", 80, "", host=APP_HOST)
    redeploy: dict = {"share": REDEPLOY_SHARE, "rate": rate, "runs": []}
    results.update(redeploy=redeploy)
    redeploy["steady"] = measure_open_loop(defaults, rate, args.open_loop_seconds)
    results.save()
    logs = args.output.parent
    # The first args.redeploys of REDEPLOYS (the smoke run takes one), then the control (not with
    # --no-control: the smoke run's redeploy takes the same path).
    chosen = REDEPLOYS[: args.redeploys]
    control = [] if args.no_control else [(len(chosen), (CONTROL, chosen[-1][1]))]
    runs = [*enumerate(chosen, start=1), *control]
    for step, (label, supervisor) in runs:
        extra = logs / "redeploy" / f"vars-{step}.json"
        if label != CONTROL:
            extra.parent.mkdir(parents=True, exist_ok=True)
            extra.write_text(json.dumps(redeploy_vars(step, supervisor, logs)))
        before = serving_release()
        load = BackgroundLoad(rate, limit_seconds=900)
        time.sleep(2)  # the load runs steadily before the converge starts
        try:
            name = "redeploy-control" if label == CONTROL else f"redeploy-{step}"
            converged = converge(name, logs, "-e", f"@{extra}")
        finally:
            time.sleep(2)
            figures = load.stop()
        after = serving_release()
        if (after == before) != (label == CONTROL):
            raise RuntimeError(f"{label}: release {before} before, {after} after")
        redeploy["runs"].append(
            {
                "label": label,
                "supervisor": supervisor,
                "release_before": before,
                "release_after": after,
                "converge": {key: converged[key] for key in ("seconds", "recap")},
                "load": figures,
            }
        )
        log(
            f"redeploy ({label}) at {rate:.0f}/s: p99 {figures['p99_ms']:.2f} ms, max"
            f" {figures['max_ms']:.0f} ms, errors {figures['errors']}, non-2xx {figures['non_2xx']}"
        )
        results.save()


def unchanged_noted(variant: Variant, block: str, vassal: str) -> Variant:
    """The variant, its change saying so when it changes nothing in these defaults (a setting
    they do not set): its figures then show how far the rounds spread."""
    if variant.layer == "baseline":
        return variant
    site, ini = variant.site or (lambda b: b), variant.ini or (lambda i: i)
    if site(block) != block or ini(vassal) != vassal:
        return variant
    log(f"{variant.key} changes nothing in these defaults")
    return replace(variant, change=f"{variant.change}; the defaults do not set it: nothing changed")


def layer_of(process: str) -> str:
    """nginx, uwsgi, wrk or other: where a process name's CPU time goes in the ablation."""
    if process in {"nginx", "wrk"}:
        return process
    return "uwsgi" if "uwsgi" in process.lower() else "other"


def with_layers(summary: dict) -> dict:
    """The closed-loop summary with each target's CPU per request by layer (wrk's left out)."""
    for figures in summary.values():
        layers = {"nginx": 0.0, "uwsgi": 0.0, "other": 0.0}
        for process, us in figures["cpu_us_per_request"].items():
            if layer_of(process) != "wrk":
                layers[layer_of(process)] += us
        figures["cpu_by_layer"] = layers
    return summary


# --- What ran where -------------------------------------------------------------------------------


def machine() -> dict:
    cpuinfo = Path("/proc/cpuinfo").read_text()
    meminfo = Path("/proc/meminfo").read_text()
    os_release = dict(
        line.split("=", 1)
        for line in Path("/etc/os-release").read_text().splitlines()
        if "=" in line
    )
    return {
        "cpu": re.search(r"^model name\s*:\s*(.*)$", cpuinfo, re.MULTILINE)[1],
        "cpus": os.cpu_count(),
        "memory_gib": round(int(re.search(r"MemTotal:\s+(\d+)", meminfo)[1]) / 2**20, 1),
        "os": os_release.get("PRETTY_NAME", "").strip('"'),
        "kernel": os.uname().release,
        "docker": run("docker", "version", "--format", "{{.Server.Version}}").strip(),
    }


def versions(record: dict) -> dict:
    python = f"{APP_VENV}/bin/python"
    package = "import importlib.metadata as m, sys; print(m.version(sys.argv[1]))"
    return {
        "container": "Debian " + inside("cat", "/etc/debian_version").strip(),
        "nginx": inside("sh", "-c", "nginx -v 2>&1").strip().removeprefix("nginx version: "),
        "uwsgi": record["version"],
        "python": inside(python, "-c", "import sys; print(sys.version.split()[0])").strip(),
        "flask": inside(python, "-c", package, "flask").strip(),
        "gunicorn": inside(f"{PEERS_VENV}/bin/python", "-c", package, "gunicorn").strip(),
        "granian": inside(f"{PEERS_VENV}/bin/python", "-c", package, "granian").strip(),
        "wrk": inside("sh", "-c", "wrk -v 2>&1 || true").split()[1],
        **converged_by(),
    }


def converged_by() -> dict:
    """ansible-core's version and the collection's commit."""
    return {
        "ansible_core": run("ansible-playbook", "--version").split("[core ")[1].split("]")[0],
        "collection_commit": run("git", "-C", str(TOP), "rev-parse", "--short", "HEAD").strip(),
        # Whether what converged differs from that commit.
        "uncommitted_changes": bool(
            run("git", "-C", str(TOP), "status", "--porcelain", "roles", "playbooks", "plugins")
        ),
    }


def nginx_access_log() -> str:
    """The access_log line of nginx.conf's http block, which every server here inherits."""
    lines = inside("grep", "-h", "^ *access_log", "/etc/nginx/nginx.conf").split("\n")
    return lines[0].strip()


# --- The run --------------------------------------------------------------------------------------


def candidate_targets() -> list[Target]:
    """The apps of benchmarks/candidates.yml, as deployed (each on its own loopback port)."""
    import yaml  # noqa: PLC0415 (ansible's PyYAML, in the same venv; only when there are candidates)

    items = yaml.safe_load(CANDIDATES.read_text())["bench_candidates"]
    same_as_defaults = {"app_name", "app_src_dir", "app_pip_ca_bundle", "app_server_names"}
    targets = []
    for item in items:
        listen = str(item["app_http_listen"][0])
        settings = {
            k: v for k, v in item.items() if k not in same_as_defaults | {"app_http_listen"}
        }
        targets.append(
            Target(
                f"candidate-{item['app_name']}",
                f"candidate {item['app_name']}",
                "candidate",
                int(listen.rpartition(":")[2]),
                "as the defaults",
                settings=", ".join(f"{k}: {json.dumps(v)}" for k, v in settings.items()),
                journal=f"uwsgi-{item['app_name']}",
            )
        )
    return targets


class Results:
    """The results file of a run, written again whenever a stage adds figures.

    Each write replaces the file atomically (a temporary file, then a rename), so the file is always
    a whole JSON document: the figures so far, `stages_done`, `complete` (true only once every stage
    is done) and, after a failure, `failed_stage` and `error`. With snapshots, a copy of each write
    goes there too (numbered), for the smoke test to render every partial state.
    """

    def __init__(self, path: Path, snapshots: Path | None = None) -> None:
        self.path = path
        self.snapshots = snapshots
        self.writes = 0
        self.started = time.monotonic()
        self.data: dict = {"complete": False, "stages_done": []}
        if path.exists():
            path.replace(path.with_name(path.stem + ".previous.json"))
        if snapshots is not None:
            snapshots.mkdir(parents=True, exist_ok=True)
            for old in snapshots.glob("*.json"):
                old.unlink()

    def save(self) -> None:
        self.data["wall_seconds"] = round(time.monotonic() - self.started)
        text = json.dumps(self.data, indent=2) + "\n"
        partial = self.path.with_name(self.path.name + ".partial")
        partial.write_text(text)
        partial.replace(self.path)
        self.writes += 1
        if self.snapshots is not None:
            (self.snapshots / f"{self.writes:03d}.json").write_text(text)

    def update(self, **figures: object) -> None:
        """Add or replace top-level entries and write the file."""
        self.data.update(figures)
        self.save()

    @contextmanager
    def stage(self, name: str) -> Iterator[None]:
        """A stage of STAGES: done when the block ends, the failed stage if it raises."""
        self.data["running_stage"] = name
        self.save()
        try:
            yield
        except BaseException as error:
            self.fail(error, name)
            raise
        self.data.pop("running_stage")
        self.data["stages_done"].append(name)
        self.save()

    def fail(self, error: BaseException, stage: str | None) -> None:
        if "error" in self.data:  # recorded by an inner stage already
            return
        self.data.pop("running_stage", None)
        self.data["failed_stage"] = stage
        self.data["error"] = "".join(traceback.format_exception_only(type(error), error)).strip()
        self.save()

    def finish(self) -> None:
        self.data["complete"] = [*STAGES] == self.data["stages_done"]
        self.save()


def bench(args: argparse.Namespace, results: Results) -> None:
    results.update(
        date=datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
        settings={
            "duration_s": args.duration,
            "runs": args.runs,
            "warmup_s": args.warmup,
            "connections": CONNECTIONS,
            "wrk_threads": 1,
            "load_cpu": LOAD_CPU,
            "in_process_s": args.in_process_seconds,
            "open_loop_s": args.open_loop_seconds,
            "open_loop_shares": list(OPEN_LOOP_SHARES),
            "ablation_runs": args.ablation_runs,
            "ablation_duration_s": args.ablation_duration,
            "ablation_warmup_s": args.ablation_warmup,
            "memory_limit_bytes": args.memory_limit or None,
            "max_load": args.max_load,
            "rerun": not args.no_rerun,
        },
        machine=machine(),
        # Which commit converges; versions() adds the rest once the stacks run.
        versions=converged_by(),
    )
    results.update(load={"start": wait_for_quiet_machine(args.max_load, args.max_wait)})
    with results.stage("converge"):
        converge_stage(args, results)
    with results.stage("stacks"):
        targets, record, vassal = stacks_stage(args, results)
    with results.stage("closed_loop"):
        closed = closed_loop_stage(args, results, targets)
    with results.stage("memory"):
        results.update(memory=measure_memory(targets, vassal))
    with results.stage("profile"):
        results.update(profile=profile_defaults(targets, args.duration))
    with results.stage("in_process"):
        measure_in_process(
            args.runs,
            args.in_process_seconds,
            record,
            lambda python, embedded: results.update(
                in_process=python, in_process_embedded=embedded
            ),
        )
    with results.stage("open_loop"):
        # Each uWSGI stack at its share of its own maximum; the ceiling at the defaults' rate
        # shows whether the generator (and nginx alone) hold that rate.
        results.update(open_loop={})
        for share in OPEN_LOOP_SHARES:
            measured = results.data["open_loop"][f"{share * 100:g}"] = {}
            for target in targets:
                if target.kind in {"defaults", "candidate", "ceiling"}:
                    rate_of = "defaults" if target.kind == "ceiling" else target.key
                    rate = share * closed[rate_of]["rps"]["median"]
                    measured[target.key] = measure_open_loop(target, rate, args.open_loop_seconds)
                    results.save()
    with results.stage("ablation"):
        ablation_stage(args, results, record, vassal)
    with results.stage("redeploy"):
        redeploy_stage(args, results, closed["defaults"]["rps"]["median"])
        results.data["load"]["end"] = load_average()


def converge_stage(args: argparse.Namespace, results: Results) -> None:
    """A fresh container converged twice, or once with --no-rerun (and with the candidates);
    nothing with --reuse."""
    logs = args.output.parent
    results.update(converge=[])
    if args.reuse:  # development: measure again on the container an earlier --keep left
        return
    start_container(memory=args.memory_limit)
    labels = [("first", ())] + ([] if args.no_rerun else [("again", ())])
    if args.candidates:
        labels.append(("candidates", ("-e", f"@{CANDIDATES.relative_to(TOP)}")))
    for label, extra in labels:
        results.data["converge"].append(converge(label, logs, *extra))
        results.save()


def stacks_stage(args: argparse.Namespace, results: Results) -> tuple[list[Target], dict, str]:
    """The comparison stacks next to the defaults, behind nginx; the targets, all serving, the
    host's record of uWSGI and the defaults' vassal."""
    stop_units("pyops-bench-*")  # from an earlier --keep run
    inside("rm", "-f", ABLATION_CONF)
    record = json.loads(inside("cat", "/etc/ansible/facts.d/pyops_uwsgi.fact"))
    vassal = deployed_vassal(record["vassals_dir"])
    workers = int(inside("sh", "-c", f"ps -u {APP} -o args= | grep -c 'uWSGI worker'").strip())
    results.update(
        defaults={"workers": workers, "threads": ini_value(vassal, "threads"), "ini": vassal}
    )
    body = inside("curl", "-sS", "-H", f"Host: {APP_HOST}", "http://127.0.0.1/")

    log("installing wrk; copying the bench's files")
    apt_install("wrk")
    inside("mkdir", "-p", REMOTE)
    for part in ("container", "tutorials", "peers-requirements.txt"):
        run("docker", "cp", str(BENCH / part), f"{NAME}:{REMOTE}/")
    # wrk2 would measure latency at a fixed rate; Debian does not package it (checked each run).
    results.update(wrk2_in_debian=succeeds("docker", "exec", NAME, "apt-cache", "show", "wrk2"))

    site = inside("cat", f"/etc/nginx/sites-enabled/{APP}.conf")
    targets = fixed_targets(body, vassal, workers, server_block(site))
    targets += candidate_targets() if args.candidates else []
    start_alternatives(record, workers, vassal)
    put(NGINX_CONF, nginx_server_blocks(targets))
    inside("nginx", "-t")
    inside("systemctl", "reload", "nginx")
    wait_until_served(targets, body)
    results.update(peers=peers_ran(targets), body_check=check_bodies(targets))
    results.update(versions=versions(record), nginx_access_log=nginx_access_log())
    # The container's peak memory from here on: every stack serving in turn under load.
    inside("python3", f"{REMOTE}/container/memory.py", "--reset-peak")
    return targets, record, vassal


def closed_loop_stage(args: argparse.Namespace, results: Results, targets: list[Target]) -> dict:
    """wrk on every target; each run kept as it ends, the table after each round."""
    results.data["load"]["measure"] = load_average()
    measuring = time.time()

    def progress(runs_so_far: dict[str, list[dict]], rounds_done: int) -> None:
        results.data["closed_loop_runs"] = runs_so_far
        if rounds_done > results.data.get("closed_loop_rounds", 0):
            done = {key: runs[:rounds_done] for key, runs in runs_so_far.items()}
            results.data["closed_loop_rounds"] = rounds_done
            results.data["targets"] = measured_targets(
                targets, closed_loop_summary(done), measuring
            )
        results.save()

    closed = measure_closed_loop(targets, args.runs, args.duration, args.warmup, progress)
    results.data.pop("closed_loop_runs", None)  # all in targets now, the last round's included
    results.save()
    return closed


def measured_targets(targets: list[Target], closed: dict, measuring: float) -> list[dict]:
    """The targets with their closed-loop figures and their workers' recycles since measuring."""
    return [
        {**asdict(t), **closed[t.key], "worker_recycles": worker_recycles(t, measuring)}
        for t in targets
    ]


def apt_install(package: str) -> None:
    """apt-get install a package, waiting for apt's archive lock while another instance holds it
    (the archive is the apt cache the Molecule scenarios share, and they may be installing
    meanwhile)."""
    for _attempt in range(60):
        done = subprocess.run(
            ["docker", "exec", NAME, "apt-get", "install", "-y", "-q", package],
            capture_output=True,
            text=True,
            check=False,
        )
        if done.returncode == 0:
            return
        if "Could not get lock" not in done.stderr:
            break
        log("apt's lock is held (the shared apt cache): waiting")
        time.sleep(5)
    raise RuntimeError(
        f"apt-get install {package} failed ({done.returncode}):\n{done.stdout}{done.stderr}"
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--duration", type=int, default=20, help="seconds of each wrk run")
    parser.add_argument("--runs", type=int, default=5, help="wrk runs of each target")
    parser.add_argument(
        "--warmup", type=int, default=5, help="seconds of wrk before the runs (0: none)"
    )
    parser.add_argument(
        "--redeploys",
        type=int,
        choices=range(1, len(REDEPLOYS) + 1),
        default=len(REDEPLOYS),
        help="how many of the redeploys to run (the first ones), then the control",
    )
    parser.add_argument("--in-process-seconds", type=float, default=5)
    parser.add_argument("--open-loop-seconds", type=float, default=20)
    parser.add_argument("--ablation-runs", type=int, default=4, help="wrk runs of each variant")
    parser.add_argument("--ablation-duration", type=int, default=10, help="seconds of each")
    parser.add_argument("--ablation-warmup", type=int, default=2, help="seconds before (0: none)")
    parser.add_argument(
        "--memory-limit",
        type=int,
        default=MEMORY_LIMIT,
        help="the container's memory in bytes, no swap (0: no limit)",
    )
    parser.add_argument("--max-load", type=float, default=0.5, help="wait for a quieter machine")
    parser.add_argument("--max-wait", type=float, default=600, help="seconds to wait at most")
    parser.add_argument("--candidates", action="store_true", help=f"measure {CANDIDATES.name} too")
    parser.add_argument(
        "--no-rerun", action="store_true", help="no idempotent re-run (make bench-smoke)"
    )
    parser.add_argument(
        "--no-control", action="store_true", help="no converge that changes nothing (the control)"
    )
    parser.add_argument("--keep", action="store_true", help="leave the container running")
    parser.add_argument("--reuse", action="store_true", help="measure on a kept container again")
    parser.add_argument(
        "--output", type=Path, default=BUILD / "results.json", help="the converge logs go beside"
    )
    parser.add_argument("--snapshots", type=Path, help="keep a copy of each write of the results")
    args = parser.parse_args()

    args.output.parent.mkdir(parents=True, exist_ok=True)
    results = Results(args.output, args.snapshots)
    try:
        bench(args, results)
    except BaseException as error:
        results.fail(error, None)  # where no stage recorded it (before the first one)
        log(
            f"failed; what was measured until then is in {args.output}: "
            f"benchmarks/report.py {args.output} --markdown FILE --chart FILE renders it"
        )
        raise
    finally:
        if not args.keep:
            remove_container()
    results.finish()
    log(f"results in {args.output} ({results.data['wall_seconds']} s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
