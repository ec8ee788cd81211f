"""Downloads: the archive and each article as data, in the formats other tools read.

Per article, next to its page: `cite.ris` (rispy), `cite.bib` (bibtexparser, values encoded to
LaTeX by its pylatexenc), `cite.json` (CSL-JSON). For the whole archive at the site root: the
same three (`archive.ris`, `archive.bib`, `archive.csl.json`), `archive.csv` and
`archive.sqlite` (sqlite-utils, with FTS5). Every citation comes from `csl.csl_item`.

Each file is a page of the plan (`render.Site.downloads`) whose template names a maker here
(`export:<name>`), so the build cache and the live rebuilder fingerprint, skip and write it like
any page. Makers are pure: the same context gives the same bytes.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import re
import sqlite3
import tempfile
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

import rispy
from pylatexenc.latexencode import (
    RULE_DICT,
    UnicodeToLatexConversionRule,
    UnicodeToLatexEncoder,
)

from clippings.archive import Term
from clippings.authority import KINDS
from clippings.content import Article
from clippings.csl import csl_item
from clippings.originals import read_original
from clippings.text import plain_text

if TYPE_CHECKING:
    from bibtexparser.model import Entry

EXPORT_PREFIX = "export:"
ARTICLE_FILES = ("cite.ris", "cite.bib", "cite.json")
LIST_SEPARATOR = "; "
CSV_FIELDS = (
    "path",
    "title",
    "date",
    "publication",
    "url",
    "authors",
    *KINDS,
    "word_count",
    "source_sha256",
)


@dataclass(frozen=True)
class Download:
    """One archive-wide download, as the data page describes it."""

    path: str
    title: str
    description: str


# What the downloads read of a term, for their fingerprints (pageinputs.template_reads): what
# names it, and the database its count too. A test renders them again with every other field
# of every term changed.
TERM_READS = frozenset({"kind", "slug", "name", "path", "entity"})
COUNTING = frozenset({"archive.sqlite"})

DOWNLOADS = (
    Download("archive.csv", "CSV", "One row per article (RFC 4180; lists joined with “; ”)."),
    Download(
        "archive.sqlite",
        "SQLite",
        "Tables articles (with the Markdown body and its plain text), terms and "
        "article_terms, with a full-text index (FTS5) over titles and text; opens in Datasette.",
    ),
    Download("archive.json", "JSON", "Every article's metadata, one article per line."),
    Download("archive.csl.json", "CSL-JSON", "Citations for Zotero, Pandoc and citeproc."),
    Download("archive.ris", "RIS", "Citations for EndNote, Zotero and Mendeley."),
    Download("archive.bib", "BibTeX", "Citations for LaTeX."),
)


class ArticleLines:
    """archive.json's line per article, kept while the article, its terms by kind (the same
    object: the model never changes one in place, see `archive.Tags`) and those terms' names
    stay: a renamed term makes the lines of its articles again. The engine keeps one between
    builds (and in the state it saves), so an edit makes the lines of the articles it touched,
    not all 10,000 (~0.15 s). Its tables are replaced, never changed in place: `serve` makes
    downloads in a thread of their own."""

    def __init__(self) -> None:
        # ids -> the objects (held, so no id is reused) and what was made of them
        self._lines: dict[int, tuple[Article, dict[str, list[Term]], str]] = {}
        self._names: dict[int, tuple[Term, str]] = {}  # each term's name in the lines

    def lines(self, articles: list[Article], terms: list[dict[str, list[Term]]]) -> list[str]:
        """The lines of these articles; forgets every other."""
        renamed = {key for key, (term, name) in self._names.items() if term.name != name}
        names = {key: held for key, held in self._names.items() if key not in renamed}
        kept, lines = {}, []
        for article, own in zip(articles, terms, strict=True):
            known = self._lines.get(id(article))
            if (
                known is None
                or known[0] is not article
                or known[1] is not own
                or (renamed and any(id(t) in renamed for kind in KINDS for t in own[kind]))
            ):
                known = (article, own, _JSON.encode(archive_json_record(article, own)))
                for kind in KINDS:
                    names.update({id(term): (term, term.name) for term in own[kind]})
            kept[id(article)] = known
            lines.append(known[2])
        self._lines, self._names = kept, names
        return lines

    def __getstate__(self) -> dict[str, Any]:
        """As columns; the names of terms still naming an article only."""
        rows = self._lines.values()
        named = [(term, name) for term, name in self._names.values() if term.articles]
        return {
            "articles": [article for article, _, _ in rows],
            "terms": [own for _, own, _ in rows],
            "lines": [line for _, _, line in rows],
            "named": [term for term, _ in named],
            "names": [name for _, name in named],
        }

    def __setstate__(self, state: dict[str, Any]) -> None:
        rows = zip(state["articles"], state["terms"], state["lines"], strict=True)
        self._lines = {id(row[0]): row for row in rows}
        named = zip(state["named"], state["names"], strict=True)
        self._names = {id(term): (term, name) for term, name in named}


@dataclass(frozen=True, eq=False)
class Exporting:
    """What the downloads need of the site, and archive.json's lines kept from earlier builds."""

    site_url: str
    title: str
    lines: ArticleLines = field(default_factory=ArticleLines)


