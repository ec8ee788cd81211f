"""Search index: one Pagefind index per shard of articles (a run of years), merged in the browser.

Pagefind holds a whole index in memory and has no incremental mode, so one index over a growing
archive would be the part of the build that stops scaling. Instead each run of consecutive years is
its own index (a shard): small ones for the newest years, which change, and large settled ones for
older years, so a query (one index chunk per shard per word) stays light (`shards_by_date`). Shards
are built from custom records (no HTML parsing) and kept in the build cache with the hash of their
inputs: a build re-indexes only the shards whose articles changed, and the search page merges every
shard with Pagefind's `mergeIndex`, so one query searches the whole archive.

Shard bundles are built into the cache, then copied into the site through the `SiteWriter`, so the
site swap stays atomic. The first shard's bundle also carries Pagefind's scripts, styles and WASM
(merged shards only need their index data).
"""

from __future__ import annotations

import functools
import hashlib
import json
import os
import re
import shutil
from collections.abc import Callable, Iterable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass, field
from pathlib import Path
from typing import TypeVar

from clippings.archive import Archive, Term
from clippings.authority import KINDS
from clippings.content import Article
from clippings.errors import BuildError, Problem
from clippings.escape import pagefind_html
from clippings.files import atomic_file
from clippings.indexer import ASSET, IndexerError, PagefindIndexer, static_assets
from clippings.pagefind_bundle import BundleError, is_complete, make_deterministic
from clippings.text import plain_text

INDEX_DIR = "pagefind"  # Pagefind's default name: its script derives the site's base URL from it
T = TypeVar("T")
FILTER_NAMES = {"people": "People", "countries": "Countries", "sources": "Sources"}
_FORMAT = 5  # bump when records change shape or hash differently: every cached shard is rebuilt
_CONCURRENT_SHARDS = 2
_ATTEMPTS = 3  # Pagefind sometimes leaves a file unwritten: see pagefind_bundle.is_complete
# Articles per shard. Pagefind holds a shard in memory while it indexes it (~160 MiB per process up
# to ~750 articles, then ~220 KiB an article) and its writer slows per article as shards grow.
# A query fetches one index chunk (~25 KiB) per shard per word, but its search in the browser
# grows with the square of a shard's size (Pagefind's WASM counts the filter values of the results
# with a linear scan of the results for each value of each page), so settled shards are as large
# as the bytes per query need and no larger: see docs/performance.md. Recent years, which change,
# get small shards: an edit there re-indexes one, and Pagefind takes ~1 s for 360 articles and
# ~2 s for 600 on this 2-core machine, so 400 keeps a one-article re-index near 1.5 s.
SHARD_TARGET = 400
SETTLED_TARGET = 1600
RECENT_YEARS = 2
# Pagefind's scripts, styles and WASM: only the primary shard carries them (merged shards are
# loaded by the primary's script), and only those the default UI uses.
_UI_ASSET = re.compile(r"^(pagefind(-ui|-worker)?\.(js|css)|wasm\.[^/]*)$")
# Files Pagefind names by a hash of their content (`fragment/en_0a7aaa9.pf_fragment`).
_CONTENT_NAMED = re.compile(r"_[0-9a-f]{7,}\.pf_[a-z]+$")


