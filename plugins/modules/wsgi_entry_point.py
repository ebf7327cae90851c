#!/usr/bin/python
# Copyright: pyops.uwsgi contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: wsgi_entry_point
version_added: 0.2.0
short_description: Check that a WSGI entry point imports in a virtualenv, as uWSGI would load it
description:
  - Imports O(module) with the interpreter O(python) (a virtualenv's), from the directory O(chdir)
    with that directory first on C(sys.path), as uWSGI 2.0 does with C(chdir) and C(pythonpath) set
    to it, and looks up O(callable) among the names the module binds, as uWSGI's
    C(module = MODULE:CALLABLE) does.
  - Fails naming what is wrong and the fix. The module cannot be imported (pitfall 1a, from the code
    directory nor from the virtualenv); a package it imports is missing (pitfall 2); the import
    raised (the exception and the traceback's last lines); the name is not bound (pitfall 1b); an
    application factory was given without C(()), so uWSGI would mount the factory itself; a WSGI
    app was given with C(()), which uWSGI would call without arguments.
  - Arguments inside the parentheses are refused, because uWSGI 2.0 does not parse them.
  - The factory is not called; what it returns is tried when the app starts.
  - With O(sandbox), the check runs through C(systemd-run) as the app would (C(User=), C(Group=),
    the sandbox, O(environment_file)); without, it runs as the module's user.
  - Changes nothing on the host, though importing runs the module's own code.
options:
  python:
    description:
      - The interpreter of the virtualenv the app runs in, such as
        C(/srv/shop/releases/ID/venv/bin/python).
    type: path
    required: true
  module:
    description: The module uWSGI loads, such as V(wsgi), V(mysite.wsgi) or V(flaskr).
    type: str
    required: true
  callable:
    description:
      - The name of the WSGI callable in O(module), such as V(application), or of its factory
        followed by C(()), such as V(create_app()).
    type: str
    required: true
  chdir:
    description: The app's code directory, the check's working directory, first on C(sys.path).
    type: path
    required: true
  timeout:
    description: Seconds the check may take.
    type: int
    default: 120
extends_documentation_fragment:
  - ansible.builtin.action_common_attributes
  - pyops.uwsgi.common
  - pyops.uwsgi.sandbox
"""

EXAMPLES = r"""
- name: Check Flask's tutorial app before it serves
  pyops.uwsgi.wsgi_entry_point:
    python: /srv/flaskr/releases/2f1c0a9be3d1/venv/bin/python
    chdir: /srv/flaskr/releases/2f1c0a9be3d1/code
    module: flaskr
    callable: create_app()
"""

RETURN = r"""
result:
  description:
    - What the check found, as the check printed it, such as C(kind=ok) with C(as_app) and
      C(as_factory) (whether the callable takes two arguments, or none), or C(kind=import) with the
      exception.
  returned: when the check ran
  type: dict
output:
  description: The check's last lines of output, the app's own import-time output included.
  returned: when the check ran
  type: list
  elements: str
"""

import os
import subprocess

from ansible.module_utils.basic import AnsibleModule
from ansible_collections.pyops.uwsgi.plugins.module_utils import entry_point, sandbox


def main():
    module = AnsibleModule(
        argument_spec={
            "python": {"type": "path", "required": True},
            "module": {"type": "str", "required": True},
            "callable": {"type": "str", "required": True},
            "chdir": {"type": "path", "required": True},
            "env": {"type": "dict", "default": {}},
            "environment_file": {"type": "path"},
            "sandbox": {"type": "dict", "default": {}},
            "timeout": {"type": "int", "default": 120},
        },
        supports_check_mode=True,
    )
    params = module.params
    _name, _factory, problem = entry_point.parse_callable(params["callable"])
    if problem:
        module.fail_json(msg=f"app_wsgi_callable '{params['callable']}': {problem}.")
    check = entry_point.check_argv(params["python"], params["module"], params["callable"])
    env = {key: str(value) for key, value in params["env"].items()}
    if params["sandbox"]:
        argv = sandbox.run_argv(
            params["sandbox"],
            check,
            working_directory=params["chdir"],
            env=env,
            environment_file=params["environment_file"] or "",
            description=f"WSGI entry point check {params['module']}:{params['callable']}",
            timeout=params["timeout"],
        )
        cwd, run_env = None, None
    else:
        argv, cwd, run_env = check, params["chdir"], {**os.environ, **env}
    try:
        done = subprocess.run(
            argv,
            cwd=cwd,
            env=run_env,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            timeout=params["timeout"] + 30,
            check=False,
        )
    except (OSError, subprocess.TimeoutExpired) as exc:
        module.fail_json(msg=f"The entry point check could not run: {exc}", argv=argv)
    output = done.stdout.decode("utf-8", "replace")
    result = entry_point.result_of(output)
    lines = [line for line in output.splitlines() if not line.startswith(entry_point.MARKER)]
    if result is None:
        tail = " | ".join(lines[-15:])
        module.fail_json(
            msg=(
                f"The entry point check of {params['module']}:{params['callable']} ended with"
                f" status {done.returncode} and no result (the interpreter or the sandbox failed"
                f" to start?): {tail}"
            ),
            rc=done.returncode,
            output=lines[-40:],
        )
    ok, message = entry_point.verdict(result, params["module"], params["callable"])
    if not ok:
        module.fail_json(msg=message, result=result, output=lines[-40:])
    module.exit_json(changed=False, msg=message, result=result, output=lines[-40:])


if __name__ == "__main__":
    main()
