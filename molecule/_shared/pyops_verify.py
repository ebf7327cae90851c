"""Checks the Molecule scenarios share, run inside an instance through testinfra's host fixture.

Requests go to nginx on the instance's loopback; socket checks connect to a unix socket as a given
user, the way nginx (www-data) or a stranger (nobody, another app) would.
"""

from __future__ import annotations

import base64
import difflib
import json
import os
import shlex
import subprocess
import tempfile
import time
from pathlib import Path

import yaml

SHARED = Path(__file__).resolve().parent
ROOT = Path(os.environ.get("MOLECULE_PROJECT_DIRECTORY", SHARED.parents[1]))
# The bad inputs the unit tests run against the roles' rules; those marked on_host run here too.
BAD_INPUTS = yaml.safe_load((ROOT / "tests" / "unit" / "bad_inputs.yml").read_text())

# Everything the roles write or create, as path, mode, owner, group, size and mtime, plus users and
# groups: two equal fingerprints mean the host did not change.
_FINGERPRINT = (
    "find /etc/uwsgi /etc/nginx /etc/tmpfiles.d /etc/systemd/system /srv /run/uwsgi /var/lib/probe "
    "/usr/local/lib/uwsgi /opt/uwsgi /etc/ansible/facts.d "
    "-printf '%p %m %u %g %s %T@\\n' 2>/dev/null | sort; getent passwd; getent group; "
    # The directories a bad path would take over: owner, group, mode and type of each, and of what
    # sits directly in /, /var/lib and /run (mtimes there move with the system's own work).
    "stat -c '%n %a %U %G %F' / /etc /run /var /var/lib /srv /usr /opt /var/www "
    "/var/lib/nginx /var/lib/dpkg /var/mail /run/uwsgi/stats /etc/uwsgi/vassals 2>/dev/null; "
    "find / /var/lib /run /etc/uwsgi -mindepth 1 -maxdepth 1 -printf '%p %m %u %g %y\\n' "
    "2>/dev/null | sort"
)

# Prints 0 when the connection succeeds, else the errno (13 EACCES, 2 ENOENT, 111 ECONNREFUSED).
_CONNECT = (
    "import socket, sys\n"
    "s = socket.socket(socket.AF_UNIX)\n"
    "try:\n"
    "    s.connect(sys.argv[1])\n"
    "except OSError as e:\n"
    "    print(e.errno)\n"
    "else:\n"
    "    print(0)\n"
)


def http(host, path="/", host_header="localhost", port=80, address="127.0.0.1", *, method="GET"):
    """GET (METHOD: with an empty body) PATH through nginx in the instance; (status, body)."""
    url = f"http://{address}:{port}{path}"
    cmd = (
        f"curl -sS --max-time 10 -H {shlex.quote('Host: ' + host_header)} "
        f"{'' if method == 'GET' else '-X ' + shlex.quote(method) + ' --data-binary @/dev/null '}"
        f"-w '\\n%{{http_code}}' {shlex.quote(url)}"
    )
    out = host.run(cmd)
    body, _newline, status = out.stdout.rpartition("\n")
    return int(status or 0), body


def http_json(host, path, host_header="localhost"):
    status, body = http(host, path, host_header)
    assert status == 200, f"GET {path} (Host: {host_header}) answered {status}: {body[:200]}"
    return json.loads(body)


def wait_until(predicate, timeout, what, interval=0.5):
    """Poll PREDICATE until it returns true; return the seconds it took, or fail naming WHAT."""
    start = time.monotonic()
    while time.monotonic() - start < timeout:
        if predicate():
            return time.monotonic() - start
        time.sleep(interval)
    raise AssertionError(f"{what} did not happen in {timeout}s")


def wait_for_status(host, path="/", host_header="localhost", status=200, timeout=60):
    """Poll until PATH answers STATUS; return the seconds it took, or fail with the last answer."""
    last = []

    def answered():
        last[:] = [http(host, path, host_header)]
        return last[0][0] == status

    try:
        return wait_until(answered, timeout, f"GET {path} (Host: {host_header}) answering {status}")
    except AssertionError as exc:
        raise AssertionError(f"{exc}; last answer: {last}") from None


