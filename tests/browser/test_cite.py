"""The cite block and the data page in Chromium: shown without script, hostile titles inert,
downloads reachable under a sub-path; axe-core finds nothing; screenshots at both widths."""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from clippings.build import build_site
from clippings.config import load_config
from tests.browser.conftest import ARTIFACTS, axe_violations
from tests.browser.test_pages import WIDTHS
from tests.conftest import write_article
from tests.pages_server import pages_server
from tests.test_exports import HOSTILE_AUTHORS, HOSTILE_PUBLICATION, HOSTILE_TITLE


@pytest.fixture(scope="module")
def cite_site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    import shutil

    from tests.conftest import FIXTURE_SITE

    root = tmp_path_factory.mktemp("cite") / "site"
    shutil.copytree(FIXTURE_SITE, root, ignore=shutil.ignore_patterns(".clippings-cache"))
    authors = json.dumps(HOSTILE_AUTHORS, ensure_ascii=False)
    write_article(
        root / "content",
        "2021/hostile.md",
        f"title: {json.dumps(HOSTILE_TITLE[:200], ensure_ascii=False)}\nslug: hostile\n"
        f"date: 2021-02-03\npublication: {json.dumps(HOSTILE_PUBLICATION)}\n"
        f"authors: {authors}\nurl: https://example.com/a?b=1&c=%22\n",
    )
    config = dataclasses.replace(load_config(root / "config.yaml"), search=False)
    build_site(config, root / "_site")
    with pages_server(root / "_site", "/repo/") as base:
        yield base


def test_cite_block_shows_each_style_and_keeps_hostile_text_inert(page: Page, cite_site: str):
    dialogs: list[str] = []
    page.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))
    page.context.set_extra_http_headers({})
    page.goto(cite_site + "2021/hostile/")
    block = page.locator("section.cite")
    expect(block).to_be_visible()
    expect(block.locator("dd.citation")).to_have_count(3)
    first = block.locator("dd.citation").first.inner_text()
    assert "<script>alert(1)</script>" in first  # shown as text, never run
    assert "The <i>Daily</i> & {Co} 50%" in first
    assert dialogs == []
    ARTIFACTS.mkdir(exist_ok=True)
    for label, width in WIDTHS.items():
        page.set_viewport_size({"width": width, "height": 900})
        block.scroll_into_view_if_needed()
        page.screenshot(path=str(ARTIFACTS / f"cite-{label}.png"))
    with page.expect_download() as download:
        block.locator("a", has_text="RIS").click()
    assert download.value.suggested_filename == "cite.ris"
    text = Path(download.value.path()).read_text("utf-8")
    assert text.startswith("TY  - NEWS")


@pytest.mark.parametrize("path", ["2020/leaders-meet-at-the-summit/", "data/"])
def test_axe_on_cite_block_and_data_page(page: Page, cite_site: str, path: str):
    page.goto(cite_site + path)
    name = "data" if path == "data/" else "cite-article"
    for label, width in WIDTHS.items():
        page.set_viewport_size({"width": width, "height": 900})
        page.screenshot(path=str(ARTIFACTS / f"{name}-{label}.png"), full_page=True)
    if path == "data/":
        expect(page.locator("table.downloads tbody tr")).to_have_count(6)
        response = page.request.get(cite_site + "archive.sqlite")
        assert response.ok and response.body()[:16] == b"SQLite format 3\x00"
    for scheme in ("light", "dark"):
        page.emulate_media(color_scheme=scheme)
        assert axe_violations(page) == [], scheme
