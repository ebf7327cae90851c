# Copyright: pyops.uwsgi contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Write a value into a uWSGI ini file so that uWSGI reads back exactly that value.

``ini_value(value)`` returns the text to put after ``key = `` on a line of its own in a UTF-8
file; a value that no ini text can carry is refused with ``ValueError`` and a reason. A renderer
calls ``ini_value(value, immediate=option in IMMEDIATE_OPTIONS)``. Standard library only, no I/O.

How uWSGI 2.0.x reads an ini value
==================================

The code involved is the same in 2.0.21 (Debian 12), 2.0.28 (Debian 13) and 2.0.31 (PyPI), and
tests/unit/plugins/module_utils/test_uwsgi_literal.py passed against all three (Debian's
uwsgi-core 2.0.21, pip builds of 2.0.28 and 2.0.31).

1. ``uwsgi_open_and_read()`` (core/io.c) reads the whole file and runs ``magic_sub()``
   (core/utils.c) over all of it, section headers, keys and comments included. ``%`` followed by
   ANY byte is replaced: ``%%`` gives ``%``; ``%(`` stays ``%(`` (for step 4); ``%d %n %k %h %[``
   and the other magic variables give their value; every other byte (``%Z``, ``%é``, ``%`` before
   a line break, which then joins two lines) gives nothing. ``%%`` is the only escape here and it
   is complete: ``%%d`` gives ``%d``.
2. ``uwsgi_ini_config()`` (core/ini.c) cuts the text at ``\\n`` only, strips spaces, tabs and
   ``\\r`` from both ends of the line, takes a line starting with ``[`` as a section and one
   starting with ``;`` or ``#`` as a comment, and splits the rest at the FIRST ``=``: the key is
   right-stripped, the value is stripped at both ends again. Nothing else: no quotes, no
   backslash escapes or continuations, no comments after a value (``;`` and ``#`` inside a value
   are kept), bytes >= 0x80 (UTF-8) are kept. A NUL ends the value (C strings). So a value cannot
   hold a line break and loses leading and trailing spaces/tabs.
3. ``add_exported_option()`` (core/config.c) stores (key, value). An option flagged
   ``UWSGI_OPT_IMMEDIATE`` (``plugin``, ``plugin-dir``, ``listen``, ``umask``, ``set-placeholder``,
   ``ini``... see IMMEDIATE_OPTIONS) is applied right now, with the value as it stands after
   steps 1 and 2, and is never expanded again.
4. For every other option ``uwsgi_setup()`` (core/uwsgi.c) then runs
   ``uwsgi_apply_config_pass()`` (core/utils.c) three times over each value: ``$(NAME)`` ->
   environment variable, then ``@(PATH)`` -> file content (one trailing \\n or \\r dropped), then
   ``%(NAME)`` -> the value of option or placeholder NAME (a NAME holding a space is
   "placeholder math": tokens concatenated or added, an unknown name counting as empty). The
   parentheses may nest; an unset variable, a missing placeholder, an empty ``()``, an unclosed
   ``(`` or a NAME holding the pass's own symbol is left as written. After each replacement the
   pass starts again at the beginning of the value, so text it inserted is expanded again by
   the same pass and by the later ones. There is no escape: ``$$(`` still expands, and ``%%(``
   already became ``%(`` in step 1.

What ``ini_value`` does
=======================

* ``%`` is written ``%%`` (step 1).
* ``$(`` and ``@(`` are written ``$%(= =)(`` and ``@%(= =)(``: in steps 1-4 the ``$``/``@``
  is not followed by ``(`` when its pass runs, and the last pass replaces ``%(= =)`` with
  nothing (placeholder math over the name ``=``, which no option can have).
* A value starting or ending with a space or tab gets ``%(= =)`` before or after it, so the
  strip of step 2 meets a non-blank character and step 4 removes the marker.
* Refused: ``\\n`` and ``\\r`` (line breaks), NUL, lone surrogates (not UTF-8 text), and
  ``%(``: uWSGI reads it as a placeholder reference in the last pass and re-reads what that pass
  produced, so no ini text yields a literal ``%(`` in a regular option.

With ``immediate=True`` (an option in IMMEDIATE_OPTIONS) only step 1 applies: ``%`` is doubled,
``$(``, ``@(`` and ``%(`` are kept as they are, and a value with a space or tab at either end is
refused (the marker would not be removed).

The value reaches the option's handler byte for byte; what the handler does with it is the
option's own syntax (``env = NAME=VALUE`` splits at the first ``=``; ``ini = path:section``;
``socket = @name`` is an abstract socket...). ``env_ini_value`` checks the name of ``env``.

Carriers for what an ini value cannot hold (environment variables)
==================================================================

* ``envdir = DIR`` (uWSGI core, all 2.0.x; ``uwsgi_envdir()`` in core/utils.c): one file per
  variable, named after it (names starting with ``.`` are skipped), read without any expansion
  after the options are applied and before the app is loaded (and before uWSGI drops
  privileges, so the files may be readable by root only). The file content is taken up to its
  first NUL, trailing spaces, tabs, ``\\r`` and ``\\n`` are removed, and an empty file UNSETS the
  variable. So it carries line breaks and ``%(`` but not a value ending in whitespace, an empty
  value or NUL; ``envdir_content`` checks a value for it. ``early-envdir`` is the same but
  applied while the config is parsed (before ``$(...)`` expansion of other options).
* A per-app systemd unit: ``EnvironmentFile=`` expands no ``%`` specifiers and no ``$``; a value
  in double quotes may span lines and needs a backslash only before a double quote, backslash,
  backquote or dollar (systemd.exec(5) of systemd 252, Debian 12; the file must be UTF-8 without
  NUL, U+FEFF or Unicode noncharacters). ``Environment=`` in the unit itself expands ``%``
  specifiers (write ``%%``), unquotes C escapes and rejects non-printable characters, so it is
  the worse choice.
  Under the Emperor a vassal inherits the Emperor's environment, so this is per app only when
  the app has its own unit.
* JSON/YAML/XML vassals are no way out: ``--json``/``--yaml``/``--xml`` read the file through the
  same ``uwsgi_open_and_read()`` (step 1) and their values go through the same passes (step 4);
  JSON only adds ``\\n`` escapes (a line break in a value; Debian's uwsgi-core has JSON, the PyPI
  build without libjansson has not).
"""

from __future__ import annotations

# Replaced by the empty string in uWSGI's last pass (placeholder math over the undefined option
# "="; an option name never contains "=", ini splits key and value at the first one).
EMPTY_PLACEHOLDER = "%(= =)"

# Options flagged UWSGI_OPT_IMMEDIATE in uWSGI 2.0.21-2.0.31 (core/uwsgi.c and the python plugin;
# the list is the same in all three): their value is applied as soon as its line is read, after
# the %-substitution of the file but without the $(), @() and %() passes. Options declared with
# declare-option are immediate too.
IMMEDIATE_OPTIONS = frozenset(
    """
    autoload binary-append-data blacklist build-plugin cflags command-mode config config-py
    connect-and-read declare-option dlopen dot-h early-envdir end-blacklist end-for end-if
    end-whitelist endfor endif exit extract fallback-config flock flock-wait flock-wait2 flock2
    for for-glob for-readline for-times help if-dir if-directory if-env if-exists if-file
    if-hostname if-hostname-match if-not-dir if-not-env if-not-exists if-not-file if-not-hostname
    if-not-hostname-match if-not-opt if-not-plugin if-not-reload if-opt if-plugin if-reload ifdir
    ifenv ifexists ifplugin immediate-gid immediate-uid include ini ini-paste ini-paste-logged
    inject-after inject-before iprint js json listen need-plugin need-plugins pause pcre-jit
    plugin plugin-dir plugins plugins-dir print-sym print-symbol python-version reload resolve
    resume set set-ph set-placeholder signal spooler-processes stop strict suspend umask usage
    whitelist xml xmlconfig yaml yml
    """.split()  # noqa: SIM905 (one name a line would be 95 lines)
)

# What core/ini.c strips from both ends of a value, besides "\r" (refused as a line break).
_BLANK = (" ", "\t")


def _check_text(value, what: str) -> None:
    if not isinstance(value, str):
        raise TypeError(f"{what} must be a string, not {type(value).__name__}")
    if "\n" in value or "\r" in value:
        raise ValueError(
            f"{what} contains a line break: uWSGI reads an ini file line by line and has no"
            " continuation or escape for one"
        )
    if "\0" in value:
        raise ValueError(f"{what} contains a NUL character: uWSGI ends the value there")
    try:
        value.encode("utf-8")
    except UnicodeEncodeError as exc:
        raise ValueError(
            f"{what} is not valid Unicode text (character {exc.object[exc.start]!r} at"
            f" {exc.start} cannot be written as UTF-8)"
        ) from None


def ini_value(value: str, *, immediate: bool = False) -> str:
    """Return the text to write after ``key = `` so that uWSGI 2.0.x reads back exactly VALUE.

    IMMEDIATE is for an option in IMMEDIATE_OPTIONS (uWSGI applies it before expanding
    ``$()``, ``@()`` and ``%()``). Raises ValueError, with the reason, for a value no ini text
    can carry, and TypeError for a value that is not a string.
    """
    _check_text(value, "the value")
    if immediate:
        if value.startswith(_BLANK) or value.endswith(_BLANK):
            raise ValueError(
                "the value starts or ends with a space or tab, which uWSGI strips from ini values;"
                " an option applied immediately (before placeholders are expanded) cannot keep it"
            )
        return value.replace("%", "%%")
    position = value.find("%(")
    if position >= 0:
        raise ValueError(
            f"the value contains '%(' (at {position}): uWSGI reads '%(name)' as a placeholder"
            " reference and has no escape for it in an ini value"
        )
    text = value.replace("%", "%%")
    text = text.replace("$(", "$" + EMPTY_PLACEHOLDER + "(")
    text = text.replace("@(", "@" + EMPTY_PLACEHOLDER + "(")
    if text.startswith(_BLANK):
        text = EMPTY_PLACEHOLDER + text
    if text.endswith(_BLANK):
        text = text + EMPTY_PLACEHOLDER
    return text


def env_ini_value(name: str, value: str) -> str:
    """Return the text to write after ``env = `` so that the app sees NAME set to VALUE.

    uWSGI hands ``NAME=VALUE`` to putenv(), which splits at the first ``=``: a name must be
    non-empty and hold no ``=``.
    """
    _check_text(name, "the variable name")
    if not isinstance(value, str):
        raise TypeError(f"environment variable {name}: the value must be a string")
    if not name or "=" in name:
        raise ValueError(f"invalid environment variable name {name!r}: empty or holds '='")
    try:
        return ini_value(f"{name}={value}")
    except (TypeError, ValueError) as exc:
        raise type(exc)(f"environment variable {name}: {exc}") from None


def envdir_content(value: str) -> str:
    """Return the content of an ``envdir`` file that sets its variable to exactly VALUE.

    For a value ``env_ini_value`` refuses (line breaks, ``%(``). uWSGI reads the file without
    expansion but drops trailing whitespace, stops at a NUL and unsets the variable for an empty
    file: such values are refused here.
    """
    if not isinstance(value, str):
        raise TypeError(f"the value must be a string, not {type(value).__name__}")
    if value == "":
        raise ValueError("an empty envdir file unsets the variable instead of setting it empty")
    if "\0" in value:
        raise ValueError("the value contains a NUL character: uWSGI ends the value there")
    if value[-1] in " \t\r\n":
        raise ValueError("the value ends with whitespace, which uWSGI strips from envdir files")
    try:
        value.encode("utf-8")
    except UnicodeEncodeError as exc:
        raise ValueError(
            f"the value is not valid Unicode text (character {exc.object[exc.start]!r} at"
            f" {exc.start} cannot be written as UTF-8)"
        ) from None
    return value
