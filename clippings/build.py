"""The build pipeline, top to bottom: load → model → render → write.

Each stage takes the typed result of the one before; nothing is written until every page has
been planned, and the site is swapped in only when every page rendered.
"""

from __future__ import annotations

import dataclasses
import gc
import sqlite3
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager, nullcontext
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path

from clippings.archive import Archive, build_archive
from clippings.authority import KINDS, load_authority
from clippings.body_edits import rebuild as rebuild_body_edits
from clippings.body_edits import record as record_published
from clippings.cache import (
    CACHE_DIR,
    BuildCache,
    Fingerprints,
    content_stats,
    discard_cache,
    is_damage,
)
from clippings.config import Config
from clippings.content import content_files, display_path, read_article, read_articles
from clippings.errors import BuildError, Problem
from clippings.files import os_problem, walk_folder
from clippings.originals import check_fixity
from clippings.output import SiteWriter, build_lock
from clippings.parallel import default_jobs, render_pages
from clippings.render import DATA_PAGE, THEME_DIR, Page, Renderer, Site, with_sizes
from clippings.search import build_search_index, shards_of


class StageTimes:
    """Wall time per pipeline stage, for `build --profile`; a stage timed twice adds up."""

    def __init__(self) -> None:
        self.seconds: dict[str, float] = {}

    @contextmanager
    def stage(self, name: str) -> Iterator[None]:
        started = time.perf_counter()
        try:
            yield
        finally:
            self.add(name, time.perf_counter() - started)

    def add(self, name: str, seconds: float) -> None:
        self.seconds[name] = self.seconds.get(name, 0.0) + seconds

    def report(self, total: float) -> str:
        lines = [f"{name:<14} {seconds:7.2f} s" for name, seconds in self.seconds.items()]
        other = total - sum(self.seconds.values())
        return "\n".join([*lines, f"{'other':<14} {other:7.2f} s", f"{'total':<14} {total:7.2f} s"])


@dataclass
class BuildResult:
    """What a build did, for the one-line summary."""

    articles: int
    terms: dict[str, int]
    drafts: int
    pages: int
    written: int
    removed: int
    seconds: float
    site_dir: Path
    warnings: list[Problem] = field(default_factory=list)
    search: str = ""  # e.g. "1 of 26 search shards re-indexed"; empty without search
    stages: StageTimes = field(default_factory=StageTimes)  # for `build --profile`

    def summary(self) -> str:
        terms = ", ".join(f"{count} {kind}" for kind, count in self.terms.items())
        drafts = f" ({self.drafts} drafts skipped)" if self.drafts else ""
        return (
            f"Built {self.articles} articles{drafts}; {terms}; {self.pages} files "
            f"({self.written} changed, {self.removed} removed){'; ' if self.search else ''}"
            f"{self.search} in {self.seconds:.2f} s"
        )


def load_archive(
    config: Config,
    strict: bool = False,
    cache: BuildCache | None = None,
    times: StageTimes | None = None,
) -> Archive:
    """Load and model: read content and authority, then gather the whole archive."""
    times = times or StageTimes()
    with times.stage("scan"):
        paths, problems = content_files(config.path("content_dir"), config.root)
    with times.stage("load/parse"):
        authority = load_authority(config.path("authority"), config.authority)
        read = cache.read_article if cache else read_article
        # Files the cache has no row for are parsed by workers first (all of them when cold).
        known = (lambda source: cache.recorded_sha(source) is not None) if cache else None
        jobs = config.jobs or default_jobs()
        articles, warnings = read_articles(
            config.path("content_dir"), config.root, paths, problems, strict, read, jobs, known
        )
    with times.stage("model"):
        archive = build_archive(articles, authority, config.related_articles)
    archive.warnings[:0] = [*config.warnings, *authority.warnings, *warnings]
    archive.warnings += check_fixity(archive.articles, config, warning=True)
    return archive


