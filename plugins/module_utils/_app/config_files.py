# Copyright: pyops.uwsgi contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Private (see __init__.py): the app's configuration files (app_config_files).

Each file is written to APP_ROOT/config/DIGEST/DEST, a directory named after every file's content,
mode, owner and group, so a deploy never edits the files the app serving reads; DEST (in the
release's code, or in the shared directory that holds it) is a link through APP_ROOT/config/current,
the one link a deploy switches and a failed deploy puts back. The digest joins the vassal's
generation: a changed file deploys as a changed configuration does, and the vassal's text carries
the digest of the content, never the content.

Pure: no I/O.
"""

from __future__ import annotations

import posixpath
import re
import typing as t

from ansible_collections.pyops.uwsgi.plugins.module_utils._app.model import App, digest

_DEST = re.compile(r"^[A-Za-z0-9_.@+-]+(/[A-Za-z0-9_.@+-]+)*$")
_MODE = re.compile(r"^[0-7]?[0-7]{3}$")


def items(app: App) -> list[dict[str, t.Any]]:
    return list(app.s.get("app_config_files") or [])


def dest_problem(dest: t.Any) -> str:
    """Why DEST cannot name a file inside the code ("" when it can)."""
    if isinstance(dest, str) and any(part in ("", ".", "..") for part in dest.split("/")):
        return "leaves the code or names no file (absolute, empty, '.' or '..')"
    if not isinstance(dest, str) or not _DEST.fullmatch(dest):
        return "is not a relative path of names (letters, digits, . _ - @ +) joined by /"
    return ""


def mode_problem(mode: t.Any) -> str:
    """Why MODE does not suit a configuration file ("" when it does)."""
    if not isinstance(mode, str) or not _MODE.fullmatch(mode):
        return "is not an octal mode in quotes, such as '0640'"
    bits = int(mode, 8)
    if bits & 0o7000:
        return "has special bits (set-user-ID, set-group-ID, sticky): a file read needs none"
    if bits & 0o111:
        return "has execute bits: a configuration file is read, not run"
    if bits & 0o007:
        return "gives other users of the host access: the file may hold secrets"
    return ""


def module_paths(app: App) -> tuple[str, str]:
    """(the entry module's file, its package directory), relative to the code."""
    base = "/".join(app.s["app_wsgi_module"].split("."))
    return f"{base}.py", base


def shared_path_of(app: App, dest: str) -> str:
    """The path of app_shared_paths that holds DEST, or ""."""
    for item in app.s["app_shared_paths"]:
        if dest.startswith(item["path"] + "/"):
            return item["path"]
    return ""


def content_of(app: App, item: dict[str, t.Any]) -> str | None:
    """The file's text: its content, or its template as the controller rendered it (None when
    the controller has not)."""
    if item.get("content") is not None:
        return str(item["content"])
    return app.templates.get(item.get("src") or "")


def group_of(app: App, item: dict[str, t.Any]) -> str:
    return item.get("group") or app.group


def _identity(app: App) -> list[list[t.Any]]:
    """What names the files' directory: every file's place, text, mode, owner and group."""
    return [
        [
            item["dest"],
            content_of(app, item),
            item["mode"],
            item["owner"],
            group_of(app, item),
        ]
        for item in items(app)
    ]


def digest_of(app: App) -> str:
    """The digest of every file (""  without app_config_files): it names their directory and
    joins the vassal's generation."""
    return digest(_identity(app), 12) if items(app) else ""


def plan(app: App) -> dict[str, t.Any]:
    """The plan's config section (schema.Config)."""
    root = f"{app.s['app_root']}/config"
    current = f"{root}/current"
    name = digest_of(app)
    here = f"{root}/{name}" if name else ""
    directories = {}
    files, link_parents = [], {}
    for item in items(app):
        dest = item["dest"]
        parent = posixpath.dirname(dest)
        # The directories between the digest's and the file, parents first.
        for depth in range(1, len(parent.split("/")) + 1 if parent else 1):
            relative = "/".join(parent.split("/")[:depth])
            directories[relative] = f"{here}/{relative}"
        shared = shared_path_of(app, dest)
        if shared:
            link = f"{app.s['app_state_dir']}/shared/{dest}"
            # Inside the app's own shared directory: what the role adds there is the app's.
            owner, group, mode = app.user, app.group, "0750"
        else:
            link = f"{app.code}/{dest}"
            owner, group, mode = "root", "root", "0755"
        link_parent = posixpath.dirname(link)
        if link_parent not in (app.code, f"{app.s['app_state_dir']}/shared/{shared}"):
            link_parents[link_parent] = {
                "path": link_parent,
                "owner": owner,
                "group": group,
                "mode": mode,
            }
        files.append(
            {
                "dest": dest,
                "path": f"{here}/{dest}",
                "link": link,
                "target": f"{current}/{dest}",
                "content": content_of(app, item) or "",
                "mode": item["mode"],
                "owner": item["owner"],
                "group": group_of(app, item),
            }
        )
    held = [{"path": root, "owner": "root", "group": app.group, "mode": "0750"}] if here else []
    held += [{"path": here, "owner": "root", "group": app.group, "mode": "0750"}] if here else []
    held += [
        {"path": path, "owner": "root", "group": app.group, "mode": "0750"}
        for path in directories.values()
    ]
    return {
        "root": root,
        "current": current,
        "dir": here,
        "directories": held,
        "files": files,
        "link_parents": sorted(link_parents.values(), key=lambda entry: entry["path"]),
    }
