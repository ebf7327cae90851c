"""Scenario real_apps: real apps served, their data kept, their phases, workers and jobs.

The tests run in order: the first ones look at the converged host, the later ones redeploy (a code
change, a failing migration, wrong entry points, workers and jobs taken out, a hashed asset across
a switch) through site.yml with extra vars that replace uwsgi_apps by the apps they change; others
roll flaskr back (playbooks/rollback.yml) and converge after it.
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
from pyops_verify import (
    ROOT,
    ansible_playbook,
    finish_load,
    http,
    processes,
    scenario_apps,
    start_load,
    wait_until,
)

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


def generations(host, app):
    """The generations in the process titles of APP's service ("APP GENERATION uWSGI ...")."""
    title = re.compile(rf"{app} ([0-9a-f]{{8}}) uWSGI")
    found = [title.match(args) for _user, args in processes(host, f"{app} ")]
    return {match[1] for match in found if match}


def logged_in(host):
    """Whether flaskr's index, asked with the session cookie of the log in above, offers Log Out."""
    status, body = curl(host, "-H", "Host: flaskr.test", "-b", JAR, "http://127.0.0.1/")
    assert status == 200, body[:500]
    return "Log Out" in body


def test_flaskr_secret_key_changed_in_its_config_file_deploys_without_a_new_release(host):
    config = "/var/lib/flaskr/shared/instance/config.py"
    # One link to the one in use (testinfra's linked_to follows the whole chain: readlink).
    assert (
        host.check_output(f"readlink {config}") == "/srv/flaskr/config/current/instance/config.py"
    )
    written = host.file(host.check_output(f"readlink -f {config}"))
    assert (written.user, written.group, written.mode) == ("root", "flaskr", 0o640)
    assert written.content_string == 'SECRET_KEY = "real-apps-not-secret-flaskr-0123456789abcdef"\n'
    assert logged_in(host)
    release, before = current(host, "flaskr"), generations(host, "flaskr")
    rotated = {"dest": "instance/config.py", "content": 'SECRET_KEY = "rotated-0123456789"\n'}
    rc, output = deploy(host, app_item("flaskr", app_config_files=[rotated]))
    assert rc == 0, output[-3000:]
    assert "rotated-0123456789" not in output
    # The same release, a new generation: the canary bridged the reload, as for any new
    # configuration; the old content's directory is gone.
    assert current(host, "flaskr") == release
    after = generations(host, "flaskr")
    assert len(after) == 1 and after != before
    written = host.file(host.check_output(f"readlink -f {config}"))
    assert written.content_string == rotated["content"]
    assert (written.user, written.group, written.mode) == ("root", "flaskr", 0o640)
    in_use = Path(host.check_output("readlink /srv/flaskr/config/current")).name
    assert sorted(host.check_output("ls /srv/flaskr/config").split()) == sorted(["current", in_use])
    # The session signed with the old key no longer holds.
    assert not logged_in(host)


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


def pyops_run(host, words, env=""):
    """pyops-run WORDS (a shell line) as root, with ENV (NAME=VALUE words) in its environment."""
    return host.run(f"{env} /usr/local/bin/pyops-run {words}")


def test_pyops_run_makes_a_django_superuser_who_logs_in(host):
    # The password reaches the command from pyops-run's environment, by name: on no command line.
    made = pyops_run(
        host,
        "mysite --env DJANGO_SUPERUSER_PASSWORD -- python manage.py createsuperuser --noinput"
        " --username admin --email a@example.org",
        env="DJANGO_SUPERUSER_PASSWORD=lovelace-1815",
    )
    assert made.rc == 0, made.stdout + made.stderr
    status, _body = admin_login(host, "admin", "lovelace-1815")
    assert status == 302


def test_pyops_run_runs_as_the_app_in_the_release_serving_in_its_sandbox(host):
    code = f"{serving(host, 'mysite')}/code"
    ran = pyops_run(host, "mysite -- sh -c 'id -un; pwd; command -v python; echo \"$VIRTUAL_ENV\"'")
    assert ran.rc == 0, ran.stderr
    assert ran.stdout.split() == [
        "mysite",
        code,
        f"{serving(host, 'mysite')}/venv/bin/python",
        f"{serving(host, 'mysite')}/venv",
    ]
    # app_env, byte for byte, and the release's code read-only, as for the release commands.
    assert pyops_run(host, "mysite -- printenv PYOPS_AWKWARD").stdout == AWKWARD + "\n"
    assert pyops_run(host, f"mysite -- touch {code}/x").rc != 0
    # The command's exit status is pyops-run's.
    assert pyops_run(host, "mysite -- sh -c 'exit 3'").rc == 3
    # A name app_env sets keeps app_env's value: refused rather than silently lost.
    taken = pyops_run(host, "mysite -e DJANGO_DEBUG=1 -- true")
    assert taken.rc == 64 and "set by mysite's app_env" in taken.stderr


