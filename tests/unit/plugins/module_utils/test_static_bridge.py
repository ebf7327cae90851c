"""Assets across a switch: the nginx site's bridge to the previous release's static files.

The site's static location sends a 404 of a name the pattern matches to a named location that
looks the file up in the previous release's static directory; the default pattern is the hashed
names that asset pipelines make.
"""

from __future__ import annotations

import re

import pytest
from ansible_collections.pyops.uwsgi.plugins.module_utils import app_state, role_rules
from ansible_collections.pyops.uwsgi.tests.unit.plugins import stand_in
from ansible_collections.pyops.uwsgi.tests.unit.plugins.module_utils.test_app_state import (
    LOG,
    converged,
)

SOCKET = "unix:/run/uwsgi/shop/shop.sock"
CURRENT = "/srv/shop/current/code/static"
PREVIOUS = "/srv/shop/previous/code/static"


def site_settings(**changes):
    settings, errors = stand_in.settings(
        "nginx",
        "site",
        nginx_site_name="shop",
        **{
            "nginx_site_uwsgi_pass": SOCKET,
            "nginx_site_static_url": "/static/",
            "nginx_site_static_dir": CURRENT,
            **changes,
        },
    )
    assert errors == []
    return settings


def block(lines, opening):
    """The directives between OPENING's brace and its closing one (nested blocks included)."""
    start, depth = lines.index(opening) + 1, 1
    for end in range(start, len(lines)):
        depth += lines[end].endswith("{") - (lines[end] == "}")
        if depth == 0:
            return [line for line in lines[start:end] if not line.startswith("#")]
    raise AssertionError(f"{opening} is not closed")


def default_pattern():
    return site_settings()["nginx_site_static_bridge_pattern"]


@pytest.mark.parametrize(
    "path",
    [
        "/static/app.3f9c2a1b7d4e.js",  # Django's ManifestStaticFilesStorage (12 hex digits)
        "/static/css/site.3f9c2a1b7d4e.css",
        "/static/main.3f9c2a1b.js",  # webpack's [contenthash:8]
        "/static/main.3f9c2a1b5e7d9f0a1c2b.js",  # webpack's [contenthash] (20)
        "/static/main.3f9c2a1b.js.map",
        "/static/assets/index-3f9c2a1b.js",  # Vite 2 and 3 (hex)
        "/static/assets/index-B3xk_9Qa.js",  # Vite 4 and later (base64url)
        "/static/assets/index-Dl-e2QxW.css",
        "/static/chunk-deadbeef.js",
    ],
)
def test_the_default_pattern_takes_hashed_names(path):
    assert re.search(default_pattern(), path)


@pytest.mark.parametrize(
    "path",
    [
        "/static/app.js",
        "/static/gone.js",
        "/static/jquery-3.7.1.min.js",
        "/static/fontawesome-webfont.woff2",
        "/static/admin-settings.js",  # eight lower-case letters: a word, not a hash
        "/static/app.3f9c.js",  # four hex digits: too short to be told from a name
        "/static/app.3f9c2a1b7d4e",  # no extension
        "/static/3f9c2a1b7d4e.js/",
    ],
)
def test_the_default_pattern_leaves_plain_names(path):
    assert not re.search(default_pattern(), path)


def test_without_a_bridge_directory_the_static_location_is_as_before():
    lines = stand_in.directives(stand_in.site_file(site_settings()))
    assert block(lines, "location /static/ {") == [
        f"alias {CURRENT}/;",
        "expires 1h;",
        "access_log off;",
    ]
    assert not any("bridge" in line for line in lines)


def test_a_hashed_name_the_release_lacks_is_looked_up_in_the_previous_one():
    settings = site_settings(nginx_site_static_bridge_dir=PREVIOUS, nginx_site_static_expires="7d")
    lines = stand_in.directives(stand_in.site_file(settings))
    pattern = role_rules.quoted(settings["nginx_site_static_bridge_pattern"])
    assert block(lines, "location /static/ {") == [
        f"alias {CURRENT}/;",
        "expires 7d;",
        "access_log off;",
        f"location ~ {pattern} {{",
        "log_not_found off;",
        "error_page 404 = @pyops_shop_static_bridge;",
        "}",
    ]
    assert block(lines, "location @pyops_shop_static_bridge {") == [
        f"root {PREVIOUS};",
        'rewrite "^/static/(.*)$" /$1 break;',
        f"disable_symlinks on from={PREVIOUS};",
        "expires 7d;",
        "access_log off;",
        "log_not_found off;",
    ]


