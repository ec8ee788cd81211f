"""From a page's text (and what the manifest or HTML metadata says) to an extracted article."""

from __future__ import annotations

import datetime as dt
import re
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from clippings.authority import Authority
from clippings.importer import entities
from clippings.importer.dates import juche_date, parse_iso, url_date
from clippings.importer.rules import Rules, load_rules
from clippings.importer.segment import segment

_CREDIT_ONLY = re.compile(
    r"(?i:(pic|photo|image|picture|credit)s?( credit| source)?\s*[,:|].*)|[^.]{0,80}\|[^.]{0,80}",
    re.DOTALL,
)
_SUMMARY_CHARS = 300
_TITLE_WORDS = 10
# The longest piece of text given to spaCy at once (its own limit, max_length, is 1,000,000).
NLP_PIECE_CHARS = 100_000
_SENTENCE_BREAK = re.compile(r"(?<=[.!?])\s+(?=[A-Z\"“])|(?<=[.!?][\"”’'])\s+(?=[A-Z\"“])")


@dataclass
class Meta:
    """What the manifest, the command line or the HTML page says about a text."""

    url: str | None = None
    publication: str | None = None
    date: str | None = None
    title: str | None = None
    authors: list[str] = field(default_factory=list)
    retrieved: str | None = None  # when the page was captured (a WARC's date, the manifest)


@dataclass
class Extracted:
    title: str | None
    date: dt.date | None
    publication: str | None
    url: str | None
    authors: list[str]
    people: list[str]
    countries: list[str]
    sources: list[str]
    dek: str | None
    captions: list[str]
    caption_places: list[int]  # body paragraphs before each caption
    body: list[str]
    summary: str | None
    boilerplate: list[str]
    unknown: dict[str, Counter[str]]
    retrieved: str | None = None
    title_source: str | None = None  # "derived" when the text had no headline line


def _key(name: str) -> str:
    return re.sub(r"[^a-z0-9]", "", name.casefold())


def caption_text(caption: str, rules: Rules) -> str:
    """A caption without its trailing photo credit (`caption_credits` in boilerplate.yaml);
    empty for a credit-only line."""
    if _CREDIT_ONLY.fullmatch(caption):
        return ""
    return rules.strip_caption_credits(caption)


def derived_title(url: str | None, body: list[str]) -> str | None:
    """A title for a text with no headline line: the URL's slug in words when it has three or
    more ("lavrov-says-talks-stalled" → "Lavrov says talks stalled"), else the first words."""
    slug = re.sub(r"\.[a-z]+$", "", (url or "").rstrip("/").rsplit("/", 1)[-1])
    words = [w for w in re.split(r"[-_+]", slug) if w.isalpha()]
    if len(words) >= 3:
        return " ".join(words).capitalize()
    if not body:
        return None
    words = body[0].split()
    return " ".join(words[:_TITLE_WORDS]) + ("…" if len(words) > _TITLE_WORDS else "")


def summary_of(body: list[str]) -> str | None:
    """The opening sentences of the body, up to about 300 characters."""
    if not body:
        return None
    sentences = _SENTENCE_BREAK.split(body[0])
    summary = sentences[0]
    for sentence in sentences[1:]:
        if len(summary) + len(sentence) + 1 > _SUMMARY_CHARS:
            break
        summary += " " + sentence
    return summary


def line_pieces(text: str, limit: int) -> list[str]:
    """The lines of `text`, those longer than `limit` characters cut into pieces at a space
    (or, in a run of `limit` characters without one, anywhere)."""
    pieces: list[str] = []
    for line in text.splitlines():
        while len(line) > limit:
            cut = line.rfind(" ", 0, limit + 1)
            cut = cut if cut > 0 else limit
            pieces.append(line[:cut])
            line = line[cut:].lstrip(" ")
        pieces.append(line)
    return pieces


class Extractor:
    """Everything that is loaded once per run: rules, matchers and the spaCy model."""

    def __init__(self, authority: Authority, site_rules: Path | None = None) -> None:
        self.authority = authority
        self.site_rules = site_rules
        self.countries = entities.Countries(authority)
        self.sources = entities.Sources(authority)
        self.people = entities.People(authority)
        self._rules: dict[str | None, Rules] = {}
        self._byline_person: Callable[[str, bool], bool] | None = None

    def rules(self, publication: str | None) -> Rules:
        if publication not in self._rules:
            self._rules[publication] = load_rules(self.site_rules, publication)
        return self._rules[publication]

    def extract(self, text: str, meta: Meta) -> Extracted:
        rules = self.rules(meta.publication)
        nlp = entities.load_nlp()
        # The recogniser sees one paragraph (line) at a time, refuses a text over its
        # max_length and needs memory in proportion: longer lines are cut into pieces first.
        text = "\n".join(line_pieces(text, min(nlp.max_length - 100, NLP_PIECE_CHARS)))
        seg = segment(text, rules, meta.url)
        title = seg.title or meta.title or derived_title(meta.url, seg.body)
        captions = [c for c in (caption_text(c, rules) for c in seg.captions) if c]
        parts = [p for p in [seg.dek, *seg.body, *captions] if p]
        # One batch for the title too: a call of its own cost more than the title's words.
        *docs, title_doc = nlp.pipe([*parts, title or ""])
        title_doc = title_doc if title else None
        if self._byline_person is None:
            self._byline_person = entities.byline_person(nlp, self.countries)
        authors, credited = entities.credit_names(seg.credits, self.sources, self._byline_person)
        bio = entities.bio_author(seg.boilerplate, nlp)
        authors = list(dict.fromkeys([*meta.authors, *authors, *([bio] if bio else [])]))
        # The publication's own name under a byline ("USA TODAY") is no writer.
        own = entities.publisher_names(meta.publication, meta.url)
        own_keys = {_key(name) for name in own if name}
        authors = [name for name in authors if _key(name) not in own_keys]

        content = "\n".join([title or "", *parts])
        countries = self.countries.find(content)
        credit_text = "\n".join(seg.credits)
        sources = self.sources.find(content + "\n" + credit_text, credited, own, self.countries)
        # The publisher's own tag ("SEOUL, Aug. 13 (Korea Bizwire)") names no person.
        own_forms = [re.sub(r"^The ", "", name) for name in own if name and " " in name]
        people = self.people.find(
            docs, title_doc, [*authors, *own_forms], self.countries, self.sources
        )

        date = (
            next(iter(seg.stamp_dates), None)
            or juche_date(text)
            or parse_iso(meta.date)
            or url_date(meta.url)
        )
        return Extracted(
            title=title,
            date=date,
            publication=meta.publication,
            url=meta.url,
            authors=authors,
            people=people.names,
            countries=countries.names,
            sources=sources.names,
            dek=seg.dek,
            captions=seg.captions,
            caption_places=seg.caption_places,
            body=seg.body,
            summary=summary_of(seg.body),
            boilerplate=seg.boilerplate,
            unknown={"people": people.unknown, "sources": sources.unknown},
            retrieved=meta.retrieved,
            title_source=None if seg.title else "derived",
        )
