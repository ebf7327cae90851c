"""app_env as a systemd EnvironmentFile: every value comes back byte for byte.

The quoting was checked against systemd 252 and 257 (systemd-run -p EnvironmentFile= printing
os.environ); parse() reads the file as systemd does, for the values environment_file writes.
"""

from __future__ import annotations

import pytest
from ansible_collections.pyops.uwsgi.plugins.module_utils import env_file

AWKWARD = {
    "PLAIN": "hello",
    "SPACES": "  lead and trail  ",
    "QUOTES": 'say "hi" it\'s',
    "BACKSLASHES": "a\\b\\\\c\\",
    "DOLLARS": "$HOME ${HOME} $$ $(id)",
    "PERCENT": "p%40ss %d %n %%",
    "BACKQUOTES": "`id`",
    "COMMENT_LIKE": "#not a comment ; nor this",
    "LINES": "line1\nline2\r\nline3\n",
    "CONTROL": "a\x01b\x7fc\x1b[0m\tx",
    "EMPTY": "",
    "TEXT": "héllo ☃",
    "EQUALS": "a=b=c",
    "ESCAPE_LIKE": "a\\nb\\\nc",
}


def test_every_value_comes_back_as_it_was():
    text = env_file.environment_file(AWKWARD)
    assert env_file.parse(text) == AWKWARD


def test_the_text_quotes_the_four_characters_systemd_unescapes():
    text = env_file.environment_file({"A": 'x"\\`$y%'})
    assert text == 'A="x\\"\\\\\\`\\$y%"\n'


def test_a_header_goes_first_as_comments():
    text = env_file.environment_file({"A": "1"}, "Environment of shop\nsecond line")
    assert text.splitlines() == ["# Environment of shop", "# second line", 'A="1"']
    assert env_file.parse(text) == {"A": "1"}


def test_numbers_and_booleans_as_the_vassal_writes_them():
    assert env_file.parse(env_file.environment_file({"N": 4, "F": 1.5, "B": True})) == {
        "N": "4",
        "F": "1.5",
        "B": "true",
    }


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"A": "x\x00y"}, "NUL"),
        ({"A": ["x"]}, "string or a number"),
        ({"A": None}, "string or a number"),
        ({"BAD-NAME": "x"}, "invalid environment variable name"),
        ({"1X": "x"}, "invalid environment variable name"),
    ],
)
def test_what_no_environment_can_hold_is_refused(env, message):
    with pytest.raises(env_file.EnvFileError, match=message):
        env_file.environment_file(env)


def test_an_empty_environment_is_a_file_of_comments():
    assert env_file.environment_file({}, "nothing") == "# nothing\n"
    assert env_file.parse("# nothing\n") == {}
