"""Tests for module_utils/app_state.py: the host compared with an app's plan, from one reading."""

from __future__ import annotations

import copy
import posixpath

import pytest
from ansible_collections.pyops.uwsgi.plugins.module_utils import app_state
from ansible_collections.pyops.uwsgi.tests.unit.plugins import stand_in

LOG = "/var/log/nginx/error.log"
SYSTEMD = {"app_supervisor": "systemd", "app_socket_activation": True}
WORKERS = {
    "app_state_dir": "/var/lib/hello",
    "app_workers": [{"name": "mail", "command": ["python", "-m", "mail"], "count": 2}],
    "app_jobs": [{"name": "clean", "command": ["python", "-m", "clean"], "calendar": "daily"}],
}

CONFIG = {"app_config_files": [{"dest": "local_settings.py", "content": "KEY = 'one'"}]}


def plan_of(**overrides):
    planned = stand_in.app(**overrides)
    assert planned["errors"] == []
    return planned["plan"]


def path(kind, owner="root", group="root", mode="0755", **more):
    return {"exists": True, "type": kind, "owner": owner, "group": group, "mode": mode, **more}


def converged(plan, mtime=1000.0):
    """uwsgi_info's answer to request(PLAN) on a host where PLAN was deployed (as of MTIME)."""
    release, environment, workers = plan["release"], plan["environment"], plan["workers"]
    asked = app_state.request(plan, LOG)
    found = {
        "paths": {key: {"exists": False} for key in asked["paths"]},
        "texts": dict.fromkeys(asked["texts"]),
        "entries": dict.fromkeys(asked["directories"]),
        "users": {
            plan["user"]: {
                "uid": 998,
                "group": plan["group"],
                "home": plan["paths"]["root"],
                "shell": "/usr/sbin/nologin",
                "comment": plan["comment"],
                "password_locked": True,
            }
        },
        "groups": {plan["group"]: {"gid": 998}},
    }
    for item in plan["directories"]:
        found["paths"][item["path"]] = path("directory", item["owner"], item["group"], item["mode"])
    found["paths"][release["marker"]] = path("file", mode="0644")
    found["paths"][plan["paths"]["current"]] = path("link", mode="0777", target=release["dir"])
    found["paths"][plan["paths"]["tmpfiles"]] = path("file", mode="0644")
    found["paths"][plan["paths"]["nginx_socket"]] = path(
        "link", mode="0777", target=plan["paths"]["socket"]
    )
    found["paths"][environment["dir"]] = path("directory")
    found["paths"][environment["file"]] = path("file", group=plan["group"], mode="0640")
    found["paths"][LOG] = path("file", "www-data", "adm", "0640", size=4242)
    found["texts"][plan["paths"]["config"]] = plan["vassal"]["text"]
    if plan["supervisor"] == "systemd":
        unit = plan["unit"]
        for kind in ("service", "socket"):
            found["texts"][f"{unit['dir']}/{unit['name']}.{kind}"] = unit[kind] or None
    found["texts"][plan["paths"]["tmpfiles"]] = plan["tmpfiles"]
    found["texts"][environment["file"]] = environment["text"]
    found["paths"][plan["run"]["dir"]] = path("directory", mode="0700")
    found["paths"][plan["run"]["file"]] = path("file", mode="0600")
    found["texts"][plan["run"]["file"]] = plan["run"]["text"]
    found["entries"][plan["paths"]["releases"]] = [
        {"name": posixpath.basename(release["dir"]), "type": "directory", "mtime": mtime}
    ]
    found["entries"][environment["dir"]] = [
        {"name": posixpath.basename(environment["file"]), "type": "file", "mtime": mtime}
    ]
    if plan["envdir"]["path"]:
        found["entries"][plan["envdir"]["root"]] = [
            {"name": posixpath.basename(plan["envdir"]["path"]), "type": "directory", "mtime": 1}
        ]
    found["entries"][workers["dir"]] = [
        {"name": unit["name"], "type": "file", "mtime": mtime} for unit in workers["units"]
    ]
    config = plan["config"]
    if config["dir"]:
        found["paths"][config["current"]] = path("link", mode="0777", target=config["dir"])
        found["entries"][config["root"]] = [
            {"name": posixpath.basename(config["dir"]), "type": "directory", "mtime": mtime},
            {"name": "current", "type": "link", "mtime": mtime},
        ]
    for wants, names in zip(workers["wants"], (workers["instances"], workers["timers"])):
        found["entries"][wants] = [{"name": name, "type": "link", "mtime": 1} for name in names]
    return found


