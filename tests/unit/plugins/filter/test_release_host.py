from __future__ import annotations

import pytest
from ansible.errors import AnsibleFilterError
from ansible_collections.pyops.uwsgi.plugins.filter.release_host import (
    FilterModule,
    once_release_apps,
    post_release_host,
    release_host,
    release_host_apps,
)

HOSTS = ["web1", "web2", "web3"]
ALL_SHOP = {"web1": ["shop"], "web2": ["shop", "blog"], "web3": ["shop"]}


def test_the_first_host_in_inventory_order_that_carries_the_app():
    assert release_host(HOSTS, "shop", HOSTS, ALL_SHOP) == "web1"
    # Not the order the active hosts are listed in.
    assert release_host(HOSTS, "shop", ["web3", "web2", "web1"], ALL_SHOP) == "web1"


def test_a_host_without_the_app_is_passed_over():
    assert release_host(HOSTS, "blog", HOSTS, ALL_SHOP) == "web2"
    assert release_host(HOSTS, "shop", HOSTS, {"web1": [], "web3": ["shop"]}) == "web3"


def test_a_failed_host_is_passed_over():
    assert release_host(HOSTS, "shop", ["web2", "web3"], ALL_SHOP) == "web2"
    assert release_host(HOSTS, "blog", ["web1", "web3"], ALL_SHOP) == ""


def test_one_host_and_no_host():
    assert release_host(["web1"], "shop", ["web1"], {"web1": ["shop"]}) == "web1"
    assert release_host([], "shop", [], {}) == ""
    assert release_host(HOSTS, "wiki", HOSTS, ALL_SHOP) == ""


def test_a_host_whose_apps_are_unknown_carries_none():
    assert release_host(HOSTS, "shop", HOSTS, {"web1": None, "web2": ["shop"]}) == "web2"


def test_the_apps_a_host_runs_the_once_scoped_commands_of():
    apps = ["shop", "blog", "wiki"]
    assert release_host_apps(apps, "web1", HOSTS, HOSTS, ALL_SHOP) == ["shop"]
    assert release_host_apps(apps, "web2", HOSTS, HOSTS, ALL_SHOP) == ["blog"]
    assert release_host_apps(apps, "web2", HOSTS, ["web2", "web3"], ALL_SHOP) == ["shop", "blog"]
    assert release_host_apps(apps, "web3", HOSTS, HOSTS, ALL_SHOP) == []


def _deployed(*hosts, serves=True, switched=True):
    return {host: {"shop": {"serves": serves, "switched": switched}} for host in hosts}


def test_post_release_is_due_once_every_host_serves_and_one_switched():
    deployed = {**_deployed(*HOSTS, switched=False), **_deployed("web3")}
    assert post_release_host(HOSTS, "shop", HOSTS, ALL_SHOP, deployed) == "web1"


def test_post_release_is_not_due_when_no_host_switched():
    deployed = _deployed(*HOSTS, switched=False)
    assert post_release_host(HOSTS, "shop", HOSTS, ALL_SHOP, deployed) == ""


def test_post_release_is_not_due_when_a_host_of_the_app_failed():
    deployed = _deployed(*HOSTS)
    assert post_release_host(HOSTS, "shop", ["web1", "web2"], ALL_SHOP, deployed) == ""
    # A host without the app may fail: the app's hosts all serve.
    assert (
        post_release_host(
            HOSTS,
            "blog",
            ["web2"],
            ALL_SHOP,
            {"web2": {"blog": {"serves": True, "switched": True}}},
        )
        == "web2"
    )


def test_post_release_is_not_due_when_a_host_left_no_record_or_does_not_serve():
    assert post_release_host(HOSTS, "shop", HOSTS, ALL_SHOP, _deployed("web1", "web2")) == ""
    held = {**_deployed(*HOSTS), **_deployed("web2", serves=False)}
    assert post_release_host(HOSTS, "shop", HOSTS, ALL_SHOP, held) == ""


def test_post_release_on_one_host():
    assert post_release_host(["web1"], "shop", ["web1"], ALL_SHOP, _deployed("web1")) == "web1"
    assert post_release_host([], "shop", [], {}, {}) == ""


def test_once_release_apps_reads_each_item_over_the_hosts_values():
    apps = [
        {"app_name": "shop", "app_release_commands": [["migrate"]]},
        {"app_name": "blog", "app_release_commands": [{"command": ["migrate"], "scope": "once"}]},
        {"app_name": "wiki", "app_release_commands_scope": "every_host"},
        {"app_name": "docs"},
    ]
    assert once_release_apps(apps) == ["blog"]
    assert once_release_apps(apps, [["flask", "init-db"]], "once") == ["shop", "blog", "docs"]


def test_once_release_apps_leaves_out_what_the_role_refuses():
    apps = [
        {"app_name": "shop", "app_release_commands": "migrate"},
        {
            "app_name": "blog",
            "app_release_commands": [["migrate"]],
            "app_release_commands_scope": "x",
        },
        {"app_name": "wiki", "app_release_commands": [{"command": ["m"], "scope": "one"}]},
    ]
    assert once_release_apps(apps, scope="once") == []


@pytest.mark.parametrize(
    "call",
    [
        lambda: release_host("web1", "shop", [], {}),
        lambda: release_host(HOSTS, "shop", HOSTS, ["web1"]),
        lambda: post_release_host(HOSTS, "shop", HOSTS, ALL_SHOP, []),
        lambda: once_release_apps({"app_name": "shop"}),
    ],
)
def test_wrong_shapes_are_refused(call):
    with pytest.raises(AnsibleFilterError):
        call()


def test_the_filters_are_registered():
    assert set(FilterModule().filters()) == {
        "release_host",
        "release_host_apps",
        "post_release_host",
        "once_release_apps",
    }
