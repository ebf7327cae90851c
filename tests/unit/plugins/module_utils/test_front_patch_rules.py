"""The rules of the front role (drain, restore) and the patch role, through role_rules.errors as
pyops.uwsgi.role_settings runs them, on the roles' own defaults with one value changed."""

from __future__ import annotations

import pytest
from ansible_collections.pyops.uwsgi.plugins.module_utils import role_rules
from ansible_collections.pyops.uwsgi.tests.unit.plugins import stand_in

FRONT = {
    "front_nginx_hosts": ["front1"],
    "front_addresses": ["10.0.1.21"],
    "front_target_id": "i-0123456789abcdef0",
    "front_target_region": "",
}
ARN = "arn:aws:elasticloadbalancing:eu-west-1:123456789012:targetgroup/shop-web/0123456789abcdef"


def _errors(role, entry_point, **overrides):
    settings, errors = stand_in.settings(role, entry_point, **overrides)
    assert not errors, errors
    return role_rules.errors(role, entry_point, settings)


@pytest.mark.parametrize("entry_point", ["drain", "restore"])
def test_front_defaults_with_an_address_pass(entry_point):
    assert _errors("front", entry_point, **FRONT) == []
    assert (
        _errors("front", entry_point, **{**FRONT, "front_target_groups": ["shop-web", ARN]}) == []
    )


# Rule name -> (one bad setting, words of its message).
FRONT_BAD = {
    "no address with fronts": ({"front_addresses": []}, "front_addresses must name"),
    "nginx drain timeout": ({"front_nginx_drain_timeout": -1}, "front_nginx_drain_timeout must be"),
    "target drain timeout": (
        {"front_target_drain_timeout": 7200},
        "front_target_drain_timeout must be",
    ),
    "healthy timeout": (
        {"front_target_healthy_timeout": -5},
        "front_target_healthy_timeout must be",
    ),
    "target group name": ({"front_target_groups": ["shop_web"]}, "front_target_groups items"),
    "target group too long": ({"front_target_groups": ["a" * 33]}, "front_target_groups items"),
    "target group ends with -": ({"front_target_groups": ["shop-"]}, "front_target_groups items"),
    "no target id": (
        {"front_target_groups": ["shop-web"], "front_target_id": ""},
        "front_target_id must be",
    ),
    "port": ({"front_target_port": 70000}, "front_target_port must be"),
    "region": ({"front_target_region": "Ireland"}, "front_target_region must be"),
}


@pytest.mark.parametrize("rule", sorted(FRONT_BAD))
def test_front_rule(rule):
    bad, words = FRONT_BAD[rule]
    (message,) = _errors("front", "drain", **{**FRONT, **bad})
    assert words in message


def test_no_fronts_needs_no_address():
    assert (
        _errors("front", "drain", **{**FRONT, "front_nginx_hosts": [], "front_addresses": []}) == []
    )


PATCH_BAD = {
    "reboot timeout": ({"patch_reboot_timeout": 0}, "patch_reboot_timeout must be"),
    "lock timeout": ({"patch_lock_timeout": 4000}, "patch_lock_timeout must be"),
    "boot time command": (
        {"patch_boot_time_command": " cut -d' ' -f22 /proc/1/stat"},
        "patch_boot_time_command",
    ),
}


def test_patch_defaults_pass():
    assert _errors("patch", "main") == []
    assert _errors("patch", "main", patch_boot_time_command="cut -d' ' -f22 /proc/1/stat") == []


@pytest.mark.parametrize("rule", sorted(PATCH_BAD))
def test_patch_rule(rule):
    bad, words = PATCH_BAD[rule]
    (message,) = _errors("patch", "main", **bad)
    assert words in message
