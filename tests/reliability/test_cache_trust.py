"""The build cache never trusts what it cannot prove.

A same-size edit whose mtime was put back (`touch -r`, `cp -p`, rsync, a restored backup) is
still seen, in content, templates, static files and the authority file: the stat key holds the
ctime and inode too. A damaged row in any table of the cache (a NULL, a wrong type, a pickle
that is not what its table holds) discards the cache with a warning, and the site built is the
one an uncached build makes.
"""

from __future__ import annotations

import dataclasses
import os
import sqlite3
from collections.abc import Callable
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from clippings.build import build_site
from clippings.cache import CACHE_DIR
from clippings.config import Config, load_config
from tests.conftest import FIXTURE_SITE, site_tree
from tests.reliability.report import FIGURES

pytestmark = pytest.mark.timeout(180)

FIGURES.expected["properties"] = FIGURES.expected.get("properties", 0) + 1  # one property

LETTER = "content/2019/letter.md"


def _uncached(config: Config, out: Path) -> dict[str, bytes]:
    build_site(dataclasses.replace(config, cache=False), out)
    return site_tree(out, search=False)


def _record(case: str) -> None:
    FIGURES.trust.setdefault("cache", []).append(case)


def _same_size_edit(path: Path, old: bytes, new: bytes) -> None:
    """Replace bytes with as many others, then put the mtime back as `touch -r` would."""
    assert len(old) == len(new)
    info = path.stat()
    data = path.read_bytes()
    assert old in data, old
    path.write_bytes(data.replace(old, new, 1))
    os.utime(path, ns=(info.st_atime_ns, info.st_mtime_ns))
    assert path.stat().st_mtime_ns == info.st_mtime_ns and path.stat().st_size == info.st_size


def _setup_template(site: Path) -> None:
    (site / "templates").mkdir(exist_ok=True)
    (site / "templates" / "year.html").write_text(
        '{% extends "base.html" %}{% block content %}<p>Year AAAA</p>{% endblock %}\n'
    )


def _setup_static(site: Path) -> None:
    (site / "static").mkdir(exist_ok=True)
    (site / "static" / "extra.css").write_text("p { color: #aaaaaa }\n")


# file -> (set-up, bytes replaced, bytes put in)
SAME_SIZE_EDITS: dict[str, tuple[Callable[[Path], None] | None, str, bytes, bytes]] = {
    "article-body": (None, LETTER, b"Tuesday", b"Fridays"),
    "article-title": (None, LETTER, b"title: A Letter", b"title: A Lettuce"[:15]),
    "article-people": (None, LETTER, b"Reuters", b"Reuterz"),
    "site-template": (_setup_template, "templates/year.html", b"AAAA", b"BBBB"),
    "static-file": (_setup_static, "static/extra.css", b"aaaaaa", b"bbbbbb"),
    "authority": (None, "data/entities.yaml", b"Supreme Leader", b"Supreme Ruler!"),
}


@pytest.mark.parametrize("case", SAME_SIZE_EDITS)
def test_a_same_size_edit_with_its_mtime_put_back_is_seen(
    fixture_site: Path, tmp_path: Path, case: str
) -> None:
    setup, relative, old, new = SAME_SIZE_EDITS[case]
    if setup:
        setup(fixture_site)
    config = load_config(fixture_site / "config.yaml")
    build_site(config, fixture_site / "_site")
    build_site(config, fixture_site / "_site")  # a no-op build: every record vouched for
    _same_size_edit(fixture_site / relative, old, new)
    build_site(config, fixture_site / "_site")
    assert site_tree(fixture_site / "_site", search=False) == _uncached(config, tmp_path / "clean")
    _record(f"same-size edit of the {case.replace('-', ' ')} with its mtime put back: seen")


@settings(
    max_examples=8, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    offset=st.integers(min_value=0, max_value=10_000),
    letter=st.sampled_from("qxzjk"),
)
def test_any_same_size_body_edit_with_the_mtime_put_back_is_seen(
    tmp_path_factory: pytest.TempPathFactory, offset: int, letter: str
) -> None:
    import shutil

    site = tmp_path_factory.mktemp("same-size") / "site"
    shutil.copytree(FIXTURE_SITE, site)
    config = load_config(site / "config.yaml")
    build_site(config, site / "_site")
    path = site / LETTER
    data = path.read_bytes()
    body = data.index(b"\n---\n") + 5
    position = body + offset % (len(data) - body)
    if not data[position : position + 1].isalpha():
        return  # keep the Markdown's shape: letters only
    info = path.stat()
    path.write_bytes(data[:position] + letter.encode() + data[position + 1 :])
    os.utime(path, ns=(info.st_atime_ns, info.st_mtime_ns))
    build_site(config, site / "_site")
    assert site_tree(site / "_site", search=False) == _uncached(config, site.parent / "clean")
    FIGURES.properties["same-size body edits, mtime put back (Hypothesis)"] = 8


