"""The nginx role's plan, decision by decision (module_utils/nginx_role_plan.py).

test_role_plan.py (action) renders the role's former Jinja against the same plan.
"""

from __future__ import annotations

import pytest
from ansible_collections.pyops.uwsgi.plugins.module_utils import nginx_role_plan as plan

PLATFORM = {"packages": ["nginx"], "sites_enabled": "/etc/nginx/sites-enabled"}
DEFAULT = "/etc/nginx/sites-enabled/default"
RUNNING = {"nginx": {"ActiveState": "active", "UnitFileState": "enabled"}}


def _host(installed=True, default_site=False, services="running"):
    return {
        "installed": installed if installed is None else {"nginx": installed},
        "paths": {DEFAULT: {"exists": default_site}},
        "services": RUNNING if services == "running" else services,
    }


def test_the_host_request_before_the_host_is_read():
    made = plan.make_plan({}, PLATFORM)
    assert made == {
        "host_request": {"installed": ["nginx"], "paths": [DEFAULT], "services": ["nginx"]},
        "packages": ["nginx"],
        "default_site": DEFAULT,
    }


def test_it_reads_no_setting_before_the_host_is_read():
    assert plan.settings_read(False) == ()
    assert plan.settings_read(True) == ("nginx_remove_default_site",)


@pytest.mark.parametrize(
    ("host", "remove", "expected"),
    [
        (_host(), True, {"install": False, "remove_default_site": False, "start": False}),
        (
            _host(default_site=True),
            True,
            {"install": False, "remove_default_site": True, "start": False},
        ),
        (
            _host(default_site=True),
            False,
            {"install": False, "remove_default_site": False, "start": False},
        ),
        # A package installed just now brings the default site.
        (
            _host(installed=False),
            True,
            {"install": True, "remove_default_site": True, "start": False},
        ),
        (
            _host(installed=False),
            False,
            {"install": True, "remove_default_site": False, "start": False},
        ),
        (
            _host(installed=None, services=None),
            True,
            {"install": True, "remove_default_site": True, "start": True},
        ),
        (
            _host(services={"nginx": {"ActiveState": "active", "UnitFileState": "disabled"}}),
            True,
            {"install": False, "remove_default_site": False, "start": True},
        ),
    ],
)
def test_decisions_from_the_host(host, remove, expected):
    made = plan.make_plan({"nginx_remove_default_site": remove}, PLATFORM, host=host)
    assert {key: made[key] for key in expected} == expected


def test_a_default_site_not_read_counts_as_absent():
    made = plan.make_plan({"nginx_remove_default_site": True}, PLATFORM, host={"installed": {}})
    assert made["remove_default_site"] is False
