# Copyright: pyops.uwsgi contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""What an app's plan would change on a host, decided from one reading of it.

``request(plan, nginx_error_log)`` names what pyops.uwsgi.uwsgi_info must read (paths, texts,
directories, the app's user and group) to compare the plan with the host; ``compare(plan, found,
nginx_error_log)`` takes its answer and returns the app's state: the release built and the one
serving, whether a deploy is due, which of the user, group, directories, tmpfiles entry, nginx's
link to the socket, environment file and pyops-run's record differ from the plan, and which old
releases, envdirs, environment files and units of workers and jobs are to go.

The role's tasks skip what does not differ, so a converge that changes nothing costs one reading
instead of a round trip per file; what differs is still changed (and shown, under --check --diff)
by Ansible's own modules.

Pure: no I/O.
"""

from __future__ import annotations

import fnmatch
import json
import posixpath
import re


def _mode(text):
    return int(str(text), 8)


def as_wanted(found, kind, owner, group, mode):
    """Whether a path's reading (uwsgi_info's paths) is a KIND with that owner, group and mode."""
    return (
        bool(found)
        and found.get("exists", False)
        and found.get("type") == kind
        and found.get("owner") == owner
        and found.get("group") == group
        and _mode(found.get("mode", "0")) == _mode(mode)
    )


def request(plan, nginx_error_log):
    """uwsgi_info's arguments for what compare() needs."""
    workers = plan["workers"]
    return {
        "paths": [
            *[item["path"] for item in plan["directories"]],
            plan["release"]["marker"],
            plan["paths"]["current"],
            plan["static_bridge"]["link"],
            plan["paths"]["nginx_socket"],
            plan["canary"]["socket"],
            plan["paths"]["tmpfiles"],
            plan["environment"]["dir"],
            plan["environment"]["file"],
            plan["run"]["dir"],
            plan["run"]["file"],
            plan["config"]["current"],
            nginx_error_log,
        ],
        # The configuration serving now, put back if a deploy fails; it may hold app_env.
        "texts": [
            plan["paths"]["config"],
            *_own_units(plan).values(),
            plan["paths"]["tmpfiles"],
            plan["environment"]["file"],
            plan["run"]["file"],
            # Whether a worker or job already reads the environment file (see compare()).
            *_unit_paths(plan),
            # A rollback in force (see held()).
            plan["paths"]["rolled_back"],
        ],
        "directories": [
            plan["paths"]["releases"],
            plan["envdir"]["root"],
            plan["environment"]["dir"],
            plan["config"]["root"],
            workers["dir"],
            *workers["wants"],
        ],
        "users": [plan["user"]],
        "groups": [plan["group"]],
    }


def _own_units(plan):
    """{text of the plan's unit: its path}, for an app with a unit of its own; {} for a vassal."""
    if plan["supervisor"] != "systemd":
        return {}
    unit = plan["unit"]
    return {kind: f"{unit['dir']}/{unit['name']}.{kind}" for kind in ("service", "socket")}


def _unit_paths(plan):
    workers = plan["workers"]
    return [posixpath.join(workers["dir"], unit["name"]) for unit in workers["units"]]


def _file_differs(found, path, text, *, group="root", mode="0644"):
    """Whether the file at PATH (root's) differs from TEXT, its group or its mode."""
    reading = found["paths"].get(path)
    return found["texts"].get(path) != text or not as_wanted(reading, "file", "root", group, mode)


def _links_to(found, path, target):
    """Whether PATH is a symbolic link to TARGET."""
    reading = found["paths"].get(path) or {}
    return reading.get("type") == "link" and reading.get("target") == target


def _user_differs(plan, account):
    return account is None or (
        account.get("group"),
        account.get("home"),
        account.get("shell"),
        account.get("comment"),
        account.get("password_locked"),
    ) != (plan["group"], plan["paths"]["root"], plan["shell"], plan["comment"], True)


def _entries(found, directory, kind=None):
    """Paths of DIRECTORY's entries (of type KIND), newest first."""
    entries = found["entries"].get(directory) or []
    return [
        posixpath.join(directory, entry["name"])
        for entry in sorted(entries, key=lambda entry: entry["mtime"], reverse=True)
        if kind is None or entry["type"] == kind
    ]


