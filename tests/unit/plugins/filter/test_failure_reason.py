"""failure_reason on results of ansible-core 2.19's command and pip modules, as registered.

The outputs are real: Python 3.11's venv and ensurepip on a 100 KB tmpfs (full, or filled up on the
way), a missing interpreter, pip 23 with --no-index and a requirements file that is not there; only
the temporary paths were shortened.
"""

from __future__ import annotations

import pytest
from ansible.errors import AnsibleFilterError
from ansible_collections.pyops.uwsgi.plugins.filter.failure_reason import (
    RULES,
    FilterModule,
    failure_reason,
)

VENV = "Create the release's virtualenv with Python 3.11"
ENSUREPIP_TRACEBACK = """Traceback (most recent call last):
  File "<frozen runpy>", line 198, in _run_module_as_main
  File "/usr/lib/python3.11/ensurepip/__init__.py", line 131, in _run_pip
    return subprocess.run(cmd, check=True).returncode
  File "/usr/lib/python3.11/subprocess.py", line 571, in run
    raise CalledProcessError(retcode, process.args,
subprocess.CalledProcessError: Command '['/srv/shop/releases/r1/venv/bin/python3', '-I', '-W',\
 'ignore::DeprecationWarning', '-c', '...']' returned non-zero exit status 1.
"""

# rule name -> (the registered result, the task's name, what the reason must quote)
CASES = {
    "disk_full": (
        # venv --without-pip, then ensurepip on its own: ensurepip says why.
        {
            "msg": "non-zero return code",
            "rc": 1,
            "cmd": ["/srv/shop/releases/r1/venv/bin/python", "-Im", "ensurepip", "--upgrade"],
            "stdout": "Looking in links: /tmp/tmpyj4mzupy\nProcessing /tmp/tmpyj4mzupy/pip-23.0.1"
            "-py3-none-any.whl\nInstalling collected packages: setuptools, pip\n",
            "stderr": "ERROR: Could not install packages due to an OSError: [Errno 28] No space"
            " left on device\n\n" + ENSUREPIP_TRACEBACK,
        },
        "Install pip into the release's virtualenv",
        '"ERROR: Could not install packages due to an OSError: [Errno 28] No space left on'
        ' device"; the filesystem it writes to is full',
    ),
    "interpreter_missing": (
        # ansible-core 2.19 says no more than this when argv[0] does not exist.
        {
            "msg": "Error executing command.",
            "rc": 2,
            "cmd": "/usr/bin/python3.99 -m venv /srv/shop/releases/r1/venv",
            "exception": "(traceback unavailable)",
            "stdout": "",
            "stderr": "",
        },
        VENV,
        "\"[Errno 2] No such file or directory: '/usr/bin/python3.99'\"; that interpreter is not"
        " installed",
    ),
    "ensurepip_missing": (
        # Debian's python3.11 without python3.11-venv.
        {
            "msg": "non-zero return code",
            "rc": 1,
            "cmd": ["/usr/bin/python3.11", "-m", "venv", "/srv/shop/releases/r1/venv"],
            "stdout": "The virtual environment was not created successfully because ensurepip is"
            " not\navailable.  On Debian/Ubuntu systems, you need to install the python3-venv\n"
            "package using the following command.\n\n    apt install python3.11-venv\n\nYou may"
            " need to use sudo with that command.  After installing the python3-venv\npackage,"
            " recreate your virtual environment.\n\nFailing command:"
            " /srv/shop/releases/r1/venv/bin/python3.11\n",
            "stderr": "",
        },
        VENV,
        '"The virtual environment was not created successfully because ensurepip is not"; that'
        " Python has no ensurepip",
    ),
    "pip_error": (
        # The pip module puts both streams in its message.
        {
            "msg": "stdout: Looking in links: /opt/wheels\n\n:stderr: ERROR: Could not find a"
            " version that satisfies the requirement flaskk (from versions: none)\nERROR: No"
            " matching distribution found for flaskk\n",
            "cmd": ["/srv/shop/releases/r1/venv/bin/pip3", "install", "--no-index", "flaskk"],
        },
        "Install further packages into the virtualenv",
        '"ERROR: Could not find a version that satisfies the requirement flaskk (from versions:'
        ' none)".',
    ),
    "python_error": (
        {
            "msg": "non-zero return code",
            "rc": 1,
            "cmd": ["/srv/shop/releases/r1/venv/bin/python", "-m", "compileall", "-q", "code"],
            "stdout": "",
            "stderr": 'Traceback (most recent call last):\n  File "<frozen runpy>", line 198,'
            " in _run_module_as_main\nPermissionError: [Errno 13] Permission denied:"
            " '/srv/shop/releases/r1/code/__pycache__'\n",
        },
        "Compile the code's bytecode",
        '"PermissionError: [Errno 13] Permission denied:'
        " '/srv/shop/releases/r1/code/__pycache__'\".",
    ),
    "error_word": (
        {
            "msg": "non-zero return code",
            "rc": 2,
            "cmd": ["tar", "-x", "-C", "/srv/shop/releases/r1/code"],
            "stdout": "",
            "stderr": "tar: This does not look like a tar archive\ntar: Exiting with failure"
            " status due to previous errors\n",
        },
        "Export the commit from git",
        '"tar: Exiting with failure status due to previous errors".',
    ),
}


