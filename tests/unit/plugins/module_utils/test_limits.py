"""The limits along a request's path agree: no layer gives up before the one in front of it.

module_utils/limits.py decides them; the site template and the vassal carry them out.
"""

from __future__ import annotations

from importlib import util

import pytest
from ansible_collections.pyops.uwsgi.plugins.module_utils import app_plan, limits, uwsgi_protocol
from ansible_collections.pyops.uwsgi.tests.unit.plugins import stand_in
from hypothesis import given
from hypothesis import strategies as st


def test_the_defaults_agree():
    assert limits.disagreements(limits.Path()) == {}


@pytest.mark.parametrize(
    ("path", "options", "limit"),
    [
        ({}, {"buffer-size": 32768}, "request headers"),
        ({}, {"max-vars": 64}, "request variables"),
        ({}, {"response-headers-limit": 65535}, "response headers"),
        ({"harakiri": 35}, {}, "slow requests"),
        ({}, {"socket-timeout": 4}, "slow readers"),
        ({"somaxconn": 128}, {}, "bursts"),
        ({}, {"listen": 128}, "bursts"),
        ({}, {"limit-post": 1048576}, "bodies"),
    ],
)
def test_a_layer_that_gives_up_first_is_named(path, options, limit):
    found = limits.disagreements(limits.Path(**path), options)
    assert list(found) == [limit], found


def test_uwsgi_takes_every_variable_a_full_packet_holds():
    # The smallest variable a header makes, as nginx sends it: HTTP_ and one letter, no value.
    assert len(uwsgi_protocol.encode_vars([("HTTP_A", "")])) == limits.SMALLEST_VARIABLE
    most = limits.UWSGI_PACKET // limits.SMALLEST_VARIABLE
    assert len(uwsgi_protocol.encode_vars([("HTTP_A", "")] * most)) <= limits.UWSGI_PACKET
    # uWSGI counts two slots a variable and takes one while the count is below 4 * max-vars.
    assert 2 * most <= 4 * limits.MAX_VARS
    # The default (64) takes 128: 113 headers and nginx's 15 variables were its end.
    assert 2 * 64 < 113 + 16


@given(st.integers(min_value=4, max_value=64))
def test_nginx_accepts_the_response_buffers_for_any_header_size(kilobytes):
    found = limits.response_buffers(kilobytes * 1024)
    count, size = map(int, found["uwsgi_buffers"].split())
    busy = found["uwsgi_busy_buffers_size"]
    # nginx -t: "uwsgi_busy_buffers_size must be equal to or greater than the maximum of the
    # value of uwsgi_buffer_size and one of the uwsgi_buffers" and "less than the size of all
    # uwsgi_buffers minus one buffer".
    assert busy >= max(found["uwsgi_buffer_size"], size)
    assert busy < (count - 1) * size


@given(
    harakiri=st.integers(min_value=1, max_value=3600),
    extra=st.integers(min_value=1, max_value=600),
    listen=st.integers(min_value=1, max_value=4096),
    send_timeout=st.integers(min_value=1, max_value=3600),
    kilobytes=st.integers(min_value=4, max_value=64),
)
def test_settings_the_rules_accept_make_limits_that_agree(
    harakiri, extra, listen, send_timeout, kilobytes
):
    path = limits.Path(
        harakiri=harakiri,
        read_timeout=harakiri + extra,
        listen=listen,
        send_timeout=send_timeout,
        response_headers=kilobytes * 1024,
        somaxconn=4096,
    )
    assert limits.disagreements(path) == {}


def test_the_limits_page_is_current():
    spec = util.spec_from_file_location("limits_doc", stand_in.ROOT / "scripts" / "limits_doc.py")
    module = util.module_from_spec(spec)
    spec.loader.exec_module(module)
    page = (stand_in.ROOT / "docs" / "limits.md").read_text()
    assert page == module.render(), "regenerate docs/limits.md (see its header)"


# --- The site carries them out ------------------------------------------------------------------


def site(**changes):
    """The nginx role's site settings for app "shop" behind its socket, with CHANGES."""
    given = {
        "nginx_site_name": "shop",
        "nginx_site_uwsgi_pass": "unix:/run/uwsgi/shop/shop.sock",
        "nginx_site_server_names": ["shop.example.org"],
        **changes,
    }
    checked, errors = stand_in.settings("nginx", "site", **given)
    assert errors == [], errors
    return checked


