"""The action pyops.uwsgi.role_plan gives the uwsgi and nginx roles' tasks the values the roles'
Jinja gave them before (role_jinja_before.yml, rendered here by Ansible's own templar), for the
same settings, platform and host; it runs in check mode and refuses settings of the wrong type.

The plans' decisions one by one are tests of module_utils (test_uwsgi_role_plan.py,
test_nginx_role_plan.py).
"""

from __future__ import annotations

from pathlib import Path
from unittest import mock

import pytest
import yaml
from ansible.parsing.dataloader import DataLoader
from ansible.template import Templar
from ansible_collections.pyops.uwsgi.plugins.action.role_plan import ActionModule
from ansible_collections.pyops.uwsgi.plugins.module_utils.render import uwsgi_ini
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

try:  # ansible-core 2.19 and later template only what is trusted as a template.
    from ansible.template import trust_as_template
except ImportError:  # pragma: no cover - ansible-core before 2.19

    def trust_as_template(value):
        return value


ROOT = Path(__file__).resolve().parents[4]
BEFORE = Path(__file__).with_name("role_jinja_before.yml")


def _yaml(path):
    return yaml.safe_load(Path(path).read_text()) or {}


def _trusted(value):
    """VALUE as Ansible's loader gives it: its strings may be templates."""
    if isinstance(value, str):
        return trust_as_template(value)
    if isinstance(value, dict):
        return {key: _trusted(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_trusted(item) for item in value]
    return value


def _variables(role, overrides, *, release="Debian-12", run_tags=("all",), host=None):
    """The variables a task of ROLE sees on a Debian host: the role's defaults, OVERRIDES, the
    platform's vars (as pyops.uwsgi.platform loads them), and the old Jinja to compare with."""
    variables = {}
    for path in (
        ROOT / "roles" / role / "defaults" / "main.yml",
        ROOT / "roles" / role / "vars" / "main.yml",
        ROOT / "roles" / role / "vars" / "Debian.yml",
        ROOT / "roles" / role / "vars" / f"{release}.yml",
    ):
        if path.exists():
            variables.update(_trusted(_yaml(path)))
    variables.update(_trusted(_yaml(BEFORE)))
    variables.update(overrides)
    variables["ansible_run_tags"] = list(run_tags)
    if host is not None:
        variables[f"__{role}_host"] = host
    return variables


def _run(role, variables, host=None, check_mode=False):
    task = mock.Mock()
    task.args = {"role": role, **({"host": host} if host is not None else {})}
    task.async_val = 0
    task.check_mode = check_mode
    loader = DataLoader()
    action = ActionModule(
        task,
        mock.Mock(),
        mock.Mock(),
        loader=loader,
        templar=Templar(loader=loader, variables=variables),
        shared_loader_obj=None,
    )
    return action.run(task_vars=variables)


def _render(variables, expression, **more):
    """EXPRESSION (a template, or a structure of them) rendered with VARIABLES and MORE."""
    templar = Templar(loader=DataLoader(), variables={**variables, **more})
    return templar.template(_trusted(expression))


def _old(variables, name, **more):
    return _render(variables, "{{ " + name + " }}", **more)


UWSGI_HOST = {
    "python3": "3.11",
    "uwsgi_version": "2.0.21-debian",
    "packages": {"python3.12": True, "python3.12-dev": True, "python3.12-venv": False},
    "installed": {"uwsgi-core": True, "gcc": True},
    "services": {"uwsgi-emperor": {"ActiveState": "active", "UnitFileState": "enabled"}},
    "paths": {},
    "texts": {},
}

# Settings, as a user sets them, each with the host the role read.
UWSGI_CASES = {
    "defaults": ({}, UWSGI_HOST),
    "versions": ({"uwsgi_python_versions": ["3.12", "3.11"]}, UWSGI_HOST),
    "pip": ({"uwsgi_pip_python_versions": ["3.12", "3.13"]}, UWSGI_HOST),
    "both, overlapping": (
        {
            "uwsgi_python_versions": ["3.12", "3.11", "3.12"],
            "uwsgi_pip_python_versions": ["3.11", "3.13"],
            "uwsgi_extra_packages": ["uwsgi-plugin-gevent-python3", "gcc"],
        },
        UWSGI_HOST,
    ),
    "places elsewhere": (
        {
            "uwsgi_emperor_service": "uwsgi-apps",
            "uwsgi_vassals_dir": "/etc/uwsgi/apps",
            "uwsgi_run_dir": "/run/uwsgi-apps",
            "uwsgi_pip_root": "/opt/uwsgi-pip",
            "uwsgi_plugin_dir": "/usr/local/lib/uwsgi/other",
            "uwsgi_pip_python_versions": ["3.12"],
            "uwsgi_emperor_scan_interval": 3,
            "uwsgi_pip_version": "2.0.30",
        },
        UWSGI_HOST,
    ),
    "emperor options over the role's": (
        {
            "uwsgi_emperor_options": {
                "strict": False,
                "stats": "/run/uwsgi/stats.sock",
                "vacuum": True,
            }
        },
        UWSGI_HOST,
    ),
    "apt source": (
        {"uwsgi_python_apt_repository": "ppa:deadsnakes/ppa", "uwsgi_python_versions": ["3.12"]},
        UWSGI_HOST,
    ),
    "a host without uWSGI, dpkg-query or systemctl": (
        {"uwsgi_pip_python_versions": ["3.12"]},
        {**UWSGI_HOST, "uwsgi_version": None, "installed": None, "services": None},
    ),
    "a host that lacks a package, Emperor stopped": (
        {},
        {
            **UWSGI_HOST,
            "installed": {"uwsgi-core": True, "gcc": False},
            "services": {"uwsgi-emperor": {"ActiveState": "inactive", "UnitFileState": "enabled"}},
        },
    ),
    "a host whose Emperor is running but disabled": (
        {},
        {
            **UWSGI_HOST,
            "installed": {},
            "services": {"uwsgi-emperor": {"ActiveState": "active", "UnitFileState": "disabled"}},
        },
    ),
}
RUN_TAGS = {
    "all": ("all",),
    "validate": ("validate",),
    "validate and always": ("validate", "always"),
    "uwsgi": ("uwsgi",),
    "validate and uwsgi": ("validate", "uwsgi"),
}


def _uwsgi_compare(overrides, host, run_tags, version_read=None, release="Debian-12"):
    """The plans against the old Jinja, value by value."""
    variables = _variables("uwsgi", overrides, release=release, run_tags=run_tags, host=host)
    before = _run("uwsgi", variables)
    plan = _run("uwsgi", variables, host=host)
    assert not plan.get("failed"), plan.get("msg")
    for early in (before, plan):
        assert early["checks_only"] == _old(variables, "__uwsgi_checks_only")
        assert early["add_apt_repository"] == _old(variables, "old_add_apt_repository")
        assert early["refresh_package_index"] == _old(variables, "old_refresh_package_index")
        assert early["install_packages"] == _old(variables, "old_install_packages")
        assert early["host_request"] == _old(variables, "old_host_request")
        assert early["tmpfiles"] == _old(variables, "old_tmpfiles")
        assert early["fact_dir"] == _old(variables, "old_fact_dir")
    assert plan["install"] == _old(variables, "old_install")
    assert plan["offered_packages"] == _old(variables, "old_offered_packages")

    old_emperors = [_old(variables, "old_emperor")] + [
        _old(variables, "old_pip_emperor", __uwsgi_pip_python=version)
        for version in variables["uwsgi_pip_python_versions"]
    ]
    new_emperors = [plan["emperor"], *plan["pip_emperors"]]
    assert len(new_emperors) == len(old_emperors)
    for old, new in zip(old_emperors, new_emperors):
        assert {key: new[key] for key in old} == old
        assert new["directories"] == _old(variables, "old_emperor_directories", __uwsgi_emperor=old)
        assert new["unit"] == _old(variables, "old_emperor_unit", __uwsgi_emperor=old)
        options = _old(variables, "old_emperor_options", __uwsgi_emperor=old)
        # In the same order: the ini is written from it.
        assert list(new["options"].items()) == list(options.items())
        assert uwsgi_ini(new["options"]) == uwsgi_ini(options)
        assert new["start"] == _old(variables, "old_emperor_start", __uwsgi_emperor=old)
    assert [emperor["python"] for emperor in plan["pip_emperors"]] == list(
        variables["uwsgi_pip_python_versions"]
    )

    # The plugins' loop items (molecule's multi_python reads them), and each build's python and
    # name and the find of its users, by plugins.yml as it is now from the plan, and as they were.
    served = _old(variables, "__uwsgi_plugin_pythons")
    assert plan["plugin_pythons"] == served
    build, find = _yaml(ROOT / "roles" / "uwsgi" / "tasks" / "plugins.yml")[:2]
    assert _render(variables, build["loop"], __uwsgi_plan=plan) == served
    for version in served:
        new = _render(variables, build["pyops.uwsgi.uwsgi_plugin"], __uwsgi_plan=plan, item=version)
        assert {key: new[key] for key in ("python", "name")} == _old(
            variables, "old_plugin", item=version
        )
        assert _render(
            variables,
            find["ansible.builtin.find"]["contains"],
            __uwsgi_plan=plan,
            item={"item": version},
        ) == _render(variables, "{{ old_plugin_users_contains }}", item={"item": version})

    # The record's text, by record.yml as it is now from the plan, and as it was.
    version = version_read or {"skipped": True}
    old_text = _old(variables, "old_record_text", __uwsgi_version=version)
    task = next(
        task
        for task in _yaml(ROOT / "roles" / "uwsgi" / "tasks" / "record.yml")
        if task["name"] == "Record the installation for the app role"
    )
    new_text = _render(
        {**variables, **_trusted(task["vars"])},
        "{{ __uwsgi_text }}",
        __uwsgi_plan=plan,
        __uwsgi_version=version,
    )
    assert new_text == old_text
    return plan


@pytest.mark.parametrize("tags", RUN_TAGS.values(), ids=RUN_TAGS)
@pytest.mark.parametrize(("overrides", "host"), UWSGI_CASES.values(), ids=UWSGI_CASES)
def test_uwsgi_plan_gives_what_the_roles_jinja_gave(overrides, host, tags):
    _uwsgi_compare(overrides, host, tags)


def test_uwsgi_record_takes_the_version_read_after_installing():
    host = {**UWSGI_HOST, "uwsgi_version": None}
    plan = _uwsgi_compare({}, host, ("all",), version_read={"stdout": "2.0.21-debian\n", "rc": 0})
    assert plan["record"]["version"] is None


VERSIONS = st.sampled_from(["3.9", "3.10", "3.11", "3.12", "3.13", "3.14"])


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    case=st.fixed_dictionaries(
        {
            "uwsgi_python_versions": st.lists(VERSIONS, max_size=3),
            "uwsgi_pip_python_versions": st.lists(VERSIONS, max_size=3),
            "uwsgi_extra_packages": st.lists(
                st.sampled_from(["gcc", "uwsgi-plugin-gevent-python3", "libpq-dev"]), max_size=2
            ),
            "uwsgi_python_apt_repository": st.sampled_from(["", "ppa:deadsnakes/ppa"]),
        }
    ),
    tags=st.sampled_from(list(RUN_TAGS.values())),
    python3=st.sampled_from(["3.11", "3.13"]),
    installed=st.one_of(
        st.none(), st.dictionaries(st.sampled_from(["gcc", "uwsgi-core"]), st.booleans())
    ),
    release=st.sampled_from(["Debian-12", "Debian-13", "Ubuntu-22"]),
)
def test_uwsgi_plan_gives_what_the_roles_jinja_gave_for_generated_settings(
    case, tags, python3, installed, release
):
    host = {**UWSGI_HOST, "python3": python3, "installed": installed}
    _uwsgi_compare(case, host, tags, release=release)