NOTHING_TO_DO = {
    "release_built": True,
    "deploying": False,
    "canary_left": False,
    "group_differs": False,
    "user_differs": False,
    "directories_differing": [],
    "tmpfiles_differs": False,
    "nginx_socket_differs": False,
    "environment_dir_differs": False,
    "environment_file_differs": False,
    "environment_file_new": False,
    "envdir_new": False,
    "releases_to_remove": [],
    "envdirs_to_remove": [],
    "environment_files_to_remove": [],
    "units_to_disable": [],
    "unit_files_to_remove": [],
    "config_differs": False,
    "config_dirs_to_remove": [],
    "nginx_error_log_size": 4242,
    "run_record_differs": False,
    "account_differs": False,
    "environment_differs": False,
    "cleanup_due": False,
}


@pytest.mark.parametrize(
    "overrides",
    [
        {},
        WORKERS,
        {"app_env": {"A": "line\nbreak"}},
        SYSTEMD,
        {"app_supervisor": "systemd"},
        CONFIG,
    ],
)
def test_a_host_that_has_the_plan_has_nothing_to_change(overrides):
    plan = plan_of(**overrides)
    state = app_state.compare(plan, converged(plan), LOG)
    assert {key: state[key] for key in NOTHING_TO_DO} == NOTHING_TO_DO
    # Workers and jobs wanted are always started (and restarted on a deploy).
    assert state["workers_due"] == bool(overrides.get("app_workers"))
    assert state["current_release"] == plan["release"]["id"]
    assert state["deployed_text"] == plan["vassal"]["text"]


@pytest.mark.parametrize("kind", ["service", "socket"])
def test_a_changed_unit_of_its_own_is_a_deploy(kind):
    # A changed unit restarts the app: the canary must serve meanwhile, as on any deploy.
    plan = plan_of(**SYSTEMD)
    found = converged(plan)
    found["texts"][f"/etc/systemd/system/uwsgi-app-hello.{kind}"] += "# changed\n"
    assert app_state.compare(plan, found, LOG)["deploying"]


def test_a_socket_unit_left_when_activation_is_off_is_a_deploy():
    plan = plan_of(app_supervisor="systemd")
    found = converged(plan)
    found["texts"]["/etc/systemd/system/uwsgi-app-hello.socket"] = "[Socket]\n"
    assert app_state.compare(plan, found, LOG)["deploying"]


def test_a_canary_socket_outside_a_deploy_is_a_deploy_cut_short_and_deployed_again():
    # Killed after it wrote the configuration and before the service loaded it: the files are the
    # plan's, the running app is not, and only the canary it left tells.
    plan = plan_of(**SYSTEMD)
    found = converged(plan)
    found["paths"][plan["canary"]["socket"]] = path("socket", "hello", "www-data", "0660")
    state = app_state.compare(plan, found, LOG)
    assert state["canary_left"] and state["deploying"]


def test_request_asks_for_every_path_the_comparison_reads():
    plan = plan_of(**WORKERS)
    asked = app_state.request(plan, LOG)
    assert plan["paths"]["config"] in asked["texts"]
    assert {item["path"] for item in plan["directories"]} <= set(asked["paths"])
    assert set(plan["workers"]["wants"]) <= set(asked["directories"])
    assert (asked["users"], asked["groups"]) == ([plan["user"]], [plan["group"]])


def test_a_bare_host_differs_in_everything():
    plan = plan_of(**WORKERS)
    asked = app_state.request(plan, LOG)
    bare = {
        "paths": {key: {"exists": False} for key in asked["paths"]},
        "texts": dict.fromkeys(asked["texts"]),
        "entries": dict.fromkeys(asked["directories"]),
        "users": {plan["user"]: None},
        "groups": {plan["group"]: None},
    }
    state = app_state.compare(plan, bare, LOG)
    assert state["deploying"] and not state["release_built"]
    assert (state["current_release"], state["deployed_text"]) == ("", "")
    assert state["group_differs"] and state["user_differs"]
    assert state["directories_differing"] == plan["directories"]
    assert state["tmpfiles_differs"] and state["environment_file_differs"]
    assert state["environment_dir_differs"] and state["environment_file_new"]
    assert not state["envdir_new"], "this plan has no envdir"
    assert state["releases_to_remove"] == state["unit_files_to_remove"] == []
    assert state["nginx_error_log_size"] == 0
    assert state["account_differs"] and state["environment_differs"] and state["workers_due"]
    assert not state["cleanup_due"]


