"""Browsing in headless Chromium: the coverage map, timelines, "show all", sorting, the 404 page
at depth, print, an article in French, no horizontal overflow from 320 to 1,920 px, axe-core on
every page kind in light and dark, and screenshots of each at phone and desktop widths."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, expect

from tests.browse_site import write_browse_site
from tests.browser.conftest import ARTIFACTS, axe_violations, build, html_errors
from tests.pages_server import pages_server

PAGE_KINDS = {
    "home": "",
    "home-page-2": "page/2/",
    "year": "2018/",
    "article": "2018/report-7/",
    "article-fr": "2017/report-11/",
    "person": "people/vladimir-putin/",
    "person-once": "people/alexei-navalny/",
    "country": "countries/russia/",
    "source": "sources/reuters/",
    "people": "people/",
    "countries": "countries/",
    "search": "search/",
    "not-found": "no/such/page/",
}
WIDTHS = {"phone": 375, "desktop": 1280}


@pytest.fixture(scope="module")
def browse_site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The browsing test archive, built with search."""
    root = tmp_path_factory.mktemp("browse")
    config = write_browse_site(root)
    build(root / "_site", "--config", str(config))
    return root / "_site"


@pytest.fixture(scope="module")
def site_url(browse_site: Path) -> Iterator[str]:
    """The browsing test archive served under /repo/, as GitHub Pages serves a project."""
    with pages_server(browse_site, "/repo/") as base:
        yield base


def test_every_page_kind_is_valid_html(browse_site: Path):
    pages = [browse_site / path / "index.html" for path in PAGE_KINDS.values() if "no/" not in path]
    assert html_errors([*pages, browse_site / "404.html"]) == ""


def test_the_coverage_map_links_each_named_country_with_its_name_and_count(
    page: Page, site_url: str
):
    page.goto(site_url + "countries/")
    links = page.locator("svg.world-map a")
    expect(links).to_have_count(11)  # 13 countries, 2 without a shape
    # The countries no article names are one shape; a path error would stop it drawing early.
    land = page.evaluate(
        "(b => ({width: b.width, height: b.height}))("
        "document.querySelector('svg.world-map > path').getBBox())"
    )
    assert land["width"] > 900 and land["height"] > 350
    russia = page.locator('svg.world-map a[href$="countries/russia/"]')
    expect(russia.locator("title")).to_have_text("Russia: 11 articles")
    unmapped = page.locator(".unmapped")
    expect(unmapped).to_contain_text("Ruritania (9)")
    expect(unmapped).to_contain_text("Soviet Union (7)")
    russia.focus()  # keyboard-focusable, and followed like any link
    assert page.evaluate("document.activeElement.getAttribute('href')") == "../countries/russia/"
    page.keyboard.press("Enter")
    expect(page.locator("h1")).to_have_text("Russia")
    # On a country's page, that country is highlighted and the ones named with it shaded.
    expect(page.locator("svg.world-map a.level-6")).to_have_count(1)
    expect(page.locator("svg.world-map a.level-6 title")).to_have_text("Russia: 11 articles")
    expect(page.locator(".map-legend")).to_contain_text("Russia")


def test_timelines_have_bars_with_counts_ticks_and_a_text_summary(page: Page, site_url: str):
    page.goto(site_url)
    chart = page.locator("figure.timeline")
    expect(chart.locator("rect")).to_have_count(5)  # 2016 to 2020, per year
    expect(chart.locator("rect title").first).to_have_text("2016: 12 articles")
    expect(chart.locator(".timeline-axis li")).to_have_count(5)
    expect(chart.locator("figcaption")).to_have_text(
        "60 articles from 2016 to 2020, per year; the most, 12, in 2016."
    )
    page.goto(site_url + "2018/")
    expect(page.locator("figure.timeline rect")).to_have_count(12)
    expect(page.locator("figure.timeline .timeline-axis li")).to_have_text(
        ["Jan 2018", "Apr 2018", "Jul 2018", "Oct 2018"]
    )
    page.goto(site_url + "people/alexei-navalny/")
    expect(page.locator("figure.timeline")).to_have_count(0)
    expect(page.locator(".timeline-note")).to_have_text(
        "One article names Alexei Navalny, from December 2016."
    )


def test_appears_with_is_grouped_by_kind_and_show_all_works_without_script(
    browser: Browser, site_url: str
):
    context = browser.new_context(java_script_enabled=False)
    page = context.new_page()
    try:
        page.goto(site_url + "people/vladimir-putin/")
        groups = page.locator(".cooccurring h3")
        expect(groups).to_have_text(["People (13)", "Countries (13)", "Sources (4)"])
        people = page.locator(".cooccurring details").first
        hidden = people.locator("li a").first
        expect(hidden).to_be_hidden()
        people.locator("summary").click()
        expect(hidden).to_be_visible()
        names = page.locator(".cooccurring ol").first.locator("li a").all_inner_texts()
        names += people.locator("li a").all_inner_texts()
        assert len(names) == 13 and {"Sergei Lavrov", "Donald Trump", "Xi Jinping"} <= set(names)
    finally:
        context.close()


def test_the_people_overview_sorts_by_name_surname_and_count(page: Page, site_url: str):
    page.goto(site_url + "people/")
    first = page.locator(".term-table tbody tr:first-child td:first-child")
    expect(first).to_have_text("Alexei Navalny")
    page.click("button[data-sort=surname]")
    expect(first).to_have_text("Shinzo Abe")
    rows = page.locator(".term-table tbody td:first-child").all_inner_texts()
    # Family name first where the authority says so; sort_name for Erdoğan.
    assert (
        rows.index("Recep Tayyip Erdoğan") < rows.index("Kim Jong Un") < rows.index("Sergei Lavrov")
    )
    assert rows.index("Angela Merkel") < rows.index("Narendra Modi") < rows.index("Moon Jae-in")
    page.click("button[data-sort=count]")
    expect(first).to_have_text("Vladimir Putin")
    expect(page.locator("th[aria-sort=descending] button[data-sort=count]")).to_have_count(1)


