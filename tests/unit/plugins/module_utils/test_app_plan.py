"""The app role's plan: each rule refuses a bad value and accepts a good one; its decisions."""

from __future__ import annotations

import json
import posixpath
import re

import pytest
from ansible_collections.pyops.uwsgi.plugins.module_utils import app_plan, env_file
from ansible_collections.pyops.uwsgi.plugins.module_utils._app import rules
from ansible_collections.pyops.uwsgi.plugins.plugin_utils import app_source
from ansible_collections.pyops.uwsgi.tests.unit.plugins import stand_in

SYSTEMD = {"app_supervisor": "systemd", "app_socket_activation": True}
TCP = {**SYSTEMD, "app_tcp_socket": "10.0.1.21:3031", "app_tcp_allowed_peers": ["10.0.1.10"]}
JOB = {
    "name": "clearsessions",
    "command": ["python", "manage.py", "clearsessions"],
    "calendar": "daily",
}
# What pyops.uwsgi.uwsgi_info reads from systemd-analyze calendar (systemd 252).
CALENDAR_DAILY = {
    "valid": True,
    "normalized": "*-*-* 00:00:00",
    "next": "Mon 2026-11-30 00:00:00 UTC",
    "message": "",
}
CALENDAR_REFUSED = {
    "valid": False,
    "normalized": "",
    "next": "",
    "message": "Failed to parse calendar specification 'every tuesday': Invalid argument",
}

