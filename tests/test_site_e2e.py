"""End to end: build the shipped archive, serve it as GitHub Pages does under /repo/, crawl it."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from clippings.check import check_site
from tests.conftest import REPO
from tests.crawl import crawl
from tests.pages_server import pages_server


@pytest.fixture(scope="module")
def shipped_site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    site = tmp_path_factory.mktemp("shipped") / "_site"
    result = subprocess.run(
        [sys.executable, "build.py", "--output", str(site), "--quiet"],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert result.returncode == 0, result.stderr
    return site


def test_check_finds_no_broken_links(shipped_site: Path):
    pages, broken = check_site(shipped_site)
    assert pages > 20
    assert broken == []


def test_crawl_under_subpath_reaches_every_page(shipped_site: Path):
    with pages_server(shipped_site, "/repo/") as base:
        seen, broken = crawl(base)
    assert broken == []
    html_pages = {p.relative_to(shipped_site).as_posix() for p in shipped_site.rglob("index.html")}
    crawled = {url.removeprefix(base) + ("index.html" if url.endswith("/") else "") for url in seen}
    assert html_pages - crawled == set()


def test_seed_people_link_both_articles(shipped_site: Path):
    for person in ("kim-jong-un", "vladimir-putin"):
        html = (shipped_site / "people" / person / "index.html").read_text()
        articles = [p.parent.name for p in shipped_site.glob("2018/*/index.html")]
        assert len(articles) == 2
        for slug in articles:
            assert f'href="../../2018/{slug}/"' in html


def test_site_works_at_root_too(shipped_site: Path, tmp_path: Path):
    root_copy = tmp_path / "root"
    shutil.copytree(shipped_site, root_copy)
    with pages_server(root_copy, "/") as base:
        seen, broken = crawl(base)
    assert broken == []
    assert len(seen) > 20
