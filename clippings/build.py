"""The build pipeline, top to bottom: load → model → render → write.

Each stage takes the typed result of the one before; nothing is written until every page has
been planned, and the site is swapped in only when every page rendered.
"""

from __future__ import annotations

import dataclasses
import gc
import itertools
import os
import shutil
import sqlite3
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager, nullcontext
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path

from clippings.archive import Archive, build_archive
from clippings.authority import KINDS, Authority, load_authority
from clippings.body_edits import published, quick_path_allowed
from clippings.body_edits import rebuild as rebuild_body_edits
from clippings.body_edits import record as record_published
from clippings.cache import (
    CACHE_DIR,
    ENGINE_FILE,
    BuildCache,
    ContentFiles,
    TooMuchWork,
    compiled_templates,
    content_stats,
    discard_cache,
    fingerprint_base,
    is_damage,
)
from clippings.config import Config
from clippings.content import (
    Article,
    content_files,
    display_path,
    read_article,
    read_articles,
)
from clippings.errors import BuildError, Problem, shown
from clippings.files import StatKey, os_problem
from clippings.incremental import Rebuilder
from clippings.originals import check_fixity
from clippings.output import SiteWriter, build_lock, remove_leftovers
from clippings.pageinputs import PageInputs, ParsedFiles
from clippings.parallel import BodiesAhead, default_jobs, render_pages
from clippings.plan import check_output_dir, check_page_paths, static_files
from clippings.render import DATA_PAGE, Page, Renderer, Site, with_sizes
from clippings.search import (
    INDEX_DIR,
    build_search_index,
    refresh_live_index,
    shard_records,
    shards_of,
)


class StageTimes:
    """Wall time per pipeline stage, for `build --profile`; a stage timed twice adds up."""

    def __init__(self) -> None:
        self.seconds: dict[str, float] = {}
        self.route = "full build"  # which way the build went, and why not a quicker one

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
        totals = [f"{'other':<14} {other:7.2f} s", f"{'total':<14} {total:7.2f} s"]
        return "\n".join([f"{'route':<14} {self.route}", *lines, *totals])


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


@dataclass
class _Run:
    """One `build_site` call: what each of its routes reads."""

    config: Config
    site_dir: Path  # as the caller named it (the summary line shows it)
    target: Path  # the folder written: `site_dir`, a symlink resolved (`check_output_dir`)
    strict: bool
    times: StageTimes
    settings: str = ""  # `BuildCache.settings_digest`, with a cache
    files: ContentFiles = field(default_factory=ContentFiles)  # `content_stats`, with a cache


def load_archive(
    config: Config,
    strict: bool = False,
    cache: BuildCache | None = None,
    times: StageTimes | None = None,
) -> Archive:
    """Load and model: read content and authority, then gather the whole archive (its
    warnings first those of loading, then the model's)."""
    times = times or StageTimes()
    archive, loading = _model(*_load(config, strict, cache, times), config, times)
    archive.warnings[:0] = loading
    return archive


def _load(
    config: Config, strict: bool, cache: BuildCache | None, times: StageTimes
) -> tuple[list[Article], Authority, list[Problem]]:
    """Every article and the authority, and the warnings of loading them."""
    with times.stage("scan"):
        paths, problems = content_files(config.path("content_dir"), config.root)
    with times.stage("load/parse"):
        authority = load_authority(config.path("authority"), config.authority)
        read = cache.read_article if cache else read_article
        ahead = partial(cache.read_ahead, jobs=config.jobs or default_jobs()) if cache else None
        articles, warnings = read_articles(
            config.path("content_dir"), config.root, paths, problems, strict, read, ahead
        )
    return articles, authority, [*config.warnings, *authority.warnings, *warnings]


def _model(
    articles: list[Article],
    authority: Authority,
    loading: list[Problem],
    config: Config,
    times: StageTimes,
) -> tuple[Archive, list[Problem]]:
    """The archive, with only the model's warnings, and the warnings of loading."""
    with times.stage("model"):
        archive = build_archive(articles, authority, config.related_articles)
    return archive, loading + check_fixity(archive.articles, config, warning=True)


