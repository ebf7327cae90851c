# Copyright: pyops.uwsgi contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Private (see __init__.py): the plan's shape, field by field.

``Plan`` and the TypedDicts it is made of are the one description of what the action
pyops.uwsgi.app_plan returns: each field has a one-line docstring, from which the unit tests
check the action's RETURN documentation (plugins/modules/app_plan.py), that every field the app
role's tasks read exists, and that every field has a reader. ``render`` and ``assemble`` make a
plan of that shape from the app's pieces.

Pure: no I/O.
"""

from __future__ import annotations

import typing as t

# systemd [Service] settings by name (module_utils/sandbox.py), a value or a list of values each.
Settings = dict[str, t.Any]


# --- The plan's shape ---------------------------------------------------------------------------


class Python(t.TypedDict):
    version: str
    """The app's Python as X.Y (app_python_version, else the uwsgi role's default)."""
    interpreter: str
    """The interpreter the release's virtualenv is made with."""


class Source(t.TypedDict):
    src_dir: str
    """app_src_dir as an absolute path on the controller; empty for a git app."""
    git_repo: str
    """app_git_repo; empty for code from the controller."""
    git_version: str
    """app_git_version: the branch, tag or commit checked out."""
    git_dir: str
    """The bare clone on the host that releases are exported from."""
    exclude: list[str]
    """Names and patterns left out of the release's code (app_src_exclude)."""


class ReleaseRecord(t.TypedDict):
    release: str
    """The release's name."""
    source: str
    """The digest of the code, or the git commit."""
    python: str
    """The Python the release was built for."""
    uwsgi_method: str
    """app_uwsgi_method the release was built for."""


class Release(t.TypedDict):
    id: str
    """The release's name, from its code, Python and packages; empty without a source."""
    dir: str
    """The release's directory (releases/ID, or releases/new without a source)."""
    code: str
    """The release's code directory."""
    venv: str
    """The release's virtualenv."""
    marker: str
    """The file written last into a built release: it is complete."""
    record: ReleaseRecord
    """What the marker file says of the release, as JSON."""
    requirements: str
    """The release's requirements file; empty without app_requirements_file."""
    pip_packages: list[str]
    """app_pip_packages, installed after the requirements."""
    pip_environment: dict[str, str]
    """pip's settings as environment variables (PIP_INDEX_URL, ...)."""
    keep: int
    """How many releases are kept, the one serving included (app_keep_releases)."""
    deploy_rolled_back: bool
    """app_deploy_rolled_back: a converge may deploy a release a rollback replaced."""


class Paths(t.TypedDict):
    root: str
    """app_root."""
    releases: str
    """The directory of the releases."""
    current: str
    """The link to the release serving."""
    socket: str
    """The app's unix socket (app_socket, else in the uwsgi role's runtime directory)."""
    nginx_socket: str
    """The link nginx connects through: to the app's socket, or the canary's during a reload."""
    config: str
    """The app's uWSGI configuration: the vassal in the Emperor's directory, or its own ini."""
    emperor_vassal: str
    """Where the app's vassal is in the Emperor's directory (removed under systemd)."""
    service_ini: str
    """Where the app's own ini is under systemd (removed under the Emperor)."""
    service_ini_dir: str
    """The directory of the apps' own ini files."""
    tmpfiles: str
    """The tmpfiles.d entry of the app's runtime directories."""
    rolled_back: str
    """The record of a rollback in force (JSON), removed by the next deploy."""
    releases_registry: str
    """The file naming the app's root for pyops-releases and the local fact pyops_releases."""


class Directory(t.TypedDict):
    path: str
    """The directory."""
    owner: str
    """Its owner."""
    group: str
    """Its group."""
    mode: str
    """Its mode, as four octal digits."""


class Envdir(t.TypedDict):
    root: str
    """The directory of the app's envdirs."""
    path: str
    """This environment's envdir, named after its content; empty when env lines carry all."""
    files: dict[str, str]
    """The envdir's files: the content of each app_env value an env line cannot carry."""


