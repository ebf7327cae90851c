"""One renderer for uWSGI ini files and systemd units: the same rules in both formats."""

from __future__ import annotations

import pytest
from ansible_collections.pyops.uwsgi.plugins.module_utils.render import (
    RenderError,
    systemd_unit,
    uwsgi_ini,
)


def ini_lines(options, **kwargs):
    """The option lines of a uWSGI ini section (the header left out)."""
    header, *lines = uwsgi_ini(options, **kwargs).splitlines()
    assert header == "[uwsgi]"
    return lines


def unit_lines(options):
    """The setting lines of a systemd unit with one [Service] section."""
    header, *lines = systemd_unit({"Service": options}).splitlines()
    assert header == "[Service]"
    return lines


# Each format as a function from one section's options to its lines, with names it takes.
FORMATS = [
    pytest.param(ini_lines, "env", " = ", id="uwsgi"),
    pytest.param(unit_lines, "Environment", "=", id="systemd"),
]


# --- what both formats share ------------------------------------------------------------------


def test_uwsgi_order_kept():
    text = uwsgi_ini({"strict": True, "processes": 4, "module": "shop.wsgi:app", "harakiri": 30})
    assert text == (
        "[uwsgi]\nstrict = true\nprocesses = 4\nmodule = shop.wsgi:app\nharakiri = 30\n"
    )


def test_systemd_order_kept():
    text = systemd_unit(
        {
            "Unit": {"Description": "uWSGI app shop", "After": "network.target"},
            "Service": {"Type": "notify", "ExecStart": "/usr/bin/uwsgi --ini /etc/shop.ini"},
            "Install": {"WantedBy": "multi-user.target"},
        }
    )
    assert text == (
        "[Unit]\nDescription=uWSGI app shop\nAfter=network.target\n"
        "\n"
        "[Service]\nType=notify\nExecStart=/usr/bin/uwsgi --ini /etc/shop.ini\n"
        "\n"
        "[Install]\nWantedBy=multi-user.target\n"
    )


@pytest.mark.parametrize(("lines", "name", "sep"), FORMATS)
def test_a_list_repeats_its_key(lines, name, sep):
    assert lines({name: ["A=1", "B=two words"], "Z": 1}) == [
        f"{name}{sep}A=1",
        f"{name}{sep}B=two words",
        f"Z{sep}1",
    ]
    assert lines({name: ("A=1", 2)}) == [f"{name}{sep}A=1", f"{name}{sep}2"]
    assert lines({name: []}) == []


@pytest.mark.parametrize(("lines", "name", "sep"), FORMATS)
def test_none_drops_the_key(lines, name, sep):
    defaults = {name: "A=1", "Keep": "yes"}
    assert lines({**defaults, name: None}) == [f"Keep{sep}yes"]


@pytest.mark.parametrize(
    ("lines", "true", "false"),
    [
        pytest.param(ini_lines, "master = true", "vacuum = false", id="uwsgi"),
        pytest.param(unit_lines, "NoNewPrivileges=yes", "PrivateNetwork=no", id="systemd"),
    ],
)
def test_booleans(lines, true, false):
    # A boolean is an int too: it must not come out as 1 or 0.
    true_name, false_name = true.split("=")[0].strip(), false.split("=")[0].strip()
    assert lines({true_name: True, false_name: False}) == [true, false]


@pytest.mark.parametrize(("lines", "name", "sep"), FORMATS)
def test_numbers(lines, name, sep):
    assert lines({name: 0, "Other": 1.5}) == [f"{name}{sep}0", f"Other{sep}1.5"]


@pytest.mark.parametrize(("lines", "name", "sep"), FORMATS)
@pytest.mark.parametrize(
    "value",
    [
        "A=1\nsocket = 0.0.0.0:1717",
        "A=1\rExecStartPre=/bin/sh",
        "A=1\r\n",
        "\n",
        ["A=1", "B=2\nC=3"],
        ["A=1", "B=2\r"],
    ],
)
def test_a_line_break_is_refused(lines, name, sep, value):
    with pytest.raises(RenderError, match=f"'{name}': the value contains a line break"):
        lines({name: value})