def test_a_new_configuration_or_release_is_a_deploy():
    plan = plan_of()
    found = converged(plan)
    found["texts"][plan["paths"]["config"]] += "harakiri = 30\n"
    assert app_state.compare(plan, found, LOG)["deploying"]
    found = converged(plan)
    found["paths"][plan["paths"]["current"]]["target"] = "/srv/hello/releases/0123456789ab"
    state = app_state.compare(plan, found, LOG)
    assert state["deploying"] and state["current_release"] == "0123456789ab"
    # Not a link (a directory someone put there): no release serves.
    found["paths"][plan["paths"]["current"]] = path("directory")
    assert app_state.compare(plan, found, LOG)["current_release"] == ""


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("group", "users"),
        ("home", "/home/hello"),
        ("shell", "/bin/bash"),
        # Made by a release of the role before accounts were marked: the marker is added.
        ("comment", ""),
        ("password_locked", False),
        # /etc/shadow could not be read: the user module decides.
        ("password_locked", None),
    ],
)
def test_a_user_unlike_the_plan_differs(field, value):
    plan = plan_of()
    found = converged(plan)
    found["users"][plan["user"]] = {**found["users"][plan["user"]], field: value}
    state = app_state.compare(plan, found, LOG)
    assert state["user_differs"] and state["account_differs"]


@pytest.mark.parametrize(
    ("field", "value"),
    [("owner", "root"), ("group", "www-data"), ("mode", "0770"), ("type", "link")],
)
def test_a_directory_unlike_the_plan_differs_alone(field, value):
    plan = plan_of(app_state_dir="/var/lib/hello")
    found = converged(plan)
    state_dir = next(item for item in plan["directories"] if item["path"] == "/var/lib/hello")
    found["paths"][state_dir["path"]] = {**found["paths"][state_dir["path"]], field: value}
    state = app_state.compare(plan, found, LOG)
    assert state["directories_differing"] == [state_dir] and state["account_differs"]


def test_modes_compare_as_numbers_with_their_special_bits():
    plan = plan_of()
    runtime = next(item for item in plan["directories"] if item["mode"] == "2750")
    found = converged(plan)
    found["paths"][runtime["path"]]["mode"] = "02750"
    assert app_state.compare(plan, found, LOG)["directories_differing"] == []
    found["paths"][runtime["path"]]["mode"] = "0750"
    assert app_state.compare(plan, found, LOG)["directories_differing"] == [runtime]


@pytest.mark.parametrize(
    "reading",
    [
        {"exists": False},
        # Left at the canary's socket by a deploy cut short.
        {"exists": True, "type": "link", "target": "/run/uwsgi/hello/canary.sock"},
        {"exists": True, "type": "socket"},
    ],
    ids=["missing", "at-the-canary", "not-a-link"],
)
def test_nginx_s_link_is_put_back_unless_it_points_at_the_app_s_socket(reading):
    plan = plan_of()
    found = converged(plan)
    found["paths"][plan["paths"]["nginx_socket"]] = reading
    state = app_state.compare(plan, found, LOG)
    assert state["nginx_socket_differs"] and state["account_differs"]


@pytest.mark.parametrize("what", ["text", "group", "mode"])
def test_files_differ_in_content_owner_or_mode(what):
    plan = plan_of()
    found = converged(plan)
    environment = plan["environment"]["file"]
    tmpfiles = plan["paths"]["tmpfiles"]
    if what == "text":
        found["texts"][environment] += "B=1\n"
        found["texts"][tmpfiles] = found["texts"][tmpfiles].replace("2750", "2755")
    else:
        changed = {"group": "other"} if what == "group" else {"mode": "0666"}
        found["paths"][environment] = {**found["paths"][environment], **changed}
        found["paths"][tmpfiles] = {**found["paths"][tmpfiles], **changed}
    state = app_state.compare(plan, found, LOG)
    assert state["environment_file_differs"] and state["tmpfiles_differs"]
    assert not state["deploying"]