class Vassal(t.TypedDict):
    generation: str
    """The digest of the options, in every process title: which configuration a process runs."""
    text: str
    """The ini text of the app's uWSGI configuration."""


class Canary(t.TypedDict):
    argv: list[str]
    """systemd-run's command line that starts the canary under the serving unit's sandbox."""
    ini: str
    """The canary's ini text: the vassal's, on the canary's socket."""
    socket: str
    """The canary's socket, beside the app's."""
    unit: str
    """The canary's transient unit."""


class StaticBridge(t.TypedDict):
    time: int
    """Seconds the previous release's static files are served after a switch; 0: never."""
    link: str
    """The link to the previous release, beside current, that nginx looks its files up through."""
    unit: str
    """The transient timer (and its service) that removes the link when the time is up."""
    argv: list[str]
    """systemd-run's command line that starts that timer; empty without a bridge."""


class Unit(t.TypedDict):
    name: str
    """The app's unit, uwsgi-app-NAME."""
    dir: str
    """Where unit files go."""
    service: str
    """The text of the app's service unit (written under app_supervisor systemd)."""
    socket: str
    """The text of its socket unit; empty without app_socket_activation."""


class Location(t.TypedDict):
    url: str
    """The URL prefix (app_shared_paths url)."""
    dir: str
    """The shared directory served under it."""
    internal: bool
    """app_shared_paths internal: served to the app's X-Accel-Redirect only."""


class _SiteTls(t.TypedDict, total=False):
    nginx_site_tls: str
    """app_tls (only where app_tls is not none, as the keys below)."""
    nginx_site_tls_listen: list[str]
    """app_tls_listen."""
    nginx_site_tls_certificate: str
    """app_tls_certificate."""
    nginx_site_tls_key: str
    """app_tls_key."""
    nginx_site_tls_remote_src: bool
    """app_tls_remote_src."""
    nginx_site_tls_hsts_max_age: int
    """app_tls_hsts_max_age."""
    nginx_site_tls_hsts_include_subdomains: bool
    """app_tls_hsts_include_subdomains."""
    nginx_site_tls_hsts_preload: bool
    """app_tls_hsts_preload."""


class NginxSite(_SiteTls):
    nginx_site_name: str
    """The site's name: the app's."""
    nginx_site_listen: list[str]
    """app_http_listen."""
    nginx_site_server_names: list[str]
    """app_server_names."""
    nginx_site_uwsgi_pass: str
    """unix: and nginx's link to the socket serving."""
    nginx_site_uwsgi_read_timeout: int
    """app_nginx_read_timeout, else app_harakiri + 5."""
    nginx_site_uwsgi_buffer_size: str
    """app_response_headers_limit: the bytes of response headers nginx takes."""
    nginx_site_max_conns: int
    """app_listen: requests passed to the app at once, its listen queue."""
    nginx_site_static_url: str
    """app_static_url."""
    nginx_site_static_dir: str
    """app_static_dir in the current release's code; empty without app_static_url."""
    nginx_site_static_bridge_dir: str
    """app_static_dir in the previous release's code; empty without a static bridge."""
    nginx_site_static_bridge_pattern: str
    """app_static_bridge_pattern."""
    nginx_site_client_max_body_size: str
    """app_client_max_body_size."""
    nginx_site_trusted_proxies: list[str]
    """app_trusted_proxies."""
    nginx_site_maintenance: bool
    """app_maintenance."""
    nginx_site_maintenance_allowed: list[str]
    """app_maintenance_allowed."""
    nginx_site_maintenance_page: str
    """app_maintenance_page, absolute on the controller; empty for the nginx role's page."""
    nginx_site_maintenance_retry_after: int
    """app_maintenance_retry_after."""
    nginx_site_health_path: str
    """app_health_path without its query, which answers everyone during maintenance."""
    nginx_site_locations: list[Location]
    """The shared directories served as they are (app_shared_paths with a url)."""


