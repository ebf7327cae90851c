# Copyright: pyops.uwsgi contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Render a dict of uWSGI options as ini text."""

from __future__ import annotations

import re
from collections.abc import Mapping

from ansible.errors import AnsibleFilterError

# uWSGI option names: letters, digits, dashes; a few (placeholders, plugin options) use _ or .
_OPTION_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")
_SECTION_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")


def _scalar(option, value):
    """Return one ini value for a uWSGI option, refusing what cannot be written safely."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return str(value)
    if isinstance(value, str):
        if "\n" in value or "\r" in value:
            # A line break would let a value smuggle in further options.
            raise AnsibleFilterError(f"uWSGI option '{option}': the value contains a line break")
        return value
    raise AnsibleFilterError(
        f"uWSGI option '{option}': a value must be a string, number, boolean or a list of those,"
        f" not {type(value).__name__}"
    )


def to_uwsgi_ini(options, section="uwsgi", known_options=None):
    """Render OPTIONS (a dict) as a uWSGI ini section.

    Keys keep the order of the dict. A list value repeats its key once per item, in list order
    (uWSGI's way to give an option several times). A null value leaves the key out, which lets a
    caller drop a default by merging ``{option: null}`` over it. With KNOWN_OPTIONS, a key that is
    not in that collection is refused.
    """
    if not isinstance(options, Mapping):
        raise AnsibleFilterError(
            f"to_uwsgi_ini expects a dict of uWSGI options, got {type(options).__name__}"
        )
    if not isinstance(section, str) or not _SECTION_NAME.match(section):
        raise AnsibleFilterError(f"to_uwsgi_ini: invalid section name {section!r}")
    known = None if known_options is None else frozenset(known_options)

    lines = [f"[{section}]"]
    for option, value in options.items():
        if not isinstance(option, str) or not _OPTION_NAME.match(option):
            raise AnsibleFilterError(f"invalid uWSGI option name {option!r}")
        if value is None:
            # Left out, so it needs no checking: a role can name options only some versions know.
            continue
        if known is not None and option not in known:
            raise AnsibleFilterError(f"'{option}' is not an option of this uWSGI")
        if isinstance(value, Mapping):
            raise AnsibleFilterError(
                f"uWSGI option '{option}': a value must be a string, number, boolean or a list of"
                " those, not dict"
            )
        items = value if isinstance(value, (list, tuple)) else [value]
        for item in items:
            if item is None or isinstance(item, (list, tuple, Mapping)):
                raise AnsibleFilterError(
                    f"uWSGI option '{option}': list items must be strings, numbers or booleans"
                )
            lines.append(f"{option} = {_scalar(option, item)}")
    return "\n".join(lines) + "\n"


class FilterModule:
    """pyops.uwsgi filters."""

    def filters(self):
        return {"to_uwsgi_ini": to_uwsgi_ini}
