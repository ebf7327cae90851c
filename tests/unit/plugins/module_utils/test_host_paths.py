"""Where the collection may own directories: paths as the kernel resolves them, names, accounts.

Besides the cases, a property-based test (hypothesis) feeds the app's plan generated paths and
names and asserts that whatever plan it accepts owns only directories of the app's own.
"""

from __future__ import annotations

import posixpath

import pytest
from ansible_collections.pyops.uwsgi.plugins.module_utils import env_file, host_paths
from ansible_collections.pyops.uwsgi.tests.unit.plugins import stand_in
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st


@pytest.mark.parametrize(
    ("given_path", "resolved"),
    [
        ("/var/lib/", "/var/lib"),
        ("/var/lib/.", "/var/lib"),
        ("/var/lib/..", "/var"),
        ("//", "/"),
        ("//srv", "/srv"),
        ("///srv//shop/", "/srv/shop"),
        ("/srv/x/../..", "/"),
        ("/run/uwsgi/../x.sock", "/run/x.sock"),
        ("/..", "/"),
    ],
)
def test_paths_are_normalized_as_the_kernel_resolves_them(given_path, resolved):
    assert host_paths.normalize(given_path) == resolved


@pytest.mark.parametrize("value", ["", "srv/shop", "~/shop", None, 3, "/srv/a\x00b"])
def test_what_is_not_an_absolute_path_has_no_normal_form(value):
    assert host_paths.normalize(value) is None


@pytest.mark.parametrize(
    ("setting", "value", "expected"),
    [
        ("app_root", "/srv/shop", ""),
        ("app_root", "/opt/shop", ""),
        ("app_root", "/var/www/shop", ""),
        ("app_root", "/srv/shop/", "must be written as the kernel resolves it, '/srv/shop'"),
        ("app_root", "/srv//shop", "must be written as the kernel resolves it"),
        ("app_root", "/srv", "directly under /srv or /opt or /var/www"),
        ("app_root", "/srv/other", "its last part must be the app's name, shop"),
        ("app_root", "/srv/shop/code", "directly under /srv"),
        ("app_root", "/etc/shop", "directly under /srv"),
        ("app_root", "/srv/x/../..", "(which the kernel resolves to /)"),
        ("app_root", "shop", "must be an absolute path such as /srv/shop"),
        ("app_state_dir", "/var/lib/shop", ""),
        ("app_state_dir", "/var/lib/", "(which the kernel resolves to /var/lib)"),
        ("app_state_dir", "/var/lib/nginx", "its last part must be the app's name"),
        ("app_state_dir", "/srv/shop", "directly under /var/lib"),
        ("app_socket", "/run/uwsgi/shop/shop.sock", ""),
        ("app_socket", "/run/uwsgi/shop/web.sock", ""),
        ("app_socket", "/run/uwsgi/shop.sock", "the socket must sit in a directory of the app's"),
        ("app_socket", "/run/uwsgi/../x.sock", "(which the kernel resolves to /run/x.sock)"),
        ("app_socket", "/run/uwsgi/stats/shop.sock", "directly under /run/uwsgi"),
        ("app_socket", "/run/uwsgi/shop/./shop.sock", "must be written as the kernel resolves it"),
        ("uwsgi_run_dir", "/run/uwsgi", ""),
        ("uwsgi_run_dir", "/run/uwsgi-apps", ""),
        ("uwsgi_run_dir", "/run/systemd", "its name must be uwsgi"),
        ("uwsgi_run_dir", "/run", "directly under /run"),
        ("uwsgi_vassals_dir", "/etc/uwsgi/vassals", ""),
        ("uwsgi_vassals_dir", "/etc/uwsgi/env", "not a name of its own"),
        ("uwsgi_vassals_dir", "/etc/uwsgi/apps-enabled", "not a name of its own"),
        ("uwsgi_vassals_dir", "/etc", "directly under /etc/uwsgi"),
        ("uwsgi_plugin_dir", "/usr/local/lib/uwsgi/plugins", ""),
        ("uwsgi_plugin_dir", "/usr/lib/uwsgi/plugins", "directly under /usr/local/lib/uwsgi"),
        ("uwsgi_pip_root", "/opt/uwsgi", ""),
        ("uwsgi_pip_root", "/opt", "directly under /opt"),
    ],
)
def test_each_setting_takes_only_its_places(setting, value, expected):
    problem = host_paths.judge(setting, value, app="shop")
    if expected:
        assert expected in problem
        assert problem.startswith(setting)
    else:
        assert problem == ""