def test_pyops_run_is_interactive_on_a_terminal(host):
    if host.run("command -v script").rc != 0:
        pytest.skip("script(1) is not on this host")
    # script(1) gives pyops-run a terminal: the command gets one too (systemd-run --pty).
    ran = host.run(
        'script -qec "/usr/local/bin/pyops-run mysite -- python -c'
        " 'import sys; print(sys.stdin.isatty(), sys.stdout.isatty())'\" /dev/null"
    )
    assert ran.rc == 0, ran.stdout + ran.stderr
    assert "True True" in ran.stdout


def test_pyops_run_is_root_s_alone_and_names_what_is_wrong(host):
    record = host.file("/etc/uwsgi/run/mysite.json")
    assert (record.user, record.group, record.mode) == ("root", "root", 0o600)
    assert host.file("/etc/uwsgi/run").mode == 0o700
    refused = host.run("runuser -u nobody -- /usr/local/bin/pyops-run mysite -- id")
    assert refused.rc == 77
    assert refused.stderr.strip() == (
        "pyops-run: only root may run a command as an app: run it with sudo"
    )
    unknown = pyops_run(host, "nosuchapp -- id")
    assert unknown.rc == 66 and "pyops-run --list" in unknown.stderr
    listed = pyops_run(host, "--list").stdout.splitlines()
    assert f"mysite\t{current(host, 'mysite')}\t{serving(host, 'mysite')}/code" in listed
    assert any(line.startswith("flaskr\t") for line in listed)


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


def test_pyops_run_follows_the_release_switched_to(host):
    ran = pyops_run(host, "mysite -- pwd")
    assert ran.stdout.strip() == f"{serving(host, 'mysite')}/code"


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


# --- rollback: flaskr serves v2 (above), its first release is kept --------------------------------

ROLLBACK = ROOT / "playbooks" / "rollback.yml"


def roll_back(host, item, **extra):
    """Run pyops.uwsgi.rollback for ITEM (a uwsgi_apps item) with EXTRA vars; (rc, output)."""
    result = ansible_playbook(
        ROLLBACK,
        host.backend.get_hostname(),
        {"uwsgi_apps": [item], "app": item["app_name"], **extra},
        timeout=900,
    )
    return result.returncode, " ".join((result.stdout + result.stderr).split())


def flaskr_page(host):
    return curl(host, "-H", "Host: flaskr.test", "http://127.0.0.1/")


def test_a_release_not_kept_is_refused_naming_those_kept(host):
    serving_now = current(host, "flaskr")
    rc, output = roll_back(host, app_item("flaskr"), release="0123456789ab")
    assert rc != 0
    assert "Release 0123456789ab of flaskr is not kept on this host" in output, output[-3000:]
    assert f"{serving_now} (serving)" in output
    assert current(host, "flaskr") == serving_now


def test_a_rollback_under_load_serves_the_previous_release_and_loses_no_request(host):
    v2 = current(host, "flaskr")
    assert "flaskr v2" in flaskr_page(host)[1]
    start_load(host, {"flaskr.test": "/"})
    rc, output = roll_back(host, app_item("flaskr", app_src_dir=str(BUILD / "flaskr-v2")))
    report = finish_load(host)
    assert rc == 0, output[-3000:]
    assert report["errors"] == {} and report["non_2xx"] == 0, report
    assert report["statuses"]["flaskr.test"].get("200", 0) > 50, report
    assert current(host, "flaskr") != v2
    status, body = flaskr_page(host)
    assert status == 200 and "flaskr v2" not in body
    # The canary served meanwhile and is gone; nginx's link is back on the app's socket.
    link = host.check_output("readlink /run/uwsgi/flaskr/nginx.sock")
    assert link == "/run/uwsgi/flaskr/flaskr.sock"
    # The listing command and the local fact tell the release serving and the rollback.
    listing = host.check_output("pyops-releases flaskr")
    assert f"* {current(host, 'flaskr')}" in listing and f"replacing {v2}" in listing, listing
    fact = json.loads(host.check_output("/etc/ansible/facts.d/pyops_releases.fact"))["flaskr"]
    assert fact["serving"] == current(host, "flaskr")
    assert fact["rolled_back"]["replaced"] == [v2]


def test_a_converge_with_unchanged_settings_leaves_the_rollback_and_says_so(host):
    rolled_back = current(host, "flaskr")
    rc, output = deploy(host, app_item("flaskr", app_src_dir=str(BUILD / "flaskr-v2")))
    assert rc == 0, output[-3000:]
    assert re.search(r"changed=0 ", output), output[-3000:]
    assert f"App flaskr serves release {rolled_back}, rolled back to on" in output
    assert "app_deploy_rolled_back=true" in output
    assert current(host, "flaskr") == rolled_back
    assert "flaskr v2" not in flaskr_page(host)[1]


def test_a_converge_told_to_deploys_the_release_the_settings_build_again(host):
    rc, output = deploy(
        host, app_item("flaskr", app_src_dir=str(BUILD / "flaskr-v2"), app_deploy_rolled_back=True)
    )
    assert rc == 0, output[-3000:]
    assert "flaskr v2" in flaskr_page(host)[1]
    assert not host.file("/srv/flaskr/rolled-back.json").exists
    assert "rolled back" not in host.check_output("pyops-releases flaskr")


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
