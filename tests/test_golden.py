"""Golden output: the fixture site builds byte for byte into tests/golden/.

Regenerate after an intended change with:  UPDATE_GOLDEN=1 python -m pytest tests/test_golden.py
"""

from __future__ import annotations

import os
import shutil
import sqlite3
from pathlib import Path

from clippings.build import build_site
from clippings.config import Config
from clippings.search import INDEX_DIR
from tests.conftest import REPO

GOLDEN = REPO / "tests" / "golden"


def sqlite_content(path: Path) -> bytes:
    """A database's schema and rows as SQL: its bytes depend on the SQLite library's version."""
    connection = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        return "\n".join(connection.iterdump()).encode()
    finally:
        connection.close()


def tree(root: Path, skip: str = "\0", databases_by_content: bool = False) -> dict[str, bytes]:
    return {
        p.relative_to(root).as_posix(): sqlite_content(p)
        if databases_by_content and p.suffix == ".sqlite"
        else p.read_bytes()
        for p in sorted(root.rglob("*"))
        if p.is_file() and not p.relative_to(root).as_posix().startswith(skip)
    }


def test_fixture_site_matches_golden_tree(fixture_config: Config, tmp_path: Path):
    site = tmp_path / "out"
    build_site(fixture_config, site)
    if os.environ.get("UPDATE_GOLDEN"):
        shutil.rmtree(GOLDEN, ignore_errors=True)
        shutil.copytree(site, GOLDEN, ignore=shutil.ignore_patterns(INDEX_DIR))
    # Pagefind's index is binary and its file names vary between fresh builds; tests/test_search.py
    # checks it by searching.
    # archive.sqlite is compared by content, so another libsqlite3 passes; the same build on
    # one machine is byte-identical (below).
    expected = tree(GOLDEN, databases_by_content=True)
    actual = tree(site, skip=INDEX_DIR + "/", databases_by_content=True)
    assert any(path.endswith(".sqlite") for path in expected)
    assert sorted(actual) == sorted(expected)
    changed = [path for path in expected if expected[path] != actual[path]]
    assert changed == [], f"differs from golden (UPDATE_GOLDEN=1 to accept): {changed}"


def test_same_input_gives_identical_output(fixture_config: Config, tmp_path: Path):
    build_site(fixture_config, tmp_path / "one")
    build_site(fixture_config, tmp_path / "two")
    assert tree(tmp_path / "one") == tree(tmp_path / "two")
