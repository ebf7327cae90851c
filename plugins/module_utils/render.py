# Copyright: pyops.uwsgi contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Render dicts of options as the text of a uWSGI ini file or a systemd unit.

Both formats are lines of ``name = value`` (uWSGI) or ``Name=value`` (systemd) under ``[section]``
headers, and both are read line by line: a line break inside a value would start a new option.
One renderer writes both, so the same rules hold for every value the collection writes:

- keys keep the dict's order, so the same input always gives the same text;
- a list value repeats its key once per item (uWSGI's ``env``, systemd's ``ReadWritePaths``);
- ``None`` leaves the key out, so merging ``{key: None}`` over defaults drops one;
- a value with a line break (or, in a systemd unit, one ending in a backslash, which joins the next
  line), a nested dict, or a key with characters the format never uses is refused with
  ``RenderError`` naming the key;
- in a uWSGI ini file, strings are written so that uWSGI reads them back byte for byte
  (uwsgi_literal.py), unless the caller names the option as raw.

Pure: no I/O.
"""

from __future__ import annotations

import re
from collections.abc import Mapping

from ansible_collections.pyops.uwsgi.plugins.module_utils import uwsgi_literal

# uWSGI option names: letters, digits, dashes; a few (placeholders, plugin options) use _ or .
_UWSGI_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")
# systemd setting names: CamelCase letters and digits.
_SYSTEMD_NAME = re.compile(r"^[A-Z][A-Za-z0-9]*$")
_SECTION = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")


class RenderError(ValueError):
    """A value or name that cannot be written safely."""


class _Format:
    def __init__(self, what, name_pattern, separator, booleans, *, continues=False, quote=None):
        self.continues = continues
        # How a string reaches the reader as it is (uWSGI's expansions), or None.
        self.quote = quote
        self.what = what
        self.name_pattern = name_pattern
        self.separator = separator
        self.true, self.false = booleans

    def scalar(self, key, value, raw=False):
        if isinstance(value, bool):
            return self.true if value else self.false
        if isinstance(value, (int, float)):
            return str(value)
        if isinstance(value, str):
            if "\n" in value or "\r" in value:
                # A line break would let a value smuggle in further options.
                raise RenderError(f"{self.what} '{key}': the value contains a line break")
            if self.continues and value.endswith("\\"):
                # systemd joins a line ending in a backslash with the next: another setting lost.
                raise RenderError(f"{self.what} '{key}': the value ends in a backslash")
            if self.quote is None or raw:
                return value
            try:
                return self.quote(key, value)
            except ValueError as exc:
                raise RenderError(f"{self.what} '{key}': {exc}") from None
        raise RenderError(
            f"{self.what} '{key}': a value must be a string, number, boolean or a list of those,"
            f" not {type(value).__name__}"
        )

    def lines(self, options, known=None, raw=()):
        """The ``key<sep>value`` lines of one section; RAW names options written as given."""
        if not isinstance(options, Mapping):
            raise RenderError(f"expects a dict of {self.what}s, got {type(options).__name__}")
        lines = []
        for key, value in options.items():
            if not isinstance(key, str) or not self.name_pattern.fullmatch(key):
                raise RenderError(f"invalid {self.what} name {key!r}")
            if value is None:
                # Left out, so it needs no checking: options only some releases know may be named.
                continue
            if known is not None and key not in known:
                raise RenderError(f"'{key}' is not an option of this uWSGI")
            if isinstance(value, Mapping):
                raise RenderError(
                    f"{self.what} '{key}': a value must be a string, number, boolean or a list of"
                    " those, not dict"
                )
            items = value if isinstance(value, (list, tuple)) else [value]
            for item in items:
                if item is None or isinstance(item, (list, tuple, Mapping)):
                    raise RenderError(
                        f"{self.what} '{key}': list items must be strings, numbers or booleans"
                    )
                text = self.scalar(key, item, raw=key in raw)
                lines.append(f"{key}{self.separator}{text}")
        return lines


def _uwsgi_literal(key, value):
    return uwsgi_literal.ini_value(value, immediate=key in uwsgi_literal.IMMEDIATE_OPTIONS)


UWSGI = _Format("uWSGI option", _UWSGI_NAME, " = ", ("true", "false"), quote=_uwsgi_literal)
SYSTEMD = _Format("systemd setting", _SYSTEMD_NAME, "=", ("yes", "no"), continues=True)


def _section(name):
    if not isinstance(name, str) or not _SECTION.fullmatch(name):
        raise RenderError(f"invalid section name {name!r}")
    return f"[{name}]"


def uwsgi_ini(options, section="uwsgi", known_options=None, raw=()):
    """OPTIONS (a dict) as a uWSGI ini section; with KNOWN_OPTIONS, other keys are refused.

    Every string reaches uWSGI as it is (module_utils/uwsgi_literal.py: uWSGI's %-variables,
    $(ENV), @(file) and %(placeholder) are not expanded), or is refused when no ini text can carry
    it; the options named in RAW are written as given, for uWSGI to expand (processes = %k).
    """
    known = None if known_options is None else frozenset(known_options)
    lines = [_section(section), *UWSGI.lines(options, known, frozenset(raw))]
    return "\n".join(lines) + "\n"


def systemd_unit(sections, header=""):
    """SECTIONS ({"Unit": {...}, "Service": {...}, ...}) as the text of a systemd unit file.

    HEADER, a text of comment lines without the leading "# ", goes first.
    """
    if not isinstance(sections, Mapping):
        raise RenderError(f"expects a dict of sections, got {type(sections).__name__}")
    blocks = []
    if header:
        blocks.append("\n".join(f"# {line}".rstrip() for line in header.splitlines()))
    for name, options in sections.items():
        blocks.append("\n".join([_section(name), *SYSTEMD.lines(options)]))
    return "\n\n".join(blocks) + "\n"


def systemd_properties(settings):
    """SETTINGS (a dict) as "Name=value" strings for systemd-run --property, as in a unit."""
    return SYSTEMD.lines(settings)
