"""Scenario real_apps: real apps served, their data kept, their phases, workers and jobs.

The tests run in order: the first ones look at the converged host, the later ones redeploy (a code
change, a failing migration, wrong entry points, workers and jobs taken out, a hashed asset across
a switch) through site.yml with extra vars that replace uwsgi_apps by the apps they change.
"""

from __future__ import annotations

import importlib.util
import json
import os
import re
import shlex
import time
from pathlib import Path

import pytest
from pyops_verify import ROOT, ansible_playbook, http, scenario_apps, wait_until

SCENARIO = Path(os.environ["MOLECULE_SCENARIO_DIRECTORY"])
BUILD = ROOT / "build" / "real_apps"
SITE = ROOT / "playbooks" / "site.yml"
AWKWARD = 'a "quoted" $HOME ${HOME} %d \\ value'
JAR = "/root/flaskr.cookies"

_spec = importlib.util.spec_from_file_location("make_apps", SCENARIO / "make_apps.py")
make_apps = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(make_apps)


def app_item(name, **changes):
    """The scenario's uwsgi_apps item NAME, with CHANGES."""
    [item] = [item for item in scenario_apps() if item["app_name"] == name]
    return {**item, **changes}


def deploy(host, *items):
    """Deploy ITEMS (uwsgi_apps items) alone; (return code, output on one line)."""
    result = ansible_playbook(
        SITE, host.backend.get_hostname(), {"uwsgi_apps": list(items)}, tags=["app"], timeout=900
    )
    return result.returncode, " ".join((result.stdout + result.stderr).split())


def curl(host, *args):
    """(status, body) of curl ARGS to nginx on the instance's loopback."""
    quoted = " ".join(shlex.quote(arg) for arg in args)
    out = host.run(f"curl -sS --max-time 15 -w '\\n%{{http_code}}' {quoted}")
    body, _newline, status = out.stdout.rpartition("\n")
    return int(status or 0), body


def current(host, app):
    """The release APP serves, by name."""
    return Path(host.check_output(f"readlink /srv/{app}/current")).name


def serving(host, app):
    """The directory of the release APP serves."""
    return f"/srv/{app}/releases/{current(host, app)}"


def as_app(host, app, command, env=""):
    """Run COMMAND (a shell line) as APP in its release's code with its environment file."""
    code = f"/srv/{app}/current/code"
    return host.run(
        f"systemd-run --wait --pipe --quiet --collect -p User={app} -p Group={app}"
        f" -p EnvironmentFile=$(ls /etc/uwsgi/env/{app}.*.env) {env}"
        f" --working-directory=$(readlink -f {code})"
        f" --setenv=PATH=$(readlink -f /srv/{app}/current/venv)/bin:/usr/bin:/bin"
        f" -- /bin/sh -c {shlex.quote(command)}"
    )


def journal(host, unit, since="-10min"):
    return host.run(f"journalctl -u {unit} --since={since} -o cat --no-pager").stdout


# --- flaskr: Flask's tutorial as it ships ----------------------------------------------------


def test_flaskr_is_served_from_its_factory(host):
    vassal = host.file("/etc/uwsgi/vassals/flaskr.ini").content_string
    assert "module = flaskr:create_app()\n" in vassal
    status, body = http(host, "/", "flaskr.test")
    assert status == 200 and "<title>Posts - Flaskr</title>" in body, body[:500]
    status, css = http(host, "/static/style.css", "flaskr.test")
    assert status == 200 and "font-family" in css
    # nginx serves it from the release, not the app.
    assert (
        "/srv/flaskr/current/code/flaskr/static/"
        in host.file("/etc/nginx/sites-available/flaskr.conf").content_string
    )