def connect_errno(host, user, path):
    """Connect to unix socket PATH as USER; 0 when it works, else the errno."""
    out = host.run(
        f"runuser -u {shlex.quote(user)} -- python3 -c {shlex.quote(_CONNECT)} {shlex.quote(path)}"
    )
    assert out.rc == 0, out.stderr
    return int(out.stdout.strip())


def tcp_connect(host, address, port, timeout=3):
    """Connect from the instance to ADDRESS:PORT: "ok", "timeout" or the errno's name."""
    out = host.run(f"python3 -c {shlex.quote(_TCP_CONNECT)} {address} {port} {timeout}")
    assert out.rc == 0, out.stderr
    return out.stdout.strip()


def processes(host, pattern, with_pid=False):
    """(user, args) of the processes whose command line contains PATTERN; (pid, user, args)."""
    out = host.check_output("ps -eo pid,user:32,args --no-headers")
    rows = [line.split(None, 2) for line in out.splitlines()]
    found = [tuple(row) for row in rows if len(row) == 3 and pattern in row[2]]
    return found if with_pid else [(user, args) for _pid, user, args in found]


def uwsgi_processes(host, app):
    """(user, title) of APP's uWSGI processes, titled "APP GENERATION uWSGI master|worker N"."""
    return [
        (user, args)
        for user, args in processes(host, " uWSGI ")
        if args.startswith(f"{app} ") and args.split()[2:3] == ["uWSGI"]
    ]


def master_pid(host, app):
    """PID of APP's uWSGI master."""
    masters = [
        pid
        for pid, user, args in processes(host, " uWSGI master", with_pid=True)
        if user == app and args.startswith(f"{app} ") and args.split()[2:3] == ["uWSGI"]
    ]
    assert len(masters) == 1, masters
    return masters[0]


def serving_venv(host, app):
    """The virtualenv of the release APP serves from (/srv/APP/current resolved)."""
    return host.check_output(f"readlink -f /srv/{app}/current") + "/venv"


def python_version(host, interpreter="python3"):
    """X.Y of an interpreter on the instance."""
    return host.check_output(
        f"{interpreter} -c 'import sys; print(\"%d.%d\" % sys.version_info[:2])'"
    ).strip()


_TCP_CONNECT = (
    "import errno, socket, sys\n"
    "s = socket.socket(socket.AF_INET6 if ':' in sys.argv[1] else socket.AF_INET)\n"
    "s.settimeout(float(sys.argv[3]))\n"
    "try:\n"
    "    s.connect((sys.argv[1], int(sys.argv[2])))\n"
    "except socket.timeout:\n"
    "    print('timeout')\n"
    "except OSError as e:\n"
    "    print(errno.errorcode.get(e.errno, e.errno))\n"
    "else:\n"
    "    print('ok')\n"
)


def gixy_findings(host):
    """(exit status, findings) of gixy on the instance's whole nginx configuration (nginx -T)."""
    dump = host.check_output("nginx -T 2>/dev/null")
    with tempfile.NamedTemporaryFile("w", suffix=".conf") as conf:
        conf.write(dump)
        conf.flush()
        gixy = subprocess.run(
            ["gixy", "--format", "json", conf.name],
            capture_output=True,
            text=True,
            check=False,
        )
    return gixy.returncode, json.loads(gixy.stdout or "[]"), gixy.stdout + gixy.stderr


# Values uWSGI would rewrite if they were written into its ini file as they are, as the issue that
# found it met them (a URL-encoded password) and worse; read back by the sample app's /echo/NAME.
HOSTILE_ENV = {
    "PYOPS_ECHO_URL": "postgresql://shop:p%40ss%2Fw0rd@db:5432/shop",
    "PYOPS_ECHO_PERCENT": "%%",
    "PYOPS_ECHO_PLACEHOLDER": "%(x)",
    "PYOPS_ECHO_MAGIC": "%d%n%k",
    "PYOPS_ECHO_ENV": "$(HOME)",
    "PYOPS_ECHO_FILE": "@(/etc/hostname)",
    "PYOPS_ECHO_COMMENTS": "; not a comment # nor this",
    "PYOPS_ECHO_QUOTES": "'single' \"double\"",
    "PYOPS_ECHO_BACKSLASHES": "C:\\path\\",
    "PYOPS_ECHO_SPACES": "  both ends  ",
    "PYOPS_ECHO_EQUALS": "a=b=c",
    "PYOPS_ECHO_UNICODE": "Grüße ✓",
    "PYOPS_ECHO_EMPTY": "",
    "PYOPS_ECHO_LINES": "one\ntwo",
}
# One uWSGI option holding every sequence an option can carry ("%(" cannot be: refused).
HOSTILE_OPTION = " %d|%%|$(HOME)|@(/etc/hostname)|; # |'q' \"d\"|C:\\|a=b=c|Grüße ✓ "