@pytest.mark.parametrize(
    "change",
    [
        lambda found, run: found["texts"].update({run["file"]: None}),
        lambda found, run: found["texts"].update({run["file"]: run["text"] + " "}),
        lambda found, run: found["paths"][run["file"]].update(mode="0644"),
        lambda found, run: found["paths"][run["dir"]].update(mode="0755"),
        lambda found, run: found["paths"].update({run["dir"]: {"exists": False}}),
    ],
    ids=["missing", "other-text", "file-readable", "dir-open", "no-dir"],
)
def test_pyops_run_s_record_is_rewritten_when_it_or_its_directory_differs(change):
    plan = plan_of()
    found = converged(plan)
    change(found, plan["run"])
    state = app_state.compare(plan, found, LOG)
    assert state["run_record_differs"]
    # Nothing else follows from it: neither a deploy nor the account's steps.
    assert not state["deploying"] and not state["account_differs"]


def test_old_releases_beyond_keep_go_newest_first_never_the_planned_one():
    plan = plan_of(app_keep_releases=3)
    found = converged(plan, mtime=50.0)
    releases = plan["paths"]["releases"]
    found["entries"][releases] += [
        {"name": name, "type": "directory", "mtime": mtime}
        for name, mtime in [("a", 10.0), ("b", 40.0), ("c", 30.0), ("d", 20.0)]
    ]
    # Not a release: a file someone left there.
    found["entries"][releases].append({"name": "notes.txt", "type": "file", "mtime": 5.0})
    state = app_state.compare(plan, found, LOG)
    # The planned one and the two newest others stay.
    assert state["releases_to_remove"] == [f"{releases}/d", f"{releases}/a"]
    assert state["cleanup_due"]
    # Even when the planned release is the oldest, and the keep count is one.
    found["entries"][releases][0]["mtime"] = 1.0
    plan["release"]["keep"] = 1
    state = app_state.compare(plan, found, LOG)
    assert sorted(state["releases_to_remove"]) == [f"{releases}/{n}" for n in "abcd"]


def test_envdirs_and_environment_files_nothing_reads_go():
    plan = plan_of(app_env={"A": "line\nbreak"})
    found = converged(plan)
    envdir_root, env_dir = plan["envdir"]["root"], plan["environment"]["dir"]
    found["entries"][envdir_root].append({"name": "0ld", "type": "directory", "mtime": 1.0})
    found["entries"][env_dir] += [
        {"name": "hello.0123456789ab.env", "type": "file", "mtime": 1.0},
        # Another app's, and not a file.
        {"name": "hello2.0123456789ab.env", "type": "file", "mtime": 1.0},
        {"name": "hello.dir.env", "type": "directory", "mtime": 1.0},
    ]
    state = app_state.compare(plan, found, LOG)
    assert state["envdirs_to_remove"] == [f"{envdir_root}/0ld"]
    assert state["environment_files_to_remove"] == [f"{env_dir}/hello.0123456789ab.env"]


def test_an_environment_not_there_before_is_new_one_that_differs_only_in_mode_is_not():
    plan = plan_of(app_env={"A": "line\nbreak"})
    found = converged(plan)
    file, envdir = plan["environment"]["file"], plan["envdir"]
    found["paths"][file] = {**found["paths"][file], "mode": "0644"}
    state = app_state.compare(plan, found, LOG)
    assert state["environment_file_differs"]
    assert not state["environment_file_new"] and not state["envdir_new"]
    # A new app_env: both are named after it, and neither is there yet.
    found["paths"][file] = {"exists": False}
    found["entries"][envdir["root"]] = [{"name": "0ld", "type": "directory", "mtime": 1.0}]
    state = app_state.compare(plan, found, LOG)
    assert state["environment_file_new"] and state["envdir_new"]


