# Copyright: pyops.uwsgi contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""A role's settings as its tasks see them, checked against the role's own argument spec.

Shared by the collection's action plugins (controller side). The settings of a role entry point
are the options of its ``meta/argument_specs.yml``: their values come from the task's variables
(role defaults, inventory, ``include_role`` vars), or, for one item of a list such as site.yml's
``uwsgi_apps``, from the item with the variables filling in what it leaves out. Either way they are
validated by Ansible's own ArgumentSpecValidator, so types, choices, required options and unknown
keys get Ansible's own messages, and values come back converted to their types.
"""

from __future__ import annotations

import copy
from functools import cache
from pathlib import Path

import yaml
from ansible.module_utils.common.arg_spec import ArgumentSpecValidator
from ansible.module_utils.errors import UnsupportedError

COLLECTION = Path(__file__).resolve().parents[2]


def spec_options(role, entry_point="main"):
    """The options of ROLE's ENTRY_POINT, as its meta/argument_specs.yml declares them."""
    # A copy: the validator is handed it, and the cached spec must stay as the file says.
    return copy.deepcopy(_specs(role)[entry_point]["options"])


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
            errors.append(error.msg)
    if context:
        errors = [f"{context}: {error}" for error in errors]
    return result.validated_parameters, errors