@dataclass(frozen=True)
class Record:
    """What Pagefind indexes for one article, kept as what it is made of: the article (frozen)
    and the names of its terms and publisher, copied out of the archive (`serve` updates the
    archive in place while a snapshot of records is indexed).

    Nothing is derived until it is needed: a build that finds a shard unchanged only hashes its
    records' `key`s, and text, metadata and filters are made for the shards actually indexed.
    """

    article: Article = field(repr=False)
    names: tuple[tuple[str, ...], ...]  # the article's term names, one tuple per kind of KINDS
    publisher: str

    @property
    def url(self) -> str:
        return "/" + self.article.path

    @property
    def key(self) -> bytes:
        """A digest of everything the record is made of: equal keys, equal records."""
        names = repr((self.names, self.publisher)).encode()
        return _article_digest(self.article) + len(names).to_bytes(4, "big") + names

    @functools.cached_property
    def filters(self) -> dict[str, list[str]]:
        filters = {
            FILTER_NAMES[kind]: list(names) for kind, names in zip(KINDS, self.names, strict=True)
        }
        filters["Publication"] = [self.publisher]
        filters["Year"] = [self.article.year.capitalize()]
        # Pagefind's default UI renders filter values as HTML (a label's innerHTML), and the
        # checkbox sends the value back as stored, so they are stored escaped.
        return {
            name: [pagefind_html(value) for value in values]
            for name, values in filters.items()
            if values
        }

    @functools.cached_property
    def meta(self) -> dict[str, str]:
        meta = {"title": self.article.title, "publication": self.publisher}
        if self.article.date:
            meta["date"] = self.article.iso_date[:10]
        return meta

    def fields(self) -> dict[str, object]:
        """The record as Pagefind's AddRecord request takes it.

        Pagefind's default UI shows titles and other metadata as text, so they go as they are
        (escaped, visitors would see `&amp;`); the excerpt it cuts from the content is HTML, but
        its `pagefind.js` escapes `<` and `>` in the content first (`raw_content`); filter values
        it inserts as HTML unescaped, so `filters` escapes them."""
        article = self.article
        # The title goes last: it is searched, but a result's excerpt starts at the text (the
        # result shows the title already).
        parts = (article.dek or "", article.body, *article.captions, article.title)
        content = " ".join(plain_text(part) for part in parts if part)
        return {"url": self.url, "content": content, "meta": self.meta, "filters": self.filters}


# Digests of what a record reads of an article, per Article object: articles are frozen, and
# `serve` keeps the objects of unchanged articles between edits, so only an edited article's body
# is hashed again. Each index run keeps the entries of the articles it saw (old ones are dropped).
_digests: dict[int, tuple[Article, bytes]] = {}


def _article_digest(article: Article) -> bytes:
    known = _digests.get(id(article))
    if known is not None and known[0] is article:  # the object itself holds its id while kept
        return known[1]
    fields = (article.path, article.title, article.publication, article.iso_date)
    digest = hashlib.sha256(repr((*fields, article.dek, article.captions)).encode())
    digest.update(article.body_digest.encode())  # kept on the article (and the saved engine)
    _digests[id(article)] = (article, digest.digest())
    return digest.digest()


def _keep_digests(shards: Iterable[list[Record]]) -> None:
    """Forget the digests of articles no longer indexed (replaced by an edit, or removed)."""
    global _digests
    kept = {id(r.article): _digests.get(id(r.article)) for records in shards for r in records}
    _digests = {key: entry for key, entry in kept.items() if entry is not None}


def shards_by_date(items: list[T], iso_date: Callable[[T], str | None]) -> dict[str, list[T]]:
    """Group `items` (newest first, as the archive orders articles) into shards, newest first.

    Two tiers, like the levels of a log-structured merge, decided by the content alone (the same
    articles always give the same shards, whatever the edit history): the `RECENT_YEARS` newest
    years (counted from the newest article's year) are packed into small shards of up to
    `SHARD_TARGET` articles, cheap to re-index as they change; older years, which rarely change,
    into settled shards of up to `SETTLED_TARGET`, so a query loads few shards. A shard is a run of
    consecutive years of one tier, named by its oldest and newest year (`2003-2004`, or `2005`
    alone); a year over its tier's target is split into its quarters (`2019-q3`), packed the same
    way. Runs are packed from the oldest year, so new articles only change the newest shard of a
    tier and an edit changes one shard; when a new year begins, the year leaving the recent tier
    joins the newest settled shard. Undated articles are a shard of their own (`undated`).
    """
    years: dict[str, list[T]] = {}
    undated: list[T] = []
    for item in reversed(items):  # oldest first
        date = iso_date(item)
        if date is None:
            undated.append(item)
        else:
            years.setdefault(date[:4], []).append(item)
    newest_year = max((int(year) for year in years), default=0)
    runs: list[tuple[list[str], list[T]]] = []
    run_target = 0
    for year, members in sorted(years.items()):
        target = SHARD_TARGET if int(year) > newest_year - RECENT_YEARS else SETTLED_TARGET
        for unit, unit_items in _quarters(year, members, iso_date, target):
            if runs and target == run_target and len(runs[-1][1]) + len(unit_items) <= target:
                runs[-1][0].append(unit)
                runs[-1][1].extend(unit_items)
            else:
                runs.append(([unit], list(unit_items)))
                run_target = target
    shards = {
        f"{names[0]}-{names[-1]}" if len(names) > 1 else names[0]: members[::-1]
        for names, members in reversed(runs)
    }
    if undated:
        shards["undated"] = undated[::-1]
    return shards


