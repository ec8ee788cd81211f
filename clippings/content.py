"""Load stage: read every content file into a validated, immutable Article.

Problems are collected across all files and raised together as one BuildError, so a user fixes
a whole batch of hand edits in one pass.
"""

from __future__ import annotations

import datetime as dt
import os
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from clippings.errors import BuildError, Problem, shown
from clippings.text import MAX_SLUG_BYTES, slugify
from clippings.yamlfile import load_mapping, read_text_file

REQUIRED = ("title", "date", "publication")
NAME_LISTS = ("authors", "people", "countries", "sources")
TEXT_FIELDS = ("url", "archived_url", "summary", "dek", "language", "source_file", "source_sha256")
KNOWN = frozenset(
    (
        *REQUIRED,
        *NAME_LISTS,
        *TEXT_FIELDS,
        "slug",
        "captions",
        "retrieved",
        "imported",
        "draft",
        "aliases",
    )
)
_FENCE = "---"
_SAFE_SLUG = re.compile(r"^[\w][\w.-]*$")


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
    language: str | None = None
    retrieved: str | None = None
    imported: str | None = None
    source_file: str | None = None
    source_sha256: str | None = None
    archived_url: str | None = None  # a web archive's copy of `url` (the Wayback Machine's...)
    draft: bool = False
    aliases: tuple[str, ...] = ()
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def year(self) -> str:
        return str(self.date.year) if self.date else "undated"

    @property
    def path(self) -> str:
        """Site-relative URL of the article page, e.g. `2018/some-title/`."""
        return f"{self.year}/{self.slug}/"

    @property
    def sort_key(self) -> tuple:
        """Chronological order; undated articles sort after every dated one."""
        if self.date is None:
            return (1, "", self.slug)
        return (0, self.date.isoformat(), self.slug)

    @property
    def iso_date(self) -> str | None:
        return self.date.isoformat() if self.date else None


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


def _name_list(key: str, value: Any) -> tuple[tuple[str, ...], str | None]:
    if value is None:
        return (), None
    if isinstance(value, str):
        return (), f"'{key}' must be a list of names, not a single string (write [{value}])"
    if not isinstance(value, list):
        return (), f"'{key}' must be a list of names"
    names = []
    for item in value:
        if isinstance(item, bool) or not isinstance(item, str | int | float):
            return (), f"'{key}' must be a list of names; {shown(item)} is not a name"
        name = " ".join(str(item).split())
        if name:
            names.append(name)
    return tuple(dict.fromkeys(names)), None


def _text(key: str, value: Any) -> tuple[str | None, str | None]:
    if value is None:
        return None, None
    if isinstance(value, dict | list):
        return None, f"'{key}' must be text"
    return str(value), None


def _check_slug(slug: str) -> str | None:
    if not slug:
        return "the title gives an empty slug; set 'slug' to letters, digits and hyphens"
    if not _SAFE_SLUG.match(slug) or ".." in slug:
        return (
            f"'slug' {shown(slug)} must be letters, digits, '-', '_' or '.' (no '/', '..' or NUL)"
        )
    if len(slug.encode("utf-8")) > MAX_SLUG_BYTES:
        return f"'slug' is longer than {MAX_SLUG_BYTES} bytes; file systems cannot hold it"
    return None