def article_row(article: Article, terms: dict[str, list[Term]]) -> dict[str, Any]:
    """The fields of archive.json, archive.csv and the database's articles table (lists as
    lists: each format joins them its own way)."""
    return {
        "path": article.path,
        "title": article.title,
        "date": article.iso_date,
        "publication": article.publication,
        "url": article.url,
        "authors": list(article.authors),
        **{kind: [term.name for term in terms[kind]] for kind in KINDS},
        "word_count": article.word_count,
        "source_sha256": article.source_sha256,
    }


# -- citation formats ------------------------------------------------------------------------


def _one_line(value: str) -> str:
    """RIS is a line format: a value never spans lines (content text is already one line)."""
    return " ".join(value.split())


def ris_entry(item: dict[str, Any]) -> dict[str, Any]:
    """A CSL item as a rispy entry (RIS type NEWS)."""
    entry: dict[str, Any] = {
        "type_of_reference": "NEWS",
        "id": item["id"],
        "title": item["title"],
        "secondary_title": item["container-title"],
    }
    names = [
        f"{name['family']}, {name['given']}" if "family" in name else name["literal"]
        for name in item.get("author", ())
    ]
    if names:
        entry["authors"] = names
    if "issued" in item:
        year, month, day = item["issued"]["date-parts"][0]
        entry["year"] = str(year)
        entry["date"] = f"{year:04d}/{month:02d}/{day:02d}/"
    if "URL" in item:
        entry["urls"] = [item["URL"]]
    if "accessed" in item:
        year, month, day = item["accessed"]["date-parts"][0]
        entry["access_date"] = f"{year:04d}/{month:02d}/{day:02d}"
    entry["name_of_database"] = item["archive"]
    entry["notes"] = [f"Archived at {item['archive_location']}"]
    if "language" in item:
        entry["language"] = item["language"]
    return {
        key: [_one_line(v) for v in value] if isinstance(value, list) else _one_line(value)
        for key, value in entry.items()
    }


class _RisWriter(rispy.RisWriter):
    """RIS without rispy's "1." line before each record (not part of the format)."""

    def set_header(self, count: int) -> str:
        return ""


def ris_text(items: Iterable[dict[str, Any]]) -> str:
    return rispy.dumps([ris_entry(item) for item in items], implementation=_RisWriter)


# pylatexenc's defaults, plus a straight double quote kept as one (its default turns it into
# typographic quotes, which is not what the title says).
_LATEX = UnicodeToLatexEncoder(
    conversion_rules=[
        UnicodeToLatexConversionRule(RULE_DICT, {ord('"'): '{"}'}),
        "defaults",
    ],
    unknown_char_policy="keep",  # CJK and the like stay UTF-8, which biber reads
    unknown_char_warning=False,
    replacement_latex_protection="braces-all",
)
_KEY_UNSAFE = re.compile(r"[^A-Za-z0-9_-]+")
_URL_UNSAFE = re.compile(r"[{}\\%#\s]")


# The characters pylatexenc keeps as they are (its rules go character by character; checked in
# tests/test_exports.py): a value of these alone is its own LaTeX, and most titles are (~80 µs
# each through the encoder, 0.8 s for the 10,000 titles of archive.bib).
_LATEX_AS_IS = re.compile(r"[ !'()*+,./0-9:;=?@A-Z\[\]`a-z|-]*")