def static_files(config: Config) -> tuple[dict[str, Path], list[Problem]]:
    """Theme assets overlaid by the site's own static/ folder (same name wins), and warnings.

    Walked as content is (`files.walk_folder`): editors' files are skipped; a FIFO, an
    unreadable folder or a symlink out of the project is an error, never a silent drop.
    """
    files: dict[str, Path] = {}
    problems: list[Problem] = []

    def display(path: str) -> str:
        return display_path(Path(path), config.root)

    for folder, inside in (
        (THEME_DIR / "static", None),
        (config.path("static_dir"), config.root.resolve()),
    ):
        walk = walk_folder(folder, display, inside=inside, hidden_folders=True)
        problems += walk.problems
        files.update(("static/" + "/".join(parts), Path(path)) for parts, path in walk.files)
    errors = [problem for problem in problems if not problem.warning]
    if errors:
        raise BuildError(errors)
    return files, problems


def check_output_dir(config: Config, site_dir: Path) -> Path:
    """Refuse an output folder whose replacement would lose anything; returns the folder to write.

    The site is replaced whole, so an existing output must be a folder that is empty or holds a
    site built before (its archive.json): `--output data` or `--output ~` must not be swapped out
    and deleted. A symlinked output folder is rebuilt at its target, keeping the link.
    """
    resolved = site_dir.resolve()
    for name in ("content_dir", "templates_dir", "static_dir"):
        protected = config.path(name).resolve()
        if protected == resolved or protected.is_relative_to(resolved):
            message = f"output folder would replace the project's {getattr(config, name)}/; choose another"
            raise BuildError([Problem(str(site_dir), None, message)])
    message = None
    if resolved.exists() and not resolved.is_dir():
        message = "output is a file, not a folder; choose another output folder"
    elif (
        resolved.is_dir() and any(resolved.iterdir()) and not (resolved / "archive.json").is_file()
    ):
        message = (
            "output folder holds files but no site built before (no archive.json); the build "
            "replaces the whole folder, so choose another or empty it"
        )
    if message:
        raise BuildError([Problem(str(site_dir), None, message)])
    return resolved if site_dir.is_symlink() else site_dir


def check_page_paths(pages: list[Page], assets: dict[str, Path]) -> None:
    """Refuse two outputs on one path, or a file where another output needs a folder.

    A slug or alias can land on a generated page (slug `index.html`, alias `feed.xml/`); the
    error names the article's file, so the user knows what to change.
    """
    owners: dict[str, str | None] = dict.fromkeys(assets)  # path -> article source, if any
    problems: list[Problem] = []
    for page in pages:
        article = page.context.get("article")
        source = article.source if article is not None else None
        if page.path in owners:
            message = f"{page.path} would be written by two pages"
            problems.append(Problem(source or owners[page.path] or page.path, None, message))
        else:
            owners[page.path] = source
    folders: dict[str, str] = {}  # folder -> a path that needs it (strings: 14,000 paths)
    for path in owners:
        end = path.rfind("/")
        while end > 0:
            folders.setdefault(path[:end], path)  # the first page that needs it, by plan order
            end = path.rfind("/", 0, end)
    for path, source in owners.items():
        needer = folders.get(path)
        if needer is not None:
            message = f"{needer} needs {path} to be a folder, but a page is written there"
            problems.append(Problem(owners[needer] or source or path, None, message))
    if problems:
        raise BuildError(problems)


