"""Saved HTML pages: trafilatura finds the main text and the page's metadata."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass
class Page:
    text: str
    title: str | None = None
    date: str | None = None
    url: str | None = None
    publication: str | None = None
    authors: list[str] = field(default_factory=list)


def extract_page(html: str) -> Page | None:
    """Main text (title first, one paragraph per line) and metadata, or None with neither a body
    nor a title."""
    import trafilatura

    document = trafilatura.bare_extraction(
        html, with_metadata=True, include_comments=False, include_tables=False, as_dict=False
    )
    if document is None:
        return None
    title = (document.title or "").strip() or None
    # A photo gallery has a title and no text: still a capture to keep, as a record.
    if not (document.text or "").strip() and title is None:
        return None
    authors = [a.strip() for a in (document.author or "").split(";") if a.strip()]
    paragraphs = [line.strip() for line in (document.text or "").splitlines() if line.strip()]
    if title and (not paragraphs or paragraphs[0] != title):
        paragraphs.insert(0, title)
    return Page(
        text="\n\n".join(paragraphs),
        title=title,
        date=document.date,
        url=document.url,
        publication=(document.sitename or "").strip() or None,  # og:site_name and the like
        authors=authors,
    )