def _location(lines, name):
    """The directives of the location NAME (its opening line to its closing brace)."""
    start = lines.index(f"location {name} {{")
    return lines[start : lines.index("}", start)]


def test_the_site_passes_the_app_its_limits():
    lines = stand_in.directives(stand_in.site_file(site(nginx_site_max_conns=1024), {}))
    root = _location(lines, "/")
    assert "uwsgi_buffer_size 32768;" in root
    assert "uwsgi_buffers 8 8192;" in root
    assert "uwsgi_busy_buffers_size 32768;" in root
    assert "uwsgi_read_timeout 60s;" in root
    assert "uwsgi_send_timeout 60s;" in root
    # A chunked body reaches the app with its length and without the header that hides it.
    assert 'uwsgi_param HTTP_TRANSFER_ENCODING "" if_not_empty;' in root
    assert 'limit_conn_zone "pyops_shop" zone=pyops_shop:1m;' in lines
    assert "limit_conn pyops_shop 1024;" in root
    assert "error_page 503 @pyops_shop_busy;" in root


def test_past_the_queue_nginx_answers_503_with_retry_after_and_the_site_s_headers():
    lines = stand_in.directives(
        stand_in.site_file(site(nginx_site_max_conns=16, nginx_site_retry_after=7), {})
    )
    busy = _location(lines, "@pyops_shop_busy")
    assert "add_header Retry-After 7 always;" in busy
    assert busy[-1] == 'return 503 "The service is busy; retry in 7 seconds.\\n";'
    # A location that adds a header drops the server's: it repeats them.
    server = [line for line in lines if line.startswith("add_header X-")]
    assert server
    assert set(server) <= set(busy)


def test_without_a_queue_limit_nothing_is_counted():
    text = stand_in.site_file(site(nginx_site_max_conns=0), {})
    assert "limit_conn" not in text
    assert "@pyops_shop_busy" not in text


def test_the_site_s_headers_apply_only_where_the_app_sent_none():
    lines = stand_in.directives(stand_in.site_file(site(), {}))
    variable = "$pyops_shop_header_x_frame_options"
    assert f"add_header X-Frame-Options {variable} always;" in lines
    start = lines.index(f"map $upstream_http_x_frame_options {variable} {{")
    # Empty from the app (or no app: files, nginx's errors): the default; else nothing added.
    assert lines[start + 1 : start + 4] == ['"" "SAMEORIGIN";', 'default "";', "}"]
    assert not any(
        line.startswith("add_header X-Frame-Options") and "SAMEORIGIN" in line for line in lines
    )


# --- The vassal carries them out ----------------------------------------------------------------


def _options(text):
    return dict(tuple(line.split(" = ", 1)) for line in text.splitlines() if " = " in line)


def _plan(uwsgi_settings=None, **overrides):
    checked, errors = stand_in.settings(
        "app", app_name="hello", app_src_dir=stand_in.HELLO, **overrides
    )
    assert errors == []
    planned = app_plan.make_plan(
        checked,
        record=stand_in.RECORD,
        uwsgi_settings=uwsgi_settings or {},
        host=stand_in.HOST,
        controller={"entry_module": True},
        platform=stand_in.PLATFORM,
        source="x",
    )
    assert planned["errors"] == [], planned["errors"]
    return planned["plan"]


def test_the_vassal_and_the_site_take_the_same_limits():
    planned = _plan()
    vassal = _options(planned["vassal"]["text"])
    assert vassal["listen"] == "1024"
    assert vassal["buffer-size"] == "65535"
    assert vassal["max-vars"] == str(limits.MAX_VARS)
    assert vassal["response-headers-limit"] == "32768"
    assert vassal["socket-timeout"] == "20"
    assert vassal["harakiri"] == "30"
    site_settings = planned["nginx_site"]
    assert site_settings["nginx_site_uwsgi_buffer_size"] == "32k"
    assert site_settings["nginx_site_max_conns"] == 1024
    assert site_settings["nginx_site_uwsgi_read_timeout"] == 35


def test_uwsgi_waits_on_a_slow_reader_longer_than_nginx_does():
    planned = _plan({"nginx_send_timeout": 60})
    assert _options(planned["vassal"]["text"])["socket-timeout"] == "65"


