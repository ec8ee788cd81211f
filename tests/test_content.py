"""Load stage: front matter validation with path:line messages."""

from __future__ import annotations

import datetime as dt
import sys
from pathlib import Path

import pytest

from clippings.content import (
    content_files,
    content_sources,
    display_path,
    load_articles,
    parse_article,
    read_article,
)
from clippings.errors import BuildError

VALID = "title: A Title\ndate: 2018-08-15\npublication: Newsweek\n"


def parse(front: str, body: str = "Body.\n"):
    return parse_article(f"---\n{front}---\n{body}", "content/2018/x.md")


def test_valid_article_fields():
    article, problems = parse(VALID + "people: [Kim Jong Un]\ncountries: [Russia]\n")
    assert problems == []
    assert article.title == "A Title"
    assert article.date == dt.date(2018, 8, 15)
    assert article.slug == "a-title"
    assert article.path == "2018/a-title/"
    assert article.people == ("Kim Jong Un",)
    assert article.body_line == 8


@pytest.mark.parametrize(
    ("front", "expected"),
    [
        (
            "date: 2018-08-15\npublication: X\n",
            "content/2018/x.md:1: front matter: missing required 'title'",
        ),
        (
            VALID.replace("2018-08-15", "2019-02-30"),
            "content/2018/x.md:3: front matter: 'date' '2019-02-30' is not a valid ISO date (YYYY-MM-DD)",
        ),
        (
            VALID + "people: Putin\n",
            "content/2018/x.md:5: front matter: 'people' must be a list of names, not a single string (write [Putin])",
        ),
        (
            VALID + "countries: {a: 1}\n",
            "content/2018/x.md:5: front matter: 'countries' must be a list of names, not a mapping",
        ),
        (
            VALID + "title: again\n",
            "content/2018/x.md:5: duplicate key 'title' (first given on line 2)",
        ),
        (
            VALID + "people: [a\n",
            "content/2018/x.md:6: YAML syntax error: did not find expected ',' or ']'",
        ),
        (
            VALID + "slug: ../evil\n",
            "content/2018/x.md:5: front matter: 'slug' '../evil' must be letters, digits, '-', '_' or '.' (no '/', '..' or NUL)",
        ),
        (
            VALID + "slug: a/b\n",
            "content/2018/x.md:5: front matter: 'slug' 'a/b' must be letters, digits, '-', '_' or '.' (no '/', '..' or NUL)",
        ),
        (
            VALID + "draft: maybe\n",
            "content/2018/x.md:5: front matter: 'draft' must be true or false",
        ),
        (
            VALID + "aliases: [../../etc/]\n",
            "content/2018/x.md:5: front matter: alias '../../etc/' must be a relative path inside the site, such as old/path/",
        ),
        (
            "title: '!!!'\ndate: 2018-01-01\npublication: X\n",
            "content/2018/x.md:2: front matter: the title gives an empty slug; set 'slug' to letters, digits and hyphens",
        ),
        ("- a list\n", "content/2018/x.md:2: expected a mapping of keys to values"),
        (
            VALID + "captions: [{text: A photo, after: -1}]\n",
            "content/2018/x.md:5: front matter: 'captions' must be a list of text lines or of {text, after} entries",
        ),
    ],
)
def test_problems_point_at_the_line(front: str, expected: str):
    article, problems = parse(front)
    assert article is None
    assert expected in [str(p) for p in problems]


def test_missing_front_matter():
    article, problems = parse_article("just text\n", "c.md")
    assert article is None
    assert str(problems[0]) == "c.md:1: missing front matter: the file must start with a '---' line"


def test_null_date_is_undated():
    article, _ = parse(VALID.replace("2018-08-15", "null"))
    assert article.date is None
    assert article.path == "undated/a-title/"


def test_datetime_and_crlf_and_bom():
    text = "\ufeff---\r\ntitle: T\r\ndate: 2020-03-01T09:30:00+03:00\r\npublication: P\r\n---\r\nBody\r\n"
    article, problems = parse_article(text, "c.md")
    assert problems == []
    assert article.date == dt.datetime.fromisoformat("2020-03-01T09:30:00+03:00")
    assert article.body == "Body\n"


