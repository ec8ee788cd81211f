"""Escaping for the sinks whose rules Jinja's autoescape does not know: link targets and
Pagefind's UI. Every value from content, the authority file, config or an import is hostile.

What each output context needs, and where it is done:

- HTML text and attributes: Jinja's autoescape (`&`, `<`, `>`, `"`, `'`), in every template.
- Link targets (`href`, `src`): `safe_url`, the `safe_url` template filter; only `http:`,
  `https:`, `mailto:` and relative URLs become links, anything else is shown as text.
  `web_url` narrows it to absolute http(s) URLs with a host, for what must lead to the web
  (an article's original and its Wayback captures, citations, `base_url`).
- XML (feeds, sitemap): autoescape, plus loading drops what XML 1.0 forbids
  (`text.without_xml_forbidden`), with a warning naming the file and field.
- JSON inside `<script>`: Jinja's `tojson` filter (escapes `<`, `>`, `&`, `'` and, with
  `ensure_ascii`, U+2028/U+2029, so `</script>` and `<!--` cannot end or bend the script).
- Pagefind's default UI: `pagefind_html` for values it renders as HTML (see search.py).
"""

from __future__ import annotations

import html
import re
from urllib.parse import urlsplit

SAFE_SCHEMES = frozenset({"http", "https", "mailto"})
WEB_SCHEMES = frozenset({"http", "https"})
_SCHEME = re.compile(r"([a-zA-Z][a-zA-Z0-9+.-]*):")
# Browsers drop tab, LF and CR anywhere in a URL, and C0 controls and spaces at its ends, before
# they read the scheme ("java\tscript:" and " javascript:" are javascript: URLs): a URL holding
# any of them, or another control character, is never a link.
_CONTROL_OR_SPACE = re.compile("[\x00-\x20\x7f-\x9f\u2028\u2029]")


def safe_url(url: object) -> str | None:
    """`url` when it may be a link target: `http:`, `https:` or `mailto:` (any case), or a
    relative URL; None otherwise (`javascript:`, `data:`, `vbscript:`, any other scheme, a
    colon before the first `/`, `?` or `#` that is no scheme, or control characters or spaces
    anywhere). Templates show a None URL as text: `{% set href = url | safe_url %}`."""
    if not isinstance(url, str) or not url:
        return None
    # Checked as written and with character references decoded: an attribute written without
    # escaping `&` (Python-Markdown's serialiser leaves "&#58;" alone) is decoded by the browser.
    return url if _safe_target(url) and _safe_target(html.unescape(url)) else None


def web_url(url: object) -> str | None:
    """`url` when `safe_url` keeps it and it is an absolute `http:` or `https:` URL with a host
    (as written, not only once character references are decoded); None otherwise (`mailto:`,
    relative URLs and everything `safe_url` refuses)."""
    target = safe_url(url)
    if target is None:
        return None
    try:
        parts = urlsplit(target)
        host = parts.hostname
    except ValueError:  # a malformed IPv6 host: "http://[x/"
        return None
    return target if parts.scheme.lower() in WEB_SCHEMES and host else None


def _safe_target(url: str) -> bool:
    if _CONTROL_OR_SPACE.search(url):
        return False
    scheme = _SCHEME.match(url)
    if scheme:
        return scheme.group(1).lower() in SAFE_SCHEMES
    # "jav&#x61;script:" is no scheme (a browser reads it as a path), but nobody means it
    return ":" not in re.split(r"[/?#]", url, maxsplit=1)[0]


def pagefind_html(text: str) -> str:
    """A value for a place where Pagefind's default UI inserts it as HTML without escaping it
    (filter names and values: a label's innerHTML): `&`, `<` and `>` escaped, so it shows as
    the text it is. Titles and other metadata are inserted as text, and Pagefind escapes the
    content it cuts excerpts from itself: those must not go through this, or visitors would
    see `&amp;`."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