# rule: (the variable its message names, bad settings, good settings[, bad host, good host])
# A site named for its host, behind a load balancer that asks from 10.0.0.0/16.
NAMED = {"app_server_names": ["hello.test"]}
LB = {"app_lb_health_networks": ["10.0.0.0/16"], **NAMED}
RULES = {
    "name": ("app_name", {"app_name": "Bad Name"}, {"app_name": "shop_2-x"}),
    "system names": ("app_user", {"app_user": "Shop"}, {"app_user": "shopuser"}),
    "app name not the collection's or the system's": (
        "app_name 'stats'",
        {"app_name": "stats"},
        {"app_name": "statsd-web"},
    ),
    "app user not the system's": ("app_user 'mail'", {"app_user": "mail"}, {"app_user": "mailer"}),
    "app group not the system's": (
        "app_group 'crontab'",
        {"app_group": "crontab"},
        {"app_group": "hellogroup"},
    ),
    "own identity": ("app_group", {"app_group": "www-data"}, {"app_group": "shopgroup"}),
    "host components": (
        "/srv is a symbolic link",
        {},
        {},
        {"paths": {"/srv": {"exists": True, "type": "link", "target": "/data/srv"}}},
        {"paths": {"/srv": {"exists": True, "type": "directory", "owner": "root"}}},
    ),
    "existing account": (
        "User hello already exists",
        {},
        {},
        {
            "users": {"hello": {"home": "/var/mail", "shell": "/bin/sh", "comment": "x"}},
            "groups": {"hello": None},
        },
        {
            "users": {
                "hello": {
                    "home": "/srv/hello",
                    "shell": "/usr/sbin/nologin",
                    "comment": "pyops.uwsgi app hello",
                    "group": "hello",
                }
            },
            "groups": {"hello": {"gid": 999}},
        },
    ),
    "not in nginx's group": (
        "gpasswd -d hello www-data",
        {},
        {},
        {"group_members": ["hello"]},
        {"group_members": ["alice"]},
    ),
    "one source": (
        "app_git_repo",
        {"app_git_repo": "https://example.org/shop.git"},
        {"app_src_dir": "", "app_git_repo": "https://example.org/shop.git"},
    ),
    "source directory": (
        "app_src_dir",
        {"app_src_dir": "/nonexistent/app"},
        {"app_src_dir": "../examples/apps/hello"},
    ),
    "module name": ("app_wsgi_module", {"app_wsgi_module": "wsgi.py"}, {"app_wsgi_module": "wsgi"}),
    "callable name": (
        "app_wsgi_callable",
        {"app_wsgi_callable": 'create_app("prod")'},
        {"app_wsgi_callable": "create_app()"},
    ),
    # Proven missing only when nothing but the code goes into the virtualenv.
    "entry module exists": (
        "Pitfall 1a",
        {"app_wsgi_module": "wsgi2", "app_requirements_file": ""},
        {"app_wsgi_module": "myflask", "app_requirements_file": ""},
    ),
    "git version": (
        "app_git_version",
        {
            "app_src_dir": "",
            "app_git_repo": "https://example.org/shop.git",
            "app_git_version": "a b",
        },
        {
            "app_src_dir": "",
            "app_git_repo": "https://example.org/shop.git",
            "app_git_version": "v1",
        },
    ),
    "exclude names": (
        "app_src_exclude",
        {"app_src_exclude": ["a/b"]},
        {"app_src_exclude": ["*.log"]},
    ),
    "keep releases": ("app_keep_releases", {"app_keep_releases": 0}, {"app_keep_releases": 1}),
    "root": ("app_root", {"app_root": "/srv"}, {"app_root": "/opt/hello"}),
    "state directory": ("app_state_dir", {"app_state_dir": "/var/lib"}, {"app_state_dir": ""}),
    "python version form": (
        "app_python_version",
        {"app_python_version": "3"},
        {"app_python_version": "3.13"},
    ),
    "python served": (
        "uwsgi_python_versions",
        {"app_python_version": "3.12"},
        {"app_python_version": "3.13"},
    ),
    "interpreter installed": ("is not installed", {}, {}, {"pythons": []}, {"pythons": ["3.13"]}),
    "pitfall 003": (
        "Pitfall 003",
        {"app_uwsgi_options": {"plugin": "python3"}},
        {"app_uwsgi_options": {"plugins": "router_static"}},
    ),
    "virtualenv options": (
        "virtualenv/venv/home/pyhome",
        {"app_uwsgi_options": {"home": "/opt/venv"}},
        {"app_uwsgi_options": {"thunder-lock": True}},
    ),
    "requirements file": (
        "app_requirements_file",
        {"app_requirements_file": "../requirements.txt"},
        {"app_requirements_file": "requirements/prod.txt"},
    ),
    "pip packages": (
        "app_pip_packages",
        {"app_pip_packages": ["flask 3"]},
        {"app_pip_packages": ["flask==3.1.3"]},
    ),
    "pip index": (
        "app_pip_index_url",
        {"app_pip_index_url": "ftp://mirror/simple"},
        {"app_pip_index_url": "https://mirror.example.org/simple"},
    ),
    "pip CA bundle": (
        "app_pip_ca_bundle",
        {"app_pip_ca_bundle": "certs.pem"},
        {"app_pip_ca_bundle": "/etc/ssl/certs/ca-certificates.crt"},
    ),
    "reserved options": (
        "must not set uid",
        {"app_uwsgi_options": {"uid": "root"}},
        {"app_uwsgi_options": {"thunder-lock": True}},
    ),
    "buffer size": (
        "app_uwsgi_options buffer-size (32768)",
        {"app_uwsgi_options": {"buffer-size": 32768}},
        {"app_uwsgi_options": {"buffer-size": 65535}},
    ),
    "processes and threads": (
        "app_threads",
        {"app_threads": 0},
        {"app_processes": 4, "app_threads": 2},
    ),
    "memory per process": (
        "app_process_memory_mb",
        {"app_process_memory_mb": 0},
        {"app_process_memory_mb": 200},
    ),
    "harakiri below read timeout": (
        "app_harakiri (90)",
        {"app_harakiri": 90, "app_nginx_read_timeout": 60},
        {"app_harakiri": 50, "app_nginx_read_timeout": 60},
    ),
    "listen within somaxconn": ("app_listen", {"app_listen": 5000}, {"app_listen": 4096}),
    "recycling": ("app_max_requests", {"app_max_requests": -1}, {"app_max_requests": 1000}),
    "stats group": ("app_stats_group", {"app_stats_group": "www-data"}, {"app_stats_group": "ops"}),
    "env names": ("app_env", {"app_env": {"BAD-NAME": "x"}}, {"app_env": {"GOOD_NAME": "x"}}),
    "env that configures uWSGI": (
        "app_env must not set UWSGI_HTTP_SOCKET",
        {"app_env": {"UWSGI_HTTP_SOCKET": "0.0.0.0:9090"}},
        {"app_env": {"MY_UWSGI_NOTE": "x"}},
    ),
    "socket path": (
        "app_socket must be an absolute path",
        {"app_socket": "/tmp/hello.sock"},
        {"app_socket": "/run/uwsgi/hello/web.sock"},
    ),
    "socket directory of its own": (
        "directory of the app's own",
        {"app_socket": "/run/uwsgi/hello.sock"},
        {"app_socket": "/run/uwsgi/hello/other.sock"},
    ),
    "activation needs systemd": ("app_socket_activation", {"app_socket_activation": True}, SYSTEMD),
    "private TCP endpoint": (
        "one private address",
        {**TCP, "app_tcp_socket": "0.0.0.0:3031"},
        TCP,
    ),
    "TCP needs the socket unit": (
        "app_tcp_socket needs app_supervisor systemd",
        {"app_tcp_socket": "10.0.1.21:3031", "app_tcp_allowed_peers": ["10.0.1.10"]},
        TCP,
    ),
    "TCP peers": (
        "app_tcp_allowed_peers",
        {**TCP, "app_tcp_allowed_peers": ["0.0.0.0/0"]},
        {**TCP, "app_tcp_allowed_peers": ["10.0.1.0/24"]},
    ),
    "unit settings": (
        "app_systemd_options",
        {**SYSTEMD, "app_systemd_options": {"User": "root"}},
        {**SYSTEMD, "app_systemd_options": {"ReadWritePaths": "/var/cache/hello"}},
    ),
    "health host": (
        "app_health_host 'shop.example.org'",
        {"app_server_names": ["*.example.com"], "app_health_host": "shop.example.org"},
        {"app_server_names": ["*.example.org"], "app_health_host": "www.example.org"},
    ),
    "health statuses": (
        "app_health_status",
        {"app_health_status": [200, 700]},
        {"app_health_status": [200, 401]},
    ),
    "health timeout": ("app_health_timeout", {"app_health_timeout": 1}, {"app_health_timeout": 5}),
    "health path": ("app_health_path", {"app_health_path": "health"}, {"app_health_path": "/up"}),
    "server names": (
        "app_server_names",
        {"app_server_names": ["shop.test; include /etc/passwd"]},
        {"app_server_names": ["shop.example.org", "*.example.org"]},
    ),
    "listen values": (
        "app_http_listen",
        {"app_http_listen": ["eighty"]},
        {"app_http_listen": ["127.0.0.1:8080"]},
    ),
    "trusted proxies": (
        "app_trusted_proxies",
        {"app_trusted_proxies": ["0.0.0.0/0"]},
        {"app_trusted_proxies": ["10.0.0.0/16", "192.0.2.10"]},
    ),
    "maintenance allowed": (
        "app_maintenance_allowed",
        {"app_maintenance_allowed": ["0.0.0.0/0"]},
        {"app_maintenance_allowed": ["127.0.0.1", "::1", "10.0.0.0/8"]},
    ),
    "maintenance retry after": (
        "app_maintenance_retry_after",
        {"app_maintenance_retry_after": 0},
        {"app_maintenance_retry_after": 86400},
    ),
    # The health path answers everyone during maintenance: / would leave the home page open.
    "maintenance health path": (
        "app_health_path",
        {"app_maintenance": True},
        {"app_maintenance": True, "app_health_path": "/health?full=1"},
    ),
    "maintenance page": (
        "app_maintenance_page",
        {"app_maintenance_page": "maintenance.html"},
        {"app_maintenance_page": "../examples/maintenance.html"},
    ),
    # A load balancer's health URL, asked by the host's address (module_utils/lb_health.py).
    "load balancer networks": (
        "app_lb_health_networks",
        {"app_lb_health_networks": ["10.0.0.0/16", "0.0.0.0/0"], **NAMED},
        {"app_lb_health_networks": ["10.0.0.0/16", "2001:db8::/32", "192.0.2.7"], **NAMED},
    ),
    "load balancer path": (
        "app_lb_health_path",
        {**LB, "app_lb_health_path": "health"},
        {**LB, "app_lb_health_path": "/.lb/hello"},
    ),
    "load balancer app path": (
        "app_health_path",
        {**LB, "app_lb_health_path": "/lb", "app_health_path": "/health;x"},
        {**LB, "app_health_path": "/health?full=1"},
    ),
    "load balancer listen": (
        "app_lb_health_listen",
        {**LB, "app_tls": "self_signed", "app_lb_health_listen": ["443"]},
        {**LB, "app_tls": "self_signed", "app_lb_health_listen": ["8081", "10.0.1.5:8082"]},
    ),
    # 10.0.1.5:80 beside the site's own 80 (every address) would leave the site no connection to
    # 10.0.1.5:80: nginx picks the servers of the most specific listen.
    "load balancer address": (
        "app_lb_health_listen",
        {**LB, "app_lb_health_listen": ["10.0.1.5:80"]},
        {**LB, "app_http_listen": ["10.0.1.5:80"], "app_lb_health_listen": ["10.0.1.5:80"]},
    ),
    "load balancer default server": (
        "default server of port 80",
        {"app_lb_health_networks": ["10.0.0.0/16"], "app_server_names": ["_"]},
        {
            "app_lb_health_networks": ["10.0.0.0/16"],
            "app_server_names": ["_"],
            "app_lb_health_listen": ["8081"],
        },
    ),
    "body size": (
        "app_client_max_body_size",
        {"app_client_max_body_size": "10 MB"},
        {"app_client_max_body_size": "10m"},
    ),
    "response headers limit": (
        "app_response_headers_limit",
        {"app_response_headers_limit": "100k"},
        {"app_response_headers_limit": "64k"},
    ),
    "limits agree": (
        "socket-timeout",
        {"app_uwsgi_options": {"socket-timeout": 4, "max-vars": 64}},
        {"app_uwsgi_options": {"socket-timeout": 60}},
    ),
    "static location": (
        "app_static_url",
        {"app_static_url": "static"},
        {"app_static_url": "/static/", "app_static_dir": "assets"},
    ),
    "static bridge": (
        "app_static_bridge_time",
        {"app_static_bridge_time": -1},
        {"app_static_bridge_time": 0, "app_static_bridge_pattern": "(unclosed"},
    ),
    "health check CA": (
        "app_tls_ca_file",
        {"app_tls_ca_file": "certs/ca.pem"},
        {"app_tls_ca_file": "/etc/ssl/certs/ca-certificates.crt"},
    ),
    "build commands": (
        "app_build_commands",
        {"app_build_commands": ["python manage.py collectstatic --noinput"]},
        {"app_build_commands": [["python", "manage.py", "collectstatic", "--noinput"]]},
    ),
    "release commands": (
        "app_release_commands",
        {"app_release_commands": [{"command": "flask --app flaskr init-db"}]},
        {
            "app_release_commands": [
                {"command": ["flask", "--app", "flaskr", "init-db"], "creates": "instance/db"}
            ]
        },
    ),
    "post-release commands": (
        "app_post_release_commands",
        {"app_post_release_commands": [{"command": ["true"], "scope": "once"}]},
        {"app_post_release_commands": [{"command": ["true"], "creates": "instance/done"}]},
    ),
    "command timeout": (
        "app_command_timeout",
        {"app_command_timeout": 0},
        {"app_command_timeout": 60},
    ),
    "config files inside the code": (
        "app_config_files dest",
        {"app_config_files": [{"dest": "../etc/config.py", "content": "X = 1"}]},
        {"app_config_files": [{"dest": ".env", "content": "X=1"}]},
    ),
    "config files keep the code": (
        "app_config_files must not replace the code: wsgi.py",
        {"app_config_files": [{"dest": "wsgi.py", "content": "X = 1"}]},
        {"app_config_files": [{"dest": "local_settings.py", "content": "X = 1"}]},
    ),
    "config files beside shared paths": (
        "app_config_files dest must be a file, not one of app_shared_paths",
        {
            "app_shared_paths": [{"path": "instance"}],
            "app_config_files": [{"dest": "instance", "content": "X = 1"}],
        },
        {
            "app_shared_paths": [{"path": "instance"}],
            "app_config_files": [{"dest": "instance/config.py", "content": "X = 1"}],
        },
    ),
    "config files once": (
        "app_config_files dest must name each file once",
        {"app_config_files": [{"dest": "a.py", "content": "1"}, {"dest": "a.py", "content": "2"}]},
        {"app_config_files": [{"dest": "a.py", "content": "1"}, {"dest": "b.py", "content": "2"}]},
    ),
    "config file source": (
        "app_config_files takes, for each file, either content",
        {"app_config_files": [{"dest": "a.py"}]},
        {"app_config_files": [{"dest": "a.py", "content": ""}]},
    ),
    "config file modes": (
        "app_config_files mode",
        {"app_config_files": [{"dest": "a.py", "content": "X = 1", "mode": "0644"}]},
        {"app_config_files": [{"dest": "a.py", "content": "X = 1", "mode": "0600"}]},
    ),
    "shared paths inside the code": (
        "app_shared_paths",
        {"app_shared_paths": [{"path": "../data"}]},
        {"app_shared_paths": [{"path": "instance"}]},
    ),
    "shared paths apart": (
        "app_shared_paths",
        {"app_shared_paths": [{"path": "media"}, {"path": "media/uploads"}]},
        {"app_shared_paths": [{"path": "media/uploads"}, {"path": "media/cache"}]},
    ),
    "shared paths keep the code": (
        "app_shared_paths",
        {"app_shared_paths": [{"path": "wsgi.py"}]},
        {"app_shared_paths": [{"path": "var"}]},
    ),
    "shared paths need a state directory": (
        "app_state_dir",
        {"app_state_dir": "", "app_shared_paths": [{"path": "instance"}]},
        {"app_state_dir": "/var/lib/hello", "app_shared_paths": [{"path": "instance"}]},
    ),
    "shared urls": (
        "app_shared_paths urls",
        {"app_shared_paths": [{"path": "media", "url": "/static/"}], "app_static_url": "/static/"},
        {"app_shared_paths": [{"path": "media", "url": "/media/"}], "app_static_url": "/static/"},
    ),
    "shared internal needs a url": (
        "app_shared_paths internal",
        {"app_shared_paths": [{"path": "private", "internal": True}]},
        {"app_shared_paths": [{"path": "private", "url": "/protected/", "internal": True}]},
    ),
    "shared internal apart": (
        "app_shared_paths internal urls",
        {
            "app_shared_paths": [{"path": "private", "url": "/static/private/", "internal": True}],
            "app_static_url": "/static/",
        },
        {
            "app_shared_paths": [
                {"path": "private", "url": "/protected/", "internal": True},
                {"path": "media", "url": "/media/"},
            ],
            "app_static_url": "/static/",
        },
    ),
    "shared url needs the site": (
        "app_nginx_site",
        {"app_nginx_site": False, "app_shared_paths": [{"path": "media", "url": "/media/"}]},
        {"app_nginx_site": False, "app_shared_paths": [{"path": "media"}]},
    ),
    "worker names": (
        "app_workers names",
        {"app_workers": [{"name": "Queue", "command": ["rq", "worker"]}]},
        {"app_workers": [{"name": "queue", "command": ["rq", "worker"]}]},
    ),
    "worker commands": (
        "app_workers commands",
        {"app_workers": [{"name": "queue", "command": "rq worker"}]},
        {"app_workers": [{"name": "queue", "command": ["rq", "worker", "--url", "$X"]}]},
    ),
    "job names": (
        "app_jobs names",
        {"app_jobs": [JOB, JOB]},
        {"app_jobs": [JOB, {**JOB, "name": "other"}]},
    ),
    "job commands": (
        "app_jobs commands",
        {"app_jobs": [{**JOB, "command": ["python manage.py clearsessions"]}]},
        {"app_jobs": [JOB]},
    ),
    "worker count": (
        "app_workers counts",
        {"app_workers": [{"name": "queue", "command": ["rq", "worker"], "count": 0}]},
        {"app_workers": [{"name": "queue", "command": ["rq", "worker"], "count": 3}]},
    ),
    "job calendar": (
        "app_jobs calendars",
        {"app_jobs": [{**JOB, "calendar": "every tuesday"}]},
        {"app_jobs": [JOB]},
        {"calendars": {"every tuesday": CALENDAR_REFUSED}},
        {"calendars": {"daily": CALENDAR_DAILY}},
    ),
}


