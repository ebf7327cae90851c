"""pip's index, extra indexes and CA bundle, as the uwsgi and app roles take them."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from ansible_collections.pyops.uwsgi.plugins.module_utils import pip_settings

ROOT = Path(__file__).resolve().parents[4]
PREFIXES = ["uwsgi", "app"]


def settings(prefix, index_url="", extra=(), ca_bundle=""):
    """PREFIX's three settings, and nothing else: the other role's names are never read."""
    return {
        f"{prefix}_pip_index_url": index_url,
        f"{prefix}_pip_extra_index_urls": list(extra),
        f"{prefix}_pip_ca_bundle": ca_bundle,
    }


def failed(prefix, **values):
    """The messages of the rules SETTINGS break."""
    return [
        message for ok, message in pip_settings.rules(prefix, settings(prefix, **values)) if not ok
    ]


@pytest.mark.parametrize("prefix", PREFIXES)
def test_the_role_defaults_pass_and_set_nothing(prefix):
    defaults = yaml.safe_load((ROOT / "roles" / prefix / "defaults" / "main.yml").read_text())
    assert all(ok for ok, _message in pip_settings.rules(prefix, defaults))
    assert pip_settings.environment(prefix, defaults) == {}


@pytest.mark.parametrize("prefix", PREFIXES)
@pytest.mark.parametrize(
    "values",
    [
        {},
        {"index_url": "https://pypi.example.org/simple"},
        {"index_url": "http://mirror.internal:8080/simple/"},
        {"extra": ["https://a.example.org/simple", "https://b.example.org/simple"]},
        {"ca_bundle": "/etc/ssl/certs/ca-certificates.crt"},
        {
            "index_url": "https://pypi.example.org/simple",
            "extra": ["https://pypi.org/simple"],
            "ca_bundle": "/usr/local/share/ca-certificates/corp.pem",
        },
    ],
    ids=["empty", "index", "http-index", "extras", "ca", "all"],
)
def test_good_settings(prefix, values):
    assert failed(prefix, **values) == []


@pytest.mark.parametrize("prefix", PREFIXES)
@pytest.mark.parametrize(
    ("values", "variable"),
    [
        ({"index_url": "pypi.example.org/simple"}, "pip_index_url"),
        ({"index_url": "ftp://pypi.example.org/simple"}, "pip_index_url"),
        ({"index_url": "https://pypi.example.org/my simple"}, "pip_index_url"),
        (
            {"extra": ["https://ok.example.org/simple", "file:///srv/wheels"]},
            "pip_extra_index_urls",
        ),
        ({"extra": [""]}, "pip_extra_index_urls"),
        ({"ca_bundle": "certs/ca.pem"}, "pip_ca_bundle"),
        ({"ca_bundle": "/etc/ssl/my certs/ca.pem"}, "pip_ca_bundle"),
    ],
    ids=["no-scheme", "ftp", "space", "extra-file", "extra-empty", "ca-relative", "ca-space"],
)
def test_bad_settings_name_their_variable(prefix, values, variable):
    [message] = failed(prefix, **values)
    assert f"{prefix}_{variable}" in message
    assert f"{PREFIXES[1 - PREFIXES.index(prefix)]}_" not in message


@pytest.mark.parametrize("prefix", PREFIXES)
def test_environment_leaves_out_what_is_empty(prefix):
    assert pip_settings.environment(prefix, settings(prefix)) == {}
    assert pip_settings.environment(prefix, settings(prefix, ca_bundle="/etc/ca.pem")) == {
        "PIP_CERT": "/etc/ca.pem"
    }


@pytest.mark.parametrize("prefix", PREFIXES)
def test_environment_of_every_setting(prefix):
    values = settings(
        prefix,
        index_url="https://pypi.example.org/simple",
        extra=["https://a.example.org/simple", "https://b.example.org/simple"],
        ca_bundle="/etc/ssl/certs/corp.pem",
    )
    assert pip_settings.environment(prefix, values) == {
        "PIP_INDEX_URL": "https://pypi.example.org/simple",
        # pip splits its list settings from the environment on white space.
        "PIP_EXTRA_INDEX_URL": "https://a.example.org/simple https://b.example.org/simple",
        "PIP_CERT": "/etc/ssl/certs/corp.pem",
    }


def test_each_prefix_reads_its_own_settings():
    both = {
        **settings("uwsgi", index_url="https://uwsgi.example.org/simple"),
        **settings("app", index_url="https://app.example.org/simple"),
    }
    assert pip_settings.environment("uwsgi", both) == {
        "PIP_INDEX_URL": "https://uwsgi.example.org/simple"
    }
    assert pip_settings.environment("app", both) == {
        "PIP_INDEX_URL": "https://app.example.org/simple"
    }
    with pytest.raises(KeyError, match="app_pip_index_url"):
        pip_settings.environment("app", settings("uwsgi"))


def test_extra_index_urls_may_be_a_tuple():
    values = {**settings("app"), "app_pip_extra_index_urls": ("https://a.example.org/simple",)}
    assert pip_settings.environment("app", values) == {
        "PIP_EXTRA_INDEX_URL": "https://a.example.org/simple"
    }
    assert failed("app", extra=("https://a.example.org/simple",)) == []
