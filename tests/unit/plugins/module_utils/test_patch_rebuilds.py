"""What an OS upgrade (pyops.uwsgi.patch) makes the next converge build again.

- a new Python minor version (python3 3.11 -> 3.13 on a Debian release upgrade) is a new release:
  its virtualenv is made with the new interpreter, tried on the canary and switched to;
- a new micro version (3.13.1 -> 3.13.2) is the same release: the virtualenv links to
  /usr/bin/python3.X, and wheels built for cp3X keep working across micro versions;
- the Python plugin is rebuilt when the interpreter's version, build or ABI or uWSGI's version
  changes (tests/unit/plugins/modules/test_uwsgi_plugin.py, test_a_change_rebuilds_once, ids
  python-version, python-build, abi, uwsgi-version).
"""

from __future__ import annotations

import copy

from ansible_collections.pyops.uwsgi.plugins.module_utils._app import model
from ansible_collections.pyops.uwsgi.tests.unit.plugins import stand_in


def _record(version):
    record = copy.deepcopy(stand_in.RECORD)
    record.update(
        default_python=version,
        interpreters={version: f"/usr/bin/python{version}"},
        plugins={version: f"python{version.replace('.', '')}"},
    )
    return record


def _plan(**arguments):
    result = stand_in.app(**arguments)
    assert not result["errors"], result["errors"]
    return result["plan"]


def test_a_new_python_minor_version_is_a_new_release_built_with_it():
    before = _plan(record=_record("3.11"), host={"python3": "3.11", "pythons": ["3.11"]})
    after = _plan(record=_record("3.13"), host={"python3": "3.13", "pythons": ["3.13"]})
    assert before["release"]["id"] != after["release"]["id"]
    assert after["release"]["venv"].startswith(f"/srv/hello/releases/{after['release']['id']}/")
    assert after["python"] == {"version": "3.13", "interpreter": "/usr/bin/python3.13"}


def test_the_same_minor_version_keeps_the_release():
    once = _plan(record=_record("3.13"))
    again = _plan(record=_record("3.13"), host={"python3": "3.13"})
    assert once["release"]["id"] == again["release"]["id"]


def test_release_id_names_the_python_it_was_built_with():
    settings, errors = stand_in.settings("app", app_name="hello", app_src_dir=stand_in.HELLO)
    assert not errors
    assert model.release_id(settings, "src", "3.11") != model.release_id(settings, "src", "3.13")
    assert model.release_id(settings, "src", "3.13") == model.release_id(settings, "src", "3.13")
