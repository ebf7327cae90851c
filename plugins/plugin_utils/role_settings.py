# Copyright: pyops.uwsgi contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""A role's settings as its tasks see them, checked against the role's own argument spec.

Shared by the collection's action plugins (controller side). The settings of a role entry point
are the options of its ``meta/argument_specs.yml``: their values come from the task's variables
(role defaults, inventory, ``include_role`` vars), or, for one item of a list such as site.yml's
``uwsgi_apps``, from the item with the variables filling in what it leaves out. Either way they are
validated by Ansible's own ArgumentSpecValidator, so types, choices, required options and unknown
keys get Ansible's own messages, and values come back converted to their types. A value of the
wrong type is told in one line, ``app_harakiri: expected int, got str 'soon'``, shaped from
Ansible's own message.
"""

from __future__ import annotations

import copy
import re
from functools import cache
from pathlib import Path

import yaml
from ansible.module_utils.common.arg_spec import ArgumentSpecValidator
from ansible.module_utils.errors import NoLogError, UnsupportedError

COLLECTION = Path(__file__).resolve().parents[2]

# Ansible's messages for a value of the wrong type, and for a list element of the wrong type
# (module_utils/common/parameters.py, ansible-core 2.16 to 2.19): the option, the options it is
# nested in, the value's type and the type wanted.
_TYPE_ERROR = re.compile(
    r"argument '(?P<name>[^']+)' is of type (?P<got>\S+)(?: found in '(?P<within>[^']*)'\.)?"
    r" and we were unable to convert to (?P<wanted>[^:\s]+):"
)
_ELEMENT_ERROR = re.compile(
    r"Elements value for option '(?P<name>[^']+)'(?: found in '(?P<within>[^']*)')?"
    r" is of type (?P<got>\S+) and we were unable to convert to (?P<wanted>[^:\s]+):"
)
# The value is quoted only when a scalar was wanted: a string given where a dict (app_env) or a
# list was wanted may hold a secret.
_SCALAR_TYPES = frozenset({"str", "int", "float", "bool", "path", "bytes", "bits"})
_SHOWN_LENGTH = 40


def spec_options(role, entry_point="main"):
    """The options of ROLE's ENTRY_POINT, as its meta/argument_specs.yml declares them; an entry
    point that declares none (the app role's validate) takes the main entry point's."""
    specs = _specs(role)
    options = specs[entry_point].get("options") or specs["main"]["options"]
    # A copy: the validator is handed it, and the cached spec must stay as the file says.
    options = copy.deepcopy(options)
    # A default that is a template ("{{ playbook_var | default('x') }}") is rendered by Ansible
    # from the role's defaults/main.yml before the settings reach the validator (gather); its
    # text, left here, would be checked against the option's choices as a value.
    for option in options.values():
        if isinstance(option.get("default"), str) and "{{" in option["default"]:
            del option["default"]
    return options


@cache
def _specs(role):
    path = COLLECTION / "roles" / role / "meta" / "argument_specs.yml"
    with path.open(encoding="utf-8") as handle:
        # The C parser when PyYAML has it: the app role's spec is some 300 lines.
        loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
        return yaml.load(handle, Loader=loader)["argument_specs"]


def gather(options, task_vars, templar, item=None):
    """The raw settings: ITEM's keys (all of them, unknown ones included) over the variables."""
    item = dict(item or {})
    variables = {**task_vars, **item}
    raw = {name: variables[name] for name in options if name in variables}
    raw.update(item)
    # Defaults such as "/srv/{{ app_name }}" are rendered with the item's own values in scope.
    return templar.copy_with_new_env(available_variables=variables).template(raw)


def validate(options, raw, context="", role=""):
    """(settings, errors): RAW checked and converted by Ansible's ArgumentSpecValidator."""
    result = ArgumentSpecValidator(options).validate(raw, validate_role_argument_spec=True)
    errors = []
    for error in result.errors:
        if isinstance(error, NoLogError) and len(result.error_messages) > 1:
            # Ansible's search for values to hide met the same bad value as the type check did,
            # and says so without naming it.
            continue
        if isinstance(error, UnsupportedError):
            # Ansible lists every supported name; the role's documentation says more.
            unknown = ", ".join(
                sorted(
                    ".".join(name) if isinstance(name, tuple) else name
                    for name in result.unsupported_parameters
                )
            )
            errors.append(
                f"unknown settings {unknown}: not variables of pyops.uwsgi.{role}"
                f" (see ansible-doc -t role pyops.uwsgi.{role})"
            )
        else:
            errors.append(_shaped(error.msg, options, raw))
    if context:
        errors = [f"{context}: {error}" for error in errors]
    return result.validated_parameters, errors


def _shaped(message, options, raw):
    """MESSAGE of Ansible's validator, in one line "NAME: expected TYPE, got TYPE VALUE" when it
    tells of a value of the wrong type; any other message as it is."""
    match = _TYPE_ERROR.match(message)
    element = match is None
    match = match or _ELEMENT_ERROR.match(message)
    if match is None:
        return message
    name, got, wanted = match["name"], match["got"], match["wanted"]
    within = match["within"].split(" -> ") if match["within"] else []
    spec = options
    for parent in within:
        spec = (spec.get(parent) or {}).get("options") or {}
    where = ".".join([*within, name])
    if element:
        shown = f"{where}: expected a list of {wanted}, got an element of type {got}"
        values = [
            value
            for found in _values_at(raw, within, name)
            if isinstance(found, list)
            for value in found
        ]
    else:
        shown = f"{where}: expected {wanted}, got {got}"
        values = _values_at(raw, within, name)
    values = [value for value in values if _type_name(value) == got]
    # Quoted when it is the one value of that type there, and no secret.
    if wanted in _SCALAR_TYPES and len(values) == 1 and not (spec.get(name) or {}).get("no_log"):
        shown = " ".join(filter(None, [shown, _quoted(values[0])]))
    return shown


def _values_at(raw, within, name):
    """The values of NAME in RAW under the options WITHIN (each a dict or a list of dicts)."""
    found = [raw]
    for parent in within:
        found = [item[parent] for item in found if isinstance(item, dict) and parent in item]
        found = [part for item in found for part in (item if isinstance(item, list) else [item])]
    return [item[name] for item in found if isinstance(item, dict) and name in item]


def _type_name(value):
    """The builtin type of VALUE, as Ansible names it (a tagged str is a str)."""
    return next(kind.__name__ for kind in type(value).__mro__ if kind.__module__ == "builtins")


def _quoted(value):
    """VALUE as it would be written, cut to a few words; empty for a dict or a list."""
    if isinstance(value, str):
        text = str(value)
        if len(text) > _SHOWN_LENGTH:
            text = text[: _SHOWN_LENGTH - 3] + "..."
        return repr(text)
    if isinstance(value, (bool, int, float)):
        return repr(next(kind for kind in (bool, int, float) if isinstance(value, kind))(value))
    return ""