def _stale_workers(plan, found):
    """(instances and timers enabled but no longer wanted, unit files no longer wanted)."""
    workers = plan["workers"]

    def matching(directory):
        return sorted(
            path
            for path in _entries(found, directory)
            if any(fnmatch.fnmatchcase(posixpath.basename(path), p) for p in workers["patterns"])
        )

    wanted = set(workers["instances"] + workers["timers"])
    enabled = [
        posixpath.basename(path)
        for directory in workers["wants"]
        for path in matching(directory)
        if posixpath.basename(path) not in wanted
    ]
    written = {posixpath.join(workers["dir"], unit["name"]) for unit in workers["units"]}
    files = [path for path in matching(workers["dir"]) if path not in written]
    return enabled, files


def _static_bridge(plan, found, current_release):
    """The static bridge on the host: whether this run links the release serving now as the
    previous one (a switch to another release), whether a link is left that no bridge wants, and
    the releases a bridge links (the one linked now, and the one this switch will link)."""
    bridge, releases = plan["static_bridge"], plan["paths"]["releases"]
    reading = found["paths"].get(bridge["link"]) or {}
    switching = current_release not in ("", plan["release"]["id"])
    due = bridge["time"] > 0 and switching
    linked = []
    if bridge["time"] > 0 and reading.get("type") == "link":
        linked.append(reading.get("target", ""))
    if due:
        linked.append(posixpath.join(releases, current_release))
    return {
        "due": due,
        # Whatever is there (a link, or anything else by that name): nginx would look into it.
        "left": bridge["time"] == 0 and reading.get("exists", False),
        "linked": linked,
    }


