"""app_config_files: where each file goes, what a change in one changes, what is refused."""

from __future__ import annotations

import pytest
from ansible_collections.pyops.uwsgi.plugins.module_utils import app_plan
from ansible_collections.pyops.uwsgi.plugins.plugin_utils import app_source
from ansible_collections.pyops.uwsgi.tests.unit.plugins import stand_in

SECRET = "s3cr3t-never-shown"
SHARED = {"app_state_dir": "/var/lib/hello", "app_shared_paths": [{"path": "instance"}]}


def config(*files, **overrides):
    return {"app_config_files": list(files), **overrides}


def plan(**overrides):
    planned = stand_in.app(**overrides)
    assert planned["errors"] == [], planned["errors"]
    return planned["plan"]


def errors(**overrides):
    return stand_in.app(**overrides)["errors"]


def test_a_file_inside_a_shared_path_is_linked_there_through_the_current_link():
    planned = plan(**config({"dest": "instance/config.py", "content": "KEY = 1"}, **SHARED))
    section = planned["config"]
    (item,) = section["files"]
    assert section["root"] == "/srv/hello/config"
    assert section["current"] == "/srv/hello/config/current"
    assert section["dir"].startswith("/srv/hello/config/") and section["dir"] != section["current"]
    assert item["path"] == f"{section['dir']}/instance/config.py"
    assert item["link"] == "/var/lib/hello/shared/instance/config.py"
    assert item["target"] == "/srv/hello/config/current/instance/config.py"
    assert (item["owner"], item["group"], item["mode"]) == ("root", "hello", "0640")
    # The shared directory is there already (user.yml): no directory to make for the link.
    assert section["link_parents"] == []
    # Root's, readable by the app's group alone, parents first.
    assert section["directories"] == [
        {"path": "/srv/hello/config", "owner": "root", "group": "hello", "mode": "0750"},
        {"path": section["dir"], "owner": "root", "group": "hello", "mode": "0750"},
        {"path": f"{section['dir']}/instance", "owner": "root", "group": "hello", "mode": "0750"},
    ]


def test_a_file_of_the_code_is_linked_in_the_release_and_its_directories_made_root_s():
    planned = plan(**config({"dest": "conf/local.py", "content": "X = 1", "mode": "0600"}))
    (item,) = planned["config"]["files"]
    code = planned["release"]["code"]
    assert item["link"] == f"{code}/conf/local.py"
    assert item["mode"] == "0600"
    assert planned["config"]["link_parents"] == [
        {"path": f"{code}/conf", "owner": "root", "group": "root", "mode": "0755"}
    ]


def test_a_changed_content_changes_the_generation_and_nothing_else():
    one = plan(**config({"dest": "local_settings.py", "content": "KEY = 'one'"}))
    two = plan(**config({"dest": "local_settings.py", "content": "KEY = 'two'"}))
    assert one["vassal"]["generation"] != two["vassal"]["generation"]
    assert one["config"]["dir"] != two["config"]["dir"]
    # The same release (no build), the same canary.
    assert one["release"] == two["release"]
    assert one["canary"] == two["canary"]
    lines_one = one["vassal"]["text"].splitlines()
    lines_two = two["vassal"]["text"].splitlines()
    differing = [(a, b) for a, b in zip(lines_one, lines_two) if a != b]
    assert len(lines_one) == len(lines_two)
    assert [a.split(" = ")[0] for a, _b in differing] == ["procname-prefix-spaced"]


def test_the_content_is_not_in_the_vassal_the_canary_or_the_units():
    planned = plan(**config({"dest": "local_settings.py", "content": f"KEY = '{SECRET}'"}))
    assert planned["config"]["files"][0]["content"] == f"KEY = '{SECRET}'"
    for text in (
        planned["vassal"]["text"],
        planned["canary"]["ini"],
        planned["unit"]["service"],
        planned["environment"]["text"],
        " ".join(planned["canary"]["argv"]),
    ):
        assert SECRET not in text


def test_apps_without_configuration_files_keep_their_generation():
    assert plan()["vassal"] == plan(app_config_files=[])["vassal"]
    assert plan()["config"]["dir"] == ""


