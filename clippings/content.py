"""Load stage: read every content file into a validated, immutable Article.

Problems are collected across all files and raised together as one BuildError, so a user fixes
a whole batch of hand edits in one pass.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import os
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any

from clippings.errors import BuildError, Problem, shown
from clippings.escape import safe_url
from clippings.files import Walk, walk_folder
from clippings.text import (
    MAX_SLUG_BYTES,
    XML_FORBIDDEN_DROPPED,
    plain_text,
    slugify,
    without_xml_forbidden,
)
from clippings.yamlfile import decode_text, load_mapping, read_text_file

REQUIRED = ("title", "date", "publication")
NAME_LISTS = ("authors", "people", "countries", "sources")
TEXT_FIELDS = (
    "url",
    "archived_url",
    "summary",
    "dek",
    "language",
    "source_file",
    "source_sha256",
    *("warc_file", "warc_record_id", "warc_digest"),  # a page imported from a web archive
)
KNOWN = frozenset(
    (
        *REQUIRED,
        *NAME_LISTS,
        *TEXT_FIELDS,
        "slug",
        "captions",
        "retrieved",
        "imported",
        "title_source",  # "derived": the importer made the title (no headline in the capture)
        "draft",
        "aliases",
    )
)
_FENCE = "---"
_SAFE_SLUG = re.compile(r"\w[\w.-]*")
# One folder of an alias: a URL path segment (RFC 3986 pchar, unencoded), so no control
# characters, spaces, quotes, '<', '?', '#' or '%'.
_ALIAS_PART = re.compile(r"[\w.~!$&'()*+,;=:@-]+")


class _Derived:
    """What an article keeps of its derived values once computed (see `Article._derived`)."""

    __slots__ = ("body_digest", "path", "word_count")

    def __init__(
        self, path: str | None = None, word_count: int | None = None, body_digest: str | None = None
    ) -> None:
        self.path = path
        self.word_count = word_count
        self.body_digest = body_digest

    def __reduce__(self) -> tuple[type[_Derived], tuple[str | None, int | None, str | None]]:
        # three values in a tuple: a slotted object's default state is a tuple and a dict more,
        # per article, in the engine's pickle and its memo
        return _Derived, (self.path, self.word_count, self.body_digest)


@dataclass(frozen=True)
class Article:
    """One content file: validated front matter plus the Markdown body."""

    source: str  # path as shown to the user, relative to the site folder
    title: str
    date: dt.date | dt.datetime | None
    publication: str
    slug: str
    body: str
    body_line: int
    url: str | None = None
    authors: tuple[str, ...] = ()
    people: tuple[str, ...] = ()
    countries: tuple[str, ...] = ()
    sources: tuple[str, ...] = ()
    summary: str | None = None
    dek: str | None = None
    captions: tuple[str, ...] = ()
    # Body paragraphs before each caption (None: shown after the body), from `after:`.
    caption_places: tuple[int | None, ...] = ()
    language: str | None = None
    retrieved: str | None = None
    imported: str | None = None
    source_file: str | None = None
    source_sha256: str | None = None
    warc_file: str | None = None  # a web archive's page: the WARC file, record and its digest
    warc_record_id: str | None = None
    warc_digest: str | None = None
    archived_url: str | None = None  # a web archive's copy of `url` (the Wayback Machine's...)
    draft: bool = False
    aliases: tuple[str, ...] = ()
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def year(self) -> str:
        return str(self.date.year) if self.date else "undated"

    # The derived values computed once are kept in one object rather than in the instance's
    # dict: CPython shares one table of keys among instances whose dicts have fewer than 30,
    # and a dict of its own costs 1.3 KB more an article (130 MB at 100,000).
    @cached_property
    def _derived(self) -> _Derived:
        return _Derived()

    @property
    def path(self) -> str:
        """Site-relative URL of the article page, e.g. `2018/some-title/` (kept: the model and
        the plan key everything by it, ~65,000 times an update)."""
        derived = self._derived
        if derived.path is None:
            derived.path = f"{self.year}/{self.slug}/"
        return derived.path

    @property
    def sort_key(self) -> tuple:
        """Chronological order by instant (a time with a zone counts in UTC, one without as
        UTC, a bare date before the times of its day); undated articles after every dated one."""
        if self.date is None:
            return (1, "", self.slug)
        when = self.date
        if isinstance(when, dt.datetime) and when.utcoffset() is not None:
            when = when.astimezone(dt.UTC).replace(tzinfo=None)
        return (0, when.isoformat(), self.slug)

    @property
    def iso_date(self) -> str | None:
        return self.date.isoformat() if self.date else None

    @property
    def lead(self) -> str:
        """The body's first paragraph as written: what lists show of an article without a
        summary or dek (`render.excerpt`). A field of its own, so the pages listing an
        article are not rendered again for an edit further down its body."""
        # as the first non-blank of body.split("\n\n") without splitting the whole body
        body, start = self.body, 0
        while True:
            end = body.find("\n\n", start)
            paragraph = (body[start:] if end < 0 else body[start:end]).strip()
            if paragraph or end < 0:
                return paragraph
            start = end + 2

    @property
    def word_count(self) -> int:
        """Kept (and in the engine a build saves, and in the cache's row of the file): the
        archive-wide downloads count every article's words, and an incremental build would
        otherwise count them all again."""
        derived = self._derived
        if derived.word_count is None:
            derived.word_count = len(plain_text(self.body).split())
        return derived.word_count

    def keep_word_count(self, count: int) -> None:
        """Take the count made where the file was parsed (the cache's row of the file holds it),
        so it is not counted again."""
        self._derived.word_count = count

    @property
    def body_digest(self) -> str:
        """Kept the same way: page fingerprints and search shards compare bodies by it, and
        hashing 10,000 bodies again costs a CLI build a quarter of a second."""
        derived = self._derived
        if derived.body_digest is None:
            data = self.body.encode("utf-8", "surrogatepass")
            derived.body_digest = hashlib.blake2b(data, digest_size=16).hexdigest()
        return derived.body_digest


# Every field a template may read of an article: front matter, body and derived values
# (see pageinputs.py).
ARTICLE_FIELDS = frozenset(
    [name for name in Article.__dataclass_fields__]
    + [
        name
        for name, value in vars(Article).items()
        if isinstance(value, property | cached_property) and not name.startswith("_")
    ]
)
# The derived values and the fields each is computed from (`path` is every digest's key): a
# digest of an article that holds these fields need not compute and hold the value too.
DERIVED_FROM: dict[str, frozenset[str]] = {
    "year": frozenset({"date"}),
    "sort_key": frozenset({"date", "slug"}),
    "iso_date": frozenset({"date"}),
    "lead": frozenset({"body"}),
    "word_count": frozenset({"body"}),
    "body_digest": frozenset({"body"}),
}


def split_front_matter(text: str) -> tuple[str, str, int] | None:
    """Split `---` fenced front matter from the body: (yaml, body, first body line)."""
    lines = text.split("\n")
    if not lines or lines[0].rstrip() != _FENCE:
        return None
    for index in range(1, len(lines)):
        if lines[index].rstrip() == _FENCE:
            body = "\n".join(lines[index + 1 :])
            return "\n".join(lines[1:index]), body, index + 2
    return None


def _parse_date(value: Any) -> dt.date | dt.datetime | None:
    """ISO date or datetime; raises ValueError with a readable reason."""
    if value is None:
        return None
    if isinstance(value, dt.datetime | dt.date):
        return value
    if not isinstance(value, str):
        raise ValueError(f"'date' must be an ISO date such as 2018-08-15, not {shown(value)}")
    text = value.strip()
    try:
        if len(text) == 10:
            return dt.date.fromisoformat(text)
        return dt.datetime.fromisoformat(text.replace(" ", "T", 1))
    except ValueError:
        raise ValueError(f"'date' {shown(text)} is not a valid ISO date (YYYY-MM-DD)") from None


def _kind(value: Any) -> str:
    """What YAML made of a value, for messages: `5` is a number, `yes` is true."""
    if isinstance(value, bool):
        return "true or false"
    if isinstance(value, int | float):
        return "a number"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, dict):
        return "a mapping"
    return "empty" if value is None else "text"


_QUOTE_HINT = "; put it in quotes if it is meant as text"


def _not_text(key: str, value: Any, expected: str = "text") -> str:
    """The message for a value that YAML did not read as text. Never turned into text silently:
    `publication: 5` or `language: no` (false) are typos as often as they are names."""
    kind = _kind(value)
    if kind in ("true or false", "a number"):
        return f"'{key}' must be {expected}, not {kind} ({shown(value)}){_QUOTE_HINT}"
    return f"'{key}' must be {expected}, not {kind}"


def _bad_item(key: str, item: Any, what: str) -> str:
    """The message for one item of a list of texts (names, captions, aliases)."""
    hint = _QUOTE_HINT if _kind(item) in ("true or false", "a number") else ""
    return f"'{key}' must be a list of {what}s; {shown(item)} is {_kind(item)}, not a {what}{hint}"


def _name_list(key: str, value: Any) -> tuple[tuple[str, ...], str | None]:
    if value is None:
        return (), None
    if isinstance(value, str):
        return (), f"'{key}' must be a list of names, not a single string (write [{value}])"
    if not isinstance(value, list):
        return (), f"'{key}' must be a list of names, not {_kind(value)}"
    names = []
    for item in value:
        if not isinstance(item, str):
            return (), _bad_item(key, item, "name")
        name = " ".join(item.split())
        if name:
            names.append(name)
    return tuple(dict.fromkeys(names)), None


def _text(key: str, value: Any) -> tuple[str | None, str | None]:
    if value is None:
        return None, None
    if not isinstance(value, str):
        return None, _not_text(key, value)
    return value, None


def _check_slug(slug: str) -> str | None:
    if not slug:
        return "the title gives an empty slug; set 'slug' to letters, digits and hyphens"
    if not _SAFE_SLUG.fullmatch(slug) or ".." in slug:
        return (
            f"'slug' {shown(slug)} must be letters, digits, '-', '_' or '.' (no '/', '..' or NUL)"
        )
    if len(slug.encode("utf-8")) > MAX_SLUG_BYTES:
        return f"'slug' is longer than {MAX_SLUG_BYTES} bytes; file systems cannot hold it"
    return None


def _captions(value: object) -> tuple[list[tuple[str, int | None]], str | None]:
    """Captions: each a text line, or `{text: ..., after: N}` placing it after N paragraphs."""
    message = "'captions' must be a list of text lines or of {text, after} entries"
    if not value:
        return [], None
    if not isinstance(value, list):
        return [], message
    captions: list[tuple[str, int | None]] = []
    for item in value:
        if isinstance(item, str):
            captions.append((item, None))
            continue
        after = item.get("after") if isinstance(item, dict) else None
        if (
            not isinstance(item, dict)
            or set(item) - {"text", "after"}
            or not isinstance(item.get("text"), str)
            or (after is not None and (isinstance(after, bool) or not isinstance(after, int)))
            or (isinstance(after, int) and after < 0)
        ):
            return [], message
        captions.append((item["text"], after))
    return captions, None


def _check_alias(alias: str) -> str | None:
    parts = alias.strip("/").split("/")
    if alias.startswith("/") or any(
        p in (".", "..") or not _ALIAS_PART.fullmatch(p) for p in parts
    ):
        return f"alias {shown(alias)} must be a relative path inside the site, such as old/path/"
    return None


def parse_article(
    text: str, source: str, strict: bool = False
) -> tuple[Article | None, list[Problem]]:
    """Validate one content file's text. Returns the article or the problems that prevent it."""
    # CRLF (Windows) and lone CR (classic Mac) line ends both count as line ends.
    text = text.removeprefix("\ufeff").replace("\r\n", "\n").replace("\r", "\n")
    parts = split_front_matter(text)
    if parts is None:
        return None, [
            Problem(source, 1, "missing front matter: the file must start with a '---' line")
        ]
    front, body, body_line = parts
    mapping, problems = load_mapping(front, source, first_line=2)
    if mapping is None:
        return None, problems
    data, line_of = mapping.data, mapping.line_of
    values: dict[str, Any] = {}

    def report(key: str, message: str, warning: bool = False) -> None:
        problems.append(Problem(source, line_of(key, 1), f"front matter: {message}", warning))

    # Slugs and aliases are not cleaned: a control character in a path is an error.
    for key in sorted(KNOWN.intersection(data).difference(("slug", "aliases"))):
        clean = _xml_safe(data[key])
        if isinstance(clean, str | list) and clean != data[key]:
            report(key, f"'{key}': {XML_FORBIDDEN_DROPPED}", warning=True)
            data[key] = clean

    for key in REQUIRED:
        if key not in data:
            problems.append(Problem(source, 1, f"front matter: missing required '{key}'"))
    for key in ("title", "publication"):
        value = data.get(key)
        if key in data and not isinstance(value, str):
            report(key, _not_text(key, value, "non-empty text"))
        elif key in data and not value.strip():
            report(key, f"'{key}' must be non-empty text")
        elif key in data:
            values[key] = " ".join(value.split())
    try:
        values["date"] = _parse_date(data.get("date"))
    except ValueError as error:
        report("date", str(error))
    for key in NAME_LISTS:
        names, message = _name_list(key, data.get(key))
        if message:
            report(key, message)
        values[key] = names
    for key in (*TEXT_FIELDS, "retrieved", "imported"):
        value, message = _text(key, data.get(key))
        if message:
            report(key, message)
        values[key] = value
    for key in ("aliases",):
        items = data.get(key)
        items = [] if items is None else items
        if not isinstance(items, list):
            report(key, f"'{key}' must be a list of text lines, not {_kind(items)}")
            items = []
        elif wrong := [item for item in items if not isinstance(item, str)]:
            report(key, _bad_item(key, wrong[0], "text line"))
            items = []
        values[key] = tuple(items)
    captions, message = _captions(data.get("captions"))
    if message:
        report("captions", message)
    values["captions"] = tuple(text for text, _ in captions)
    values["caption_places"] = tuple(place for _, place in captions)
    if values.get("url") and safe_url(values["url"]) is None:
        message = "'url' is not an http(s) or mailto address: it is shown as text, not a link"
        report("url", message, warning=True)
    for alias in values["aliases"]:
        message = _check_alias(alias)
        if message:
            report("aliases", message)
    draft = data.get("draft", False)
    if not isinstance(draft, bool):
        report("draft", "'draft' must be true or false")
    slug_value = data.get("slug")
    if not isinstance(slug_value, str | None):
        report("slug", _not_text("slug", slug_value))
        slug_value = None
    slug = str(slug_value) if slug_value is not None else slugify(values.get("title", ""))
    message = _check_slug(slug)
    if message and ("title" in values or slug_value is not None):
        report("slug" if slug_value is not None else "title", message)
    extra = {key: value for key, value in data.items() if key not in KNOWN}
    if strict:
        for key in extra:
            message = f"front matter: unknown key '{key}'"
            problems.append(Problem(source, line_of(key, 1), message, warning=True))
    if any(not problem.warning for problem in problems):
        return None, problems
    clean_body = without_xml_forbidden(body)
    if clean_body != body:
        message = f"body: {XML_FORBIDDEN_DROPPED}"
        problems.append(Problem(source, body_line, message, warning=True))
    article = Article(
        source=source,
        slug=slug,
        body=clean_body,
        body_line=body_line,
        draft=bool(draft),
        extra=extra,
        **values,
    )
    return article, problems


def _xml_safe(value: Any) -> Any:
    """A field's text (or list of texts) without what XML 1.0 forbids: cleaned at load time, so
    feeds, the sitemap, HTML and JSON all get the same value. Other values are left for the
    type checks."""
    if isinstance(value, str):
        return without_xml_forbidden(value)
    if isinstance(value, list):
        return [_xml_safe(item) for item in value]
    if isinstance(value, dict):  # a caption placed among the paragraphs: {text, after}
        return {key: _xml_safe(item) for key, item in value.items()}
    return value


def read_article(
    path: Path, source: str, strict: bool = False, data: bytes | None = None
) -> tuple[Article | None, list[Problem]]:
    """Read one file from disk, turning unreadable bytes into a problem rather than a traceback.
    With `data`, the file's bytes as the caller read them: the build cache hashes and parses one
    read, so an edit landing between two reads cannot pair one version's hash with another's
    parse.

    Whatever else reading or validating one file raises (a bug that input triggers) is that
    file's problem too: the other files are still read, and every problem is reported at once.
    """
    try:
        text, problems = read_text_file(path, source) if data is None else decode_text(data, source)
        if text is None:
            return None, problems
        if not text.strip():
            return None, [Problem(source, None, "empty file")]
        return parse_article(text, source, strict)
    except Exception as error:
        detail = f"{type(error).__name__}: {error}"[:300]
        return None, [Problem(source, None, f"cannot be loaded ({detail}); please report this")]


def content_files(content_dir: Path, site_root: Path) -> tuple[list[Path], list[Problem]]:
    """Every Markdown file under the content folder, in a stable order (by path components),
    and the problems of the walk (`files.walk_folder`: folders that cannot be read, FIFOs,
    symlinked folders, which are not followed).

    Hidden files and editors' lock and swap files are skipped (Emacs's `.#name.md` is a
    dangling symlink), so a file open in an editor does not break a build. A symlink named
    `*.md` is listed whatever it points to, so reading it reports what is wrong. `os.scandir`,
    not `Path.rglob`: every build starts with this walk, and pathlib's objects cost ten times more.
    """
    walk = _walk(content_dir, site_root)
    return [Path(path) for _, path in walk.files], walk.problems


def content_sources(content_dir: Path, site_root: Path) -> tuple[dict[str, str], list[Problem]]:
    """`content_files` as {name shown to the user: path}, in the same order, without building a
    Path per file: the no-op check and quick rebuilds run this walk before anything else."""
    prefix = display_path(content_dir, site_root) + "/"
    prefix = "" if prefix == "./" else prefix
    walk = _walk(content_dir, site_root)
    return {prefix + "/".join(parts): path for parts, path in walk.files}, walk.problems


def _walk(content_dir: Path, site_root: Path) -> Walk:
    def display(path: str) -> str:
        return display_path(Path(path), site_root)

    return walk_folder(content_dir, display, lambda name: name.endswith(".md"), what="articles")


def load_article_file(
    path: Path,
    real_root: Path,
    site_root: Path,
    strict: bool = False,
    read: Callable[[Path, str, bool], tuple[Article | None, list[Problem]]] = read_article,
) -> tuple[Article | None, list[Problem]]:
    """One content file as `load_articles` reads it (also used by the live rebuilder)."""
    source = display_path(path, site_root)
    outside = _outside_content(path, real_root, source)
    return (None, [outside]) if outside else read(path, source, strict)


def _outside_content(path: Path, real_root: Path, source: str) -> Problem | None:
    # realpath, unlike Path.resolve, does not raise on a symlink loop; reading then reports it.
    if Path(os.path.realpath(path)).is_relative_to(real_root):
        return None
    return Problem(source, None, "symlink points outside the content folder; not read")


# Prepares the reading of many files at once, given (path, source) and strictness: the build
# cache parses the files it has no row for on every core (`BuildCache.read_ahead`).
ReadAhead = Callable[[list[tuple[Path, str]], bool], None]


def load_articles(
    content_dir: Path,
    site_root: Path,
    strict: bool = False,
    read: Callable[[Path, str, bool], tuple[Article | None, list[Problem]]] = read_article,
) -> tuple[list[Article], list[Problem]]:
    """Load every article; returns articles and warnings, raising BuildError on any error.
    `read` reads one file (the build cache passes its own, which skips unchanged files)."""
    paths, problems = content_files(content_dir, site_root)
    return read_articles(content_dir, site_root, paths, problems, strict, read)


def read_articles(
    content_dir: Path,
    site_root: Path,
    paths: list[Path],
    problems: list[Problem],
    strict: bool = False,
    read: Callable[[Path, str, bool], tuple[Article | None, list[Problem]]] = read_article,
    read_ahead: ReadAhead | None = None,
) -> tuple[list[Article], list[Problem]]:
    """`load_articles` for the files `content_files` listed (with the problems of its walk)."""
    if not content_dir.is_dir():
        raise BuildError([Problem(str(content_dir), None, "content folder not found")])
    articles: list[Article] = []
    real_root = content_dir.resolve()
    problems = list(problems)
    checked = []
    for path in paths:
        source = display_path(path, site_root)
        # Only a symlink can lead out of content/: the walk that listed these files does not
        # enter symlinked folders. (Resolving every path took 0.35 s at 10,000 files, all of it
        # before the read-ahead starts.)
        outside = _outside_content(path, real_root, source) if os.path.islink(path) else None
        checked.append((path, source, outside))
    if read_ahead:
        read_ahead([(path, source) for path, source, outside in checked if not outside], strict)
    for path, source, outside in checked:
        article, found = (None, [outside]) if outside else read(path, source, strict)
        problems.extend(found)
        if article is not None:
            articles.append(article)
    warnings = [p for p in problems if p.warning]
    errors = [p for p in problems if not p.warning]
    if errors:
        raise BuildError(errors)
    return articles, warnings


def display_path(path: Path, site_root: Path) -> str:
    """How a content file is named in messages and the cache: relative to the site folder."""
    text, root = str(path), str(site_root).rstrip("/")
    if text.startswith(root + "/"):  # the usual case, without pathlib's cost per file
        return text[len(root) + 1 :]
    try:
        return path.relative_to(site_root).as_posix()
    except ValueError:
        return path.as_posix()
