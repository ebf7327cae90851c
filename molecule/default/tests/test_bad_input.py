"""Scenario default: a refused setting stops a deploy before the host changes, on a real host.

Every bad input runs as a unit test against the roles' rules
(tests/unit/plugins/test_bad_inputs.py); the one marked on_host depends on what the installed
uWSGI takes, and proves here that a refusal leaves the host as it was.
"""

from __future__ import annotations

import pytest
from pyops_verify import BAD_INPUTS, run_bad_input

ON_HOST = [case for case in BAD_INPUTS if case.get("on_host")]
# One platform is enough: the checks run before anything platform-specific happens.
testinfra_hosts = ["ansible://uwsgi-default-debian12"]


@pytest.mark.parametrize("case", ON_HOST, ids=[case["case"] for case in ON_HOST])
def test_bad_input_is_refused_before_any_change(host, case):
    run_bad_input(host, case)