def test_unknown_keys_kept_and_warned_in_strict_mode():
    article, problems = parse(VALID + "mood: grim\n")
    assert article.extra == {"mood": "grim"}
    assert problems == []
    article, problems = parse_article(f"---\n{VALID}mood: grim\n---\n", "c.md", strict=True)
    assert article is not None
    assert [str(p) for p in problems] == ["c.md:5: warning: front matter: unknown key 'mood'"]


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        (b"", "x.md: empty file"),
        (b"\x00\x01binary", "x.md: binary file (contains NUL bytes); expected UTF-8 text"),
        (b"---\ntitle: caf\xe9\n", "x.md:2: not valid UTF-8 (byte 0xe9); save the file as UTF-8"),
    ],
)
def test_unreadable_files(tmp_path: Path, data: bytes, expected: str):
    path = tmp_path / "x.md"
    path.write_bytes(data)
    article, problems = read_article(path, "x.md")
    assert article is None
    assert [str(p) for p in problems] == [expected]


def test_load_reports_every_problem_at_once(tmp_path: Path):
    content = tmp_path / "content"
    (content / "a").mkdir(parents=True)
    (content / "a" / "one.md").write_text("---\ndate: 2018-01-01\npublication: X\n---\n")
    (content / "a" / "two.md").write_text(f"---\n{VALID}people: Putin\n---\n")
    (content / "a" / "ok.md").write_text(f"---\n{VALID}---\n")
    with pytest.raises(BuildError) as error:
        load_articles(content, tmp_path)
    assert [str(p) for p in error.value.problems] == [
        "content/a/one.md:1: front matter: missing required 'title'",
        "content/a/two.md:5: front matter: 'people' must be a list of names, not a single string (write [Putin])",
    ]


def test_symlink_outside_content_is_rejected(tmp_path: Path):
    content = tmp_path / "content"
    content.mkdir()
    outside = tmp_path / "secret.md"
    outside.write_text(f"---\n{VALID}---\n")
    (content / "link.md").symlink_to(outside)
    with pytest.raises(BuildError) as error:
        load_articles(content, tmp_path)
    assert (
        str(error.value) == "content/link.md: symlink points outside the content folder; not read"
    )


@pytest.mark.parametrize("content_name", ["content", "."])
def test_content_sources_name_every_content_file_as_messages_do(
    tmp_path: Path, content_name: str
) -> None:
    content = tmp_path / content_name
    for name in ("2018/a.md", "2018/b.md", "a-b/c.md", "a/d.md", ".hidden/e.md", "2018/.#f.md"):
        (content / name).parent.mkdir(parents=True, exist_ok=True)
        (content / name).write_text("x")
    (content / "2018" / "notes.txt").write_text("x")
    (content / "2018" / "link.md").symlink_to(content / "2018" / "a.md")
    files, problems = content_files(content, tmp_path)
    sources, _ = content_sources(content, tmp_path)
    assert problems == []
    assert [display_path(p, tmp_path) for p in files] == list(sources)
    assert [str(p) for p in files] == list(sources.values())
    assert {p.name for p in files} == {"a.md", "b.md", "c.md", "d.md", "link.md"}


def test_captions_are_lines_or_placed_after_a_paragraph():
    article, problems = parse(VALID + "captions:\n  - A line\n  - text: A photo\n    after: 2\n")
    assert problems == [] and article is not None
    assert (article.captions, article.caption_places) == (("A line", "A photo"), (None, 2))


def test_exactly_what_xml_forbids_is_dropped() -> None:
    """Every code point XML 1.0's `Char` production leaves out is dropped, and no other."""
    from clippings.text import without_xml_forbidden

    def allowed(code: int) -> bool:
        return (
            code in (0x9, 0xA, 0xD)
            or 0x20 <= code <= 0xD7FF
            or 0xE000 <= code <= 0xFFFD
            or code >= 0x10000
        )

    codes = [*range(0x11000), *range(0x11000, 0x110000, 251), 0x10FFFF]
    kept = without_xml_forbidden("".join(map(chr, codes)))
    assert kept == "".join(chr(code) for code in codes if allowed(code))


def test_the_derived_values_kept_leave_an_article_the_dict_its_class_shares():
    """CPython shares the keys of instances' dicts of fewer than 30 entries; one more key gave
    each article a dict of its own (1.3 KB more an article, 130 MB at 100,000)."""
    article, _ = parse("title: T\ndate: 2020-01-02\npublication: P\n", "Two words.\n")
    size = sys.getsizeof(vars(article))
    assert (article.path, article.word_count, len(article.body_digest)) == ("2020/t/", 2, 32)
    assert sys.getsizeof(vars(article)) == size
