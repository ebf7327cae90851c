# Copyright: pyops.uwsgi contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations


class ModuleDocFragment:
    # What every module of the collection has in common: it runs in check mode, reports no diff
    # (a module that does says so in its own attributes, which win), on a POSIX host, and who wrote
    # it. Use it after ansible.builtin.action_common_attributes, which describes the attributes.
    DOCUMENTATION = r"""
attributes:
  check_mode:
    support: full
  diff_mode:
    support: none
  platform:
    platforms: posix
author:
  - pyops.uwsgi contributors (!UNKNOWN)
"""

    # A module whose work is done by the action plugin of the same name, on the controller; use it
    # after ansible.builtin.action_common_attributes.flow.
    ACTION = r"""
attributes:
  action:
    support: full
  async:
    support: none
  bypass_host_loop:
    support: none
"""
