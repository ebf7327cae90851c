"""Scenario default: two apps from playbooks/site.yml behind nginx, fenced off by their sockets."""

from __future__ import annotations

import pytest
from pyops_verify import (
    connect_errno,
    http,
    http_json,
    master_pid,
    python_version,
    serving_venv,
    uwsgi_processes,
    wait_for_status,
)

# App name -> the server name its nginx site answers to.
APPS = {"hello": "hello.test", "second": "second.test"}


def test_root_answers_through_nginx(host):
    status, body = http(host, "/", "hello.test")
    assert status == 200
    assert "Hello from pyops.uwsgi" in body


def test_default_server_is_the_first_app(host):
    status, body = http(host, "/", "unknown.test")
    assert status == 200
    assert "Hello from pyops.uwsgi" in body


@pytest.mark.parametrize("app", APPS)
def test_version_reports_the_apps_virtualenv(host, app):
    data = http_json(host, "/version", APPS[app])
    assert data["prefix"] == serving_venv(host, app)
    assert data["prefix"].startswith(f"/srv/{app}/releases/")
    assert data["version"].startswith(python_version(host) + ".")


def test_static_files_come_from_nginx(host):
    status, body = http(host, "/static/hello.txt", "hello.test")
    assert status == 200
    assert "without the app" in body


@pytest.mark.parametrize("app", APPS)
def test_uwsgi_loads_the_plugin_built_for_the_hosts_python(host, app):
    xy = python_version(host).replace(".", "")
    pid = master_pid(host, app)
    maps = host.file(f"/proc/{pid}/maps").content_string
    assert f"/usr/local/lib/uwsgi/plugins/python{xy}_plugin.so" in maps
    assert "/usr/lib/uwsgi/plugins/python3" not in maps


@pytest.mark.parametrize("app", APPS)
def test_uwsgi_runs_as_the_app_user(host, app):
    procs = uwsgi_processes(host, app)
    kinds = {args.split()[3] for _user, args in procs}
    assert {"master", "worker"} <= kinds, procs
    assert {user for user, _args in procs} == {app}


@pytest.mark.parametrize("app", APPS)
def test_app_user_is_confined(host, app):
    user = host.user(app)
    assert user.shell == "/usr/sbin/nologin"
    assert not user.home.startswith("/home")
    assert "www-data" not in user.groups


@pytest.mark.parametrize("app", APPS)
def test_socket_is_0660_app_and_www_data(host, app):
    sock = host.file(f"/run/uwsgi/{app}/{app}.sock")
    assert sock.is_socket
    assert (sock.user, sock.group, sock.mode) == (app, "www-data", 0o660)
    runtime = host.file(f"/run/uwsgi/{app}")
    assert (runtime.user, runtime.group, runtime.mode) == (app, "www-data", 0o750)


@pytest.mark.parametrize("app", APPS)
def test_only_nginx_can_open_the_socket(host, app):
    sock = f"/run/uwsgi/{app}/{app}.sock"
    other = next(name for name in APPS if name != app)
    assert connect_errno(host, "www-data", sock) == 0
    assert connect_errno(host, "nobody", sock) == 13
    assert connect_errno(host, other, sock) == 13


@pytest.mark.parametrize("app", APPS)
def test_vassal_is_root_owned_and_private(host, app):
    vassal = host.file(f"/etc/uwsgi/vassals/{app}.ini")
    assert (vassal.user, vassal.group, vassal.mode) == ("root", app, 0o640)
    assert host.file("/etc/uwsgi/vassals").user == "root"


def test_app_environment_reaches_only_its_app(host):
    assert "GREETING=second" in host.file("/etc/uwsgi/vassals/second.ini").content_string
    assert "GREETING" not in host.file("/etc/uwsgi/vassals/hello.ini").content_string


@pytest.mark.parametrize("service", ["nginx", "uwsgi-emperor"])
def test_services_are_enabled_and_running(host, service):
    svc = host.service(service)
    assert svc.is_enabled
    assert svc.is_running


def test_nginx_hides_its_version(host):
    headers = host.check_output("curl -sSI -H 'Host: hello.test' http://127.0.0.1/")
    server = [line for line in headers.splitlines() if line.lower().startswith("server:")]
    assert [line.rstrip("\r") for line in server] == ["Server: nginx"], server


def test_apps_survive_an_emperor_restart(host):
    host.run_expect([0], "systemctl restart uwsgi-emperor")
    for app, name in APPS.items():
        wait_for_status(host, "/", name, timeout=30)
        assert {user for user, _args in uwsgi_processes(host, app)} == {app}
