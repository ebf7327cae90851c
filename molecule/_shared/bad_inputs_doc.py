"""Render docs/bad-inputs.md from bad_inputs.yml.

    python3 molecule/_shared/bad_inputs_doc.py > docs/bad-inputs.md

A unit test keeps the page equal to this rendering; the scenarios' verifiers check that each case
really fails with its message, on a real host, and that the host did not change.
"""

from __future__ import annotations

import json
from pathlib import Path

import yaml

HERE = Path(__file__).resolve().parent
ROLES = {
    "bad_input.yml": "app",
    "uwsgi_role.yml": "uwsgi",
    "nginx_role.yml": "nginx",
    "nginx_site.yml": "nginx (site)",
}

HEADER = """# Bad inputs and what they get

Every role checks its variables before it changes anything on the host. These are the bad inputs
the test suite tries, each on a real host (`molecule/_shared/bad_inputs.yml`, run by the verifier of
the `default` scenario): for each, the run must fail with the message below (an excerpt) and nothing
under `/etc/uwsgi`, `/etc/nginx`, `/etc/systemd/system`, `/etc/tmpfiles.d`, `/srv`, `/run/uwsgi`,
`/usr/local/lib/uwsgi` or `/opt/uwsgi`, nor any user or group, may have changed.

Regenerate this page with `python3 molecule/_shared/bad_inputs_doc.py > docs/bad-inputs.md`.

| # | bad input | role | variables | the run fails with |
| --- | --- | --- | --- | --- |
"""


def _cell(text):
    return str(text).replace("|", "\\|").replace("\n", " ")


def render(cases=None):
    cases = cases or yaml.safe_load((HERE / "bad_inputs.yml").read_text())
    rows = []
    for number, case in enumerate(cases, 1):
        role = ROLES[case.get("playbook", "bad_input.yml")]
        variables = ", ".join(
            f"`{name}: {json.dumps(value)}`" for name, value in case["vars"].items()
        )
        rows.append(
            f"| {number} | {_cell(case['case'])} | {role} | {_cell(variables)} "
            f"| {_cell(case['expect'])} |"
        )
    return HEADER + "\n".join(rows) + "\n"


if __name__ == "__main__":
    print(render(), end="")
