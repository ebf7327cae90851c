# Copyright: pyops.uwsgi contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

# The work is done by the action plugin of the same name (plugins/action/app_plan.py) and the pure
# plan in plugins/module_utils/app_plan.py; this file documents it.

from __future__ import annotations

DOCUMENTATION = r"""
module: app_plan
version_added: 0.2.0
short_description: Check one app's settings and plan its deploy, before anything changes
description:
  - The first step of the P(pyops.uwsgi.app#role) role. Takes the app's settings (the role's
    C(app_*) variables, or one item of a list such as C(uwsgi_apps)), checks them against the
    role's argument spec with Ansible's own validator (types, choices, required and unknown keys),
    reads the host once (P(pyops.uwsgi.uwsgi_info#module)) and the uwsgi role's record
    (the local fact C(ansible_local.pyops_uwsgi)), and decides every value the role writes.
  - Either fails, listing every broken rule with the variable it names and the fix, or returns
    RV(plan). Nothing on the host changes either way; it runs in check mode as well.
  - The decisions live in one pure Python function, C(make_plan) in
    C(plugins/module_utils/app_plan.py), so each rule is a unit test.
options:
  app:
    description:
      - One app's settings as a dict of C(app_*) variables, as an item of
        C(pyops.uwsgi.site)'s C(uwsgi_apps). The task's variables (the role's defaults,
        inventory, include vars) fill in what it leaves out. Omitted, the task's variables alone
        are the settings.
      - Keys the role does not know are refused.
    type: dict
  apps:
    description:
      - Several apps' settings, each a dict as O(app) takes. Every one is checked (and their names
        must differ), and nothing but RV(readings) is returned, so one task refuses a bad list
        before the first app changes anything. Mutually exclusive with O(app).
      - How many apps share the host's memory, for sizing C(app_processes) V(0), is the number of
        apps listed here; for one app, that of the app role's variable C(app_list) (its entry point
        C(apps)), or one.
    type: list
    elements: dict
  source:
    description:
      - Digest of the release's source, the git commit of a git app; the action digests code from
        C(app_src_dir) itself. With a source, RV(plan) names the release and its paths; without,
        they name a placeholder release C(new), which is enough to check the settings.
    type: str
  readings:
    description:
      - RV(readings) of an earlier call for the same app on the same host, so the host is not
        read twice.
    type: dict
  read_state:
    description:
      - Also read what the host has of the app now, with one more call of
        P(pyops.uwsgi.uwsgi_info#module), and compare it with the plan. RV(plan.state) tells what a
        deploy would change, so the role skips what does not differ.
    type: bool
    default: false
  nginx_error_log:
    description:
      - nginx's error log, whose size RV(plan.state) reports (where a failed deploy's lines begin).
        Only with O(read_state).
    type: path
    default: /var/log/nginx/error.log
  rollback:
    description:
      - Plan a rollback instead (the role's entry point C(rollback)). It reads the host, chooses
        the kept release to serve again (O(rollback_release), else the newest built before the one
        serving), and returns its plan and state, with the current settings, and RV(rollback).
      - Refused, naming the kept releases and the one serving, when that release is not kept or
        there is none older; refused as well when it was built for another Python or
        C(app_uwsgi_method) than the settings name.
    type: bool
    default: false
  rollback_release:
    description:
      - With O(rollback), the kept release to serve again; empty means the one built before the
        one serving.
    type: str
    default: ""
  require_uwsgi:
    description: Refuse when the uwsgi role has not recorded an installation on the host yet.
    type: bool
    default: false
  web_user:
    description: The user nginx's workers run as, which must be able to open the app's socket.
    type: str
    default: www-data
  web_group:
    description: nginx's group, which owns the app's socket; the app's user must not be in it.
    type: str
    default: www-data
extends_documentation_fragment:
  - ansible.builtin.action_common_attributes
  - ansible.builtin.action_common_attributes.flow
  - pyops.uwsgi.common
  - pyops.uwsgi.common.action
"""