def _write_site(
    pages: list[Page],
    assets: dict[str, Path],
    renderer: Renderer,
    writer: SiteWriter,
    cache: BuildCache | None,
    config: Config,
    progress: Callable[[int], Callable[[], None]] | None,
    times: StageTimes,
    refs: dict[str, list[str]],
    ahead: BodiesAhead | None = None,
) -> tuple[dict[str, str | None], dict[str, int], PageInputs | None]:
    """Render and stage every page; with a cache, pages whose inputs did not change are carried
    over from the current site, and what the build publishes of each article is staged in the
    cache (`BuildCache.stage_built`). Returns each page's fingerprint, the sizes written and
    the fingerprinting (`refs` gets, per article source and term path, the pages holding it).
    The data page comes last: it shows the size of every download."""
    last = [page for page in pages if page.path == DATA_PAGE]
    pages = [page for page in pages if page.path != DATA_PAGE]
    todo = pages
    prints: dict[str, str | None] = {}
    store_bodies = None
    fingerprints = None
    meanwhile: Iterator[None] = iter(())  # the parent's own work while the workers render
    if cache:
        with times.stage("plan"):  # fingerprints: which pages are unchanged
            by_path = {article.path: article for article in renderer.archive.articles}
            store_bodies = partial(cache.store_bodies, by_path)
            fingerprints = PageInputs(
                renderer.archive, renderer.env, fingerprint_base(config, writer.site_dir)
            )
            fingerprinting = _fingerprint_each(pages, fingerprints, prints, refs)
            if cache.records_pages():  # some pages may be kept as they are: find them first
                for _ in fingerprinting:
                    pass
                todo = [
                    page
                    for page in pages
                    if not (
                        prints[page.path]
                        and cache.page_unchanged(page.path, prints[page.path], writer.site_dir)
                        and writer.keep(page.path)
                    )
                ]
            # else every page is rendered, and fingerprinted meanwhile, for the next build (at
            # 10,000 articles ~4 s that left a core idle)
            cache.prefill_bodies(todo, renderer.bodies, config)
            # and what it publishes of each article is recorded meanwhile too (~1 s at 10,000
            # articles, serial after the render before), set aside until the site is swapped in
            archive = renderer.archive
            staging = cache.stage_built(published(todo, archive.drafts, cache.article_sha))
            # then the parsed files and converted bodies stored so far are made durable, facts
            # about the content and not the site (~0.6 s at 10,000, serial at the swap before)
            meanwhile = itertools.chain(fingerprinting, staging, _step(cache.commit))
    if ahead:  # bodies converted while the parent modelled and planned
        converted = ahead.take()
        renderer.bodies.update(converted)  # which the render workers inherit
        if store_bodies:
            store_bodies(converted)
    tick = progress(len(todo)) if progress else None
    sizes: dict[str, int] = {}
    jobs = config.jobs or default_jobs()
    with times.stage("write"):
        writer.claim([page.path for page in todo])
    with times.stage("render+write"):  # pages are staged by the process that renders them
        for path, size, written in render_pages(
            todo,
            renderer,
            writer.put,
            writer.make_folders,
            jobs,
            tick,
            store_bodies,
            meanwhile,
        ):
            writer.count(written)
            sizes[path] = size
    with times.stage("render+write"):  # the data page last: it shows the downloads' sizes
        for page in last:
            page = with_sizes(page, lambda path: sizes.get(path) or writer.staged_size(path))
            prints[page.path] = fingerprints.fingerprint(page) if fingerprints else None
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
    with times.stage("write"):
        for path, source in assets.items():
            writer.copy(path, source)
            prints[path] = "asset"  # always copied; recorded so a no-op build can check it is there
            sizes[path] = source.stat().st_size
    return prints, sizes, fingerprints


def _engine_sources(
    files: ContentFiles, loading: list[Problem], archive: Archive, cache: BuildCache
) -> dict[str, tuple[StatKey | None, Article | None, list[Problem], str | None]] | None:
    """What the engine of a full build knows of each content file (`Rebuilder.from_build`):
    its stat, its article, its problems and its hash; None when a file changed while read."""
    problems_of: dict[str, list[Problem]] = {}
    for problem in loading:
        problems_of.setdefault(problem.path, []).append(problem)
    sources = {
        path: (stat, None, problems_of.get(source, []), None)
        for source, (path, stat) in files.items()
    }
    loaded = [*archive.articles, *archive.drafts]
    if not all(article.source in files for article in loaded):
        return None
    for article in loaded:
        path = files[article.source][0]
        sha = cache.article_sha.get(article.source)
        sources[path] = (sources[path][0], article, sources[path][2], sha)
    return sources


def _fingerprint_each(
    pages: list[Page],
    inputs: PageInputs,
    prints: dict[str, str | None],
    refs: dict[str, list[str]],
) -> Iterator[None]:
    """Fingerprint the pages one by one (a step each), noting what each holds in `refs`."""
    for page in pages:
        held: set[str] = set()
        prints[page.path] = inputs.fingerprint(page, held)
        for source in held:
            refs.setdefault(source, []).append(page.path)
        yield


