# Copyright: pyops.uwsgi contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Tests for values that end up in nginx configuration (plugins/module_utils/values.py)."""

from __future__ import annotations

from ansible_collections.pyops.uwsgi.plugins.module_utils.values import (
    nginx_listen,
    nginx_server_name,
    nginx_size,
)


class TestModule:
    """pyops.uwsgi tests."""

    def tests(self):
        return {
            "nginx_size": nginx_size,
            "nginx_listen": nginx_listen,
            "nginx_server_name": nginx_server_name,
        }
