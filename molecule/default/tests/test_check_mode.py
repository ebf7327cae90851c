"""Scenario default: --check --diff on the converged host changes nothing and tells the truth."""

from __future__ import annotations

import re

from pyops_verify import ROOT, ansible_playbook, fingerprint, http, master_pid, scenario_apps

# One platform is enough: check mode takes the same paths on both.
testinfra_hosts = ["ansible://uwsgi-default-debian13"]
APPS = {"hello": "hello.test", "second": "second.test"}


def state(host):
    """Everything the roles manage, the app processes and the pages served."""
    return (
        fingerprint(host),
        {app: master_pid(host, app) for app in APPS},
        {app: http(host, "/", name) for app, name in APPS.items()},
    )


def check(host, extra_vars=None):
    """site.yml with --check --diff: (the host's changed count, the output)."""
    name = host.backend.get_hostname()
    result = ansible_playbook(
        ROOT / "playbooks" / "site.yml", name, extra_vars, options=["--check", "--diff"]
    )
    output = result.stdout + result.stderr
    assert result.returncode == 0, output[-3000:]
    recap = re.search(rf"^{re.escape(name)} +: ok=\d+ +changed=(\d+)", output, re.MULTILINE)
    assert recap, output[-3000:]
    return int(recap.group(1)), output


def test_check_mode_on_the_converged_host_reports_no_change(host):
    before = state(host)
    changed, output = check(host)
    assert changed == 0, output[-3000:]
    assert state(host) == before


def test_check_mode_shows_a_new_setting_and_changes_nothing(host):
    before = state(host)
    apps = [
        {**app, "app_env": {**app.get("app_env", {}), "CHECKED": "value-only-in-app-env-7f3c"}}
        for app in scenario_apps()
    ]
    changed, output = check(host, {"uwsgi_apps": apps})
    # Each app's configuration would change, and each would be reloaded; app_env's values are often
    # secrets, so the change is reported by its task and the value is never printed.
    assert changed >= 2, output[-3000:]
    configs = [
        block
        for block in output.split("\nTASK [")
        if block.startswith("pyops.uwsgi.app : Hand the Emperor the vassal")
    ]
    assert len(configs) == 2, output[-3000:]
    assert all("\nchanged: [" in block for block in configs), configs
    assert "value-only-in-app-env-7f3c" not in output, output[-3000:]
    assert state(host) == before
