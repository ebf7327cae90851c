"""Which lines of a front's site a drain and a restore change (module_utils/nginx_upstream.py),
on sites as the nginx role renders them."""

from __future__ import annotations

import pytest
from ansible_collections.pyops.uwsgi.plugins.module_utils import nginx_upstream
from ansible_collections.pyops.uwsgi.tests.unit.plugins import stand_in

APP1, APP2, APP3 = "10.213.7.11:3031", "10.213.7.12:3031", "10.213.7.13:3031"


def _site(upstream=(APP1, APP2, APP3)):
    checked, errors = stand_in.settings(
        "nginx",
        "site",
        nginx_site_name="hello",
        nginx_site_upstream=list(upstream),
        nginx_site_uwsgi_pass="",
    )
    assert not errors
    return stand_in.site_file(checked)


def _server_lines(text):
    return [line.strip() for line in text.splitlines() if line.strip().startswith("server 10.")]


def test_down_marks_only_the_servers_of_that_address():
    text = _site()
    after, changes = nginx_upstream.mark(text, ["10.213.7.12"], "down")
    assert [c.server for c in changes] == [APP2]
    assert changes[0].upstream == "pyops_hello"
    assert _server_lines(after) == [
        f"server {APP1} max_fails=1 fail_timeout=10s;",
        f"server {APP2} max_fails=1 fail_timeout=10s down;",
        f"server {APP3} max_fails=1 fail_timeout=10s;",
    ]
    # Nothing else of the site moves.
    assert [a for a, b in zip(after.splitlines(), text.splitlines()) if a != b] == [
        changes[0].after
    ]


def test_up_gives_back_the_site_as_rendered():
    text = _site()
    drained, _changes = nginx_upstream.mark(text, ["10.213.7.11"], "down")
    restored, changes = nginx_upstream.mark(drained, ["10.213.7.11"], "up")
    assert restored == text
    assert [(c.before.strip(), c.after.strip()) for c in changes] == [
        (
            f"server {APP1} max_fails=1 fail_timeout=10s down;",
            f"server {APP1} max_fails=1 fail_timeout=10s;",
        )
    ]


@pytest.mark.parametrize("state", ["down", "up"])
def test_marking_twice_changes_nothing_the_second_time(state):
    once, _changes = nginx_upstream.mark(_site(), ["10.213.7.11"], "down")
    once, _changes = nginx_upstream.mark(once, ["10.213.7.11"], state)
    twice, changes = nginx_upstream.mark(once, ["10.213.7.11"], state)
    assert (twice, changes) == (once, [])


def test_an_address_outside_the_upstream_changes_nothing():
    text = _site()
    assert nginx_upstream.mark(text, ["10.213.7.1", "10.213.7.111", ""], "down") == (text, [])


def test_server_lines_outside_an_upstream_block_are_left_alone():
    text = "server {\n    listen 80;\n    server 10.0.0.1:80;\n}\n"
    assert nginx_upstream.mark(text, ["10.0.0.1"], "down") == (text, [])


@pytest.mark.parametrize(
    ("server", "address", "expected"),
    [
        ("10.0.1.21:3031", "10.0.1.21", True),
        ("10.0.1.21", "10.0.1.21", True),
        ("10.0.1.21:3031", "10.0.1.2", False),
        ("[2001:db8::1]:3031", "2001:db8:0::1", True),
        ("[2001:db8::1]:3031", "[2001:db8::1]", True),
        ("App1.Internal:3031", "app1.internal", True),
        ("app1.internal:3031", "app1.internal.", True),
        ("app10.internal:3031", "app1.internal", False),
    ],
)
def test_a_server_matches_its_host_by_address_or_name(server, address, expected):
    assert nginx_upstream.matches(server, [address]) is expected


def test_comments_and_other_parameters_stay():
    text = "upstream u {\n  server 10.0.0.1:80 weight=2 down; # app1\n  server 10.0.0.2:80;\n}\n"
    after, _changes = nginx_upstream.mark(text, ["10.0.0.1"], "up")
    assert after.splitlines()[1] == "  server 10.0.0.1:80 weight=2; # app1"


def test_a_drain_that_leaves_no_server_up_is_refused():
    text = _site(upstream=(APP1, APP2))
    first, changes = nginx_upstream.mark(text, ["10.213.7.11"], "down")
    assert nginx_upstream.errors("hello", first, changes) == []
    both, changes = nginx_upstream.mark(first, ["10.213.7.12"], "down")
    (message,) = nginx_upstream.errors("hello", both, changes)
    assert "Site hello" in message and APP2 in message and "pyops_hello" in message
    assert "pyops_uwsgi_serial" in message


def test_servers_lists_each_group_with_its_state():
    drained, _changes = nginx_upstream.mark(_site(upstream=(APP1, APP2)), ["10.213.7.12"], "down")
    assert nginx_upstream.servers(drained) == {"pyops_hello": [(APP1, False), (APP2, True)]}


def test_an_unknown_state_is_refused():
    with pytest.raises(ValueError, match="state must be one of down, up"):
        nginx_upstream.mark("", ["10.0.0.1"], "drained")


def _proc(tmp_path, titles):
    for pid, title in titles.items():
        (tmp_path / str(pid)).mkdir()
        (tmp_path / str(pid) / "cmdline").write_bytes(title.encode() + b"\0")
    (tmp_path / "self").mkdir()
    return str(tmp_path)


def test_old_workers_are_those_nginx_titles_shutting_down(tmp_path):
    proc = _proc(
        tmp_path,
        {
            10: "nginx: master process /usr/sbin/nginx -g daemon on; master_process on;",
            11: "nginx: worker process",
            12: "nginx: worker process is shutting down",
            13: "hello abc123 uWSGI worker 1",
            14: "nginx: worker process is shutting down",
        },
    )
    assert nginx_upstream.old_workers(proc) == [12, 14]


def test_a_process_gone_while_read_is_not_counted(tmp_path):
    (tmp_path / "20").mkdir()
    assert nginx_upstream.old_workers(str(tmp_path)) == []


def test_the_servers_at_an_address_are_found_marked_or_not():
    site = (
        "upstream pyops_shop {\n"
        "    server 10.0.0.1:3031 down;\n"
        "    server 10.0.0.11:3031 max_fails=1;\n"
        "    server [2001:db8::1]:3031;\n"
        "}\n"
        "server {\n    listen 80;\n}\n"
    )
    assert nginx_upstream.at(site, ["10.0.0.1"]) == ["10.0.0.1:3031"]
    assert nginx_upstream.at(site, ["10.0.0.11", "2001:DB8::1"]) == [
        "10.0.0.11:3031",
        "[2001:db8::1]:3031",
    ]
    assert nginx_upstream.at(site, ["10.0.0.2"]) == []
