# Copyright: pyops.uwsgi contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""What the controller knows of an app's code: whether it is there, and its digest."""

from __future__ import annotations

import os
import sys

from ansible_collections.pyops.uwsgi.plugins.module_utils import app_plan
from ansible_collections.pyops.uwsgi.plugins.plugin_utils.digest import tree_digest


def controller_readings(settings, playbook_dir):
    """(controller readings for app_plan.make_plan, digest of the code or None).

    For an app whose code is on the controller (app_src_dir): whether the directory exists, whether
    app_wsgi_module names a file in it, whether its requirements file is there (which may install
    the module), whether the module is the standard library's, and the digest that names its
    release. A git app's code is only known once fetched. Whether app_maintenance_page is there,
    for any app that names one.
    """
    controller = {"playbook_dir": playbook_dir}
    page = app_plan.maintenance_page(settings, playbook_dir)
    if page:
        controller["maintenance_page_found"] = os.path.isfile(page)
    if not settings["app_src_dir"]:
        return controller, None
    src = app_plan.src_dir(settings, playbook_dir)
    controller["src_dir_is_dir"] = os.path.isdir(src)
    controller["module_found"] = any(
        os.path.isfile(path) for path in app_plan.entry_module_paths(settings, playbook_dir)
    )
    requirements = settings["app_requirements_file"]
    controller["requirements_found"] = bool(requirements) and os.path.isfile(
        os.path.join(src, requirements)
    )
    # A module of the standard library imports in any virtualenv.
    top = settings["app_wsgi_module"].split(".")[0]
    controller["module_stdlib"] = top in getattr(sys, "stdlib_module_names", ())
    digest = tree_digest(src, settings["app_src_exclude"]) if controller["src_dir_is_dir"] else None
    return controller, digest