@pytest.mark.parametrize("rule", RULES)
def test_rule_refuses_a_bad_value_naming_the_variable(rule):
    named, bad, _good, *hosts = RULES[rule]
    errors = stand_in.app(host=hosts[0] if hosts else None, **bad)["errors"]
    # Its own message comes first; a bad name or Python may break rules that follow from it too.
    assert errors, rule
    assert named in errors[0], errors


@pytest.mark.parametrize("rule", RULES)
def test_rule_accepts_a_good_value(rule):
    _named, _bad, good, *hosts = RULES[rule]
    planned = stand_in.app(host=hosts[1] if hosts else None, **good)
    assert planned["errors"] == []
    assert planned["plan"]["name"] == good.get("app_name", "hello")


def test_every_rule_has_a_case():
    rules = [*app_plan._rules(_app(), {})]
    assert len(rules) == len(RULES)


def _app(**overrides):
    checked, errors = stand_in.settings("app", app_name="hello", **overrides)
    assert errors == []
    return app_plan._App(
        checked,
        record=stand_in.RECORD,
        uwsgi_settings={},
        host=stand_in.HOST,
        platform=stand_in.PLATFORM,
        source="x",
        playbook_dir="",
    )


def plan(**overrides):
    planned = stand_in.app(**overrides)
    assert planned["errors"] == [], planned["errors"]
    return planned["plan"]