def test_each_rule_has_a_case():
    assert set(CASES) == set(RULES)


@pytest.mark.parametrize("rule", CASES)
def test_the_decisive_line_is_quoted_once_with_the_task(rule):
    result, task, expected = CASES[rule]
    reason = failure_reason({"failed": True, "changed": False, **result}, task)
    assert reason.startswith(f"{task} failed: "), reason
    assert expected in reason, reason
    quoted = expected.split('"')[1]
    assert reason.count(quoted) == 1, reason
    # One line, not the dump.
    assert "\n" not in reason and "Traceback" not in reason and len(reason) < 500, reason


def test_a_full_disk_as_venv_says_it():
    # The disk full before the virtualenv is made: venv's own one-line error.
    result = {
        "failed": True,
        "msg": "non-zero return code",
        "rc": 1,
        "cmd": ["/usr/bin/python3", "-m", "venv", "--without-pip", "/srv/shop/releases/r1/venv"],
        "stdout": "",
        "stderr": "Error: [Errno 28] No space left on device\n",
    }
    assert failure_reason(result, VENV) == (
        f'{VENV} failed: "Error: [Errno 28] No space left on device"; the filesystem it writes to'
        " is full: free space there (or lower app_keep_releases)."
    )


def test_a_full_disk_when_the_code_is_unpacked():
    # ansible.builtin.unarchive on a full tmpfs: its message names the archive, tar's the cause.
    result = {
        "failed": True,
        "dest": "/srv/shop/releases/r1/code",
        "extract_results": {
            "cmd": ["/usr/bin/tar", "--extract", "-C", "/srv/shop/releases/r1/code", "-z"],
            "err": "/usr/bin/tar: ./myflask.py: Cannot write: No space left on device\n"
            "/usr/bin/tar: ./wsgi.py: Cannot write: No space left on device\n/usr/bin/tar:"
            " Exiting with failure status due to previous errors\n",
            "out": "",
            "rc": 2,
        },
        "handler": "TgzArchive",
        "msg": "failed to unpack /root/.ansible/tmp/ansible-tmp-1/source to"
        " /srv/shop/releases/r1/code",
    }
    assert failure_reason(result, "Unpack the code into the release, as root's") == (
        "Unpack the code into the release, as root's failed: \"/usr/bin/tar: ./myflask.py: Cannot"
        ' write: No space left on device"; the filesystem it writes to is full: free space there'
        " (or lower app_keep_releases)."
    )


