"""Tests for the test plugin pyops.uwsgi.found_as (plugins/test/host.py)."""

from __future__ import annotations

import pytest
from ansible_collections.pyops.uwsgi.plugins.test.host import TestModule, found_as, holds

FILE = {"exists": True, "type": "file", "owner": "root", "group": "root", "mode": "0644"}


def test_a_path_as_it_would_be_written_is_found_as_it():
    assert found_as(FILE, "file")
    assert found_as({**FILE, "type": "directory", "mode": "755"}, "directory", mode="0755")
    assert found_as({**FILE, "group": "shop", "mode": "2750"}, "file", "root", "shop", "2750")


@pytest.mark.parametrize(
    "reading",
    [
        {"exists": False},
        None,
        {},
        {**FILE, "type": "link"},
        {**FILE, "owner": "shop"},
        {**FILE, "group": "www-data"},
        {**FILE, "mode": "0664"},
        {**FILE, "mode": "4644"},
    ],
)
def test_anything_else_is_not(reading):
    assert not found_as(reading, "file")


def test_a_file_holds_its_text_only_as_written():
    found = {"texts": {"/etc/a": "x = 1\n"}, "paths": {"/etc/a": FILE}}
    assert holds(found, "/etc/a", "x = 1\n")
    assert not holds(found, "/etc/a", "x = 1")
    assert not holds(found, "/etc/a", "x = 1\n", mode="0640")
    assert not holds(found, "/etc/b", None), "a path not read holds nothing"
    assert not holds({"texts": None, "paths": None}, "/etc/a", "x = 1\n")
    unreadable = {"texts": {"/etc/a": None}, "paths": {"/etc/a": {"exists": False}}}
    assert not holds(unreadable, "/etc/a", "")


def test_the_plugin_offers_them():
    assert TestModule().tests() == {"found_as": found_as, "holds": holds}