def test_a_mode_the_owner_or_the_group_changes_the_generation_too():
    base = {"dest": "a.py", "content": "X = 1"}
    generations = {
        plan(**config({**base, **change}))["vassal"]["generation"]
        for change in ({}, {"mode": "0600"}, {"group": "adm"}, {"owner": "hello"})
    }
    assert len(generations) == 4


@pytest.mark.parametrize(
    ("mode", "why"),
    [
        ("0644", "other users of the host"),
        ("0750", "execute bits"),
        ("2640", "special bits"),
        ("640 ", "octal mode in quotes"),
        ("rw-r-----", "octal mode in quotes"),
    ],
)
def test_modes_that_do_not_suit_a_configuration_file_are_refused_saying_why(mode, why):
    found = errors(**config({"dest": "a.py", "content": "X = 1", "mode": mode}))
    assert len(found) == 1
    assert found[0].startswith("app_config_files mode"), found
    assert why in found[0].split(": ", 1)[1], found


@pytest.mark.parametrize(
    "dest", ["/etc/app.conf", "../x.py", "./x.py", "conf/../x.py", "conf/", "", "a b.py"]
)
def test_a_dest_outside_the_code_is_refused(dest):
    (message,) = errors(**config({"dest": dest, "content": "X = 1"}))
    assert message.startswith("app_config_files dest must be a file inside the code"), message


@pytest.mark.parametrize(
    ("module", "dest"),
    [("wsgi", "wsgi.py"), ("mysite.wsgi", "mysite/wsgi.py"), ("flaskr", "flaskr/config.py")],
)
def test_the_entry_module_and_what_lies_inside_it_are_refused(module, dest):
    found = errors(app_wsgi_module=module, **config({"dest": dest, "content": "X = 1"}))
    assert any(f"app_config_files must not replace the code: {dest}" in e for e in found), found


def test_beside_the_entry_module_is_taken():
    assert plan(
        app_wsgi_module="mysite.wsgi",
        app_requirements_file="requirements.txt",
        **config({"dest": "mysite/local_settings.py", "content": "X = 1"}),
    )


@pytest.mark.parametrize("dest", ["instance", "media"])
def test_a_shared_directory_or_one_holding_one_is_refused(dest):
    shared = {"app_state_dir": "/var/lib/hello", "app_shared_paths": [{"path": "media/uploads"}]}
    shared["app_shared_paths"].append({"path": "instance"})
    (message,) = errors(**config({"dest": dest, "content": "X = 1"}, **shared))
    assert "not one of app_shared_paths or a directory holding one" in message


def test_a_file_given_twice_or_inside_another_is_refused():
    (message,) = errors(**config({"dest": "a", "content": "1"}, {"dest": "a/b.py", "content": "2"}))
    assert message.startswith("app_config_files dest must name each file once"), message


@pytest.mark.parametrize(
    ("item", "said"),
    [
        ({"dest": "a.py"}, "'a.py' has neither of src and content"),
        ({"dest": "a.py", "src": "a.py.j2", "content": "X"}, "'a.py' has both of src and content"),
        ({"dest": "a.py", "src": "a.py.j2"}, "the template 'a.py.j2' was not found"),
    ],
)
def test_a_file_needs_exactly_one_source_found_on_the_controller(item, said):
    (message,) = errors(**config(item))
    assert message.startswith("app_config_files takes, for each file, either content"), message
    assert said in message


def test_a_template_is_written_as_the_controller_rendered_it():
    checked, problems = stand_in.settings(
        "app",
        app_name="hello",
        app_src_dir=stand_in.HELLO,
        **config({"dest": "settings.ini", "src": "settings.ini.j2", "owner": "hello"}),
    )
    assert problems == []
    controller, _digest = app_source.controller_readings(checked, "")
    planned = app_plan.make_plan(
        checked,
        record=stand_in.RECORD,
        host=stand_in.HOST,
        controller={**controller, "config_templates": {"settings.ini.j2": "[app]\nkey = 1\n"}},
        platform=stand_in.PLATFORM,
        source="stand-in",
    )
    assert planned["errors"] == []
    (item,) = planned["plan"]["config"]["files"]
    assert item["content"] == "[app]\nkey = 1\n"
    assert (item["owner"], item["group"]) == ("hello", "hello")
