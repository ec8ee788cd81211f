"""Persistent build cache (`.clippings-cache/cache.sqlite`): work a previous build already did.

Four things are kept, each keyed so that a stale entry can never be used:

- parsed articles by file (stat first, then content hash): unchanged files are neither read
  nor parsed again;
- body HTML by the hash of the Markdown body: unchanged bodies are not converted again;
- per output file, the fingerprint of everything its page was rendered from (`fingerprints`)
  and the size written: a page whose fingerprint is unchanged is hard-linked from the current
  site instead of being rendered;
- per content file, what the last successful build published of it (`built`): enough for
  `body_edits` to re-render an article page after an edit to its body alone.

The cache is an optimisation only: deleting it gives the same site. A cache that cannot be read,
or was written by another version, is discarded with a message and rebuilt, never trusted.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import os
import pickle
import sqlite3
import sys
import zlib
from collections.abc import Callable, Generator, Iterable, Iterator
from concurrent import futures
from concurrent.futures.process import BrokenProcessPool
from contextlib import contextmanager
from functools import partial
from pathlib import Path
from typing import Any, BinaryIO

import clippings
from clippings.config import Config
from clippings.content import Article, content_sources, read_article
from clippings.csl import CITATION_KEY, citation_key, csl_item
from clippings.errors import Problem, shown
from clippings.files import (
    StatKey,
    atomic_file,
    folder_stats,
    open_regular,
    read_regular,
    stat_key,
    temporary_beside,
)
from clippings.forking import run_aside
from clippings.parallel import map_forked
from clippings.render import THEME_DIR, Page

CACHE_DIR = ".clippings-cache"
ENGINE_FILE = "engine.pickle"  # the incremental engine's state (`save_engine`)
# Bump when the engine's saved state changes shape without the cache's SCHEMA changing: an
# engine of another format is not loaded (the full build saves a new one). 2: content files
# named by path strings; 3: saved as a checkpoint (`Rebuilder.adopt_site`); 4, 5: archive.json's
# lines and page refs as columns, a CRC-32; 6: an article's state is its own dict; 7, 8: Tags fixed;
# 9: a template's Reads pickled by its fields (its hash is made again); 10: Reads tell what is read
# of a page's own article from what is read of the others; 11: and of a term page's own term.
ENGINE_FORMAT = 11
# The engine file ends with a CRC-32 of its header and contents, against damage (a torn or
# flipped block): 0.02 s over the ~85 MB of 10,000 articles, where BLAKE2 took 0.09 s.
ENGINE_CHECK = 4
SITE_CHANGED = "site-changed"  # marker left by a writer other than build_site (see below)
# Bump when anything stored changes meaning (Article fields, fingerprint recipe, Markdown setup).
# 2: article rows pickle the body as UTF-8 bytes; 3: the `built` table; 4: ctime and inode,
# and checksums on every stored blob; 5: front matter type rules and XML cleaning, Markdown without
# raw HTML or unsafe links; 6: caption places; 7: archived_url, formatted citations; 8: what the
# downloads read of a term, the engine's term references and plan of each term; 9: the engine
# saved without its digest memo, co-occurrence pickled in columns, bodies after the pickle; 10:
# an article's Tags fixed when made (pickled whole, tuples of terms); 11: article rows hold the
# word count, fingerprints leave out derived values beside the fields they come from
SCHEMA = 11
VERSION = f"{SCHEMA}/{clippings.__version__}/{sys.version_info[0]}.{sys.version_info[1]}"

_TABLES = (
    "CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT)",
    "CREATE TABLE IF NOT EXISTS articles (source TEXT PRIMARY KEY, mtime_ns INTEGER,"
    " ctime_ns INTEGER, inode INTEGER, size INTEGER, strict INTEGER, sha TEXT, parsed BLOB)",
    "CREATE TABLE IF NOT EXISTS bodies (sha TEXT PRIMARY KEY, html TEXT)",
    "CREATE TABLE IF NOT EXISTS pages (path TEXT PRIMARY KEY, fingerprint TEXT, size INTEGER)",
    # Per content file, as the last successful build published it (see body_edits.py): its hash,
    # the digest of all but its body, and its article page's path and pickled context.
    "CREATE TABLE IF NOT EXISTS built (source TEXT PRIMARY KEY, sha TEXT, shape TEXT,"
    " page TEXT, context BLOB)",
)

Parsed = tuple[Article | None, list[Problem]]
# What a build published of one content file: source, hash, shape, page path, pickled context.
BuiltRow = tuple[str, str, str | None, str | None, bytes | None]
_PUT_BUILT = "INSERT OR REPLACE INTO {table} VALUES (?, ?, ?, ?, ?)"
_REWRITTEN = "rewritten outside a full build"  # a page record no fingerprint can match
_BUILD_KEYS = "('last_build', 'last_result', 'last_settings')"  # what vouches for the site


class ContentFiles(dict[str, tuple[str, StatKey | None]]):
    """source -> (path, `files.stat_key` or None when it cannot be stat'ed), in content order,
    and the warnings of the walk that listed them (a symlinked folder not followed)."""

    def __init__(self, warnings: Iterable[Problem] = ()) -> None:
        super().__init__()
        self.warnings = list(warnings)


class CacheDamaged(sqlite3.DatabaseError):
    """A row that does not hold what its table promises: the whole cache is discarded."""


class TooMuchWork(Exception):
    """More pages than a route rendering in one process (the quick path for body edits, the
    saved engine) renders sooner than the full build's workers; the message says how many."""


# SQLite's answers about the machine, not the file: a full disk, a read-only or unreadable
# folder, a lock, no memory. They say nothing about what the cache holds.
_NOT_DAMAGE = {
    sqlite3.SQLITE_FULL,
    sqlite3.SQLITE_IOERR,
    sqlite3.SQLITE_READONLY,
    sqlite3.SQLITE_CANTOPEN,
    sqlite3.SQLITE_PERM,
    sqlite3.SQLITE_BUSY,
    sqlite3.SQLITE_LOCKED,
    sqlite3.SQLITE_NOMEM,
    sqlite3.SQLITE_INTERRUPT,
}


def is_damage(error: sqlite3.DatabaseError) -> bool:
    """A damaged cache (discard it), as opposed to "database or disk is full", a read-only
    folder or a lock, which must not cost the cache."""
    code = getattr(error, "sqlite_errorcode", None)
    return code is None or code & 0xFF not in _NOT_DAMAGE


def content_stats(config: Config) -> ContentFiles:
    """Every content file with its stat, taken once per build for the checks that need it. A
    folder the walk could not read is listed without a stat, so no check takes the build as
    unchanged (the full build reports it)."""
    sources, problems = content_sources(config.path("content_dir"), config.root)
    files = ContentFiles(problem for problem in problems if problem.warning)
    for source, path in sources.items():
        try:
            files[source] = (path, stat_key(os.stat(path)))
        except OSError:
            files[source] = (path, None)
    for problem in problems:
        if not problem.warning:
            files[problem.path] = (problem.path, None)
    return files


def _settings(config: Config) -> str:
    """The settings that shape the output: not `jobs`, and the root however it was named (a
    relative `config.yaml` from the CLI and an absolute path are the same site)."""
    return repr(dataclasses.replace(config, jobs=None, root=config.root.resolve()))


def fingerprint_base(config: Config, site_dir: Path) -> str:
    """What every page's fingerprint shares (`pageinputs.PageInputs`): the cache version, the
    settings and the output folder (records describe the folder last built)."""
    return f"{VERSION}|{_settings(config)}|{site_dir.resolve()}"


def compiled_templates(config: Config) -> Path | None:
    """Where templates compiled by Jinja are kept between runs (None without a cache): a
    process that renders a few pages would spend most of its time compiling them."""
    if not config.cache:
        return None
    folder = config.root / CACHE_DIR / "templates"
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def mark_site_changed(folder: Path) -> None:
    """For writers other than `build_site` (the dev server), before they first change a file of
    the site: the next build then drops the cache's page records and last build
    (`BuildCache.forget_if_site_changed`) and checks every page again. Without it, a file put
    back after `serve` rewrote its page at the same size left that page stale: a page record
    checks the file's size, not its bytes. A marker file, not a write to the database: a build
    in progress holds the database for its whole run."""
    if folder.is_dir():
        (folder / SITE_CHANGED).touch()


def discard_cache(folder: Path) -> None:
    """Delete the cache database and the engine saved beside it (the next `BuildCache` starts
    a new one)."""
    for suffix in ("", "-wal", "-shm"):
        Path(f"{folder / 'cache.sqlite'}{suffix}").unlink(missing_ok=True)
    (folder / ENGINE_FILE).unlink(missing_ok=True)


def digest(data: bytes | str) -> str:
    if isinstance(data, str):
        data = data.encode("utf-8")
    return hashlib.blake2b(data, digest_size=16).hexdigest()


class BuildCache:
    """One open cache database; `notice` says why an old cache was thrown away, if it was."""

    def __init__(self, folder: Path) -> None:
        self.path = folder / "cache.sqlite"
        self.notice: str | None = None
        self.article_sha: dict[str, str] = {}  # source -> content hash, for page fingerprints
        self.parsed: set[str] = set()  # sources parsed in this build (their body HTML is new)
        self._read_ahead: _RowsAhead | None = None
        self._cached_bodies: set[str] = set()
        folder.mkdir(parents=True, exist_ok=True)
        try:
            self._db = self._open()
            if self._version() != VERSION:
                self.notice = f"{self.path}: build cache from another version; starting a new one"
                self._discard()
            self._load()
        except sqlite3.DatabaseError as error:
            if not is_damage(error):  # say, a full disk: the caller builds without the cache
                if getattr(self, "_db", None) is not None:
                    self._db.close()
                raise
            self.notice = f"{self.path}: build cache unreadable ({error}); starting a new one"
            self._discard()
            self._load()

    def _load(self) -> None:
        self._db.execute("BEGIN")  # one transaction per build; committed by close()
        self._articles = self._load_articles()
        _expect_types(self._db, "pages", path="text", fingerprint="text", size="integer")
        self._pages: dict[str, tuple[str, int]] = {
            path: (fingerprint, size)
            for path, fingerprint, size in self._db.execute(
                "SELECT path, fingerprint, size FROM pages"
            )
        }

    def _open(self) -> sqlite3.Connection:
        db = sqlite3.connect(self.path, isolation_level=None)
        db.execute("PRAGMA journal_mode=WAL")
        db.execute("PRAGMA synchronous=NORMAL")
        for statement in _TABLES:
            db.execute(statement)
        # No integrity check here: it reads the whole file (0.1 s at 10,000 articles, on every
        # build). SQLite reports a damaged page when a query reads it, and `build.build_site`
        # then discards the cache and builds again without trusting any of it.
        return db

    def _version(self) -> str | None:
        row = self._db.execute("SELECT value FROM meta WHERE key = 'version'").fetchone()
        if row is None and not self._db.execute("SELECT 1 FROM articles LIMIT 1").fetchone():
            self._db.execute("INSERT INTO meta VALUES ('version', ?)", (VERSION,))  # new cache
            return VERSION
        return row[0] if row else None

    def _discard(self) -> None:
        if getattr(self, "_db", None) is not None:
            self._db.close()
        discard_cache(self.path.parent)
        self._db = self._open()
        self._db.execute("INSERT INTO meta VALUES ('version', ?)", (VERSION,))

    def _load_articles(self) -> dict[str, tuple[StatKey, int, str]]:
        numbers = dict.fromkeys(("mtime_ns", "ctime_ns", "inode", "size", "strict"), "integer")
        _expect_types(self._db, "articles", source="text", **numbers, sha="text")
        query = "SELECT source, mtime_ns, ctime_ns, inode, size, strict, sha FROM articles"
        return {
            source: ((mtime, ctime, inode, size), strict, sha)
            for source, mtime, ctime, inode, size, strict, sha in self._db.execute(query)
        }

    def read_ahead(self, files: list[tuple[Path, str]], strict: bool, jobs: int) -> None:
        """Parse, on `jobs` cores, the files (path, source) whose stat has no row, for the
        `read_article` calls that follow. At 10,000 new files that halves the load stage
        (4.8 s serially: reading, hashing, parsing and pickling each file for its row)."""
        unknown = []
        for path, source in files:
            known = self._articles.get(source)
            try:  # a file with no row is not looked at here: the worker reads it
                if not (known and known[:2] == (stat_key(path.stat()), int(strict))):
                    unknown.append((path, source, strict))
            except OSError:
                pass  # read_article reports it
        rows = map_forked(_parsed_row, unknown, jobs, _MIN_READ_AHEAD)
        self._read_ahead = _RowsAhead([source for _, source, _ in unknown], rows)

    def read_article(self, path: Path, source: str, strict: bool = False) -> Parsed:
        """`content.read_article` through the cache: same result, without reparsing."""
        ahead = self._read_ahead.take(source) if self._read_ahead else None
        try:
            key = stat_key(path.stat())
            known = self._articles.get(source)
            if known and known[:2] == (key, int(strict)):
                self.article_sha[source] = known[2]
                return self._parsed(source)
            if ahead and ahead[:2] == (key, int(strict)):  # unchanged since it was read ahead
                _, _, sha, sealed = ahead
                self._store_parsed(source, key, strict, sha, sealed)
                return _unpickle_parsed(sealed[_CHECKSUM_BYTES:])
            data = read_regular(path)
        except OSError:
            return read_article(path, source, strict)  # reports the error for people
        sha = digest(data)
        if known and known[1:] == (int(strict), sha):
            parsed = self._parsed(source)
        else:
            parsed = read_article(path, source, strict, data)
        try:
            pickled = _pickle_parsed(parsed)
        except RecursionError:  # front matter nested thousands deep: not cached, parsed each time
            self.article_sha[source] = sha
            return parsed
        self._store_parsed(source, key, strict, sha, _seal(pickled, source, sha))
        return parsed

    def _store_parsed(
        self, source: str, key: StatKey, strict: bool, sha: str, sealed: bytes
    ) -> None:
        self.article_sha[source] = sha
        self.parsed.add(source)
        row = (source, *key, int(strict), sha, sealed)
        self._db.execute("INSERT OR REPLACE INTO articles VALUES (?, ?, ?, ?, ?, ?, ?, ?)", row)

    def note_read(
        self, path: Path, source: str, strict: bool, stat: StatKey | None, sha: str | None
    ) -> None:
        """What `read_article` records of a file the engine has read, under the stat and hash
        it read it with: a file whose bytes are the ones stored only gets its new stat (a fresh
        clone changes every stat; reading, unpickling and storing 10,000 rows again took
        seconds). Any other file is read through `read_article`."""
        known = self._articles.get(source)
        if stat is None or sha is None or not known or known[1:] != (int(strict), sha):
            self.read_article(path, source, strict)
            return
        if known[0] != stat:
            columns = "mtime_ns = ?, ctime_ns = ?, inode = ?, size = ?"
            self._db.execute(f"UPDATE articles SET {columns} WHERE source = ?", (*stat, source))
            self._articles[source] = (stat, int(strict), sha)
        self.article_sha[source] = sha

    def _parsed(self, source: str) -> Parsed:
        """The parsed file as stored; a row that does not unpickle to one is damage."""
        row = self._db.execute("SELECT parsed, sha FROM articles WHERE source = ?", (source,))
        found = row.fetchone()
        pickled = _unseal(found[0], "articles", source, found[1])
        try:
            parsed = _unpickle_parsed(pickled)
            article, problems = parsed
            if not (article is None or isinstance(article, Article)) or not all(
                isinstance(problem, Problem) for problem in problems
            ):
                raise TypeError("not a parsed article")
        except Exception as error:
            raise CacheDamaged(f"articles: row {source!r}: {error}") from None
        return parsed

    def recorded_sha(self, source: str) -> str | None:
        """The content hash of the file as last read (this build or an earlier one)."""
        known = self._articles.get(source)
        return self.article_sha.get(source) or (known[2] if known else None)

    def load_article(self, source: str) -> Article | None:
        """The article as last read from `source`, or None when there is no row (a damaged one
        raises `CacheDamaged`)."""
        if source not in self._articles:
            return None
        return self._parsed(source)[0]

    def built(self) -> dict[str, tuple[str, str | None, str | None]]:
        """source -> (hash, shape, article page path) as last published."""
        _expect_types(self._db, "built", source="text", sha="text", shape="text?", page="text?")
        rows = self._db.execute("SELECT source, sha, shape, page FROM built")
        return {source: (sha, shape, page) for source, sha, shape, page in rows}

    def built_sha(self, source: str) -> str | None:
        """The hash of a content file as last published (see `built`), or None."""
        row = self._db.execute("SELECT sha FROM built WHERE source = ?", (source,)).fetchone()
        if row is None:
            return None
        _expect("built", source, (row[0], str))
        return row[0]

    def built_context(self, source: str) -> bytes | None:
        """The pickled context of the source's article page as last published."""
        query = "SELECT context, sha, shape, page FROM built WHERE source = ?"
        row = self._db.execute(query, (source,)).fetchone()
        if row is None:
            return None
        context = _unseal(row[0], "built", source, *row[1:])
        return context[1:] if context[:1] == b"+" else None

    def store_built(self, rows: Iterable[BuiltRow], present: set[str] | None = None) -> None:
        """Record (source, hash, shape, page, context) rows, taken one at a time; with
        `present`, forget every other source (a full build passes all its files)."""
        self._db.executemany(_PUT_BUILT.format(table="built"), _sealed_built(rows))
        self._forget_built_except(present)

    def stage_built(self, rows: Iterable[BuiltRow]) -> Iterator[None]:
        """`store_built`'s rows, sealed and set aside in a temporary table one at a time, a step
        each: a full build takes the steps while its workers render, and `store_staged_built`
        records them once the site is swapped in."""
        self._db.execute(
            "CREATE TEMP TABLE IF NOT EXISTS staged_built AS SELECT * FROM built LIMIT 0"
        )
        self._db.execute("DELETE FROM temp.staged_built")
        put = _PUT_BUILT.format(table="temp.staged_built")
        for row in _sealed_built(rows):
            self._db.execute(put, row)
            yield

    def store_staged_built(self, present: set[str]) -> None:
        """Record the rows `stage_built` set aside, and forget every source not `present`."""
        self._db.execute("INSERT OR REPLACE INTO built SELECT * FROM temp.staged_built")
        self._db.execute("DROP TABLE temp.staged_built")
        self._forget_built_except(present)

    def _forget_built_except(self, present: set[str] | None) -> None:
        if present is not None:
            known = [row[0] for row in self._db.execute("SELECT source FROM built")]
            gone = [(source,) for source in known if source not in present]
            self._db.executemany("DELETE FROM built WHERE source = ?", gone)

    def save_search_shards(self, layout: dict[str, list[str]] | None) -> None:
        """Record the sources each search shard of the last full build holds (None: no search)."""
        self._db.execute("DELETE FROM meta WHERE key = 'search_shards'")
        if layout is not None:
            row = ("search_shards", json.dumps(layout))
            self._db.execute("INSERT INTO meta VALUES (?, ?)", row)

    def search_shards(self) -> dict[str, list[str]] | None:
        row = self._db.execute("SELECT value FROM meta WHERE key = 'search_shards'").fetchone()
        if row is None:
            return None
        try:
            layout = json.loads(row[0])
            if not all(
                isinstance(shard, str)
                and isinstance(sources, list)
                and all(isinstance(source, str) for source in sources)
                for shard, sources in layout.items()
            ):
                raise TypeError("not a list of sources per shard")
        except Exception as error:
            raise CacheDamaged(f"meta: search_shards: {error}") from None
        return layout

    def recorded_pages(self, prefix: str) -> list[str]:
        """The recorded output files whose path starts with `prefix`."""
        return [path for path in self._pages if path.startswith(prefix)]

    def forget_if_site_changed(self) -> None:
        """After `mark_site_changed`: no record vouches for the site any more."""
        marker = self.path.parent / SITE_CHANGED
        if marker.exists():
            self.forget_pages()
            self._pages.clear()
            marker.unlink(missing_ok=True)

    def forget_page_records(self, paths: list[str]) -> None:
        """Drop the records of pages about to be rewritten outside a full build: if the writer
        dies, no record describes a page that may have changed."""
        self._db.executemany("DELETE FROM pages WHERE path = ?", [(path,) for path in paths])
        for path in paths:
            self._pages.pop(path, None)

    def record_rewritten(self, sizes: dict[str, int]) -> None:
        """Record pages rewritten outside a full build by size only: the no-op check still sees
        one go missing, and the next full build renders them again (no fingerprint matches)."""
        rows = [(path, _REWRITTEN, size) for path, size in sizes.items()]
        self._db.executemany("INSERT OR REPLACE INTO pages VALUES (?, ?, ?)", rows)
        self._pages.update((path, (_REWRITTEN, size)) for path, size in sizes.items())

    def prefill_bodies(self, pages: list[Page], bodies: dict[str, str], config: Config) -> None:
        """Put the cached HTML of the articles these pages show into `bodies` (path -> HTML),
        and their formatted citations (`citation_key` -> HTML)."""
        if not self._db.execute("SELECT 1 FROM bodies LIMIT 1").fetchone():
            return  # none cached (a cold build): no key is worth making, 0.3 s at 10,000
        articles = [
            page.context["article"]
            for page in pages
            if isinstance(page.context.get("article"), Article)
        ]
        # keyed by the body's digest as the article keeps it (its pages' fingerprints read it)
        wanted = {article.path: article.body_digest for article in articles}
        for article in {article.path: article for article in articles}.values():
            item = csl_item(article, config.site_url, config.title)
            wanted.update(
                (key, key) for key in (citation_key(item, s) for s in config.citation_styles)
            )
        shas = list(dict.fromkeys(wanted.values()))
        found: dict[str, str] = {}
        for start in range(0, len(shas), 500):
            chunk = shas[start : start + 500]
            query = f"SELECT sha, html FROM bodies WHERE sha IN ({','.join('?' * len(chunk))})"
            for sha, html in self._db.execute(query, chunk):
                found[sha] = _unseal(html, "bodies", sha).decode("utf-8")
        bodies.update({path: found[sha] for path, sha in wanted.items() if sha in found})
        self._cached_bodies = set(found)

    def store_rendered(
        self,
        articles: list[Article],
        bodies: dict[str, str],
        prints: dict[str, str | None],
        sizes: dict[str, int],
    ) -> None:
        """After a successful build: remember new body HTML, forget deleted articles, and record
        the fingerprint and size of every page."""
        self.store_bodies({article.path: article for article in articles}, bodies)
        gone = [(source,) for source in self._articles if source not in self.article_sha]
        self._db.executemany("DELETE FROM articles WHERE source = ?", gone)
        self._db.execute("DELETE FROM pages")
        pages = []
        for path, fingerprint in prints.items():
            size = sizes.get(path, self._pages.get(path, ("", None))[1])
            if fingerprint is not None and size is not None:
                pages.append((path, fingerprint, size))
        self._db.executemany("INSERT INTO pages VALUES (?, ?, ?)", pages)

    def store_bodies(self, articles: dict[str, Article], bodies: dict[str, str]) -> None:
        """Remember body HTML (article path -> HTML) by the hash of its Markdown, and formatted
        citations by their key; called as render workers return them, so the build does not
        hold every article's HTML at once."""
        fresh = {
            key if key.startswith(CITATION_KEY) else articles[key].body_digest: html
            for key, html in bodies.items()
        }
        rows = [
            (sha, _seal(html.encode("utf-8"), sha))
            for sha, html in fresh.items()
            if sha not in self._cached_bodies
        ]
        self._db.executemany("INSERT OR REPLACE INTO bodies VALUES (?, ?)", rows)
        self._cached_bodies.update(sha for sha, _ in rows)

    def records_pages(self) -> bool:
        """Whether any page is recorded (none: every page must be rendered)."""
        return bool(self._pages)

    def page_unchanged(self, path: str, fingerprint: str, site_dir: Path) -> bool:
        """True when the page was last written from the same inputs and is still in the site."""
        known = self._pages.get(path)
        if known is None or known[0] != fingerprint:
            return False
        try:
            return os.lstat(f"{site_dir}/{path}").st_size == known[1]
        except OSError:
            return False

    def forget_pages(self) -> None:
        """Called just before the new site is swapped in: if the build dies between the swap and
        `store_rendered`, no page record describes a site that is no longer there."""
        self.forget_engine()
        self._db.execute("DELETE FROM pages")
        self.forget_build()
        self.commit()

    def inputs_digest(self, strict: bool, settings: str, files: ContentFiles) -> str | None:
        """One hash of every input of the build (`settings`: their `settings_digest`; `files`:
        a `content_stats` snapshot), from the hashes recorded for content; None when a content
        file is new or changed since the cache saw it."""
        parts = [settings]
        for source, (_, stat) in files.items():
            if source in self.article_sha:  # read during this build
                parts.append(f"{source}:{self.article_sha[source]}")
            elif self.unchanged_stat(source, stat, strict):
                parts.append(f"{source}:{self._articles[source][2]}")
            else:
                return None
        return digest("\n".join(parts))

    def settings_digest(self, config: Config, site_dir: Path, strict: bool) -> str:
        """One hash of every input but the content: version, settings, output folder, templates,
        static files, captured originals (published, and checked for fixity) and the authority
        file."""
        parts = [VERSION, _settings(config), str(site_dir.resolve())]
        parts.append(str(strict))
        folders = (
            config.path("templates_dir"),
            config.path("static_dir"),
            THEME_DIR,
            config.path("raw_dir"),
        )
        for folder in folders:
            parts += folder_stats(folder)
        authority = config.path("authority")
        try:
            parts.append(digest(read_regular(authority)))
        except OSError:
            parts.append("-")  # missing or unreadable: loading it reports which
        return digest("\n".join(parts))

    def unchanged_stat(self, source: str, stat: StatKey | None, strict: bool) -> bool:
        """True when the file has the `stat_key` recorded when it was last read."""
        known = self._articles.get(source)
        return stat is not None and known is not None and known[:2] == (stat, int(strict))

    def last_build(self, inputs: str | None, site_dir: Path) -> Any | None:
        """The result saved by the last build when it had exactly these inputs and its pages
        are all still in place: there is nothing to do."""
        row = self._db.execute("SELECT value FROM meta WHERE key = 'last_build'").fetchone()
        if inputs is None or row is None or row[0] != inputs or not self.pages_in_place(site_dir):
            return None
        return self.last_result()

    def pages_in_place(self, site_dir: Path) -> bool:
        """Every page recorded by the last build is still in the site, at the size written."""
        return all(self.page_unchanged(path, fp, site_dir) for path, (fp, _) in self._pages.items())

    def last_result(self) -> Any | None:
        """The result of the last successful build, while nothing has been written since."""
        saved = self._db.execute("SELECT value FROM meta WHERE key = 'last_result'").fetchone()
        if saved is None:
            return None
        try:
            result = pickle.loads(bytes.fromhex(saved[0]))
            if type(result).__name__ != "BuildResult":  # build.py imports this module
                raise TypeError("not a build result")
        except Exception as error:
            raise CacheDamaged(f"meta: last_result: {error}") from None
        return result

    def last_settings(self) -> str | None:
        """`settings_digest` of the last successful build."""
        row = self._db.execute("SELECT value FROM meta WHERE key = 'last_settings'").fetchone()
        if row is not None:
            _expect("meta", "last_settings", (row[0], str))
        return row[0] if row else None

    def save_build(self, inputs: str | None, result: Any, settings: str | None = None) -> None:
        if inputs is None:
            return
        rows = [("last_build", inputs), ("last_result", pickle.dumps(result).hex())]
        if settings is not None:
            rows.append(("last_settings", settings))
        self._db.executemany("INSERT OR REPLACE INTO meta VALUES (?, ?)", rows)

    def body_edits_allowed(self, settings: str) -> bool | None:
        """Whether edits to bodies alone may take the quick path under these settings' templates
        (`body_edits.shown_on_own_pages`), or None when not yet found for them."""
        row = self._db.execute("SELECT value FROM meta WHERE key = 'body_edits'").fetchone()
        if row is None:
            return None
        _expect("meta", "body_edits", (row[0], str))
        found_for, _, allowed = row[0].partition(" ")
        return allowed == "yes" if found_for == settings else None

    def save_body_edits_allowed(self, settings: str, allowed: bool) -> None:
        value = f"{settings} {'yes' if allowed else 'no'}"
        self._db.execute("INSERT OR REPLACE INTO meta VALUES ('body_edits', ?)", (value,))

    def record_pages(self, prints: dict[str, str | None], sizes: dict[str, int]) -> None:
        """Record pages the engine rendered in place (their fingerprint and size), as a full
        build would have."""
        rows = [(path, prints[path], size) for path, size in sizes.items() if prints.get(path)]
        self._db.executemany("INSERT OR REPLACE INTO pages VALUES (?, ?, ?)", rows)
        self._pages.update((path, (fingerprint, size)) for path, fingerprint, size in rows)

    def save_engine(self, settings: str, engine: object) -> None:
        """Keep the incremental engine (`incremental.Rebuilder`, with the model and page plan)
        for the next build with these settings; written whole or not at all."""
        with atomic_file(self.path.parent / ENGINE_FILE) as file:
            write_engine(file, settings, engine)
        self.forget_engine_stale()  # it knows them now

    @contextmanager
    def engine_saved_meanwhile(self, settings: str, engine: Callable[[], object]) -> Iterator[None]:
        """`save_engine` of what `engine()` makes, both in a forked process while the block runs
        (at 10,000 articles each takes ~1 s of a core, and the other core is free). The engine
        takes its name only once both have succeeded: a block that raises leaves the last
        engine as it was. A saving process that dies, or an engine that cannot be saved, costs
        the engine (the next build is a full one), said in `notice`; a disk error is raised."""
        target = self.path.parent / ENGINE_FILE
        staged = temporary_beside(target)
        saving = run_aside(partial(_write_engine_file, staged, settings, engine))
        try:
            yield
            error = saving.exception()  # waits for it
            if error is None:
                os.replace(staged, target)
                self.forget_engine_stale()
            elif isinstance(error, OSError):
                raise error
            else:  # it died (BrokenProcessPool), or the engine would not pickle
                self.forget_engine()
                message = f"engine not saved ({type(error).__name__}): the next build is in full"
                self.notice = "; ".join(filter(None, [self.notice, message]))
        finally:
            futures.wait([saving])  # before its file is deleted, or it could be made after
            staged.unlink(missing_ok=True)

    def load_engine(self, settings: str) -> Any | None:
        """The engine the last build saved with these settings, or None (none saved, other
        settings, or not whole: the caller builds in full)."""
        key = f"{ENGINE_FORMAT}:{settings}".encode("ascii")
        header = key + b"\n"
        try:  # read twice, never held whole (85 MB at 10,000 articles): checked, then loaded
            with open_regular(self.path.parent / ENGINE_FILE) as file:
                end = os.fstat(file.fileno()).st_size - ENGINE_CHECK
                if file.read(len(header)) != header or not _whole(file, end, zlib.crc32(key)):
                    return None  # other settings, or damaged: the full build saves a new one
                file.seek(len(header))
                try:
                    return _EngineUnpickler(file).load_with_bodies(end)
                except Exception:  # from code that changed under the same version
                    self.forget_engine()
                    return None
        except OSError:
            return None

    def forget_engine(self) -> None:
        """Before the site changes outside the engine's knowledge."""
        (self.path.parent / ENGINE_FILE).unlink(missing_ok=True)
        self.forget_engine_stale()

    def forget_engine_stale(self) -> None:
        """The pages `mark_engine_stale` named are rendered again and recorded."""
        self._db.execute("DELETE FROM meta WHERE key = 'engine_stale'")

    @property
    def page_records(self) -> dict[str, tuple[str, int]]:
        """Each recorded page: path -> (fingerprint, size)."""
        return self._pages

    def mark_engine_stale(self, paths: list[str]) -> None:
        """Pages about to be rewritten outside the saved engine (the quick path for body
        edits): the engine renders them again rather than trust the fingerprints it saved."""
        stale = json.dumps(sorted(self.engine_stale() | set(paths)))
        self._db.execute("INSERT OR REPLACE INTO meta VALUES ('engine_stale', ?)", (stale,))

    def engine_stale(self) -> set[str]:
        row = self._db.execute("SELECT value FROM meta WHERE key = 'engine_stale'").fetchone()
        if row is None:
            return set()
        try:
            paths = json.loads(row[0])
            if not isinstance(paths, list) or not all(isinstance(p, str) for p in paths):
                raise TypeError("not a list of paths")
        except Exception as error:
            raise CacheDamaged(f"meta: engine_stale: {error}") from None
        return set(paths)

    def forget_build(self) -> None:
        self._db.execute(f"DELETE FROM meta WHERE key IN {_BUILD_KEYS}")

    def commit(self) -> None:
        """Make what was stored so far durable now, before the build goes on."""
        self._db.execute("COMMIT")
        self._db.execute("BEGIN")

    def close(self) -> None:
        """Save everything stored during this build."""
        if self._read_ahead:
            self._read_ahead.close()
        self._db.execute("COMMIT")
        self._db.close()


def write_engine(file: BinaryIO, settings: str, engine: object) -> None:
    """The engine as `load_engine` reads it, streamed to `file` with its checksum computed on
    the way (a 50 MB pickle at 10,000 articles is not held in memory, nor copied), the articles'
    bodies after the pickle (`_EnginePickler`). Touches nothing but `file`."""
    key = f"{ENGINE_FORMAT}:{settings}".encode("ascii")
    file.write(key + b"\n")
    checked = _Checked(file, zlib.crc32(key))
    pickler = _EnginePickler(checked)
    try:
        pickler.dump(engine)
    finally:
        pickler.restore_bodies()
    for body in pickler.bodies:
        data = body.encode("utf-8", "surrogatepass")
        checked.write(len(data).to_bytes(8, "little") + data)
    file.write(checked.crc.to_bytes(ENGINE_CHECK, "little"))


def _write_engine_file(path: Path, settings: str, engine: Callable[[], object]) -> None:
    with open(path, "wb") as file:
        write_engine(file, settings, engine())


class _EnginePickler(pickle.Pickler):
    """Pickles each article without its body, and collects the bodies to be written after the
    pickle one at a time. Pickled as a str, a non-ASCII body keeps the UTF-8 copy CPython then
    caches on the string until the build ends: 34 MB at 10,000 articles, at a cold build's
    peak of memory.

    An article's state is its own `__dict__`, the body swapped for its number while the pickle
    is written (`restore_bodies` puts them back): a copy of each, which the pickler's memo keeps
    to the end, was 40 MB at 100,000 articles, at the peak of a cold build's memory."""

    def __init__(self, file: Any) -> None:
        super().__init__(file, protocol=pickle.HIGHEST_PROTOCOL)
        self.bodies: list[str] = []
        self._numbered: list[Article] = []

    def reducer_override(self, obj: Any) -> Any:
        if type(obj) is not Article:
            return NotImplemented
        state = obj.__dict__
        self._numbered.append(obj)
        self.bodies.append(state["body"])
        state["body"] = len(self.bodies) - 1
        return _article_without_body, (), state

    def restore_bodies(self) -> None:
        for article, body in zip(self._numbered, self.bodies, strict=True):
            article.__dict__["body"] = body


def _article_without_body() -> Article:
    """An article as `_EnginePickler` pickled it, before its state (the body still a number)."""
    return object.__new__(Article)


class _EngineUnpickler(pickle.Unpickler):
    """Restores what `_EnginePickler` wrote, giving each article its body."""

    def __init__(self, stream: BinaryIO) -> None:
        super().__init__(stream)
        self._stream = stream
        self._articles: list[Article] = []

    def find_class(self, module: str, name: str) -> Any:
        if (module, name) != (__name__, _article_without_body.__name__):
            return super().find_class(module, name)
        articles = self._articles  # not `self`: the memo keeps what this returns (no cycle)

        def article() -> Article:
            restored = _article_without_body()
            articles.append(restored)
            return restored

        return article

    def load_with_bodies(self, end: int) -> Any:
        """Load the pickle, then read the bodies that follow it, up to `end`."""
        loaded = self.load()  # which leaves the stream just after the pickle
        stream, bodies = self._stream, []
        position = stream.tell()
        while position < end:
            size = int.from_bytes(stream.read(8), "little")
            data = stream.read(size)
            bodies.append(str(data, "utf-8", "surrogatepass"))
            position += 8 + len(data)
        if position != end:
            raise pickle.UnpicklingError("the bodies after the engine's pickle are cut short")
        for article in self._articles:
            article.__dict__["body"] = bodies[article.__dict__["body"]]
        return loaded


def _whole(file: BinaryIO, end: int, crc: int) -> bool:
    """Whether the file, from where it is read to `end`, has the CRC-32 written after it."""
    while (left := end - file.tell()) > 0:
        chunk = file.read(min(left, 1 << 20))
        if not chunk:  # cut short
            return False
        crc = zlib.crc32(chunk, crc)
    return file.read() == crc.to_bytes(ENGINE_CHECK, "little")


class _Checked:
    """A file that also feeds what is written to it into a CRC-32."""

    def __init__(self, file: Any, crc: int) -> None:
        self.file, self.crc = file, crc

    def write(self, data: bytes) -> int:
        self.crc = zlib.crc32(data, self.crc)
        return self.file.write(data)


# Below this many files to parse, forking costs more than it saves.
_MIN_READ_AHEAD = 200
_CHECKSUM_BYTES = 16
# What `read_article` stores of a file: its stat, strictness, hash and sealed pickled parse.
ParsedRow = tuple[StatKey, int, str, bytes]


class _RowsAhead:
    """The rows `read_ahead` is making, taken as the load loop asks for them: in the order the
    loop reads the files, so only the rows the workers made and the loop has not reached yet
    are held (all 100,000 at once were 500 MB)."""

    def __init__(self, sources: list[str], rows: Generator[ParsedRow | None, None, None]) -> None:
        self._waiting = set(sources)
        self._order = iter(sources)
        self._rows = rows
        self._early: dict[str, ParsedRow | None] = {}  # asked for out of order: none in a build

    def take(self, source: str) -> ParsedRow | None:
        if source in self._early:
            return self._early.pop(source)
        if source not in self._waiting:
            return None
        try:
            for name, row in zip(self._order, self._rows, strict=True):
                self._waiting.discard(name)
                if not self._waiting:
                    self.close()  # every row is taken: the workers end
                if name == source:
                    return row
                self._early[name] = row
        except BrokenProcessPool:  # a worker died (killed for memory, a native crash)
            self._waiting.clear()  # the load loop reads the rest itself, and reports them
            self.close()
        return None

    def close(self) -> None:
        self._rows.close()


def _sealed_built(rows: Iterable[BuiltRow]) -> Iterator[tuple]:
    for *key, context in rows:
        yield (*key, _seal(b"-" if context is None else b"+" + context, *key))


def _parsed_row(item: tuple[Path, str, bool]) -> ParsedRow | None:
    """A file's row, made in a forked worker (`BuildCache.read_ahead`); None when it cannot be
    made, and the parent then reads the file itself and reports what is wrong with it."""
    path, source, strict = item
    try:
        key = stat_key(path.stat())
        data = read_regular(path)
        sha = digest(data)
        sealed = _seal(_pickle_parsed(read_article(path, source, strict, data)), source, sha)
    except Exception:  # an unreadable file, front matter nested too deep: the parent says
        return None
    return key, int(strict), sha, sealed


def _seal(data: bytes, *key: object) -> bytes:
    """`data` behind a checksum of itself and its row's key: SQLite checks no page's content,
    so a flipped byte in a pickled body would otherwise be published as it is."""
    return _checksum(data, key) + data


def _unseal(blob: object, table: str, *key: object) -> bytes:
    """What `_seal` stored, or `CacheDamaged` when it is not that (or not in its row)."""
    if not isinstance(blob, bytes) or blob[:_CHECKSUM_BYTES] != _checksum(
        blob[_CHECKSUM_BYTES:], key
    ):
        raise CacheDamaged(f"{table}: row {shown(key[0])}: checksum does not match")
    return blob[_CHECKSUM_BYTES:]


def _checksum(data: bytes, key: tuple[object, ...]) -> bytes:
    check = hashlib.blake2b(repr(key).encode("utf-8"), digest_size=_CHECKSUM_BYTES)
    check.update(data)
    return check.digest()


def _expect_types(db: sqlite3.Connection, table: str, **columns: str) -> None:
    """`_expect` for a whole table, checked by SQLite (the first column names the row): a
    Python check of each of 24,000 rows took a tenth of a second on every build. A column's
    kind is `text` or `integer`, or `text?` where NULL is allowed too."""
    wrong = " OR ".join(
        f"typeof({name}) NOT IN ({_COLUMN_KINDS[kind][0]})" for name, kind in columns.items()
    )
    key = next(iter(columns))
    row = db.execute(f"SELECT {key}, {', '.join(columns)} FROM {table} WHERE {wrong} LIMIT 1")
    found = row.fetchone()
    if found is not None:
        expected = [_COLUMN_KINDS[kind][1] for kind in columns.values()]
        _expect(table, found[0], *zip(found[1:], expected, strict=True))


# A column kind of `_expect_types`: SQLite's `typeof` names it allows, and the Python type.
_COLUMN_KINDS: dict[str, tuple[str, Any]] = {
    "text": ("'text'", str),
    "integer": ("'integer'", int),
    "text?": ("'text', 'null'", str | None),
}


def _expect(table: str, key: object, *values: tuple[object, Any]) -> None:
    """Raise `CacheDamaged` unless every (value, type) pair matches: a row with a wrong type
    (a NULL hash, a size stored as text) is not trusted, whatever else it holds."""
    for value, kind in values:
        if not isinstance(value, kind) or (kind is int and isinstance(value, bool)):
            raise CacheDamaged(f"{table}: row {shown(key)}: {shown(value)} is not {kind}")


def _pickle_parsed(parsed: Parsed) -> bytes:
    # Pickle writes a str as UTF-8 through CPython's cached UTF-8 copy, which then lives as long as
    # the str: for a non-ASCII body that doubles its memory for the whole build. The body goes in
    # as bytes encoded here instead, so nothing is cached on the article the build keeps.
    # The word count goes in too: counted where the file is parsed (on every core, for a cold
    # build), not again by each process that needs it (archive.json, the engine), ~1 s at 10,000.
    article, problems = parsed
    if article is None:
        return pickle.dumps((None, b"", problems, 0))
    body = article.body.encode("utf-8")
    return pickle.dumps((dataclasses.replace(article, body=""), body, problems, article.word_count))


def _unpickle_parsed(data: bytes) -> Parsed:
    article, body, problems, words = pickle.loads(data)
    if article is None:
        return None, problems
    # A new object no one else holds: its body and its count are put in place rather than copied
    # into another object (dataclasses.replace, 0.3 s at 10,000).
    vars(article)["body"] = body.decode("utf-8")
    article.keep_word_count(words)
    return article, problems
