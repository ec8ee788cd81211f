"""The theme in headless Chromium: click-through navigation, axe-core accessibility checks,
valid HTML (vnu), and screenshots at phone and desktop widths (saved in test-artifacts/)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from tests.browser.conftest import ARTIFACTS, axe_violations, html_errors

PAGES = {
    "home": "",
    "article": "2018/kim-jong-un-wishes-putin-good-luck-in-building-a-powerful-russia/",
    "term": "people/vladimir-putin/",
    "overview": "countries/",
    "search": "search/",
}
WIDTHS = {"phone": 375, "desktop": 1280}


def test_click_through_home_article_person_article_country(page: Page, site_url: str):
    page.goto(site_url)
    page.locator(".article-list a").first.click()
    first_title = page.locator("h1").inner_text()
    page.locator(".article-meta .tags a", has_text="Vladimir Putin").click()
    expect(page.locator("h1")).to_have_text("Vladimir Putin")
    page.locator(".article-list a").filter(has_not_text=first_title).first.click()
    expect(page.locator("h1")).not_to_have_text(first_title)
    page.locator(".article-meta .tags a", has_text="Russia").click()
    expect(page.locator("h1")).to_have_text("Russia")
    assert page.url == site_url + "countries/russia/"


@pytest.mark.parametrize("name", PAGES)
def test_axe_finds_no_wcag_a_or_aa_violations(page: Page, site_url: str, name: str):
    page.goto(site_url + PAGES[name])
    if name == "search":  # check the page with results showing, filters included
        page.fill(".pagefind-ui__search-input", "Putin")
        expect(page.locator(".pagefind-ui__result-link")).to_have_count(2)
    ARTIFACTS.mkdir(exist_ok=True)
    for label, width in WIDTHS.items():
        page.set_viewport_size({"width": width, "height": 900})
        page.screenshot(path=str(ARTIFACTS / f"{name}-{label}.png"), full_page=True)
    for scheme in ("light", "dark"):
        page.emulate_media(color_scheme=scheme)
        violations = axe_violations(page)
        assert violations == [], f"{scheme}: {json.dumps(violations, indent=1)}"


def test_html_validates_with_zero_errors(shipped_site: Path):
    files = [shipped_site / path / "index.html" for path in PAGES.values()]
    files += [shipped_site / "404.html", shipped_site / "people" / "index.html"]
    assert html_errors(files) == ""
