"""Saved HTML pages: trafilatura finds the main text and the page's metadata."""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field

# SingleFile's note at the top of a saved page: "saved date: Mon Dec 06 2021 10:21:03 GMT+0100".
# The capture note SingleFile writes at the top of a saved page:
#   <!-- Page saved with SingleFile  url: https://…  saved date: Tue Mar 20 2018 10:15:00 GMT+0000 (…) -->
_SAVED_DATE = re.compile(
    r"saved date:\s*\w{3} (\w{3} \d{1,2} \d{4} \d{2}:\d{2}:\d{2}) GMT([+-]\d{4})"
)

# The page's own date markup only (meta tags, JSON-LD, <time>, the URL): htmldate's extensive
# search also takes dates from the text, which the importer never does (a photo's date in a
# sentence is not the article's), and cost 0.8 s a page through dateparser when it ran.
_DATE_PARAMETERS = {"original_date": True, "extensive_search": False}


@dataclass
class Page:
    text: str
    title: str | None = None
    date: str | None = None
    url: str | None = None
    publication: str | None = None
    authors: list[str] = field(default_factory=list)
    retrieved: str | None = None


def extract_page(html: str) -> Page | None:
    """Main text (title first, one paragraph per line) and metadata, or None with neither a body
    nor a title."""
    import trafilatura

    document = trafilatura.bare_extraction(
        html,
        with_metadata=True,
        include_comments=False,
        include_tables=False,
        as_dict=False,
        date_extraction_params=_DATE_PARAMETERS,
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
        retrieved=saved_date(html),
    )


def saved_date(html: str) -> str | None:
    """When a saved page was captured, from its saver's note (SingleFile), as ISO 8601."""
    match = _SAVED_DATE.search(html[:5000])
    if match is None:
        return None
    try:
        moment = dt.datetime.strptime(" ".join(match.groups()), "%b %d %Y %H:%M:%S %z")
    except ValueError:
        return None
    return moment.isoformat()