def _description(site: Path) -> None:
    """A settings change: a full build, which reads every article row and renders every page."""
    config = site / "config.yaml"
    config.write_text(config.read_text().replace("A small archive", "A tiny archive"))


def _body(site: Path) -> None:
    """A body-only edit: the quick path, which reads `built`, `meta` and article rows."""
    letter = site / LETTER
    letter.write_text(letter.read_text() + "\nA postscript.\n")


# case -> (SQL that damages one table, the edit that makes the build read it)
DAMAGE: dict[str, tuple[str, Callable[[Path], None]]] = {
    "meta-version-garbage": ("UPDATE meta SET value = x'00ff' WHERE key = 'version'", _body),
    "meta-last-result-not-hex": ("UPDATE meta SET value = 'zz' WHERE key = 'last_result'", _body),
    "meta-last-result-other-pickle": (
        "UPDATE meta SET value = '80044b052e' WHERE key = 'last_result'",  # pickle of 5
        _body,
    ),
    "meta-last-settings-null": ("UPDATE meta SET value = NULL WHERE key = 'last_settings'", _body),
    "meta-search-shards-not-json": (
        "UPDATE meta SET value = '{' WHERE key = 'search_shards'",
        _body,
    ),
    "meta-search-shards-wrong-shape": (
        "UPDATE meta SET value = '{\"2019\": 5}' WHERE key = 'search_shards'",
        _body,
    ),
    "articles-sha-null": ("UPDATE articles SET sha = NULL", _description),
    "articles-mtime-text": ("UPDATE articles SET mtime_ns = 'yesterday'", _description),
    "articles-parsed-garbage": ("UPDATE articles SET parsed = x'80045d942e'", _description),
    "articles-parsed-truncated": (
        "UPDATE articles SET parsed = substr(parsed, 1, 20)",
        _description,
    ),
    "bodies-html-null": ("UPDATE bodies SET html = NULL", _description),
    "bodies-html-text": ("UPDATE bodies SET html = '<p>forged</p>'", _description),
    "bodies-one-byte-flipped": (
        "UPDATE bodies SET html = substr(html, 1, 20) || x'58' || substr(html, 22)",
        _description,
    ),
    "articles-one-byte-flipped": (
        "UPDATE articles SET parsed = substr(parsed, 1, 60) || x'58' || substr(parsed, 62)",
        _description,
    ),
    "pages-size-text": ("UPDATE pages SET size = 'big'", _description),
    "pages-fingerprint-null": ("UPDATE pages SET fingerprint = NULL", _description),
    "built-sha-null": ("UPDATE built SET sha = NULL", _body),
    "built-context-garbage": ("UPDATE built SET context = x'80044b052e'", _body),
    "built-context-truncated": ("UPDATE built SET context = substr(context, 1, 30)", _body),
    "built-sha-blob": ("UPDATE built SET sha = x'00'", _body),
    "built-page-moved": ("UPDATE built SET page = 'index.html'", _body),
    "built-shape-blob": ("UPDATE built SET shape = x'07'", _body),  # a column NULL may fill
}


@pytest.mark.parametrize("case", DAMAGE)
def test_a_damaged_row_of_any_table_discards_the_cache_with_a_warning(
    fixture_site: Path, tmp_path: Path, case: str
) -> None:
    statement, edit = DAMAGE[case]
    config = load_config(fixture_site / "config.yaml")
    build_site(config, fixture_site / "_site")
    with sqlite3.connect(fixture_site / CACHE_DIR / "cache.sqlite") as database:
        assert database.execute(statement).rowcount > 0, "nothing was damaged"
    edit(fixture_site)
    config = load_config(fixture_site / "config.yaml")
    result = build_site(config, fixture_site / "_site")
    notes = [w.message for w in result.warnings if w.path.endswith(CACHE_DIR)]
    assert notes and any(
        word in notes[0] for word in ("damaged", "unreadable", "another version")
    ), notes
    assert site_tree(fixture_site / "_site", search=False) == _uncached(config, tmp_path / "clean")
    again = build_site(config, fixture_site / "_site")  # the new cache is sound
    assert not [w for w in again.warnings if w.path.endswith(CACHE_DIR)]
    table = case.split("-")[0]
    _record(f"damaged `{table}` row ({case.split('-', 1)[1].replace('-', ' ')}): discarded, warned")
