# Copyright: pyops.uwsgi contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Action of pyops.uwsgi.role_settings: a role entry point's settings, checked (see its docs)."""

from __future__ import annotations

from ansible.errors import AnsibleError
from ansible.plugins.action import ActionBase
from ansible_collections.pyops.uwsgi.plugins.module_utils import pip_settings, role_rules
from ansible_collections.pyops.uwsgi.plugins.plugin_utils import role_settings, tls_files


class ActionModule(ActionBase):
    TRANSFERS_FILES = False
    _requires_connection = False
    _supports_check_mode = True

    def run(self, tmp=None, task_vars=None):
        result = super().run(tmp, task_vars)
        args = self._task.args
        role = args["role"]
        entry_point = args.get("entry_point", "main")
        item = args.get("item") or {}
        options = role_settings.spec_options(role, entry_point)
        raw = role_settings.gather(options, task_vars or {}, self._templar, item)
        context = args.get("context", "")
        settings, errors = role_settings.validate(options, raw, context, role=role)
        readings = dict(args.get("readings") or {})
        controller_files = {}
        if not errors and (role, entry_point) == ("nginx", "site"):
            readings = tls_files.host_readings(settings, readings)
            # A certificate and key on the controller are read here, where they are: only the
            # key's public half goes on to the rules.
            controller_files, material = tls_files.controller_material(
                settings, self._find_tls_file
            )
            if material is not None:
                readings["tls"] = material
            page = self._maintenance_page(settings)
            if page is not None:
                readings["maintenance_page_found"] = page != ""
        if not errors:
            errors = role_rules.errors(role, entry_point, settings, readings)
        if errors:
            what = f"pyops.uwsgi.{role}" + (f" ({context})" if context else "")
            result.update(
                failed=True,
                errors=errors,
                msg=f"{what} is refused before any change:\n- " + "\n- ".join(errors),
            )
            return result
        result.update(changed=False, settings=settings)
        if role == "uwsgi":
            result["pip_environment"] = pip_settings.environment("uwsgi", settings)
        if (role, entry_point) == ("nginx", "site"):
            result["site"] = role_rules.nginx_site(settings, readings)
            result["tls_files"] = controller_files
            # Where the maintenance page is on the controller, for the copy that writes it.
            result["maintenance_page"] = self._maintenance_page(settings) or ""
        return result

    def _maintenance_page(self, settings):
        """The site's maintenance page found on the controller: its path, "" when not there, None
        when the site has none to look for."""
        page = settings.get("nginx_site_maintenance_page")
        if settings.get("nginx_site_state") != "present" or not page:
            return None
        return self._find_tls_file(page) or ""

    def _find_tls_file(self, path):
        """PATH on the controller as ansible.builtin.copy's src finds it (files/ of the role, the
        play), or None."""
        try:
            return self._find_needle("files", path)
        except AnsibleError:
            return None