def _step(action: Callable[[], object]) -> Iterator[None]:
    """`action` as one step of the parent's work while the workers render."""
    action()
    yield


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


@contextmanager
def _collector_paused(process_ends: bool) -> Iterator[None]:
    """While the archive is made or restored: the collector would walk every article and term
    again and again (they live to the end of the build); it resumes with whatever cycles were
    left. Peak memory at 10,000 articles is unchanged (248 MiB). When the process ends with the
    build, what was made meanwhile is frozen instead, so the collector never walks it: a CLI
    tag edit at 10,000 articles otherwise spends 0.14 s collecting the engine it has finished
    with (and `build.py` leaves the process with `os._exit`, freeing nothing)."""
    gc.disable()
    try:
        yield
    finally:
        if process_ends:
            gc.freeze()
        gc.enable()


# The engine and the quick path for body edits render in one process; past this many pages the
# full build's parallel workers are faster (a template edit, a setting that shows on every page,
# a search and replace over many files).
ENGINE_RENDER_LIMIT = 2000


def _update_in_place(run: _Run, cache: BuildCache, notes: list[Problem]) -> BuildResult | None:
    """Bring the site up to date through the engine the last build saved (`incremental`, the
    same that `serve` runs): only files whose stat changed are read, the model is updated in
    place, and only pages whose fingerprint changed are rendered and replaced, all or none
    (`output.replace_files`). None when there is no engine for these settings (the full build runs).

    Before anything is replaced, the records that vouch for the site (the last build, the
    pages about to change) are dropped: a build killed midway leaves those pages to be
    rendered again. A build that fails on a bad file writes nothing and keeps them. The engine
    is saved again only when replaying this build's changes would cost more
    (`Outcome.save_due`); it takes the page records as what the site holds (`adopt_site`).
    """
    config, site_dir, strict, times = run.config, run.target, run.strict, run.times
    settings, files = run.settings, run.files
    with times.stage("load engine"):
        engine = cache.load_engine(settings)
    if not isinstance(engine, Rebuilder):
        times.route = "full build: no saved engine usable with these settings"
        return None
    if engine.strict != strict:
        times.route = (
            f"full build: the saved engine was built {'without' if strict else 'with'} --strict"
        )
        return None
    if not cache.pages_in_place(site_dir):
        times.route = "full build: a page was deleted or changed since the last build"
        return None
    # Another folder with every recorded page in place (a deploy's restored cache): what a full
    # build trusts too. The files the engine reads again keep their articles if their bytes do.
    engine.adopt_site(cache.page_records)
    rewritten = cache.engine_stale()  # pages the quick path for body edits rewrote
    remove_leftovers(site_dir, rewritten)  # if it was killed midway
    engine.distrust(rewritten)

    def before_writing(paths: list[str]) -> None:
        cache.forget_build()
        cache.forget_page_records(paths)
        cache.commit()

    try:
        with times.stage("update"):
            outcome = engine.update(
                before_writing,
                ENGINE_RENDER_LIMIT,
                files,
                lambda pages, into: cache.prefill_bodies(pages, into, config),
            )
    except BuildError:
        raise
    except TooMuchWork as many:  # the full build renders them in parallel
        times.route = f"full build: {many}, more than the engine renders"
        return None
    except Exception as error:  # a bug in the engine must not cost the site: build in full, say so
        message = (
            f"the saved engine failed ({type(error).__name__}: {shown(str(error))}); built in full"
        )
        notes.append(Problem(f"{CACHE_DIR}/{ENGINE_FILE}", None, message, warning=True))
        times.route = "full build: the saved engine failed"
        return None
    archive = engine.archive
    assert archive is not None and engine.config is not None
    times.route = "saved engine"
    cache.forget_page_records(outcome.removed)
    cache.record_pages(engine.fingerprints, outcome.sizes)
    # What the quick path for body edits checks against: the files read again, as the cache
    # parses them, and what their pages now show. Named as the engine named them: a full build
    # run with another working folder saved it with another (absolute) root.
    for name, stat, sha in outcome.reread:
        if os.path.isfile(name):
            path = Path(name)
            cache.note_read(path, display_path(path, engine.config.root), strict, stat, sha)
    drafts = [draft for draft in archive.drafts if draft.source in cache.article_sha]
    record_published(cache, outcome.rendered_pages, drafts, complete=False)
    search, search_files = "", 0
    if config.search:
        before_writing([])
        with times.stage("search"):
            search, search_files = _update_search_index(archive, config, site_dir, cache)
    result = BuildResult(
        articles=len(archive.articles),
        terms={kind: len(archive.terms[kind]) for kind in KINDS},
        drafts=len(archive.drafts),
        pages=engine.outputs + search_files,
        written=len(outcome.written),
        removed=len(outcome.removed),
        seconds=0.0,
        site_dir=site_dir,
        warnings=[*outcome.warnings, *check_fixity(archive.articles, config, warning=True)],
        search=search,
        stages=times,
    )
    with times.stage("save engine"):
        if outcome.save_due:
            cache.save_engine(settings, engine)
        else:  # the records say what the site holds, and the engine reads those files again
            cache.forget_engine_stale()
        # The files as they were before the engine read them: one saved meanwhile makes the
        # next build look again
        cache.save_build(cache.inputs_digest(strict, settings, files), result, settings)
    return result


