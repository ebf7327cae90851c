"""Scenario default: bad settings stop a deploy before the host changes, naming the variable."""

from __future__ import annotations

import pytest
from pyops_verify import BAD_INPUTS, run_bad_input

# One platform is enough: the checks run before anything platform-specific happens.
testinfra_hosts = ["ansible://uwsgi-default-debian12"]


@pytest.mark.parametrize("case", BAD_INPUTS, ids=[case["case"] for case in BAD_INPUTS])
def test_bad_input_is_refused_before_any_change(host, case):
    run_bad_input(host, case)
