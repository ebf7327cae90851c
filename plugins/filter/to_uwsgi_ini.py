# Copyright: pyops.uwsgi contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Render a dict of uWSGI options as ini text (plugins/module_utils/render.py does the work)."""

from __future__ import annotations

from ansible.errors import AnsibleFilterError
from ansible_collections.pyops.uwsgi.plugins.module_utils.render import RenderError, uwsgi_ini


def to_uwsgi_ini(options, section="uwsgi", known_options=None, raw=None):
    """Render OPTIONS (a dict) as a uWSGI ini section; see to_uwsgi_ini.yml."""
    try:
        return uwsgi_ini(options, section=section, known_options=known_options, raw=raw or ())
    except RenderError as exc:
        raise AnsibleFilterError(f"to_uwsgi_ini: {exc}") from None


class FilterModule:
    """pyops.uwsgi filters."""

    def filters(self):
        return {"to_uwsgi_ini": to_uwsgi_ini}
