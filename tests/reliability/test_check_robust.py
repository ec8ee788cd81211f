"""`python build.py check` never crashes on any site the build can make, nor on odd pages and
links: it reports, and exits 0 or 1."""

from __future__ import annotations

import html
import os
import shutil
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from clippings.build import build_site
from clippings.check import check_site
from clippings.cli import main
from clippings.config import load_config
from tests.conftest import FIXTURE_SITE
from tests.reliability.report import FIGURES

pytestmark = pytest.mark.timeout(120)

FIGURES.expected["properties"] = FIGURES.expected.get("properties", 0) + 1  # one property

LETTER = "content/2019/letter.md"


def _record(case: str) -> None:
    FIGURES.trust.setdefault("check", []).append(case)


def _check(site: Path, capsys: pytest.CaptureFixture[str]) -> tuple[int, str]:
    code = main(["check", "--output", str(site)])
    out = capsys.readouterr().out
    assert code in (0, 1) and "Checked " in out
    return code, out


@pytest.mark.parametrize(
    "slug", ["story.html", "index.htm", "feed.xml.bak", "a.b.c", "x_y", "ünïcode-ñame", "404"]
)
def test_check_passes_a_site_with_odd_slugs(
    fixture_site: Path, capsys: pytest.CaptureFixture[str], slug: str
) -> None:
    """The issue's example: slug `story.html` made a folder named like a page, and check read it."""
    letter = fixture_site / LETTER
    letter.write_text(letter.read_text().replace("title:", f"slug: '{slug}'\ntitle:", 1))
    build_site(load_config(fixture_site / "config.yaml"), fixture_site / "_site")
    code, out = _check(fixture_site / "_site", capsys)
    assert code == 0, out
    _record(f"site with slug `{slug}`: checked, exit 0")


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Path:
    site = tmp_path_factory.mktemp("check") / "site"
    shutil.copytree(FIXTURE_SITE, site)
    build_site(load_config(site / "config.yaml"), site / "_site")
    return site / "_site"


ODD_PAGES = {
    "not-utf8": lambda p: p.write_bytes(b'<a href="caf\xe9/">x</a>\xff\xfe'),
    "nul-bytes": lambda p: p.write_bytes(b'<a href="a\0b">x</a>\0'),
    "unclosed-attribute": lambda p: p.write_text("<a href='index.html"),
    "bad-declarations": lambda p: p.write_text("<!><![CDATA[<![if x]><!--<a href=x>"),
    "charref-surrogate": lambda p: p.write_text('<a href="&#xD800;/&#0;/&#x110000;">x</a>'),
    "fifo": lambda p: os.mkfifo(p),
    "folder": lambda p: p.mkdir(),
    "symlink-loop": lambda p: p.symlink_to(p.name),
    "dangling-symlink": lambda p: p.symlink_to("nowhere.html"),
    "empty": lambda p: p.write_bytes(b""),
}


UNREADABLE = {
    "fifo": "a FIFO (named pipe), not a regular file",
    "symlink-loop": "Too many levels of symbolic links",
    "dangling-symlink": "No such file or directory",
}


@pytest.mark.timeout(30)  # a FIFO opened for reading would wait for ever
@pytest.mark.parametrize("case", ODD_PAGES)
def test_check_reports_odd_pages_without_crashing(
    built: Path, capsys: pytest.CaptureFixture[str], case: str
) -> None:
    page = built / f"odd-{case}.html"
    try:
        ODD_PAGES[case](page)
        code, out = _check(built, capsys)
    finally:
        if page.is_dir() and not page.is_symlink():
            page.rmdir()
        else:
            page.unlink(missing_ok=True)
    if case in UNREADABLE:
        assert f"odd-{case}.html: cannot read page: {UNREADABLE[case]}" in out, out
        assert code == 1
    _record(f"a page that is {case.replace('-', ' ')}: reported, exit {code}")


LINK_PIECES = st.sampled_from(
    ["%", "%zz", "%ff", "%00", "%2e%2e", "..", "/", "//", "#", "?", ":", "[", "]", "\\", "\0",
     "a" * 300, "index.html", "2019/", "http://", "//[", "mailto:", " ", "\t", "é", "\ud800"]
)  # fmt: skip
LINKS = st.lists(st.one_of(LINK_PIECES, st.text(max_size=8)), max_size=8).map("".join)


@pytest.fixture(scope="module")
def small_site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Pages for the link strings to resolve against, and nothing else to check each time."""
    site = tmp_path_factory.mktemp("links") / "_site"
    (site / "2019").mkdir(parents=True)
    (site / "index.html").write_text('<a href="2019/">2019</a>')
    (site / "2019" / "index.html").write_text('<a href="../index.html">home</a>')
    return site


@settings(
    max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(link=LINKS)
def test_any_link_string_is_reported_or_resolved_never_raised(small_site: Path, link: str) -> None:
    page = small_site / "probe.html"
    value = html.escape(link, quote=True)
    markup = f'<a href="{value}">a</a><img src="{value}" srcset="{value} 2x, {value}">'
    page.write_bytes(markup.encode("utf-8", errors="surrogatepass"))
    try:
        pages, broken = check_site(small_site)
    finally:
        page.unlink()
    assert pages == 3
    assert all(item.page == "probe.html" for item in broken)
    FIGURES.properties["check over link strings (Hypothesis)"] = 300


def test_check_counts_a_broken_link_and_exits_1(
    built: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    page = built / "broken.html"
    page.write_text('<a href="nowhere/">x</a><a href="/absolute/">y</a><a href="//[">z</a>')
    try:
        code, out = _check(built, capsys)
    finally:
        page.unlink()
    assert code == 1
    for link in ("nowhere/", "/absolute/", "//["):
        assert f"broken.html: broken link {link}\n" in out
    _record("broken, absolute and malformed links: each reported, exit 1")