def fingerprint(host):
    """A text that changes when anything the roles manage on the instance changes."""
    return host.run(_FINGERPRINT).stdout


def scenario_apps():
    """The scenario inventory's uwsgi_apps (group_vars of uwsgi_hosts), templates unrendered."""
    inventory = Path(os.environ["MOLECULE_INVENTORY_FILE"]).parent
    return yaml.safe_load((inventory / "group_vars" / "uwsgi_hosts").read_text())["uwsgi_apps"]


def ansible_playbook(
    playbook, limit, extra_vars=None, *, timeout=600, json_output=False, tags=None, options=()
):
    """Run PLAYBOOK from the controller against the scenario's instance LIMIT; return the result.

    The scenario's inventory directory (hosts and group_vars) is used as is; EXTRA_VARS win over it.
    With JSON_OUTPUT, stdout is the ansible.posix.json callback's document; TAGS limits the run;
    OPTIONS go to ansible-playbook as they are (--check, --diff).
    """
    env = dict(os.environ)
    # The scenario's own Ansible settings (pipelining and the rest), as its converge had them.
    scenario_cfg = Path(env.get("MOLECULE_EPHEMERAL_DIRECTORY", "/nonexistent")) / "ansible.cfg"
    if scenario_cfg.is_file():
        env["ANSIBLE_CONFIG"] = str(scenario_cfg)
    # The collection under test, as Ansible expects to find it.
    collections = ROOT / "build" / "collections"
    link = collections / "ansible_collections" / "pyops" / "uwsgi"
    link.parent.mkdir(parents=True, exist_ok=True)
    if not link.exists():
        link.symlink_to(ROOT)
    env["ANSIBLE_COLLECTIONS_PATH"] = ":".join(
        filter(None, [str(collections), env.get("ANSIBLE_COLLECTIONS_PATH", "")])
    )
    # Plain text to match against: Molecule's own runs force colours on.
    env.pop("ANSIBLE_FORCE_COLOR", None)
    env.pop("PY_COLORS", None)
    env["ANSIBLE_NOCOLOR"] = "1"
    if json_output:
        env["ANSIBLE_STDOUT_CALLBACK"] = "ansible.posix.json"
    cmd = [
        "ansible-playbook",
        "-i",
        str(Path(env["MOLECULE_INVENTORY_FILE"]).parent),
        "--limit",
        limit,
        "-e",
        json.dumps(extra_vars or {}),
        *(["--tags", ",".join(tags)] if tags else []),
        *options,
        str(playbook),
    ]
    return subprocess.run(
        cmd, capture_output=True, text=True, env=env, timeout=timeout, check=False
    )


def install_script(host, name):
    """Copy molecule/_shared/NAME into the instance as /root/NAME; return that path."""
    source = base64.b64encode((SHARED / name).read_bytes()).decode()
    host.run_expect([0], f"echo {source} | base64 -d > /root/{name}")
    return f"/root/{name}"


def start_load(
    host,
    targets,
    connections=8,
    max_seconds=900,
    tally=None,
    *,
    https_cafile=None,
    retry_closed=False,
):
    """Start loadgen.py in the instance against TARGETS ({server name: path}); see finish_load.

    With TALLY, the report counts the values of that key in the JSON answers. With HTTPS_CAFILE,
    the requests go over HTTPS (port 443), each certificate checked against that CA bundle. With
    RETRY_CLOSED, a GET the server's close of its keep-alive connection cut off is sent again once,
    as browsers do (nginx closes idle keep-alive connections when it reloads); the report counts
    them in retried_closed.
    """
    install_script(host, "loadgen.py")
    host.run_expect([0], "rm -f /root/load.*")
    target_args = " ".join(
        f"--target {shlex.quote(f'{name}={path}')}" for name, path in targets.items()
    )
    host.run_expect(
        [0],
        f"setsid python3 /root/loadgen.py {target_args} --connections {connections} "
        f"--stop-file /root/load.stop --max-seconds {max_seconds} "
        f"{'--tally ' + shlex.quote(tally) if tally else ''} "
        f"{'--https --port 443 --cafile ' + shlex.quote(https_cafile) if https_cafile else ''} "
        f"{'--retry-closed' if retry_closed else ''} "
        "> /root/load.json 2> /root/load.err < /dev/null &",
    )
    time.sleep(2)


