"""A stand-in for a host and a role's settings, for the tests of the roles' rules and plans.

The host is what a Debian 13 host looks like once the uwsgi role ran with its defaults: Python 3.13,
its plugin python313, nginx's group without members, somaxconn 4096, 2 CPUs and 4 GiB of memory,
and a uWSGI that takes every option the role writes (plus a few more).
"""

from __future__ import annotations

import re
from pathlib import Path

import jinja2
import yaml
from ansible_collections.pyops.uwsgi.plugins.module_utils import app_plan, role_rules
from ansible_collections.pyops.uwsgi.plugins.plugin_utils import app_source, role_settings

ROOT = Path(__file__).resolve().parents[3]
HELLO = str(ROOT / "examples" / "apps" / "hello")

RECORD = {
    "version": "2.0.28-debian",
    "binary": "/usr/bin/uwsgi-core",
    "plugin_dir": "/usr/local/lib/uwsgi/plugins",
    "vassals_dir": "/etc/uwsgi/vassals",
    "run_dir": "/run/uwsgi",
    "emperor_service": "uwsgi-emperor",
    "default_python": "3.13",
    "interpreters": {"3.13": "/usr/bin/python3.13"},
    "plugins": {"3.13": "python313"},
    "pip_vassals_dirs": {},
    "pip_binaries": {},
    "pip_version": "2.0.31",
    "emperor_sandbox": {
        "CapabilityBoundingSet": "CAP_SETUID CAP_SETGID CAP_CHOWN CAP_FOWNER CAP_DAC_OVERRIDE",
        "NoNewPrivileges": "true",
        "ProtectSystem": "full",
        "ProtectHome": "true",
        "PrivateTmp": "true",
    },
}
# Options uWSGI 2.0.28 lists with the python and syslog plugins loaded, as far as the role and the
# tests use them (uwsgi --help lists some 900).
UWSGI_OPTIONS = sorted(
    """
    strict plugins-dir plugin plugins master need-app uid gid socket chown-socket chmod-socket
    listen vacuum master-fifo die-on-term virtualenv chdir pythonpath module processes threads
    enable-threads single-interpreter py-call-osafterfork harakiri max-requests
    max-worker-lifetime reload-on-rss worker-reload-mercy stats buffer-size auto-procname
    disable-logging log-4xx log-5xx log-master logger env procname-prefix-spaced lazy-apps
    thunder-lock route static-map http-socket envdir procname-append post-buffering
    max-vars response-headers-limit socket-timeout py-sys-executable limit-post
    """.split()  # noqa: SIM905 - a word list reads better than 44 quoted strings
)
HOST = {
    "somaxconn": 4096,
    "cpus": 2,
    "memory_mb": 4096,
    "group_members": [],
    "python3": "3.13",
    "pythons": ["3.13"],
    "uwsgi_options": UWSGI_OPTIONS,
}
PLATFORM = {"web_user": "www-data", "web_group": "www-data"}
_TEMPLATE = re.compile(r"\{\{ *([a-z_]+) *\}\}")
# "{{ name | default('value') }}": a variable of the playbooks the role's defaults may read.
_DEFAULTED = re.compile(r"\{\{ *([a-z_]+) *\| *default\('([^']*)'\) *\}\}")


def defaults(role):
    """ROLE's defaults/main.yml as a dict, values not yet rendered."""
    return yaml.safe_load((ROOT / "roles" / role / "defaults" / "main.yml").read_text())


def render(values):
    """VALUES with their "{{ name }}" references to one another rendered, as Ansible would."""
    rendered = dict(values)
    for name, value in rendered.items():
        if isinstance(value, str):
            defaulted = _DEFAULTED.sub(
                lambda found: str(rendered.get(found.group(1), found.group(2))), value
            )
            rendered[name] = _TEMPLATE.sub(lambda found: str(rendered[found.group(1)]), defaulted)
    return rendered


def settings(role, entry_point="main", **overrides):
    """(settings, errors): the role's defaults with OVERRIDES, checked against its argument spec."""
    options = role_settings.spec_options(role, entry_point)
    raw = render({**defaults(role), **overrides})
    raw = {key: value for key, value in raw.items() if key in options or key in overrides}
    return role_settings.validate(options, raw, role=role)


def app(source="stand-in", record=None, host=None, host_apps=1, release=None, **overrides):
    """The app role's make_plan result for app "hello" from examples/apps/hello, with OVERRIDES
    (of kept RELEASE, as a rollback plans it)."""
    overrides = {"app_name": "hello", "app_src_dir": HELLO, **overrides}
    checked, errors = settings("app", **overrides)
    if errors:
        return {"errors": errors}
    controller, _digest = app_source.controller_readings(checked, str(ROOT / "playbooks"))
    return app_plan.make_plan(
        checked,
        record=RECORD if record is None else record,
        host={**HOST, **(host or {})},
        controller=controller,
        platform={**PLATFORM, "host_apps": host_apps},
        source=source,
        release=release,
    )


SITE_TEMPLATES = ROOT / "roles" / "nginx" / "templates" / "etc" / "nginx" / "sites-available"


def site_file(settings, readings=None):
    """The nginx site file for the site SETTINGS, as the nginx role's template task writes it."""
    environment = jinja2.Environment(
        loader=jinja2.FileSystemLoader(str(SITE_TEMPLATES)),
        trim_blocks=True,
        keep_trailing_newline=True,
    )
    environment.filters["comment"] = lambda text: "# " + text
    return environment.get_template("site.conf.j2").render(
        ansible_managed="Ansible managed",
        __nginx_site={"settings": settings, "site": role_rules.nginx_site(settings, readings)},
    )


def directives(text):
    """The lines of TEXT (a site file) that say something, stripped."""
    return [line.strip() for line in text.splitlines() if line.strip()]