def _latex(value: str) -> str:
    return value if _LATEX_AS_IS.fullmatch(value) else _encoded(value)


@lru_cache(maxsize=4096)  # the publication and the site's title recur in every entry
def _encoded(value: str) -> str:
    return _LATEX.unicode_to_latex(value)


def _bib_url(url: str) -> str:
    """A URL inside BibTeX braces: characters BibTeX or LaTeX would read are percent-encoded."""
    return _URL_UNSAFE.sub(lambda m: "".join(f"%{b:02X}" for b in m[0].encode()), url)


def bib_key(item: dict[str, Any]) -> str:
    """An ASCII citation key from the article's path (year and slug); non-ASCII slugs keep their
    ASCII letters and a hash, so two keys never collide."""
    key = _KEY_UNSAFE.sub("-", item["id"]).strip("-")
    if key != item["id"].replace("/", "-") or not key:
        suffix = hashlib.sha256(item["id"].encode()).hexdigest()[:8]
        key = f"{key or 'article'}-{suffix}"
    return key


def bib_entry(item: dict[str, Any]) -> Entry:
    """A CSL item as a BibTeX @article in the newspaper's `journal`, every text value
    LaTeX-encoded (`{}`, `%`, `&`, non-ASCII) by pylatexenc."""
    from bibtexparser.model import Entry, Field  # ~30 ms to import: only .bib files need it

    fields = [Field("title", "{" + _latex(item["title"]) + "}")]
    names = []
    for name in item.get("author", ()):
        if "family" in name:
            names.append(f"{_latex(name['family'])}, {_latex(name['given'])}")
        else:  # an agency: braced, so BibTeX does not split it into given and family names
            names.append("{" + _latex(name["literal"]) + "}")
    if names:
        fields.append(Field("author", " and ".join(names)))
    fields.append(Field("journal", _latex(item["container-title"])))
    if "issued" in item:
        year, month, day = item["issued"]["date-parts"][0]
        fields.append(Field("year", str(year)))
        fields.append(Field("date", f"{year:04d}-{month:02d}-{day:02d}"))
    if "URL" in item:
        fields.append(Field("url", _bib_url(item["URL"])))
    if "accessed" in item:
        year, month, day = item["accessed"]["date-parts"][0]
        fields.append(Field("urldate", f"{year:04d}-{month:02d}-{day:02d}"))
    archived = (
        f"Archived in {_latex(item['archive'])}: \\url{{{_bib_url(item['archive_location'])}}}"
    )
    fields.append(Field("note", archived))
    if "language" in item:
        fields.append(Field("language", _latex(item["language"])))
    return Entry("article", bib_key(item), fields)


def bib_text(items: Iterable[dict[str, Any]]) -> str:
    import bibtexparser.middlewares  # see bib_entry

    library = bibtexparser.Library()
    for item in items:
        library.add(bib_entry(item))
    # The library is thrown away after: its blocks need not be deep-copied before writing.
    unparse = bibtexparser.middlewares.default_unparse_stack(allow_inplace_modification=True)
    return bibtexparser.write_string(library, unparse_stack=unparse)


def csl_json_text(items: list[dict[str, Any]]) -> str:
    return json.dumps(items, ensure_ascii=False, indent=1, sort_keys=True) + "\n"


# -- data formats ----------------------------------------------------------------------------


