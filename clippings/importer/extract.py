"""From a page's text (and what the manifest or HTML metadata says) to an extracted article."""

from __future__ import annotations

import datetime as dt
import re
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from clippings.authority import Authority
from clippings.importer import entities
from clippings.importer.dates import juche_date, parse_iso, url_date
from clippings.importer.rules import Rules, load_rules
from clippings.importer.segment import segment

# Photo credits at the end of a caption: "(U.S. Air Force photo by ...)", ".Sergei Karpukhin",
# "... KCNA/Reuters". They name photographers and agencies, which are not tagged.
_CAPTION_CREDITS = [
    re.compile(r"^(?i:image|picture|photo)\s+caption\s*[,:|]\s*"),
    # "... act'. — Picture by Yusof Mat Isa", "... in Sochi. Photo courtesy of the press service".
    re.compile(
        r"(?<=[.!?”\"'’])\s+(?:[—–-]\s*)?(?i:photo|picture|image|photograph)s?\s+(?i:by|courtesy)\b.*$"
    ),
    re.compile(r"(?<=[.!?”\"'’])\s+[—–-]\s*(?i:photo|picture|image|photograph)s?\b.*$"),
    re.compile(r"\s*\[[^\[\]]*\]\s*$"),
    re.compile(r"(?<=[.!?”\"])\s+[A-Z][^.]{0,80}\bvia [A-Z][\w-]+(?: [A-Z][\w-]+)?\s*$"),
    # "... 2024. Sefa Karacan | Anadolu | Getty Images": a photographer and agencies.
    re.compile(r"(?<=[.!?”\"])\s+[A-Z][^|.]{0,40}(?:\s\|\s[^|]{1,40})+$"),
    re.compile(r"(?<=[.!?”\"])\s+©\s?[A-Z][^.]{0,80}$"),
    re.compile(r"(?<=[.!?”\"])\s+(?i:photo|picture|image|photograph)s? by [A-Z][^.]{0,60}$"),
    re.compile(
        r"\s+[A-Z][\w'’-]*(?: [A-Z][\w'’-]*)*(?: / [A-Z][\w'’-]*(?: [A-Z][\w'’-]*)*){2,}\s*$"
    ),
    re.compile(r"(?<=[.!?”\"])\s*\|\s*[^|]{1,60}$"),
    re.compile(r"\s*(?:[A-Z]+ )?(?i:photograph|photo|foto|picture|image|credit)s?\s?:\s.*$"),
    re.compile(r"\s*\([^()]*\)\s*$"),
    re.compile(r"\s*(?i:credit)\.\.\.\s*[A-Z].*$"),
    re.compile(r"(?<=[.!?”\"])\s*/\s?[A-Z][\w-]+(?: [A-Z][\w-]+){0,3}$"),
    re.compile(r"(?<=[.!?”\"])\s+[A-Z][A-Z'’-]+(?: [A-Z][A-Z'’-]+){0,3}\s*/\s*[A-Z][\w-]+.*$"),
    re.compile(r"(?<=[a-z0-9)][.!?])[A-Z][\w'’-]+(?: [A-Z][\w'’-]+){0,3}$"),
    # "... on Tuesday. Alex Ellinghausen": a photographer's name after the caption's full stop.
    re.compile(r"(?<=[a-z0-9)]\.)\s[A-Z][a-z'’-]+(?: [A-Z][a-z'’-]+){1,2}$"),
    re.compile(r"\s+[A-Z][\w.]*(?:/[A-Z][\w.]*)+\s*$"),
    # "... in Vladivostok on Wednesday. AFP": a bare agency credit after the full stop.
    re.compile(
        r"(?<=[a-z0-9)]\.)\s+(?i:AFP|AP|Reuters|EPA|EPA-EFE|Getty Images|Xinhua|Yonhap|KCNA|TASS"
        r"|Sputnik|Anadolu|Kyodo|Bloomberg|PA|AAP|U\.S\. Navy|U\.S\. Army|U\.S\. Air Force|Handout)$"
    ),
]
_CREDIT_ONLY = re.compile(
    r"(?i:(pic|photo|image|picture|credit)s?( credit| source)?\s*[,:|].*)|[^.]{0,80}\|[^.]{0,80}",
    re.DOTALL,
)
_SUMMARY_CHARS = 300
_SENTENCE_BREAK = re.compile(r"(?<=[.!?])\s+(?=[A-Z\"“])|(?<=[.!?][\"”’'])\s+(?=[A-Z\"“])")


@dataclass
class Meta:
    """What the manifest, the command line or the HTML page says about a text."""

    url: str | None = None
    publication: str | None = None
    date: str | None = None
    title: str | None = None
    authors: list[str] = field(default_factory=list)


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
    body: list[str]
    summary: str | None
    boilerplate: list[str]
    unknown: dict[str, Counter[str]]


def _key(name: str) -> str:
    return re.sub(r"[^a-z0-9]", "", name.casefold())


def caption_text(caption: str) -> str:
    """A caption without its trailing photo credit; empty for a credit-only line."""
    if _CREDIT_ONLY.fullmatch(caption):
        return ""
    for pattern in _CAPTION_CREDITS:
        caption = pattern.sub("", caption)
    return caption


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


class Extractor:
    """Everything that is loaded once per run: rules, matchers and the spaCy model."""

    def __init__(self, authority: Authority, site_rules: Path | None = None) -> None:
        self.authority = authority
        self.site_rules = site_rules
        self.countries = entities.Countries(authority)
        self.sources = entities.Sources(authority)
        self.people = entities.People(authority)
        self._rules: dict[str | None, Rules] = {}

    def rules(self, publication: str | None) -> Rules:
        if publication not in self._rules:
            self._rules[publication] = load_rules(self.site_rules, publication)
        return self._rules[publication]

    def extract(self, text: str, meta: Meta) -> Extracted:
        seg = segment(text, self.rules(meta.publication), meta.url)
        nlp = entities.load_nlp()
        title = seg.title or meta.title
        captions = [c for c in (caption_text(c) for c in seg.captions) if c]
        parts = [p for p in [seg.dek, *seg.body, *captions] if p]
        docs = list(nlp.pipe(parts))
        title_doc = nlp(title) if title else None

        authors, credited = entities.credit_names(
            seg.credits, self.sources, entities.byline_person(nlp, self.countries)
        )
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
            body=seg.body,
            summary=summary_of(seg.body),
            boilerplate=seg.boilerplate,
            unknown={"people": people.unknown, "sources": sources.unknown},
        )