def ini(text):
    """(option, value) pairs of an ini text."""
    return [tuple(line.split(" = ", 1)) for line in text.splitlines() if " = " in line]


@pytest.mark.parametrize(
    "settings",
    [{}, SYSTEMD, {"app_supervisor": "systemd"}, TCP],
    ids=["emperor", "activation", "unit", "tcp"],
)
def test_nginx_passes_to_the_very_socket_uwsgi_binds(settings):
    # Pitfall 3a (nginx pointed at a socket uWSGI never created) cannot be configured.
    planned = plan(**settings)
    socket, link = planned["paths"]["socket"], planned["paths"]["nginx_socket"]
    # nginx connects through a link to it, which the runtime directory's tmpfiles entry makes.
    assert planned["nginx_site"]["nginx_site_uwsgi_pass"] == f"unix:{link}"
    assert f"\nL {link} - - - - {socket}\n" in planned["tmpfiles"]
    assert posixpath.dirname(link) == posixpath.dirname(socket)
    assert ("socket", socket) in ini(planned["vassal"]["text"])
    if planned["unit"]["socket"]:
        assert f"ListenStream={socket}\n" in planned["unit"]["socket"]


def test_the_emperor_drops_the_vassal_to_the_app_and_hands_the_socket_to_nginx():
    options = dict(ini(plan()["vassal"]["text"]))
    assert (options["uid"], options["gid"], options["chown-socket"]) == (
        "hello",
        "hello",
        "hello:www-data",
    )
    assert options["chmod-socket"] == "660"
    assert "master-fifo" not in options
    assert plan()["paths"]["config"] == "/etc/uwsgi/vassals/hello.ini"


def test_a_unit_of_its_own_starts_as_the_app_and_stops_through_its_fifo():
    planned = plan(**SYSTEMD)
    options = dict(ini(planned["vassal"]["text"]))
    assert "uid" not in options and "chown-socket" not in options
    assert options["master-fifo"] == "/run/uwsgi-app-hello/master.fifo"
    assert options["vacuum"] == "false"
    service = planned["unit"]["service"]
    assert "User=hello\nGroup=hello\n" in service
    assert "ExecStart=/usr/bin/uwsgi-core --ini /etc/uwsgi/services/hello.ini\n" in service
    assert "Requires=uwsgi-app-hello.socket\n" in service
    assert planned["journal"] == "--unit=uwsgi-app-hello.service"


def test_the_canary_of_a_vassal_runs_as_the_emperor_runs_it():
    planned = plan()
    canary = dict(ini(planned["canary"]["ini"]))
    # Started as root in the Emperor's sandbox, it drops to the app's user as the vassal does.
    assert (canary["uid"], canary["chown-socket"]) == ("hello", "hello:www-data")
    assert canary["socket"] == "/run/uwsgi/hello/canary.sock"
    assert "master-fifo" not in canary and "stats" not in canary
    argv = planned["canary"]["argv"]
    # Stopped gracefully: SIGHUP to its master alone, which then exits instead of reloading.
    assert canary["exit-on-reload"] == "true"
    assert {"--property=KillSignal=SIGHUP", "--property=KillMode=mixed"} <= set(argv)
    for name, value in stand_in.RECORD["emperor_sandbox"].items():
        assert f"--property={name}={value}" in argv
    assert argv[-3:] == ["/usr/bin/uwsgi-core", "--ini", f"{planned['release']['dir']}/canary.ini"]


