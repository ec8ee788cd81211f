"""Model stage: ordering, terms by slug, sources published and cited, related articles."""

from __future__ import annotations

import datetime as dt
import io
import pickle
import pickletools

import pytest

from clippings.archive import Cooccurring, build_archive
from clippings.authority import parse_authority
from clippings.content import Article
from clippings.errors import BuildError

AUTHORITY = parse_authority("people:\n  Kim Jong Un:\n    aliases: [Kim Jong Eun]\n", "e.yaml")


def article(slug: str, date: dt.date | None, **fields) -> Article:
    defaults = {"title": slug, "publication": "Paper", "body": "x", "body_line": 5}
    return Article(source=f"content/{slug}.md", slug=slug, date=date, **{**defaults, **fields})


def test_order_newest_first_undated_last_and_neighbours():
    a = article("a", dt.date(2018, 1, 1))
    b = article("b", dt.date(2019, 1, 1))
    u = article("u", None)
    archive = build_archive([u, a, b], AUTHORITY)
    assert [x.slug for x in archive.articles] == ["b", "a", "u"]
    assert archive.previous["2019/b/"] is a
    assert archive.following["2018/a/"] is b
    assert archive.following["2019/b/"] is None
    assert list(archive.years) == ["2019", "2018", "undated"]


def test_spellings_merge_into_one_term_by_slug():
    archive = build_archive(
        [
            article("a", dt.date(2018, 1, 1), people=("Kim Jong-un",)),
            article("b", dt.date(2018, 1, 2), people=("Kim Jong Eun",)),
            article("c", dt.date(2018, 1, 3), people=("Moon Jae-in", "Moon Jae In")),
        ],
        AUTHORITY,
    )
    kim = archive.terms["people"]["kim-jong-un"]
    assert kim.name == "Kim Jong Un"
    assert [x.slug for x in kim.articles] == ["b", "a"]
    assert (kim.first_date, kim.last_date) == ("2018-01-01", "2018-01-02")
    moon = archive.terms["people"]["moon-jae-in"]
    assert moon.name == "Moon Jae In"
    assert moon.count == 1
    assert [str(w) for w in archive.warnings] == [
        "content: warning: people: Moon Jae In, Moon Jae-in share one page 'Moon Jae In'; "
        "add the name to the authority file to choose its spelling"
    ]


def test_source_published_and_cited():
    archive = build_archive(
        [
            article("a", dt.date(2018, 1, 1), publication="KCNA"),
            article("b", dt.date(2018, 1, 2), sources=("KCNA",)),
        ],
        AUTHORITY,
    )
    kcna = archive.terms["sources"]["kcna"]
    assert [x.slug for x in kcna.published] == ["a"]
    assert [x.slug for x in kcna.cited] == ["b"]
    assert kcna.count == 2


def test_related_ranked_by_shared_terms_and_cooccurrence():
    base = article("base", dt.date(2018, 1, 1), people=("A", "B"), countries=("X",))
    two = article("two", dt.date(2018, 1, 2), people=("A", "B"))
    one = article("one", dt.date(2018, 1, 3), countries=("X",))
    none = article("none", dt.date(2018, 1, 4), people=("Z",))
    archive = build_archive([base, two, one, none], AUTHORITY, related_limit=5)
    assert [x.slug for x in archive.related[base.path]] == ["two", "one"]
    a = archive.terms["people"]["a"]
    assert [(t.name, n) for t, n in a.cooccurring] == [("B", 2), ("X", 1)]


def test_duplicate_urls_name_both_files():
    with pytest.raises(BuildError) as error:
        build_archive(
            [article("same", dt.date(2018, 1, 1)), article("same", dt.date(2018, 5, 1))], AUTHORITY
        )
    assert str(error.value) == "content/same.md: URL 2018/same/ is also used by content/same.md"


def test_term_without_letters_is_an_error():
    with pytest.raises(
        BuildError, match=r"people: '\?\?\?' has no letters or digits to name a page"
    ):
        build_archive([article("a", dt.date(2018, 1, 1), people=("???",))], AUTHORITY)


