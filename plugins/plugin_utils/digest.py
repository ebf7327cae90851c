# Copyright: pyops.uwsgi contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The digest that names a release of code from the controller (lookup tree_digest, app_plan)."""

from __future__ import annotations

import fnmatch
import hashlib
import os


def tree_digest(top, exclude=()):
    """SHA-256 over (relative path, kind, content) of everything below TOP, in sorted order."""
    if not os.path.isdir(top):
        raise NotADirectoryError(f"{top} is not a directory")
    digest = hashlib.sha256()

    def excluded(name):
        return any(fnmatch.fnmatchcase(name, pattern) for pattern in exclude)

    entries = []
    for root, dirs, files in os.walk(top):
        dirs[:] = [name for name in dirs if not excluded(name)]
        for name in files:
            if not excluded(name):
                entries.append(os.path.join(root, name))
        for name in dirs:
            path = os.path.join(root, name)
            if os.path.islink(path):
                entries.append(path)
    for path in sorted(entries, key=lambda p: os.path.relpath(p, top)):
        relative = os.path.relpath(path, top).encode("utf-8", "surrogateescape")
        if os.path.islink(path):
            kind, content = b"l", os.readlink(path).encode("utf-8", "surrogateescape")
        else:
            kind = b"x" if os.access(path, os.X_OK) else b"f"
            with open(path, "rb") as handle:
                content = handle.read()
        for part in (relative, kind, content):
            digest.update(len(part).to_bytes(8, "big"))
            digest.update(part)
    return digest.hexdigest()