def test_sys_executable_is_the_release_s_python_in_the_service_and_the_canary():
    planned = _plan()
    python = f"{planned['release']['dir']}/venv/bin/python"
    for text in (planned["vassal"]["text"], planned["canary"]["ini"]):
        assert _options(text)["py-sys-executable"] == python


@pytest.mark.parametrize(
    ("options", "named"),
    [
        ({"socket-timeout": 4}, "slow readers"),
        ({"max-vars": 64}, "request variables"),
        ({"response-headers-limit": 65535}, "response headers"),
        ({"limit-post": 1024}, "bodies"),
    ],
)
def test_an_option_that_would_break_the_path_is_refused_naming_the_limit(options, named):
    planned = stand_in.app(app_uwsgi_options=options)
    assert len(planned["errors"]) == 1, planned["errors"]
    assert named in planned["errors"][0]
    assert "app_uwsgi_options" in planned["errors"][0]


def test_workers_jobs_and_commands_find_the_release_s_python_first():
    # They run through env with the release's virtualenv first on PATH: "python" there is the
    # release's, and so is sys.executable in it.
    planned = stand_in.app(
        app_workers=[{"name": "queue", "command": ["python", "-m", "worker"]}],
        app_jobs=[{"name": "report", "command": ["python", "report.py"], "calendar": "daily"}],
    )
    assert planned["errors"] == [], planned["errors"]
    planned = planned["plan"]
    path = f"PATH={planned['release']['dir']}/venv/bin:"
    units = planned["workers"]["units"]
    assert len([unit for unit in units if "ExecStart=" in unit["text"]]) == 2
    for unit in units:
        if "ExecStart=" in unit["text"]:
            assert 'ExecStart="/usr/bin/env" "--" "python" ' in unit["text"]
            assert f'Environment="{path}' in unit["text"]
    assert planned["phases"]["env"]["PATH"].startswith(path[len("PATH=") :])


def test_the_longest_variable_a_site_names_fits_nginx_s_hash_bucket():
    # nginx -t: "could not build variables_hash, you should increase variables_hash_bucket_size".
    # An element holds a pointer, a 2-byte length and the name, aligned to 8; the bucket ends with
    # a pointer. nginx.conf sets the bucket; the longest site and header names must fit.
    conf = (stand_in.ROOT / "roles/nginx/templates/etc/nginx/nginx.conf.j2").read_text()
    bucket = int(conf.split("variables_hash_bucket_size ", 1)[1].split(";", 1)[0])
    settings = site(
        nginx_site_name="s" * 64,
        nginx_security_headers={"X-" + "h" * 62: "1"},
        nginx_site_max_conns=1,
    )
    text = stand_in.site_file(settings, {})
    names = {word.strip("${;") for word in text.split() if word.startswith("$pyops_")}
    longest = max(len(name) for name in names)
    assert longest > 64 + 64
    assert -(-(8 + 2 + longest) // 8) * 8 + 8 <= bucket


def test_the_table_s_defaults_are_the_roles_defaults():
    # docs/limits.md shows Path()'s values as the defaults: they must be the roles' own.
    app, nginx = stand_in.defaults("app"), stand_in.defaults("nginx")
    path = limits.Path()
    assert path.harakiri == app["app_harakiri"]
    assert path.read_timeout == app["app_harakiri"] + 5 and app["app_nginx_read_timeout"] == 0
    assert path.listen == app["app_listen"]
    assert path.response_headers == limits.bytes_of(app["app_response_headers_limit"])
    assert path.body_size == app["app_client_max_body_size"]
    assert path.header_buffers == nginx["nginx_large_client_header_buffers"]
    assert path.retry_after == nginx["nginx_site_retry_after"]
    assert path.lb_idle_timeout == nginx["nginx_load_balancer_idle_timeout"]
    for name in (
        "client_header_timeout",
        "client_body_timeout",
        "send_timeout",
        "keepalive_timeout",
    ):
        assert getattr(path, name) == nginx[f"nginx_{name}"], name


def test_behind_a_load_balancer_nginx_keeps_an_idle_connection_longer_than_it_does():
    # nginx closing first would meet the load balancer's next request on it: a 502 there.
    assert limits.keepalive_timeout(keepalive=30, lb_idle=60) == 75
    assert limits.keepalive_timeout(keepalive=30, lb_idle=4000) == 4015
    # A longer keepalive_timeout of the user's stands.
    assert limits.keepalive_timeout(keepalive=300, lb_idle=60) == 300