@pytest.mark.parametrize("settings", [{}, SYSTEMD], ids=["emperor", "unit"])
def test_the_canary_can_serve_in_the_service_s_place(settings):
    # While the service reloads, nginx's link points at the canary: it runs the service's options,
    # workers and threads included, but for its socket, name, logging and stop.
    planned = plan(app_processes=3, app_threads=2, **settings)
    service = dict(ini(planned["vassal"]["text"]))
    canary = dict(ini(planned["canary"]["ini"]))
    assert (canary["processes"], canary["threads"]) == ("3", "2")
    differing = {key for key in {**service, **canary} if service.get(key) != canary.get(key)}
    assert differing <= {
        "socket",
        "procname-prefix-spaced",
        "logger",
        "log-master",
        "stats",
        "vacuum",
        "master-fifo",
        "exit-on-reload",
    }, differing


def test_the_canary_of_a_unit_runs_as_the_unit_runs_the_app():
    planned = plan(**SYSTEMD)
    canary = dict(ini(planned["canary"]["ini"]))
    # The unit's user from the start, in its sandbox: no uid, gid or chown-socket to need root.
    assert "uid" not in canary and "chown-socket" not in canary
    argv = planned["canary"]["argv"]
    for setting in ["User=hello", "ProtectSystem=strict", "ProtectHome=yes", "PrivateTmp=yes"]:
        assert f"--property={setting}" in argv
    # What is about the unit's life stays with the unit: the canary's stop must not clean it up.
    assert not [item for item in argv if "RuntimeDirectory" in item or "RemoveIPC" in item]
    assert not [item for item in argv if "ExecStart" in item or "Restart=" in item]


def test_pip_built_uwsgi_loads_no_plugin():
    record = {
        **stand_in.RECORD,
        "pip_vassals_dirs": {"3.13": "/etc/uwsgi/vassals-pip313"},
        "pip_binaries": {"3.13": "/opt/uwsgi/3.13/bin/uwsgi"},
    }
    planned = plan(app_uwsgi_method="pip", record=record)
    options = dict(ini(planned["vassal"]["text"]))
    assert "plugin" not in options and "plugins-dir" not in options
    assert planned["uwsgi_binary"] == "/opt/uwsgi/3.13/bin/uwsgi"
    assert planned["paths"]["config"] == "/etc/uwsgi/vassals-pip313/hello.ini"
    assert app_plan.help_request(
        stand_in.settings("app", app_name="x", app_uwsgi_method="pip")[0], record
    ) == (
        "/opt/uwsgi/3.13/bin/uwsgi",
        "",
        [],
    )


def test_the_plugin_is_the_one_recorded_for_the_python():
    # What the uwsgi role recorded decides (a record that lies gives pitfall 003 at run time).
    record = {**stand_in.RECORD, "plugins": {"3.13": "python313-custom"}}
    options = ini(plan(record=record)["vassal"]["text"])
    assert ("plugin", "python313-custom") in options


def test_release_names_code_python_and_packages_not_configuration():
    base = plan()["release"]["id"]
    assert plan(app_env={"A": "1"}, app_harakiri=20)["release"]["id"] == base
    assert plan(app_pip_packages=["flask==3.1.3"])["release"]["id"] != base
    assert plan(source="other code")["release"]["id"] != base
    assert plan()["release"]["dir"] == f"/srv/hello/releases/{base}"


def test_generation_follows_the_options():
    assert plan()["vassal"]["generation"] == plan()["vassal"]["generation"]
    assert plan(app_harakiri=20)["vassal"]["generation"] != plan()["vassal"]["generation"]
    title = dict(ini(plan()["vassal"]["text"]))["procname-prefix-spaced"]
    assert title == f"hello {plan()['vassal']['generation']}"


def test_staggered_recycling_only_where_uwsgi_knows_it():
    known = [*stand_in.UWSGI_OPTIONS, "max-requests-delta", "max-worker-lifetime-delta"]
    without = dict(ini(plan(app_max_requests=1000)["vassal"]["text"]))
    assert "max-requests-delta" not in without
    with_delta = dict(
        ini(plan(app_max_requests=1000, host={"uwsgi_options": known})["vassal"]["text"])
    )
    assert (with_delta["max-requests-delta"], with_delta["max-worker-lifetime-delta"]) == (
        "100",
        "60",
    )


@pytest.mark.parametrize(("python", "present"), [("3.11", True), ("3.13", False), ("3.14", False)])
def test_py_call_osafterfork_only_before_python_3_13(python, present):
    record = {
        **stand_in.RECORD,
        "plugins": {python: "python" + python.replace(".", "")},
        "interpreters": {python: f"/usr/bin/python{python}"},
    }
    options = dict(
        ini(
            plan(app_python_version=python, record=record, host={"pythons": [python]})["vassal"][
                "text"
            ]
        )
    )
    assert ("py-call-osafterfork" in options) is present


def test_a_misspelt_option_names_the_binary_and_the_fix():
    errors = stand_in.app(app_uwsgi_options={"procesess": 4})["errors"]
    assert errors == [
        "'procesess' is not an option of this uWSGI (/usr/bin/uwsgi-core --help does not list it):"
        " check its spelling in app_uwsgi_options, or load the plugin that provides it."
    ]


@pytest.mark.parametrize(
    ("settings", "named"),
    [
        # Neither an env line (line break) nor an envdir file (ends in whitespace) carries it.
        ({"app_env": {"A": "one\nsocket = 0.0.0.0:1717 "}}, "app_env A"),
        (
            {"app_uwsgi_options": {"procname-append": "x\nsocket = 0.0.0.0:1717"}},
            "app_uwsgi_options",
        ),
        (
            {**SYSTEMD, "app_systemd_options": {"Environment": "A=1\nUser=root"}},
            "app_systemd_options",
        ),
    ],
)
def test_a_line_break_that_cannot_be_carried_is_refused_naming_the_variable(settings, named):
    errors = stand_in.app(**settings)["errors"]
    assert len(errors) == 1 and named in errors[0] and "line break" in errors[0], errors


HOSTILE = {
    "PERCENT": "p%40ss%2Fw0rd",
    "DOUBLE": "%%",
    "PLACEHOLDER": "%(x)",
    "MAGIC": "%d%n%k",
    "ENV": "$(HOME)",
    "FILE": "@(/etc/hostname)",
    "COMMENTS": "; not a comment # nor this",
    "QUOTES": "'single' \"double\"",
    "BACKSLASH": "C:\\path\\",
    "SPACES": "  both ends  ",
    "EQUALS": "a=b=c",
    "UNICODE": "Grüße ✓",
    "EMPTY": "",
    "LINES": "one\ntwo",
}