def csv_text(rows: Iterable[dict[str, Any]]) -> str:
    """RFC 4180: CRLF line ends, fields quoted when they hold a comma, quote or line end."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(CSV_FIELDS)
    for row in rows:
        writer.writerow(
            LIST_SEPARATOR.join(value) if isinstance(value, list) else value
            for value in (row[name] for name in CSV_FIELDS)
        )
    return out.getvalue()


def archive_json_record(article: Article, terms: dict[str, list[Term]]) -> dict[str, Any]:
    """archive.json's record of an article (its field names predate the CSV's)."""
    row = article_row(article, terms)
    return {
        "url": row["path"],
        "title": row["title"],
        "date": row["date"],
        "publication": row["publication"],
        "original_url": row["url"],
        "authors": row["authors"],
        **{kind: row[kind] for kind in KINDS},
        "word_count": row["word_count"],
        "source_file": article.source_file,
        "source_sha256": row["source_sha256"],
    }


# One article per line, each through json's C encoder (indenting the whole document runs the
# pure-Python encoder, 0.5 s at 10,000 articles); keys sorted, as `archive_json_with_word_counts`
# expects.
_JSON = json.JSONEncoder(ensure_ascii=False, sort_keys=True)


def archive_json_text(lines: list[str], title: str) -> str:
    """archive.json from its lines (`ArticleLines`), one article per line."""
    articles = "[\n" + ",\n".join(lines) + "\n]" if lines else "[]"
    return f'{{"articles": {articles}, "title": {json.dumps(title, ensure_ascii=False)}}}\n'


Rows = dict[str, list[dict[str, Any]]]  # table -> rows, in insertion order


def sqlite_rows(
    articles: list[Article], terms: list[dict[str, list[Term]]], all_terms: list[Term]
) -> Rows:
    """The database's rows: every term, every article (with body and plain text), the links."""
    rows: Rows = {"terms": [], "articles": [], "article_terms": []}
    for term in all_terms:
        rows["terms"].append(
            {
                "id": term.path.rstrip("/"),
                "kind": term.kind,
                "slug": term.slug,
                "name": term.name,
                "description": term.entity.description if term.entity else None,
                "wikidata": term.entity.wikidata if term.entity else None,
                "articles": term.count,
            }
        )
    for article, own in zip(articles, terms, strict=True):
        row = article_row(article, own)
        rows["articles"].append(
            {
                **{key: row[key] for key in ("path", "title", "date", "publication", "url")},
                "authors": LIST_SEPARATOR.join(row["authors"]),
                "word_count": row["word_count"],
                "source_sha256": row["source_sha256"],
                "body": article.body,
                "text": plain_text(article.body),
            }
        )
        rows["article_terms"] += [
            {"article": article.path, "term": term.path.rstrip("/"), "kind": kind}
            for kind in KINDS
            for term in own[kind]
        ]
    return rows


def sqlite_bytes(rows: Rows) -> bytes:
    """archive.sqlite, built with sqlite-utils in memory; the same rows give the same bytes
    (fixed row order, no timestamps, written out fresh with VACUUM INTO a scratch file)."""
    with tempfile.TemporaryDirectory() as scratch:
        import sqlite_utils  # here, not at the top: it takes ~0.2 s to import (numpy, click)

        # made in memory: on disk, each batch of 100 rows was a transaction of its own, synced
        # (0.8 s of 2.7 s at 10,000 articles); VACUUM INTO writes the file once, whole
        db = sqlite_utils.Database(memory=True)
        db["terms"].create(
            {
                "id": str,
                "kind": str,
                "slug": str,
                "name": str,
                "description": str,
                "wikidata": str,
                "articles": int,
            },
            pk="id",
        )
        db["articles"].create(
            {
                "path": str,
                "title": str,
                "date": str,
                "publication": str,
                "url": str,
                "authors": str,
                "word_count": int,
                "source_sha256": str,
                "body": str,
                "text": str,
            },
            pk="path",
        )
        db["article_terms"].create(
            {"article": str, "term": str, "kind": str},
            pk=("article", "term"),
            foreign_keys=[("article", "articles", "path"), ("term", "terms", "id")],
        )
        for table in ("terms", "articles", "article_terms"):
            db[table].insert_all(rows[table])
        db["articles"].create_index(["date"])
        db["articles"].create_index(["publication"])
        db["terms"].create_index(["kind", "slug"], unique=True)
        db["article_terms"].create_index(["term"])
        db["articles"].enable_fts(["title", "text"], tokenize="unicode61")
        out = Path(scratch) / "archive.sqlite"
        db.execute("VACUUM INTO ?", [str(out)])
        db.close()
        return out.read_bytes()


def sqlite_with_bodies(data: bytes, edited: list[Article]) -> bytes:
    """A built archive.sqlite with new bodies for some articles (their text and word count
    follow), made again from its own rows: equal to a full build's (tests/test_body_edits.py)."""
    with tempfile.TemporaryDirectory() as scratch:
        path = Path(scratch) / "old.sqlite"
        path.write_bytes(data)
        db = sqlite3.connect(path)
        db.row_factory = sqlite3.Row
        try:
            rows: Rows = {
                table: [dict(row) for row in db.execute(f"SELECT * FROM {table} ORDER BY rowid")]
                for table in ("terms", "articles", "article_terms")
            }
        finally:
            db.close()
    by_path = {article.path: article for article in edited}
    for row in rows["articles"]:
        article = by_path.get(row["path"])
        if article is not None:
            row.update(body=article.body, text=plain_text(article.body))
            row["word_count"] = article.word_count
    return sqlite_bytes(rows)


