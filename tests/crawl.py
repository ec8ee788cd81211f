"""Crawl a served site from its home page over HTTP, following every internal link."""

from __future__ import annotations

import urllib.error
import urllib.request
from urllib.parse import urldefrag, urljoin

from clippings.check import page_links


def crawl(start: str, limit: int = 5000) -> tuple[set[str], list[tuple[str, str]]]:
    """Visit every page reachable from `start` inside it; returns pages seen and broken links."""
    seen: set[str] = set()
    broken: list[tuple[str, str]] = []
    queue = [start]
    while queue and len(seen) < limit:
        url = queue.pop()
        if url in seen:
            continue
        seen.add(url)
        try:
            with urllib.request.urlopen(url, timeout=10) as response:
                kind = response.headers.get_content_type()
                body = response.read().decode("utf-8", "replace")
        except urllib.error.HTTPError as error:
            broken.append((url, f"HTTP {error.code}"))
            continue
        if kind != "text/html":
            continue
        for link in page_links(body):
            target = urldefrag(urljoin(url, link)).url
            if target.startswith(start) and target not in seen:
                queue.append(target)
            elif target.startswith("http://127.0.0.1") and not target.startswith(start):
                broken.append((url, f"link leaves the site prefix: {link}"))
    return seen, broken
