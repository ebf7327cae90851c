# Copyright: pyops.uwsgi contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Private (see __init__.py): the rules of who the app is, where it lives and what it runs.

Each rule is a function of (app, controller) that yields (ok, message): one pair, the message
naming the variable and the fix. rules.py lists them by name, in the order their messages show.

Pure: no I/O.
"""

from __future__ import annotations

import posixpath
import re

from ansible_collections.pyops.uwsgi.plugins.module_utils import (
    entry_point,
    host_paths,
    pip_settings,
    values,
)
from ansible_collections.pyops.uwsgi.plugins.module_utils._app import vassal
from ansible_collections.pyops.uwsgi.plugins.module_utils._app.model import App, Checks, Rule

# Options that would point uWSGI at another Python environment than the release's virtualenv.
VIRTUALENV_OPTIONS = ("virtualenv", "venv", "home", "pyhome")
_GIT_VERSION = re.compile(r"^[^ ;]+$")


# --- Identity -----------------------------------------------------------------------------------


def name_form(app: App, controller: dict) -> Checks:
    s = app.s
    yield (
        bool(values.SYSTEM_NAME.fullmatch(s["app_name"])),
        "app_name must be 1-32 characters of a-z, 0-9, '_' and '-' starting with a letter (it names"
        f" a system user, a socket and files); got '{s['app_name']}'.",
    )


def system_names(app: App, controller: dict) -> Checks:
    user, group = app.user, app.group
    yield (
        bool(values.SYSTEM_NAME.fullmatch(user) and values.SYSTEM_NAME.fullmatch(group)),
        "app_user and app_group must be system names of 1-32 characters of a-z, 0-9, '_' and '-'"
        f" starting with a letter; got user '{user}' and group '{group}'.",
    )


def name_not_taken(variable: str) -> Rule:
    """The rule that VARIABLE (app_name, app_user, app_group) names no account of the system's
    or the collection's (host_paths.name_problem); a user or group named after the app is
    judged as the app's name."""

    def rule(app: App, controller: dict) -> Checks:
        s = app.s
        name = {"app_name": s["app_name"], "app_user": app.user, "app_group": app.group}[variable]
        first = variable == "app_name" or name != s["app_name"]
        # root, nobody and nginx's group have a message of their own (own_identity).
        yield (
            not first
            or name in ("root", "nobody", "nogroup", app.web_group)
            or not host_paths.name_problem(variable, name),
            host_paths.name_problem(variable, name),
        )

    return rule


def own_identity(app: App, controller: dict) -> Checks:
    user, group, web_group = app.user, app.group, app.web_group
    yield (
        user not in ("root", "nobody", web_group) and group not in ("root", "nogroup", web_group),
        "The app must run as a user and group of its own, never root, nobody or nginx's"
        f" {web_group}: set app_user / app_group to a dedicated name (default: app_name).",
    )


def not_in_web_group(app: App, controller: dict) -> Checks:
    user, web_group = app.user, app.web_group
    yield (
        user not in (app.host.get("group_members") or []),
        f"User {user} is a member of {web_group}, so it could open every app's socket. Remove it"
        f" (gpasswd -d {user} {web_group}) or set app_user to a dedicated user.",
    )


# --- What the host has of the app (read before anything changes, host_request) ----------------


def host_request(app: App) -> dict[str, list[str]]:
    """What pyops.uwsgi.uwsgi_info reads for the host rules: every existing component of the
    app's directories (paths), the entries of its root (directories), its user and group."""
    wanted = set()
    for item in app.directories():
        normal = host_paths.normalize(item["path"])
        if normal:
            wanted.update([*host_paths.ancestors(normal), normal])
    root = host_paths.normalize(app.s["app_root"])
    return {
        "paths": sorted(wanted),
        "directories": [root] if root else [],
        "users": [app.user],
        "groups": [app.group],
    }


def _directory_setting(app, path):
    """The setting that puts the app's directory PATH where it is."""
    s = app.s
    if path in (app.runtime_dir,):
        return "app_socket"
    if s["app_state_dir"] and host_paths.inside(path, s["app_state_dir"]):
        return "app_state_dir"
    if host_paths.inside(path, s["app_root"]):
        return "app_root"
    return "app_stats"