def test_hostile_environment_values_reach_the_app_as_they_are():
    planned = plan(app_env=HOSTILE)
    lines = dict(
        line.split("=", 1) for _key, line in ini(planned["vassal"]["text"]) if _key == "env"
    )
    files = planned["envdir"]["files"]
    # An env line for what an ini line can carry exactly, an envdir file for the rest.
    assert set(lines) | set(files) == set(HOSTILE) and not set(lines) & set(files)
    assert files == {"PLACEHOLDER": "%(x)", "LINES": "one\ntwo"}
    assert planned["envdir"]["path"].startswith("/etc/uwsgi/env/hello/")
    assert ("envdir", planned["envdir"]["path"]) in ini(planned["vassal"]["text"])
    assert lines["PERCENT"] == "p%%40ss%%2Fw0rd"
    assert lines["SPACES"] == "  both ends  %(= =)"


def test_no_envdir_when_env_lines_carry_everything():
    planned = plan(app_env={"A": "plain"})
    assert planned["envdir"]["path"] == "" and planned["envdir"]["files"] == {}
    assert "envdir" not in dict(ini(planned["vassal"]["text"]))


def test_a_changed_envdir_value_is_a_new_generation():
    first = plan(app_env={"A": "%(x)"})
    second = plan(app_env={"A": "%(y)"})
    assert first["vassal"]["generation"] != second["vassal"]["generation"]
    assert first["envdir"]["path"] != second["envdir"]["path"]


def processes(host=None, host_apps=1, **overrides):
    planned = stand_in.app(host=host, host_apps=host_apps, **overrides)
    assert planned["errors"] == [], planned["errors"]
    return dict(ini(planned["plan"]["vassal"]["text"]))["processes"]


@pytest.mark.parametrize(
    ("cpus", "memory_mb", "host_apps", "memory_per_process", "expected"),
    [
        (2, 4096, 1, 48, "4"),  # two per CPU: memory is plenty
        (8, 4096, 1, 48, "16"),
        (2, 1024, 1, 48, "4"),  # a t3.micro with one small app
        (2, 1024, 3, 48, "2"),  # with three: 170 MB each, 3 processes fit
        (2, 1024, 8, 48, "1"),  # eight of them: 64 MB each, master and one worker
        (16, 1024, 1, 48, "9"),  # many CPUs, little memory: 512 MB hold 10 processes, master too
        (2, 1024, 3, 200, "1"),  # larger apps: at least one worker, whatever the memory says
        (4, 2048, 2, 100, "4"),  # 512 MB each: 5 processes fit, 8 would run
    ],
)
def test_workers_two_per_cpu_as_far_as_the_memory_holds(
    cpus, memory_mb, host_apps, memory_per_process, expected
):
    host = {"cpus": cpus, "memory_mb": memory_mb}
    assert processes(host, host_apps, app_process_memory_mb=memory_per_process) == expected


def test_workers_given_are_kept_and_an_unread_host_leaves_uwsgi_to_count_cpus():
    assert processes(app_processes=3) == "3"
    assert processes({"cpus": 16, "memory_mb": 256}, 8, app_processes=3) == "3"
    assert processes({"cpus": None, "memory_mb": None}) == "%k"


def test_the_health_check_asks_for_a_name_the_site_answers_to():
    assert plan()["health"] == {
        "path": "/",
        "timeout": 60,
        "host": "localhost",
        "url": "http://127.0.0.1:80/",
        "status": list(range(200, 400)),
        # A probe queued behind an instance's requests waits as long as nginx would (harakiri + 5).
        "drain_timeout": 35,
    }
    # Names that are all wildcards leave the Host to the user, whose app may check it (Django).
    checked = plan(app_server_names=["*.example.org"], app_health_host="www.example.org")
    assert checked["health"]["host"] == "www.example.org"
    assert plan(app_health_status=[200, 401])["health"]["status"] == [200, 401]
    wild = plan(app_server_names=["*.example.org", "shop.example.org"], app_http_listen=["8080"])
    assert (wild["health"]["host"], wild["health"]["url"]) == (
        "shop.example.org",
        "http://127.0.0.1:8080/",
    )


def test_before_the_uwsgi_role_ran_its_settings_stand_in():
    checked, _errors = stand_in.settings("app", app_name="hello", app_src_dir=stand_in.HELLO)
    planned = app_plan.make_plan(
        checked,
        record={},
        uwsgi_settings={"run_dir": "/run/apps", "python_versions": ["3.13"]},
        host={**stand_in.HOST, "uwsgi_options": None},
        controller={"src_dir_is_dir": True, "module_found": True},
        platform=stand_in.PLATFORM,
    )
    assert planned["errors"] == []
    assert planned["plan"]["paths"]["socket"] == "/run/apps/hello/hello.sock"
    assert app_plan.help_request(checked, {}) is None


def test_the_plan_is_plain_data():
    planned = plan(**TCP)
    assert json.loads(json.dumps(planned)) == planned
    assert planned["release"]["pip_environment"] == {}
    assert plan(app_pip_ca_bundle="/etc/ca.pem")["release"]["pip_environment"] == {
        "PIP_CERT": "/etc/ca.pem"
    }


# --- Entry points, release phases, shared data, workers and jobs ------------------------------


@pytest.mark.parametrize(
    "settings",
    [
        # The requirements (hello has requirements.txt) may install it.
        {"app_wsgi_module": "shop.wsgi"},
        # The project itself, of the src layout.
        {"app_wsgi_module": "shop.wsgi", "app_requirements_file": "", "app_project_install": True},
        {"app_wsgi_module": "shop.wsgi", "app_requirements_file": "", "app_pip_packages": ["x"]},
        # The standard library's.
        {
            "app_wsgi_module": "wsgiref.simple_server",
            "app_wsgi_callable": "demo_app",
            "app_requirements_file": "",
        },
    ],
    ids=["requirements", "project", "packages", "stdlib"],
)
def test_a_module_not_in_the_code_is_left_to_the_import_in_the_release(settings):
    assert stand_in.app(**settings)["errors"] == []


def test_the_vassal_loads_a_factory_as_written():
    options = dict(ini(plan(app_wsgi_callable="create_app()")["vassal"]["text"]))
    assert options["module"] == "wsgi:create_app()"
    assert plan(app_wsgi_callable="create_app()")["phases"]["entry_point"]["callable"] == (
        "create_app()"
    )


def test_a_flat_list_of_words_is_taken_for_one_command_written_wrong():
    errors = stand_in.app(app_build_commands=["python", "manage.py", "collectstatic"])["errors"]
    assert "write [[python, manage.py, collectstatic]] for one command" in errors[0]