class _HealthTls(t.TypedDict, total=False):
    scheme: str
    """https (only where app_tls is not none, as the keys below)."""
    address: str
    """The address the HTTPS check connects to."""
    port: int
    """The port the HTTPS check connects to."""
    ca_file: str
    """The CA bundle the HTTPS check trusts (app_tls_ca_file, or the self-signed certificate)."""


class Health(_HealthTls):
    path: str
    """app_health_path."""
    timeout: int
    """app_health_timeout: seconds a start and the health check may take."""
    host: str
    """The Host (and TLS server name) asked for: app_health_host, else one the site answers."""
    url: str
    """The URL the check asks for, through nginx."""
    status: list[int]
    """The statuses that pass (app_health_status, else any 2xx or 3xx)."""
    drain_timeout: int
    """Seconds a probe may wait behind an instance's requests before it reloads or stops."""


class Diagnose(t.TypedDict):
    name: str
    """The app's name."""
    wsgi_module: str
    """app_wsgi_module."""
    wsgi_callable: str
    """app_wsgi_callable."""
    python_version: str
    """The app's Python."""
    requirements_file: str
    """app_requirements_file."""
    socket: str
    """The app's socket."""
    nginx_socket: str
    """nginx's link to the socket serving."""
    web_user: str
    """nginx's worker user."""
    plugin: str
    """The uWSGI plugin of the app's Python; empty for pip-built uWSGI."""
    root: str
    """app_root."""
    unit: str
    """The unit that serves the app: the Emperor's or its own."""
    health_path: str
    """app_health_path."""
    health_host: str
    """The Host the health check asks for."""
    health_status: list[int]
    """The statuses the health check takes."""
    lazy_apps: str
    """app_lazy_apps, as text."""


class Environment(t.TypedDict):
    dir: str
    """The directory of the apps' EnvironmentFiles."""
    file: str
    """This environment's EnvironmentFile, named after its content."""
    pattern: str
    """The names of the app's EnvironmentFiles, old ones included, as a glob."""
    text: str
    """The EnvironmentFile's text: app_env byte for byte."""


class SharedPath(t.TypedDict):
    path: str
    """The path in the code (app_shared_paths path)."""
    link: str
    """The link in the release's code."""
    parent: str
    """The directory the link is in."""
    target: str
    """The shared directory under app_state_dir/shared."""


class Shared(t.TypedDict):
    paths: list[SharedPath]
    """The directories of app_shared_paths, linked into each release's code."""


class ConfigFile(t.TypedDict):
    dest: str
    """Where the app reads it, relative to the code (app_config_files dest)."""
    path: str
    """The file written, in the directory of this content."""
    link: str
    """The link the app reads it through: in the release's code, or in a shared directory."""
    target: str
    """The link's target, through the link the deploy switches."""
    content: str
    """Its text (never shown: the tasks writing it are no_log)."""
    mode: str
    """Its mode."""
    owner: str
    """Its owner."""
    group: str
    """Its group."""


class Config(t.TypedDict):
    root: str
    """The directory of the configuration files' directories."""
    current: str
    """The link to the directory in use, switched by a deploy and put back by a failed one."""
    dir: str
    """This content's directory, named after its digest; empty without app_config_files."""
    directories: list[Directory]
    """The directories to create for the files, parents first."""
    files: list[ConfigFile]
    """The files of app_config_files."""
    link_parents: list[Directory]
    """Directories to create for links where the code or a shared directory has none."""


class Command(t.TypedDict):
    command: list[str]
    """The program and its arguments."""
    creates: str
    """A path in the code whose existence skips the command; empty for none."""


class EntryPoint(t.TypedDict):
    python: str
    """The release's Python."""
    module: str
    """app_wsgi_module."""
    callable: str
    """app_wsgi_callable."""
    sandbox: Settings
    """The sandbox the import runs in."""


