"""The uwsgi role's plan, decision by decision (module_utils/uwsgi_role_plan.py).

test_role_plan.py (action) renders the role's former Jinja against the same plan.
"""

from __future__ import annotations

import posixpath

import pytest
from ansible_collections.pyops.uwsgi.plugins.module_utils import uwsgi_role_plan as plan
from ansible_collections.pyops.uwsgi.plugins.plugin_utils import role_settings

PLATFORM = {
    "packages": ["uwsgi-core", "uwsgi-src"],
    "build_packages": ["gcc"],
    "python_packages": ["pythonX.Y", "pythonX.Y-dev", "pythonX.Y-venv"],
    "binary": "/usr/bin/uwsgi-core",
    "fact_file": "/etc/ansible/facts.d/pyops_uwsgi.fact",
    "config_dir": "/etc/uwsgi",
    "emperor_sandbox": {"NoNewPrivileges": "true"},
}


def _settings(**overrides):
    options = role_settings.spec_options("uwsgi")
    settings = {name: option.get("default") for name, option in options.items()}
    settings.update(overrides)
    return settings


@pytest.mark.parametrize(
    ("run_tags", "expected"),
    [
        (["all"], False),
        (["validate"], True),
        (["validate", "always"], True),
        (["always"], True),
        (["validate", "uwsgi"], False),
        (["uwsgi"], False),
    ],
)
def test_checks_only_is_validate_alone(run_tags, expected):
    assert plan.checks_only(run_tags) is expected


@pytest.mark.parametrize(
    ("installed", "expected"),
    [
        (None, True),  # no dpkg-query: install, as apt will tell
        ({}, False),  # nothing asked
        ({"gcc": True, "uwsgi-core": True}, False),
        ({"gcc": True, "uwsgi-core": False}, True),
    ],
)
def test_lacks_packages(installed, expected):
    assert plan.lacks_packages(installed) is expected


@pytest.mark.parametrize(
    ("services", "expected"),
    [
        (None, True),  # no systemctl
        ({}, True),
        ({"uwsgi-emperor": {}}, True),
        ({"uwsgi-emperor": {"ActiveState": "active", "UnitFileState": "enabled"}}, False),
        ({"uwsgi-emperor": {"ActiveState": "active", "UnitFileState": "disabled"}}, True),
        ({"uwsgi-emperor": {"ActiveState": "failed", "UnitFileState": "enabled"}}, True),
        ({"other": {"ActiveState": "active", "UnitFileState": "enabled"}}, True),
    ],
)
def test_needs_start_unless_running_and_enabled(services, expected):
    assert plan.needs_start(services, "uwsgi-emperor") is expected


def test_python_packages_fill_in_each_version():
    assert plan.python_packages(["3", "3.12"], PLATFORM["python_packages"]) == [
        "python3",
        "python3-dev",
        "python3-venv",
        "python3.12",
        "python3.12-dev",
        "python3.12-venv",
    ]
    assert plan.python_packages([], PLATFORM["python_packages"]) == []


def test_install_packages_name_the_host_python_generically_when_no_version_is_asked():
    names = plan.install_packages(_settings(), PLATFORM)
    assert names == ["uwsgi-core", "uwsgi-src", "gcc", "python3", "python3-dev", "python3-venv"]
    asked = plan.install_packages(
        _settings(uwsgi_python_versions=["3.12"], uwsgi_pip_python_versions=["3.12", "3.13"]),
        PLATFORM,
    )
    # Each version once, in the order given; no generic python3 when versions are given.
    assert [name for name in asked if not name.endswith(("-dev", "-venv"))][3:] == [
        "python3.12",
        "python3.13",
    ]


def test_emperor_options_put_the_users_over_the_roles_in_place():
    options = plan.emperor_options(
        _settings(uwsgi_emperor_scan_interval=3, uwsgi_emperor_options={"strict": False, "x": 1}),
        "/etc/uwsgi/vassals",
    )
    assert list(options.items()) == [
        ("strict", False),
        ("emperor-freq", 3),
        ("die-on-term", True),
        ("emperor-graceful-shutdown", True),
        ("emperor", "/etc/uwsgi/vassals"),
        ("x", 1),
    ]


def test_each_pip_version_gets_an_emperor_of_its_own():
    package, pip = plan.emperors(_settings(uwsgi_pip_python_versions=["3.12"]), PLATFORM)
    assert package["python"] is None
    assert package["unit"] == "/etc/systemd/system/uwsgi-emperor.service"
    assert package["directories"] == ["/etc/uwsgi", "/etc/uwsgi/vassals"]
    assert pip == [
        {
            "service": "uwsgi-emperor-pip312",
            "binary": "/opt/uwsgi/3.12/bin/uwsgi",
            "config": "/etc/uwsgi/emperor-pip312.ini",
            "unit": "/etc/systemd/system/uwsgi-emperor-pip312.service",
            "vassals_dir": "/etc/uwsgi/vassals-pip312",
            "directories": ["/etc/uwsgi", "/etc/uwsgi/vassals-pip312"],
            "options": pip[0]["options"],
            "python": "3.12",
        }
    ]
    assert pip[0]["options"]["emperor"] == "/etc/uwsgi/vassals-pip312"


