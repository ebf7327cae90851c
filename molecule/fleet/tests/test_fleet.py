"""Scenario fleet: two app hosts behind an nginx front, reached over TCP by the front alone, sharing
one PostgreSQL database."""

from __future__ import annotations

import json
import re
import subprocess
import sys
import time
from pathlib import Path

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

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from make_apps import variant

# The checks run on the front; the app hosts and the database host are reached beside it.
testinfra_hosts = ["ansible://uwsgi-fleet-front"]
APP_HOSTS = {"uwsgi-fleet-app1": "10.213.7.11", "uwsgi-fleet-app2": "10.213.7.12"}
DB_HOST = "uwsgi-fleet-db"
PG_LOG = "/var/log/postgresql/postgresql-17-main.log"
PORT = 3031
LEDGER = "ledger.test"
SHOP = "shop.test"
CONFIG = "/etc/uwsgi/services/ledger.ini"
BUILD = ROOT / "build" / "fleet"
LOAD = {LEDGER: "/whoami", SHOP: "/orders/"}

# Release 2 of both apps: ledger's code changes, shop gains a column (an expanding migration).
MIGRATION_2 = """from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [("orders", "0001_initial")]
    operations = [migrations.AddField("order", "note", models.TextField(null=True))]
"""
MODEL_2 = """from django.db import models


class Order(models.Model):
    host = models.CharField(max_length=200)
    note = models.TextField(null=True)
"""
# Release 3 of shop: a migration that fails half way (inside its transaction).
MIGRATION_3 = """from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [("orders", "0002_order_note")]
    operations = [
        migrations.RunSQL("CREATE TABLE orders_doomed (id int)"),
        migrations.RunSQL("SELECT 1/0"),
    ]
"""


def app_host(name):
    return testinfra.get_host(f"docker://{name}")


def db_host():
    return testinfra.get_host(f"docker://{DB_HOST}")


def sql(database, query):
    """QUERY's rows (tab-separated lines) in DATABASE, as PostgreSQL's superuser."""
    return db_host().check_output(
        "runuser -u postgres -- psql -XAt -F '\t' -d %s -c %s", database, query
    )


def ddl_clients(database, pattern):
    """The client addresses of the DDL statements in DATABASE matching PATTERN, in log order."""
    log = db_host().check_output(f"cat {PG_LOG}")
    line = rf"client=(\S+) db={database} LOG:  (?:statement|execute [^:]*): (.*)"
    return [
        match.group(1) for match in re.finditer(line, log) if re.search(pattern, match.group(2))
    ]


def answering_hosts(host, requests=12, server_name=LEDGER):
    """The app hosts that answered REQUESTS requests through the front."""
    return {http_json(host, "/whoami", server_name)["host"] for _request in range(requests)}


def apps_with(changes):
    """The scenario's uwsgi_apps with CHANGES ({app name: {variable: value}}) merged into each."""
    return [{**app, **changes.get(app["app_name"], {})} for app in scenario_apps()]


def rollout(changes):
    """Run playbooks/rolling.yml with CHANGES ({app name: {variable: value}})."""
    apps = apps_with(changes)
    return ansible_playbook(ROOT / "playbooks" / "rolling.yml", "all", {"uwsgi_apps": apps})


def release_2():
    """The changes that make release 2 of both apps (their sources made once under build/fleet)."""
    ledger = BUILD / "ledger-2"
    if not ledger.is_dir():
        variant(ROOT / "molecule" / "fleet" / "ledger", ledger, {"release.txt": "2\n"})
    shop = BUILD / "shop-2"
    if not shop.is_dir():
        variant(BUILD / "shop", shop, {
            "orders/models.py": MODEL_2,
            "orders/migrations/0002_order_note.py": MIGRATION_2,
        })  # fmt: skip
    return {"ledger": {"app_src_dir": str(ledger)}, "shop": {"app_src_dir": str(shop)}}


def serving(name, app):
    """The release APP serves on app host NAME (its `current` link)."""
    return app_host(name).check_output(f"readlink /srv/{app}/current")


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
    allowed = app.check_output("systemctl show -p IPAddressAllow --value uwsgi-app-ledger.socket")
    assert allowed.split() == ["10.213.7.10/32"]


@pytest.mark.parametrize("name", APP_HOSTS)
def test_only_the_front_may_connect_to_an_app_hosts_port(host, name):
    address = APP_HOSTS[name]
    assert tcp_connect(host, address, PORT) == "ok"
    # The other app host, and the app host itself through its private address, are dropped.
    for other in APP_HOSTS:
        assert tcp_connect(app_host(other), address, PORT) == "timeout", f"{other} -> {name}"


def test_both_app_hosts_write_to_the_one_database(host):
    for _request in range(12):
        assert http(host, "/entries", LEDGER, method="POST")[0] == 201
    counted = json.loads(http(host, "/entries", LEDGER)[1])
    assert set(counted) == set(APP_HOSTS), counted
    # Django's ORM on both hosts, the same table.
    before = http_json(host, "/orders/", SHOP)["count"]
    posted = [http(host, "/orders/", SHOP, method="POST") for _request in range(8)]
    hosts = {json.loads(body)["host"] for _status, body in posted}
    assert hosts == set(APP_HOSTS)
    assert http_json(host, "/orders/", SHOP)["count"] == before + 8


