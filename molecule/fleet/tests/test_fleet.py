"""Scenario fleet: two app hosts behind an nginx front, reached over TCP by the front alone."""

from __future__ import annotations

import json
import subprocess
import time

import pytest
import testinfra
from pyops_verify import (
    ROOT,
    ansible_playbook,
    finish_load,
    http,
    http_json,
    scenario_apps,
    start_load,
    tcp_connect,
    wait_until,
)

# The checks run on the front; the app hosts are reached beside it.
testinfra_hosts = ["ansible://uwsgi-fleet-front"]
FRONT = "uwsgi-fleet-front"
APP_HOSTS = {"uwsgi-fleet-app1": "10.213.7.11", "uwsgi-fleet-app2": "10.213.7.12"}
PORT = 3031
SERVER_NAME = "hello.test"
CONFIG = "/etc/uwsgi/services/hello.ini"
FRONT_SITE = "/etc/nginx/sites-available/hello.conf"


def app_host(name):
    return testinfra.get_host(f"docker://{name}")


def answering_hosts(host, requests=12):
    """The app hosts that answered REQUESTS requests through the front."""
    return {http_json(host, "/whoami", SERVER_NAME)["host"] for _request in range(requests)}


def rollout(changes):
    """Run playbooks/rolling.yml with CHANGES merged into every app of the scenario."""
    apps = [{**app, **changes} for app in scenario_apps()]
    return ansible_playbook(ROOT / "playbooks" / "rolling.yml", "all", {"uwsgi_apps": apps})


def test_requests_through_the_front_reach_both_app_hosts(host):
    assert answering_hosts(host) == set(APP_HOSTS)


@pytest.mark.parametrize("name", APP_HOSTS)
def test_app_hosts_run_no_nginx_of_their_own(name):
    app = app_host(name)
    assert not app.package("nginx").is_installed
    assert tcp_connect(app, "127.0.0.1", 80) == "ECONNREFUSED"


@pytest.mark.parametrize("name", APP_HOSTS)
def test_the_tcp_socket_listens_on_the_private_address_only(name):
    app = app_host(name)
    listening = app.check_output(f"ss -ltnH 'sport = :{PORT}'").split()
    assert f"{APP_HOSTS[name]}:{PORT}" in listening
    assert f"0.0.0.0:{PORT}" not in listening and f"*:{PORT}" not in listening
    # systemd holds it, and its firewall, for uWSGI.
    allowed = app.check_output("systemctl show -p IPAddressAllow --value uwsgi-app-hello.socket")
    assert allowed.split() == ["10.213.7.10/32"]


@pytest.mark.parametrize("name", APP_HOSTS)
def test_only_the_front_may_connect_to_an_app_hosts_port(host, name):
    address = APP_HOSTS[name]
    assert tcp_connect(host, address, PORT) == "ok"
    # The other app host, and the app host itself through its private address, are dropped.
    for other in APP_HOSTS:
        assert tcp_connect(app_host(other), address, PORT) == "timeout", f"{other} -> {name}"


def test_a_stopped_app_host_is_skipped_without_failed_requests(host):
    stopped = "uwsgi-fleet-app2"
    start_load(host, {SERVER_NAME: "/whoami"}, connections=4, tally="host")
    try:
        subprocess.run(["docker", "stop", "--time", "10", stopped], check=True, timeout=60)
        # Longer than nginx's fail_timeout (10 s), so it tries the stopped host again meanwhile.
        time.sleep(15)
    finally:
        report = finish_load(host)
        subprocess.run(["docker", "start", stopped], check=True, timeout=60)
    print(f"load while {stopped} stopped: {json.dumps(report)}")
    assert report["errors"] == {} and report["non_2xx"] == 0, report
    assert report["tally"].get("uwsgi-fleet-app1", 0) > 100, report
    # Back after its boot: systemd starts the socket unit and the app, nginx tries it again.
    wait_until(lambda: answering_hosts(host) == set(APP_HOSTS), 120, f"{stopped} answering again")


def test_a_rolling_update_under_load_loses_no_request(host):
    # The drain reloads the front's nginx twice per app host: a GET cut off by the close of an idle
    # keep-alive connection is sent again, as browsers do (counted in retried_closed).
    start_load(host, {SERVER_NAME: "/whoami"}, connections=8, tally="host", retry_closed=True)
    result = rollout({"app_env": {"DEPLOY": "rolling"}})
    report = finish_load(host)
    print(f"load during the rolling update: {json.dumps(report)}")
    assert result.returncode == 0, result.stdout[-3000:]
    # One batch per app host, one after the other.
    assert result.stdout.count("PLAY [Serve WSGI apps with uWSGI behind nginx]") == 2, result.stdout
    for name in APP_HOSTS:
        assert "DEPLOY=rolling" in app_host(name).file(CONFIG).content_string
    assert report["errors"] == {} and report["non_2xx"] == 0, report
    assert set(report["tally"]) == set(APP_HOSTS), report
    # Each host was taken out of the front and put back (roles/front): the site is as rendered.
    assert " down;" not in host.file(FRONT_SITE).content_string
    for name in APP_HOSTS:
        # The mark on the front (down, then up) reported as a change of each app host's batch.
        assert result.stdout.count(f"changed: [{name} -> {FRONT}]") >= 2, result.stdout[-3000:]


def test_a_broken_release_stops_the_rollout_at_the_first_host(host):
    configs = {name: app_host(name).file(CONFIG).content_string for name in APP_HOSTS}
    start_load(host, {SERVER_NAME: "/whoami"}, connections=4, tally="host", retry_closed=True)
    # Pitfall 2: a callable the module does not have. The canary on the first host finds it.
    result = rollout({"app_wsgi_callable": "missing", "app_env": {"DEPLOY": "broken"}})
    report = finish_load(host)
    print(f"load during the broken rollout: {json.dumps(report)}")
    output = result.stdout + result.stderr
    assert result.returncode != 0, output[-3000:]
    assert "missing" in output
    assert "uwsgi-fleet-app1" in output.split("PLAY RECAP")[1]
    # The first batch failed, so the second never started: app2 appears in no task after it.
    assert output.count("PLAY [Serve WSGI apps with uWSGI behind nginx]") == 1, output[-3000:]
    for name in APP_HOSTS:
        assert app_host(name).file(CONFIG).content_string == configs[name], name
    assert report["errors"] == {} and report["non_2xx"] == 0, report
    # The failed host stays out of the front (drained before it failed; only a host whose apps
    # answered is put back), still on its old release; the other took every request.
    assert f"server {APP_HOSTS['uwsgi-fleet-app1']}:{PORT} " in host.file(FRONT_SITE).content_string
    assert " down;" in host.file(FRONT_SITE).content_string
    assert answering_hosts(host) == {"uwsgi-fleet-app2"}
    assert http(host, "/", SERVER_NAME)[0] == 200
    # A converge of the fleet writes the front's site as configured: app1 is back.
    converged = ansible_playbook(ROOT / "playbooks" / "fleet.yml", "all")
    assert converged.returncode == 0, converged.stdout[-3000:]
    assert " down;" not in host.file(FRONT_SITE).content_string
    assert answering_hosts(host) == set(APP_HOSTS)