def test_404_at_depth_three_loads_its_styles_and_links_resolve(page: Page, site_url: str):
    response = page.goto(site_url + "a/b/c/")
    assert response is not None and response.status == 404
    background = page.evaluate("getComputedStyle(document.body).backgroundColor")
    assert background == "rgb(251, 250, 247)"  # the theme's stylesheet, not the browser's white
    page.locator("main a", has_text="people").click()
    expect(page.locator("h1")).to_have_text("People")
    assert page.url == site_url + "people/"


@pytest.fixture(scope="module")
def rootless_site_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A few articles of the browsing archive built without a base_url, served under /repo/."""
    root = tmp_path_factory.mktemp("rootless")
    config = write_browse_site(root, articles=6)
    text = config.read_text(encoding="utf-8")
    config.write_text(text.replace("base_url: https://example.org/repo/\n", ""), encoding="utf-8")
    build(root / "_site", "--config", str(config))
    assert "<base " not in (root / "_site" / "404.html").read_text(encoding="utf-8")
    with pages_server(root / "_site", "/repo/") as base:
        yield base


@pytest.mark.parametrize("missing", ["a/b/", "a/b/c/", "2018/no-such-story/x"])
def test_404_without_a_base_url_finds_the_site_root_at_any_depth(
    page: Page, rootless_site_url: str, missing: str
):
    response = page.goto(rootless_site_url + missing)
    assert response is not None and response.status == 404
    expect(page.locator("head > base")).to_have_attribute("href", "/repo/")
    page.wait_for_function(  # the stylesheet, asked for again from the root
        "getComputedStyle(document.body).backgroundColor === 'rgb(251, 250, 247)'"
    )
    if missing == "a/b/c/":
        for label, width in WIDTHS.items():
            page.set_viewport_size({"width": width, "height": 900})
            page.screenshot(path=str(ARTIFACTS / f"browse-not-found-rootless-{label}.png"))
    page.locator("main a", has_text="people").click()
    expect(page.locator("h1")).to_have_text("People")
    assert page.url == rootless_site_url + "people/"
    page.go_back()  # the page runs its script again: wait for the root before clicking
    expect(page.locator("head > base")).to_have_attribute("href", "/repo/")
    page.locator("nav a", has_text="Search").click()
    expect(page.locator("h1")).to_have_text("Search")
    assert page.url == rootless_site_url + "search/"
    page.go_back()
    expect(page.locator("head > base")).to_have_attribute("href", "/repo/")
    page.locator(".site-title a").click()
    assert page.url == rootless_site_url


def test_print_hides_navigation_and_prints_link_targets(page: Page, site_url: str):
    page.goto(site_url + "2018/report-7/")
    page.emulate_media(media="print")
    expect(page.locator(".site-header nav")).to_be_hidden()
    expect(page.locator(".prev-next")).to_be_hidden()
    expect(page.locator(".related")).to_be_hidden()
    after = page.evaluate("getComputedStyle(document.querySelector('.body a'), '::after').content")
    assert "https://example.org/statement-7" in after


def test_an_article_in_french_sets_the_page_language(page: Page, site_url: str):
    page.goto(site_url + "2017/report-11/")
    assert page.evaluate("document.documentElement.lang") == "fr"
    assert page.locator(".site-header").get_attribute("lang") == "en"
    expect(page.locator("h1")).to_have_text("Poutine reçoit Kim Jong Un à Vladivostok")


def test_captions_are_figures_where_they_stood(page: Page, site_url: str):
    page.goto(site_url + "2018/report-7/")
    order = page.evaluate(
        "Array.from(document.querySelector('.body').children, e => e.tagName).join(' ')"
    )
    assert order == "P FIGURE P P FIGURE P"
    expect(page.locator("figure.caption figcaption").first).to_contain_text(
        "The delegations before the talks"
    )
    expect(page.locator(".byline")).to_have_text("February 8, 2018 · Reuters · By Reporter 3")


@pytest.mark.parametrize("name", PAGE_KINDS)
def test_no_horizontal_overflow_from_320_to_1920_px(page: Page, site_url: str, name: str):
    page.goto(site_url + PAGE_KINDS[name])
    for width in (320, 375, 768, 1024, 1280, 1920):
        page.set_viewport_size({"width": width, "height": 800})
        scroll = page.evaluate("document.documentElement.scrollWidth")
        assert scroll <= width, f"{name} at {width} px is {scroll} px wide"


@pytest.mark.parametrize("name", PAGE_KINDS)
def test_axe_finds_no_violations_and_screenshots_are_saved(page: Page, site_url: str, name: str):
    page.goto(site_url + PAGE_KINDS[name])
    if name == "search":
        page.fill(".pagefind-ui__search-input", "Putin")
        expect(page.locator(".pagefind-ui__result-link").first).to_be_visible()
    ARTIFACTS.mkdir(exist_ok=True)
    for scheme in ("light", "dark"):
        page.emulate_media(color_scheme=scheme)
        for label, width in WIDTHS.items():
            page.set_viewport_size({"width": width, "height": 900})
            shot = ARTIFACTS / f"browse-{name}-{label}-{scheme}.png"
            page.screenshot(path=str(shot), full_page=True)
        violations = axe_violations(page)
        assert violations == [], f"{scheme}: {json.dumps(violations, indent=1)}"
