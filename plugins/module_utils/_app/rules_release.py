# Copyright: pyops.uwsgi contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Private (see __init__.py): the rules of what runs beside the app and from its release.

The release's build and release commands, the shared data linked into each release, the workers
and jobs. Each rule is a function of (app, controller) that yields (ok, message); rules.py lists
them by name, in the order their messages show.

Pure: no I/O.
"""

from __future__ import annotations

import re

from ansible_collections.pyops.uwsgi.plugins.module_utils import values
from ansible_collections.pyops.uwsgi.plugins.module_utils._app import config_files, units
from ansible_collections.pyops.uwsgi.plugins.module_utils._app.model import App, Checks, Rule
from ansible_collections.pyops.uwsgi.plugins.module_utils._app.rules_serving import URL_PREFIX

_WORKER_NAME = re.compile(r"^[a-z0-9][a-z0-9_-]{0,31}$")
_SHARED_PATH = re.compile(r"^[A-Za-z0-9_.@+-]+(/[A-Za-z0-9_.@+-]+)*$")


# --- Release phases, shared data, workers and jobs ----------------------------------------------


def phase_commands(var: str, *, scoped: bool = False) -> Rule:
    """The rule that VAR (app_build_commands, app_release_commands, app_post_release_commands)
    lists commands; SCOPED: its items may take a scope (app_release_commands)."""

    def rule(app: App, controller: dict) -> Checks:
        default_scope = None
        if scoped:
            default_scope = app.s.get("app_release_commands_scope") or "every_host"
        problems = units.phase_items(app.s[var], default_scope)[1]
        yield (
            not problems,
            f"{var} takes commands, each a list of arguments (or a dict with command and, to skip"
            f" it once a path exists, creates"
            f"{'; and scope, once or every_host' if scoped else ''}): {'; '.join(problems)}.",
        )

    return rule


def command_timeout(app: App, controller: dict) -> Checks:
    s = app.s
    yield (
        1 <= s["app_command_timeout"] <= 86400,
        f"app_command_timeout must be 1 to 86400 seconds; got {s['app_command_timeout']}.",
    )


def _shared_problem(path):
    if not isinstance(path, str) or not _SHARED_PATH.fullmatch(path):
        return "is not a relative path of names (letters, digits, . _ - @ +) joined by /"
    if path.startswith("/") or any(part in ("", ".", "..") for part in path.split("/")):
        return "escapes the code directory (absolute, '.' or '..')"
    return ""


def _overlaps(first, second):
    return first == second or first.startswith(second + "/") or second.startswith(first + "/")


def _shared_paths(app):
    return [item["path"] for item in app.s["app_shared_paths"]]


def shared_inside_code(app: App, controller: dict) -> Checks:
    bad = {path: _shared_problem(path) for path in _shared_paths(app) if _shared_problem(path)}
    yield (
        not bad,
        "app_shared_paths paths must be directories inside the code, such as instance or"
        " media/uploads: "
        + "; ".join(f"'{path}' {problem}" for path, problem in bad.items())
        + ".",
    )


def shared_apart(app: App, controller: dict) -> Checks:
    paths = _shared_paths(app)
    overlapping = sorted(
        {
            f"'{first}' and '{second}'"
            for index, first in enumerate(paths)
            for second in paths[index + 1 :]
            if _overlaps(first, second)
        }
    )
    yield (
        not overlapping,
        "app_shared_paths paths must not overlap (one inside another, or twice):"
        f" {', '.join(overlapping)}.",
    )


def shared_keep_code(app: App, controller: dict) -> Checks:
    module = app.s["app_wsgi_module"]
    top = module.split(".")[0]
    hiding = [
        path
        for path in _shared_paths(app)
        if controller.get("module_found") and path.split("/")[0] in (top, f"{top}.py")
    ]
    yield (
        not hiding,
        f"app_shared_paths must not replace the code: {', '.join(hiding)} holds the entry module"
        f" {module}.",
    )


def shared_need_state_dir(app: App, controller: dict) -> Checks:
    s = app.s
    yield (
        not s["app_shared_paths"] or s["app_state_dir"] != "",
        "app_shared_paths live under app_state_dir, which is empty: set app_state_dir (such as"
        f" /var/lib/{s['app_name']}) or leave app_shared_paths empty.",
    )


def shared_urls(app: App, controller: dict) -> Checks:
    s = app.s
    urls = [item["url"] for item in s["app_shared_paths"] if item["url"]]
    taken = [s["app_static_url"]] if s["app_static_url"] else []
    yield (
        all(URL_PREFIX.fullmatch(url) and url != "/" for url in urls)
        and len(set(urls + taken)) == len(urls + taken),
        "app_shared_paths urls must start and end with '/' (such as /media/), differ from each"
        f" other and from app_static_url ('{s['app_static_url']}'), and not be '/'; got {urls}.",
    )


def shared_internal_needs_url(app: App, controller: dict) -> Checks:
    bare = [
        item["path"] for item in app.s["app_shared_paths"] if item["internal"] and not item["url"]
    ]
    yield (
        not bare,
        "app_shared_paths internal serves a url to the app's X-Accel-Redirect only, and"
        f" {', '.join(repr(path) for path in bare)} has none: give it a url such as /protected/,"
        " or drop internal.",
    )


def shared_internal_apart(app: App, controller: dict) -> Checks:
    s = app.s
    internal = [item["url"] for item in s["app_shared_paths"] if item["internal"] and item["url"]]
    others = [item["url"] for item in s["app_shared_paths"] if item["url"]]
    others += [s["app_static_url"]] if s["app_static_url"] else []
    # Equal urls are shared_urls' to refuse.
    nested = sorted(
        {
            f"'{url}' and '{other}'"
            for url in internal
            for other in others
            if values.nginx_prefixes_nested(url, other)
        }
    )
    yield (
        not nested,
        "app_shared_paths internal urls must not lie inside another url of the site (the other"
        " app_shared_paths urls, app_static_url) or hold one, so that which location answers is"
        f" plain: {', '.join(nested)}. Give the internal url a prefix of its own, such as"
        " /protected/.",
    )


def shared_url_needs_site(app: App, controller: dict) -> Checks:
    s = app.s
    urls = [item["url"] for item in s["app_shared_paths"] if item["url"]]
    yield (
        not urls or s["app_nginx_site"],
        "app_shared_paths url needs the app's nginx site (app_nginx_site true), which serves it.",
    )


def unit_names(var: str) -> Rule:
    """The rule that VAR's (app_workers, app_jobs) names may name systemd units, once each."""

    def rule(app: App, controller: dict) -> Checks:
        names = [item["name"] for item in app.s[var]]
        yield (
            all(_WORKER_NAME.fullmatch(name) for name in names) and len(set(names)) == len(names),
            f"{var} names must be distinct, 1-32 characters of a-z, 0-9, '_' and '-' (they name"
            f" systemd units); got {names}.",
        )

    return rule