EXAMPLES = r"""
- name: Check and plan the app
  pyops.uwsgi.app_plan:
    require_uwsgi: true
  register: __app_planned

- name: Show where the app's vassal goes
  ansible.builtin.debug:
    msg: "{{ __app_planned.plan.paths.config }}"
"""

RETURN = r"""
plan:
  description:
    - Everything the role writes and checks for the app. Its result is hidden from the output,
      because the vassal's text holds C(app_env), often secrets.
    - Its shape is declared once, field by field, in C(plugins/module_utils/_app/schema.py); a unit
      test holds this documentation to it, and another that every field has a reader.
  returned: success
  type: dict
  contains:
    state:
      description: With read_state, the app on the host compared with the plan (app_state.compare).
      returned: with O(read_state)
      type: dict
      contains:
        release_built:
          description: The release planned is built (its marker exists).
          type: bool
        current_release:
          description: The release serving now; empty when none is deployed.
          type: str
        deployed_text:
          description: The configuration serving now, put back if a deploy fails; empty
            when none.
          type: str
        deploying:
          description: The configuration, the release or a unit differs, or a deploy
            was cut short.
          type: bool
        canary_left:
          description: 'A canary''s socket exists outside a deploy: one was cut short.'
          type: bool
        group_differs:
          description: The app's group does not exist.
          type: bool
        user_differs:
          description: The app's user does not exist or differs from the plan.
          type: bool
        directories_differing:
          description: The items of directories the host does not have as planned.
          type: list
          elements: dict
          contains: &Directory
            path:
              description: The directory.
              type: str
            owner:
              description: Its owner.
              type: str
            group:
              description: Its group.
              type: str
            mode:
              description: Its mode, as four octal digits.
              type: str
        tmpfiles_differs:
          description: The tmpfiles.d entry differs.
          type: bool
        nginx_socket_differs:
          description: nginx's link does not point at the app's socket.
          type: bool
        environment_dir_differs:
          description: The directory of the EnvironmentFiles differs.
          type: bool
        environment_file_differs:
          description: The EnvironmentFile differs.
          type: bool
        environment_file_new:
          description: The EnvironmentFile is written by this run and read by no unit
            yet.
          type: bool
        envdir_new:
          description: The envdir is written by this run.
          type: bool
        releases_to_remove:
          description: Releases beyond app_keep_releases, never the one planned nor
            one a static bridge links.
          type: list
          elements: str
        envdirs_to_remove:
          description: Envdirs other than this environment's.
          type: list
          elements: str
        environment_files_to_remove:
          description: EnvironmentFiles other than this environment's.
          type: list
          elements: str
        units_to_disable:
          description: Worker instances and job timers enabled but no longer wanted.
          type: list
          elements: str
        unit_files_to_remove:
          description: Unit files of workers and jobs no longer wanted.
          type: list
          elements: str
        config_current:
          description: The directory the configuration files' link points at now; empty
            when none.
          type: str
        config_differs:
          description: That link does not point at this content's directory.
          type: bool
        config_dirs_to_remove:
          description: Directories of configuration files other than this content's.
          type: list
          elements: str
        releases:
          description: The names of the directories under releases/, newest first.
          type: list
          elements: str
        rolled_back:
          description: The rollback in force, as paths.rolled_back records it.
          type: dict
          contains:
            release:
              description: The release rolled back to; empty without a rollback in force.
              type: str
            replaced:
              description: The releases the rollbacks replaced, latest last.
              type: list
              elements: str
            at:
              description: When (UTC).
              type: str
        held:
          description: 'A rollback is in force and the plan''s release is one it replaced:
            no deploy.'
          type: bool
        held_message:
          description: What a held converge says; empty when it is not held.
          type: str
        nginx_error_log_size:
          description: 'nginx''s error log''s size: where a failed deploy''s lines begin.'
          type: int
        account_differs:
          description: The group, the user, the tmpfiles entry, nginx's link or a directory
            differs.
          type: bool
        environment_differs:
          description: The EnvironmentFile or its directory differs.
          type: bool
        workers_due:
          description: Workers or jobs are wanted, or some are to go.
          type: bool
        run_record_differs:
          description: pyops-run's record of the app differs (or its directory).
          type: bool
        bridge_due:
          description: 'A switch from a release serving now to another, with a static
            bridge: link it.'
          type: bool
        bridge_left:
          description: The link to a previous release is there, with no static bridge
            wanted.
          type: bool
        cleanup_due:
          description: Releases, envdirs, EnvironmentFiles, configuration files or a
            bridge's link are to go.
          type: bool
    name:
      description: 'The app''s name (app_name): of its user, units, files and socket.'
      type: str
    user:
      description: The user the app runs as (app_user, else app_name).
      type: str
    group:
      description: The app's group (app_group, else its user's name).
      type: str
    shell:
      description: 'The user''s shell: it logs in nowhere.'
      type: str
    comment:
      description: The user's GECOS, which marks the account as the app's for later
        runs.
      type: str
    web_user:
      description: nginx's worker user, which must be able to open the app's socket.
      type: str
    supervisor:
      description: 'app_supervisor: emperor (a vassal of the Emperor) or systemd (a
        unit of its own).'
      type: str
    socket_activation:
      description: 'app_socket_activation: systemd holds the app''s socket.'
      type: bool
    python:
      description: The app's Python.
      type: dict
      contains:
        version:
          description: The app's Python as X.Y (app_python_version, else the uwsgi role's
            default).
          type: str
        interpreter:
          description: The interpreter the release's virtualenv is made with.
          type: str
    uwsgi_binary:
      description: The uWSGI binary that serves the app (the distribution's, or pip-built
        for its Python).
      type: str
    source:
      description: Where the release's code comes from.
      type: dict
      contains:
        src_dir:
          description: app_src_dir as an absolute path on the controller; empty for
            a git app.
          type: str
        git_repo:
          description: app_git_repo; empty for code from the controller.
          type: str
        git_version:
          description: 'app_git_version: the branch, tag or commit checked out.'
          type: str
        git_dir:
          description: The bare clone on the host that releases are exported from.
          type: str
        exclude:
          description: Names and patterns left out of the release's code (app_src_exclude).
          type: list
          elements: str
    release:
      description: 'The release: its name, directories, packages and how many are kept.'
      type: dict
      contains:
        id:
          description: The release's name, from its code, Python and packages; empty
            without a source.
          type: str
        dir:
          description: The release's directory (releases/ID, or releases/new without
            a source).
          type: str
        code:
          description: The release's code directory.
          type: str
        venv:
          description: The release's virtualenv.
          type: str
        marker:
          description: 'The file written last into a built release: it is complete.'
          type: str
        record:
          description: What the marker file says of the release, as JSON.
          type: dict
          contains:
            release:
              description: The release's name.
              type: str
            source:
              description: The digest of the code, or the git commit.
              type: str
            python:
              description: The Python the release was built for.
              type: str
            uwsgi_method:
              description: app_uwsgi_method the release was built for.
              type: str
        requirements:
          description: The release's requirements file; empty without app_requirements_file.
          type: str
        pip_packages:
          description: app_pip_packages, installed after the requirements.
          type: list
          elements: str
        pip_environment:
          description: pip's settings as environment variables (PIP_INDEX_URL, ...).
          type: dict
        keep:
          description: How many releases are kept, the one serving included (app_keep_releases).
          type: int
        deploy_rolled_back:
          description: 'app_deploy_rolled_back: a converge may deploy a release a rollback
            replaced.'
          type: bool
    paths:
      description: The app's paths on the host.
      type: dict
      contains:
        root:
          description: app_root.
          type: str
        releases:
          description: The directory of the releases.
          type: str
        current:
          description: The link to the release serving.
          type: str
        socket:
          description: The app's unix socket (app_socket, else in the uwsgi role's runtime
            directory).
          type: str
        nginx_socket:
          description: 'The link nginx connects through: to the app''s socket, or the
            canary''s during a reload.'
          type: str
        config:
          description: 'The app''s uWSGI configuration: the vassal in the Emperor''s
            directory, or its own ini.'
          type: str
        emperor_vassal:
          description: Where the app's vassal is in the Emperor's directory (removed
            under systemd).
          type: str
        service_ini:
          description: Where the app's own ini is under systemd (removed under the Emperor).
          type: str
        service_ini_dir:
          description: The directory of the apps' own ini files.
          type: str
        tmpfiles:
          description: The tmpfiles.d entry of the app's runtime directories.
          type: str
        rolled_back:
          description: The record of a rollback in force (JSON), removed by the next
            deploy.
          type: str
        releases_registry:
          description: The file naming the app's root for pyops-releases and the local
            fact pyops_releases.
          type: str
    directories:
      description: The directories the role creates, in order.
      type: list
      elements: dict
      contains: *Directory
    envdir:
      description: 'What an env line cannot carry: files of uWSGI''s envdir, one per
        variable.'
      type: dict
      contains:
        root:
          description: The directory of the app's envdirs.
          type: str
        path:
          description: This environment's envdir, named after its content; empty when
            env lines carry all.
          type: str
        files:
          description: 'The envdir''s files: the content of each app_env value an env
            line cannot carry.'
          type: dict
    tmpfiles:
      description: 'The tmpfiles.d entry: runtime directories, nginx''s link, a static
        bridge''s end at boot.'
      type: str
    vassal:
      description: The app's uWSGI configuration.
      type: dict
      contains:
        generation:
          description: 'The digest of the options, in every process title: which configuration
            a process runs.'
          type: str
        text:
          description: The ini text of the app's uWSGI configuration.
          type: str
    canary:
      description: The new release on a socket of its own, serving while the app reloads.
      type: dict
      contains:
        argv:
          description: systemd-run's command line that starts the canary under the serving
            unit's sandbox.
          type: list
          elements: str
        ini:
          description: 'The canary''s ini text: the vassal''s, on the canary''s socket.'
          type: str
        socket:
          description: The canary's socket, beside the app's.
          type: str
        unit:
          description: The canary's transient unit.
          type: str
    unit:
      description: The app's own systemd units (app_supervisor systemd).
      type: dict
      contains:
        name:
          description: The app's unit, uwsgi-app-NAME.
          type: str
        dir:
          description: Where unit files go.
          type: str
        service:
          description: The text of the app's service unit (written under app_supervisor
            systemd).
          type: str
        socket:
          description: The text of its socket unit; empty without app_socket_activation.
          type: str
    journal:
      description: journalctl's selection of the app's log.
      type: str
    nginx_site_enabled:
      description: 'app_nginx_site: the role writes the app''s nginx site.'
      type: bool
    nginx_site:
      description: The pyops.uwsgi.nginx role's site variables for the app.
      type: dict
      contains:
        nginx_site_tls:
          description: app_tls (only where app_tls is not none, as the keys below).
          returned: where C(app_tls) is not none
          type: str
        nginx_site_tls_listen:
          description: app_tls_listen.
          returned: where C(app_tls) is not none
          type: list
          elements: str
        nginx_site_tls_certificate:
          description: app_tls_certificate.
          returned: where C(app_tls) is not none
          type: str
        nginx_site_tls_key:
          description: app_tls_key.
          returned: where C(app_tls) is not none
          type: str
        nginx_site_tls_remote_src:
          description: app_tls_remote_src.
          returned: where C(app_tls) is not none
          type: bool
        nginx_site_tls_hsts_max_age:
          description: app_tls_hsts_max_age.
          returned: where C(app_tls) is not none
          type: int
        nginx_site_tls_hsts_include_subdomains:
          description: app_tls_hsts_include_subdomains.
          returned: where C(app_tls) is not none
          type: bool
        nginx_site_tls_hsts_preload:
          description: app_tls_hsts_preload.
          returned: where C(app_tls) is not none
          type: bool
        nginx_site_name:
          description: 'The site''s name: the app''s.'
          type: str
        nginx_site_listen:
          description: app_http_listen.
          type: list
          elements: str
        nginx_site_server_names:
          description: app_server_names.
          type: list
          elements: str
        nginx_site_uwsgi_pass:
          description: 'unix: and nginx''s link to the socket serving.'
          type: str
        nginx_site_uwsgi_read_timeout:
          description: app_nginx_read_timeout, else app_harakiri + 5.
          type: int
        nginx_site_uwsgi_buffer_size:
          description: 'app_response_headers_limit: the bytes of response headers nginx
            takes.'
          type: str
        nginx_site_max_conns:
          description: 'app_listen: requests passed to the app at once, its listen queue.'
          type: int
        nginx_site_static_url:
          description: app_static_url.
          type: str
        nginx_site_static_dir:
          description: app_static_dir in the current release's code; empty without app_static_url.
          type: str
        nginx_site_static_bridge_dir:
          description: app_static_dir in the previous release's code; empty without
            a static bridge.
          type: str
        nginx_site_static_bridge_pattern:
          description: app_static_bridge_pattern.
          type: str
        nginx_site_client_max_body_size:
          description: app_client_max_body_size.
          type: str
        nginx_site_trusted_proxies:
          description: app_trusted_proxies.
          type: list
          elements: str
        nginx_site_maintenance:
          description: app_maintenance.
          type: bool
        nginx_site_maintenance_allowed:
          description: app_maintenance_allowed.
          type: list
          elements: str
        nginx_site_maintenance_page:
          description: app_maintenance_page, absolute on the controller; empty for the
            nginx role's page.
          type: str
        nginx_site_maintenance_retry_after:
          description: app_maintenance_retry_after.
          type: int
        nginx_site_health_path:
          description: app_health_path without its query, which answers everyone during
            maintenance.
          type: str
        nginx_site_locations:
          description: The shared directories served as they are (app_shared_paths with
            a url).
          type: list
          elements: dict
          contains:
            url:
              description: The URL prefix (app_shared_paths url).
              type: str
            dir:
              description: The shared directory served under it.
              type: str
            internal:
              description: 'app_shared_paths internal: served to the app''s X-Accel-Redirect
                only.'
              type: bool
    static_bridge:
      description: The previous release's static files, served for a while after a switch.
      type: dict
      contains:
        time:
          description: 'Seconds the previous release''s static files are served after
            a switch; 0: never.'
          type: int
        link:
          description: The link to the previous release, beside current, that nginx
            looks its files up through.
          type: str
        unit:
          description: The transient timer (and its service) that removes the link when
            the time is up.
          type: str
        argv:
          description: systemd-run's command line that starts that timer; empty without
            a bridge.
          type: list
          elements: str
    health:
      description: The health check through nginx.
      type: dict
      contains:
        scheme:
          description: https (only where app_tls is not none, as the keys below).
          returned: where C(app_tls) is not none
          type: str
        address:
          description: The address the HTTPS check connects to.
          returned: where C(app_tls) is not none
          type: str
        port:
          description: The port the HTTPS check connects to.
          returned: where C(app_tls) is not none
          type: int
        ca_file:
          description: The CA bundle the HTTPS check trusts (app_tls_ca_file, or the
            self-signed certificate).
          returned: where C(app_tls) is not none
          type: str
        path:
          description: app_health_path.
          type: str
        timeout:
          description: 'app_health_timeout: seconds a start and the health check may
            take.'
          type: int
        host:
          description: 'The Host (and TLS server name) asked for: app_health_host, else
            one the site answers.'
          type: str
        url:
          description: The URL the check asks for, through nginx.
          type: str
        status:
          description: The statuses that pass (app_health_status, else any 2xx or 3xx).
          type: list
          elements: int
        drain_timeout:
          description: Seconds a probe may wait behind an instance's requests before
            it reloads or stops.
          type: int
    diagnose:
      description: What the diagnosis of a failed deploy needs (filter pyops.uwsgi.uwsgi_diagnose).
      type: dict
      contains:
        name:
          description: The app's name.
          type: str
        wsgi_module:
          description: app_wsgi_module.
          type: str
        wsgi_callable:
          description: app_wsgi_callable.
          type: str
        python_version:
          description: The app's Python.
          type: str
        requirements_file:
          description: app_requirements_file.
          type: str
        socket:
          description: The app's socket.
          type: str
        nginx_socket:
          description: nginx's link to the socket serving.
          type: str
        web_user:
          description: nginx's worker user.
          type: str
        plugin:
          description: The uWSGI plugin of the app's Python; empty for pip-built uWSGI.
          type: str
        root:
          description: app_root.
          type: str
        unit:
          description: 'The unit that serves the app: the Emperor''s or its own.'
          type: str
        health_path:
          description: app_health_path.
          type: str
        health_host:
          description: The Host the health check asks for.
          type: str
        health_status:
          description: The statuses the health check takes.
          type: list
          elements: int
        lazy_apps:
          description: app_lazy_apps, as text.
          type: str
    stop_timeout:
      description: Seconds to wait for the app's processes to leave a supervisor.
      type: int
    environment:
      description: app_env as systemd's EnvironmentFile, for the app's commands, workers
        and jobs.
      type: dict
      contains:
        dir:
          description: The directory of the apps' EnvironmentFiles.
          type: str
        file:
          description: This environment's EnvironmentFile, named after its content.
          type: str
        pattern:
          description: The names of the app's EnvironmentFiles, old ones included, as
            a glob.
          type: str
        text:
          description: 'The EnvironmentFile''s text: app_env byte for byte.'
          type: str
    shared:
      description: The shared data of app_shared_paths.
      type: dict
      contains:
        paths:
          description: The directories of app_shared_paths, linked into each release's
            code.
          type: list
          elements: dict
          contains:
            path:
              description: The path in the code (app_shared_paths path).
              type: str
            link:
              description: The link in the release's code.
              type: str
            parent:
              description: The directory the link is in.
              type: str
            target:
              description: The shared directory under app_state_dir/shared.
              type: str
    config:
      description: The app's configuration files (app_config_files).
      type: dict
      contains:
        root:
          description: The directory of the configuration files' directories.
          type: str
        current:
          description: The link to the directory in use, switched by a deploy and put
            back by a failed one.
          type: str
        dir:
          description: This content's directory, named after its digest; empty without
            app_config_files.
          type: str
        directories:
          description: The directories to create for the files, parents first.
          type: list
          elements: dict
          contains: *Directory
        files:
          description: The files of app_config_files.
          type: list
          elements: dict
          contains:
            dest:
              description: Where the app reads it, relative to the code (app_config_files
                dest).
              type: str
            path:
              description: The file written, in the directory of this content.
              type: str
            link:
              description: 'The link the app reads it through: in the release''s code,
                or in a shared directory.'
              type: str
            target:
              description: The link's target, through the link the deploy switches.
              type: str
            content:
              description: 'Its text (never shown: the tasks writing it are no_log).'
              type: str
            mode:
              description: Its mode.
              type: str
            owner:
              description: Its owner.
              type: str
            group:
              description: Its group.
              type: str
        link_parents:
          description: Directories to create for links where the code or a shared directory
            has none.
          type: list
          elements: dict
          contains: *Directory
    phases:
      description: The entry point check, the project's install, the build and release
        commands.
      type: dict
      contains:
        chdir:
          description: 'Where the commands run: the release''s code.'
          type: str
        env:
          description: 'The commands'' environment: the release''s virtualenv first
            on PATH.'
          type: dict
        environment_file:
          description: The EnvironmentFile of app_env the commands read.
          type: str
        timeout:
          description: app_command_timeout.
          type: int
        project_install:
          description: 'app_project_install: pip installs the code itself.'
          type: bool
        entry_point:
          description: The import of the entry point in the built release.
          type: dict
          contains:
            python:
              description: The release's Python.
              type: str
            module:
              description: app_wsgi_module.
              type: str
            callable:
              description: app_wsgi_callable.
              type: str
            sandbox:
              description: The sandbox the import runs in.
              type: dict
        build:
          description: app_build_commands, which may write the code.
          type: dict
          contains: &PhaseCommands
            commands:
              description: The commands, in order.
              type: list
              elements: dict
              contains: &Command
                command:
                  description: The program and its arguments.
                  type: list
                  elements: str
                creates:
                  description: A path in the code whose existence skips the command;
                    empty for none.
                  type: str
            sandbox:
              description: The sandbox they run in.
              type: dict
        release:
          description: app_release_commands, run before the release serves.
          type: dict
          contains:
            commands:
              description: The commands every host runs (scope every_host), in order,
                after the once-scoped ones.
              type: list
              elements: dict
              contains: *Command
            once:
              description: The commands one host of the play runs (scope once), in order,
                before any host switches.
              type: list
              elements: dict
              contains: *Command
            sandbox:
              description: The sandbox they run in.
              type: dict
        post_release:
          description: app_post_release_commands, run on one host once every host serves
            the release.
          type: dict
          contains: *PhaseCommands
    workers:
      description: The units of app_workers and app_jobs.
      type: dict
      contains:
        dir:
          description: Where their unit files go.
          type: str
        units:
          description: The unit files of app_workers and app_jobs.
          type: list
          elements: dict
          contains:
            name:
              description: The unit file's name.
              type: str
            text:
              description: Its text.
              type: str
        instances:
          description: The worker instances to run.
          type: list
          elements: str
        timers:
          description: The jobs' timers to run.
          type: list
          elements: str
        patterns:
          description: Globs every unit of the app's workers and jobs matches, those
            no longer wanted too.
          type: list
          elements: str
        wants:
          description: The .wants directories their instances and timers are enabled
            in.
          type: list
          elements: str
    run:
      description: What pyops-run needs to run a command as the app.
      type: dict
      contains:
        command:
          description: pyops-run, which runs a command as the app (module_utils/run_command.py).
          type: str
        dir:
          description: The directory of the apps' records for pyops-run (root's alone).
          type: str
        file:
          description: This app's record for pyops-run.
          type: str
        text:
          description: 'The record as JSON: releases, sandbox, EnvironmentFile, the
            names --env may not set.'
          type: str
readings:
  description:
    - What P(pyops.uwsgi.uwsgi_info#module) read on the host. With O(apps), one per app, by name.
  returned: success
  type: dict
tls_files_sites:
  description:
    - With O(apps), the nginx site (the P(pyops.uwsgi.nginx#role) role's site variables) of each app
      whose HTTPS certificate and key come from files (C(app_tls=files)), for the nginx role's
      entry point C(check) to read and check before anything changes.
  returned: with O(apps)
  type: list
  elements: dict
rollback:
  description:
    - With O(rollback), the rollback planned; RV(plan) is then the plan of the release to serve
      again.
  returned: with O(rollback)
  type: dict
  contains:
    release:
      description: The kept release to serve again.
      type: str
    serving:
      description: The release serving now (RV(rollback.release) when that serves already).
      type: str
    kept:
      description: The complete releases kept on the host, newest build first.
      type: list
      elements: str
    record:
      description: The text of C(plan.paths.rolled_back) once the rollback serves (JSON).
      type: str
errors:
  description: One message per broken rule, each naming the variable and the fix.
  returned: failure
  type: list
  elements: str
"""
