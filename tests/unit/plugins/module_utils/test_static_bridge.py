"""Assets across a switch: the nginx site's bridge to the previous release's static files.

The site's static location sends a 404 of a name the pattern matches to a named location that
looks the file up in the previous release's static directory; the default pattern is the hashed
names that asset pipelines make.
"""

from __future__ import annotations

import re

import pytest
from ansible_collections.pyops.uwsgi.plugins.module_utils import role_rules
from ansible_collections.pyops.uwsgi.tests.unit.plugins import stand_in

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
