"""Scenario default in production: nginx's configuration audited, faults, a redeploy under load.

Runs after test_default.py (pytest takes files in order). The instance restart comes last.
"""

from __future__ import annotations

import json
import shlex
import subprocess
import time

import pytest
from pyops_verify import (
    HOSTILE_ENV,
    HOSTILE_OPTION,
    ROOT,
    ansible_playbook,
    finish_load,
    gixy_findings,
    http,
    http_json,
    master_pid,
    scenario_apps,
    start_load,
    uwsgi_processes,
    wait_for_status,
    wait_until,
)

APPS = {"hello": "hello.test", "second": "second.test"}
# The longest checks run on one platform each: what they prove does not depend on the release (the
# fleet scenario repeats the redeploy under load as a rolling update on Debian 13).
REDEPLOY_PLATFORM = "uwsgi-default-debian12"
RESTART_PLATFORM = "uwsgi-default-debian13"


def only_on(host, name):
    if host.backend.get_hostname() != name:
        pytest.skip(f"runs on {name} only")


def workers(host, app):
    """PIDs of APP's uWSGI workers."""
    out = host.check_output(f"pgrep -u {app} -f ' uWSGI worker '")
    return set(out.split())


def test_gixy_finds_nothing_in_nginx_configuration(host):
    assert "uwsgi_param UWSGI_" not in host.check_output("nginx -T 2>/dev/null")
    rc, findings, output = gixy_findings(host)
    assert rc == 0 and findings == [], output


def test_body_over_the_limit_is_refused_by_nginx(host):
    out = host.check_output(
        "head -c 11000000 /dev/zero | curl -sS -o /dev/null -w '%{http_code}' "
        "-H 'Host: hello.test' --data-binary @- http://127.0.0.1/"
    )
    assert out == "413"


def test_security_headers_reach_every_location(host):
    for path in ["/", "/static/hello.txt", "/does-not-exist"]:
        headers = host.check_output(f"curl -sSI -H 'Host: hello.test' http://127.0.0.1{path}")
        names = {line.split(":")[0].lower() for line in headers.splitlines() if ":" in line}
        assert {"x-content-type-options", "x-frame-options", "referrer-policy"} <= names, path


# Reads one stats document from a unix socket as the user running it; prints the error's errno.
_READ_STATS = (
    "import json, socket, sys\n"
    "s = socket.socket(socket.AF_UNIX)\n"
    "try:\n"
    "    s.connect(sys.argv[1])\n"
    "except OSError as e:\n"
    "    sys.exit(print(e.errno))\n"
    "data = b''.join(iter(lambda: s.recv(65536), b''))\n"
    "print(len(json.loads(data)['workers']))\n"
)


@pytest.mark.parametrize("app", APPS)
def test_stats_socket_is_for_the_ops_group_only(host, app):
    stats = f"/run/uwsgi/stats/{app}/stats.sock"
    host.run_expect([0], "id pyops-ops || useradd --system --no-create-home --groups adm pyops-ops")
    script = f"python3 -c {shlex.quote(_READ_STATS)} {stats}"
    workers_seen = host.check_output(f"runuser -u pyops-ops -- {script}")
    assert int(workers_seen) == len(workers(host, app))
    # nginx's user and other apps cannot even reach it (EACCES).
    for user in ["www-data", "nobody", next(a for a in APPS if a != app)]:
        assert host.check_output(f"runuser -u {user} -- {script}") == "13", user
    assert host.run("/usr/local/bin/uwsgitop --help").rc == 0


def _cpu_group(host, pid):
    """The group of the cgroup v1 cpu controller PID is in (the test hosts run v1)."""
    lines = host.file(f"/proc/{pid}/cgroup").content_string.splitlines()
    return next(x.split(":", 2)[2] for x in lines if x.split(":")[1] in {"cpu", "cpu,cpuacct"})


def _cpu_shares(host, group):
    return int(host.file(f"/sys/fs/cgroup/cpu{group}/cpu.shares").content_string)


@pytest.mark.parametrize("app", APPS)
def test_serving_processes_outweigh_a_deploys_tasks(host, app):
    # uwsgi_system_slice_cpu_weight (1000): the app's master and nginx are in system.slice, which
    # weighs ten times what a session's process does (this test's own cat, as Ansible's tasks).
    assert host.check_output("systemctl show system.slice -p CPUWeight") == "CPUWeight=1000"
    nginx = host.check_output("systemctl show nginx -p MainPID --value")
    session = _cpu_group(host, "self")
    slice_group = f"{session.rstrip('/')}/system.slice"
    assert _cpu_shares(host, slice_group) == 10240
    assert _cpu_shares(host, session) < 10240
    for pid in (master_pid(host, app), nginx):
        assert _cpu_group(host, pid).startswith(slice_group), pid


@pytest.mark.parametrize("app", APPS)
def test_killed_worker_is_respawned(host, app):
    before = workers(host, app)
    victim = sorted(before)[0]
    host.run_expect([0], f"kill -KILL {victim}")
    wait_until(
        lambda: len(workers(host, app)) == len(before) and victim not in workers(host, app),
        30,
        f"a new worker of {app}",
    )
    wait_for_status(host, "/", APPS[app], timeout=30)


