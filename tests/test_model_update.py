"""update_archive leaves exactly the Archive a fresh build_archive gives, over random edit sequences."""

from __future__ import annotations

import dataclasses
import datetime as dt
import random
from pathlib import PurePath
from typing import Any

import pytest

from clippings import archive as archive_module
from clippings import model_update
from clippings.archive import Archive, build_archive
from clippings.authority import KINDS, parse_authority
from clippings.content import Article
from clippings.errors import BuildError
from clippings.model_update import update_archive

AUTHORITY = parse_authority(
    "people:\n  Kim Jong Un:\n    aliases: [Kim Jong Eun]\nsources:\n  KCNA:\n    aliases: [Korean Central News Agency]\n",
    "e.yaml",
)
PEOPLE = ["Kim Jong-un", "Kim Jong Eun", "Moon Jae-in", "Moon Jae In", "Xi Jinping", "Ann", "Bo"]
COUNTRIES = ["North Korea", "Russia", "China", "Japan"]
SOURCES = ["KCNA", "Korean Central News Agency", "Reuters", "Yonhap"]
PUBLICATIONS = ["KCNA", "Reuters", "Daily Planet", "Example Times"]
SLUGS = [f"story-{n}" for n in range(12)]  # few slugs, so URLs sometimes collide


def _random_date(rng: random.Random) -> dt.date | None:
    if rng.random() < 0.15:
        return None
    year = rng.choice([2017, 2018, 2018, 2019, 2019, 2020]) if rng.random() > 0.05 else 1999
    return dt.date(year, rng.randint(1, 12), rng.randint(1, 28))


def _random_article(rng: random.Random, number: int) -> Article:
    return Article(
        source=f"content/{rng.choice('abc')}/{number}.md",
        title=f"Story {number}",
        date=_random_date(rng),
        publication=rng.choice(PUBLICATIONS),
        slug=f"{rng.choice(SLUGS)}-{number % 7}",
        body="Text.",
        body_line=5,
        # now and then a person no other article names, whose term goes with the article
        people=(
            *rng.sample(PEOPLE, rng.randint(0, 3)),
            *([f"Person {number}"] * (number % 4 == 0)),
        ),
        countries=tuple(rng.sample(COUNTRIES, rng.randint(0, 2))),
        sources=tuple(rng.sample(SOURCES, rng.randint(0, 2))),
        draft=rng.random() < 0.05,
    )


def _edit(rng: random.Random, article: Article, number: int) -> Article:
    """A structural edit: tags, date, publication, draft flag, slug or file name."""
    action = rng.choice(["people", "countries", "sources", "date", "publication", "draft", "move"])
    if action in ("people", "countries", "sources"):
        pool = {"people": PEOPLE, "countries": COUNTRIES, "sources": SOURCES}[action]
        names = list(getattr(article, action))
        if names and rng.random() < 0.5:
            names.remove(rng.choice(names))
        else:
            names.append(rng.choice([n for n in pool if n not in names] or pool[:1]))
        return dataclasses.replace(article, **{action: tuple(dict.fromkeys(names))})
    if action == "date":
        return dataclasses.replace(article, date=_random_date(rng))
    if action == "publication":
        return dataclasses.replace(article, publication=rng.choice(PUBLICATIONS))
    if action == "draft":
        return dataclasses.replace(article, draft=not article.draft)
    return dataclasses.replace(article, source=f"content/moved/{number}.md", slug=f"moved-{number}")


