"""Scenario ec2_like: --tags validate checks every app in both documented forms, changing nothing.

site.yml with uwsgi_apps, and the README's own playbook (validate_include_role.yml: the uwsgi and
nginx roles, then the app's include_role tagged validate), run from the controller over SSH as
converge ran. A bad app fails the run with one line per error, not Ansible's dump of the role's
argument spec (some 25 KB), and the host stays as it was.
"""

from __future__ import annotations

import re

from pyops_verify import ROOT, ansible_playbook, fingerprint, scenario_apps

SCENARIO = ROOT / "molecule" / "ec2_like"
# Ansible's dump of an argument spec on failure holds this key; ours never does.
SPEC_DUMP = "argument_spec_data"
# What the failure may print: Ansible's error and the task's result, up to the play's recap (the
# error lines, and the result with them once more), far below a spec dump.
MAX_FAILURE = 4000
FATAL = re.compile(r"^fatal:.*?(?=^PLAY RECAP)", re.MULTILINE | re.DOTALL)
TYPE_ERROR = "app_harakiri: expected int, got str 'soon'"
NAME_ERROR = "app_name must be 1-32 characters"


def validate(host, playbook, extra_vars=None):
    """PLAYBOOK with --tags validate: its result; the host must not change."""
    before = fingerprint(host)
    result = ansible_playbook(playbook, host.backend.get_hostname(), extra_vars, tags=["validate"])
    assert fingerprint(host) == before, f"{playbook.name} --tags validate changed the host"
    return result


def refused(host, playbook, extra_vars, *starts):
    """PLAYBOOK fails under --tags validate, one error line starting with each of STARTS; the
    lines of the refusal ("App NAME is refused before any change:", then "- ERROR" each)."""
    result = validate(host, playbook, extra_vars)
    output = result.stdout + result.stderr
    assert result.returncode != 0, output[-3000:]
    assert SPEC_DUMP not in output, output[:3000]
    # ansible-core 2.19 prints the failed result on stderr; older ones on stdout.
    fatal = FATAL.search(result.stdout)
    failure = result.stderr + (fatal[0] if fatal else "")
    assert "fatal:" in failure, output[-3000:]
    assert len(failure) < MAX_FAILURE, f"{len(failure)} bytes:\n{failure[:3000]}"
    errors = [line[2:] for line in output.splitlines() if line.startswith("- ")]
    for start in starts:
        assert any(error.startswith(start) for error in errors), output[-3000:]
    return errors


def test_site_checks_the_apps_of_uwsgi_apps_and_changes_nothing(host):
    name = host.backend.get_hostname()
    result = validate(host, ROOT / "playbooks" / "site.yml")
    output = result.stdout + result.stderr
    assert result.returncode == 0, output[-3000:]
    assert re.search(rf"^{re.escape(name)} +: ok=\d+ +changed=0 ", output, re.MULTILINE), output
    assert "Check every app's settings before changing anything" in output


def test_site_refuses_each_bad_app_of_uwsgi_apps_in_one_line(host):
    [hello] = scenario_apps()
    # One load balancer's health server per port: hello's only.
    shop = {
        **hello,
        "app_name": "shop",
        "app_server_names": ["shop.example.org"],
        "app_lb_health_networks": [],
    }
    apps = [hello, {**shop, "app_harakiri": "soon"}, {**shop, "app_name": "Bad Shop"}]
    errors = refused(
        host,
        ROOT / "playbooks" / "site.yml",
        {"uwsgi_apps": apps},
        f"app shop: {TYPE_ERROR}",
        f"app Bad Shop: {NAME_ERROR}",
    )
    assert f"app shop: {TYPE_ERROR}" in errors
    assert not [error for error in errors if error.startswith("app hello:")], errors


def test_site_refuses_a_wrong_type_of_the_uwsgi_role_in_one_line(host):
    errors = refused(
        host,
        ROOT / "playbooks" / "site.yml",
        {"uwsgi_emperor_scan_interval": "soon"},
        "uwsgi_emperor_scan_interval: expected int, got str 'soon'",
    )
    assert errors == ["uwsgi_emperor_scan_interval: expected int, got str 'soon'"]


def test_the_readmes_include_role_form_refuses_a_wrong_type_in_one_line(host):
    errors = refused(host, SCENARIO / "validate_include_role.yml", None, TYPE_ERROR)
    # The type error alone: the rules judge settings of the right types only.
    assert errors == [TYPE_ERROR]


def test_the_readmes_include_role_form_checks_the_apps_rules(host):
    # Once the type is right, the plan's rules judge the app: its name is refused.
    refused(host, SCENARIO / "validate_include_role.yml", {"app_harakiri": 30}, NAME_ERROR)


# An HTTPS site whose certificate and key the host should have and does not: read on the host by
# the nginx role's check, under --tags validate as before a deploy.
MISSING_TLS_FILES = {
    "app_tls": "files",
    "app_tls_remote_src": True,
    "app_tls_certificate": "/etc/ssl/shop/fullchain.pem",
    "app_tls_key": "/etc/ssl/shop/privkey.pem",
}
TLS_ERROR = "nginx_site_tls_certificate (/etc/ssl/shop/fullchain.pem on the host) cannot be read"


def test_site_checks_the_certificate_files_of_every_app(host):
    [hello] = scenario_apps()
    # One load balancer's health server per port: hello's only.
    shop = {
        **hello,
        "app_name": "shop",
        "app_server_names": ["shop.example.org"],
        "app_lb_health_networks": [],
    }
    refused(
        host,
        ROOT / "playbooks" / "site.yml",
        {"uwsgi_apps": [hello, {**shop, **MISSING_TLS_FILES}]},
        TLS_ERROR,
    )


def test_the_readmes_include_role_form_checks_the_apps_certificate_files(host):
    extra_vars = {"app_name": "shop", "app_harakiri": 30, **MISSING_TLS_FILES}
    refused(host, SCENARIO / "validate_include_role.yml", extra_vars, TLS_ERROR)