def _quarters(
    year: str, items: list[T], iso_date: Callable[[T], str | None], target: int
) -> list[tuple[str, list[T]]]:
    """A year as one unit, or as its quarters (oldest first) when it is over the shard target."""
    if len(items) <= target:
        return [(year, items)]
    quarters: dict[str, list[T]] = {}
    for item in items:
        month = int((iso_date(item) or "")[5:7])
        quarters.setdefault(f"{year}-q{(month - 1) // 3 + 1}", []).append(item)
    return sorted(quarters.items())


def shards_of(archive: Archive) -> dict[str, list[Article]]:
    """The archive's articles by shard, newest shard first."""
    return shards_by_date(archive.articles, lambda article: article.iso_date)


def shard_names(archive: Archive) -> list[str]:
    """Every shard of the archive, newest first; the first one is the primary bundle."""
    return list(shards_of(archive))


def article_record(archive: Archive, article: Article) -> Record:
    terms = archive.article_terms[article.path]
    return record_of(article, terms, archive.publishers.get(article.path))


def record_of(
    article: Article, terms: Mapping[str, Sequence[Term]], publisher: Term | None
) -> Record:
    """The search record of an article, from its terms (names only) and its publisher term."""
    names = tuple(tuple(term.name for term in terms[kind]) for kind in KINDS)
    return Record(article, names, publisher.name if publisher else article.publication)


def shard_records(archive: Archive) -> dict[str, list[Record]]:
    return {
        shard: [article_record(archive, article) for article in articles]
        for shard, articles in shards_of(archive).items()
    }


def shard_hash(records: list[Record], language: str) -> str:
    """Hash of everything that goes into a shard's index, to know when it must be rebuilt."""
    digest = hashlib.sha256(f"{_FORMAT}\0{_pagefind_version()}\0{language}".encode())
    for record in records:
        digest.update(record.key)
    return digest.hexdigest()


class ShardCache:
    """Built shard bundles and their input hashes under `<cache>/search/`.

    A small JSON record of its own until the build cache module offers one; the interface is
    `hash_of(shard)`, `folder(shard)`, `store(shard, hash, built_folder)` and `retain(shards)`.
    """

    def __init__(self, cache_dir: Path) -> None:
        self.root = cache_dir / "search"
        self._manifest_path = self.root / "shards.json"
        try:
            self._hashes: dict[str, str] = json.loads(self._manifest_path.read_text("utf-8"))
        except (OSError, ValueError):
            self._hashes = {}

    def folder(self, shard: str) -> Path:
        return self.root / "shards" / shard

    def hash_of(self, shard: str) -> str | None:
        """The input hash of a complete cached shard, or None when it must be built."""
        if not (self.folder(shard) / "pagefind-entry.json").is_file():
            return None
        return self._hashes.get(shard)

    def scratch(self, shard: str) -> Path:
        folder = self.root / "building" / shard
        shutil.rmtree(folder, ignore_errors=True)
        return folder

    def store(self, shard: str, inputs_hash: str, built: Path) -> None:
        """Replace the cached bundle of a shard with a freshly built one."""
        target = self.folder(shard)
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.rmtree(target, ignore_errors=True)
        built.rename(target)
        self._hashes[shard] = inputs_hash
        self._save()

    def retain(self, shards: Iterable[str]) -> None:
        """Forget shards that no longer exist (a year whose articles were all removed)."""
        keep = set(shards)
        for shard in set(self._hashes) - keep:
            del self._hashes[shard]
            shutil.rmtree(self.folder(shard), ignore_errors=True)
        self._save()

    def _save(self) -> None:
        self.root.mkdir(parents=True, exist_ok=True)
        with atomic_file(self._manifest_path) as file:
            file.write(json.dumps(self._hashes, indent=1, sort_keys=True).encode("utf-8"))


@dataclass
class IndexResult:
    shards: int
    rebuilt: list[str]
    files: dict[str, Path]  # site path -> cached file, for the SiteWriter


@functools.cache  # a metadata lookup scans the installed packages: once per process is enough
def _pagefind_version() -> str:
    from importlib import metadata  # 20 ms to import: only builds with search need it

    try:
        return metadata.version("pagefind")
    except metadata.PackageNotFoundError:
        return "missing"  # the indexer reports it when a shard has to be built


