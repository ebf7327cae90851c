"""Scenario pitfalls: each pitfall is refused or named, and the good version keeps serving.

Nothing here reaches into the role: a pitfall is caused through the role's variables, through what
the role reads of the host (the uwsgi role's record, nginx's user), or by breaking the host itself.
"""

from __future__ import annotations

import json
import os
import re
from pathlib import Path

import pytest
from pyops_verify import ansible_playbook, http, wait_for_status

CONVERGE = Path(os.environ["MOLECULE_SCENARIO_DIRECTORY"]) / "converge.yml"
RECORD = "/etc/ansible/facts.d/pyops_uwsgi.fact"

# id -> (what breaks, through extra vars; a piece of the failure message)
PITFALLS = {
    "1a": ({"app_wsgi_module": "wsgi2"}, "Pitfall 1a (Wrong entry point)"),
    "1b": ({"app_wsgi_callable": "app"}, "Pitfall 1b (Wrong callable)"),
    "2": ({"app_requirements_file": "no-such-requirements.txt"}, "No module named 'flask'"),
    # A new configuration while nginx runs as another user than the role was told (nobody here),
    # who may not open the socket: the canary is asked as that user.
    "3b": (
        {"__app_web_user": "nobody", "app_env": {"PITFALL": "3b"}},
        "Pitfall 3b (Permission denied on the socket)",
    ),
}


def serving(host):
    """What serves shop: the release current points at, its vassal, its site."""
    return (
        host.check_output("readlink /srv/shop/current"),
        host.file("/etc/uwsgi/vassals/shop.ini").content_string,
        host.file("/etc/nginx/sites-available/shop.conf").content_string,
    )


def deploy(host, extra_vars):
    result = ansible_playbook(CONVERGE, host.backend.get_hostname(), extra_vars, tags=["shop"])
    return result.returncode, " ".join((result.stdout + result.stderr).split())


def assert_named_and_still_serving(host, pitfall, extra_vars, expected):
    before = serving(host)
    rc, output = deploy(host, extra_vars)
    assert rc != 0, f"the deploy with pitfall {pitfall} succeeded"
    assert f"Pitfall {pitfall} (" in output, output[-3000:]
    assert expected in output, output[-3000:]
    assert serving(host) == before
    status, body = http(host, "/", "shop.test")
    assert (status, "Hello from pyops.uwsgi" in body) == (200, True)


@pytest.mark.parametrize("pitfall", PITFALLS)
def test_pitfall_is_named_and_the_good_version_keeps_serving(host, pitfall):
    broken, expected = PITFALLS[pitfall]
    assert_named_and_still_serving(host, pitfall, broken, expected)


def test_a_plugin_of_another_python_is_named_003(host):
    # The uwsgi role's record says which plugin serves which Python; one that lies (a plugin
    # replaced by hand, say) makes the 3.14 app load the 3.13 plugin.
    record = json.loads(host.file(RECORD).content_string)
    lying = {**record, "plugins": {**record["plugins"], "3.14": "python313"}}
    host.run_expect([0], f"cp {RECORD} {RECORD}.good")
    try:
        host.run_expect([0], f"echo '{json.dumps(lying)}' > {RECORD}")
        assert_named_and_still_serving(
            host,
            "003",
            {},
            'Pitfall 003 (Plugin embeds another Python): "Python version: 3.13.',
        )
    finally:
        host.run_expect([0], f"mv {RECORD}.good {RECORD}")


def test_nginx_pointed_at_a_missing_socket_is_named_3a(host):
    # Pitfall 3a cannot be configured (nginx's uwsgi_pass is a link to the socket the vassal binds,
    # as a unit test proves); it still happens when the socket goes away under a running app, and
    # nginx names the link it connected through.
    host.run_expect([0], "rm /run/uwsgi/shop/shop.sock")
    try:
        rc, output = deploy(host, {})
        assert rc != 0
        assert "Pitfall 3a (nginx points at a missing socket)" in output, output[-3000:]
        assert "connect() to unix:/run/uwsgi/shop/nginx.sock failed (2: No such file" in output
    finally:
        # A graceful reload keeps the unlinked socket; a fresh start binds it anew.
        host.run_expect([0], "systemctl restart uwsgi-emperor")
        wait_for_status(host, "/", "shop.test", timeout=60)


def test_the_canary_meets_the_services_sandbox(host):
    # The Emperor's unit hides /root (ProtectHome). A canary outside that sandbox entered it and
    # passed, and the release then failed after the switch; now the canary is refused first.
    before = serving(host)
    rc, output = deploy(host, {"app_uwsgi_options": {"chdir2": "/root"}})
    assert rc != 0
    assert "failed its canary, so nothing was switched" in output, output[-3000:]
    assert "Code out of the service's reach: \"chdir(): Permission denied" in output, output[-3000:]
    assert "cannot enter /root" in output
    assert serving(host) == before
    assert http(host, "/", "shop.test")[0] == 200