def _write_site(
    pages: list[Page],
    assets: dict[str, Path],
    renderer: Renderer,
    writer: SiteWriter,
    cache: BuildCache | None,
    config: Config,
    progress: Callable[[int], Callable[[], None]] | None,
    times: StageTimes,
) -> tuple[dict[str, str | None], dict[str, int], list[Page]]:
    """Render and stage every page; with a cache, pages whose inputs did not change are carried
    over from the current site. Returns each page's fingerprint, the sizes written and the
    pages rendered. The data page comes last: it shows the size of every download."""
    last = [page for page in pages if page.path == DATA_PAGE]
    pages = [page for page in pages if page.path != DATA_PAGE]
    todo = pages
    prints: dict[str, str | None] = {}
    store_bodies = None
    fingerprints = None
    if cache:
        with times.stage("plan"):  # fingerprints: which pages are unchanged
            by_path = {article.path: article for article in renderer.archive.articles}
            store_bodies = partial(cache.store_bodies, by_path)
            fingerprints = Fingerprints(
                renderer.archive, config, renderer.env, cache.article_sha, writer.site_dir
            )
            prints = {page.path: fingerprints.page(page) for page in pages}
            todo = [
                page
                for page in pages
                if not (
                    prints[page.path]
                    and cache.page_unchanged(page.path, prints[page.path], writer.site_dir)
                    and writer.keep(page.path)
                )
            ]
            cache.prefill_bodies(todo, renderer.bodies, config)
    tick = progress(len(todo)) if progress else None
    sizes: dict[str, int] = {}
    jobs = config.jobs or default_jobs()
    with times.stage("write"):  # the folders, all at once, before the workers fork
        writer.prepare([page.path for page in todo])
    with times.stage("render+write"):  # pages are staged by the process that renders them
        for path, size, written in render_pages(
            todo, renderer, writer.put, jobs, tick, store_bodies
        ):
            writer.count(written)
            sizes[path] = size
    with times.stage("render+write"):  # the data page last: it shows the downloads' sizes
        for page in last:
            page = with_sizes(page, lambda path: sizes.get(path) or writer.staged_size(path))
            prints[page.path] = fingerprints.page(page) if fingerprints else None
            fingerprint = prints[page.path]
            if not (
                cache
                and fingerprint
                and cache.page_unchanged(page.path, fingerprint, writer.site_dir)
                and writer.keep(page.path)
            ):
                data = renderer.render(page)
                writer.write(page.path, data)
                sizes[page.path] = len(data)
                todo.append(page)
    with times.stage("write"):
        for path, source in assets.items():
            writer.copy(path, source)
            prints[path] = "asset"  # always copied; recorded so a no-op build can check it is there
            sizes[path] = source.stat().st_size
    return prints, sizes, todo


def _write_search_index(
    archive: Archive,
    config: Config,
    writer: SiteWriter,
    prints: dict[str, str | None],
    sizes: dict[str, int],
) -> tuple[str, int]:
    """Stage the search index (only changed shards are re-indexed); returns the summary note and
    the number of files. Without the build cache, every shard is indexed in a scratch folder."""
    if not config.search or not archive.articles:
        return "", 0
    scratch = (
        nullcontext(config.root / CACHE_DIR) if config.cache else tempfile.TemporaryDirectory()
    )
    with scratch as folder:
        index = build_search_index(archive, config.language, Path(folder))
        for path, source in index.files.items():
            writer.copy(path, source)
            prints[path] = "search"  # recorded so a no-op build can check it is still there
            sizes[path] = source.stat().st_size
    return f"{len(index.rebuilt)} of {index.shards} search shards re-indexed", len(index.files)


def _open_cache(config: Config) -> tuple[BuildCache | None, str | None]:
    """The build cache, or None with the reason when it cannot be used (say, a read-only folder)."""
    if not config.cache:
        return None, None
    try:
        return BuildCache(config.root / CACHE_DIR), None
    except (OSError, sqlite3.Error) as error:
        return None, f"build cache unavailable ({error}); building without it"


def build_site(
    config: Config,
    site_dir: Path,
    strict: bool = False,
    progress: Callable[[int], Callable[[], None]] | None = None,
) -> BuildResult:
    """Build the whole site into `site_dir`; raises BuildError listing every problem found.

    One build at a time per project and site folder (see `output.build_lock`): a second waits.
    """
    cache_folder = config.root / CACHE_DIR
    try:
        with build_lock(config.root, site_dir.resolve().parent):
            try:
                return _build(config, site_dir, strict, progress)
            except sqlite3.DatabaseError as error:
                if not is_damage(error):  # a full disk or a read-only folder: keep the cache
                    message = f"build cache: {error}; the cache is kept, nothing was replaced"
                    raise BuildError([Problem(str(cache_folder), None, message)]) from None
                discard_cache(cache_folder)  # a damaged page or row, read mid-build
                result = _build(config, site_dir, strict, progress)
                message = f"build cache damaged ({error}); discarded, and the site built again"
                result.warnings.insert(0, Problem(str(cache_folder), None, message, True))
                return result
    except OSError as error:  # a full disk, a read-only or unreadable folder, a name too long
        raise BuildError([os_problem(error, site_dir)]) from None


