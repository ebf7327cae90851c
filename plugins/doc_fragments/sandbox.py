# Copyright: pyops.uwsgi contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations


class ModuleDocFragment:
    # The options of a module that runs something as the app does (module_utils/sandbox.py): its
    # environment, and the systemd sandbox of the app's own unit.
    DOCUMENTATION = r"""
options:
  env:
    description:
      - Environment variables of what the module runs, set before O(environment_file) is read.
    type: dict
    default: {}
  environment_file:
    description: A systemd EnvironmentFile with the app's environment; only with O(sandbox).
    type: path
  sandbox:
    description:
      - C([Service]) settings of the transient systemd unit it runs as, C(User=) and C(Group=)
        included, such as the app's own unit's sandbox. Empty runs it directly as the module's user.
    type: dict
    default: {}
"""