def _check_alias(alias: str) -> str | None:
    parts = alias.strip("/").split("/")
    if (
        alias.startswith(("/", "\\"))
        or "\\" in alias
        or "\0" in alias
        or any(p in ("", ".", "..") for p in parts)
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

    def report(key: str, message: str) -> None:
        problems.append(Problem(source, line_of(key, 1), f"front matter: {message}"))

    for key in REQUIRED:
        if key not in data:
            problems.append(Problem(source, 1, f"front matter: missing required '{key}'"))
    for key in ("title", "publication"):
        value = data.get(key)
        if key in data and (not isinstance(value, str | int | float) or not str(value).strip()):
            report(key, f"'{key}' must be non-empty text")
        elif key in data:
            values[key] = " ".join(str(value).split())
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
    for key in ("captions", "aliases"):
        items = data.get(key) or []
        if not isinstance(items, list) or not all(isinstance(i, str) for i in items):
            report(key, f"'{key}' must be a list of text lines")
            items = []
        values[key] = tuple(items)
    for alias in values["aliases"]:
        message = _check_alias(alias)
        if message:
            report("aliases", message)
    draft = data.get("draft", False)
    if not isinstance(draft, bool):
        report("draft", "'draft' must be true or false")
    slug_value = data.get("slug")
    if isinstance(slug_value, bool) or not isinstance(slug_value, str | int | None):
        report("slug", "'slug' must be text")
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
    article = Article(
        source=source,
        slug=slug,
        body=body,
        body_line=body_line,
        draft=bool(draft),
        extra=extra,
        **values,
    )
    return article, problems


def read_article(
    path: Path, source: str, strict: bool = False
) -> tuple[Article | None, list[Problem]]:
    """Read one file from disk, turning unreadable bytes into a problem rather than a traceback."""
    text, problems = read_text_file(path, source)
    if text is None:
        return None, problems
    if not text.strip():
        return None, [Problem(source, None, "empty file")]
    return parse_article(text, source, strict)


def content_files(content_dir: Path) -> list[Path]:
    """Every Markdown file under the content folder, in a stable order (by path components).

    Hidden files and folders are skipped, as in static/: editors keep lock files there (Emacs's
    `.#name.md` is a dangling symlink) that must not break a build while a file is open. Folder
    symlinks are not followed (`load_articles` warns about them); a symlink named `*.md` is
    listed whatever it points to, so reading it reports what is wrong. `os.scandir`, not
    `Path.rglob`: every build starts with this walk, and pathlib's objects cost ten times more.
    """
    return [Path(path) for _, path in _content_parts(content_dir)]


def content_sources(content_dir: Path, site_root: Path) -> dict[str, str]:
    """`content_files` as {name shown to the user: path}, in the same order, without building a
    Path per file: the no-op check and quick rebuilds run this walk before anything else."""
    prefix = display_path(content_dir, site_root) + "/"
    prefix = "" if prefix == "./" else prefix
    return {prefix + "/".join(parts): path for parts, path in _content_parts(content_dir)}


def _content_parts(content_dir: Path) -> list[tuple[tuple[str, ...], str]]:
    """(path components below the folder, full path) of every content file, sorted."""
    found: list[tuple[tuple[str, ...], str]] = []
    pending: list[tuple[tuple[str, ...], str]] = [((), str(content_dir))]
    while pending:
        parts, folder = pending.pop()
        try:
            entries = list(os.scandir(folder))
        except OSError:  # as rglob did: a folder that vanished or cannot be listed is skipped
            continue
        for entry in entries:
            if entry.name.startswith("."):
                continue
            if entry.is_dir(follow_symlinks=False):
                pending.append(((*parts, entry.name), entry.path))
            elif entry.name.endswith(".md") and (entry.is_symlink() or entry.is_file()):
                found.append(((*parts, entry.name), entry.path))
    return sorted(found)


def _symlinked_folders(content_dir: Path) -> list[Path]:
    """Folder symlinks, which the content walk skips: reported so no article goes missing silently."""
    return sorted(
        Path(root, name)
        for root, folders, _ in os.walk(content_dir)
        for name in folders
        if os.path.islink(os.path.join(root, name))
    )


def load_article_file(
    path: Path,
    real_root: Path,
    site_root: Path,
    strict: bool = False,
    read: Callable[[Path, str, bool], tuple[Article | None, list[Problem]]] = read_article,
) -> tuple[Article | None, list[Problem]]:
    """One content file as `load_articles` reads it (also used by the live rebuilder)."""
    source = display_path(path, site_root)
    # realpath, unlike Path.resolve, does not raise on a symlink loop; reading then reports it.
    if not Path(os.path.realpath(path)).is_relative_to(real_root):
        return None, [Problem(source, None, "symlink points outside the content folder; not read")]
    return read(path, source, strict)


def load_articles(
    content_dir: Path,
    site_root: Path,
    strict: bool = False,
    read: Callable[[Path, str, bool], tuple[Article | None, list[Problem]]] = read_article,
) -> tuple[list[Article], list[Problem]]:
    """Load every article; returns articles and warnings, raising BuildError on any error.
    `read` reads one file (the build cache passes its own, which skips unchanged files)."""
    if not content_dir.is_dir():
        raise BuildError([Problem(str(content_dir), None, "content folder not found")])
    articles: list[Article] = []
    problems: list[Problem] = []
    real_root = content_dir.resolve()
    for folder in _symlinked_folders(content_dir):
        message = "symlinked folder is not followed; articles in it are not read"
        problems.append(Problem(display_path(folder, site_root), None, message, warning=True))
    for path in content_files(content_dir):
        article, found = load_article_file(path, real_root, site_root, strict, read)
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
