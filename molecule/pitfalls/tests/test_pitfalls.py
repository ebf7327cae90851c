"""Scenario pitfalls: each pitfall is refused or named, and the good version keeps serving."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from pyops_verify import ansible_playbook, http

CONVERGE = Path(os.environ["MOLECULE_SCENARIO_DIRECTORY"]) / "converge.yml"
WRONG_SOCKET = "unix:/run/uwsgi/shop/elsewhere.sock"

# id -> (what breaks, through extra vars; a piece of the failure message)
PITFALLS = {
    "1a": ({"app_wsgi_module": "wsgi2"}, "Pitfall 1a (Wrong entry point)"),
    "1b": ({"app_wsgi_callable": "app"}, "Pitfall 1b (Wrong callable)"),
    "2": ({"app_requirements_file": "no-such-requirements.txt"}, "No module named 'flask'"),
    "003": (
        {"__app_test_unchecked_uwsgi_options": {"plugin": ["python313", "syslog"]}},
        'Pitfall 003 (Plugin embeds another Python): "Python version: 3.13.',
    ),
    "3a": ({"__app_test_nginx_uwsgi_pass": WRONG_SOCKET}, "Pitfall 3a (nginx points at a missing"),
    "3b": (
        {"__app_test_unchecked_uwsgi_options": {"chmod-socket": 600}},
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


@pytest.mark.parametrize("pitfall", PITFALLS)
def test_pitfall_is_named_and_the_good_version_keeps_serving(host, pitfall):
    broken, expected = PITFALLS[pitfall]
    before = serving(host)
    rc, output = deploy(host, broken)
    assert rc != 0, f"the deploy with pitfall {pitfall} succeeded"
    assert f"Pitfall {pitfall} (" in output, output[-3000:]
    assert expected in output, output[-3000:]
    assert serving(host) == before
    status, body = http(host, "/", "shop.test")
    assert (status, "Hello from pyops.uwsgi" in body) == (200, True)


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
