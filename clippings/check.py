"""`check`: every internal link and asset reference in a built site resolves to a file."""

from __future__ import annotations

from dataclasses import dataclass
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import unquote, urlsplit

_LINK_ATTRIBUTES = {"href", "src", "srcset", "poster", "data"}


@dataclass(frozen=True, order=True)
class BrokenLink:
    page: str
    target: str

    def __str__(self) -> str:
        return f"{self.page}: broken link {self.target}"


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
    return collector.links


def resolve(site_dir: Path, page: Path, link: str) -> Path | None:
    """The file a link points at inside the site, or None for external links and anchors."""
    parts = urlsplit(link)
    if parts.scheme or parts.netloc or link.startswith("#") or not parts.path:
        return None
    if parts.path.startswith("/"):
        return site_dir / "__absolute-path-links-are-not-portable__" / parts.path.lstrip("/")
    target = (page.parent / unquote(parts.path)).resolve()
    if parts.path.endswith("/") or target.is_dir():
        target = target / "index.html"
    return target


def check_site(site_dir: Path) -> tuple[int, list[BrokenLink]]:
    """Check every HTML page; returns the number of pages read and the broken links found."""
    broken: set[BrokenLink] = set()
    root = site_dir.resolve()
    pages = sorted(root.rglob("*.html"))
    for page in pages:
        for link in page_links(page.read_text(encoding="utf-8", errors="replace")):
            target = resolve(root, page, link)
            if target is None:
                continue
            if not target.is_relative_to(root) or not target.is_file():
                broken.add(BrokenLink(page.relative_to(root).as_posix(), link))
    return len(pages), sorted(broken)