def unit_commands(var: str) -> Rule:
    """The rule that VAR's (app_workers, app_jobs) commands are lists of arguments."""

    def rule(app: App, controller: dict) -> Checks:
        problems = [
            f"{item['name']}: {units.command_problem(item['command'])}"
            for item in app.s[var]
            if units.command_problem(item["command"])
        ]
        yield (
            not problems,
            f"{var} commands must be lists of arguments: {'; '.join(problems)}.",
        )

    return rule


def worker_count(app: App, controller: dict) -> Checks:
    low = [f"{item['name']}: {item['count']}" for item in app.s["app_workers"] if item["count"] < 1]
    yield (
        not low,
        f"app_workers counts must be 1 or more (remove a worker from the list to stop it); got"
        f" {', '.join(low)}.",
    )


def job_calendar(app: App, controller: dict) -> Checks:
    calendars = app.host.get("calendars") or {}
    rejected = []
    for item in app.s["app_jobs"]:
        calendar = item["calendar"]
        found = calendars.get(calendar)
        if not calendar.strip() or any(char in calendar for char in "\n\r"):
            rejected.append(f"{item['name']}: '{calendar}' is empty or has a line break")
        elif found and not found.get("valid"):
            rejected.append(f"{item['name']}: '{calendar}': {found.get('message')}")
        elif found and found.get("next") == "never":
            rejected.append(f"{item['name']}: '{calendar}' never elapses (a time in the past)")
    yield (
        not rejected,
        "app_jobs calendars must be systemd calendar expressions (OnCalendar=, such as daily or"
        " Mon *-*-* 04:00; see systemd.time(7)), as `systemd-analyze calendar` on the host takes"
        f" them: {'; '.join(rejected)}.",
    )


