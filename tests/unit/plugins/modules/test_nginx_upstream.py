"""pyops.uwsgi.nginx_upstream on site files in a directory of the test's own."""

from __future__ import annotations

import os

import pytest
from ansible_collections.pyops.uwsgi.plugins.module_utils import nginx_upstream as utils
from ansible_collections.pyops.uwsgi.plugins.modules import nginx_upstream
from ansible_collections.pyops.uwsgi.tests.unit.plugins.module_args import run_main

SITE = """upstream pyops_{name} {{
    server 10.0.0.1:3031 max_fails=1 fail_timeout=10s;
    server 10.0.0.2:3031 max_fails=1 fail_timeout=10s;
}}
"""


@pytest.fixture
def sites(tmp_path):
    for name in ("hello", "shop"):
        path = tmp_path / f"{name}.conf"
        path.write_text(SITE.format(name=name))
        path.chmod(0o640)
    (tmp_path / "notes.txt").write_text("server 10.0.0.1:3031;\n")
    return tmp_path


def _run(capsys, sites_dir, **options):
    return run_main(nginx_upstream.main, capsys, {"sites_dir": str(sites_dir), **options})


def test_down_marks_every_site_then_up_puts_them_back(capsys, sites):
    result, _code = _run(capsys, sites, addresses=["10.0.0.2"], state="down")
    assert result["changed"] is True
    assert sorted(os.path.basename(f) for f in result["files"]) == ["hello.conf", "shop.conf"]
    assert [(s["site"], s["server"]) for s in result["servers"]] == [
        ("hello", "10.0.0.2:3031"),
        ("shop", "10.0.0.2:3031"),
    ]
    assert "fail_timeout=10s down;" in (sites / "shop.conf").read_text()
    # Replaced whole, with the old file's mode.
    assert (sites / "shop.conf").stat().st_mode & 0o777 == 0o640
    result, _code = _run(capsys, sites, addresses=["10.0.0.2"], state="up")
    assert result["changed"] is True
    assert (sites / "hello.conf").read_text() == SITE.format(name="hello")
    result, _code = _run(capsys, sites, addresses=["10.0.0.2"], state="up")
    assert result["changed"] is False


def test_named_sites_only(capsys, sites):
    result, _code = _run(
        capsys, sites, addresses=["10.0.0.1"], state="down", sites=["shop", "gone"]
    )
    assert [os.path.basename(f) for f in result["files"]] == ["shop.conf"]
    assert (sites / "hello.conf").read_text() == SITE.format(name="hello")


def test_check_mode_writes_nothing_and_shows_the_diff(capsys, sites):
    result, _code = _run(
        capsys,
        sites,
        addresses=["10.0.0.1"],
        state="down",
        _ansible_check_mode=True,
        _ansible_diff=True,
    )
    assert result["changed"] is True
    assert "10.0.0.1:3031 max_fails=1 fail_timeout=10s down;" in result["diff"][0]["after"]
    assert (sites / "hello.conf").read_text() == SITE.format(name="hello")


def test_a_drain_leaving_no_server_is_refused_and_writes_nothing(capsys, sites):
    _run(capsys, sites, addresses=["10.0.0.1"], state="down", sites=["hello"])
    result, code = _run(capsys, sites, addresses=["10.0.0.2"], state="down")
    assert code == 1
    assert "Nothing was changed" in result["msg"] and "Site hello" in result["msg"]
    # The other site, which could have taken it, is unchanged too.
    assert (sites / "shop.conf").read_text() == SITE.format(name="shop")


def test_marking_needs_an_address(capsys, sites):
    result, code = _run(capsys, sites, state="down")
    assert code == 1 and "addresses" in result["msg"]


def test_drained_waits_for_old_workers(capsys, sites, monkeypatch):
    found = iter([[41, 42], [42], []])
    monkeypatch.setattr(utils, "old_workers", lambda: next(found))
    monkeypatch.setattr("time.sleep", lambda _s: None)
    result, _code = _run(capsys, sites, state="drained", wait=30)
    assert (result["changed"], result["drained"], result["old_workers"]) == (False, True, [])


def test_drained_warns_when_workers_outlast_the_wait(capsys, sites, monkeypatch):
    monkeypatch.setattr(utils, "old_workers", lambda: [41])
    # Recorded here: once controller code is loaded (other tests), Ansible shows module warnings
    # on the display instead of returning them.
    warned = []
    monkeypatch.setattr(
        nginx_upstream.AnsibleModule, "warn", lambda _self, text: warned.append(text)
    )
    result, code = _run(capsys, sites, state="drained", wait=0)
    assert code == 0 and result["drained"] is False and result["old_workers"] == [41]
    assert len(warned) == 1 and "pids 41" in warned[0]


def test_a_drain_that_finds_the_host_nowhere_says_so(capsys, sites, monkeypatch):
    warned = []
    monkeypatch.setattr(
        nginx_upstream.AnsibleModule, "warn", lambda _self, text: warned.append(text)
    )
    result, _code = _run(capsys, sites, addresses=["web1.internal"], state="down")
    assert result["changed"] is False and result["matched"] == []
    assert len(warned) == 1 and "nothing to drain on this front" in warned[0]
    # Drained already: found, nothing changes, no warning.
    _run(capsys, sites, addresses=["10.0.0.1"], state="down")
    result, _code = _run(capsys, sites, addresses=["10.0.0.1"], state="down")
    assert result["changed"] is False
    assert result["matched"] == ["10.0.0.1:3031", "10.0.0.1:3031"]
    assert len(warned) == 1
