# Copyright: pyops.uwsgi contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Action of pyops.uwsgi.app_plan: read the host, then plan the app (module_utils/app_plan.py)."""

from __future__ import annotations

import json
import posixpath
import time

from ansible.errors import AnsibleError
from ansible.module_utils.common.text.converters import to_text
from ansible.module_utils.parsing.convert_bool import boolean
from ansible.plugins.action import ActionBase
from ansible_collections.pyops.uwsgi.plugins.module_utils import app_plan, app_state, lb_health
from ansible_collections.pyops.uwsgi.plugins.plugin_utils import app_source, role_settings

try:  # ansible-core 2.19 and later template only text trusted as a template
    from ansible.template import trust_as_template
except ImportError:  # pragma: no cover - older ansible-core templates any text

    def trust_as_template(text):
        return text


# The uwsgi role's settings that stand in for its record before it ran (site.yml checks every app
# before the first change, on a host that may have no uWSGI yet).
_UWSGI_STAND_INS = {
    "uwsgi_run_dir": "run_dir",
    "uwsgi_python_versions": "python_versions",
    "uwsgi_pip_python_versions": "pip_python_versions",
    # And the nginx role's header limits, which bound what a request brings to the app.
    "nginx_large_client_header_buffers": "nginx_large_client_header_buffers",
    # And its client timeouts, which the app's limits follow (module_utils/limits.py).
    "nginx_client_header_timeout": "nginx_client_header_timeout",
    "nginx_client_body_timeout": "nginx_client_body_timeout",
    "nginx_send_timeout": "nginx_send_timeout",
    "nginx_keepalive_timeout": "nginx_keepalive_timeout",
}
# What pyops.uwsgi.uwsgi_info reads and the plan uses.
_READINGS = (
    "somaxconn",
    "cpus",
    "memory_mb",
    "group_members",
    "python3",
    "pythons",
    "uwsgi_options",
    "calendars",
    # The app's directories, their components and its accounts (app_plan.host_request).
    "paths",
    "entries",
    "users",
    "groups",
)


