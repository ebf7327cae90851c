# Copyright: pyops.uwsgi contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
name: tree_digest
version_added: 0.1.0
short_description: Digest of a directory tree on the controller
description:
  - Returns the SHA-256 of a directory tree on the controller, computed over every file's path
    relative to the directory, whether it is executable, and its content, in a stable order.
  - Two trees with the same files give the same digest whatever their timestamps, owners or file
    system order.
  - Symbolic links count by their target text; directories count only through the files in them.
  - The P(pyops.uwsgi.app#role) role names each release of an app's code by this digest, so a run
    with unchanged code deploys nothing.
options:
  _terms:
    description: Directories to digest, one digest each.
    required: true
    type: list
    elements: path
  exclude:
    description:
      - Names (shell patterns matched against each file and directory name, not the path) to leave
        out, with everything below them.
    type: list
    elements: str
    default: []
author:
  - pyops.uwsgi contributors (!UNKNOWN)
"""

EXAMPLES = r"""
- name: Name a release by its code
  ansible.builtin.debug:
    msg: "{{ lookup('pyops.uwsgi.tree_digest', 'files/shop', exclude=['.git', '__pycache__']) }}"
"""

RETURN = r"""
_raw:
  description: One hexadecimal SHA-256 digest per directory.
  type: list
  elements: str
"""

from ansible.errors import AnsibleLookupError
from ansible.plugins.lookup import LookupBase
from ansible_collections.pyops.uwsgi.plugins.plugin_utils import digest


def tree_digest(top, exclude=()):
    """SHA-256 of the tree below TOP (plugin_utils/digest.py), as a lookup error when it is none."""
    try:
        return digest.tree_digest(top, exclude)
    except NotADirectoryError as exc:
        raise AnsibleLookupError(f"tree_digest: {exc}") from None


class LookupModule(LookupBase):
    def run(self, terms, variables=None, **kwargs):
        self.set_options(var_options=variables, direct=kwargs)
        exclude = self.get_option("exclude")
        results = []
        for term in terms:
            path = self.find_file_in_search_path(variables, "files", term) or term
            results.append(tree_digest(path, exclude))
        return results
