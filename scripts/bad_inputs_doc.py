"""Render docs/bad-inputs.md from tests/unit/bad_inputs.yml.

    python3 scripts/bad_inputs_doc.py > docs/bad-inputs.md

A unit test keeps the page equal to this rendering and runs every case against the roles' rules.
"""

from __future__ import annotations

import json
import sys
from importlib import util
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]
CASES = ROOT / "tests" / "unit" / "bad_inputs.yml"
# The table of places and names (pure, stdlib only), loaded from its file: no Ansible needed here.
_SPEC = util.spec_from_file_location(
    "host_paths", ROOT / "plugins" / "module_utils" / "host_paths.py"
)
host_paths = util.module_from_spec(_SPEC)
sys.modules["host_paths"] = host_paths  # for its dataclass
_SPEC.loader.exec_module(host_paths)

HEADER = """# Bad inputs and what they get

Every role checks its variables before it changes anything on the host: first against its argument
spec (types, choices, required and unknown names, with Ansible's own validator), then against its
rules, which are plain Python (`plugins/module_utils/_app/rules*.py` for the app role,
`plugins/module_utils/role_rules.py` for the uwsgi and nginx roles). These are the bad inputs the
test suite tries; for each, the run fails with the message below (an excerpt), which names the
variable and the fix.

Each case runs as a unit test against the roles' argument specs and rules, on a stand-in host, in
milliseconds (`tests/unit/plugins/test_bad_inputs.py`). The cases marked "on a host" also run in
scenario `default`, all in one play on a real host that has an account `alice`, a link
`/srv/linked` to `/etc` and a directory `/var/lib/taken` of alice's: each must be refused, and the
owner, group and mode of `/`, `/etc`, `/run`, `/var`, `/var/lib`, `/srv`, `/usr`, `/opt` and what
sits directly in them, everything under `/etc/uwsgi`, `/etc/nginx`, `/etc/systemd/system`,
`/etc/tmpfiles.d`, `/srv`, `/run/uwsgi`, `/usr/local/lib/uwsgi` and `/opt/uwsgi`, and every user
and group must be the same after the play as before.

Regenerate this page with `python3 scripts/bad_inputs_doc.py > docs/bad-inputs.md`.

## Where the collection may own directories

A path setting is judged as the kernel resolves it: `.`, `..`, repeated and trailing slashes are
taken away first (`/var/lib/` is `/var/lib`, `/srv/x/../..` is `/`), then the result must be one
of these places, a directory of its own directly under an allowed parent, never the parent itself.
A setting that names a place but is not written as the kernel resolves it (`/srv/shop/`) is refused
with the form to write. On the host, before anything changes, every existing directory on the way
must be a real directory of root's (no symbolic link) and the directory itself, if it exists,
must belong to whom the collection makes it belong: an app never owns a directory it did not
create (`plugins/module_utils/host_paths.py`).

| setting | where (parent / name) | owned as |
| --- | --- | --- |
{places}

## Names and accounts

`app_name`, `app_user` and `app_group` must not be a name the collection gives paths of its own
({reserved}), nor an account or directory of the distribution and its common packages
({accounts}). On the host, an existing user is the app's only when its GECOS field carries
`{marker}` (which the role writes when it creates the account; an account created by an earlier
release of the role, with the app's root as home and no login shell, is adopted and marked), and an
existing group only when it is that user's primary group. Any other existing account is refused,
named with its home and shell.

## Environment

`app_env` may not set what configures the programs that run the app rather than the app: names
starting with `UWSGI_` (uWSGI reads each as an option) or `LD_` (the dynamic loader), and
{env_names}. Values arrive byte for byte; a boolean arrives as `true` or `false`, a number as
written, the same in the vassal, the canary, commands, workers and jobs.

## The cases

| # | bad input | role | variables | the run fails with |
| --- | --- | --- | --- | --- |
"""


def _cell(text):
    return str(text).replace("|", "\\|").replace("\n", " ")


def render(cases=None):
    cases = cases or yaml.safe_load(CASES.read_text())
    rows = []
    for number, case in enumerate(cases, 1):
        role = case.get("role", "app")
        if case.get("entry_point", "main") != "main":
            role = f"{role} ({case['entry_point']})"
        variables = ", ".join(
            f"`{name}: {json.dumps(value)}`" for name, value in case["vars"].items()
        )
        where = " (on a host)" if case.get("on_host") else ""
        rows.append(
            f"| {number} | {_cell(case['case'])}{where} | {role} | {_cell(variables)} "
            f"| {_cell(case['expect'])} |"
        )
    places = "\n".join(
        f"| `{setting}` | {where} | {owner} |" for setting, where, owner in host_paths.table_rows()
    )
    header = HEADER.format(
        places=places,
        reserved=", ".join(f"`{name}`" for name in sorted(host_paths.RESERVED_NAMES)),
        accounts=", ".join(f"`{name}`" for name in sorted(host_paths.SYSTEM_ACCOUNTS)),
        marker=host_paths.ACCOUNT_MARKER.format(name="APP"),
        env_names=", ".join(f"`{name}`" for name in sorted(host_paths_env_names())),
    )
    return header + "\n".join(rows) + "\n"


def host_paths_env_names():
    """The single names app_env refuses (module_utils/env_file.py), read from its source."""
    spec = util.spec_from_file_location(
        "env_file", ROOT / "plugins" / "module_utils" / "env_file.py"
    )
    module = util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module._CONFIGURING_NAMES


if __name__ == "__main__":
    print(render(), end="")