def test_with_an_empty_pattern_every_name_the_release_lacks_is_looked_up():
    settings = site_settings(
        nginx_site_static_bridge_dir=PREVIOUS + "/", nginx_site_static_bridge_pattern=""
    )
    lines = stand_in.directives(stand_in.site_file(settings))
    assert block(lines, "location /static/ {") == [
        f"alias {CURRENT}/;",
        "expires 1h;",
        "access_log off;",
        "log_not_found off;",
        "error_page 404 = @pyops_shop_static_bridge;",
    ]
    assert f"root {PREVIOUS};" in block(lines, "location @pyops_shop_static_bridge {")


@pytest.mark.parametrize(
    ("url", "rewrite"),
    [
        ("/static/", '"^/static/(.*)$"'),
        ("/assets.v2/", '"^/assets\\\\.v2/(.*)$"'),
        ("/a+b(c)/", '"^/a\\\\+b\\\\(c\\\\)/(.*)$"'),
    ],
)
def test_the_static_url_is_cut_off_literally(url, rewrite):
    site = role_rules.nginx_site(
        site_settings(nginx_site_static_url=url, nginx_site_static_bridge_dir=PREVIOUS)
    )
    assert site["static_bridge"]["rewrite"] == rewrite


@pytest.mark.parametrize(
    ("text", "token"),
    [
        ("\\.js$", '"\\\\.js$"'),
        ('a"b', '"a\\"b"'),
        ("\\\\", '"\\\\\\\\"'),
    ],
)
def test_a_quoted_token_reads_back_as_written(text, token):
    assert role_rules.quoted(text) == token
    # What nginx's parser does with a double-quoted token: \\ and \" lose their backslash.
    read = re.sub(r"\\([\\\"])", r"\1", token[1:-1])
    assert read == text


# --- The app role: its site, its plan, the host compared with it ---------------------------------

STATIC = {"app_static_url": "/static/", "app_static_dir": "assets"}


def plan_of(**overrides):
    planned = stand_in.app(**overrides)
    assert planned["errors"] == []
    return planned["plan"]


def test_the_app_role_and_the_nginx_role_take_hashed_names_alike():
    assert stand_in.defaults("app")["app_static_bridge_pattern"] == default_pattern()


def test_an_app_with_static_files_bridges_them_an_hour_by_default():
    plan = plan_of(**STATIC)
    root = plan["paths"]["root"]
    site = plan["nginx_site"]
    assert site["nginx_site_static_dir"] == f"{root}/current/code/assets"
    assert site["nginx_site_static_bridge_dir"] == f"{root}/previous/code/assets"
    assert site["nginx_site_static_bridge_pattern"] == default_pattern()
    bridge = plan["static_bridge"]
    assert bridge["time"] == 3600
    assert bridge["link"] == f"{root}/previous"
    assert bridge["argv"][0] == "systemd-run"
    assert f"--unit={bridge['unit']}" in bridge["argv"]
    assert "--on-active=3600s" in bridge["argv"]
    # The timer's command is the last words: it removes the link, never what it points at.
    assert bridge["argv"][-4:] == ["/bin/rm", "-f", "--", bridge["link"]]
    # A boot loses the timer: the tmpfiles entry removes the link then.
    assert f"r {root}/previous" in plan["tmpfiles"].splitlines()


