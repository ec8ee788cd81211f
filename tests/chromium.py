"""Debian's chromium driven by Playwright, for browser tests and benchmarks.

Playwright never downloads a browser of its own here (`playwright install` is not allowed); these
flags keep Chromium from reaching for the network, which this machine refuses.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from playwright.sync_api import Browser, sync_playwright

CHROMIUM_PATH = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


def chromium_installed() -> bool:
    return Path(CHROMIUM_PATH).exists()


@contextmanager
def launched_chromium() -> Iterator[Browser]:
    """A headless Debian chromium, closed (with its Playwright driver) on exit."""
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM_PATH, args=CHROMIUM_ARGS)
        try:
            yield browser
        finally:
            browser.close()