def test_drafts_are_counted_not_published():
    archive = build_archive([article("a", dt.date(2018, 1, 1), draft=True)], AUTHORITY)
    assert archive.articles == []
    assert len(archive.drafts) == 1


def test_a_pickled_archive_keeps_co_occurring_terms_and_the_lists_held_elsewhere():
    """Terms are pickled without their co-occurring terms (nesting them ran thousands deep);
    the archive pickles those lists after every term, so their identity survives too."""
    names = [f"Person {n}" for n in range(400)]  # one long chain of co-occurring terms
    articles = [
        article(f"a{n}", dt.date(2018, 1, 1 + n % 28), people=(names[n], names[n + 1]))
        for n in range(len(names) - 1)
    ]
    archive = build_archive(articles, AUTHORITY)
    first = archive.terms["people"]["person-0"]
    held = first.cooccurring  # as a term page's context holds it
    restored, restored_held = pickle.loads(pickle.dumps((archive, held)))
    for slug, term in restored.terms["people"].items():
        original = archive.terms["people"][slug].cooccurring
        assert [(other.slug, n) for other, n in term.cooccurring] == [
            (other.slug, n) for other, n in original
        ]
        assert all(other is restored.terms["people"][other.slug] for other, _ in term.cooccurring)
    assert restored_held is restored.terms["people"]["person-0"].cooccurring


def test_co_occurring_pairs_are_pickled_as_columns_and_stay_columnar():
    """No pickled tuple per pair (each one costs the engine's pickler a memo entry), and a
    restored list is pickled the same way again when the restored engine is saved."""
    names = [f"Person {n}" for n in range(30)]
    articles = [article(f"a{n}", dt.date(2018, 1, 1), people=tuple(names)) for n in range(3)]
    archive = build_archive(articles, AUTHORITY)
    pairs = archive.terms["people"]["person-0"].cooccurring
    assert len(pairs) == 29
    restored = pickle.loads(pickle.dumps(pairs))
    assert isinstance(restored, Cooccurring)
    assert [(term.slug, n) for term, n in restored] == [(term.slug, n) for term, n in pairs]
    ops = [op.name for op, _, _ in pickletools.genops(pickle.dumps(restored))]
    assert ops.count("TUPLE2") < 3  # the columns' arguments, not one per pair


def test_an_articles_tags_are_fixed_when_made():
    """The engine keeps what it derived from an article's Tags by identity: they cannot change."""
    archive = build_archive(
        [
            article("a", dt.date(2018, 1, 1), people=("Kim Jong-un", "Moon Jae-in")),
            article("b", dt.date(2018, 1, 2), countries=("Korea",)),
        ],
        AUTHORITY,
    )
    tags = archive.article_terms["2018/a/"]
    assert [term.name for term in tags["people"]] == ["Kim Jong Un", "Moon Jae-in"]
    for change in (
        lambda: tags.__setitem__("people", ()),
        lambda: tags.update(people=()),
        lambda: tags.pop("people"),
        lambda: tags.setdefault("events", ()),
        tags.clear,
    ):
        with pytest.raises(TypeError, match="never changed in place"):
            change()
    with pytest.raises(AttributeError):
        tags["people"].append(tags["people"][0])  # a tuple

    def memoised(value: object) -> int:
        pickler = pickle.Pickler(io.BytesIO(), protocol=pickle.HIGHEST_PROTOCOL)
        pickler.dump(value)
        return len(pickler.memo.copy())

    # Nothing is made per Tags to pickle it, which the pickler's memo would keep to the end of a
    # dump: beyond what its dict takes, only the class, once.
    both = [tags, archive.article_terms["2018/b/"]]
    assert memoised(both) - memoised([dict(t) for t in both]) == memoised(tags) - memoised(
        dict(tags)
    )
    copy = pickle.loads(pickle.dumps(tags))
    assert type(copy) is type(tags)
    with pytest.raises(TypeError, match="never changed in place"):
        copy["people"] = ()
    assert {kind: [t.slug for t in terms] for kind, terms in copy.items()} == {
        "people": ["kim-jong-un", "moon-jae-in"],
        "countries": [],
        "sources": [],
    }
