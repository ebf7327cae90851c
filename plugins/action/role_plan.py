# Copyright: pyops.uwsgi contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Action of pyops.uwsgi.role_plan: the uwsgi or nginx role's plan (see its docs)."""

from __future__ import annotations

from ansible.plugins.action import ActionBase
from ansible_collections.pyops.uwsgi.plugins.module_utils import (
    nginx_role_plan,
    uwsgi_role_plan,
)
from ansible_collections.pyops.uwsgi.plugins.plugin_utils import role_settings

PLANS = {"uwsgi": uwsgi_role_plan, "nginx": nginx_role_plan}


class ActionModule(ActionBase):
    TRANSFERS_FILES = False
    # It computes only: it runs on the controller, and in check mode as in any other.
    _requires_connection = False
    _supports_check_mode = True
    _VALID_ARGS = frozenset({"role", "host"})

    def run(self, tmp=None, task_vars=None):
        result = super().run(tmp, task_vars)
        task_vars = task_vars or {}
        args = self._task.args
        role = args["role"]
        plans = PLANS[role]
        host = args.get("host")
        options = role_settings.spec_options(role)
        read = plans.settings_read(host is not None)
        if read is not None:
            options = {name: option for name, option in options.items() if name in read}
        raw = role_settings.gather(options, task_vars, self._templar)
        # The same check as the role's first step (pyops.uwsgi.role_settings) of the settings the
        # plan reads, which a run may have skipped (--skip-tags validate): the plan is made from
        # settings of the right types only.
        settings, errors = role_settings.validate(options, raw, role=role)
        missing = sorted(name for name in plans.PLATFORM if name not in task_vars)
        if missing:
            errors.append(
                f"{', '.join(missing)} not set: pyops.uwsgi.platform loads them as the role's"
                " first step."
            )
        if errors:
            result.update(
                failed=True,
                errors=errors,
                msg=f"pyops.uwsgi.{role} is refused before any change:\n- " + "\n- ".join(errors),
            )
            return result
        platform = {
            key: self._templar.template(task_vars[name]) for name, key in plans.PLATFORM.items()
        }
        if role == "uwsgi":
            plan = plans.make_plan(
                settings,
                platform,
                run_tags=task_vars.get("ansible_run_tags") or ["all"],
                host=host,
            )
        else:
            plan = plans.make_plan(settings, platform, host=host)
        result.update(plan)
        result["changed"] = False
        return result
