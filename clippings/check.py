"""`check`: every internal link and asset reference in a built site resolves to a file.

Any site the build can make is checked without a traceback: a page is a regular `*.html` file
(a folder named `story.html` is an article's page folder, not a page), and a link that cannot
name a file (malformed, too long, odd percent-encoding) is reported as broken, not raised.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import unquote, urlsplit

from clippings.files import read_regular, reason

_LINK_ATTRIBUTES = {"href", "src", "srcset", "poster", "data"}
_ABSOLUTE = "__absolute-path-links-are-not-portable__"


@dataclass(frozen=True, order=True)
class BrokenLink:
    page: str
    target: str
    reason: str = "broken link"

    def __str__(self) -> str:
        return f"{self.page}: {self.reason} {self.target}".rstrip()


class _LinkCollector(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.links: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "base":  # 404.html's <base> names the site's root path (served at any depth)
            return
        for name, value in attrs:
            if name in _LINK_ATTRIBUTES and value:
                if name == "srcset":
                    self.links += [part.strip().split(" ")[0] for part in value.split(",")]
                else:
                    self.links.append(value)


def page_links(html: str) -> list[str]:
    collector = _LinkCollector()
    collector.feed(html)
    collector.close()
    return collector.links


def resolve(site_dir: Path, page: Path, link: str) -> Path | None:
    """The file a link points at inside the site, or None for external links and anchors.
    Raises ValueError or OSError for a link that cannot name a file."""
    parts = urlsplit(link)
    if parts.scheme or parts.netloc or link.startswith("#") or not parts.path:
        return None
    if parts.path.startswith("/"):
        return site_dir / _ABSOLUTE / parts.path.lstrip("/")
    target = Path(os.path.realpath(page.parent / unquote(parts.path, errors="strict")))
    if parts.path.endswith("/") or target.is_dir():
        target = target / "index.html"
    return target


def _resolves(site_dir: Path, page: Path, link: str) -> bool:
    try:
        target = resolve(site_dir, page, link)
        return target is None or (target.is_relative_to(site_dir) and target.is_file())
    except (ValueError, OSError):  # malformed, a NUL, a name too long for the file system
        return False


def html_pages(site_dir: Path) -> list[Path]:
    """Every `*.html` file of the site that is not a folder, symlinks to folders not followed."""
    pages = []
    for folder, _, names in os.walk(site_dir):
        pages += [Path(folder, name) for name in names if name.endswith(".html")]
    return sorted(pages)


def check_site(site_dir: Path) -> tuple[int, list[BrokenLink]]:
    """Check every HTML page; returns the number of pages read and the broken links found
    (and pages that could not be read or parsed, each as one entry)."""
    broken: set[BrokenLink] = set()
    root = site_dir.resolve()
    pages = html_pages(root)
    for page in pages:
        name = page.relative_to(root).as_posix()
        try:
            links = page_links(read_regular(page).decode("utf-8", errors="replace"))
        except OSError as error:
            broken.add(BrokenLink(name, "", f"cannot read page: {reason(error)}"))
            continue
        except Exception as error:  # html.parser on input it was not written for
            broken.add(BrokenLink(name, "", f"cannot parse page: {error}"))
            continue
        for link in links:
            if not _resolves(root, page, link):
                broken.add(BrokenLink(name, link))
    return len(pages), sorted(broken)