def test_flaskr_register_log_in_and_post_through_nginx(host):
    host.run(f"rm -f {JAR}")
    form = ["-H", "Host: flaskr.test", "-b", JAR, "-c", JAR]
    base = "http://127.0.0.1"
    login = ["-d", "username=ada&password=lovelace"]
    assert curl(host, *form, *login, f"{base}/auth/register")[0] == 302
    assert curl(host, *form, *login, f"{base}/auth/login")[0] == 302
    post = ["-d", "title=Kept across releases&body=written through nginx"]
    assert curl(host, *form, *post, f"{base}/create")[0] == 302
    status, body = curl(host, *form, f"{base}/")
    assert status == 200
    assert "Kept across releases" in body and "written through nginx" in body and "ada" in body


def test_flaskr_instance_folder_is_shared_and_the_apps_alone(host):
    code = f"{serving(host, 'flaskr')}/code"
    assert host.file(f"{code}/instance").linked_to == "/var/lib/flaskr/shared/instance"
    database = host.file("/var/lib/flaskr/shared/instance/flaskr.sqlite")
    assert database.exists and database.user == "flaskr"
    shared = host.file("/var/lib/flaskr/shared/instance")
    assert (shared.user, shared.group, shared.mode) == ("flaskr", "flaskr", 0o750)
    assert host.run("runuser -u www-data -- ls /var/lib/flaskr/shared/instance").rc != 0
    # The code is root's, read-only to the app.
    assert host.run(f"runuser -u flaskr -- touch {code}/flaskr/x").rc != 0


# --- mysite: a Django project from startproject ----------------------------------------------


def test_django_admin_css_is_served_by_nginx(host):
    status, css = http(host, "/static/admin/css/base.css", "mysite.test")
    assert status == 200 and "--primary" in css
    # Collected by the build command into the release, locked read-only since.
    static = host.file(f"{serving(host, 'mysite')}/code/staticfiles/admin/css/base.css")
    assert (static.user, static.mode) == ("root", 0o644)


def admin_login(host, username, password):
    """(status, body) of a login to Django's admin through nginx, with its CSRF token."""
    jar = "/root/mysite.cookies"
    host.run(f"rm -f {jar}")
    common = ["-H", "Host: mysite.test", "-b", jar, "-c", jar]
    status, page = curl(host, *common, "http://127.0.0.1/admin/login/")
    assert status == 200, page[:300]
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page).group(1)
    return curl(
        host,
        *common,
        "--data-urlencode",
        f"csrfmiddlewaretoken={token}",
        "--data-urlencode",
        f"username={username}",
        "--data-urlencode",
        f"password={password}",
        "--data-urlencode",
        "next=/admin/",
        "http://127.0.0.1/admin/login/?next=/admin/",
    )


def test_a_failed_admin_login_is_answered_from_the_database(host):
    status, body = admin_login(host, "nobody", "wrong")
    assert status == 200
    assert "Please enter the correct username and password for a staff account" in body


def test_a_django_user_logs_in(host):
    made = as_app(
        host,
        "mysite",
        "python manage.py createsuperuser --noinput --username grace --email g@example.org",
        env="--setenv=DJANGO_SUPERUSER_PASSWORD=hopper-1906",
    )
    assert made.rc == 0, made.stdout + made.stderr
    status, _body = admin_login(host, "grace", "hopper-1906")
    assert status == 302


def test_media_is_shared_and_nginx_may_read_it_and_nothing_more(host):
    answer = json.loads(http(host, "/jobs/upload/?name=note-1.txt&text=uploaded", "mysite.test")[1])
    status, body = http(host, answer["url"], "mysite.test")
    assert (status, body) == (200, "uploaded")
    media = host.file("/var/lib/mysite/shared/media")
    assert (media.user, media.group, media.mode) == ("mysite", "www-data", 0o2750)
    note = host.file(f"/var/lib/mysite/shared/media/{Path(answer['url']).name}")
    # Readable by nginx's group, writable by the app alone.
    assert (note.user, note.group) == ("mysite", "www-data") and not note.mode & 0o022
    assert host.run("runuser -u www-data -- touch /var/lib/mysite/shared/media/x").rc != 0
    # The database and the queue stay the app's alone.
    assert host.run("runuser -u www-data -- ls /var/lib/mysite/shared/var").rc != 0
    assert host.run("runuser -u nobody -- ls /var/lib/mysite/shared/media").rc != 0