def test_a_missing_requirements_file_is_pips_error_line():
    result = {
        "failed": True,
        "msg": "\n:stderr: ERROR: Could not open requirements file: [Errno 2] No such file or"
        " directory: '/srv/shop/releases/r1/code/requirements.txt'\n",
    }
    reason = failure_reason(result, "Install the app's requirements into the virtualenv")
    assert reason == (
        "Install the app's requirements into the virtualenv failed: \"ERROR: Could not open"
        " requirements file: [Errno 2] No such file or directory:"
        " '/srv/shop/releases/r1/code/requirements.txt'\"."
    )


def test_a_tasks_own_message_is_kept_whole():
    msg = (
        "Release r1 of shop failed its canary, so nothing was switched and what served before"
        " still serves. Pitfall 1b (Wrong callable): ...\nmore"
    )
    assert failure_reason({"failed": True, "msg": msg}, "Stop") == msg


def test_a_full_disk_decides_even_over_a_tasks_own_message():
    result = {
        "failed": True,
        "msg": "Destination /srv/shop/releases/r1/canary.ini not writable",
        "stderr": "OSError: [Errno 28] No space left on device",
    }
    assert failure_reason(result).startswith('A task failed: "OSError: [Errno 28] No space left')


def test_a_message_that_quotes_a_full_disk_itself_is_not_quoted_again():
    # The app's rescue passes on the message of the build's rescue, which quoted the disk already.
    msg = (
        "Release r1 of shop could not be built. Install pip into the release's virtualenv failed:"
        ' "ERROR: Could not install packages due to an OSError: [Errno 28] No space left on'
        ' device"; the filesystem it writes to is full: free space there.'
    )
    assert failure_reason({"failed": True, "changed": False, "msg": msg}, "Stop") == msg


def test_an_older_ansible_cores_missing_command_is_quoted_from_its_message():
    result = {
        "failed": True,
        "rc": 2,
        "cmd": ["/usr/bin/python3.9", "-m", "venv", "--without-pip", "/srv/shop/releases/r1/venv"],
        "msg": "[Errno 2] No such file or directory: b'/usr/bin/python3.9'",
    }
    assert failure_reason(result, VENV).startswith(
        f"{VENV} failed: \"[Errno 2] No such file or directory: b'/usr/bin/python3.9'\"; that"
        " interpreter is not installed"
    )


def test_a_result_hidden_by_no_log_names_the_task_and_says_why():
    censored = {
        "censored": "the output has been hidden due to the fact that 'no_log: true' was"
        " specified for this result",
        "changed": False,
        "failed": True,
    }
    reason = failure_reason(censored, "Write one file a variable in /etc/uwsgi/env/shop.1a2b")
    assert reason == (
        "Write one file a variable in /etc/uwsgi/env/shop.1a2b failed; its output is hidden"
        " (no_log), as it may hold secrets such as app_env values."
    )


def test_a_loop_speaks_through_its_first_failed_item():
    result = {
        "failed": True,
        "msg": "One or more items failed",
        "results": [
            {"failed": False, "rc": 0, "stderr": ""},
            {
                "failed": True,
                "msg": "non-zero return code",
                "rc": 1,
                "stderr": "rm: cannot remove 'x': Permission denied",
            },
        ],
    }
    assert failure_reason(result, "Leave out") == (
        "Leave out failed: \"rm: cannot remove 'x': Permission denied\"."
    )


def test_without_any_output_the_return_code_is_said():
    assert failure_reason({"failed": True, "msg": "non-zero return code", "rc": 3}, "T") == (
        'T failed: "non-zero return code".'
    )
    assert failure_reason({"failed": True, "rc": 3}, "T") == "T failed with return code 3."


def test_a_very_long_line_is_shortened():
    reason = failure_reason({"msg": "non-zero return code", "stderr": "ERROR: " + "x" * 1000})
    assert reason.endswith('..."".') or reason.endswith('...".')
    assert len(reason) < 400


def test_not_a_result_is_refused():
    with pytest.raises(AnsibleFilterError, match="expects a task result"):
        failure_reason("non-zero return code")


def test_the_filter_is_registered():
    assert FilterModule().filters()["failure_reason"] is failure_reason