@pytest.mark.parametrize("app", APPS)
def test_killed_master_is_restarted(host, app):
    # hello: the Emperor respawns its vassal; second: systemd restarts its unit.
    before = master_pid(host, app)
    host.run_expect([0], f"kill -KILL {before}")

    def restarted():
        masters = [a for _u, a in uwsgi_processes(host, app) if " uWSGI master" in a]
        return len(masters) == 1 and master_pid(host, app) != before

    wait_until(restarted, 60, f"a new master of {app}")
    wait_for_status(host, "/", APPS[app], timeout=30)


def test_request_longer_than_harakiri_fails_alone(host):
    # second has harakiri 5 s: its slow request is cut, its other worker keeps answering.
    since = host.check_output("date +@%s")
    host.run_expect(
        [0],
        "setsid curl -sS -o /dev/null -w '%{http_code}' --max-time 30 -H 'Host: second.test' "
        "http://127.0.0.1/sleep/12 > /root/slow.status 2>&1 < /dev/null &",
    )
    time.sleep(1)
    answers = [http(host, "/", "second.test")[0] for attempt in range(5)]
    assert answers == [200] * 5, answers
    wait_until(lambda: host.run("cat /root/slow.status").stdout.strip() != "", 30, "the slow reply")
    assert host.check_output("cat /root/slow.status") == "502"
    # The master's log line reaches the journal shortly after the worker was killed.
    journal = f"journalctl -t uwsgi-second --since={since} -o cat"
    wait_until(lambda: "HARAKIRI" in host.check_output(journal), 15, "the HARAKIRI log line")
    wait_for_status(host, "/", "second.test", timeout=30)


def test_redeploy_under_load_loses_no_request(host):
    only_on(host, REDEPLOY_PLATFORM)
    apps = scenario_apps()
    # A configuration change for both apps: a new generation of each is deployed and reloaded,
    # with values uWSGI would rewrite if they went into its ini file as they are.
    changed = [
        {
            **app,
            "app_env": {**app.get("app_env", {}), "DEPLOY": "under-load", **HOSTILE_ENV},
            "app_uwsgi_options": {"procname-append": HOSTILE_OPTION},
        }
        for app in apps
    ]
    start_load(host, {name: "/" for name in APPS.values()})
    result = ansible_playbook(
        ROOT / "playbooks" / "site.yml", host.backend.get_hostname(), {"uwsgi_apps": changed}
    )
    report = finish_load(host)
    print(f"load during the redeploy: {json.dumps(report)}")
    assert result.returncode == 0, result.stdout[-3000:]
    for app in APPS:
        config = "vassals" if app == "hello" else "services"
        assert "DEPLOY=under-load" in host.file(f"/etc/uwsgi/{config}/{app}.ini").content_string
    assert report["errors"] == {} and report["non_2xx"] == 0, report
    for name in APPS.values():
        assert report["statuses"][name].get("200", 0) > 50, report
    # The canary served while each app reloaded: nginx's link is back on the app's socket, and the
    # canary is gone.
    for app in APPS:
        link = host.check_output(f"readlink /run/uwsgi/{app}/nginx.sock")
        assert link == f"/run/uwsgi/{app}/{app}.sock"
        assert host.run(f"pgrep -f '^{app} canary '").rc == 1
        assert host.run(f"systemctl is-active uwsgi-canary-{app}").stdout.strip() != "active"


@pytest.mark.parametrize("app", APPS)
def test_values_reach_the_app_as_given(host, app):
    # After the redeploy above: each value as the app's process has it, and uWSGI's own view of
    # the option (uwsgi.opt), byte for byte, for the Emperor's vassal and the app's own unit alike.
    only_on(host, REDEPLOY_PLATFORM)
    for name, value in HOSTILE_ENV.items():
        echo = http_json(host, f"/echo/{name}", APPS[app])
        assert echo["environ"] == value, (name, echo)
        assert echo["procname_append"] == HOSTILE_OPTION, echo
    # The secrets among them stay readable by root and the app alone.
    config = "vassals" if app == "hello" else "services"
    found = host.check_output(
        f"stat -c '%U:%G %a' /etc/uwsgi/{config}/{app}.ini /etc/uwsgi/env/{app}"
        f" /etc/uwsgi/env/{app}/*/ /etc/uwsgi/env/{app}/*/*"
    ).splitlines()
    assert set(found[:1]) == {f"root:{app} 640"}
    assert set(found[1:3]) == {f"root:{app} 750"}
    assert set(found[3:]) == {f"root:{app} 640"}, found


def test_everything_serves_after_an_instance_restart(host):
    only_on(host, RESTART_PLATFORM)
    name = host.backend.get_hostname()
    subprocess.run(["docker", "restart", "--time", "30", name], check=True, timeout=120)
    wait_until(
        lambda: host.run("systemctl is-system-running").stdout.strip() in ("running", "degraded"),
        90,
        "the instance's boot",
    )
    for app, server_name in APPS.items():
        wait_for_status(host, "/", server_name, timeout=60)
        assert {user for user, _args in uwsgi_processes(host, app)} == {app}