def enqueue_and_wait(host, text):
    job = json.loads(http(host, f"/jobs/enqueue/?text={text}", "mysite.test")[1])["job"]
    found = []

    def done():
        status, body = http(host, f"/jobs/done/{job}/", "mysite.test")
        found[:] = [body]
        return status == 200

    wait_until(done, 30, f"job {job} done")
    return found[0]


def test_two_workers_consume_what_the_app_enqueues(host):
    for number in (1, 2):
        unit = host.service(f"uwsgi-app-mysite.worker-queue@{number}.service")
        assert unit.is_running and unit.is_enabled
    assert enqueue_and_wait(host, "first") == "v1 first"
    shown = host.check_output(
        "systemctl show -p User,ProtectSystem,NoNewPrivileges,RemoveIPC,WorkingDirectory"
        " uwsgi-app-mysite.worker-queue@1.service"
    )
    assert "User=mysite" in shown and "ProtectSystem=strict" in shown
    assert "NoNewPrivileges=yes" in shown and "RemoveIPC=no" in shown
    assert f"WorkingDirectory={serving(host, 'mysite')}/code" in shown
    # As hardened as the app's own unit, RemoveIPC=no aside (systemd-analyze: 1.3 and 1.2 here).
    assert exposure(host, "uwsgi-app-mysite.worker-queue@1.service") <= (
        exposure(host, "uwsgi-app-mysite.service") + 0.2
    )


def exposure(host, unit):
    """systemd-analyze security's overall exposure of UNIT (0 safe .. 10 unsafe)."""
    out = host.check_output(f"systemd-analyze security --no-pager {unit} | tail -n 1")
    return float(re.search(r"exposure level for \S+: ([0-9.]+)", out).group(1))


def wait_for_tick(host, version, since):
    def ticked():
        return f"tick {version} {AWKWARD!r}" in journal(
            host, "uwsgi-app-mysite.job-tick.service", since
        )

    wait_until(ticked, 40, f"a tick of {version} in the journal")


def test_the_timer_fires_and_its_run_is_in_the_journal(host):
    assert host.service("uwsgi-app-mysite.job-tick.timer").is_running
    since = host.check_output("date +@%s")
    # The environment file carried app_env byte for byte.
    wait_for_tick(host, "v1", since)


def test_srcapp_is_installed_from_the_src_layout(host):
    assert http(host, "/", "srcapp.test") == (200, "Hello from srcapp 1.0\n")
    release = serving(host, "srcapp")
    assert not host.file(f"{release}/code/srcapp").exists
    found = host.run(f"ls {release}/venv/lib/python3.*/site-packages/srcapp/wsgi.py")
    assert found.rc == 0, found.stderr


# --- redeploys -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("changes", "expected"),
    [
        (
            {"app_wsgi_callable": "make_app"},
            "make_app is an application factory: write app_wsgi_callable: make_app()",
        ),
        (
            {"app_wsgi_callable": "application()"},
            "application is a WSGI application, not an application factory",
        ),
        (
            {"app_wsgi_module": "srcap.wsgi"},
            "Pitfall 1a (Wrong entry point): app_wsgi_module 'srcap.wsgi' cannot be imported",
        ),
    ],
    ids=["factory-without-call", "app-called", "module-missing"],
)
def test_a_wrong_entry_point_is_named_before_the_switch(host, changes, expected):
    before = current(host, "srcapp"), host.file("/etc/uwsgi/vassals/srcapp.ini").content_string
    rc, output = deploy(host, app_item("srcapp", **changes))
    assert rc != 0
    assert expected in output, output[-3000:]
    assert f"and release {before[0]} still serves" in output
    assert (current(host, "srcapp"), host.file("/etc/uwsgi/vassals/srcapp.ini").content_string) == (
        before
    )
    assert http(host, "/", "srcapp.test")[0] == 200


