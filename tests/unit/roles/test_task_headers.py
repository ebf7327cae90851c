"""Every task file of the roles opens as a function would: what it reads, does and leaves set.

roles/app/tasks/nginx_link.yml is the model: the comment before its first task says what it reads,
what it does, and what it leaves set for the files after it (or that it leaves nothing).
"""

from __future__ import annotations

from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[3]
TASK_FILES = sorted((ROOT / "roles").glob("*/tasks/*.yml"))


def _header(path):
    lines = path.read_text().splitlines()[1:]
    header = []
    for line in lines:
        if not line.startswith("#"):
            break
        header.append(line)
    return " ".join(header)


def test_there_are_task_files():
    assert len(TASK_FILES) > 30


@pytest.mark.parametrize("path", TASK_FILES, ids=lambda p: str(p.relative_to(ROOT / "roles")))
def test_each_task_file_says_what_it_reads_and_leaves(path):
    header = _header(path)
    assert "Reads" in header, f"{path}: its opening comment does not say what it reads"
    assert "Leaves" in header, f"{path}: its opening comment does not say what it leaves set"