@pytest.mark.parametrize(("lines", "name", "sep"), FORMATS)
@pytest.mark.parametrize("value", [{"a": 1}, {}, [{"a": 1}], [["A=1"]], [None], b"bytes", object()])
def test_a_value_that_is_not_a_scalar_is_refused(lines, name, sep, value):
    with pytest.raises(RenderError, match=f"'{name}': "):
        lines({name: value})


@pytest.mark.parametrize(("lines", "name", "sep"), FORMATS)
def test_a_dict_value_is_refused_as_a_dict(lines, name, sep):
    with pytest.raises(RenderError, match="not dict"):
        lines({name: {"nested": 1}})


@pytest.mark.parametrize(
    ("lines", "what"),
    [
        pytest.param(ini_lines, "uWSGI option", id="uwsgi"),
        pytest.param(unit_lines, "systemd setting", id="systemd"),
    ],
)
@pytest.mark.parametrize(
    "options", [["master"], "master = true", 3, None], ids=["list", "str", "int", "none"]
)
def test_a_section_that_is_not_a_dict_is_refused(lines, what, options):
    with pytest.raises(RenderError, match=f"expects a dict of {what}s"):
        lines(options)


# --- names: uWSGI's dashed names, systemd's CamelCase ------------------------------------------


@pytest.mark.parametrize(
    "name",
    ["master", "need-app", "http-socket", "plugins_dir", "emperor.stats", "py-autoreload", "x2"],
)
def test_uwsgi_names(name):
    assert ini_lines({name: 1}) == [f"{name} = 1"]


@pytest.mark.parametrize(
    "name", ["bad key", "", "-master", "_x", "[uwsgi]", "a=b", "env\r", "socket;", 3, None]
)
def test_bad_uwsgi_names_are_refused(name):
    with pytest.raises(RenderError, match="invalid uWSGI option name"):
        uwsgi_ini({name: 1})


@pytest.mark.parametrize("name", ["ExecStart", "User", "LimitNOFILE", "IPAddressDeny", "X2"])
def test_systemd_names(name):
    assert unit_lines({name: 1}) == [f"{name}=1"]


@pytest.mark.parametrize(
    "name",
    ["execStart", "need-app", "Exec-Start", "Exec_Start", "Exec.Start", "Exec Start", "", "2X", 3],
)
def test_bad_systemd_names_are_refused(name):
    with pytest.raises(RenderError, match="invalid systemd setting name"):
        systemd_unit({"Service": {name: 1}})


def test_a_bad_name_is_refused_even_with_a_none_value():
    with pytest.raises(RenderError, match="invalid uWSGI option name"):
        uwsgi_ini({"bad key": None})
    with pytest.raises(RenderError, match="invalid systemd setting name"):
        systemd_unit({"Service": {"bad-name": None}})


# --- known options (uWSGI) ------------------------------------------------------------------


@pytest.mark.parametrize(
    "known", [["master", "processes"], ("master", "processes"), {"master", "processes"}]
)
def test_known_options_refuse_an_unknown_name(known):
    text = uwsgi_ini({"master": True, "processes": 2}, known_options=known)
    assert text == "[uwsgi]\nmaster = true\nprocesses = 2\n"
    with pytest.raises(RenderError, match="'procesess' is not an option of this uWSGI"):
        uwsgi_ini({"master": True, "procesess": 2}, known_options=known)


def test_known_options_let_an_unknown_none_through():
    # An option only newer releases know may be named, as long as it is left out.
    text = uwsgi_ini({"master": True, "max-requests-delta": None}, known_options=["master"])
    assert text == "[uwsgi]\nmaster = true\n"