def flaskr_v2():
    base = make_apps.flaskr(BUILD)
    template = (base / "flaskr" / "templates" / "base.html").read_text()
    return make_apps.variant(
        base,
        BUILD / "flaskr-v2",
        {"flaskr/templates/base.html": template + '<footer id="pyops">flaskr v2</footer>\n'},
    )


def mysite_variant(name, **files):
    return make_apps.variant(make_apps.mysite(BUILD), BUILD / name, files)


def test_a_redeploy_with_new_code_keeps_the_post_and_the_users(host):
    before = current(host, "flaskr"), current(host, "mysite")
    since = host.check_output("date +@%s")
    rc, output = deploy(
        host,
        app_item("flaskr", app_src_dir=str(flaskr_v2())),
        app_item(
            "mysite",
            app_src_dir=str(mysite_variant("mysite-v2", **{"jobs/version.py": 'VERSION = "v2"\n'})),
        ),
    )
    assert rc == 0, output[-3000:]
    assert (current(host, "flaskr"), current(host, "mysite")) != before
    status, body = curl(host, "-H", "Host: flaskr.test", "-b", JAR, "http://127.0.0.1/")
    assert status == 200 and "flaskr v2" in body and "Kept across releases" in body
    # init-db did not run again: the post is still there (above), and no second initialisation.
    assert admin_login(host, "grace", "hopper-1906")[0] == 302
    assert http(host, "/jobs/version/", "mysite.test") == (200, "v2")
    # The workers were restarted with the new code.
    assert enqueue_and_wait(host, "second") == "v2 second"
    assert "worker v2 consuming" in journal(host, "uwsgi-app-mysite.worker-queue@2.service", since)
    wait_for_tick(host, "v2", since)


def test_a_failing_migration_leaves_the_previous_release_serving(host):
    before = current(host, "mysite")
    migration = (
        "from django.db import migrations\n\n\n"
        "def fail(apps, schema_editor):\n"
        "    raise RuntimeError('this migration fails on purpose')\n\n\n"
        "class Migration(migrations.Migration):\n"
        "    operations = [migrations.RunPython(fail)]\n"
    )
    broken = mysite_variant(
        "mysite-v3",
        **{
            "jobs/version.py": 'VERSION = "v3"\n',
            "jobs/migrations/__init__.py": "",
            "jobs/migrations/0001_fails.py": migration,
        },
    )
    rc, output = deploy(host, app_item("mysite", app_src_dir=str(broken)))
    assert rc != 0
    assert "mysite: release command 1 `python manage.py migrate --noinput` failed" in output
    assert "RuntimeError: this migration fails on purpose" in output
    assert f"and release {before} still serves" in output
    assert current(host, "mysite") == before
    assert http(host, "/jobs/version/", "mysite.test") == (200, "v2")
    assert enqueue_and_wait(host, "third") == "v2 third"


def test_workers_and_jobs_taken_out_are_stopped_and_removed(host):
    v2 = str(BUILD / "mysite-v2")
    queue = {"name": "queue", "command": ["python", "manage.py", "work"], "count": 1}
    rc, output = deploy(host, app_item("mysite", app_src_dir=v2, app_workers=[queue], app_jobs=[]))
    assert rc == 0, output[-3000:]
    assert host.service("uwsgi-app-mysite.worker-queue@1.service").is_running
    assert not host.service("uwsgi-app-mysite.worker-queue@2.service").is_running
    assert not host.service("uwsgi-app-mysite.worker-queue@2.service").is_enabled
    assert not host.file("/etc/systemd/system/uwsgi-app-mysite.job-tick.timer").exists
    assert not host.service("uwsgi-app-mysite.job-tick.timer").is_running
    rc, output = deploy(host, app_item("mysite", app_src_dir=v2, app_workers=[], app_jobs=[]))
    assert rc == 0, output[-3000:]
    assert "changed=" in output
    assert (
        host.run("ls /etc/systemd/system/ | grep -c '^uwsgi-app-mysite\\.'").stdout.strip() == "1"
    )
    time.sleep(1)
    assert not host.service("uwsgi-app-mysite.worker-queue@1.service").is_running
    assert http(host, "/jobs/version/", "mysite.test") == (200, "v2")