def host_components(app: App, controller: dict) -> Checks:
    """No symbolic link or stranger's directory on the way to the app's directories, nothing the
    app did not create taken over."""
    host, root = app.host, host_paths.normalize(app.s["app_root"])
    readings = host.get("paths")
    problems = []
    own = {host_paths.normalize(item["path"]) for item in app.directories()}
    for item in app.directories() if readings is not None else []:
        path = host_paths.normalize(item["path"])
        if path is None:
            continue
        problems += host_paths.component_problems(
            _directory_setting(app, item["path"]),
            path,
            readings,
            owner=item["owner"],
            root_owned=item["owner"] == "root",
            own=own,
        )
    entries = (host.get("entries") or {}).get(root) or []
    names = sorted(entry["name"] for entry in entries)
    if names and "releases" not in names:
        problems.append(
            f"app_root {root} exists and holds {', '.join(names[:5])}"
            f"{', ...' if len(names) > 5 else ''}, which pyops.uwsgi did not put there: an app"
            " never takes over a directory it did not create. Choose another app_root or app name."
        )
    yield not problems, " ".join(dict.fromkeys(problems))


def existing_account(app: App, controller: dict) -> Checks:
    users, groups = app.host.get("users"), app.host.get("groups")
    problem = ""
    if users is not None and groups is not None:
        problem = host_paths.account_problem(
            app=app.name,
            user=app.user,
            group=app.group,
            root=app.s["app_root"],
            account=users.get(app.user),
            group_found=groups.get(app.group),
        )
    yield not problem, problem


# --- The code -----------------------------------------------------------------------------------


def one_source(app: App, controller: dict) -> Checks:
    s = app.s
    yield (
        (s["app_src_dir"] != "") != (s["app_git_repo"] != ""),
        "Set exactly one source of code: app_src_dir (a directory on the controller) or"
        f" app_git_repo (a git URL); got app_src_dir='{s['app_src_dir']}' and"
        f" app_git_repo='{s['app_git_repo']}'.",
    )


def source_directory(app: App, controller: dict) -> Checks:
    s = app.s
    yield (
        s["app_src_dir"] == "" or controller.get("src_dir_is_dir") is not False,
        f"app_src_dir '{s['app_src_dir']}' is not a directory on the controller (a relative path"
        f" is taken from the playbook's directory, {controller.get('playbook_dir', '')}).",
    )


def module_name(app: App, controller: dict) -> Checks:
    module = app.s["app_wsgi_module"]
    yield (
        # "wsgi.py" names module py of package wsgi: the tutorials' slip, never meant.
        all(values.IDENTIFIER.fullmatch(part) for part in module.split("."))
        and not module.endswith(".py"),
        "app_wsgi_module must be a Python module name such as wsgi or mysite.wsgi (no .py, no"
        f" slashes); got '{module}'.",
    )


def callable_name(app: App, controller: dict) -> Checks:
    s = app.s
    callable_problem = entry_point.parse_callable(s["app_wsgi_callable"])[2]
    yield (
        not callable_problem,
        f"app_wsgi_callable '{s['app_wsgi_callable']}' is not an entry point uWSGI 2.0 can load:"
        f" {callable_problem}. Write a name the module binds (application, app) or a factory"
        " called without arguments (create_app()).",
    )


def entry_module_exists(app: App, controller: dict) -> Checks:
    s = app.s
    module = s["app_wsgi_module"]
    module_file = posixpath.join(app.src_dir, *module.split("."))
    # Only when nothing but the code goes into the virtualenv can a module missing from the code
    # be proven missing; anything installed (requirements, packages, the project itself) may
    # provide it, and the import in the built release answers.
    only_code = not (
        s["app_project_install"]
        or s["app_pip_packages"]
        or controller.get("requirements_found")
        or controller.get("module_stdlib")
    )
    yield (
        s["app_src_dir"] == ""
        or not controller.get("src_dir_is_dir")
        or controller.get("module_found") is not False
        or not only_code,
        f"Pitfall 1a (Wrong entry point): app_wsgi_module '{module}' names no module in"
        f" app_src_dir: neither {module_file}.py nor {module_file}/__init__.py exists, and"
        " nothing else goes into the virtualenv (no requirements file, app_pip_packages or"
        " app_project_install). Set app_wsgi_module to the module that holds the WSGI callable.",
    )


def git_version(app: App, controller: dict) -> Checks:
    s = app.s
    yield (
        s["app_git_repo"] == "" or bool(_GIT_VERSION.fullmatch(s["app_git_version"])),
        "app_git_version must name a branch, tag or commit (no spaces); got"
        f" '{s['app_git_version']}'.",
    )


