"""Render docs/bad-inputs.md from tests/unit/bad_inputs.yml.

    python3 scripts/bad_inputs_doc.py > docs/bad-inputs.md

A unit test keeps the page equal to this rendering and runs every case against the roles' rules.
"""

from __future__ import annotations

import json
from pathlib import Path

import yaml

CASES = Path(__file__).resolve().parents[1] / "tests" / "unit" / "bad_inputs.yml"

HEADER = """# Bad inputs and what they get

Every role checks its variables before it changes anything on the host: first against its argument
spec (types, choices, required and unknown names, with Ansible's own validator), then against its
rules, which are plain Python (`plugins/module_utils/app_plan.py` for the app role,
`plugins/module_utils/role_rules.py` for the uwsgi and nginx roles). These are the bad inputs the
test suite tries; for each, the run fails with the message below (an excerpt), which names the
variable and the fix.

Each case runs as a unit test against the roles' argument specs and rules, on a stand-in host, in
milliseconds (`tests/unit/plugins/test_bad_inputs.py`). The case marked "on a host" also runs in
scenario `default` on a real host, where the run must fail and nothing under `/etc/uwsgi`,
`/etc/nginx`, `/etc/systemd/system`, `/etc/tmpfiles.d`, `/srv`, `/run/uwsgi`,
`/usr/local/lib/uwsgi` or `/opt/uwsgi`, nor any user or group, may change.

Regenerate this page with `python3 scripts/bad_inputs_doc.py > docs/bad-inputs.md`.

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
    return HEADER + "\n".join(rows) + "\n"


if __name__ == "__main__":
    print(render(), end="")