def _index_shard(shard: str, records: list[Record], language: str, output: Path) -> None:
    try:
        assets = static_assets(language)
        for _ in range(_ATTEMPTS):
            shutil.rmtree(output, ignore_errors=True)
            with PagefindIndexer() as indexer:
                indexer.build([record.fields() for record in records], language, output)
            if is_complete(output, assets):
                break
        else:
            raise IndexerError(f"Pagefind wrote incomplete files {_ATTEMPTS} times")
        make_deterministic(output)
    except (IndexerError, BundleError) as error:
        problem = Problem("search", None, f"search index for {shard} could not be built: {error}")
        raise BuildError([problem]) from None


def build_search_index(archive: Archive, language: str, cache_dir: Path) -> IndexResult:
    """Bring every shard up to date in the cache; returns the files the site must contain."""
    return index_shards(shard_records(archive), language, cache_dir)


def index_shards(shards: dict[str, list[Record]], language: str, cache_dir: Path) -> IndexResult:
    """Index the shards whose records changed since the cached build (the first is primary)."""
    language = _index_language(language)
    cache = ShardCache(cache_dir)
    rebuilt = _index_changed(shards, language, cache)
    cache.retain(shards)
    _keep_digests(shards.values())
    return IndexResult(shards=len(shards), rebuilt=rebuilt, files=_site_files(cache, list(shards)))


def reindex_shards(
    changed: dict[str, list[Record]], shards: list[str], language: str, cache_dir: Path
) -> IndexResult | None:
    """Index only the `changed` shards; the others of `shards` (all, newest first) stay as
    cached. None when one of those is not in the cache, so the caller must index them all."""
    cache = ShardCache(cache_dir)
    if any(cache.hash_of(shard) is None for shard in shards if shard not in changed):
        return None
    rebuilt = _index_changed(changed, _index_language(language), cache)
    return IndexResult(shards=len(shards), rebuilt=rebuilt, files=_site_files(cache, shards))


def _index_language(language: str) -> str:
    try:
        import pagefind.index  # noqa: F401  (fails early with a clear message when missing)
    except ImportError:
        message = (
            "search needs Pagefind: pip install 'pagefind[extended]', or build with --no-search"
        )
        raise BuildError([Problem("search", None, message)]) from None
    return language.split("-")[0].lower() or "en"


def _index_changed(shards: dict[str, list[Record]], language: str, cache: ShardCache) -> list[str]:
    """Index the shards whose records changed since they were cached; returns their names."""
    hashes = {shard: shard_hash(records, language) for shard, records in shards.items()}
    jobs = [
        (shard, records, cache.scratch(shard))
        for shard, records in shards.items()
        if cache.hash_of(shard) != hashes[shard]
    ]
    # Each shard is a Pagefind process of its own: two at a time use both cores while bounding
    # memory to two small shards, or one settled shard (~350 MiB) beside a small one: the settled
    # shards are indexed one after another as one task, submitted first. A failed shard fails the
    # build (never a silently partial index), after the others were tried.
    settled = [job for job in jobs if len(job[1]) > SHARD_TARGET]
    batches = [settled] if settled else []
    batches += [[job] for job in jobs if len(job[1]) <= SHARD_TARGET]
    with ThreadPoolExecutor(max_workers=_CONCURRENT_SHARDS) as pool:
        futures = [pool.submit(_index_batch, batch, language) for batch in batches]
    problems = [problem for future in futures for problem in future.result()]
    if problems:
        raise BuildError(problems)
    for shard, _, built in jobs:
        cache.store(shard, hashes[shard], built)
    shutil.rmtree(cache.root / "building", ignore_errors=True)
    return [shard for shard, _, _ in jobs]


def _index_batch(jobs: list[tuple[str, list[Record], Path]], language: str) -> list[Problem]:
    """Index shards one after another; returns the problems of those that failed."""
    problems = []
    for shard, records, built in jobs:
        try:
            _index_shard(shard, records, language, built)
        except BuildError as error:
            problems.extend(error.problems)
    return problems


