"""Scenario default: hostile and mistaken settings are refused before the host changes, on a host.

Every bad input runs as a unit test against the roles' rules (tests/unit/plugins/
test_bad_inputs.py). Those marked on_host are applied here in one play, against the real accounts,
links and directories of a host: the settings that would take over a directory or an account of
the host or reconfigure uWSGI past nginx, and a misspelt uWSGI option, which only the installed
uWSGI can judge. The host must be the same before and after, to the owner, group and mode of every
directory that matters.
"""

from __future__ import annotations

from pyops_verify import BAD_INPUTS, run_bad_inputs

ON_HOST = [case for case in BAD_INPUTS if case.get("on_host")]
# One platform is enough: the checks run before anything platform-specific happens.
testinfra_hosts = ["ansible://uwsgi-default-debian12"]


def test_hostile_settings_are_refused_before_any_change(host):
    outcomes = run_bad_inputs(host, ON_HOST)
    assert len(outcomes) == len(ON_HOST) >= 25