def test_no_known_options_refuse_all_but_none():
    assert uwsgi_ini({"master": None}, known_options=[]) == "[uwsgi]\n"
    with pytest.raises(RenderError, match="'master' is not an option"):
        uwsgi_ini({"master": True}, known_options=[])


def test_known_options_none_checks_nothing():
    assert uwsgi_ini({"anything-goes": 1}, known_options=None) == "[uwsgi]\nanything-goes = 1\n"


# --- sections -------------------------------------------------------------------------------


@pytest.mark.parametrize("section", ["uwsgi", "app2", "shop_v2", "shop.canary", "Shop-2"])
def test_uwsgi_sections(section):
    assert uwsgi_ini({"x": 1}, section=section) == f"[{section}]\nx = 1\n"


@pytest.mark.parametrize(
    "section", ["", "uwsgi]\nsocket = :1", "[uwsgi]", "my app", "-x", "uwsgi\r", None, 3]
)
def test_bad_uwsgi_sections_are_refused(section):
    with pytest.raises(RenderError, match="invalid section name"):
        uwsgi_ini({"x": 1}, section=section)


@pytest.mark.parametrize("section", ["", "Service]\nUser=root", "[Service]", "X Y", None])
def test_bad_systemd_sections_are_refused(section):
    with pytest.raises(RenderError, match="invalid section name"):
        systemd_unit({"Unit": {"Description": "x"}, section: {}})


@pytest.mark.parametrize("sections", [[("Unit", {})], "Unit", None])
def test_systemd_sections_must_be_a_dict(sections):
    with pytest.raises(RenderError, match="expects a dict of sections"):
        systemd_unit(sections)


def test_an_empty_systemd_section_is_written():
    assert systemd_unit({"Unit": {}, "Install": {"WantedBy": "sockets.target"}}) == (
        "[Unit]\n\n[Install]\nWantedBy=sockets.target\n"
    )


# --- systemd header -------------------------------------------------------------------------


def test_systemd_header_comment_lines():
    header = "Managed by Ansible (pyops.uwsgi).\n\n`systemctl reload shop` reloads it."
    text = systemd_unit({"Unit": {"Description": "shop"}}, header)
    assert text == (
        "# Managed by Ansible (pyops.uwsgi).\n"
        "#\n"
        "# `systemctl reload shop` reloads it.\n"
        "\n"
        "[Unit]\nDescription=shop\n"
    )


def test_systemd_without_header_starts_with_a_section():
    assert systemd_unit({"Unit": {"Description": "shop"}}).startswith("[Unit]\n")
    assert systemd_unit({"Unit": {"Description": "shop"}}, "") == "[Unit]\nDescription=shop\n"


def test_systemd_header_lines_have_no_trailing_space():
    text = systemd_unit({"Unit": {}}, "one  \n   \ntwo")
    assert text.splitlines()[:3] == ["# one", "#", "# two"]


def test_a_trailing_backslash_is_refused_in_systemd():
    with pytest.raises(RenderError, match="'Environment'"):
        systemd_unit({"Service": {"Environment": "SUFFIX=x\\", "User": "app"}})


@pytest.mark.parametrize(
    "render",
    [
        pytest.param(lambda: uwsgi_ini({"master\n": True}), id="uwsgi-name"),
        pytest.param(lambda: uwsgi_ini({"master": True}, section="uwsgi\n"), id="uwsgi-section"),
        pytest.param(lambda: systemd_unit({"Service": {"User\n": "root"}}), id="systemd-name"),
        pytest.param(lambda: systemd_unit({"Service\n": {"User": "app"}}), id="systemd-section"),
    ],
)
def test_a_name_ending_in_a_line_break_is_refused(render):
    with pytest.raises(RenderError, match="invalid"):
        render()


def test_a_trailing_backslash_is_kept_in_uwsgi():
    # uWSGI's ini reader has no line continuation (uWSGI 2.0.31 reads "one\" and "two").
    assert ini_lines({"print": ["one\\", "two"]}) == ["print = one\\", "print = two"]
