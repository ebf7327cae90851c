# Copyright: pyops.uwsgi contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Tests for what pyops.uwsgi.uwsgi_info read of a host (plugins/module_utils/app_state.py)."""

from __future__ import annotations

from ansible_collections.pyops.uwsgi.plugins.module_utils.app_state import as_wanted


def found_as(reading, kind, owner="root", group="root", mode="0644"):
    """Whether READING (one of uwsgi_info's paths) is a KIND with that OWNER, GROUP and MODE."""
    return as_wanted(reading, kind, owner, group, mode)


def holds(found, path, text, *, owner="root", group="root", mode="0644"):
    """Whether uwsgi_info's answer FOUND has PATH as a file with TEXT, OWNER, GROUP and MODE."""
    return (found.get("texts") or {}).get(path) == text and as_wanted(
        (found.get("paths") or {}).get(path), "file", owner, group, mode
    )


class TestModule:
    """pyops.uwsgi tests."""

    def tests(self):
        return {"found_as": found_as, "holds": holds}