def test_names_of_the_collection_and_the_system_are_refused():
    assert "gives paths of its own" in host_paths.name_problem("app_name", "stats")
    assert "account or a directory of the system" in host_paths.name_problem("app_user", "mail")
    assert host_paths.name_problem("app_name", "shop") == ""


MARKED = {
    "home": "/srv/shop",
    "shell": host_paths.NOLOGIN,
    "comment": "pyops.uwsgi app shop",
    "group": "shop",
}


@pytest.mark.parametrize(
    ("account", "group", "expected"),
    [
        (None, None, ""),
        (MARKED, {"gid": 998}, ""),
        # Made by the role before it marked accounts: its root as home, no login shell.
        ({**MARKED, "comment": ""}, {"gid": 998}, ""),
        ({**MARKED, "comment": "pyops.uwsgi app blog"}, {"gid": 998}, "did not create it"),
        ({**MARKED, "comment": "", "home": "/var/mail"}, {"gid": 8}, "home /var/mail"),
        ({**MARKED, "comment": "Alice", "shell": "/bin/bash"}, None, "User shop already exists"),
        # An existing group the app's user does not have: a stranger's.
        (None, {"gid": 8}, "Group shop already exists on this host (gid 8)"),
        ({**MARKED, "group": "users"}, {"gid": 100}, "is not the group of app shop's own user"),
    ],
)
def test_an_existing_account_is_adopted_only_when_the_app_made_it(account, group, expected):
    problem = host_paths.account_problem(
        app="shop",
        user="shop",
        group="shop",
        root="/srv/shop",
        account=account,
        group_found=group,
    )
    assert (expected in problem) if expected else problem == ""


def _dir(owner="root", kind="directory", **extra):
    return {"exists": True, "type": kind, "owner": owner, "group": owner, **extra}


@pytest.mark.parametrize(
    ("readings", "expected"),
    [
        ({"/": _dir(), "/var": _dir(), "/var/lib": _dir()}, ""),
        ({"/var/lib/shop": _dir("shop")}, ""),
        ({"/var/lib": _dir(kind="link", target="/data")}, "/var/lib is a symbolic link"),
        ({"/var": _dir("alice")}, "/var is a directory owned by alice"),
        ({"/var/lib/shop": _dir("alice")}, "exists and belongs to alice, not to shop"),
        ({"/var/lib/shop": _dir("root")}, "exists and belongs to root, not to shop"),
        ({"/var/lib/shop": _dir("shop", "link", target="/etc")}, "is a link to /etc"),
    ],
)
def test_the_hosts_components_of_a_path(readings, expected):
    problems = " ".join(
        host_paths.component_problems(
            "app_state_dir", "/var/lib/shop", readings, owner="shop", root_owned=False
        )
    )
    assert (expected in problems) if expected else problems == ""


@pytest.mark.parametrize(
    ("name", "refused"),
    [
        ("UWSGI_HTTP_SOCKET", True),
        ("uwsgi_module", True),
        ("LD_PRELOAD", True),
        ("LD_LIBRARY_PATH", True),
        ("PYTHONHOME", True),
        ("NOTIFY_SOCKET", True),
        ("LISTEN_FDS", True),
        ("DATABASE_URL", False),
        ("MY_UWSGI_NOTE", False),
        ("PYTHONPATH_EXTRA", False),
    ],
)
def test_environment_names_that_configure_what_runs_the_app(name, refused):
    assert bool(env_file.configuring(name)) is refused