# --- assets across a switch (app_static_bridge_time) -------------------------------------------

ASSET = "app.3f9c2a1b7d4e.js"
BRIDGE = "uwsgi-static-bridge-flaskr"


def flaskr_assets(name, files, links=()):
    """flaskr with FILES and symbolic LINKS ((relative path, target), ...) in its code."""
    dest = make_apps.variant(make_apps.flaskr(BUILD), BUILD / name, files)
    for relative, target in links:
        os.symlink(target, dest / relative)
    return dest


def link_gone(host):
    return not host.file("/srv/flaskr/previous").exists


def test_a_hashed_asset_of_the_previous_release_is_served_after_a_switch(host):
    one = flaskr_assets(
        "flaskr-assets-1",
        {f"flaskr/static/{ASSET}": "/* release one */\n", "flaskr/static/gone.js": "/* one */\n"},
        links=[("flaskr/static/evil.3f9c2a1b7d4e.txt", "/etc/passwd")],
    )
    rc, output = deploy(host, app_item("flaskr", app_src_dir=str(one)))
    assert rc == 0, output[-3000:]
    first = current(host, "flaskr")
    two = flaskr_assets("flaskr-assets-2", {"flaskr/static/app.0a1b2c3d4e5f.js": "/* two */\n"})
    rc, output = deploy(host, app_item("flaskr", app_src_dir=str(two)))
    assert rc == 0, output[-3000:]
    assert current(host, "flaskr") != first
    assert host.file("/srv/flaskr/previous").linked_to == f"/srv/flaskr/releases/{first}"
    # A page of release one asks for its asset: served from release one.
    status, body = http(host, f"/static/{ASSET}", "flaskr.test")
    assert status == 200 and "release one" in body
    assert "two" in http(host, "/static/app.0a1b2c3d4e5f.js", "flaskr.test")[1]
    # A plain name the new release lacks answers 404, as before the bridge.
    assert http(host, "/static/gone.js", "flaskr.test")[0] == 404


@pytest.mark.parametrize(
    "path",
    [
        "/static/evil.3f9c2a1b7d4e.txt",  # a symbolic link in the previous release's static files
        "/static/../../../../etc/passwd",
        "/static/%2e%2e/%2e%2e/%2e%2e/etc/passwd",
        "/static/..%2f..%2f..%2f..%2fetc/hostname.3f9c2a1b7d4e.js",
    ],
    ids=["symlink", "dot-dot", "encoded-dot-dot", "encoded-slash"],
)
def test_the_bridge_serves_nothing_outside_the_previous_static_files(host, path):
    status, body = curl(host, "--path-as-is", "-H", "Host: flaskr.test", f"http://127.0.0.1{path}")
    assert status in (400, 403, 404), (status, body[:300])
    assert "root:" not in body


def test_the_bridge_ends_with_its_timer_and_at_boot(host):
    timer = host.run(f"systemctl show -p TimersMonotonic --value {BRIDGE}.timer").stdout
    assert "OnActiveUSec=1h" in timer
    # What the timer runs when the hour is up.
    assert host.run(f"systemctl start {BRIDGE}.service").rc == 0
    wait_until(lambda: link_gone(host), 10, "the bridge's link removed")
    assert http(host, f"/static/{ASSET}", "flaskr.test")[0] == 404
    assert "two" in http(host, "/static/app.0a1b2c3d4e5f.js", "flaskr.test")[1]
    # A boot loses the timer: the app's tmpfiles entry removes a link left over.
    host.run_expect([0], "ln -s $(readlink /srv/flaskr/current) /srv/flaskr/previous")
    host.run_expect([0], "systemd-tmpfiles --remove /etc/tmpfiles.d/uwsgi-app-flaskr.conf")
    assert link_gone(host)
    # The link went, never what it pointed at.
    assert http(host, "/static/app.0a1b2c3d4e5f.js", "flaskr.test")[0] == 200
