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
# App name -> its uWSGI configuration: hello is the Emperor's vassal, second has a unit of its own.
CONFIGS = {"hello": "/etc/uwsgi/vassals/hello.ini", "second": "/etc/uwsgi/services/second.ini"}
# The sandbox of an app's own unit must score at most this in `systemd-analyze security`.
UNIT_EXPOSURE_LIMIT = 2.0


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
    assert (runtime.user, runtime.group, runtime.mode) == (app, "www-data", 0o2750)
    # nginx connects through root's link to it (pointed at the canary's during a deploy alone).
    link = f"/run/uwsgi/{app}/nginx.sock"
    # stat without -L: the link's own owner (testinfra's File.user follows it). Its group is the
    # set-group-ID directory's; nothing reads a link's owner or group on Linux.
    assert host.check_output(f"stat -c %F:%U {link}") == "symbolic link:root"
    assert host.check_output(f"readlink {link}") == sock.path


@pytest.mark.parametrize("app", APPS)
def test_only_nginx_can_open_the_socket(host, app):
    other = next(name for name in APPS if name != app)
    for sock in (f"/run/uwsgi/{app}/{app}.sock", f"/run/uwsgi/{app}/nginx.sock"):
        assert connect_errno(host, "www-data", sock) == 0
        assert connect_errno(host, "nobody", sock) == 13
        assert connect_errno(host, other, sock) == 13


@pytest.mark.parametrize("app", APPS)
def test_uwsgi_configuration_is_root_owned_and_private(host, app):
    config = host.file(CONFIGS[app])
    assert (config.user, config.group, config.mode) == ("root", app, 0o640)
    assert host.file("/etc/uwsgi/vassals").user == "root"


def test_each_app_has_one_supervisor(host):
    assert not host.file("/etc/uwsgi/vassals/second.ini").exists
    assert not host.file("/etc/systemd/system/uwsgi-app-hello.service").exists


def test_app_environment_reaches_only_its_app(host):
    assert "GREETING=second" in host.file(CONFIGS["second"]).content_string
    assert "GREETING" not in host.file(CONFIGS["hello"]).content_string


@pytest.mark.parametrize(
    "service", ["nginx", "uwsgi-emperor", "uwsgi-app-second.service", "uwsgi-app-second.socket"]
)
def test_services_are_enabled_and_running(host, service):
    svc = host.service(service)
    assert svc.is_enabled
    assert svc.is_running


def test_nginx_hides_its_version(host):
    headers = host.check_output("curl -sSI -H 'Host: hello.test' http://127.0.0.1/")
    server = [line for line in headers.splitlines() if line.lower().startswith("server:")]
    assert [line.rstrip("\r") for line in server] == ["Server: nginx"], server


def test_apps_survive_an_emperor_restart(host):
    second = master_pid(host, "second")
    host.run_expect([0], "systemctl restart uwsgi-emperor")
    for app, name in APPS.items():
        wait_for_status(host, "/", name, timeout=30)
        assert {user for user, _args in uwsgi_processes(host, app)} == {app}
    # The app under its own unit did not even notice.
    assert master_pid(host, "second") == second


def exposure(host, unit):
    """The overall exposure level `systemd-analyze security` gives UNIT (0 best, 10 worst)."""
    out = host.check_output(f"systemd-analyze security --no-pager {unit}")
    last = [line for line in out.splitlines() if "Overall exposure level" in line][-1]
    return float(last.split(":")[1].split()[0])


def test_app_unit_is_sandboxed(host):
    score = exposure(host, "uwsgi-app-second.service")
    print(f"systemd-analyze security uwsgi-app-second.service: {score}")
    assert score <= UNIT_EXPOSURE_LIMIT, host.check_output(
        "systemd-analyze security --no-pager uwsgi-app-second.service"
    )


def test_emperor_unit_exposure_is_reported(host):
    # The Emperor must stay root to drop each vassal to its own user, so it scores higher; the
    # figure is printed for the record and must not get worse than the distribution's unit.
    score = exposure(host, "uwsgi-emperor.service")
    print(f"systemd-analyze security uwsgi-emperor.service: {score}")
    assert score < 9.5


def test_app_unit_runs_without_privileges(host):
    pid = master_pid(host, "second")
    status = host.file(f"/proc/{pid}/status").content_string
    fields = dict(line.split(":", 1) for line in status.splitlines() if ":" in line)
    assert fields["CapEff"].strip() == "0000000000000000"
    assert fields["CapBnd"].strip() == "0000000000000000"
    assert fields["NoNewPrivs"].strip() == "1"
    assert fields["Seccomp"].strip() == "2"


def test_socket_activation_keeps_the_socket_through_a_restart(host):
    sock = "/run/uwsgi/second/second.sock"
    inode = host.check_output(f"stat -c %i {sock}")
    # The request is sent while uWSGI restarts; it waits in the socket's backlog and is answered.
    out = host.check_output(
        "systemctl restart --no-block uwsgi-app-second.service && "
        "curl -sS --max-time 30 -o /dev/null -w '%{http_code}' -H 'Host: second.test' http://127.0.0.1/"
    )
    assert out == "200"
    assert host.check_output(f"stat -c %i {sock}") == inode
    wait_for_status(host, "/", "second.test", timeout=30)
    result = host.check_output("systemctl show -p Result --value uwsgi-app-second.service")
    assert result == "success"


def test_app_unit_stops_gracefully(host):
    host.run_expect([0], "systemctl stop uwsgi-app-second.service")
    shown = host.check_output(
        "systemctl show -p Result -p ExecMainCode -p ExecMainStatus uwsgi-app-second.service"
    )
    # Exited by itself (code 1: CLD_EXITED) after "q" on its FIFO, not killed by a signal.
    assert "Result=success" in shown and "ExecMainCode=1" in shown, shown
    host.run_expect([0], "systemctl start uwsgi-app-second.service")
    wait_for_status(host, "/", "second.test", timeout=30)