class ActionModule(ActionBase):
    TRANSFERS_FILES = False
    _supports_check_mode = True

    def run(self, tmp=None, task_vars=None):
        result = super().run(tmp, task_vars)
        self._vars = task_vars or {}
        self._readings = {}
        args = self._task.args
        if "apps" in args:
            return self._check_all(result, args["apps"] or [])
        planned = self._plan(args.get("app"), args.get("source"), args.get("readings"))
        if planned["errors"]:
            return self._refuse(result, planned["name"], planned["errors"])
        plan = planned["plan"]
        if boolean(args.get("rollback", False)):
            return self._rollback(result, planned)
        # A templated flag may arrive as the text "False" (ansible-core before 2.19).
        if boolean(args.get("read_state", False)):
            state = self._read_state(
                plan, args.get("nginx_error_log") or "/var/log/nginx/error.log"
            )
            if "error" in state:
                return self._refuse(result, planned["name"], [state["error"]])
            plan = {**plan, "state": state}
        result.update(changed=False, plan=plan, readings=planned["readings"])
        # The plan holds app_env, often secrets: shown to nobody, registered for the role's tasks.
        result["_ansible_no_log"] = True
        return result

    def _check_all(self, result, apps):
        """Every app of a list, and that their names differ; nothing is returned but errors."""
        errors, readings, plans = [], {}, []
        names = [item.get("app_name") for item in apps if isinstance(item, dict)]
        doubles = sorted({name for name in names if names.count(name) > 1})
        if doubles:
            errors.append(
                f"Each app needs a name of its own; more than one is named {', '.join(doubles)}."
            )
        for item in apps:
            if not isinstance(item, dict):
                errors.append(
                    f"Each app must be a dict of pyops.uwsgi.app variables; got {item!r}."
                )
                continue
            planned = self._plan(item)
            errors += [f"app {item.get('app_name', '?')}: {e}" for e in planned["errors"]]
            readings[planned["name"]] = planned["readings"]
            plans += [planned["plan"]] if planned["plan"] else []
        # Each app's health server for load balancers is the default server of its ports.
        errors += lb_health.shared_ports(
            [plan["nginx_site"] for plan in plans if plan["nginx_site_enabled"]]
        )
        if errors:
            return self._refuse(result, "", errors, what="The apps are")
        # What each app's plan read of the host, for the deploy that follows to plan it again; the
        # HTTPS sites whose certificate and key come from files, for the nginx role to check.
        result.update(
            changed=False,
            msg=f"{len(apps)} apps checked",
            readings=readings,
            tls_files_sites=[
                plan["nginx_site"]
                for plan in plans
                if plan["nginx_site_enabled"]
                and plan["nginx_site"].get("nginx_site_tls", "none") == "files"
            ],
        )
        return result

    def _plan(self, item=None, source=None, readings=None, release=None):
        """{"name", "errors", "plan", "readings"} for one app."""
        task_vars, args = self._vars, self._task.args
        options = role_settings.spec_options("app")
        raw = role_settings.gather(options, task_vars, self._templar, item)
        name = raw.get("app_name", "")
        context = (
            f"uwsgi_apps item {name or '(no app_name)'}" if item and "apps" not in args else ""
        )
        settings, errors = role_settings.validate(options, raw, context, role="app")
        found = {"name": name, "errors": errors, "plan": None, "readings": {}}
        if errors:
            return found
        record = (
            task_vars.get("ansible_facts", {}).get("ansible_local", {}).get("pyops_uwsgi") or {}
        )
        if boolean(args.get("require_uwsgi", False)) and not record:
            found["errors"] = [
                "uWSGI is not set up on this host (no local fact pyops_uwsgi): apply the"
                " pyops.uwsgi.uwsgi role before pyops.uwsgi.app."
            ]
            return found
        readings = readings or self._read_host(settings, record)
        if "error" in readings:
            found["errors"] = [readings["error"]]
            return found
        controller, digest = app_source.controller_readings(
            settings, task_vars.get("playbook_dir", "")
        )
        controller["config_templates"] = self._config_templates(settings)
        planned = app_plan.make_plan(
            settings,
            record=record,
            uwsgi_settings=self._stand_ins(),
            host=readings,
            controller=controller,
            platform=self._platform(),
            # The code on the controller names its release: known before anything changes.
            source=source or digest,
            release=release,
        )
        found.update(errors=planned["errors"], plan=planned.get("plan"), readings=readings)
        return found

    def _config_templates(self, settings):
        """{src: its text rendered with the play's variables, or None when it is not found} for
        the templates of app_config_files, found as ansible.builtin.template finds them."""
        rendered = {}
        for item in settings.get("app_config_files") or []:
            src = item.get("src")
            if not src or src in rendered:
                continue
            try:
                path = self._find_needle("templates", src)
            except AnsibleError:
                rendered[src] = None
                continue
            if hasattr(self._loader, "get_text_file_contents"):
                text = self._loader.get_text_file_contents(path)
            else:  # ansible-core before 2.19
                text = to_text(self._loader._get_file_contents(path)[0])
            text = trust_as_template(text)
            rendered[src] = str(self._templar.template(text, escape_backslashes=False) or "")
        return rendered

    def _stand_ins(self):
        """The uwsgi (and nginx) role's settings that stand in for its record."""
        return {
            key: self._templar.template(self._vars[var])
            for var, key in _UWSGI_STAND_INS.items()
            if var in self._vars
        }

    def _platform(self):
        args = self._task.args
        return {
            "web_user": args.get("web_user", "www-data"),
            "web_group": args.get("web_group", "www-data"),
            "host_apps": self._host_apps(),
        }

    def _host_apps(self):
        """How many apps share the host's memory: those of the list checked, or of the list the
        entry point apps deploys (app_list); one for the main entry point."""
        if "apps" in self._task.args:
            return len(self._task.args["apps"] or [])
        apps = self._templar.template(self._vars.get("app_list") or [])
        return max(1, len(apps)) if isinstance(apps, list) else 1

    def _read_host(self, settings, record):
        """What pyops.uwsgi.uwsgi_info reads, once per uWSGI binary and plugin set."""
        request = app_plan.help_request(settings, record)
        # The app's directories and accounts as the host has them (rule "host components").
        owned = app_plan.host_request(
            settings,
            record=record,
            uwsgi_settings=self._stand_ins(),
            platform=self._platform(),
        )
        # The timers' calendars, for systemd-analyze on the host to judge.
        calendars = sorted(
            {job["calendar"] for job in settings.get("app_jobs") or [] if job.get("calendar")}
        )
        key = (
            (request[0], request[1], tuple(request[2])) if request else None,
            tuple(calendars),
            json.dumps(owned, sort_keys=True),
        )
        if key in self._readings:
            return self._readings[key]
        module_args = {
            "group": self._task.args.get("web_group", "www-data"),
            "calendars": calendars,
            "paths": owned["paths"],
            "directories": owned["directories"],
            "users": owned["users"],
            "groups": owned["groups"],
        }
        if request:
            binary, plugins_dir, plugins = request
            module_args.update(uwsgi=binary, plugins_dir=plugins_dir or None, plugins=plugins)
        answer = self._execute_module(
            module_name="pyops.uwsgi.uwsgi_info", module_args=module_args, task_vars=self._vars
        )
        if answer.get("failed"):
            readings = {"error": answer.get("msg", "reading the host failed")}
        else:
            readings = {key: answer[key] for key in _READINGS if key in answer}
        self._readings[key] = readings
        return readings

    def _read_state(self, plan, nginx_error_log):
        """The app's state on the host (module_utils/app_state.py), from one uwsgi_info call."""
        answer = self._execute_module(
            module_name="pyops.uwsgi.uwsgi_info",
            module_args=app_state.request(plan, nginx_error_log),
            task_vars=self._vars,
        )
        if answer.get("failed"):
            return {"error": answer.get("msg", "reading the host failed")}
        return app_state.compare(plan, answer, nginx_error_log)

    def _rollback(self, result, planned):
        """The plan of the kept release to serve again (rollback_release, else the one built
        before the one serving), its state, and the rollback's record (app_state.py)."""
        name = planned["name"]
        chosen = self._rollback_plan(planned)
        if chosen.get("errors"):
            return self._refuse(result, name, chosen["errors"], what=chosen.get("what", ""))
        result.update(changed=False, readings=planned["readings"], **chosen)
        result["_ansible_no_log"] = True
        return result

    def _rollback_plan(self, planned):
        """{"plan", "rollback"}, or {"errors"} (and "what" was refused)."""
        args, name = self._task.args, planned["name"]
        refused = {"what": f"The rollback of {name} is"}
        errors = app_state.rollback_errors(args.get("rollback_release") or "", args.get("app"))
        if errors:
            return {**refused, "errors": errors}
        log = args.get("nginx_error_log") or "/var/log/nginx/error.log"
        state = self._read_state(planned["plan"], log)
        if "error" in state:
            return {"errors": [state["error"]]}
        plan = {**planned["plan"], "state": state}
        kept = self._kept(plan, plan["state"]["releases"])
        if isinstance(kept, str):
            return {"errors": [kept]}
        serving = plan["state"]["current_release"]
        target, why = app_state.rollback_choice(
            plan, kept, serving, args.get("rollback_release") or ""
        )
        if why:
            return {**refused, "errors": [why]}
        again = self._plan(args.get("app"), readings=planned["readings"], release=target)
        state = self._read_state(again["plan"], log) if again["plan"] else {}
        if again["errors"] or "error" in state:
            return {"errors": again["errors"] or [state["error"]]}
        plan = {**again["plan"], "state": state}
        at = time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime())
        return {
            "plan": plan,
            "rollback": {
                "release": target,
                "serving": serving,
                "kept": [item["id"] for item in kept],
                "record": app_state.rollback_marker(plan, target, at),
            },
        }

    def _kept(self, plan, releases):
        """app_state.kept_releases() of RELEASES (names under releases/), from their markers; a
        string when the host could not be read."""
        marker = posixpath.basename(plan["release"]["marker"])
        paths = {name: f"{plan['paths']['releases']}/{name}/{marker}" for name in releases}
        answer = self._execute_module(
            module_name="pyops.uwsgi.uwsgi_info",
            module_args={"paths": list(paths.values()), "texts": list(paths.values())},
            task_vars=self._vars,
        )
        if answer.get("failed"):
            return answer.get("msg", "reading the host failed")
        return app_state.kept_releases(
            {
                name: (answer["paths"].get(path), answer["texts"].get(path))
                for name, path in paths.items()
            }
        )

    @staticmethod
    def _refuse(result, name, errors, what=""):
        what = what or (f"App {name} is" if name else "The app is")
        result.update(
            failed=True,
            errors=errors,
            msg=f"{what} refused before any change:\n- " + "\n- ".join(errors),
        )
        return result