def _site_files(cache: ShardCache, shards: list[str]) -> dict[str, Path]:
    files: dict[str, Path] = {}
    for position, shard in enumerate(shards):
        folder = str(cache.folder(shard))
        # os.walk and string paths: a build lists every shard's files (one per article), and
        # Path.rglob with relative_to cost ~0.3 s at 10,000 articles on every build.
        for directory, _, names in sorted(os.walk(folder)):
            prefix = directory[len(folder) + 1 :].replace(os.sep, "/")
            for name in sorted(names):
                relative = f"{prefix}/{name}" if prefix else name
                asset = ASSET.match(relative)
                if not asset or (position == 0 and _UI_ASSET.match(relative)):
                    files[f"{INDEX_DIR}/{shard}/{relative}"] = Path(directory, name)
    return files


def refresh_live_index(
    shards: dict[str, list[Record]],
    language: str,
    cache_dir: Path,
    site_dir: Path,
    lock: AbstractContextManager[object] | None = None,
) -> tuple[IndexResult, list[str]]:
    """For `serve` and in-place builds: re-index changed shards (`shard_records` of the archive: a snapshot, since the
    live rebuilder updates the archive in place) and swap them into the served site; returns the
    index and the shards swapped.

    Meant to run in a background thread after a page rebuild, so a reload never waits for
    indexing: only the swap of each changed shard's folder happens under `lock` (the server's
    build lock), so a query never sees half a shard.
    """
    lock = lock or nullcontext()
    result = index_shards(shards, language, cache_dir)
    changed = swap_shards(result.files, site_dir, lock)
    index_root = site_dir / INDEX_DIR
    for stale in index_root.iterdir() if index_root.is_dir() else ():
        if stale.name not in shards and not stale.name.startswith("."):
            with lock:
                shutil.rmtree(stale)
            changed.append(stale.name)
    return result, changed


def swap_shards(
    files: dict[str, Path], site_dir: Path, lock: AbstractContextManager[object] | None = None
) -> list[str]:
    """Copy each shard of `files` (site path -> cached file) whose bytes differ into the live
    site, swapped in by renames (taken under `lock`), so a query never sees half a shard;
    returns the shards swapped."""
    lock = lock or nullcontext()
    index_root = site_dir / INDEX_DIR
    wanted: dict[str, dict[str, Path]] = {}
    for path, source in files.items():
        shard, relative = path.removeprefix(INDEX_DIR + "/").split("/", 1)
        wanted.setdefault(shard, {})[relative] = source
    changed = []
    for shard, shard_files in wanted.items():
        live = index_root / shard
        if _same_bundle(live, shard_files):
            continue
        fresh = index_root / f".{shard}.new"
        shutil.rmtree(fresh, ignore_errors=True)
        for relative, source in shard_files.items():
            (fresh / relative).parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(source, fresh / relative)
        with lock:
            old = index_root / f".{shard}.old"
            if live.exists():
                live.rename(old)
            fresh.rename(live)
        shutil.rmtree(old, ignore_errors=True)
        changed.append(shard)
    return changed


def _same_bundle(live: Path, files: dict[str, Path]) -> bool:
    """Whether the live shard folder holds exactly `files` (relative path -> cached file).

    Pagefind names its index chunks, fragments and metadata by a hash of their content (and
    `make_deterministic` its filters), and the other files (`pagefind-entry.json`, which names
    the metadata, which names the rest; scripts and WASM) are few and small: same names, same
    sizes and the same bytes of those few are the same bundle, without reading all of it
    (reading every shard took ~0.35 s of a one-article re-index at 10,000 articles)."""
    live_sizes = _sizes(str(live))
    if live_sizes.keys() != files.keys():
        return False
    try:
        for relative, source in files.items():
            if live_sizes[relative] != os.stat(source).st_size:
                return False
            named_by_content = _CONTENT_NAMED.search(relative)
            if not named_by_content and (live / relative).read_bytes() != source.read_bytes():
                return False
    except OSError:
        return False
    return True


def _sizes(folder: str) -> dict[str, int]:
    """Every file under `folder` (relative, with `/`) and its size; os.scandir and strings:
    pathlib costs more than the stat calls for a shard's thousands of files."""
    sizes: dict[str, int] = {}
    pending = [(folder, "")]
    while pending:
        directory, prefix = pending.pop()
        try:
            with os.scandir(directory) as entries:
                for entry in entries:
                    if entry.is_dir(follow_symlinks=False):
                        pending.append((entry.path, f"{prefix}{entry.name}/"))
                    else:
                        sizes[prefix + entry.name] = entry.stat(follow_symlinks=False).st_size
        except OSError:
            continue  # a missing folder holds nothing; an unreadable one then differs
    return sizes
