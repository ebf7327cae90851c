from __future__ import annotations

import os

import pytest
from ansible.errors import AnsibleLookupError
from ansible_collections.pyops.uwsgi.plugins.lookup.tree_digest import tree_digest


@pytest.fixture
def tree(tmp_path):
    (tmp_path / "pkg").mkdir()
    (tmp_path / "wsgi.py").write_text("from pkg import app\n")
    (tmp_path / "pkg" / "__init__.py").write_text("app = None\n")
    (tmp_path / "pkg" / "__pycache__").mkdir()
    (tmp_path / "pkg" / "__pycache__" / "x.pyc").write_bytes(b"\0")
    return tmp_path


def test_same_files_same_digest_whatever_the_timestamps(tree):
    before = tree_digest(str(tree))
    os.utime(tree / "wsgi.py", (0, 0))
    assert tree_digest(str(tree)) == before


@pytest.mark.parametrize(
    "change",
    [
        lambda t: (t / "wsgi.py").write_text("changed\n"),
        lambda t: (t / "pkg" / "__init__.py").rename(t / "pkg" / "other.py"),
        lambda t: (t / "new.txt").write_text(""),
        lambda t: (t / "wsgi.py").unlink(),
        lambda t: (t / "wsgi.py").chmod(0o755),
        lambda t: (t / "link").symlink_to("wsgi.py"),
    ],
)
def test_any_change_changes_the_digest(tree, change):
    before = tree_digest(str(tree))
    change(tree)
    assert tree_digest(str(tree)) != before


def test_excluded_names_do_not_count(tree):
    before = tree_digest(str(tree), ["__pycache__", "*.pyc"])
    (tree / "pkg" / "__pycache__" / "y.pyc").write_bytes(b"\1")
    (tree / "stray.pyc").write_bytes(b"\1")
    assert tree_digest(str(tree), ["__pycache__", "*.pyc"]) == before
    assert tree_digest(str(tree)) != before


def test_content_boundaries_matter(tmp_path):
    (tmp_path / "a").write_text("bc")
    first = tree_digest(str(tmp_path))
    (tmp_path / "a").write_text("b")
    (tmp_path / "c").write_text("")
    assert tree_digest(str(tmp_path)) != first


def test_not_a_directory(tmp_path):
    with pytest.raises(AnsibleLookupError, match="is not a directory"):
        tree_digest(str(tmp_path / "missing"))
