"""Make the apps of scenario real_apps on the controller, as their authors ship them.

    python make_apps.py BUILD_DIR

- BUILD_DIR/flaskr: Flask's tutorial app (examples/tutorial of the Flask sdist, fetched with pip),
  unchanged.
- BUILD_DIR/mysite: a Django project made by `django-admin startproject` (Django installed into
  BUILD_DIR/django-venv), its settings read from the environment, plus the app "jobs" of this
  directory (a job queue of files, its worker and a periodic job) and a requirements.txt.

Each is made once; the verifier makes variants of them with variant(). No registry's address is
written anywhere: pip's own configuration decides where packages come from.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import tarfile
import venv
from pathlib import Path

FLASK_VERSION = "3.1.3"
DJANGO_VERSION = "5.2.19"
HERE = Path(__file__).resolve().parent

SETTINGS = """

# --- pyops.uwsgi scenario real_apps: settings from the environment (app_env) ---
import os

SECRET_KEY = os.environ["DJANGO_SECRET_KEY"]
DEBUG = os.environ.get("DJANGO_DEBUG", "") == "1"
ALLOWED_HOSTS = os.environ["DJANGO_ALLOWED_HOSTS"].split(",")
INSTALLED_APPS += ["jobs"]
# Collected into the release by a build command; nginx serves it (app_static_dir).
STATIC_ROOT = BASE_DIR / "staticfiles"
# Shared across releases (app_shared_paths): uploads, served by nginx, and the database and queue.
MEDIA_URL = "/media/"
MEDIA_ROOT = BASE_DIR / "media"
DATABASES["default"]["NAME"] = BASE_DIR / "var" / "db.sqlite3"
QUEUE_DIR = BASE_DIR / "var" / "queue"
DONE_DIR = BASE_DIR / "var" / "done"
"""
URLS = """

# --- pyops.uwsgi scenario real_apps ---
from django.urls import include

urlpatterns += [path("jobs/", include("jobs.urls"))]
"""


def run(*argv, cwd=None):
    subprocess.run([str(arg) for arg in argv], check=True, cwd=cwd)


def flaskr(build):
    """Flask's tutorial app, from the Flask sdist, as it is."""
    dest = build / "flaskr"
    if dest.is_dir():
        return dest
    dist = build / "dist"
    sdist = dist / f"flask-{FLASK_VERSION}.tar.gz"
    if not sdist.is_file():
        run(sys.executable, "-m", "pip", "download", "-q", "--no-binary", ":all:", "--no-deps",
            "--dest", dist, f"flask=={FLASK_VERSION}")  # fmt: skip
    prefix = f"flask-{FLASK_VERSION}/examples/tutorial/"
    staging = build / "flaskr.tmp"
    shutil.rmtree(staging, ignore_errors=True)
    with tarfile.open(sdist) as archive:
        for member in archive.getmembers():
            if member.name.startswith(prefix) and member.isfile():
                target = staging / member.name[len(prefix) :]
                target.parent.mkdir(parents=True, exist_ok=True)
                target.write_bytes(archive.extractfile(member).read())
    staging.rename(dest)
    return dest


def django_tools(build):
    """BUILD_DIR/django-venv, a virtualenv with Django for django-admin (made once)."""
    tools = build / "django-venv"
    if not (tools / "bin" / "django-admin").exists():
        venv.EnvBuilder(with_pip=True).create(tools)
        run(tools / "bin" / "python", "-m", "pip", "install", "-q", f"django=={DJANGO_VERSION}")
    return tools


def mysite(build):
    """A Django project from startproject, settings from the environment, with app "jobs"."""
    dest = build / "mysite"
    if dest.is_dir():
        return dest
    tools = django_tools(build)
    staging = build / "mysite.tmp"
    shutil.rmtree(staging, ignore_errors=True)
    staging.mkdir()
    run(tools / "bin" / "django-admin", "startproject", "mysite", staging)
    with (staging / "mysite" / "settings.py").open("a") as settings:
        settings.write(SETTINGS)
    with (staging / "mysite" / "urls.py").open("a") as urls:
        urls.write(URLS)
    shutil.copytree(HERE / "mysite" / "jobs", staging / "jobs")
    (staging / "requirements.txt").write_text(f"django=={DJANGO_VERSION}\n")
    staging.rename(dest)
    return dest


def variant(source, dest, files):
    """A copy of the app SOURCE at DEST with FILES ({relative path: text}) written over it."""
    shutil.rmtree(dest, ignore_errors=True)
    shutil.copytree(source, dest)
    for relative, text in files.items():
        path = Path(dest) / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    return Path(dest)


if __name__ == "__main__":
    where = Path(sys.argv[1])
    where.mkdir(parents=True, exist_ok=True)
    print(flaskr(where))
    print(mysite(where))