def compare(plan, found, nginx_error_log):
    """The app's STATE on the host, from uwsgi_info's answer FOUND to request(PLAN, ...)."""
    paths, release, environment = plan["paths"], plan["release"], plan["environment"]
    run = plan["run"]
    current = found["paths"].get(paths["current"]) or {}
    current_release = (
        posixpath.basename(current.get("target", "")) if current.get("type") == "link" else ""
    )
    deployed_text = found["texts"].get(paths["config"]) or ""
    # A changed unit (or socket unit, "" when activation is off) restarts the app: a deploy too,
    # so that the canary serves meanwhile.
    units_differ = any(
        (found["texts"].get(path) or "") != plan["unit"][kind]
        for kind, path in _own_units(plan).items()
    )
    bridge = _static_bridge(plan, found, current_release)
    other_releases = [
        path
        for path in _entries(found, paths["releases"], "directory")
        if path != release["dir"] and path not in bridge["linked"]
    ]
    rolled_back = rollback_record(found["texts"].get(paths["rolled_back"]))
    stale_enabled, stale_files = _stale_workers(plan, found)
    config = plan["config"]
    config_link = found["paths"].get(config["current"]) or {}
    config_current = config_link.get("target", "") if config_link.get("type") == "link" else ""
    log = found["paths"].get(nginx_error_log) or {}
    # A canary's socket outside a deploy: a deploy was cut short (its canary left running, or the
    # socket of one killed); it may have switched half, so the deploy runs again.
    canary_left = (found["paths"].get(plan["canary"]["socket"]) or {}).get("exists", False)
    state = {
        "release_built": (found["paths"].get(release["marker"]) or {}).get("exists", False),
        "current_release": current_release,
        "deployed_text": deployed_text,
        # A new release, a new configuration, new units or a deploy cut short: the deploy steps
        # run, else the keep steps.
        "deploying": deployed_text != plan["vassal"]["text"]
        or current_release != release["id"]
        or units_differ
        or canary_left
        or config_current != config["dir"],
        "canary_left": canary_left,
        "group_differs": found["groups"].get(plan["group"]) is None,
        "user_differs": _user_differs(plan, found["users"].get(plan["user"])),
        "directories_differing": [
            item
            for item in plan["directories"]
            if not as_wanted(
                found["paths"].get(item["path"]),
                "directory",
                item["owner"],
                item["group"],
                item["mode"],
            )
        ],
        "tmpfiles_differs": _file_differs(found, paths["tmpfiles"], plan["tmpfiles"]),
        # nginx's link to the app's socket (a deploy left it at the canary's only if it was cut
        # short).
        "nginx_socket_differs": not _links_to(found, paths["nginx_socket"], paths["socket"]),
        "environment_dir_differs": not as_wanted(
            found["paths"].get(environment["dir"]), "directory", "root", "root", "0755"
        ),
        "environment_file_differs": _file_differs(
            found, environment["file"], environment["text"], group=plan["group"], mode="0640"
        ),
        # Written by this converge, not there before and read by no unit of a worker or job: a
        # deploy that fails removes them again, so nothing it wrote is left for the next converge
        # to clean up. (A file deleted by hand that units still name is written, never removed.)
        "environment_file_new": not (found["paths"].get(environment["file"]) or {}).get("exists")
        and not any(
            environment["file"] in (found["texts"].get(path) or "") for path in _unit_paths(plan)
        ),
        "envdir_new": plan["envdir"]["path"] != ""
        and plan["envdir"]["path"] not in _entries(found, plan["envdir"]["root"], "directory"),
        # Beyond app_keep_releases, newest kept first; never the release planned (it serves
        # once deployed, and serves already when nothing is deployed), nor the one a static
        # bridge links to (it stays, beyond app_keep_releases too, until its link is gone).
        "releases_to_remove": other_releases[max(release["keep"] - 1, 0) :],
        "bridge_due": bridge["due"],
        "bridge_left": bridge["left"],
        "envdirs_to_remove": [
            path
            for path in _entries(found, plan["envdir"]["root"], "directory")
            if path != plan["envdir"]["path"]
        ],
        "environment_files_to_remove": sorted(
            path
            for path in _entries(found, environment["dir"], "file")
            if fnmatch.fnmatchcase(posixpath.basename(path), environment["pattern"])
            and path != environment["file"]
        ),
        # pyops-run's record, root's alone in a directory root's alone.
        "run_record_differs": _file_differs(found, run["file"], run["text"], mode="0600")
        or not as_wanted(found["paths"].get(run["dir"]), "directory", "root", "root", "0700"),
        "units_to_disable": stale_enabled,
        "unit_files_to_remove": stale_files,
        # The configuration files: where their link points (put back by a failed deploy), and
        # the directories of other contents, which no release reads once this one serves.
        "config_current": config_current,
        "config_differs": config_current != config["dir"],
        "config_dirs_to_remove": [
            path for path in _entries(found, config["root"], "directory") if path != config["dir"]
        ],
        # The release names under releases/, newest first (pyops-releases tells them apart).
        "releases": [
            posixpath.basename(path) for path in _entries(found, paths["releases"], "directory")
        ],
        "rolled_back": rolled_back,
        "held": held(plan, current_release, rolled_back),
        # Where a failed deploy's lines in nginx's error log begin.
        "nginx_error_log_size": log.get("size", 0) if log.get("exists") else 0,
    }
    # Whether each group of steps has anything to do: a step file is not even included otherwise.
    state["account_differs"] = (
        state["group_differs"]
        or state["user_differs"]
        or state["tmpfiles_differs"]
        or state["nginx_socket_differs"]
        or bool(state["directories_differing"])
    )
    state["environment_differs"] = (
        state["environment_dir_differs"] or state["environment_file_differs"]
    )
    state["held_message"] = held_message({**plan, "state": state})
    state["workers_due"] = bool(
        plan["workers"]["units"] or state["units_to_disable"] or state["unit_files_to_remove"]
    )
    state["cleanup_due"] = bool(
        state["releases_to_remove"]
        or state["envdirs_to_remove"]
        or state["environment_files_to_remove"]
        or state["config_dirs_to_remove"]
        or state["bridge_left"]
    )
    return state


# --- Rollback -----------------------------------------------------------------------------------


def rollback_record(text):
    """The rollback in force as the file paths.rolled_back says it: {"release": rolled back to
    ("" without one, or unreadable), "replaced": [releases it replaced, latest last], "at"}."""
    try:
        record = json.loads(text or "{}")
    except ValueError:
        record = {}
    if not isinstance(record, dict) or not isinstance(record.get("release"), str):
        return {"release": "", "replaced": [], "at": ""}
    replaced = record.get("replaced")
    return {
        "release": record["release"],
        "replaced": [item for item in replaced if isinstance(item, str)]
        if isinstance(replaced, list)
        else [],
        "at": str(record.get("at", "")),
    }


def held(plan, current_release, rolled_back):
    """Whether this converge leaves the app as it is: a rollback is in force (its release serves)
    and the plan's release is one it replaced, which app_deploy_rolled_back did not allow."""
    release = plan["release"]
    return (
        bool(rolled_back["release"])
        and current_release == rolled_back["release"]
        and release["id"] != current_release
        and release["id"] in rolled_back["replaced"]
        and not release["deploy_rolled_back"]
    )


