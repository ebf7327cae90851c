"""A role's settings checked against its own argument spec by Ansible's ArgumentSpecValidator."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from ansible_collections.pyops.uwsgi.plugins.plugin_utils import role_settings

ROOT = Path(__file__).resolve().parents[4]
# The entry points the role_settings action is called for, and the roles' other ones.
ENTRY_POINTS = sorted(
    (path.parents[1].name, entry_point)
    for path in (ROOT / "roles").glob("*/meta/argument_specs.yml")
    for entry_point in yaml.safe_load(path.read_text())["argument_specs"]
)


def test_the_entry_points_are_found():
    assert set(ENTRY_POINTS) >= {
        ("uwsgi", "main"),
        ("nginx", "main"),
        ("nginx", "site"),
        ("nginx", "sites"),
        ("app", "main"),
        ("app", "validate"),
        ("app", "apps"),
    }


@pytest.mark.parametrize(("role", "entry_point"), ENTRY_POINTS)
def test_spec_options_of_each_entry_point(role, entry_point):
    options = role_settings.spec_options(role, entry_point)
    assert options
    for name, option in options.items():
        assert name.startswith(f"{role}_") or name in {"nginx_security_headers"}, name
        assert option["type"]


def test_spec_options_default_to_main():
    assert role_settings.spec_options("uwsgi") == role_settings.spec_options("uwsgi", "main")
    assert "uwsgi_pip_version" in role_settings.spec_options("uwsgi")


def test_an_entry_point_without_options_takes_the_main_ones():
    assert role_settings.spec_options("app", "validate") == role_settings.spec_options("app")
    assert "app_harakiri" in role_settings.spec_options("app", "validate")


def test_spec_options_of_nginx_site():
    options = role_settings.spec_options("nginx", "site")
    assert options["nginx_site_name"]["required"] is True
    assert options["nginx_site_state"]["choices"] == ["present", "restored", "absent"]
    assert "nginx_worker_processes" not in options


def test_spec_options_of_a_missing_entry_point_or_role():
    with pytest.raises(KeyError):
        role_settings.spec_options("nginx", "no_such_entry_point")
    with pytest.raises(OSError):
        role_settings.spec_options("no_such_role")


SITE = role_settings.spec_options("nginx", "site")


def validate(raw, context="", role="nginx", options=SITE):
    return role_settings.validate(options, raw, context, role=role)


def test_valid_settings_come_back_converted_with_defaults():
    settings, errors = validate(
        {
            "nginx_site_name": "shop",
            "nginx_site_uwsgi_read_timeout": "4",
            "nginx_site_upstream_max_fails": "0",
            "nginx_site_listen": "80",
        }
    )
    assert errors == []
    assert settings["nginx_site_uwsgi_read_timeout"] == 4
    assert settings["nginx_site_upstream_max_fails"] == 0
    assert settings["nginx_site_listen"] == ["80"]
    # What is not given takes the spec's default.
    assert settings["nginx_site_state"] == "present"
    assert settings["nginx_site_server_names"] == ["_"]


@pytest.mark.parametrize(
    ("raw", "converted"),
    [
        ({"uwsgi_emperor_scan_interval": "4"}, {"uwsgi_emperor_scan_interval": 4}),
        ({"uwsgi_uwsgitop": "yes"}, {"uwsgi_uwsgitop": True}),
        ({"uwsgi_uwsgitop": "false"}, {"uwsgi_uwsgitop": False}),
        ({"uwsgi_python_versions": "3.11,3.13"}, {"uwsgi_python_versions": ["3.11", "3.13"]}),
        ({"uwsgi_pip_version": 2}, {"uwsgi_pip_version": "2"}),
    ],
)
def test_types_are_converted(raw, converted):
    settings, errors = validate(raw, role="uwsgi", options=role_settings.spec_options("uwsgi"))
    assert errors == []
    assert {name: settings[name] for name in converted} == converted


def test_choices_with_ansibles_message():
    _settings, errors = validate({"nginx_site_name": "shop", "nginx_site_state": "gone"})
    assert errors == [
        "value of nginx_site_state must be one of: present, restored, absent, got: gone"
    ]


def test_a_value_of_the_wrong_type_is_one_line():
    _settings, errors = validate({"nginx_site_name": "shop", "nginx_site_uwsgi_read_timeout": "1m"})
    assert errors == ["nginx_site_uwsgi_read_timeout: expected int, got str '1m'"]


APP = role_settings.spec_options("app")
# Values of the wrong type, as the app role's settings: each one line naming the variable, the
# value's type and the type wanted (the value too, when a scalar was wanted).
WRONG_TYPES = {
    "a word for a number": (
        {"app_harakiri": "soon"},
        ["app_harakiri: expected int, got str 'soon'"],
    ),
    "a word for a boolean": (
        {"app_nginx_site": "maybe"},
        ["app_nginx_site: expected bool, got str 'maybe'"],
    ),
    "a list for a dict": (
        {"app_uwsgi_options": ["master"]},
        ["app_uwsgi_options: expected dict, got list"],
    ),
    # A string where a dict was wanted may be a secret: its value is not shown.
    "a string for the environment": (
        {"app_env": "s3cret-token"},
        ["app_env: expected dict, got str"],
    ),
    "a word for a number in a list item": (
        {"app_workers": [{"name": "celery", "command": ["celery"], "count": "lots"}]},
        ["app_workers.count: expected int, got str 'lots'"],
    ),
    # Each bad element once; Ansible's search for no_log values stumbles on them unnamed too.
    "elements that are not dicts": (
        {"app_shared_paths": ["media", 3]},
        [
            "app_shared_paths: expected a list of dict, got an element of type str",
            "app_shared_paths: expected a list of dict, got an element of type int",
        ],
    ),
    "a dict for a number": (
        {"app_harakiri": {"seconds": 30}},
        ["app_harakiri: expected int, got dict"],
    ),
    "a long value, cut": (
        {"app_harakiri": "x" * 100},
        [f"app_harakiri: expected int, got str '{'x' * 37}...'"],
    ),
}


@pytest.mark.parametrize(("raw", "expected"), WRONG_TYPES.values(), ids=WRONG_TYPES.keys())
def test_wrong_types_of_the_app_role(raw, expected):
    _settings, errors = validate({"app_name": "shop", **raw}, role="app", options=APP)
    assert errors == expected


def test_a_wrong_type_of_the_uwsgi_role():
    options = role_settings.spec_options("uwsgi")
    _settings, errors = validate({"uwsgi_uwsgitop": "perhaps"}, role="uwsgi", options=options)
    assert errors == ["uwsgi_uwsgitop: expected bool, got str 'perhaps'"]


def test_two_wrong_values_of_one_type_in_a_list_are_named_without_value():
    raw = {"app_workers": [{"name": "a", "command": ["a"], "count": n} for n in ("x", "y")]}
    _settings, errors = validate({"app_name": "shop", **raw}, role="app", options=APP)
    assert errors == ["app_workers.count: expected int, got str"] * 2


def test_the_value_of_a_no_log_option_is_not_shown():
    options = {"probe_token": {"type": "int", "no_log": True}}
    _settings, errors = validate({"probe_token": "s3cret"}, role="probe", options=options)
    assert errors == ["probe_token: expected int, got str"]


def test_a_wrong_type_under_a_context():
    _settings, errors = validate(
        {"app_name": "shop", "app_harakiri": "soon"}, "app shop", role="app", options=APP
    )
    assert errors == ["app shop: app_harakiri: expected int, got str 'soon'"]


def test_other_messages_stay_ansibles():
    _settings, errors = validate(
        {"app_name": "shop", "app_uwsgi_method": 3}, role="app", options=APP
    )
    assert errors == ["value of app_uwsgi_method must be one of: plugin, pip, got: 3"]


def test_a_missing_required_setting():
    _settings, errors = validate({})
    assert errors == ["missing required arguments: nginx_site_name"]


def test_unknown_settings_are_named_once():
    _settings, errors = validate(
        {"nginx_site_name": "shop", "nginx_site_lisen": ["80"], "nginx_sitename": "x"}
    )
    assert errors == [
        "unknown settings nginx_site_lisen, nginx_sitename: not variables of pyops.uwsgi.nginx"
        " (see ansible-doc -t role pyops.uwsgi.nginx)"
    ]


def test_unknown_settings_in_list_items_are_named_by_path():
    options = role_settings.spec_options("nginx", "sites")
    _settings, errors = validate(
        {
            "nginx_sites": [
                {"nginx_site_name": "shop", "nginx_site_lisen": ["80"]},
                {"nginx_site_name": "blog", "nginx_site_upsteam": []},
            ],
            "nginx_site": {},
        },
        options=options,
    )
    assert errors == [
        "unknown settings nginx_site, nginx_sites.nginx_site_lisen, nginx_sites.nginx_site_upsteam:"
        " not variables of pyops.uwsgi.nginx (see ansible-doc -t role pyops.uwsgi.nginx)"
    ]


def test_the_context_prefixes_every_error():
    _settings, errors = validate(
        {"nginx_site_state": "gone", "nginx_site_lisen": ["80"]}, context="site shop"
    )
    assert len(errors) == 3
    assert all(error.startswith("site shop: ") for error in errors)
    assert any("unknown settings nginx_site_lisen" in error for error in errors)


def test_no_errors_no_context():
    settings, errors = validate({"nginx_site_name": "shop"}, context="site shop")
    assert errors == []
    assert settings["nginx_site_name"] == "shop"