def test_the_release_name_is_unchanged_for_apps_without_the_new_settings():
    # A collection upgrade must not rebuild and redeploy every app.
    planned = plan()
    checked = stand_in.settings("app", app_name="hello", app_src_dir=stand_in.HELLO)[0]
    before = app_plan._digest(
        [
            "stand-in",
            "3.13",
            checked["app_uwsgi_method"],
            checked["app_requirements_file"],
            checked["app_pip_packages"],
            checked["app_src_exclude"],
        ],
        12,
    )
    assert planned["release"]["id"] == before
    assert plan(app_project_install=True)["release"]["id"] != before
    assert plan(app_build_commands=[["true"]])["release"]["id"] != before
    assert plan(app_shared_paths=[{"path": "instance"}])["release"]["id"] != before
    # Release commands and workers act on a release; they do not make one.
    assert plan(app_release_commands=[["true"]], app_workers=[WORKER])["release"]["id"] == before


WORKER = {"name": "queue", "command": ["rq", "worker", "--url", "$REDIS"], "count": 2}


def test_phases_run_as_the_app_in_its_sandbox_writing_only_what_they_may():
    planned = plan(
        app_build_commands=[["python", "manage.py", "collectstatic", "--noinput"]],
        app_release_commands=[
            {"command": ["flask", "--app", "flaskr", "init-db"], "creates": "instance/db"}
        ],
        app_command_timeout=120,
    )
    phases, release = planned["phases"], planned["release"]
    assert phases["chdir"] == release["code"]
    assert phases["env"]["PATH"].startswith(f"{release['venv']}/bin:")
    assert phases["environment_file"] == planned["environment"]["file"]
    assert re.fullmatch(r"/etc/uwsgi/env/hello\.[0-9a-f]{12}\.env", phases["environment_file"])
    assert phases["timeout"] == 120
    assert phases["release"]["commands"] == [
        {"command": ["flask", "--app", "flaskr", "init-db"], "creates": "instance/db"}
    ]
    assert phases["build"]["commands"][0]["creates"] == ""
    build, run = phases["build"]["sandbox"], phases["release"]["sandbox"]
    assert build["ReadWritePaths"] == [release["code"], "/var/lib/hello"]
    assert run["ReadWritePaths"] == ["/var/lib/hello"]
    for sandbox in (build, run, phases["entry_point"]["sandbox"]):
        assert (sandbox["User"], sandbox["Group"]) == ("hello", "hello")
        assert sandbox["ProtectSystem"] == "strict" and sandbox["NoNewPrivileges"] is True
        assert sandbox["RemoveIPC"] is False
        assert "ExecStart" not in sandbox and "Type" not in sandbox


def test_the_app_sandbox_settings_shape_the_commands_whatever_the_supervisor():
    planned = plan(
        app_systemd_outbound_network=False,
        app_systemd_options={"ReadWritePaths": ["/var/lib/hello", "/var/cache/hello"]},
    )
    sandbox = planned["phases"]["release"]["sandbox"]
    assert sandbox["PrivateNetwork"] is True
    assert sandbox["ReadWritePaths"] == ["/var/lib/hello", "/var/cache/hello"]


def test_workers_and_jobs_are_units_of_the_release_in_the_apps_sandbox():
    planned = plan(app_workers=[WORKER], app_jobs=[JOB])
    workers, release = planned["workers"], planned["release"]
    names = [unit["name"] for unit in workers["units"]]
    assert names == [
        "uwsgi-app-hello.worker-queue@.service",
        "uwsgi-app-hello.job-clearsessions.service",
        "uwsgi-app-hello.job-clearsessions.timer",
    ]
    assert workers["instances"] == [
        "uwsgi-app-hello.worker-queue@1.service",
        "uwsgi-app-hello.worker-queue@2.service",
    ]
    assert workers["timers"] == ["uwsgi-app-hello.job-clearsessions.timer"]
    assert workers["patterns"] == ["uwsgi-app-hello.worker-*", "uwsgi-app-hello.job-*"]
    worker, job, timer = (unit["text"] for unit in workers["units"])
    assert 'ExecStart="/usr/bin/env" "--" "rq" "worker" "--url" "$$REDIS"\n' in worker
    assert f"WorkingDirectory={release['code']}\n" in worker
    assert f'Environment="PATH={release["venv"]}/bin:' in worker
    assert f"EnvironmentFile={planned['environment']['file']}\n" in worker
    assert "User=hello\nGroup=hello\n" in worker and "RemoveIPC=no\n" in worker
    assert "Type=exec\n" in worker and "Restart=always\n" in worker
    assert "WantedBy=multi-user.target" in worker
    assert "Type=oneshot\n" in job and "TimeoutStartSec=900\n" in job and "[Install]" not in job
    assert "OnCalendar=daily\n" in timer and "Persistent=yes\n" in timer
    assert "Unit=uwsgi-app-hello.job-clearsessions.service\n" in timer
    # Nothing of uWSGI's own unit leaks into them.
    for text in (worker, job):
        assert "ExecReload" not in text and "RuntimeDirectory" not in text
        assert "/run/uwsgi/hello" not in text


def test_no_workers_no_units_but_still_the_patterns_to_clean_up():
    workers = plan()["workers"]
    assert (workers["units"], workers["instances"], workers["timers"]) == ([], [], [])
    assert workers["patterns"]


def test_the_environment_file_carries_app_env_byte_for_byte():
    env = {"DATABASE_URL": "postgres://u:p%40ss@db/x", "QUOTE": 'a "b" $c \\'}
    environment = plan(app_env=env)["environment"]
    # Named after its content: a worker restarting after a failed deploy reads its own release's.
    assert environment["file"] != plan(app_env={**env, "QUOTE": "other"})["environment"]["file"]
    assert environment["file"].startswith("/etc/uwsgi/env/hello.")
    assert env_file.parse(environment["text"]) == env


def test_a_nul_in_app_env_is_refused_naming_it():
    errors = stand_in.app(app_env={"A": "x\x00y"})["errors"]
    assert len(errors) == 1, errors
    assert errors[0].startswith("app_env A cannot reach") and "NUL" in errors[0]


def directories_of(planned):
    return {item["path"]: (item["owner"], item["group"], item["mode"]) for item in planned}