def snapshot(archive: Archive) -> dict[str, Any]:
    """Everything an Archive holds, with articles by identity and terms by (kind, slug); also
    checks that every reference to a term is the object the archive lists."""

    def ids(items: list[Article]) -> list[int]:
        return [id(a) for a in items]

    def ref(term: Any) -> tuple[str, str]:
        assert archive.terms[term.kind][term.slug] is term
        return term.kind, term.slug

    return {
        "articles": ids(archive.articles),
        "terms": {
            kind: [
                (
                    slug,
                    term.name,
                    term.entity,
                    ids(term.articles),
                    ids(term.published),
                    ids(term.cited),
                    [(*ref(other), n) for other, n in term.cooccurring],
                )
                for slug, term in terms.items()
            ]
            for kind, terms in archive.terms.items()
        },
        "article_terms": {
            path: {kind: [ref(t) for t in own[kind]] for kind in KINDS}
            for path, own in archive.article_terms.items()
        },
        "publishers": {path: ref(term) for path, term in archive.publishers.items()},
        "previous": {path: id(a) for path, a in archive.previous.items()},
        "following": {path: id(a) for path, a in archive.following.items()},
        "related": {path: ids(items) for path, items in archive.related.items()},
        "years": [(year, ids(items)) for year, items in archive.years.items()],
        "drafts": ids(archive.drafts),
        "warnings": [str(w) for w in archive.warnings],
        "spellings": {key: dict(names) for key, names in archive.spellings.items()},
    }


def _differences(got: dict[str, Any], expected: dict[str, Any]) -> list[str]:
    """The parts that differ (pytest would take minutes to print whole snapshots or archives)."""
    return [key for key in expected if got[key] != expected[key]]


def _fresh(current: dict[str, Article], limit: int) -> Archive:
    in_file_order = sorted(current.values(), key=lambda a: PurePath(a.source))
    return build_archive(in_file_order, AUTHORITY, limit)


@pytest.mark.parametrize("seed", range(6))
def test_random_edit_sequences_give_a_fresh_build(
    seed: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    if seed % 2:  # some articles name too many terms to count their co-occurrence
        monkeypatch.setattr(archive_module, "COOCCURRENCE_LIMIT", 4)
        monkeypatch.setattr(model_update, "COOCCURRENCE_LIMIT", 4)
    rng = random.Random(seed)
    limit = rng.choice([1, 2, 3, 5])
    current: dict[str, Article] = {}
    for number in range(40):
        article = _random_article(rng, number)
        current[article.source] = article
        try:
            _fresh(current, limit)
        except BuildError:
            del current[article.source]  # a duplicate URL: leave it out of the start
    archive = _fresh(current, limit)
    failures = 0
    for step in range(60):
        removed, added = [], []
        for _ in range(rng.choice([1, 1, 1, 2, 3])):
            action = rng.choice(["edit", "edit", "edit", "add", "delete"])
            number = 1000 + step * 10 + len(added)
            candidates = [a for a in current.values() if a not in removed]
            if action == "add" or not candidates:
                added.append(_random_article(rng, number))
                continue
            old = rng.choice(candidates)
            removed.append(old)
            if action == "edit":
                added.append(_edit(rng, old, number))
        after = {s: a for s, a in current.items() if all(a is not r for r in removed)}
        after.update((a.source, a) for a in added)
        try:
            expected = snapshot(_fresh(after, limit))
        except BuildError as error:
            before = snapshot(archive)
            with pytest.raises(BuildError) as raised:
                update_archive(archive, removed, added, AUTHORITY, limit)
            assert str(raised.value) == str(error)
            unchanged = _differences(snapshot(archive), before)
            assert unchanged == []  # refused before anything changed
            failures += 1
            continue
        update_archive(archive, removed, added, AUTHORITY, limit)
        current = after
        different = _differences(snapshot(archive), expected)
        assert different == []
    assert failures < 30  # most steps must exercise an actual update


def test_retagging_moves_related_and_cooccurrence() -> None:
    def make(slug: str, day: int, **names: tuple[str, ...]) -> Article:
        date = dt.date(2018, 1, day)
        return Article(f"content/{slug}.md", slug, date, "Paper", slug, "x", 5, **names)

    base = make("base", 1, people=("Ann",))
    other = make("other", 2, people=("Bo",))
    archive = build_archive([base, other], AUTHORITY)
    assert archive.related[base.path] == []
    tagged = dataclasses.replace(other, people=("Bo", "Ann"))
    update_archive(archive, [other], [tagged], AUTHORITY)
    assert archive.related[base.path] == [tagged]
    ann = archive.terms["people"]["ann"]
    assert [(t.slug, n) for t, n in ann.cooccurring] == [("bo", 1)]
