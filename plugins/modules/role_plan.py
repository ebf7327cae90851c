# Copyright: pyops.uwsgi contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

# The work is done by the action plugin of the same name (plugins/action/role_plan.py) and the
# plans in plugins/module_utils/uwsgi_role_plan.py and nginx_role_plan.py; this file documents it.

from __future__ import annotations

DOCUMENTATION = r"""
module: role_plan
version_added: 0.2.0
short_description: Plan the uwsgi or nginx role from its settings, its platform and the host
description:
  - The values the P(pyops.uwsgi.uwsgi#role) and P(pyops.uwsgi.nginx#role) roles' tasks read that
    are neither settings nor constants, decided in Python as P(pyops.uwsgi.app_plan#module) decides
    the app role's. Each role calls it twice, once before and once after its one read of the host
    with P(pyops.uwsgi.uwsgi_info#module) (the plan's RV(host_request) are that read's arguments).
  - Gathers the settings the plan reads from the task's variables and checks their types with
    Ansible's own validator, as P(pyops.uwsgi.role_settings#module) does (its rules on values are
    that module's work), and reads the platform's constants the C(pyops.uwsgi.platform) step loaded.
    The nginx role's plan reads no setting before the host is read, as that call runs under every
    tag, where the role's checks (tagged C(validate)) may not have run.
  - Reads nothing from the host and changes nothing, so it runs in check mode as in any other.
options:
  role:
    description: The role, C(uwsgi) or C(nginx) (its C(main) entry point).
    type: str
    required: true
    choices: [uwsgi, nginx]
  host:
    description:
      - The answer of P(pyops.uwsgi.uwsgi_info#module) to the plan's RV(host_request). Given, the
        plan adds the decisions that depend on the host.
    type: dict
extends_documentation_fragment:
  - ansible.builtin.action_common_attributes
  - ansible.builtin.action_common_attributes.flow
  - pyops.uwsgi.common
  - pyops.uwsgi.common.action
attributes:
  platform:
    # Runs on the controller alone.
    platforms: all
"""

EXAMPLES = r"""
- name: Plan the role from its settings and this platform
  pyops.uwsgi.role_plan:
    role: nginx
  register: __nginx_plan

- name: Look for nginx's packages, the default site and the service
  pyops.uwsgi.uwsgi_info:
    installed: "{{ __nginx_plan.host_request.installed }}"
    paths: "{{ __nginx_plan.host_request.paths }}"
    services: "{{ __nginx_plan.host_request.services }}"
  register: __nginx_host

- name: Plan the role with what the host has
  pyops.uwsgi.role_plan:
    role: nginx
    host: "{{ __nginx_host }}"
  register: __nginx_plan
"""

RETURN = r"""
host_request:
  description:
    - The arguments of the role's one read of the host with P(pyops.uwsgi.uwsgi_info#module).
  returned: success
  type: dict
checks_only:
  description: For the uwsgi role, whether the run only checks (C(--tags validate) alone).
  returned: success, with O(role=uwsgi)
  type: bool
add_apt_repository:
  description: For the uwsgi role, whether to add C(uwsgi_python_apt_repository) to apt's sources.
  returned: success, with O(role=uwsgi)
  type: bool
refresh_package_index:
  description:
    - For the uwsgi role, whether apt's index is refreshed before apt is asked about Pythons.
  returned: success, with O(role=uwsgi)
  type: bool
install_packages:
  description: For the uwsgi role, every package it installs.
  returned: success, with O(role=uwsgi)
  type: list
  elements: str
tmpfiles:
  description: For the uwsgi role, the C(tmpfiles.d) entry that recreates C(uwsgi_run_dir) at boot.
  returned: success, with O(role=uwsgi)
  type: str
fact_dir:
  description: For the uwsgi role, the directory of its record (a local fact).
  returned: success, with O(role=uwsgi)
  type: str
emperor:
  description:
    - For the uwsgi role, the distribution's Emperor, with C(service), C(binary), C(config),
      C(unit), C(vassals_dir), C(directories), C(options) (its configuration) and, with O(host),
      C(start) (whether it is not both running and enabled).
  returned: success, with O(role=uwsgi)
  type: dict
pip_emperors:
  description:
    - For the uwsgi role, an Emperor like RV(emperor) per pip-built uWSGI, with its C(python).
  returned: success, with O(role=uwsgi)
  type: list
  elements: dict
install:
  description: Whether dpkg lacked one of the role's packages when the host was read.
  returned: success, with O(host)
  type: bool
offered_packages:
  description:
    - For the uwsgi role, whether apt offers each package of the Pythons asked for, for the check of
      each; empty when the source that would offer them was not added.
  returned: success, with O(role=uwsgi) and O(host)
  type: dict
plugin_pythons:
  description:
    - For the uwsgi role, the Python versions served by a plugin each (the versions given, or the
      host's python3); RV(record) names their interpreters and plugins.
  returned: success, with O(role=uwsgi) and O(host)
  type: list
  elements: str
record:
  description:
    - For the uwsgi role, its record for the app role (C(ansible_local.pyops_uwsgi)); C(version) is
      null when uWSGI was not installed when the host was read.
  returned: success, with O(role=uwsgi) and O(host)
  type: dict
default_site:
  description: For the nginx role, the distribution's default site.
  returned: success, with O(role=nginx)
  type: str
packages:
  description: For the nginx role, its packages.
  returned: success, with O(role=nginx)
  type: list
  elements: str
remove_default_site:
  description: For the nginx role, whether to remove the default site.
  returned: success, with O(role=nginx) and O(host)
  type: bool
start:
  description: For the nginx role, whether nginx is not both running and enabled.
  returned: success, with O(role=nginx) and O(host)
  type: bool
errors:
  description: One message per setting of the wrong type, or platform constant not loaded.
  returned: failure
  type: list
  elements: str
"""
