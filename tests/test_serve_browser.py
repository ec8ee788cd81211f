"""`serve` in a real browser: edits show up, build errors show an overlay, new articles appear."""

from __future__ import annotations

import html
import json
import os
import queue
import re
import shutil
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from clippings.content import parse_article
from tests.chromium import chromium_installed, launched_chromium
from tests.conftest import REPO, reaped, site_tree, stop_process, write_article
from tests.crawl import crawl

pytestmark = pytest.mark.browser
playwright_sync = pytest.importorskip("playwright.sync_api")
WAIT_MS = 15_000


class ServeProcess:
    """`build.py serve` on a free port in a copy of the shipped archive, with its log lines."""

    def __init__(self, site: Path) -> None:
        self.site = site
        self.process = subprocess.Popen(
            [
                sys.executable,
                str(REPO / "build.py"),
                "serve",
                "--port",
                "0",
                "--base-path",
                "/repo/",
            ],
            cwd=site,
            stderr=subprocess.PIPE,
            text=True,
            env={**os.environ, "PYTHONPATH": str(REPO)},
        )
        self.lines: queue.Queue[str] = queue.Queue()
        self.log: list[str] = []  # every line, for the report of a failed test
        threading.Thread(target=self._read, daemon=True).start()
        try:
            self.url = self.wait_for(r"^Serving .* at (\S+) ").group(1)
        except BaseException:
            self.process.kill()
            self.process.wait(timeout=10)
            raise

    def _read(self) -> None:
        assert self.process.stderr is not None
        for line in self.process.stderr:
            self.log.append(line)
            self.lines.put(line)

    def wait_for(self, pattern: str) -> re.Match[str]:
        while True:
            line = self.lines.get(timeout=30)
            match = re.search(pattern, line)
            if match:
                return match

    def settle(self, quiet: float = 1.0) -> None:
        """Wait until the server has logged nothing for `quiet` seconds (earlier saves are done)."""
        try:
            while True:
                self.lines.get(timeout=quiet)
        except queue.Empty:
            pass

    def wait_for_search_index(self, seconds: float = 120) -> None:
        """Wait until every index bundle the search page names is in the site: `serve` indexes
        in a background thread after its first build, so the page links them before they exist."""
        site = self.site / "_site"
        deadline = time.monotonic() + seconds
        while True:
            page = (site / "search" / "index.html").read_text(encoding="utf-8")
            found = re.search(r'data-bundles="([^"]*)"', page)
            assert found, "the search page names no index bundles"
            bundles = json.loads(html.unescape(found.group(1)))
            assert bundles, "the search page names no index bundles"
            needed = [site / bundle / "pagefind-entry.json" for bundle in bundles]
            needed += [site / bundles[0] / name for name in ("pagefind-ui.js", "pagefind-ui.css")]
            if all(path.is_file() for path in needed):
                return
            assert time.monotonic() < deadline, f"no search index after {seconds} s: {needed}"
            assert self.process.poll() is None, "serve exited"
            time.sleep(0.2)

    def stop(self) -> None:
        stop_process(self.process)


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServeProcess]:
    site = tmp_path_factory.mktemp("served")
    for name in ("content", "data"):
        shutil.copytree(REPO / name, site / name)
    shutil.copy(REPO / "config.yaml", site / "config.yaml")
    (site / "static").mkdir()  # the site's own stylesheet, replacing the theme's
    shutil.copy(REPO / "clippings/theme/static/style.css", site / "static/style.css")
    process = ServeProcess(site)
    with reaped(process.process):
        yield process
        process.stop()
    assert process.process.returncode == 0


@pytest.fixture(scope="module")
def chromium() -> Iterator[object]:
    """Debian's chromium (named so as not to take pytest-playwright's `browser` fixture)."""
    if not chromium_installed():
        pytest.skip("Debian's chromium is not installed")
    with launched_chromium() as browser:
        yield browser


@pytest.fixture(autouse=True)
def server_log(server: ServeProcess, request: pytest.FixtureRequest) -> None:
    """What the server logged during a test, shown with it when it fails (see conftest)."""
    start = len(server.log)
    request.node.served_log = lambda: "".join(server.log[start:])


def _article(server: ServeProcess) -> Path:
    return sorted((server.site / "content").rglob("*.md"))[0]


def _article_url(server: ServeProcess, source: Path) -> str:
    article, _ = parse_article(source.read_text(encoding="utf-8"), source.name)
    assert article is not None
    return server.url + article.path


def test_an_edit_shows_up_in_the_open_page(server: ServeProcess, chromium) -> None:
    source = _article(server)
    page = chromium.new_page()
    page.goto(_article_url(server, source))
    source.write_text(source.read_text(encoding="utf-8") + "\nA freshly saved sentence.\n", "utf-8")
    playwright_sync.expect(page.locator(".body")).to_contain_text(
        "A freshly saved sentence.", timeout=WAIT_MS
    )
    page.close()


def test_broken_front_matter_shows_an_overlay_until_fixed(server: ServeProcess, chromium) -> None:
    source = _article(server)
    good = source.read_text(encoding="utf-8")
    page = chromium.new_page()
    page.goto(_article_url(server, source))
    source.write_text(good.replace("title: ", "title: [", 1), encoding="utf-8")
    overlay = page.locator("#clippings-overlay")
    relative = source.relative_to(server.site).as_posix()
    try:
        playwright_sync.expect(overlay).to_contain_text(
            re.compile(re.escape(relative) + r":\d+: "), timeout=WAIT_MS
        )
    finally:  # the later tests need a site that builds
        source.write_text(good, encoding="utf-8")
    playwright_sync.expect(overlay).to_have_count(0, timeout=WAIT_MS)
    page.close()


def test_a_new_article_appears_on_its_persons_page(server: ServeProcess, chromium) -> None:
    page = chromium.new_page()
    page.goto(f"{server.url}people/kim-jong-un/")
    write_article(
        server.site / "content",
        "2019/new-summit.md",
        "title: A Brand New Summit Story\ndate: 2019-06-30\npublication: Example Times\n"
        "people: [Kim Jong Un]",
    )
    playwright_sync.expect(page.locator("main")).to_contain_text(
        "A Brand New Summit Story", timeout=WAIT_MS
    )
    page.close()


def test_a_stylesheet_change_is_swapped_in_without_a_reload(server: ServeProcess, chromium) -> None:
    server.settle()  # no reload from an earlier test's save may land on this page
    page = chromium.new_page()
    page.goto(server.url)
    page.evaluate("window.stillHere = true")
    stylesheet = server.site / "static/style.css"
    stylesheet.write_text(
        stylesheet.read_text(encoding="utf-8") + "\nh1 { color: rgb(1, 2, 3); }\n"
    )
    playwright_sync.expect(page.locator("h1").first).to_have_css(
        "color", "rgb(1, 2, 3)", timeout=WAIT_MS
    )
    assert page.evaluate("window.stillHere") is True
    # The browser keeps stylesheets by version: a page loaded after the change has the new one.
    page.goto(server.url + "people/")
    playwright_sync.expect(page.locator("h1").first).to_have_css("color", "rgb(1, 2, 3)")
    page.close()


def test_the_served_site_passes_the_link_crawl(server: ServeProcess) -> None:
    server.wait_for_search_index()
    seen, broken = crawl(server.url)
    assert broken == []
    site = site_tree(server.site / "_site", search=False)  # (search may be swapping a shard)
    built = [path for path in site if path.endswith("index.html")]
    assert len(seen) >= len(built) > 10