def held_message(plan):
    """What a held converge says (plan["state"] as compare() made it); empty when not held."""
    state = plan["state"]
    rolled_back = state["rolled_back"]
    if not state["held"]:
        return ""
    return (
        f"App {plan['name']} serves release {state['current_release']}, rolled back to on"
        f" {rolled_back['at'] or 'an unknown date'}; its settings build release"
        f" {plan['release']['id']}, which that rollback replaced, so it was not deployed again"
        " and nothing of the app changed. Deploy it with app_deploy_rolled_back=true"
        " (-e app_deploy_rolled_back=true), or roll back with other code."
    )


_RELEASE_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,63}")


def rollback_errors(release, settings):
    """The rollback entry point's own settings: RELEASE (app_rollback_release) a release's name,
    SETTINGS (app_rollback_settings) empty or a dict of app_* settings naming the app."""
    rules = {
        "app_rollback_release": (
            not release or bool(_RELEASE_NAME.fullmatch(release)),
            "a release's name (a directory under APP_ROOT/releases, as pyops-releases lists it)"
            f" is 1-64 letters, digits, '.', '_' or '-'; got {release!r}.",
        ),
        "app_rollback_settings": (
            not settings or (isinstance(settings, dict) and bool(settings.get("app_name"))),
            "an item of uwsgi_apps (a dict of app_* settings with app_name), or empty for the"
            " app_* variables.",
        ),
    }
    return [f"{name}: {message}" for name, (ok, message) in rules.items() if not ok]


def kept_releases(markers):
    """The complete releases, newest build first, from MARKERS: {release name: its marker's
    reading (uwsgi_info's paths) and text}, as {"id", "built" (seconds), "record"}."""
    kept = []
    for name, (reading, text) in markers.items():
        if not (reading or {}).get("exists"):
            continue
        try:
            record = json.loads(text or "{}")
        except ValueError:
            record = {}
        kept.append(
            {
                "id": name,
                "built": reading.get("mtime", 0),
                "record": record if isinstance(record, dict) else {},
            }
        )
    return sorted(kept, key=lambda item: (item["built"], item["id"]), reverse=True)


def _listing(kept, serving):
    names = ", ".join(item["id"] + (" (serving)" if item["id"] == serving else "") for item in kept)
    return names or "none"


def rollback_choice(plan, kept, serving, wanted=""):
    """(the release to serve, "") or ("", why not): WANTED if kept, else with WANTED empty the
    newest release built before the one SERVING. KEPT is kept_releases()' answer."""
    name = plan["name"]
    if not serving:
        return "", f"App {name} has no release serving: there is nothing to roll back."
    by_id = {item["id"]: item for item in kept}
    if wanted:
        target = by_id.get(wanted)
        if target is None:
            return "", (
                f"Release {wanted} of {name} is not kept on this host (app_keep_releases), so it"
                f" cannot serve again. Kept: {_listing(kept, serving)}."
            )
    else:
        built = by_id[serving]["built"] if serving in by_id else float("inf")
        older = [item for item in kept if item["id"] != serving and item["built"] <= built]
        if not older:
            return "", (
                f"App {name} keeps no release built before the one serving, {serving}. Kept:"
                f" {_listing(kept, serving)}; name one with app_rollback_release (-e release=ID)."
            )
        target = older[0]
    why = _unservable(plan, target["record"], target["id"])
    return ("", why) if why else (target["id"], "")


def _unservable(plan, record, release):
    """Why a kept RELEASE cannot serve with the plan's settings ("" when it can): its virtualenv
    is for the Python and uWSGI method its RECORD names."""
    wanted = (plan["python"]["version"], plan["release"]["record"]["uwsgi_method"])
    built = (record.get("python") or wanted[0], record.get("uwsgi_method") or wanted[1])
    if built == wanted:
        return ""
    return (
        f"Release {release} of {plan['name']} was built for Python {built[0]} with uWSGI's"
        f" {built[1]} method; the settings now serve Python {wanted[0]} with the"
        f" {wanted[1]} method, which its virtualenv cannot: set app_python_version and"
        " app_uwsgi_method as they were, or deploy."
    )


def rollback_marker(plan, target, at):
    """The text of paths.rolled_back after rolling back to TARGET at AT (a date), from the plan's
    state: the releases replaced accumulate while rollbacks follow each other (the serving one is
    a rollback's)."""
    state = plan["state"]
    serving, earlier = state["current_release"], state["rolled_back"]
    replaced = list(earlier["replaced"]) if earlier["release"] == serving else []
    replaced = [item for item in [*replaced, serving] if item != target]
    return json.dumps({"release": target, "replaced": replaced, "at": at}, sort_keys=True) + "\n"