def _update_search_index(
    archive: Archive, config: Config, site_dir: Path, cache: BuildCache
) -> tuple[str, int]:
    """Re-index the shards whose articles changed and swap them into the site; returns the
    summary note and the number of index files, recorded as a full build records them."""
    folder = config.root / CACHE_DIR
    cache.forget_page_records(cache.recorded_pages(INDEX_DIR + "/"))
    if not archive.articles:
        shutil.rmtree(site_dir / INDEX_DIR, ignore_errors=True)
        return "", 0
    index, _ = refresh_live_index(shard_records(archive), config.language, folder, site_dir)
    sizes = {path: source.stat().st_size for path, source in index.files.items()}
    cache.record_pages(dict.fromkeys(sizes, "search"), sizes)
    return f"{len(index.rebuilt)} of {index.shards} search shards re-indexed", len(sizes)


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
    process_ends: bool = False,
) -> BuildResult:
    """Build the whole site into `site_dir`; raises BuildError listing every problem found.
    `process_ends`: the caller exits after the build (the CLI), so the model and the engine are
    left for the system to reclaim, never walked by the collector (see `_collector_paused`).

    One build at a time per project and site folder (see `output.build_lock`): a second waits.
    """
    cache_folder = config.root / CACHE_DIR
    try:
        with build_lock(config.root, site_dir.resolve().parent):
            try:
                return _build(config, site_dir, strict, progress, process_ends)
            except sqlite3.DatabaseError as error:
                if not is_damage(error):  # a full disk or a read-only folder: keep the cache
                    message = f"build cache: {error}; the cache is kept, nothing was replaced"
                    raise BuildError([Problem(str(cache_folder), None, message)]) from None
                discard_cache(cache_folder)  # a damaged page or row, read mid-build
                result = _build(config, site_dir, strict, progress, process_ends)
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
    process_ends: bool = False,
) -> BuildResult:
    """The cheapest route that leaves the site as a clean build would: nothing to do, the quick
    path for body edits, the saved engine, or a full build."""
    started = time.perf_counter()
    target = check_output_dir(config, site_dir)
    run = _Run(config, site_dir, target, strict, StageTimes())
    engine_notes: list[Problem] = []  # why the saved engine could not bring the site up to date
    cache: BuildCache | None = None
    notice: str | None = None
    try:
        result = None
        # The cache's records and a restored engine live to the end of the build (see
        # `_collector_paused`); what a full build follows is collected instead.
        with _collector_paused(process_ends=False):
            cache, notice = _open_cache(config)
            if cache:
                cache.forget_if_site_changed()
                # Taken before anything is read: a template saved during the build makes the
                # next build see a change.
                run.settings = cache.settings_digest(config, site_dir, strict)
                run.files = content_stats(config)
                result = _without_full_build(run, cache, engine_notes)
            if result is not None and process_ends:
                gc.freeze()  # before the collector resumes, or its first pass walks them all
        if result is None:
            gc.collect()  # an engine restored and given up, cycles and all: not held meanwhile
            result = _full_build(run, cache, progress, process_ends)
            result.warnings[:0] = engine_notes
    finally:
        if cache:
            cache.close()
    notice = notice or (cache.notice if cache else None)
    if notice:
        result.warnings.insert(0, Problem(str(config.root / CACHE_DIR), None, notice, warning=True))
    result.seconds = time.perf_counter() - started
    return result


