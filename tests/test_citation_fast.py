"""The citation fast path gives exactly citeproc-py's text, or declines (see citation.py)."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterable
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from clippings import citation, csl
from clippings.content import load_articles

REPO = Path(__file__).resolve().parent.parent
SHARED = REPO.parent / "shared"
STYLE = "chicago-author-date"
BASE_URLS = ("https://archive.example.org/", "")


def compare(items: Iterable[dict[str, Any]]) -> tuple[int, int, list[tuple[str, str]]]:
    """(items, items the fast path took, (fast, citeproc) texts that differ)."""
    count = accepted = 0
    wrong = []
    for item in items:
        item = citation._cleaned(item)
        count += 1
        fast = citation._fast_text(item, STYLE)
        if fast is not None:
            accepted += 1
            expected = citation._citeproc_text(item, STYLE)
            if fast != expected:
                wrong.append((fast, expected))
    return count, accepted, wrong


# Words and marks that case changes, name order and citeproc-py's joins treat specially: most
# values are words with punctuation (as titles and names are), the rest anything at all.
WORDS = ["the", "of", "a", "and", "to", "in", "on", "by", "via", "war", "Kim", "U.S.", "UN"]
WORDS += ["iPhone", "McDonald’s", "van", "der", "de", "La", "O'Brien", "Jean-Paul", "J.", "Q."]
WORDS += ["https://x.org/a", "ab://c", "<i>x</i>", "&amp;", "ß", "ǆ", "İstanbul", "Ünal", "日本"]
WORDS += ["北朝鮮", "Ⅷ", "1999", "2019a", "x:", "(AP)", "—", "said", "Putin’s", "e.g."]
MARKS = [".", ",", ";", ":", "!", "?", "'", '"', "“", "”", "‘", "’", "«", "»", "(", ")", "-", "–"]
HOSTILE = ["…", "..", " ", "  ", "\t", "\n", "\xa0", "\u200b", "/", "&", "<", ">", "\ue105"]
HOSTILE += ["\ue000i\ue001", '<span class="nocase">x</span>', "\x00", "\u202e"]
bare = [""] * len(MARKS)
marked = st.tuples(
    st.sampled_from(bare + MARKS), st.sampled_from(WORDS), st.sampled_from(bare + MARKS)
).map("".join)
words = st.lists(marked, min_size=1, max_size=12).map(" ".join)
hostile = st.lists(st.sampled_from(WORDS + MARKS + HOSTILE), min_size=0, max_size=12).map("".join)
long_text = st.lists(st.sampled_from(WORDS), min_size=200, max_size=400).map(" ".join)
text = st.one_of(words, words, words, words, words, hostile)
plain_name = st.lists(st.sampled_from(WORDS), min_size=1, max_size=4).map(" ".join)
name = st.one_of(plain_name, plain_name, plain_name, text)
author = st.one_of(
    name.map(csl.person_name),  # as csl_item writes them
    st.builds(lambda family, given: {"family": family, "given": given}, name, name),
    name.map(lambda literal: {"literal": literal}),
)
any_date = st.tuples(st.integers(-5, 12000), st.integers(-1, 14), st.integers(-1, 40))
usual_date = st.tuples(st.integers(1990, 2030), st.integers(1, 12), st.integers(1, 31))
date = st.one_of(usual_date, usual_date, usual_date, usual_date, any_date).map(
    lambda ymd: {"date-parts": [list(ymd)]}
)
language = st.sampled_from(["en", "en-GB", "EN", "e", "de", "fr-CA", "ko", "", "english"])
url = st.sampled_from(["https://example.org/news/1", "http://x.co/a?b=c&d=e", "https://a.b/c."])


@st.composite
def items(draw: st.DrawFn) -> dict[str, Any]:
    item: dict[str, Any] = {
        "id": draw(st.sampled_from(["2019/a", "x"])),
        "type": "article-newspaper",
        "title": draw(text | long_text),
        "container-title": draw(text),
    }
    authors = draw(st.lists(author, max_size=5) | st.lists(author, max_size=9))
    if authors:
        item["author"] = authors
    if draw(st.booleans()):
        item["issued"] = draw(date)
    if draw(st.booleans()):
        item["URL"] = draw(url | text)
        if draw(st.booleans()):
            item["accessed"] = draw(date)
    item["archive"] = draw(text | st.sampled_from(["Clippings", "The Archive"]))
    base = draw(st.sampled_from(BASE_URLS))
    item["archive_location"] = draw(st.sampled_from([base + "2019/a/", base + "x/"]) | text)
    if draw(st.booleans()):
        item["language"] = draw(language)
    return item


@settings(max_examples=1000, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(items())
def test_random_items_are_declined_or_formatted_as_citeproc_does(item: dict[str, Any]) -> None:
    _, accepted, wrong = compare([item])
    event("fast path" if accepted else "declined")
    assert wrong == []


def _gold_items(folder: Path) -> list[dict[str, Any]]:
    """The importer's gold annotations as the articles it should write, cited."""
    found = []
    for path in sorted(folder.glob("*.gold.json")):
        gold = json.loads(path.read_text(encoding="utf-8"))
        article = SimpleNamespace(
            path=f"{(gold['date'] or 'undated')[:4]}/{path.stem}/",
            title=gold["title"],
            publication=gold["publication"],
            authors=tuple(gold["authors"]),
            date=gold["date"],
            url=gold["url"],
            retrieved="2024-05-06",
            language="en",
        )
        found += [csl.csl_item(article, base, "Clippings") for base in BASE_URLS]
    return found


