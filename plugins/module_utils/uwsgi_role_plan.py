# Copyright: pyops.uwsgi contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The plan of the pyops.uwsgi.uwsgi role: every value its tasks read that is neither a setting nor
a constant of ``vars/``, decided in one place.

``make_plan(settings, platform, run_tags=...)`` takes the role's settings (its ``uwsgi_*``
variables, checked against its argument spec), this platform's constants
(``vars/<distribution>.yml`` and ``vars/main.yml``, named as in ``PLATFORM``) and the tags of the
run. It returns what the role decides before it reads the host: whether the run only checks, its
apt steps, the packages it installs, the Emperors, and the request for the one read of the host
(``host_request``, the arguments of ``pyops.uwsgi.uwsgi_info``). Given that read's answer
(``host``), it adds what depends on the host: whether apt must install, the plugins to build,
whether each Emperor must be started, and the record for the app role.

Pure: no I/O. The action ``pyops.uwsgi.role_plan`` gathers the settings and calls this.
"""

from __future__ import annotations

import posixpath
import typing as t

# The platform's constants the plan reads: the role's variable -> the key of PLATFORM.
PLATFORM = {
    "__uwsgi_packages": "packages",
    "__uwsgi_build_packages": "build_packages",
    "__uwsgi_python_packages": "python_packages",
    "__uwsgi_binary": "binary",
    "__uwsgi_fact_file": "fact_file",
    "__uwsgi_config_dir": "config_dir",
    "__uwsgi_emperor_sandbox": "emperor_sandbox",
}
# The tags of a run that checks only (--tags validate): the role adds no apt source then.
CHECK_TAGS = frozenset({"validate", "always"})
# Where systemd takes the units the role writes.
UNIT_DIR = "/etc/systemd/system"
# Python served when the settings name none: the host's python3, installed by the generic
# package names (which depend on the versioned ones), so known before the host is read.
HOST_PYTHON_PACKAGE_VERSION = "3"


def settings_read(_with_host: bool) -> None:
    """The settings the plan reads: all of them (None), checked by the role's first step under any
    tag."""
    return None


def checks_only(run_tags: t.Iterable[str]) -> bool:
    """Whether a run with RUN_TAGS (ansible_run_tags) only checks: --tags validate alone."""
    return not set(run_tags) - CHECK_TAGS


def _unique(items: t.Iterable[t.Any]) -> list[t.Any]:
    """ITEMS in their order, each once."""
    return list(dict.fromkeys(items))


def _xy(version: str) -> str:
    """3.13 -> 313, as plugins, services and directories are named."""
    return str(version).replace(".", "")


def python_packages(versions: t.Iterable[str], names: t.Iterable[str]) -> list[str]:
    """The packages of each Python of VERSIONS, NAMES having X.Y for the version (pythonX.Y-dev)."""
    names = list(names)
    return [name.replace("X.Y", str(version)) for version in versions for name in names]


def emperor_options(settings: dict, vassals_dir: str) -> dict:
    """The options of an Emperor watching VASSALS_DIR: uwsgi_emperor_options over these."""
    return {
        "strict": True,
        "emperor-freq": settings["uwsgi_emperor_scan_interval"],
        # Before uWSGI 2.1, SIGTERM means "brutal reload"; systemd stops with SIGQUIT, and this
        # makes a stray SIGTERM stop rather than reload.
        "die-on-term": True,
        # A vassal whose file goes (an app removed, or moved to a unit of its own) and every
        # vassal when the Emperor stops: each worker finishes its request first (uWSGI 2.0.19+).
        "emperor-graceful-shutdown": True,
        "emperor": vassals_dir,
        **settings["uwsgi_emperor_options"],
    }


def _emperor(settings, *, service, binary, config, vassals_dir, python=None):
    return {
        "service": service,
        "binary": binary,
        "config": config,
        "unit": f"{UNIT_DIR}/{service}.service",
        "vassals_dir": vassals_dir,
        # What must be there before the Emperor's files: its configuration's and vassals' dirs.
        "directories": [posixpath.dirname(config), vassals_dir],
        "options": emperor_options(settings, vassals_dir),
        # The pip-built uWSGI's Python, whose build's change restarts this Emperor.
        "python": python,
    }


def emperors(settings: dict, platform: dict) -> tuple[dict, list[dict]]:
    """(the distribution's Emperor, one Emperor per pip-built uWSGI)."""
    service, vassals_dir = settings["uwsgi_emperor_service"], settings["uwsgi_vassals_dir"]
    config_dir, pip_root = platform["config_dir"], settings["uwsgi_pip_root"]
    package = _emperor(
        settings,
        service=service,
        binary=platform["binary"],
        config=f"{config_dir}/emperor.ini",
        vassals_dir=vassals_dir,
    )
    pip = [
        _emperor(
            settings,
            service=f"{service}-pip{_xy(version)}",
            binary=f"{pip_root}/{version}/bin/uwsgi",
            config=f"{config_dir}/emperor-pip{_xy(version)}.ini",
            vassals_dir=f"{vassals_dir}-pip{_xy(version)}",
            python=version,
        )
        for version in settings["uwsgi_pip_python_versions"]
    ]
    return package, pip


def install_packages(settings: dict, platform: dict) -> list[str]:
    """Every package the role installs: uWSGI, its build tools, uwsgi_extra_packages, and each
    Python served with its -dev and -venv (the host's python3 by the generic names)."""
    pythons = _unique(
        ([] if settings["uwsgi_python_versions"] else [HOST_PYTHON_PACKAGE_VERSION])
        + list(settings["uwsgi_python_versions"])
        + list(settings["uwsgi_pip_python_versions"])
    )
    return (
        list(platform["packages"])
        + list(platform["build_packages"])
        + list(settings["uwsgi_extra_packages"])
        + python_packages(pythons, platform["python_packages"])
    )


def host_request(settings: dict, platform: dict, package: dict, pip: list[dict]) -> dict:
    """The arguments of the one pyops.uwsgi.uwsgi_info read of the host: the packages of each
    Python asked for by version (offered by apt?), the packages the role installs (installed?),
    the distribution's uWSGI, what the role writes (each write runs only when it differs) and the
    Emperors' services."""
    asked = _unique([*settings["uwsgi_python_versions"], *settings["uwsgi_pip_python_versions"]])
    tmpfiles = tmpfiles_path(settings)
    files = [
        tmpfiles,
        SYSTEM_SLICE_DROP_IN,
        platform["fact_file"],
        package["config"],
        package["unit"],
        *(emperor["config"] for emperor in pip),
        *(emperor["unit"] for emperor in pip),
    ]
    directories = [
        settings["uwsgi_run_dir"],
        posixpath.dirname(platform["fact_file"]),
        posixpath.dirname(SYSTEM_SLICE_DROP_IN),
        platform["config_dir"],
        settings["uwsgi_vassals_dir"],
        *(emperor["vassals_dir"] for emperor in pip),
    ]
    return {
        "packages": python_packages(asked, platform["python_packages"]),
        "installed": install_packages(settings, platform),
        "uwsgi": platform["binary"],
        "texts": files,
        "paths": files + directories,
        "services": [package["service"], *(emperor["service"] for emperor in pip)],
    }


# The drop-in that weights system.slice (uwsgi_system_slice_cpu_weight).
SYSTEM_SLICE_DROP_IN = "/etc/systemd/system/system.slice.d/50-pyops-uwsgi.conf"


def tmpfiles_path(settings: dict) -> str:
    """The tmpfiles.d entry that recreates uwsgi_run_dir at boot."""
    return f"/etc/tmpfiles.d/{settings['uwsgi_emperor_service']}.conf"


def lacks_packages(installed: dict | None) -> bool:
    """Whether dpkg lacks one of the packages uwsgi_info was asked about (None: no dpkg-query)."""
    return installed is None or not all(installed.values())


def needs_start(services: dict | None, service: str) -> bool:
    """Whether SERVICE, as uwsgi_info read it (None: no systemctl), is not both running and
    enabled."""
    found = (services or {}).get(service) or {}
    return found.get("ActiveState") != "active" or found.get("UnitFileState") != "enabled"


def plugin_pythons(settings: dict, host_python3: str | None) -> list:
    """The versions served with plugins: the list given, or the host's python3."""
    return list(settings["uwsgi_python_versions"]) or [host_python3]


def record(settings: dict, platform: dict, host: dict) -> dict:
    """What the role records for the app role (ansible_local.pyops_uwsgi). Its version is the
    host's uWSGI as read, None when it was not installed then (the role reads it after installing).
    """
    served = plugin_pythons(settings, host.get("python3"))
    pip_versions = list(settings["uwsgi_pip_python_versions"])
    installed = _unique(served + pip_versions)
    return {
        "version": host.get("uwsgi_version"),
        "binary": platform["binary"],
        "plugin_dir": settings["uwsgi_plugin_dir"],
        "vassals_dir": settings["uwsgi_vassals_dir"],
        "run_dir": settings["uwsgi_run_dir"],
        "emperor_service": settings["uwsgi_emperor_service"],
        "default_python": host.get("python3"),
        # Python version -> interpreter, for every Python installed.
        "interpreters": {version: f"/usr/bin/python{version}" for version in installed},
        # Python version -> plugin name, for the versions the distribution's Emperor serves.
        "plugins": {version: f"python{_xy(version)}" for version in served},
        # Python version -> vassal directory of its pip-built uWSGI's Emperor, and that uWSGI.
        "pip_vassals_dirs": {
            version: f"{settings['uwsgi_vassals_dir']}-pip{_xy(version)}"
            for version in pip_versions
        },
        "pip_binaries": {
            version: f"{settings['uwsgi_pip_root']}/{version}/bin/uwsgi" for version in pip_versions
        },
        "pip_version": settings["uwsgi_pip_version"],
        # The Emperors' sandbox (systemd settings of their units), for the canary of each vassal.
        "emperor_sandbox": platform["emperor_sandbox"],
    }


def make_plan(
    settings: dict, platform: dict, *, run_tags: t.Iterable[str], host: dict | None = None
) -> dict:
    """The role's plan; with HOST (pyops.uwsgi.uwsgi_info's answer to host_request), complete."""
    only_checks = checks_only(run_tags)
    package, pip = emperors(settings, platform)
    repository = settings["uwsgi_python_apt_repository"]
    plan = {
        "checks_only": only_checks,
        # With --tags validate alone, the extra apt source is not added: which Pythons it offers is
        # then left to the deploy, which adds it and checks again.
        "add_apt_repository": repository != "" and not only_checks,
        # Only for the Pythons asked for by version, which apt is asked about next.
        "refresh_package_index": bool(
            [*settings["uwsgi_python_versions"], *settings["uwsgi_pip_python_versions"]]
        ),
        "install_packages": install_packages(settings, platform),
        "host_request": host_request(settings, platform, package, pip),
        "tmpfiles": tmpfiles_path(settings),
        "system_slice_drop_in": SYSTEM_SLICE_DROP_IN,
        # 0: system.slice left as it is (and the role's drop-in removed).
        "system_slice_cpu_weight": settings["uwsgi_system_slice_cpu_weight"],
        "fact_dir": posixpath.dirname(platform["fact_file"]),
        "emperor": package,
        "pip_emperors": pip,
    }
    if host is None:
        return plan
    for emperor in (package, *pip):
        emperor["start"] = needs_start(host.get("services"), emperor["service"])
    plan.update(
        install=lacks_packages(host.get("installed")),
        # What apt offers, for the check of each Python asked for; nothing when the source that
        # would offer them was not added (--tags validate alone).
        offered_packages={} if only_checks and repository != "" else host.get("packages"),
        # A plugin for each, named and built for the interpreter the record gives.
        plugin_pythons=plugin_pythons(settings, host.get("python3")),
        record=record(settings, platform, host),
    )
    return plan
