"""Make the Django app of scenario fleet on the controller, as its author would ship it.

    python make_apps.py BUILD_DIR

BUILD_DIR/shop: a Django project made by `django-admin startproject` (Django installed into
BUILD_DIR/django-venv), with an app "orders" of one model, its settings read from the environment
(PostgreSQL through the standard libpq variables) and a requirements.txt. The verifier makes
variants of it (a new migration, a broken one) with variant(). Made once.
"""

from __future__ import annotations

import importlib.util
import shutil
import sys
from pathlib import Path

# Scenario real_apps' maker (a module of the same name, so loaded by its path): its Django version,
# django-admin's virtualenv, run and variant.
_SPEC = importlib.util.spec_from_file_location(
    "real_apps_make_apps", Path(__file__).resolve().parents[1] / "real_apps" / "make_apps.py"
)
_REAL_APPS = importlib.util.module_from_spec(_SPEC)
_SPEC.loader.exec_module(_REAL_APPS)
DJANGO_VERSION = _REAL_APPS.DJANGO_VERSION
django_tools, run, variant = _REAL_APPS.django_tools, _REAL_APPS.run, _REAL_APPS.variant

PSYCOPG_VERSION = "3.3.9"

SETTINGS = """

# --- pyops.uwsgi scenario fleet: settings from the environment (app_env) ---
import os

SECRET_KEY = os.environ["DJANGO_SECRET_KEY"]
DEBUG = False
ALLOWED_HOSTS = os.environ["DJANGO_ALLOWED_HOSTS"].split(",")
INSTALLED_APPS += ["orders"]
# One PostgreSQL database for every app host; libpq reads PGHOST, PGUSER, PGPASSWORD.
DATABASES = {
    "default": {
        "ENGINE": "django.db.backends.postgresql",
        "NAME": os.environ["PGDATABASE"],
        "CONN_MAX_AGE": 60,
    }
}
"""
URLS = """

# --- pyops.uwsgi scenario fleet ---
from orders.views import orders

urlpatterns += [path("orders/", orders)]
"""
MODELS = """from django.db import models


class Order(models.Model):
    host = models.CharField(max_length=200)
"""
VIEWS = """import socket

from django.http import JsonResponse
from django.views.decorators.csrf import csrf_exempt

from .models import Order


@csrf_exempt
def orders(request):
    if request.method == "POST":
        order = Order.objects.create(host=socket.gethostname())
        return JsonResponse({"id": order.id, "host": order.host}, status=201)
    return JsonResponse({"count": Order.objects.count(), "host": socket.gethostname()})
"""


def shop(build):
    """A Django project from startproject, settings from the environment, with app "orders"."""
    dest = build / "shop"
    if dest.is_dir():
        return dest
    tools = django_tools(build)
    staging = build / "shop.tmp"
    shutil.rmtree(staging, ignore_errors=True)
    staging.mkdir()
    run(tools / "bin" / "django-admin", "startproject", "shop", staging)
    run(tools / "bin" / "django-admin", "startapp", "orders", cwd=staging)
    (staging / "orders" / "models.py").write_text(MODELS)
    (staging / "orders" / "views.py").write_text(VIEWS)
    with (staging / "shop" / "settings.py").open("a") as settings:
        settings.write(SETTINGS)
    with (staging / "shop" / "urls.py").open("a") as urls:
        urls.write(URLS)
    # The initial migration, as its author would commit it (made without a database).
    run(tools / "bin" / "python", "-c", MAKEMIGRATIONS, cwd=staging)
    (staging / "requirements.txt").write_text(
        f"django=={DJANGO_VERSION}\npsycopg[binary]=={PSYCOPG_VERSION}\n"
    )
    staging.rename(dest)
    return dest


# makemigrations needs settings that load; no database is opened.
MAKEMIGRATIONS = """
import os, sys
os.environ.update(DJANGO_SETTINGS_MODULE="shop.settings", DJANGO_SECRET_KEY="x",
                  DJANGO_ALLOWED_HOSTS="x", PGDATABASE="x")
sys.path.insert(0, ".")
import django
from django.conf import settings
settings.DATABASES["default"].update(ENGINE="django.db.backends.sqlite3", NAME=":memory:")
django.setup()
from django.core.management import call_command
call_command("makemigrations", "orders", verbosity=0)
"""


if __name__ == "__main__":
    where = Path(sys.argv[1])
    where.mkdir(parents=True, exist_ok=True)
    print(shop(where))