def finish_load(host, timeout=60):
    """Stop the load started by start_load and return its report (dict)."""
    host.run_expect([0], "touch /root/load.stop")
    try:
        wait_until(lambda: host.run("test -s /root/load.json").rc == 0, timeout, "a load report")
    except AssertionError as exc:
        raise AssertionError(f"{exc}: {host.run('cat /root/load.err').stdout}") from None
    return json.loads(host.check_output("cat /root/load.json"))


def run_bad_input(host, case):
    """Run one case of bad_inputs.yml: the deploy must fail with its message, the host unchanged."""
    assert case.get("role", "app") == "app", "bad_input.yml deploys an app"
    before = fingerprint(host)
    result = ansible_playbook(SHARED / "bad_input.yml", host.backend.get_hostname(), case["vars"])
    output = " ".join((result.stdout + result.stderr).split())
    assert result.returncode != 0, f"{case['case']}: the run succeeded\n{result.stdout[-2000:]}"
    assert " ".join(case["expect"].split()) in output, f"{case['case']}:\n{output[-3000:]}"
    assert fingerprint(host) == before, f"{case['case']}: the host changed"


# What the hostile cases of bad_inputs.yml find on the host: an account nobody made for an app, a
# symbolic link where an app's code would go, a directory another user owns where its state would.
_HOSTILE_HOST = (
    "id alice >/dev/null 2>&1 || useradd --create-home --shell /bin/bash --comment Alice alice; "
    "ln -sfn /etc /srv/linked; install -d -o alice -g alice -m 0700 /var/lib/taken"
)
_HOSTILE_HOST_UNDO = "rm -f /srv/linked; rm -rf /var/lib/taken; userdel --remove alice"


def run_bad_inputs(host, cases):
    """Apply every case of CASES (bad_inputs.yml) in one play; each must be refused with its
    message, and the host must be exactly as it was before (owner, group and mode of /, /etc, /run,
    /var, /var/lib, /srv and everything the roles own, users and groups). Returns the outcomes."""
    host.run_expect([0], _HOSTILE_HOST)
    try:
        before = fingerprint(host)
        result = ansible_playbook(
            SHARED / "bad_inputs.yml",
            host.backend.get_hostname(),
            {"pyops_bad_inputs": cases},
            json_output=True,
            timeout=1200,
        )
        after = fingerprint(host)
    finally:
        host.run(_HOSTILE_HOST_UNDO)
    [report] = task_results(
        result.stdout, host.backend.get_hostname(), "Report the outcome of each bad input"
    )
    outcomes = {item["case"]: item["refused"] for item in report["pyops_bad_input_outcomes"]}
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    problems = []
    for case in cases:
        refused = " ".join(outcomes.get(case["case"], "").split())
        if " ".join(case["expect"].split()) not in refused:
            problems.append(f"{case['case']}: {refused or 'accepted'}")
    assert not problems, "\n".join(problems)
    assert after == before, "the host changed:\n" + "\n".join(
        line for line in difflib.unified_diff(before.splitlines(), after.splitlines(), lineterm="")
    )
    return outcomes


def task_results(json_stdout, host, task_name):
    """Per-item results of the task named TASK_NAME on HOST, from the json callback's output."""
    # Other callbacks (the scenarios enable profile_tasks) may print around the document.
    document, _end = json.JSONDecoder().raw_decode(json_stdout[json_stdout.index("{") :])
    for play in document["plays"]:
        for task in play["tasks"]:
            # Role tasks are named "ROLE : NAME".
            name = task["task"]["name"].rpartition(" : ")[2]
            if name == task_name and host in task["hosts"]:
                result = task["hosts"][host]
                return result.get("results", [result])
    raise AssertionError(f"no task {task_name!r} ran on {host}")