NGINX_HOSTS = {
    "converged": {
        "installed": {"nginx": True},
        "paths": {"/etc/nginx/sites-enabled/default": {"exists": False}},
        "services": {"nginx": {"ActiveState": "active", "UnitFileState": "enabled"}},
    },
    "fresh": {
        "installed": {"nginx": False},
        "paths": {"/etc/nginx/sites-enabled/default": {"exists": False}},
        "services": {"nginx": {"ActiveState": "inactive", "UnitFileState": "not-found"}},
    },
    "installed with its default site, stopped": {
        "installed": {"nginx": True},
        "paths": {"/etc/nginx/sites-enabled/default": {"exists": True}},
        "services": {"nginx": {"ActiveState": "failed", "UnitFileState": "enabled"}},
    },
    "no dpkg-query or systemctl": {
        "installed": None,
        "paths": {"/etc/nginx/sites-enabled/default": {"exists": False}},
        "services": None,
    },
}


@pytest.mark.parametrize("remove", [True, False])
@pytest.mark.parametrize("host", NGINX_HOSTS.values(), ids=NGINX_HOSTS)
def test_nginx_plan_gives_what_the_roles_jinja_gave(host, remove):
    variables = _variables(
        "nginx", {"nginx_remove_default_site": remove}, release="Debian", host=host
    )
    before = _run("nginx", variables)
    plan = _run("nginx", variables, host=host)
    for early in (before, plan):
        assert early["host_request"] == _old(variables, "old_nginx_host_request")
        assert early["packages"] == _old(variables, "__nginx_packages")
        assert early["default_site"] == _old(variables, "old_nginx_default_site")
    assert plan["install"] == _old(variables, "old_nginx_install")
    assert plan["remove_default_site"] == _old(variables, "old_nginx_remove_default_site")
    assert plan["start"] == _old(variables, "old_nginx_start")