def test_the_health_check_asks_for_a_host_the_app_serves(host):
    # An app that checks the Host it is asked for (as Django's ALLOWED_HOSTS does), on a site whose
    # names are all wildcards: the check's Host is a setting, and a refusal says what came back.
    strict = {
        "app_name": "strict",
        "app_server_names": ["*.strict.test"],
        "app_env": {"PYOPS_ALLOWED_HOSTS": "www.strict.test"},
    }
    rc, output = deploy(host, strict)
    assert rc != 0
    assert "The app answered 400 to GET / with Host localhost" in output, output[-3000:]
    assert "Invalid HTTP_HOST header: 'localhost'" in output
    assert "app_health_host" in output
    rc, output = deploy(host, {**strict, "app_health_host": "www.strict.test"})
    assert rc == 0, output[-3000:]
    assert http(host, "/", "www.strict.test")[0] == 200
    assert http(host, "/", "other.strict.test")[0] == 400


# A secret no output may show: not the plan, a diff, a loop label or a failure's message.
MARKER = "pyops-marker-secret-7f3a9c"
SLOW_IMPORT = Path(os.environ["MOLECULE_SCENARIO_DIRECTORY"]) / "slow_import"


def output_of(result):
    return result.stdout + result.stderr


def test_check_diff_verbose_shows_what_would_change_but_no_app_env_value(host):
    # A new app_env value changes the environment file, the vassal and a release's envdir (a
    # value with a line break goes to a file of its own): each would show it in a diff.
    secret = {"PYOPS_SECRET": MARKER, "PYOPS_SECRET_LINES": f"{MARKER}\nsecond line"}
    result = ansible_playbook(
        CONVERGE,
        host.backend.get_hostname(),
        {"app_env": secret},
        tags=["shop"],
        options=["--check", "--diff", "-v"],
    )
    output = output_of(result)
    assert result.returncode == 0, output[-3000:]
    assert MARKER not in output, output[output.index(MARKER) - 2000 :][:3000]
    # It still says what would change.
    assert "changed: [" in output and "(diff not shown, it holds app_env)" in output
    assert not any(line.startswith("changed=0") for line in output.split()), output[-1500:]


def test_an_import_slower_than_the_health_timeout_is_named_and_hides_app_env(host):
    # The canary of an app still importing when app_health_timeout (20 s here) runs out: the
    # message names the setting, its value and how long the import ran. The deploy fails with
    # app_env values in the canary's configuration, the vassal and an envdir, shown nowhere, also
    # with --diff and -v.
    before = serving(host)
    result = ansible_playbook(
        CONVERGE,
        host.backend.get_hostname(),
        {
            "app_src_dir": str(SLOW_IMPORT),
            # uWSGI takes no stop signal while it imports: systemd kills it after this + 15 s.
            "app_worker_reload_mercy": 1,
            "app_env": {"PYOPS_SECRET": MARKER, "PYOPS_SECRET_LINES": f"{MARKER}\nsecond line"},
        },
        tags=["shop"],
        options=["--diff", "-v"],
    )
    output = output_of(result)
    flat = " ".join(output.split())
    assert result.returncode != 0, flat[-3000:]
    assert "failed its canary, so nothing was switched" in flat, flat[-3000:]
    assert "Import slower than app_health_timeout" in flat, flat[-3000:]
    assert "when app_health_timeout (20 s) ran out" in flat
    assert re.search(r"had been importing the app for (19|2\d) s without finishing", flat), flat
    assert "Raise app_health_timeout" in flat
    assert "No known pitfall matched" not in flat
    assert MARKER not in output, output[output.index(MARKER) - 2000 :][:3000]
    # The secret was there to leak: the canary's configuration of that release holds it.
    canaries = host.check_output("grep -l %s /srv/shop/releases/*/canary.ini || true", MARKER)
    assert canaries, "the marker never reached the host; this test proves nothing"
    assert serving(host) == before
    assert http(host, "/", "shop.test")[0] == 200


def test_a_good_deploy_after_the_failures_changes_nothing(host):
    before = serving(host)
    rc, output = deploy(host, {})
    assert rc == 0, output[-3000:]
    assert "changed=0" in output
    assert serving(host) == before


def test_a_first_deploy_that_fails_leaves_no_site_and_no_vassal(host):
    rc, output = deploy(
        host, {"app_name": "fresh", "app_wsgi_callable": "app", "app_server_names": ["fresh.test"]}
    )
    assert rc != 0
    assert "Pitfall 1b (Wrong callable)" in output, output[-3000:]
    for path in [
        "/etc/nginx/sites-enabled/fresh.conf",
        "/etc/nginx/sites-available/fresh.conf",
        "/etc/uwsgi/vassals/fresh.ini",
        "/run/uwsgi/fresh/fresh.sock",
    ]:
        assert not host.file(path).exists, path
    status, _body = http(host, "/", "fresh.test")
    assert status != 502
