"""Scenario multi_python: three apps on two Pythons, two uWSGI builds, one host."""

from __future__ import annotations

import json
import time

import pytest
from pyops_verify import (
    SHARED,
    ansible_playbook,
    http_json,
    master_pid,
    serving_venv,
    task_results,
    wait_for_status,
)

# App -> (server name, Python, the uWSGI binary that serves it).
APPS = {
    "alpha": ("alpha.test", "3.13", "/usr/bin/uwsgi-core"),
    "beta": ("beta.test", "3.14", "/usr/bin/uwsgi-core"),
    "gamma": ("gamma.test", "3.14", "/opt/uwsgi/3.14/bin/uwsgi"),
}
PLUGINS = "/usr/local/lib/uwsgi/plugins"
BUILD_TASK = "Build the plugin for each Python (rebuilt only when Python or uWSGI changed)"


@pytest.mark.parametrize("app", APPS)
def test_each_app_runs_on_its_own_python(host, app):
    server_name, version, _binary = APPS[app]
    data = http_json(host, "/version", server_name)
    assert data["version"].startswith(version + "."), data
    assert data["prefix"] == serving_venv(host, app)


@pytest.mark.parametrize("app", ["alpha", "beta"])
def test_plugin_apps_load_the_plugin_built_for_their_python(host, app):
    xy = APPS[app][1].replace(".", "")
    pid = master_pid(host, app)
    maps = host.file(f"/proc/{pid}/maps").content_string
    assert f"{PLUGINS}/python{xy}_plugin.so" in maps
    assert "/usr/lib/uwsgi/plugins/python3" not in maps


def test_pip_app_runs_under_the_pip_built_uwsgi_and_its_own_emperor(host):
    pid = master_pid(host, "gamma")
    # Its master is a child of the pip Emperor, whose unit runs the pip-built binary.
    assert "uwsgi-emperor-pip314.service" in host.file(f"/proc/{pid}/cgroup").content_string
    unit = host.file("/etc/systemd/system/uwsgi-emperor-pip314.service").content_string
    assert f"ExecStart={APPS['gamma'][2]} " in unit
    assert host.service("uwsgi-emperor-pip314").is_running
    assert host.file("/etc/uwsgi/vassals-pip314/gamma.ini").exists
    assert "plugin" not in host.file("/etc/uwsgi/vassals-pip314/gamma.ini").content_string


@pytest.mark.parametrize("xy", ["313", "314"])
def test_plugins_are_recorded_and_not_writable_by_others(host, xy):
    plugin = host.file(f"{PLUGINS}/python{xy}_plugin.so")
    assert (plugin.user, plugin.group, plugin.mode) == ("root", "root", 0o644)
    record = json.loads(host.file(f"{PLUGINS}/python{xy}_plugin.json").content_string)
    assert record["python_version"].startswith(f"{xy[0]}.{xy[1:]}.")


def test_a_changed_interpreter_rebuilds_exactly_its_plugin(host):
    hostname = host.backend.get_hostname()
    record_file = f"{PLUGINS}/python313_plugin.json"
    record = json.loads(host.file(record_file).content_string)
    # What a Python 3.13 package upgrade looks like to the module: another build of the interpreter.
    record["python_build"] = "3.13.0 (an older build)"
    host.run_expect([0], f"echo {json.dumps(json.dumps(record))} > {record_file}")
    before = host.check_output("pgrep -u alpha -f ' uWSGI worker'")

    first = ansible_playbook(SHARED / "uwsgi_role.yml", hostname, json_output=True)
    assert first.returncode == 0, first.stdout[-3000:]
    results = task_results(first.stdout, hostname, BUILD_TASK)
    assert [r["item"] for r in results if r.get("rebuilt")] == ["3.13"]

    second = ansible_playbook(SHARED / "uwsgi_role.yml", hostname, json_output=True)
    assert second.returncode == 0, second.stdout[-3000:]
    assert not [r for r in task_results(second.stdout, hostname, BUILD_TASK) if r.get("changed")]

    # alpha, the app on the rebuilt plugin, is reloaded onto it and serves.
    deadline = time.monotonic() + 30
    while host.run("pgrep -u alpha -f ' uWSGI worker'").stdout == before:
        assert time.monotonic() < deadline, "alpha was not reloaded after its plugin was rebuilt"
        time.sleep(0.5)
    wait_for_status(host, "/version", "alpha.test")
    test_each_app_runs_on_its_own_python(host, "alpha")