def test_the_plan_runs_in_check_mode_and_changes_nothing():
    for role in ("uwsgi", "nginx"):
        result = _run(role, _variables(role, {}, release="Debian"), check_mode=True)
        assert not result.get("failed") and not result.get("skipped"), result
        assert result["changed"] is False


def test_a_setting_of_the_wrong_type_is_refused_in_one_line():
    result = _run("uwsgi", _variables("uwsgi", {"uwsgi_emperor_scan_interval": "often"}))
    assert result["failed"]
    assert result["errors"] == ["uwsgi_emperor_scan_interval: expected int, got str 'often'"]


def test_nginx_reads_no_setting_before_the_host_is_read():
    """That plan runs under every tag, where the nginx role's checks (tagged validate) may not
    have: a bad setting is left to them, as before."""
    variables = _variables("nginx", {"nginx_remove_default_site": "maybe"}, release="Debian")
    assert not _run("nginx", variables).get("failed")
    refused = _run("nginx", variables, host=NGINX_HOSTS["converged"])
    assert refused["failed"]
    assert refused["errors"] == ["nginx_remove_default_site: expected bool, got str 'maybe'"]


def test_the_platform_step_must_have_run():
    variables = _variables("nginx", {}, release="Debian")
    del variables["__nginx_sites_enabled"]
    result = _run("nginx", variables)
    assert result["failed"]
    assert "__nginx_sites_enabled not set" in result["msg"]