def test_an_environment_file_a_worker_reads_is_never_new():
    # Deleted by hand while a worker's unit still names it: written again, and a failed deploy
    # must not take it away from the worker.
    plan = plan_of(**WORKERS)
    found = converged(plan)
    file = plan["environment"]["file"]
    found["paths"][file] = {"exists": False}
    unit = plan["workers"]["units"][0]
    unit_path = posixpath.join(plan["workers"]["dir"], unit["name"])
    assert unit_path in app_state.request(plan, LOG)["texts"]
    found["texts"][unit_path] = f"[Service]\nEnvironmentFile={file}\n"
    state = app_state.compare(plan, found, LOG)
    assert state["environment_file_differs"] and not state["environment_file_new"]
    found["texts"][unit_path] = "[Service]\nEnvironmentFile=/etc/uwsgi/env/other.env\n"
    assert app_state.compare(plan, found, LOG)["environment_file_new"]


def test_workers_and_jobs_taken_out_are_disabled_and_their_units_removed():
    plan = plan_of(**WORKERS)
    found = converged(plan)
    workers = plan["workers"]
    unit_dir, (multi_user, timers) = workers["dir"], workers["wants"]
    found["entries"][unit_dir] += [
        {"name": "uwsgi-app-hello.worker-old@.service", "type": "file", "mtime": 1.0},
        {"name": "uwsgi-app-hello.job-old.timer", "type": "file", "mtime": 1.0},
        # Not this app's.
        {"name": "uwsgi-app-hello2.worker-mail@.service", "type": "file", "mtime": 1.0},
        {"name": "nginx.service", "type": "file", "mtime": 1.0},
    ]
    found["entries"][multi_user] += [
        # An instance beyond the count, and one of a worker taken out.
        {"name": "uwsgi-app-hello.worker-mail@3.service", "type": "link", "mtime": 1.0},
        {"name": "uwsgi-app-hello.worker-old@1.service", "type": "link", "mtime": 1.0},
    ]
    found["entries"][timers].append(
        {"name": "uwsgi-app-hello.job-old.timer", "type": "link", "mtime": 1.0}
    )
    state = app_state.compare(plan, found, LOG)
    assert state["units_to_disable"] == [
        "uwsgi-app-hello.worker-mail@3.service",
        "uwsgi-app-hello.worker-old@1.service",
        "uwsgi-app-hello.job-old.timer",
    ]
    assert state["unit_files_to_remove"] == [
        f"{unit_dir}/uwsgi-app-hello.job-old.timer",
        f"{unit_dir}/uwsgi-app-hello.worker-old@.service",
    ]


def test_workers_all_taken_out_are_still_due_for_removal():
    plan = plan_of()
    found = converged(plan)
    assert not app_state.compare(plan, found, LOG)["workers_due"]
    unit_dir = plan["workers"]["dir"]
    found["entries"][unit_dir] = [
        {"name": "uwsgi-app-hello.worker-old@.service", "type": "file", "mtime": 1.0}
    ]
    state = app_state.compare(plan, found, LOG)
    assert state["unit_files_to_remove"] and state["workers_due"]


def test_the_comparison_does_not_change_the_plan_or_the_answer():
    plan = plan_of(**WORKERS)
    found = converged(plan)
    before = copy.deepcopy((plan, found))
    app_state.compare(plan, found, LOG)
    assert (plan, found) == before


def test_a_changed_configuration_file_is_a_deploy_and_the_old_directory_goes_after_it():
    before = plan_of(**CONFIG)
    after = plan_of(app_config_files=[{"dest": "local_settings.py", "content": "KEY = 'two'"}])
    state = app_state.compare(after, converged(before), LOG)
    assert state["deploying"] and state["config_differs"]
    # What a failed deploy points the link back at.
    assert state["config_current"] == before["config"]["dir"]
    assert state["config_dirs_to_remove"] == [before["config"]["dir"]]
    assert state["cleanup_due"]
    # The release is the same: no build.
    assert state["release_built"] and state["current_release"] == after["release"]["id"]


def test_configuration_files_taken_out_remove_the_link_on_a_deploy():
    before = plan_of(**CONFIG)
    state = app_state.compare(plan_of(), converged(before), LOG)
    assert state["deploying"] and state["config_differs"]
    assert state["config_dirs_to_remove"] == [before["config"]["dir"]]
    assert plan_of()["config"]["dir"] == ""


def test_a_link_to_the_configuration_removed_by_hand_is_a_deploy():
    plan = plan_of(**CONFIG)
    found = converged(plan)
    found["paths"][plan["config"]["current"]] = {"exists": False}
    state = app_state.compare(plan, found, LOG)
    assert state["deploying"] and state["config_current"] == ""
