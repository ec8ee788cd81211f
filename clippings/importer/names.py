"""Generic evidence of personal names: from data, which words are given names and surnames (a
gazetteer derived from `names-dataset`, see `scripts/make_name_gazetteer.py`) and which are titles
or roles (`nameparser`'s list); from spaCy's tokens, capitalised runs, list items and possessives."""

from __future__ import annotations

import gzip
from collections.abc import Iterable
from functools import cache
from pathlib import Path
from typing import Any

GAZETTEER = Path(__file__).with_name("names.tsv.gz")
# A word counts as a given name or surname when it ranks this high in some country. Common
# words also appear as names somewhere ("Monday" ranks 145th among Nigerian first names), so
# the cuts keep to names frequent enough that a capitalised pair of them is a person.
GIVEN_RANK = 1000
SURNAME_RANK = 5000
# The cuts of the extract (`scripts/make_name_gazetteer.py`): any name word it holds.
WIDEST_GIVEN_RANK = 3000
WIDEST_SURNAME_RANK = 10000


class Gazetteer:
    """Given names and surnames by their best rank in any country."""

    def __init__(self, path: Path = GAZETTEER) -> None:
        self.given: dict[str, int] = {}
        self.surname: dict[str, int] = {}
        # One line per kind and rank, its words separated by spaces: dict.fromkeys builds each
        # line's entries in C (a line per word took 2-3 s to read, this 0.3 s).
        for line in gzip.decompress(path.read_bytes()).decode("utf-8").splitlines():
            kind, rank, words = line.split("\t")
            table = self.given if kind == "given" else self.surname
            table.update(dict.fromkeys(words.split(" "), int(rank)))

    def is_given(self, word: str, rank: int = GIVEN_RANK) -> bool:
        return self.given.get(_title_case(word), rank + 1) <= rank

    def is_surname(self, word: str, rank: int = SURNAME_RANK) -> bool:
        # "Ouedec-Djorkaeff", "Smith-Jones": each part of a double-barrelled name counts.
        return any(
            self.surname.get(_title_case(part), rank + 1) <= rank for part in word.split("-")
        )

    def is_name_word(self, word: str) -> bool:
        """Known as a given name or surname at all (the widest cuts)."""
        return self.is_given(word, WIDEST_GIVEN_RANK) or self.is_surname(word, WIDEST_SURNAME_RANK)

    def is_person_name(self, words: list[str]) -> bool:
        """A given name and a surname: "Scott Draper", "Lilian Thuram"."""
        return len(words) >= 2 and self.is_given(words[0]) and self.is_surname(words[-1])


def _title_case(word: str) -> str:
    return word.title() if word.isupper() else word


@cache
def load_gazetteer() -> Gazetteer:
    return Gazetteer()


@cache
def role_words() -> frozenset[str]:
    """Titles and roles that stand before a name ("coach", "captain", "cardinal", "miss")."""
    from nameparser.config import CONSTANTS

    return frozenset(CONSTANTS.titles)


def name_word(token: Any) -> bool:
    """A capitalised word that may be part of a name ("Lilian", not "LONDON" or "46th")."""
    return token.is_alpha and token.is_title and len(token) > 1


PLACE_TYPES = frozenset({"GPE", "LOC", "FAC", "EVENT"})
_SLOT_BEFORE = frozenset({"-", ",", ";", "(", "beat", "and"})
_SLOT_AFTER = frozenset({"(", ",", ";", ")", "."})


def capitalised_runs(doc: Any) -> Iterable[Any]:
    """Maximal runs of two to five capitalised words."""
    start = 0
    while start < len(doc):
        end = start
        while end < len(doc) and name_word(doc[end]):
            end += 1
        if 2 <= end - start <= 5:
            yield doc[start:end]
        start = max(end, start + 1)


def list_slot(doc: Any, run: Any) -> bool:
    """A run set off as an item of a list: "9 - Joost van der Westhuizen;", "Tim Henman (Britain)
    beat", ", Robin Brooke,"."""
    before = doc[run.start - 1] if run.start else None
    after = doc[run.end] if run.end < len(doc) else None
    opens = before is None or before.text in _SLOT_BEFORE or before.text.rstrip(".").isdigit()
    opens = opens or (before.text == "." and run.start > 1 and doc[run.start - 2].like_num)
    return opens and (after is None or after.text in _SLOT_AFTER)


def lists_people(docs: list[Any]) -> bool:
    """Whether the article lists people (results, line-ups): three or more list items that the
    recogniser calls persons or the gazetteer knows as a given name and surname."""
    gazetteer = load_gazetteer()
    slots = 0
    for doc in docs:
        for run in capitalised_runs(doc):
            person = all(t.ent_type_ == "PERSON" for t in run)
            known = person or gazetteer.is_person_name([t.text for t in run])
            slots += known and list_slot(doc, run)
    return slots >= 3


def before_possessive(span: Any) -> Any:
    """ "Ramzan Kadyrov's Instagram": a possessive ends a name."""
    for token in span[1:]:
        if token.text in ("'s", "’s", "'", "’"):
            return span[: token.i - span.start]
    return span
