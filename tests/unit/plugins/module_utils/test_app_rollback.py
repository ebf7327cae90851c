"""Tests for the rollback's decisions (module_utils/app_state.py): which kept release serves again,
what is refused and how, and a converge that leaves a rollback in force as it is."""

from __future__ import annotations

import json
import posixpath

import pytest
from ansible_collections.pyops.uwsgi.plugins.module_utils import app_state
from ansible_collections.pyops.uwsgi.tests.unit.plugins import stand_in
from ansible_collections.pyops.uwsgi.tests.unit.plugins.module_utils.test_app_state import (
    LOG,
    converged,
)

# Three releases kept, built in this order; "bbb" serves.
BUILT = {"aaa": 100.0, "bbb": 200.0, "ccc": 300.0}


def plan_of(**overrides):
    planned = stand_in.app(**overrides)
    assert planned["errors"] == []
    return planned["plan"]


def kept(python="3.13", method="plugin", **built):
    markers = {
        name: (
            {"exists": True, "mtime": mtime},
            json.dumps({"release": name, "python": python, "uwsgi_method": method}),
        )
        for name, mtime in (built or BUILT).items()
    }
    markers["half"] = ({"exists": False}, None)  # a directory without its marker: not complete
    return app_state.kept_releases(markers)


def test_kept_releases_are_the_complete_ones_newest_build_first():
    assert [item["id"] for item in kept()] == ["ccc", "bbb", "aaa"]


def test_the_previous_release_is_the_newest_built_before_the_one_serving():
    plan = plan_of()
    assert app_state.rollback_choice(plan, kept(), "bbb") == ("aaa", "")
    # Rollbacks that follow each other step further back, not back and forth.
    assert app_state.rollback_choice(plan, kept(), "ccc") == ("bbb", "")


def test_a_named_kept_release_serves_again_newer_ones_too():
    plan = plan_of()
    assert app_state.rollback_choice(plan, kept(), "bbb", "ccc") == ("ccc", "")
    assert app_state.rollback_choice(plan, kept(), "bbb", "bbb") == ("bbb", "")


def test_a_release_not_kept_is_refused_naming_those_kept_and_the_one_serving():
    target, why = app_state.rollback_choice(plan_of(), kept(), "bbb", "0123456789ab")
    assert target == ""
    assert "Release 0123456789ab of hello is not kept" in why
    assert "Kept: ccc, bbb (serving), aaa." in why


def test_an_incomplete_release_is_not_kept():
    target, why = app_state.rollback_choice(plan_of(), kept(), "bbb", "half")
    assert (target, "not kept" in why) == ("", True)


def test_no_older_release_is_refused_with_the_way_to_name_one():
    target, why = app_state.rollback_choice(plan_of(), kept(), "aaa")
    assert target == ""
    assert "keeps no release built before the one serving, aaa" in why
    assert "app_rollback_release" in why


def test_nothing_serving_is_refused():
    assert app_state.rollback_choice(plan_of(), kept(), "") == (
        "",
        "App hello has no release serving: there is nothing to roll back.",
    )


@pytest.mark.parametrize(("python", "method"), [("3.11", "plugin"), ("3.13", "pip")])
def test_a_release_built_for_another_python_or_method_is_refused(python, method):
    target, why = app_state.rollback_choice(plan_of(), kept(python, method), "ccc")
    assert target == ""
    assert f"built for Python {python} with uWSGI's {method} method" in why
    assert "settings now serve Python 3.13 with the plugin method" in why


def test_a_release_recorded_before_python_was_recorded_serves():
    markers = {
        "old": ({"exists": True, "mtime": 1.0}, "{}"),
        "new": ({"exists": True, "mtime": 2.0}, "{}"),
    }
    assert app_state.rollback_choice(plan_of(), app_state.kept_releases(markers), "new") == (
        "old",
        "",
    )


