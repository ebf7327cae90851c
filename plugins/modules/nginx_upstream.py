#!/usr/bin/python
# Copyright: pyops.uwsgi contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: nginx_upstream
version_added: 0.3.0
short_description: Take an app host out of nginx's upstream groups and put it back
description:
  - On a front host, marks every upstream server at one of O(addresses) C(down) (O(state=down)) or
    takes C(down) away (O(state=up)) in the sites the P(pyops.uwsgi.nginx#role) role wrote, each
    file replaced whole. nginx loads the change at its next reload; the caller checks the
    configuration (C(nginx -t)) and reloads.
  - Refuses a drain that would leave an upstream group it changes with no server up, naming the
    site and the servers; nothing is written then.
  - With O(state=drained), changes nothing and waits until no nginx worker of an older
    configuration is left (their process title ends in C(is shutting down)). After a
    reload, those workers finish the requests they hold, to the drained host among others, and
    exit. A wait that runs out warns and returns RV(drained=false).
  - The sites as the role renders them have no C(down); the next converge of the sites undoes a
    drain that a failed run left behind.
options:
  addresses:
    description:
      - The app host's addresses, as its upstream servers name it (V(10.0.1.21) matches
        C(10.0.1.21:3031)); IP addresses are compared in their canonical form, names without case.
      - Required unless O(state=drained).
    type: list
    elements: str
    default: []
  state:
    description: V(down) takes the host out, V(up) puts it back, V(drained) waits for old workers.
    type: str
    choices: [down, up, drained]
    required: true
  sites:
    description: Site names (files C(NAME.conf) in O(sites_dir)); empty means every C(*.conf) there.
    type: list
    elements: str
    default: []
  sites_dir:
    description: Where the nginx role writes the sites (C(sites-available) on Debian).
    type: path
    default: /etc/nginx/sites-available
  wait:
    description: With O(state=drained), seconds to wait for the old workers to exit (0 looks once).
    type: int
    default: 60
extends_documentation_fragment:
  - ansible.builtin.action_common_attributes
  - pyops.uwsgi.common
attributes:
  diff_mode:
    support: full
"""

EXAMPLES = r"""
- name: Take this app host out of the front's sites
  pyops.uwsgi.nginx_upstream:
    addresses:
      - 10.0.1.21
    state: down
  delegate_to: front1

- name: Wait until nginx's old workers finished the requests they held
  pyops.uwsgi.nginx_upstream:
    state: drained
    wait: 60
  delegate_to: front1
"""

RETURN = r"""
servers:
  description: Each server line changed, with its site, upstream group, server, before and after.
  returned: always
  type: list
  elements: dict
files:
  description: The site files changed (or that would change, in check mode).
  returned: always
  type: list
  elements: str
matched:
  description:
    - With O(state=down) or O(state=up), every upstream server at O(addresses) in the sites read,
      marked or not. None with O(state=down) is warned of (this front sends the host no requests,
      or names it otherwise).
  returned: when O(state=down) or O(state=up)
  type: list
  elements: str
drained:
  description: With O(state=drained), whether every old worker exited within O(wait).
  returned: when O(state=drained)
  type: bool
old_workers:
  description: With O(state=drained), the pids of old workers still running at the end.
  returned: when O(state=drained)
  type: list
  elements: int
"""

import os
import tempfile

from ansible.module_utils.basic import AnsibleModule
from ansible_collections.pyops.uwsgi.plugins.module_utils import nginx_upstream, waiter


def _site_files(sites_dir, sites):
    if sites:
        return [os.path.join(sites_dir, f"{name}.conf") for name in sites]
    if not os.path.isdir(sites_dir):
        return []
    return sorted(
        os.path.join(sites_dir, name) for name in os.listdir(sites_dir) if name.endswith(".conf")
    )


def _write(module, path, text):
    fd, temp = tempfile.mkstemp(dir=os.path.dirname(path), prefix=".pyops-upstream-")
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        handle.write(text)
    # atomic_move keeps the old file's owner, group and mode.
    module.atomic_move(temp, path)


def _mark(module):
    params = module.params
    if not params["addresses"]:
        module.fail_json(msg="addresses must name the app host's address to mark it down or up.")
    planned, errors, result = [], [], {"servers": [], "files": [], "diff": [], "matched": []}
    for path in _site_files(params["sites_dir"], params["sites"]):
        if not os.path.exists(path):
            continue
        with open(path, encoding="utf-8") as handle:
            before = handle.read()
        result["matched"].extend(nginx_upstream.at(before, params["addresses"]))
        after, changes = nginx_upstream.mark(before, params["addresses"], params["state"])
        site = os.path.basename(path)[: -len(".conf")]
        if params["state"] == "down":
            errors.extend(nginx_upstream.errors(site, after, changes))
        if changes:
            planned.append((path, after))
            result["files"].append(path)
            result["servers"].extend(dict(c._asdict(), site=site) for c in changes)
            result["diff"].append(
                {"before": before, "after": after, "before_header": path, "after_header": path}
            )
    if errors:
        module.fail_json(msg="Nothing was changed:\n- " + "\n- ".join(errors), errors=errors)
    if params["state"] == "down" and not result["matched"]:
        # The host is deployed all the same: say it, as this front may name it another way.
        module.warn(
            f"No upstream server in {params['sites_dir']} is at {', '.join(params['addresses'])}:"
            " nothing to drain on this front. If its sites name the host otherwise (a DNS name),"
            " give front_addresses those names."
        )
    if not module.check_mode:
        for path, text in planned:
            _write(module, path, text)
    if not module._diff:
        del result["diff"]
    module.exit_json(changed=bool(planned), **result)


def _drained(module):
    wait = module.params["wait"]
    problem = waiter.check(wait=wait, interval=0.5)
    if problem:
        module.fail_json(msg=problem)
    waited = waiter.wait_for(
        nginx_upstream.old_workers, lambda pids: not pids, wait=wait, interval=0.5
    )
    if not waited.accepted:
        module.warn(
            f"{len(waited.outcome)} nginx worker(s) of an older configuration still held requests"
            f" after {wait} s (pids {', '.join(map(str, waited.outcome))}); going on. Long requests"
            " to the drained host may be cut short."
        )
    module.exit_json(
        changed=False,
        servers=[],
        files=[],
        drained=waited.accepted,
        old_workers=waited.outcome,
        waited=round(waited.waited, 1),
    )


def main():
    module = AnsibleModule(
        argument_spec={
            "addresses": {"type": "list", "elements": "str", "default": []},
            "state": {"type": "str", "choices": ["down", "up", "drained"], "required": True},
            "sites": {"type": "list", "elements": "str", "default": []},
            "sites_dir": {"type": "path", "default": "/etc/nginx/sites-available"},
            "wait": {"type": "int", "default": 60},
        },
        supports_check_mode=True,
    )
    if module.params["state"] == "drained":
        _drained(module)
    _mark(module)


if __name__ == "__main__":
    main()
