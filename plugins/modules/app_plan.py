# Copyright: pyops.uwsgi contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

# The work is done by the action plugin of the same name (plugins/action/app_plan.py) and the pure
# plan in plugins/module_utils/app_plan.py; this file documents it.

from __future__ import annotations

DOCUMENTATION = r"""
module: app_plan
version_added: 0.2.0
short_description: Check one app's settings and plan its deploy, before anything changes
description:
  - The first step of the P(pyops.uwsgi.app#role) role. Takes the app's settings (the role's
    C(app_*) variables, or one item of a list such as C(uwsgi_apps)), checks them against the
    role's argument spec with Ansible's own validator (types, choices, required and unknown keys),
    reads the host once (P(pyops.uwsgi.uwsgi_info#module)) and the uwsgi role's record
    (the local fact C(ansible_local.pyops_uwsgi)), and decides every value the role writes.
  - Either fails, listing every broken rule with the variable it names and the fix, or returns
    RV(plan). Nothing on the host changes either way; it runs in check mode as well.
  - The decisions live in one pure Python function, C(make_plan) in
    C(plugins/module_utils/app_plan.py), so each rule is a unit test.
options:
  app:
    description:
      - One app's settings as a dict of C(app_*) variables, as an item of
        C(pyops.uwsgi.site)'s C(uwsgi_apps). The task's variables (the role's defaults,
        inventory, include vars) fill in what it leaves out. Omitted, the task's variables alone
        are the settings.
      - Keys the role does not know are refused.
    type: dict
  apps:
    description:
      - Several apps' settings, each a dict as O(app) takes. Every one is checked (and their names
        must differ), and nothing but RV(readings) is returned, so one task refuses a bad list
        before the first app changes anything. Mutually exclusive with O(app).
      - How many apps share the host's memory, for sizing C(app_processes) V(0), is the number of
        apps listed here; for one app, that of the app role's variable C(app_list) (its entry point
        C(apps)), or one.
    type: list
    elements: dict
  source:
    description:
      - Digest of the release's source, the git commit of a git app; the action digests code from
        C(app_src_dir) itself. With a source, RV(plan) names the release and its paths; without,
        they name a placeholder release C(new), which is enough to check the settings.
    type: str
  readings:
    description:
      - RV(readings) of an earlier call for the same app on the same host, so the host is not
        read twice.
    type: dict
  read_state:
    description:
      - Also read what the host has of the app now, with one more call of
        P(pyops.uwsgi.uwsgi_info#module), and compare it with the plan. RV(plan.state) tells what a
        deploy would change, so the role skips what does not differ.
    type: bool
    default: false
  nginx_error_log:
    description:
      - nginx's error log, whose size RV(plan.state) reports (where a failed deploy's lines begin).
        Only with O(read_state).
    type: path
    default: /var/log/nginx/error.log
  require_uwsgi:
    description: Refuse when the uwsgi role has not recorded an installation on the host yet.
    type: bool
    default: false
  web_user:
    description: The user nginx's workers run as, which must be able to open the app's socket.
    type: str
    default: www-data
  web_group:
    description: nginx's group, which owns the app's socket; the app's user must not be in it.
    type: str
    default: www-data
extends_documentation_fragment:
  - ansible.builtin.action_common_attributes
  - ansible.builtin.action_common_attributes.flow
  - pyops.uwsgi.common
  - pyops.uwsgi.common.action
"""

EXAMPLES = r"""
- name: Check and plan the app
  pyops.uwsgi.app_plan:
    require_uwsgi: true
  register: __app_planned

- name: Show where the app's vassal goes
  ansible.builtin.debug:
    msg: "{{ __app_planned.plan.paths.config }}"
"""

RETURN = r"""
plan:
  description:
    - Everything the role writes and checks for the app. Its result is hidden from the output,
      because the vassal's text holds C(app_env), often secrets.
    - Keys include C(user), C(group), C(paths) (root, releases, current, socket, config, ...),
      C(release) (id, dir, code, venv, marker, requirements, pip_environment), C(directories),
      C(tmpfiles), C(vassal) (options, generation, text), C(canary) (ini, socket, unit), C(unit)
      (name, service and socket unit texts), C(journal), C(nginx_site) (the
      P(pyops.uwsgi.nginx#role) role's site variables), C(health) (url, host, path, timeout)
      and C(diagnose).
  returned: success
  type: dict
  contains:
    state:
      description:
        - With O(read_state), the app on the host compared with the plan (C(compare) in
          C(plugins/module_utils/app_state.py)).
        - C(release_built) and C(current_release) (the release planned is built, the one serving
          now); C(deployed_text) (the configuration serving now) and C(deploying) (it or the
          release differs, so the deploy steps run); C(group_differs), C(user_differs),
          C(directories_differing) (items of C(directories)), C(tmpfiles_differs),
          C(environment_dir_differs), C(environment_file_differs); what is to go,
          C(releases_to_remove) (beyond C(app_keep_releases), never the release planned),
          C(envdirs_to_remove), C(environment_files_to_remove), C(units_to_disable) and
          C(unit_files_to_remove) (workers and jobs no longer wanted); C(nginx_error_log_size).
        - C(environment_file_new) and C(envdir_new) (written by this run, read by no unit; a
          deploy that fails removes them).
        - Whether each group of steps has anything to do, all booleans, C(account_differs) (group,
          user, tmpfiles or a directory), C(environment_differs), C(workers_due) (workers or jobs
          wanted, or some to take out) and C(cleanup_due) (anything to remove).
      returned: with O(read_state)
      type: dict
readings:
  description:
    - What P(pyops.uwsgi.uwsgi_info#module) read on the host. With O(apps), one per app, by name.
  returned: success
  type: dict
tls_files_sites:
  description:
    - With O(apps), the nginx site (the P(pyops.uwsgi.nginx#role) role's site variables) of each app
      whose HTTPS certificate and key come from files (C(app_tls=files)), for the nginx role's
      entry point C(check) to read and check before anything changes.
  returned: with O(apps)
  type: list
  elements: dict
errors:
  description: One message per broken rule, each naming the variable and the fix.
  returned: failure
  type: list
  elements: str
"""