# --- Configuration files ------------------------------------------------------------------------


def _config_dests(app):
    return [item["dest"] for item in app.s["app_config_files"]]


def config_inside_code(app: App, controller: dict) -> Checks:
    bad = {
        dest: config_files.dest_problem(dest)
        for dest in _config_dests(app)
        if config_files.dest_problem(dest)
    }
    yield (
        not bad,
        "app_config_files dest must be a file inside the code, such as instance/config.py: "
        + "; ".join(f"'{dest}' {problem}" for dest, problem in bad.items())
        + ".",
    )


def config_keep_code(app: App, controller: dict) -> Checks:
    module_file, package = config_files.module_paths(app)
    hiding = [
        dest
        for dest in _config_dests(app)
        if dest in (module_file, package) or dest.startswith(package + "/")
    ]
    yield (
        not hiding,
        f"app_config_files must not replace the code: {', '.join(hiding)} is the entry module"
        f" {app.s['app_wsgi_module']} or lies inside it. Put the file beside it (such as"
        " local_settings.py), or in a shared path (such as instance/config.py).",
    )


def config_beside_shared(app: App, controller: dict) -> Checks:
    shared = _shared_paths(app)
    over = [
        f"'{dest}' over '{path}'"
        for dest in _config_dests(app)
        for path in shared
        if dest == path or path.startswith(dest + "/")
    ]
    yield (
        not over,
        "app_config_files dest must be a file, not one of app_shared_paths or a directory holding"
        f" one: {', '.join(over)}. Name a file inside it, such as instance/config.py.",
    )


def config_once(app: App, controller: dict) -> Checks:
    dests = _config_dests(app)
    twice = sorted(
        {
            f"'{first}' and '{second}'"
            for index, first in enumerate(dests)
            for second in dests[index + 1 :]
            if _overlaps(first, second)
        }
    )
    yield (
        not twice,
        "app_config_files dest must name each file once, and no file inside another:"
        f" {', '.join(twice)}.",
    )


def config_source(app: App, controller: dict) -> Checks:
    problems = []
    for item in config_files.items(app):
        given = [key for key in ("src", "content") if item.get(key) is not None]
        if len(given) != 1:
            which = "both" if given else "neither"
            problems.append(f"'{item['dest']}' has {which} of src and content")
        elif given == ["src"] and config_files.content_of(app, item) is None:
            problems.append(f"'{item['dest']}': the template '{item['src']}' was not found")
    yield (
        not problems,
        "app_config_files takes, for each file, either content (its text, templated as any"
        " variable) or src (a template on the controller): " + "; ".join(problems) + ".",
    )


def config_modes(app: App, controller: dict) -> Checks:
    bad = [
        f"'{item['dest']}' mode {item['mode']!r} {config_files.mode_problem(item['mode'])}"
        for item in config_files.items(app)
        if config_files.mode_problem(item["mode"])
    ]
    yield (
        not bad,
        "app_config_files mode must be an octal mode in quotes without execute, world or special"
        " bits, such as '0640' (the default) or '0600': " + "; ".join(bad) + ".",
    )
