# Copyright: pyops.uwsgi contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

# The work is done by the action plugin of the same name (plugins/action/role_settings.py) and the
# rules in plugins/module_utils/role_rules.py; this file documents it.

from __future__ import annotations

DOCUMENTATION = r"""
module: role_settings
version_added: 0.2.0
short_description: Check the settings of a pyops.uwsgi role before anything changes
description:
  - The first step of the P(pyops.uwsgi.uwsgi#role) and P(pyops.uwsgi.nginx#role) roles (and of the
    nginx role's C(site) entry point). Gathers the settings of the role entry point (the options of
    its argument spec) from the task's variables, or from O(item) with the variables filling in
    what it leaves out, checks them with Ansible's own validator (types, choices, required and
    unknown keys), then with the role's rules on their values (paths, names, sizes, limits).
  - Fails, listing every broken rule with the variable it names and the fix, or returns the
    settings converted to their types. Reads nothing from the host and changes nothing.
  - The rules are plain Python in C(plugins/module_utils/role_rules.py), each a unit test.
  - The P(pyops.uwsgi.app#role) role has its own, P(pyops.uwsgi.app_plan#module).
options:
  role:
    description: The role, C(uwsgi), C(nginx), C(front) or C(patch).
    type: str
    required: true
    choices: [uwsgi, nginx, front, patch]
  entry_point:
    description:
      - The role's entry point, C(main), or C(site) for the nginx role, C(drain) or C(restore) for
        the front role.
    type: str
    default: main
  item:
    description:
      - The settings as a dict, as an item of a list such as C(pyops.uwsgi.fleet)'s
        C(uwsgi_front_sites); the task's variables fill in what it leaves out. Keys the entry point
        does not know are refused.
    type: dict
  context:
    description: Words that say where the settings come from, put in front of every message.
    type: str
  readings:
    description:
      - What the role read from the host for its rules, such as C(apt_cache_rc) for the uwsgi role
        (the exit status of C(apt-cache show) for each Python version's packages), C(distribution)
        and C(python3).
      - For an HTTPS site of the nginx role (C(tasks/tls_read.yml)), C(nginx_version) (C(nginx -v)),
        C(chain_b64) / C(chain_error) (the site's certificate as the host has it), C(public_key) /
        C(public_key_error) (C(openssl pkey -pubout) of a key kept on the host; the key itself is
        never read off the host), C(key_stat) and C(resolv_conf_b64).
      - A certificate and key on the controller (C(nginx_site_tls=files)) are read by the action
        itself, where they are; only the key's public half is compared with the certificate.
    type: dict
extends_documentation_fragment:
  - ansible.builtin.action_common_attributes
  - ansible.builtin.action_common_attributes.flow
  - pyops.uwsgi.common
  - pyops.uwsgi.common.action
attributes:
  platform:
    platforms: all
"""

EXAMPLES = r"""
- name: Check the nginx role's settings
  pyops.uwsgi.role_settings:
    role: nginx
  register: __nginx_settings
"""

RETURN = r"""
settings:
  description: The entry point's settings, each converted to the type its argument spec gives.
  returned: success
  type: dict
pip_environment:
  description:
    - For the uwsgi role, pip's settings (index, extra indexes, CA bundle) as environment variables
      for the pip method's builds; empty ones are left out.
  returned: success, with O(role=uwsgi)
  type: dict
site:
  description:
    - For the nginx role's C(site) entry point, the values the site is written from, decided in
      Python, namely C(listen) (with C(default_server) where the names include C(_)), C(uwsgi_pass),
      C(upstream_name), C(static_alias), C(static_bridge) (the named location that serves the
      previous release's static files; empty without one), C(target) (where a check reaches the
      site from the host) and C(tls) (the values of an HTTPS site's server blocks, from
      C(plugins/module_utils/tls.py)).
  returned: success, with O(entry_point=site)
  type: dict
tls_files:
  description:
    - For an nginx site with C(nginx_site_tls=files) from the controller, where the certificate and
      key were found there (C(certificate), C(key)), for the tasks that copy them.
  returned: success, with O(entry_point=site)
  type: dict
errors:
  description: One message per broken rule, each naming the variable and the fix.
  returned: failure
  type: list
  elements: str
"""