_URL_KEY = b'"url": '
_COUNT_KEY = b', "word_count": '


def archive_json_with_word_counts(data: bytes, counts: dict[str, int]) -> bytes | None:
    """A built archive.json with new word counts for some articles (by path), changed in place:
    each article is one line of `archive_json_text` with its keys sorted, so the count is the
    last value of the line, after its URL. One pass over the lines, as bytes: decoding and
    encoding all 10,000 records took a quarter of a second, searching the whole file once per
    article 6.8 s for 2,000. None when the file is not such a file."""
    wanted = {
        json.dumps(path, ensure_ascii=False).encode(): str(count).encode()
        for path, count in counts.items()
    }
    lines = data.split(b"\n")
    done: set[bytes] = set()
    for index, line in enumerate(lines):
        url = line.rfind(_URL_KEY)  # the record's own: a string's quotes are escaped
        marker = line.find(_COUNT_KEY, url)
        if url < 0 or marker < 0:
            continue
        name = line[url + len(_URL_KEY) : marker]
        count = wanted.get(name)
        if count is None:
            continue
        start = end = marker + len(_COUNT_KEY)
        while line[end : end + 1].isdigit():
            end += 1
        if name in done or end == start or line[end : end + 1] != b"}":
            return None
        done.add(name)
        lines[index] = line[:start] + count + line[end:]
    return b"\n".join(lines) if len(done) == len(wanted) else None


def csv_with_word_counts(text: str, counts: dict[str, int]) -> str:
    """A built archive.csv with new word counts for some articles (by path)."""
    rows = list(csv.reader(io.StringIO(text, newline="")))
    index = rows[0].index("word_count")
    for row in rows[1:]:
        if row[0] in counts:
            row[index] = str(counts[row[0]])
    out = io.StringIO()
    csv.writer(out, lineterminator="\r\n").writerows(rows)
    return out.getvalue()


# -- makers: page context -> bytes -----------------------------------------------------------

Maker = Callable[[dict[str, Any], Exporting], bytes]


def _items(context: dict[str, Any], site: Exporting) -> list[dict[str, Any]]:
    return [csl_item(a, site.site_url, site.title) for a in context["articles"]]


def _item(context: dict[str, Any], site: Exporting) -> dict[str, Any]:
    return csl_item(context["article"], site.site_url, site.title)


def _rows(context: dict[str, Any]) -> Iterable[dict[str, Any]]:
    for article, own in zip(context["articles"], context["terms"], strict=True):
        yield {**article_row(article, own), "source_file": article.source_file}


MAKERS: dict[str, Maker] = {
    "cite.ris": lambda c, s: ris_text([_item(c, s)]).encode(),
    "cite.bib": lambda c, s: bib_text([_item(c, s)]).encode(),
    "cite.json": lambda c, s: csl_json_text([_item(c, s)]).encode(),
    "archive.ris": lambda c, s: ris_text(_items(c, s)).encode(),
    "archive.bib": lambda c, s: bib_text(_items(c, s)).encode(),
    "archive.csl.json": lambda c, s: csl_json_text(_items(c, s)).encode(),
    "archive.csv": lambda c, s: csv_text(_rows(c)).encode(),
    "archive.json": lambda c, s: archive_json_text(
        s.lines.lines(c["articles"], c["terms"]), s.title
    ).encode(),
    "archive.sqlite": lambda c, s: sqlite_bytes(
        sqlite_rows(c["articles"], c["terms"], c["all_terms"])
    ),
    "original": lambda c, s: read_original(c["original"]),
}


def make(template: str, context: dict[str, Any], site: Exporting) -> bytes:
    """The bytes of an `export:` page."""
    return MAKERS[template.removeprefix(EXPORT_PREFIX)](context, site)


def export_term_reads(template: str) -> frozenset[str]:
    """What the `export:` page `template` reads of a term."""
    counts = template.removeprefix(EXPORT_PREFIX) in COUNTING
    return TERM_READS | {"count"} if counts else TERM_READS


def is_export(template: str) -> bool:
    return template.startswith(EXPORT_PREFIX)