def exclude_names(app: App, controller: dict) -> Checks:
    s = app.s
    yield (
        not any("/" in item for item in s["app_src_exclude"]),
        "app_src_exclude takes file and directory names or patterns (such as .git or *.pyc), not"
        f" paths; got {s['app_src_exclude']}.",
    )


def keep_releases(app: App, controller: dict) -> Checks:
    s = app.s
    yield (
        s["app_keep_releases"] >= 1,
        "app_keep_releases must be 1 or more (the release serving counts as one); got"
        f" {s['app_keep_releases']}.",
    )


def place(setting: str) -> Rule:
    """The rule that SETTING (app_root, app_state_dir) is a place the app may own (host_paths);
    an empty app_state_dir (no state directory) yields nothing."""

    def rule(app: App, controller: dict) -> Checks:
        s = app.s
        if setting == "app_state_dir" and s[setting] == "":
            return
        problem = host_paths.judge(setting, s[setting], app=s["app_name"], run_dir=app.run_dir)
        yield (not problem, problem)

    return rule


# --- Python -------------------------------------------------------------------------------------


def python_version_form(app: App, controller: dict) -> Checks:
    s = app.s
    yield (
        s["app_python_version"] == ""
        or bool(values.PYTHON_VERSION.fullmatch(s["app_python_version"])),
        'app_python_version must be a Python version as "X.Y", such as "3.13" (not "3",'
        f' "python3.13" or "3.13.1"); got \'{s["app_python_version"]}\'.',
    )


def python_served(app: App, controller: dict) -> Checks:
    method, versions_var = app.uwsgi["label"], app.uwsgi["versions_var"]
    yield (
        app.python in app.uwsgi["served"],
        f"app_python_version {app.python} is not served by {method} uWSGI on this host, which"
        f" serves Python {', '.join(app.uwsgi['served']) or 'none'} that way: add {app.python} to"
        f" {versions_var} of the pyops.uwsgi.uwsgi role, or set app_python_version to a version"
        " it serves.",
    )


def interpreter_installed(app: App, controller: dict) -> Checks:
    yield (
        not app.record or app.python in (app.host.get("pythons") or []),
        f"The interpreter for Python {app.python} ({app.interpreter}) is not installed; apply the"
        f" pyops.uwsgi.uwsgi role with {app.python} in its versions.",
    )


def one_python_plugin(app: App, controller: dict) -> Checks:
    merged = vassal.merged_plugins(app)
    python_plugins = [plugin for plugin in merged if plugin.startswith("python")]
    yield (
        python_plugins == ([app.uwsgi["plugin"]] if app.by_plugin else []),
        "Pitfall 003 (Plugin embeds another Python): app_uwsgi_options loads"
        f" {', '.join(merged)}, but the app's virtualenv runs Python {app.python},"
        f" which only plugin {app.uwsgi['plugin']} embeds (pip-built uWSGI needs none); another"
        " plugin would run another Python and the virtualenv's packages would not import. Remove"
        " 'plugin' from app_uwsgi_options: app_python_version chooses both.",
    )


def virtualenv_options(app: App, controller: dict) -> Checks:
    yield (
        not any(option in app.s["app_uwsgi_options"] for option in VIRTUALENV_OPTIONS),
        "app_uwsgi_options must not set virtualenv/venv/home/pyhome: the role builds each"
        f" release's virtualenv with Python {app.python} and points uWSGI at it (pitfall 003"
        " otherwise). Install packages with app_requirements_file or app_pip_packages.",
    )


def requirements_file(app: App, controller: dict) -> Checks:
    requirements = app.s["app_requirements_file"]
    yield (
        requirements == ""
        or (not requirements.startswith(("/", " ")) and ".." not in requirements),
        "app_requirements_file must be a path inside the code, such as requirements.txt (not"
        f" absolute, no '..'), or empty; got '{requirements}'.",
    )


def _pip_requirement(item):
    return bool(item) and item[:1].isalnum() and not any(char.isspace() for char in item)


def pip_packages(app: App, controller: dict) -> Checks:
    s = app.s
    yield (
        all(_pip_requirement(item) for item in s["app_pip_packages"]),
        "app_pip_packages takes pip requirement strings such as flask==3.1.3, one per item, no"
        f" spaces; got {s['app_pip_packages']}.",
    )


def pip_setting(index: int) -> Rule:
    """Rule INDEX of pip_settings.rules, which the uwsgi role shares: 0 the index URLs, 1 the CA
    bundle."""

    def rule(app: App, controller: dict) -> Checks:
        yield [*pip_settings.rules("app", app.s)][index]

    return rule
