#!/usr/bin/python
# Copyright: pyops.uwsgi contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: app_commands
version_added: 0.2.0
short_description: Run an app's commands in order, as the app, stopping at the first that fails
description:
  - Runs each command of O(commands) in turn, in O(chdir), as a list of arguments (no shell), and
    stops at the first that exits with another status than 0. It then fails quoting that command,
    its status and the last O(tail) lines of its output; the commands after it do not run.
  - A command whose O(commands[].creates) path exists is skipped, which makes a command that must
    run once (create a database) safe to run again.
  - With O(sandbox), each command runs through C(systemd-run --wait --pipe) as a transient unit with
    those C([Service]) settings (the app's user, group and sandbox), O(env) and
    O(environment_file); the program is found on O(env)'s C(PATH) through C(/usr/bin/env). Every
    argument reaches the program as written (systemd-run would expand C($); the module doubles it).
  - The P(pyops.uwsgi.app#role) role runs its build and release commands with it.
options:
  commands:
    description: The commands, in order.
    type: list
    elements: dict
    required: true
    suboptions:
      command:
        description: The program and its arguments, such as C([python, manage.py, migrate]).
        type: list
        elements: str
        required: true
      creates:
        description:
          A path (relative to O(chdir), or absolute);
          when it exists, the command is skipped.
        type: str
        default: ""
  chdir:
    description: The working directory of every command.
    type: path
    required: true
  timeout:
    description: Seconds each command may run before it is stopped (systemd's C(RuntimeMaxSec=)).
    type: int
    default: 900
  phase:
    description: What the commands are, for messages, such as V(release) or V(build).
    type: str
    default: release
  name:
    description: Whose commands they are, for messages and the units' descriptions.
    type: str
    default: app
  tail:
    description: Lines of a failed command's output quoted in the failure.
    type: int
    default: 20
extends_documentation_fragment:
  - ansible.builtin.action_common_attributes
  - pyops.uwsgi.common
  - pyops.uwsgi.sandbox
attributes:
  check_mode:
    details: Reports the commands that would run and runs none.
"""

EXAMPLES = r"""
- name: Run the release commands of shop as shop, in its sandbox
  pyops.uwsgi.app_commands:
    name: shop
    phase: release
    chdir: /srv/shop/releases/2f1c0a9be3d1/code
    env:
      PATH: /srv/shop/releases/2f1c0a9be3d1/venv/bin:/usr/bin:/bin
    environment_file: /etc/uwsgi/env/shop.env
    sandbox:
      User: shop
      Group: shop
      ProtectSystem: strict
      ReadWritePaths: /var/lib/shop
    commands:
      - command: [python, manage.py, migrate, --noinput]
      - command: [flask, --app, flaskr, init-db]
        creates: instance/flaskr.sqlite
"""

RETURN = r"""
results:
  description: One item per command that ran or was skipped, in order.
  returned: always
  type: list
  elements: dict
  contains:
    command:
      description: The command as given.
      type: list
      elements: str
    rc:
      description: Its exit status; null when skipped or not run (check mode).
      type: int
    skipped:
      description: Whether it was skipped because its C(creates) path exists.
      type: bool
    output:
      description: The last lines of its output (standard output and error together).
      type: list
      elements: str
"""

import os
import shlex
import subprocess

from ansible.module_utils.basic import AnsibleModule
from ansible_collections.pyops.uwsgi.plugins.module_utils import sandbox


def _argv(params, index, command):
    if not params["sandbox"]:
        return command
    return sandbox.run_argv(
        params["sandbox"],
        command,
        working_directory=params["chdir"],
        env={key: str(value) for key, value in params["env"].items()},
        environment_file=params["environment_file"] or "",
        description=f"{params['name']} {params['phase']} command {index}: {shlex.join(command)}",
        timeout=params["timeout"],
    )


def _run(params, argv):
    """(status, output lines) of ARGV."""
    direct = not params["sandbox"]
    env = {**os.environ, **{k: str(v) for k, v in params["env"].items()}} if direct else None
    try:
        done = subprocess.run(
            argv,
            cwd=params["chdir"] if direct else None,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            timeout=params["timeout"] + 30,
            check=False,
        )
    except subprocess.TimeoutExpired as exc:
        output = (exc.output or b"").decode("utf-8", "replace").splitlines()
        return None, [*output, f"(stopped after {params['timeout'] + 30} s)"]
    except OSError as exc:
        return None, [str(exc)]
    return done.returncode, done.stdout.decode("utf-8", "replace").splitlines()


def main():
    module = AnsibleModule(
        argument_spec={
            "commands": {
                "type": "list",
                "elements": "dict",
                "required": True,
                "options": {
                    "command": {"type": "list", "elements": "str", "required": True},
                    "creates": {"type": "str", "default": ""},
                },
            },
            "chdir": {"type": "path", "required": True},
            "env": {"type": "dict", "default": {}},
            "environment_file": {"type": "path"},
            "sandbox": {"type": "dict", "default": {}},
            "timeout": {"type": "int", "default": 900},
            "phase": {"type": "str", "default": "release"},
            "name": {"type": "str", "default": "app"},
            "tail": {"type": "int", "default": 20},
        },
        supports_check_mode=True,
    )
    params = module.params
    results, changed = [], False
    for index, item in enumerate(params["commands"], 1):
        command = item["command"]
        creates = item["creates"]
        if creates and os.path.lexists(os.path.join(params["chdir"], creates)):
            results.append({"command": command, "rc": None, "skipped": True, "output": []})
            continue
        changed = True
        if module.check_mode:
            results.append({"command": command, "rc": None, "skipped": False, "output": []})
            continue
        status, lines = _run(params, _argv(params, index, command))
        tail = lines[-params["tail"] :] if params["tail"] > 0 else []
        results.append({"command": command, "rc": status, "skipped": False, "output": tail})
        if status != 0:
            quoted = "\n".join(f"  {line}" for line in tail) or "  (no output)"
            left = len(params["commands"]) - index
            module.fail_json(
                msg=(
                    f"{params['name']}: {params['phase']} command {index}"
                    f" `{shlex.join(command)}` failed"
                    f" ({'exit status ' + str(status) if status is not None else 'did not finish'})"
                    f"{f', {left} more not run' if left else ''}. Its last lines:\n{quoted}"
                ),
                results=results,
                changed=True,
            )
    module.exit_json(changed=changed, results=results)


if __name__ == "__main__":
    main()