def test_the_first_deploy_migrated_from_one_app_host_only(host):
    # Release commands are scoped `once` in the fleet playbooks: one host ran them, before either
    # switched; the other saw no DDL, and the idempotence converge ran none.
    clients = ddl_clients("shop", r"CREATE TABLE")
    assert clients and len(set(clients)) == 1 and clients[0] in APP_HOSTS.values(), clients
    assert len(ddl_clients("shop", r'CREATE TABLE "orders_order"')) == 1
    assert set(ddl_clients("ledger", r"CREATE TABLE")) == set(clients[:1])
    # Nothing deployed a new release on every host yet after the first one: the contract step ran
    # once, on the host the release phase ran on.
    runs = sql("ledger", "SELECT host, release FROM contract_run ORDER BY id").splitlines()
    assert len(runs) == 1 and runs[0].endswith("\t1"), runs


def test_a_stopped_app_host_is_skipped_without_failed_requests(host):
    stopped = "uwsgi-fleet-app2"
    start_load(host, {LEDGER: "/whoami"}, connections=4, tally="host")
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


def test_a_rolling_update_with_a_migration_under_load_loses_no_request(host):
    note = r'ALTER TABLE "orders_order" ADD COLUMN "note"'
    assert ddl_clients("shop", note) == []
    # The drain reloads the front's nginx twice per app host: a GET cut off by the close of an idle
    # keep-alive connection is sent again, as browsers do (counted in retried_closed).
    start_load(host, LOAD, connections=8, tally="host", retry_closed=True)
    result = rollout(release_2())
    report = finish_load(host)
    print(f"load during the rolling update: {json.dumps(report)}")
    output = result.stdout + result.stderr
    assert result.returncode == 0, output[-3000:]
    assert report["errors"] == {} and report["non_2xx"] == 0, report
    assert set(report["tally"]) == set(APP_HOSTS), report
    # One batch per app host, one after the other.
    assert output.count("PLAY [Serve WSGI apps with uWSGI behind nginx]") == 2, output[-3000:]
    # The new column was added once, by one app host, before either switched.
    added = ddl_clients("shop", note)
    assert len(added) == 1 and added[0] in APP_HOSTS.values(), added
    assert {http_json(host, "/whoami", LEDGER)["release"] for _request in range(12)} == {"2"}
    assert len({serving(name, "ledger") for name in APP_HOSTS}) == 1
    # The contract step ran once, after both hosts served release 2.
    runs = sql("ledger", "SELECT host FROM contract_run WHERE release = '2'").splitlines()
    assert len(runs) == 1 and runs[0] in APP_HOSTS, runs
    # The front took each host out before it acted and put it back (roles/front): the mark (down,
    # then up) reported as a change of each app host's batch, and the sites as rendered again.
    for name in APP_HOSTS:
        assert result.stdout.count(f"changed: [{name} -> uwsgi-fleet-front]") >= 2, output[-3000:]
    for site in ("ledger", "shop"):
        assert " down;" not in host.file(f"/etc/nginx/sites-available/{site}.conf").content_string


def test_a_broken_migration_switches_no_host(host):
    before = {name: (serving(name, "shop"), serving(name, "ledger")) for name in APP_HOSTS}
    contracts = sql("ledger", "SELECT count(*) FROM contract_run")
    broken = BUILD / "shop-3"
    variant(BUILD / "shop-2", broken, {"orders/migrations/0003_doomed.py": MIGRATION_3})
    start_load(host, LOAD, connections=4, tally="host", retry_closed=True)
    result = rollout({**release_2(), "shop": {"app_src_dir": str(broken)}})
    report = finish_load(host)
    print(f"load during the broken rollout: {json.dumps(report)}")
    output = result.stdout + result.stderr
    assert result.returncode != 0, output[-3000:]
    assert "division by zero" in output, output[-3000:]
    # The release phase failed on one host, before any host switched: no deploy play started.
    assert "PLAY [Serve WSGI apps with uWSGI behind nginx]" not in output, output[-3000:]
    for name in APP_HOSTS:
        assert (serving(name, "shop"), serving(name, "ledger")) == before[name], name
    assert sql("shop", "SELECT to_regclass('orders_doomed')") == ""
    assert sql("ledger", "SELECT count(*) FROM contract_run") == contracts
    assert report["errors"] == {} and report["non_2xx"] == 0, report
    assert answering_hosts(host) == set(APP_HOSTS)


def boot_marks():
    """Each app host's PID 1 start time (clock ticks since the machine booted): a container's
    boot_id is its machine's, so this is what tells its reboots apart."""
    return {name: app_host(name).check_output("cut -d' ' -f22 /proc/1/stat") for name in APP_HOSTS}


def test_patching_reboots_every_app_host_without_a_failed_request(host):
    booted = boot_marks()
    releases = {name: serving(name, "shop") for name in APP_HOSTS}
    start_load(host, LOAD, connections=8, tally="host", retry_closed=True)
    # The apps at release 2, as the last rollout left them: the patch changes no release.
    result = ansible_playbook(
        ROOT / "playbooks" / "patch.yml",
        "all",
        {
            "uwsgi_apps": apps_with(release_2()),
            "patch_reboot": "always",
            "patch_boot_time_command": "cut -d' ' -f22 /proc/1/stat",
        },
        timeout=1800,
    )
    report = finish_load(host)
    print(f"load during the patch run: {json.dumps(report)}")
    output = result.stdout + result.stderr
    assert result.returncode == 0, output[-3000:]
    assert output.count("PLAY [Serve WSGI apps with uWSGI behind nginx]") == 2, output[-3000:]
    assert report["errors"] == {} and report["non_2xx"] == 0, report
    assert set(report["tally"]) == set(APP_HOSTS), report
    rebooted = boot_marks()
    for name in APP_HOSTS:
        assert rebooted[name] != booted[name], name
        assert serving(name, "shop") == releases[name], name
    for site in ("ledger", "shop"):
        assert " down;" not in host.file(f"/etc/nginx/sites-available/{site}.conf").content_string
    assert answering_hosts(host) == set(APP_HOSTS)