def test_shared_data_is_the_apps_alone_and_nginx_reads_what_it_serves():
    planned = plan(
        app_shared_paths=[
            {"path": "instance"},
            {"path": "public/media", "url": "/media/"},
        ]
    )
    found = directories_of(planned["directories"])
    assert found["/var/lib/hello"] == ("hello", "www-data", "0710")
    assert found["/var/lib/hello/shared"] == ("hello", "www-data", "0710")
    assert found["/var/lib/hello/shared/instance"] == ("hello", "hello", "0750")
    assert found["/var/lib/hello/shared/public"] == ("hello", "www-data", "0710")
    assert found["/var/lib/hello/shared/public/media"] == ("hello", "www-data", "2750")
    code = planned["release"]["code"]
    assert planned["shared"]["paths"][1] == {
        "path": "public/media",
        "link": f"{code}/public/media",
        "parent": f"{code}/public",
        "target": "/var/lib/hello/shared/public/media",
    }
    assert planned["nginx_site"]["nginx_site_locations"] == [
        {"url": "/media/", "dir": "/var/lib/hello/shared/public/media", "internal": False}
    ]


def test_a_private_shared_path_is_served_to_x_accel_redirect_and_read_by_nginx_alone():
    planned = plan(app_shared_paths=[{"path": "private", "url": "/protected/", "internal": True}])
    found = directories_of(planned["directories"])
    # As a public url: nginx's group passes through to it and reads it, nobody else.
    assert found["/var/lib/hello"] == ("hello", "www-data", "0710")
    assert found["/var/lib/hello/shared"] == ("hello", "www-data", "0710")
    assert found["/var/lib/hello/shared/private"] == ("hello", "www-data", "2750")
    assert planned["nginx_site"]["nginx_site_locations"] == [
        {"url": "/protected/", "dir": "/var/lib/hello/shared/private", "internal": True}
    ]


@pytest.mark.parametrize(
    ("paths", "static_url", "refused"),
    [
        # Nested either way, with the static url or another shared one.
        ([{"path": "p", "url": "/static/p/", "internal": True}], "/static/", "'/static/p/'"),
        ([{"path": "p", "url": "/s/", "internal": True}], "/s/css/", "'/s/' and '/s/css/'"),
        (
            [{"path": "p", "url": "/files/", "internal": True}, {"path": "m", "url": "/files/m/"}],
            "",
            "'/files/' and '/files/m/'",
        ),
    ],
)
def test_an_internal_url_inside_another_or_holding_one_is_refused(paths, static_url, refused):
    errors = stand_in.app(app_shared_paths=paths, app_static_url=static_url)["errors"]
    assert len(errors) == 1, errors
    assert errors[0].startswith("app_shared_paths internal urls") and refused in errors[0]


def test_public_urls_may_still_nest():
    # Longest prefix wins in nginx: a public url inside another public one serves as it did.
    paths = [{"path": "m", "url": "/media/"}, {"path": "t", "url": "/media/thumbs/"}]
    assert stand_in.app(app_shared_paths=paths)["errors"] == []


def test_internal_without_a_url_is_refused_naming_the_path_and_the_fix():
    errors = stand_in.app(app_shared_paths=[{"path": "private", "internal": True}])["errors"]
    assert errors == [
        "app_shared_paths internal serves a url to the app's X-Accel-Redirect only, and 'private'"
        " has none: give it a url such as /protected/, or drop internal."
    ]


def test_shared_data_not_served_keeps_the_state_directory_the_apps_alone():
    found = directories_of(plan(app_shared_paths=[{"path": "instance"}])["directories"])
    assert found["/var/lib/hello"] == ("hello", "hello", "0750")
    assert found["/var/lib/hello/shared"] == ("hello", "hello", "0750")
    assert directories_of(plan()["directories"])["/var/lib/hello"] == ("hello", "hello", "0750")
    assert plan()["nginx_site"]["nginx_site_locations"] == []


def test_a_calendar_in_the_past_is_refused():
    errors = stand_in.app(
        app_jobs=[{**JOB, "calendar": "2001-01-01"}],
        host={"calendars": {"2001-01-01": {**CALENDAR_DAILY, "next": "never"}}},
    )["errors"]
    assert "never elapses" in errors[0]


def _resolved(host=None, **overrides):
    """(app, controller readings) for stand_in's app with OVERRIDES, as make_plan sees them."""
    overrides = {"app_name": "hello", "app_src_dir": stand_in.HELLO, **overrides}
    checked, errors = stand_in.settings("app", **overrides)
    assert errors == []
    controller, _digest = app_source.controller_readings(checked, str(stand_in.ROOT / "playbooks"))
    app = app_plan._App(
        checked,
        record=stand_in.RECORD,
        uwsgi_settings={},
        host={**stand_in.HOST, **(host or {})},
        platform=stand_in.PLATFORM,
        source="x",
        playbook_dir=controller["playbook_dir"],
    )
    return app, controller


def test_the_source_names_its_rules_as_this_table_does():
    # Two yield no message for the defaults, so they have no row here; their cases are in
    # test_tls.py and test_a_line_break_that_cannot_be_carried_is_refused_naming_the_variable.
    assert set(rules.RULES) - set(RULES) == {"site TLS", "env values carried"}
    assert set(RULES) <= set(rules.RULES)


@pytest.mark.parametrize("rule", RULES)
def test_the_rule_of_that_name_refuses_its_bad_case_and_takes_its_good_one(rule):
    named, bad, good, *hosts = RULES[rule]
    app, controller = _resolved(hosts[0] if hosts else None, **bad)
    assert any(named in message for ok, message in rules.RULES[rule](app, controller) if not ok)
    app, controller = _resolved(hosts[1] if hosts else None, **good)
    assert all(ok for ok, _message in rules.RULES[rule](app, controller))


def test_the_rules_that_yield_none_or_several():
    def said(rule, **overrides):
        app, controller = _resolved(**overrides)
        return [*rules.RULES[rule](app, controller)]

    carried = said("env values carried", app_env={"A": "one\nx ", "B": "two\ny ", "C": "ok"})
    assert [message.split(" cannot")[0] for ok, message in carried if not ok] == [
        "app_env A",
        "app_env B",
    ]
    assert said("env values carried") == []
    assert said("site TLS") == []
    tls_checks = said("site TLS", app_tls="self_signed", app_server_names=["shop.example.org"])
    assert tls_checks and all(ok for ok, _message in tls_checks)
    assert said("state directory", app_state_dir="") == []
    assert set(rules.VARIABLE) == {"state directory", "site TLS", "env values carried"}
