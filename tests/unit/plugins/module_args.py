"""Run a module's main() in a test with the arguments Ansible would hand it."""

from __future__ import annotations

import contextlib
import json

import pytest
from ansible.module_utils import basic

try:
    from ansible.module_utils.testing import patch_module_args
except ImportError:  # ansible-core before 2.19

    @contextlib.contextmanager
    def patch_module_args(args):
        old = basic._ANSIBLE_ARGS
        basic._ANSIBLE_ARGS = json.dumps({"ANSIBLE_MODULE_ARGS": args}).encode()
        try:
            yield
        finally:
            basic._ANSIBLE_ARGS = old


def run_main(main, capsys, options):
    """(result, exit code) of a module's MAIN run with OPTIONS, its JSON result read from CAPSYS.

    A module exits non-zero when its result says it failed, and only then.
    """
    with patch_module_args(options), pytest.raises(SystemExit) as exited:
        main()
    result = json.loads(capsys.readouterr().out)
    code = exited.value.code
    assert (code != 0) == bool(result.get("failed")), result
    return result, code


__all__ = ["patch_module_args", "run_main"]