@pytest.mark.parametrize(
    ("repository", "run_tags", "expected"),
    [
        ("", ["all"], False),
        ("ppa:deadsnakes/ppa", ["all"], True),
        # --tags validate alone adds no apt source: the deploy does, and checks again.
        ("ppa:deadsnakes/ppa", ["validate"], False),
    ],
)
def test_the_apt_source_is_added_by_a_run_that_changes(repository, run_tags, expected):
    made = plan.make_plan(
        _settings(uwsgi_python_apt_repository=repository), PLATFORM, run_tags=run_tags
    )
    assert made["add_apt_repository"] is expected


@pytest.mark.parametrize(
    ("repository", "run_tags", "expected"),
    [
        ("", ["validate"], {"python3.12": True}),
        ("ppa:deadsnakes/ppa", ["all"], {"python3.12": True}),
        # The source was not added: what apt offers without it says nothing.
        ("ppa:deadsnakes/ppa", ["validate"], {}),
    ],
)
def test_offered_packages_are_what_apt_said_unless_the_source_was_left_out(
    repository, run_tags, expected
):
    made = plan.make_plan(
        _settings(uwsgi_python_apt_repository=repository, uwsgi_python_versions=["3.12"]),
        PLATFORM,
        run_tags=run_tags,
        host={"packages": {"python3.12": True}, "python3": "3.11"},
    )
    assert made["offered_packages"] == expected


def test_the_index_is_refreshed_only_for_pythons_asked_by_version():
    assert not plan.make_plan(_settings(), PLATFORM, run_tags=["all"])["refresh_package_index"]
    for key in ("uwsgi_python_versions", "uwsgi_pip_python_versions"):
        made = plan.make_plan(_settings(**{key: ["3.12"]}), PLATFORM, run_tags=["all"])
        assert made["refresh_package_index"]


def test_without_the_host_the_plan_decides_nothing_that_depends_on_it():
    made = plan.make_plan(_settings(), PLATFORM, run_tags=["all"])
    assert not {"install", "offered_packages", "plugin_pythons", "record"} & set(made)
    assert "start" not in made["emperor"]


def test_the_host_python3_is_served_when_no_version_is_given():
    host = {"python3": "3.11", "uwsgi_version": "2.0.21", "installed": {}, "services": None}
    made = plan.make_plan(
        _settings(uwsgi_pip_python_versions=["3.13"]), PLATFORM, run_tags=["all"], host=host
    )
    assert made["plugin_pythons"] == ["3.11"]
    assert made["record"]["default_python"] == "3.11"
    assert made["record"]["interpreters"] == {
        "3.11": "/usr/bin/python3.11",
        "3.13": "/usr/bin/python3.13",
    }
    assert made["record"]["plugins"] == {"3.11": "python311"}
    assert made["record"]["pip_vassals_dirs"] == {"3.13": "/etc/uwsgi/vassals-pip313"}
    assert made["record"]["pip_binaries"] == {"3.13": "/opt/uwsgi/3.13/bin/uwsgi"}
    assert made["emperor"]["start"] and made["pip_emperors"][0]["start"]


def test_versions_given_are_served_not_the_hosts():
    host = {"python3": "3.11", "uwsgi_version": None}
    made = plan.make_plan(
        _settings(uwsgi_python_versions=["3.12", "3.13"]), PLATFORM, run_tags=["all"], host=host
    )
    assert made["plugin_pythons"] == ["3.12", "3.13"]
    assert made["record"]["plugins"] == {"3.12": "python312", "3.13": "python313"}
    assert made["record"]["default_python"] == "3.11"
    assert "3.11" not in made["record"]["interpreters"]
    # Read again by record.yml after the install.
    assert made["record"]["version"] is None
    assert made["install"] is True  # nothing read of dpkg


@pytest.mark.parametrize("weight", [0, 1000])
def test_the_system_slice_weight_is_planned_and_its_drop_in_read_first(weight):
    made = plan.make_plan(
        _settings(uwsgi_system_slice_cpu_weight=weight), PLATFORM, run_tags=["all"]
    )
    assert made["system_slice_cpu_weight"] == weight
    # The drop-in is read before anything is written (its write then runs only when it differs),
    # and its directory too.
    assert made["system_slice_drop_in"] in made["host_request"]["texts"]
    assert posixpath.dirname(made["system_slice_drop_in"]) in made["host_request"]["paths"]
