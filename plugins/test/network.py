# Copyright: pyops.uwsgi contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Tests for the network values of an app that front hosts reach (module_utils/values.py)."""

from __future__ import annotations

from ansible_collections.pyops.uwsgi.plugins.module_utils.values import (
    peer_network,
    private_endpoint,
)


class TestModule:
    """pyops.uwsgi tests."""

    def tests(self):
        return {
            "private_endpoint": private_endpoint,
            "peer_network": peer_network,
        }