@pytest.mark.parametrize(
    ("release", "settings", "names"),
    [
        ("", {}, []),
        ("5fcaec61ab12", {"app_name": "shop"}, []),
        ("../etc", {}, ["app_rollback_release"]),
        ("a/b", {}, ["app_rollback_release"]),
        ("", {"app_src_dir": "x"}, ["app_rollback_settings"]),
    ],
)
def test_the_rollback_settings_are_checked(release, settings, names):
    errors = app_state.rollback_errors(release, settings)
    assert [error.partition(":")[0] for error in errors] == names


def test_the_plan_of_a_named_release_serves_its_code_and_virtualenv_with_the_settings():
    plan = stand_in.app(release="aaa")["plan"]
    assert plan["release"]["id"] == "aaa"
    assert plan["release"]["dir"].endswith("/releases/aaa")
    assert f"virtualenv = {plan['release']['dir']}/venv" in plan["vassal"]["text"]
    assert f"chdir = {plan['release']['dir']}/code" in plan["vassal"]["text"]


# --- The record of a rollback, and the converge that follows --------------------------------------


def after_rollback(plan, serving, record):
    """uwsgi_info's answer where PLAN's release is kept but SERVING serves, with RECORD."""
    found = converged(plan)
    releases = plan["paths"]["releases"]
    found["paths"][plan["paths"]["current"]]["target"] = posixpath.join(releases, serving)
    found["entries"][releases].append({"name": serving, "type": "directory", "mtime": 1.0})
    found["texts"][plan["paths"]["rolled_back"]] = record
    return found


def record(release, *replaced, at="2025-01-02 03:04:05 UTC"):
    return json.dumps({"release": release, "replaced": list(replaced), "at": at})


def test_request_reads_the_record_of_a_rollback():
    plan = plan_of()
    assert plan["paths"]["rolled_back"] in app_state.request(plan, LOG)["texts"]


def test_a_converge_that_would_undo_a_rollback_is_held_and_says_so():
    plan = plan_of()
    new = plan["release"]["id"]
    state = app_state.compare(plan, after_rollback(plan, "old", record("old", new)), LOG)
    assert state["deploying"] and state["held"]
    assert state["held_message"].startswith(
        f"App hello serves release old, rolled back to on 2025-01-02 03:04:05 UTC; its settings"
        f" build release {new}, which that rollback replaced"
    )
    assert "app_deploy_rolled_back=true" in state["held_message"]


def test_a_converge_told_to_deploys_over_the_rollback():
    plan = plan_of(app_deploy_rolled_back=True)
    found = after_rollback(plan, "old", record("old", plan["release"]["id"]))
    state = app_state.compare(plan, found, LOG)
    assert (state["deploying"], state["held"], state["held_message"]) == (True, False, "")


@pytest.mark.parametrize(
    "text",
    [
        None,  # no rollback
        record("other", "x"),  # a rollback another deploy ended (what serves is not its release)
        "not json",
    ],
)
def test_without_a_rollback_in_force_a_converge_deploys(text):
    plan = plan_of()
    state = app_state.compare(plan, after_rollback(plan, "old", text), LOG)
    assert state["deploying"] and not state["held"]


def test_new_code_deploys_over_a_rollback():
    plan = plan_of()
    state = app_state.compare(plan, after_rollback(plan, "old", record("old", "bad")), LOG)
    assert state["deploying"] and not state["held"]


def test_the_releases_replaced_accumulate_while_rollbacks_follow_each_other():
    plan = plan_of()
    found = after_rollback(plan, "bbb", record("bbb", "ccc"))
    state = app_state.compare(plan, found, LOG)
    again = json.loads(app_state.rollback_marker({**plan, "state": state}, "aaa", "now"))
    assert again == {"release": "aaa", "replaced": ["ccc", "bbb"], "at": "now"}
    # Rolling forward to a release replaced takes it off the list.
    forward = json.loads(app_state.rollback_marker({**plan, "state": state}, "ccc", "now"))
    assert forward["replaced"] == ["bbb"]


def test_a_first_rollback_replaces_the_release_serving():
    plan = plan_of()
    state = app_state.compare(plan, converged(plan), LOG)
    marker = json.loads(app_state.rollback_marker({**plan, "state": state}, "aaa", "now"))
    assert marker == {"release": "aaa", "replaced": [plan["release"]["id"]], "at": "now"}