def _build(
    config: Config,
    site_dir: Path,
    strict: bool = False,
    progress: Callable[[int], Callable[[], None]] | None = None,
) -> BuildResult:
    started = time.perf_counter()
    times = StageTimes()
    target = check_output_dir(config, site_dir)
    cache, notice = _open_cache(config)
    settings = ""
    try:
        if cache:
            cache.forget_if_site_changed()
            # Taken before anything is read: a template saved during the build makes the next
            # build see a change.
            settings = cache.settings_digest(config, site_dir, strict)
            files = content_stats(config)
            saved = cache.last_build(cache.inputs_digest(strict, settings, files), site_dir)
            if saved is not None:
                seconds = time.perf_counter() - started
                return dataclasses.replace(
                    saved, written=0, removed=0, seconds=seconds, search="", stages=times
                )
            previous = cache.last_result()
            quick = previous and rebuild_body_edits(config, target, strict, cache, settings, files)
            if quick:
                result = dataclasses.replace(
                    previous,
                    pages=previous.pages + quick.files_added,
                    written=len(quick.written),
                    removed=quick.removed,
                    search=quick.search,
                    stages=times,
                )
                cache.save_build(cache.inputs_digest(strict, settings, files), result, settings)
                result.seconds = time.perf_counter() - started
                return result
        # Paused while the archive is made: the collector would walk every article and term
        # again and again (they live to the end of the build); it resumes with whatever cycles
        # the load left. Peak memory at 10,000 articles is unchanged (248 MiB).
        gc.disable()
        try:
            archive = load_archive(config, strict, cache, times)
        finally:
            gc.enable()
        with times.stage("plan"):
            pages: list[Page] = list(Site(archive, config).pages())
            assets, asset_warnings = static_files(config)
            archive.warnings += asset_warnings
            check_page_paths(pages, assets)
            renderer = Renderer(config, archive)
        spare = config.root / CACHE_DIR / "spare-site" if cache else None
        with times.stage("write"):
            writer = SiteWriter(target, spare)
        try:
            prints, sizes, rendered = _write_site(
                pages, assets, renderer, writer, cache, config, progress, times
            )
            with times.stage("search"):
                search, search_files = _write_search_index(archive, config, writer, prints, sizes)
            with times.stage("write"):
                if cache:
                    cache.forget_pages()
                removed = writer.commit()
        except BaseException:
            writer.abort()
            raise
        result = BuildResult(
            articles=len(archive.articles),
            terms={kind: len(archive.terms[kind]) for kind in KINDS},
            drafts=len(archive.drafts),
            pages=len(pages) + len(assets) + search_files,
            written=writer.written,
            removed=removed,
            seconds=0.0,
            site_dir=site_dir,
            warnings=archive.warnings,
            search=search,
            stages=times,
        )
        if cache:
            with times.stage("record cache"):
                cache.store_rendered(archive.articles, renderer.bodies, prints, sizes)
                record_published(cache, rendered, archive.drafts)
                layout = None  # which sources each search shard holds, for quick rebuilds
                if config.search and archive.articles:
                    shards = shards_of(archive).items()
                    layout = {
                        shard: [article.source for article in items] for shard, items in shards
                    }
                cache.save_search_shards(layout)
                inputs = cache.inputs_digest(strict, settings, content_stats(config))
                cache.save_build(inputs, result, settings)
    finally:
        if cache:
            cache.close()
    notice = notice or (cache.notice if cache else None)
    if notice:
        result.warnings.insert(0, Problem(str(config.root / CACHE_DIR), None, notice, warning=True))
    result.seconds = time.perf_counter() - started
    return result