def _without_full_build(
    run: _Run, cache: BuildCache, engine_notes: list[Problem]
) -> BuildResult | None:
    """The site brought up to date without a full build, or None when that cannot be done."""
    config, target, strict, times = run.config, run.target, run.strict, run.times
    settings, files = run.settings, run.files
    saved = cache.last_build(cache.inputs_digest(strict, settings, files), target)
    if saved is not None:
        times.route = "nothing changed"
        return dataclasses.replace(saved, written=0, removed=0, search="", stages=times)
    previous = cache.last_result()
    try:
        quick = previous and rebuild_body_edits(
            config, target, strict, cache, settings, files, ENGINE_RENDER_LIMIT
        )
    except TooMuchWork as many:
        times.route = f"full build: {many}, more than the quick path renders"
        return None
    if quick:
        times.route = "quick path for body edits"
        result = dataclasses.replace(
            previous,
            pages=previous.pages + quick.files_added,
            written=len(quick.written),
            removed=quick.removed,
            search=quick.search,
            stages=times,
        )
        cache.save_build(cache.inputs_digest(strict, settings, files), result, settings)
        return result
    return _update_in_place(run, cache, engine_notes)


def _full_build(
    run: _Run,
    cache: BuildCache | None,
    progress: Callable[[int], Callable[[], None]] | None,
    process_ends: bool,
) -> BuildResult:
    """load → model → plan → render and write → swap in, then record what the cache keeps."""
    config, target, strict, times = run.config, run.target, run.strict, run.times
    jobs = config.jobs or default_jobs()
    ahead: BodiesAhead | None = None
    try:
        with _collector_paused(process_ends):
            articles, authority, loading = _load(config, strict, cache, times)
            # The other core is idle while the parent models and plans: bodies the cache does
            # not hold yet (of files parsed in this build) are converted on it meanwhile.
            if cache and jobs > 1:
                ahead = BodiesAhead(
                    [a for a in articles if a.source in cache.parsed and not a.draft]
                )
            archive, loading = _model(articles, authority, loading, config, times)
        with times.stage("plan"):
            pages: list[Page] = list(Site(archive, config).pages())
            assets, asset_warnings = static_files(config)
            check_page_paths(pages, assets)
            # compiled templates and map shapes kept for the quick rebuilds that follow
            renderer = Renderer(config, archive, compiled_templates(config) if cache else None)
        spare = config.root / CACHE_DIR / "spare-site" if cache else None
        with times.stage("write"):
            writer = SiteWriter(target, spare)
        refs: dict[str, list[str]] = {}  # the engine takes them (`PageRefs.taking`)
        with ExitStack() as engine_saving:
            try:
                prints, sizes, inputs = _write_site(
                    pages, assets, renderer, writer, cache, config, progress, times, refs, ahead
                )
                with times.stage("search"):
                    search, search_files = _write_search_index(
                        archive, config, writer, prints, sizes
                    )
                if cache:
                    with times.stage("save engine"):
                        assert inputs is not None  # fingerprinted: a cache is open
                        sources = _engine_sources(run.files, loading, archive, cache)
                        if sources is not None:
                            engine = partial(
                                Rebuilder.from_build,
                                *(config, target, strict, sources, archive, pages, prints, refs),
                                *(inputs, assets),
                            )
                            # made and saved by a forked process while the site is swapped in
                            # and recorded, and named only if all of that succeeds
                            saving = cache.engine_saved_meanwhile(run.settings, engine)
                            engine_saving.enter_context(saving)
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
                site_dir=run.site_dir,
                warnings=[*loading, *archive.warnings, *asset_warnings],
                search=search,
                stages=times,
            )
            if cache:
                with times.stage("record cache"):
                    assert inputs is not None
                    parsed = inputs.parsed_templates
                    _record_build(run, cache, archive, renderer, result, prints, sizes, parsed)
                    engine_saving.close()  # waits for the engine, and names it
    finally:
        if ahead:  # a build that failed before the render took the bodies
            ahead.end()
    return result


def _record_build(
    run: _Run,
    cache: BuildCache,
    archive: Archive,
    renderer: Renderer,
    result: BuildResult,
    prints: dict[str, str | None],
    sizes: dict[str, int],
    parsed: ParsedFiles,
) -> None:
    """What the cache keeps of a full build just swapped in, for the builds that follow: the
    pages' fingerprints, what each article published, the search layout, and the build
    (`parsed`: the template files the fingerprints parsed)."""
    config, settings = run.config, run.settings
    cache.store_rendered(archive.articles, renderer.bodies, prints, sizes)
    cache.store_staged_built(present=set(cache.article_sha))
    layout = None  # which sources each search shard holds, for quick rebuilds
    if config.search and archive.articles:
        shards = shards_of(archive).items()
        layout = {shard: [article.source for article in items] for shard, items in shards}
    cache.save_search_shards(layout)
    quick_path_allowed(cache, settings, renderer.env, parsed)  # found here, once per settings
    inputs_now = cache.inputs_digest(run.strict, settings, content_stats(config))
    cache.save_build(inputs_now, result, settings)