class PhaseCommands(t.TypedDict):
    commands: list[Command]
    """The commands, in order."""
    sandbox: Settings
    """The sandbox they run in."""


class ReleaseCommands(t.TypedDict):
    commands: list[Command]
    """The commands every host runs (scope every_host), in order, after the once-scoped ones."""
    once: list[Command]
    """The commands one host of the play runs (scope once), in order, before any host switches."""
    sandbox: Settings
    """The sandbox they run in."""


class Phases(t.TypedDict):
    chdir: str
    """Where the commands run: the release's code."""
    env: dict[str, str]
    """The commands' environment: the release's virtualenv first on PATH."""
    environment_file: str
    """The EnvironmentFile of app_env the commands read."""
    timeout: int
    """app_command_timeout."""
    project_install: bool
    """app_project_install: pip installs the code itself."""
    entry_point: EntryPoint
    """The import of the entry point in the built release."""
    build: PhaseCommands
    """app_build_commands, which may write the code."""
    release: ReleaseCommands
    """app_release_commands, run before the release serves."""
    post_release: PhaseCommands
    """app_post_release_commands, run on one host once every host serves the release."""


class UnitFile(t.TypedDict):
    name: str
    """The unit file's name."""
    text: str
    """Its text."""


class Workers(t.TypedDict):
    dir: str
    """Where their unit files go."""
    units: list[UnitFile]
    """The unit files of app_workers and app_jobs."""
    instances: list[str]
    """The worker instances to run."""
    timers: list[str]
    """The jobs' timers to run."""
    patterns: list[str]
    """Globs every unit of the app's workers and jobs matches, those no longer wanted too."""
    wants: list[str]
    """The .wants directories their instances and timers are enabled in."""


class Run(t.TypedDict):
    command: str
    """pyops-run, which runs a command as the app (module_utils/run_command.py)."""
    dir: str
    """The directory of the apps' records for pyops-run (root's alone)."""
    file: str
    """This app's record for pyops-run."""
    text: str
    """The record as JSON: releases, sandbox, EnvironmentFile, the names --env may not set."""


class RolledBack(t.TypedDict):
    release: str
    """The release rolled back to; empty without a rollback in force."""
    replaced: list[str]
    """The releases the rollbacks replaced, latest last."""
    at: str
    """When (UTC)."""


class State(t.TypedDict):
    release_built: bool
    """The release planned is built (its marker exists)."""
    current_release: str
    """The release serving now; empty when none is deployed."""
    deployed_text: str
    """The configuration serving now, put back if a deploy fails; empty when none."""
    deploying: bool
    """The configuration, the release or a unit differs, or a deploy was cut short."""
    canary_left: bool
    """A canary's socket exists outside a deploy: one was cut short."""
    group_differs: bool
    """The app's group does not exist."""
    user_differs: bool
    """The app's user does not exist or differs from the plan."""
    directories_differing: list[Directory]
    """The items of directories the host does not have as planned."""
    tmpfiles_differs: bool
    """The tmpfiles.d entry differs."""
    nginx_socket_differs: bool
    """nginx's link does not point at the app's socket."""
    environment_dir_differs: bool
    """The directory of the EnvironmentFiles differs."""
    environment_file_differs: bool
    """The EnvironmentFile differs."""
    environment_file_new: bool
    """The EnvironmentFile is written by this run and read by no unit yet."""
    envdir_new: bool
    """The envdir is written by this run."""
    releases_to_remove: list[str]
    """Releases beyond app_keep_releases, never the one planned nor one a static bridge links."""
    envdirs_to_remove: list[str]
    """Envdirs other than this environment's."""
    environment_files_to_remove: list[str]
    """EnvironmentFiles other than this environment's."""
    units_to_disable: list[str]
    """Worker instances and job timers enabled but no longer wanted."""
    unit_files_to_remove: list[str]
    """Unit files of workers and jobs no longer wanted."""
    config_current: str
    """The directory the configuration files' link points at now; empty when none."""
    config_differs: bool
    """That link does not point at this content's directory."""
    config_dirs_to_remove: list[str]
    """Directories of configuration files other than this content's."""
    releases: list[str]
    """The names of the directories under releases/, newest first."""
    rolled_back: RolledBack
    """The rollback in force, as paths.rolled_back records it."""
    held: bool
    """A rollback is in force and the plan's release is one it replaced: no deploy."""
    held_message: str
    """What a held converge says; empty when it is not held."""
    nginx_error_log_size: int
    """nginx's error log's size: where a failed deploy's lines begin."""
    account_differs: bool
    """The group, the user, the tmpfiles entry, nginx's link or a directory differs."""
    environment_differs: bool
    """The EnvironmentFile or its directory differs."""
    workers_due: bool
    """Workers or jobs are wanted, or some are to go."""
    run_record_differs: bool
    """pyops-run's record of the app differs (or its directory)."""
    bridge_due: bool
    """A switch from a release serving now to another, with a static bridge: link it."""
    bridge_left: bool
    """The link to a previous release is there, with no static bridge wanted."""
    cleanup_due: bool
    """Releases, envdirs, EnvironmentFiles, configuration files or a bridge's link are to go."""


