from __future__ import annotations

import pytest
from ansible.errors import AnsibleFilterError
from ansible_collections.pyops.uwsgi.plugins.filter.nginx_site_target import (
    FilterModule,
    nginx_site_target,
)


def test_the_target_of_a_site():
    assert nginx_site_target(["127.0.0.1:8080", "80"], ["_", "shop.example.org"]) == {
        "address": "127.0.0.1",
        "port": 8080,
        "host": "shop.example.org",
        "url": "http://127.0.0.1:8080",
    }


def test_the_defaults_of_the_nginx_role():
    # nginx_site_listen ["80"] and nginx_site_server_names ["_"]: any Host, on loopback.
    assert nginx_site_target(["80"], ["_"]) == {
        "address": "127.0.0.1",
        "port": 80,
        "host": "localhost",
        "url": "http://127.0.0.1:80",
    }


def test_empty_lists():
    assert nginx_site_target([], [])["url"] == "http://127.0.0.1:80"


@pytest.mark.parametrize(
    ("listen", "server_names"),
    [
        ("80", ["_"]),
        (["80"], "_"),
        (("80",), ["_"]),
        (["80"], ("_",)),
        (None, ["_"]),
        (["80"], None),
        ({"listen": "80"}, ["_"]),
        (80, ["_"]),
    ],
)
def test_refuses_what_is_not_two_lists(listen, server_names):
    with pytest.raises(AnsibleFilterError, match="takes two lists"):
        nginx_site_target(listen, server_names)


def test_a_site_listening_on_a_unix_socket_alone_has_no_url():
    # No TCP port to reach from the host: the caller sees an empty url, not a traceback.
    target = nginx_site_target(["unix:/run/nginx/shop.sock"], ["shop.test"])
    assert target == {"address": "", "port": 0, "host": "shop.test", "url": ""}


def test_registered_as_a_filter():
    assert FilterModule().filters() == {"nginx_site_target": nginx_site_target}
