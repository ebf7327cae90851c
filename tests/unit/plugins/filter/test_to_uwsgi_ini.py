from __future__ import annotations

import pytest
from ansible.errors import AnsibleFilterError
from ansible_collections.pyops.uwsgi.plugins.filter.to_uwsgi_ini import FilterModule, to_uwsgi_ini


def test_scalars_lists_and_order():
    text = to_uwsgi_ini(
        {
            "strict": True,
            "processes": 4,
            "harakiri": 30,
            "env": ["A=1", "B=two words"],
            "need-app": False,
            "module": "wsgi:application",
        }
    )
    assert text == (
        "[uwsgi]\n"
        "strict = true\n"
        "processes = 4\n"
        "harakiri = 30\n"
        "env = A=1\n"
        "env = B=two words\n"
        "need-app = false\n"
        "module = wsgi:application\n"
    )


def test_same_input_same_text():
    options = {"b": 1, "a": [2, 3]}
    assert to_uwsgi_ini(options) == to_uwsgi_ini(dict(options))


def test_null_drops_a_default():
    defaults = {"master": True, "thunder-lock": True}
    assert to_uwsgi_ini({**defaults, "thunder-lock": None}) == "[uwsgi]\nmaster = true\n"


def test_null_option_needs_no_checking():
    # A role may name an option only newer releases know, left out where it is not known.
    text = to_uwsgi_ini({"master": True, "max-requests-delta": None}, known_options=["master"])
    assert text == "[uwsgi]\nmaster = true\n"


def test_empty_list_writes_nothing():
    assert to_uwsgi_ini({"env": []}) == "[uwsgi]\n"


def test_other_section():
    assert to_uwsgi_ini({"x": 1}, section="app2") == "[app2]\nx = 1\n"


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"env": "A=1\nsocket = 0.0.0.0:1717"}, "line break"),
        ({"bad key": 1}, "invalid uWSGI option name"),
        ({"[uwsgi]": 1}, "invalid uWSGI option name"),
        ({"": 1}, "invalid uWSGI option name"),
        ({"nested": {"a": 1}}, "not dict"),
        ({"env": [["A=1"]]}, "list items"),
        ({"env": [None]}, "list items"),
    ],
)
def test_refuses_what_cannot_be_written_safely(options, message):
    with pytest.raises(AnsibleFilterError, match=message):
        to_uwsgi_ini(options)


@pytest.mark.parametrize("options", [["master"], "master = true", 3, None])
def test_refuses_a_non_dict(options):
    with pytest.raises(AnsibleFilterError, match="expects a dict"):
        to_uwsgi_ini(options)


def test_refuses_a_bad_section():
    with pytest.raises(AnsibleFilterError, match="section"):
        to_uwsgi_ini({}, section="uwsgi]\nsocket=:1")


def test_known_options_refuse_a_typo():
    known = ["master", "processes"]
    assert to_uwsgi_ini({"master": True}, known_options=known) == "[uwsgi]\nmaster = true\n"
    with pytest.raises(AnsibleFilterError, match="'procesess' is not an option"):
        to_uwsgi_ini({"procesess": 4}, known_options=known)


def test_registered_as_a_filter():
    assert FilterModule().filters()["to_uwsgi_ini"] is to_uwsgi_ini