class _PlanState(t.TypedDict, total=False):
    state: State
    """With read_state, the app on the host compared with the plan (app_state.compare)."""


class Plan(_PlanState):
    name: str
    """The app's name (app_name): of its user, units, files and socket."""
    user: str
    """The user the app runs as (app_user, else app_name)."""
    group: str
    """The app's group (app_group, else its user's name)."""
    shell: str
    """The user's shell: it logs in nowhere."""
    comment: str
    """The user's GECOS, which marks the account as the app's for later runs."""
    web_user: str
    """nginx's worker user, which must be able to open the app's socket."""
    supervisor: str
    """app_supervisor: emperor (a vassal of the Emperor) or systemd (a unit of its own)."""
    socket_activation: bool
    """app_socket_activation: systemd holds the app's socket."""
    python: Python
    """The app's Python."""
    uwsgi_binary: str
    """The uWSGI binary that serves the app (the distribution's, or pip-built for its Python)."""
    source: Source
    """Where the release's code comes from."""
    release: Release
    """The release: its name, directories, packages and how many are kept."""
    paths: Paths
    """The app's paths on the host."""
    directories: list[Directory]
    """The directories the role creates, in order."""
    envdir: Envdir
    """What an env line cannot carry: files of uWSGI's envdir, one per variable."""
    tmpfiles: str
    """The tmpfiles.d entry: runtime directories, nginx's link, a static bridge's end at boot."""
    vassal: Vassal
    """The app's uWSGI configuration."""
    canary: Canary
    """The new release on a socket of its own, serving while the app reloads."""
    unit: Unit
    """The app's own systemd units (app_supervisor systemd)."""
    journal: str
    """journalctl's selection of the app's log."""
    nginx_site_enabled: bool
    """app_nginx_site: the role writes the app's nginx site."""
    nginx_site: NginxSite
    """The pyops.uwsgi.nginx role's site variables for the app."""
    static_bridge: StaticBridge
    """The previous release's static files, served for a while after a switch."""
    health: Health
    """The health check through nginx."""
    diagnose: Diagnose
    """What the diagnosis of a failed deploy needs (filter pyops.uwsgi.uwsgi_diagnose)."""
    stop_timeout: int
    """Seconds to wait for the app's processes to leave a supervisor."""
    environment: Environment
    """app_env as systemd's EnvironmentFile, for the app's commands, workers and jobs."""
    shared: Shared
    """The shared data of app_shared_paths."""
    config: Config
    """The app's configuration files (app_config_files)."""
    phases: Phases
    """The entry point check, the project's install, the build and release commands."""
    workers: Workers
    """The units of app_workers and app_jobs."""
    run: Run
    """What pyops-run needs to run a command as the app."""
