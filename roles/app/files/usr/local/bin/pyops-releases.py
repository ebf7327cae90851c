# Written by pyops.uwsgi.app, edits are overwritten.
"""List each app's kept releases and the one serving: pyops-releases [--json] [APP ...].

The apps are those the role registered in /etc/pyops-releases (APP.json, naming the app's root).
A release is a directory under ROOT/releases; it is complete once its marker .pyops-release.json
exists (its build time is the marker's). ROOT/current names the one serving, and
ROOT/rolled-back.json a rollback in force. With --json, JSON: what the local fact pyops_releases
(/etc/ansible/facts.d/pyops_releases.fact) holds. Reads only; exits 2 naming an app that is not
registered.
"""

import datetime
import json
import os
import sys

REGISTRY = os.environ.get("PYOPS_RELEASES_REGISTRY", "/etc/pyops-releases")
MARKER = ".pyops-release.json"


def _json(path):
    try:
        with open(path, encoding="utf-8") as handle:
            found = json.load(handle)
    except (OSError, ValueError):
        return {}
    return found if isinstance(found, dict) else {}


def _when(seconds):
    return datetime.datetime.fromtimestamp(seconds, datetime.timezone.utc).strftime(
        "%Y-%m-%d %H:%M:%S UTC"
    )


def app_releases(root):
    """{"root", "serving", "releases": [...], "rolled_back": {...}} of the app at ROOT."""
    releases_dir = os.path.join(root, "releases")
    try:
        serving = os.path.basename(os.readlink(os.path.join(root, "current")))
    except OSError:
        serving = ""
    try:
        names = sorted(os.listdir(releases_dir))
    except OSError:
        names = []
    releases = []
    for name in names:
        marker = os.path.join(releases_dir, name, MARKER)
        try:
            built = os.stat(marker).st_mtime
        except OSError:
            continue
        record = _json(marker)
        releases.append(
            {
                "id": name,
                "built": _when(built),
                "built_epoch": built,
                "python": record.get("python", ""),
                "uwsgi_method": record.get("uwsgi_method", ""),
                "source": record.get("source", ""),
                "serving": name == serving,
            }
        )
    releases.sort(key=lambda item: (item["built_epoch"], item["id"]), reverse=True)
    return {
        "root": root,
        "serving": serving,
        "releases": releases,
        "rolled_back": _json(os.path.join(root, "rolled-back.json")),
    }


def registered():
    """{app: its root} of the registry."""
    apps = {}
    try:
        names = sorted(os.listdir(REGISTRY))
    except OSError:
        return apps
    for name in names:
        if name.endswith(".json"):
            entry = _json(os.path.join(REGISTRY, name))
            if entry.get("root"):
                apps[name[: -len(".json")]] = entry["root"]
    return apps


def text(name, found):
    lines = [f"{name} ({found['root']}): serving {found['serving'] or 'nothing'}"]
    rolled_back = found["rolled_back"]
    if rolled_back.get("release") and rolled_back["release"] == found["serving"]:
        replaced = ", ".join(rolled_back.get("replaced") or []) or "?"
        lines.append(f"  rolled back on {rolled_back.get('at', '?')}, replacing {replaced}")
    for item in found["releases"]:
        mark = "*" if item["serving"] else " "
        lines.append(
            f"  {mark} {item['id']}  built {item['built']}  Python {item['python'] or '?'}"
            f" ({item['uwsgi_method'] or '?'})  source {item['source'][:12] or '?'}"
        )
    if not found["releases"]:
        lines.append("  no release kept")
    return "\n".join(lines)


def main(argv):
    as_json = "--json" in argv
    wanted = [arg for arg in argv if arg != "--json"]
    apps = registered()
    unknown = [name for name in wanted if name not in apps]
    if unknown:
        sys.stderr.write(
            f"pyops-releases: no app {', '.join(unknown)} on this host;"
            f" apps: {', '.join(apps) or 'none'}\n"
        )
        return 2
    found = {name: app_releases(apps[name]) for name in (wanted or apps)}
    if as_json:
        json.dump(found, sys.stdout, indent=2, sort_keys=True)
        sys.stdout.write("\n")
    else:
        print("\n".join(text(name, item) for name, item in found.items()))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