def _site_items(site_root: Path, bases: tuple[str, ...] = BASE_URLS) -> list[dict[str, Any]]:
    articles, _ = load_articles(site_root / "content", site_root)
    return [csl.csl_item(a, base, "Clippings") for a in articles for base in bases]


@pytest.mark.parametrize(
    "items_of",
    [
        pytest.param(lambda: _site_items(REPO), id="shipped"),
        pytest.param(lambda: _site_items(REPO / "tests" / "fixtures" / "site"), id="fixture"),
        pytest.param(lambda: _gold_items(REPO / "tests" / "importer" / "holdout"), id="holdout"),
        pytest.param(
            lambda: _gold_items(SHARED / "devset"),
            id="devset",
            marks=pytest.mark.skipif(not (SHARED / "devset").is_dir(), reason="no shared devset"),
        ),
    ],
)
def test_real_articles_are_formatted_as_citeproc_does(items_of: Any) -> None:
    count, accepted, wrong = compare(items_of())
    print(f"fast path took {accepted} of {count}")
    assert count and wrong == []
    assert accepted >= 0.9 * count  # most real articles, or the fast path is not doing its job


@pytest.mark.skipif(not (SHARED / "bench").is_dir(), reason="no shared bench folder")
def test_generated_archive_is_formatted_as_citeproc_does(tmp_path: Path) -> None:
    generator = SHARED / "bench" / "gen_corpus.py"
    command = [
        sys.executable,
        str(generator),
        "2000",
        "--out",
        str(tmp_path),
        "--layout",
        "generic",
    ]
    subprocess.run(command, check=True, stdout=subprocess.DEVNULL, timeout=120)
    count, accepted, wrong = compare(_site_items(tmp_path / "generic", BASE_URLS[:1]))
    print(f"fast path took {accepted} of {count}")
    assert count == 2000 and wrong == [] and accepted >= 0.95 * count


def test_a_wrong_filler_is_caught(monkeypatch: pytest.MonkeyPatch) -> None:
    """The comparisons above can fail: a filler that forgets the title case is caught, and so
    is a template proven with it (the probes refuse the shape)."""
    item = _site_items(REPO / "tests" / "fixtures" / "site")[0]
    item["title"] = "the war of the worlds"
    assert compare([item])[1:] == (1, [])
    cased = citation._cased
    monkeypatch.setattr(citation, "_cased", lambda text, text_case, language: text)
    assert compare([item])[2]  # the template proven before, filled wrongly
    monkeypatch.setattr(citation, "_templates", {})
    assert compare([item])[1] == 0  # proving it again with the wrong filler fails
    monkeypatch.setattr(citation, "_cased", cased)
    monkeypatch.setattr(citation, "_templates", {})
    monkeypatch.setattr(citation, "_month_names", lambda style: ("May",) * 12)
    item["issued"] = {"date-parts": [[2019, 3, 5]]}
    assert compare([item])[1] == 0  # wrong month names: refused by the probes too


def test_values_that_meet_their_surroundings_are_declined() -> None:
    item = _site_items(REPO / "tests" / "fixtures" / "site")[0]
    for key, value in [
        ("author", [{"family": "Kennedy", "given": "John F."}]),  # "F." then ". 2019"
        ("author", [{"family": "Kennedy,", "given": "John"}]),  # beside the name's comma
        ("archive", "The Archive."),  # the entry's last "."
        ("archive", " Clippings"),
        ("title", "two  spaces"),
        ("container-title", '<span class="nocase">iPhone</span> News'),
        ("title", ""),
    ]:
        case = dict(item, **{key: value})
        assert citation._fast_text(citation._cleaned(case), STYLE) is None, (key, value)
    # and what is only inside stays on the fast path
    case = dict(
        item,
        title="Is it “over”? Yes: for now",
        author=[{"family": "Kennedy", "given": "John F."}, {"family": "Kim", "given": "J. Un"}],
    )
    assert citation._fast_text(citation._cleaned(case), STYLE) is not None
    assert compare([case])[2] == []


def test_format_citation_takes_the_fast_path_for_chicago_only(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    item = _site_items(REPO / "tests" / "fixtures" / "site")[0]
    expected = citation.format_citation(item, STYLE)  # proves the shape's template

    def no_citeproc(item: dict[str, Any], style: str) -> str:
        raise AssertionError("citeproc-py was called")

    monkeypatch.setattr(citation, "_citeproc_text", no_citeproc)
    assert citation.format_citation(item, STYLE) == expected
    with pytest.raises(AssertionError, match="citeproc-py was called"):
        citation.format_citation(item, "apa")