def test_a_boolean_or_number_is_the_same_text_everywhere():
    plan = stand_in.app(app_env={"DEBUG": True, "OFF": False, "N": 4, "F": 1.5})["plan"]
    file_values = env_file.parse(plan["environment"]["text"])
    ini_lines = [line for line in plan["vassal"]["text"].splitlines() if line.startswith("env = ")]
    assert file_values == {"DEBUG": "true", "OFF": "false", "N": "4", "F": "1.5"}
    for key, text in file_values.items():
        assert f"env = {key}={text}" in ini_lines
    assert "env = DEBUG=true" in plan["canary"]["ini"]


# --- The property: an accepted plan owns only directories of the app's own --------------------

_NAMES = st.one_of(
    st.sampled_from(["shop", "blog", "stats", "mail", "nginx", "dpkg", "vassals", "probe"]),
    st.from_regex(r"[a-z][a-z0-9_-]{0,6}", fullmatch=True),
)
_PARTS = st.sampled_from(
    ["", ".", "..", "srv", "opt", "var", "lib", "www", "etc", "run", "uwsgi", "stats", "nginx",
     "usr", "home", "tmp", "vassals", "shop", "blog", "APP"]
)  # fmt: skip


@st.composite
def _paths(draw, name):
    parts = draw(st.lists(_PARTS, min_size=0, max_size=5))
    path = "/" + "/".join(name if part == "APP" else part for part in parts)
    return path + ("/" if draw(st.booleans()) else "")


@st.composite
def _settings(draw):
    name = draw(_NAMES)
    chosen = {"app_name": name}
    if draw(st.booleans()):
        chosen["app_root"] = draw(st.one_of(_paths(name), st.just(f"/srv/{name}")))
    if draw(st.booleans()):
        chosen["app_state_dir"] = draw(st.one_of(_paths(name), st.just(f"/var/lib/{name}")))
    if draw(st.booleans()):
        directory = draw(st.one_of(_paths(name), st.just(f"/run/uwsgi/{name}")))
        chosen["app_socket"] = directory.rstrip("/") + "/" + draw(st.sampled_from(["a", name]))
        chosen["app_socket"] += ".sock"
    return chosen


def _own(plan):
    """The directories that are the app's: its root, state, runtime and stats directories."""
    name = plan["name"]
    state = [item["path"] for item in plan["directories"] if item["path"].startswith("/var/lib/")]
    return [
        plan["paths"]["root"],
        *state[:1],
        posixpath.dirname(plan["paths"]["socket"]),
        f"/run/uwsgi/stats/{name}",
    ]


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(_settings())
def test_every_accepted_plan_owns_only_directories_of_its_own(chosen):
    planned = stand_in.app(**chosen)
    if planned["errors"]:
        return
    plan, name = planned["plan"], chosen["app_name"]
    assert name not in host_paths.RESERVED_NAMES | host_paths.SYSTEM_ACCOUNTS
    own = _own(plan)
    for directory in own:
        assert host_paths.normalize(directory) == directory
        assert posixpath.basename(directory) == name
        parent = posixpath.dirname(directory)
        assert parent in ("/srv", "/opt", "/var/www", "/var/lib", "/run/uwsgi", "/run/uwsgi/stats")
    for item in plan["directories"]:
        path = item["path"]
        assert host_paths.normalize(path) == path
        if path == "/run/uwsgi/stats":
            # Shared by the apps' stats directories, root's and read-only to them.
            assert (item["owner"], item["mode"]) == ("root", "0755")
            continue
        assert any(host_paths.inside(path, directory) for directory in own), path
    for line in plan["tmpfiles"].splitlines():
        if line.startswith(("d ", "L ")):
            path = line.split()[1]
            assert path == "/run/uwsgi/stats" or any(
                host_paths.inside(path, directory) for directory in own
            ), line
