# Copyright: pyops.uwsgi contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Private: the pieces of an app's plan, one concern a module. Import module_utils/app_plan.py.

Nothing here is an API of the collection: names and modules may change in any release.

- ``model``: the app resolved from its settings (identity, paths, supervisor, sizing).
- ``rules``: the table of rules, by name, over ``rules_app``, ``rules_serving``, ``rules_release``.
- ``vassal``: the vassal's options and ini text, and the canary that stands in for it.
- ``units``: the app's systemd units, its sandbox, its workers and jobs, its release phases.
- ``site``: the nginx site, the health check and the diagnosis context.
- ``schema``: the plan's shape, field by field; ``assembly`` builds a plan of it from the above.
"""