@pytest.mark.parametrize(
    "overrides",
    [
        {},  # no static location
        {**STATIC, "app_static_bridge_time": 0},
        {**STATIC, "app_nginx_site": False},
    ],
    ids=["no-static-url", "time-0", "no-site"],
)
def test_without_a_static_location_or_time_nothing_is_bridged(overrides):
    plan = plan_of(**overrides)
    assert plan["nginx_site"]["nginx_site_static_bridge_dir"] == ""
    assert plan["static_bridge"]["time"] == 0
    assert plan["static_bridge"]["argv"] == []
    assert not any(line.startswith("r ") for line in plan["tmpfiles"].splitlines())


def test_the_sites_settings_pass_the_nginx_roles_rules():
    site = plan_of(**STATIC, app_static_bridge_pattern="")["nginx_site"]
    settings, errors = stand_in.settings("nginx", "site", **site)
    assert errors == []
    assert [message for ok, message in role_rules.nginx_site_rules(settings, {}) if not ok] == []
    lines = stand_in.directives(stand_in.site_file(settings))
    assert f"root {site['nginx_site_static_bridge_dir']};" in lines


def releases_found(plan, names):
    """The host of test_app_state's converged(): PLAN deployed, with the releases NAMES (newest
    first) beside it, and nothing at the bridge's link."""
    found = converged(plan, mtime=100.0)
    found["entries"][plan["paths"]["releases"]] += [
        {"name": name, "type": "directory", "mtime": 90.0 - number}
        for number, name in enumerate(names)
    ]
    return found


def switch_from(found, plan, release):
    """FOUND as a host where RELEASE serves, not yet the planned one."""
    found["paths"][plan["paths"]["current"]]["target"] = f"{plan['paths']['releases']}/{release}"


def test_a_switch_links_the_release_serving_and_keeps_it_beyond_keep():
    plan = plan_of(**STATIC, app_keep_releases=1)
    releases = plan["paths"]["releases"]
    found = releases_found(plan, ["old", "older"])
    switch_from(found, plan, "older")
    state = app_state.compare(plan, found, LOG)
    assert state["bridge_due"] and not state["bridge_left"]
    # keep 1 would remove both; the one serving now is linked by this switch and stays.
    assert state["releases_to_remove"] == [f"{releases}/old"]


def test_the_release_a_link_points_at_stays_until_the_link_is_gone():
    plan = plan_of(**STATIC, app_keep_releases=1)
    releases, link = plan["paths"]["releases"], plan["static_bridge"]["link"]
    found = releases_found(plan, ["old", "older"])
    found["paths"][link] = {"exists": True, "type": "link", "target": f"{releases}/older"}
    state = app_state.compare(plan, found, LOG)
    # The planned release serves already: no switch, nothing to link; the window goes on.
    assert not state["bridge_due"] and not state["bridge_left"]
    assert state["releases_to_remove"] == [f"{releases}/old"]
    # Once the timer removed the link, the release goes as any other.
    found["paths"][link] = {"exists": False}
    state = app_state.compare(plan, found, LOG)
    assert state["releases_to_remove"] == [f"{releases}/old", f"{releases}/older"]


def test_a_link_no_bridge_wants_goes_and_protects_nothing():
    plan = plan_of(**STATIC, app_keep_releases=1, app_static_bridge_time=0)
    releases, link = plan["paths"]["releases"], plan["static_bridge"]["link"]
    found = releases_found(plan, ["old"])
    found["paths"][link] = {"exists": True, "type": "link", "target": f"{releases}/old"}
    state = app_state.compare(plan, found, LOG)
    assert state["bridge_left"] and state["cleanup_due"]
    assert state["releases_to_remove"] == [f"{releases}/old"]
    # A switch then links nothing.
    switch_from(found, plan, "old")
    assert not app_state.compare(plan, found, LOG)["bridge_due"]


def test_a_converge_that_changes_nothing_bridges_nothing():
    plan = plan_of(**STATIC)
    state = app_state.compare(plan, converged(plan), LOG)
    assert not state["bridge_due"] and not state["bridge_left"] and not state["cleanup_due"]
    # Nor does a first deploy: nothing served before it.
    found = converged(plan)
    found["paths"][plan["paths"]["current"]] = {"exists": False}
    state = app_state.compare(plan, found, LOG)
    assert state["deploying"] and not state["bridge_due"]
