"""Re-render article pages after edits to their bodies alone, without loading the archive.

A full build loads every article and models the whole archive before it knows which pages
changed: seconds at 10,000 articles, for what is most often a fix to one article's text. When
every file changed since the last successful build differs from what that build published only
in its Markdown body, and not in anything another page shows of it (its front matter and its
excerpt: its *shape*), the only pages that change are those articles' own. The last full build
recorded each article page's context (`record`), with the articles and terms in it as
references; `rebuild` renders just those pages from it and replaces each in the site with one
atomic rename.

It steps aside (returns None, and the full build runs) wherever it could be wrong: the settings,
templates, static files or authority changed; a file was added or removed; a changed file has a
problem or a new shape; a recorded page is not in the site as the last build left it; or the
site's templates show a body elsewhere than on the article's own page (`shown_on_own_pages`,
found from what they read, as the page fingerprint finds it). With search on, the shards holding
the edited articles are re-indexed from records rebuilt out of the recorded page contexts and
swapped into the site. Its pages equal a full build's byte for byte, and its search
shards hash the same (tests/test_body_edits.py).
"""

from __future__ import annotations

import dataclasses
import io
import pickle
import sqlite3
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import jinja2

from clippings.archive import Term, build_archive
from clippings.authority import KINDS, Authority
from clippings.cache import (
    CACHE_DIR,
    BuildCache,
    BuiltRow,
    CacheDamaged,
    ContentFiles,
    TooMuchWork,
    compiled_templates,
    digest,
)
from clippings.config import Config
from clippings.content import DERIVED_FROM, Article
from clippings.exports import (
    archive_json_with_word_counts,
    csv_with_word_counts,
    sqlite_with_bodies,
)
from clippings.output import write_atomically
from clippings.pageinputs import ParsedFiles, Uncacheable, names_read, template_reads
from clippings.render import (
    DATA_PAGE,
    TEMPLATE_READS,
    THEME_DIR,
    Page,
    Renderer,
    data_page,
    excerpt,
    render_all,
    with_sizes,
)
from clippings.search import INDEX_DIR, Record, record_of, reindex_shards, swap_shards

ARTICLE_TEMPLATE = "article.html"


@dataclass
class QuickBuild:
    """What a quick rebuild did: site paths written, and for search, the summary and how many
    index files came and went."""

    written: list[str]
    search: str = ""
    files_added: int = 0
    removed: int = 0


class _Stale(Exception):
    """A recorded reference no longer matches the content: leave it to the full build."""


def article_shape(article: Article) -> str:
    """Digest of all that pages other than the article's own can show of it: everything but
    the body, and the excerpt (which may come from the body's first paragraph)."""
    return digest(repr((dataclasses.replace(article, body=""), excerpt(article))))


class _ContextPickler(pickle.Pickler):
    """Pickles a page context with articles as (source, hash) and terms by name: a term's
    article lists would pull in the whole archive, and the article template shows only its
    name and link (`shown_on_own_pages` holds the templates to that)."""

    def __init__(self, file: io.BytesIO, shas: Mapping[str, str]) -> None:
        super().__init__(file, protocol=pickle.HIGHEST_PROTOCOL)
        self.shas = shas

    def persistent_id(self, obj: Any) -> tuple | None:
        if isinstance(obj, Article):
            return ("article", obj.source, self.shas[obj.source])
        if isinstance(obj, Term):
            return ("term", obj.kind, obj.slug, obj.name, obj.entity)
        return None


class _ContextUnpickler(pickle.Unpickler):
    """Resolves the references `_ContextPickler` wrote: the changed articles as they are now,
    the others from the cache, provided they are what the page was rendered from. With `only`,
    other articles than that one come back as None (a search record needs its own article)."""

    def __init__(
        self,
        data: bytes,
        articles: dict[str, Article],
        cache: BuildCache,
        built: dict,
        only: str | None = None,
    ) -> None:
        super().__init__(io.BytesIO(data))
        self.articles = articles  # the changed ones, as they are now
        self.cache = cache
        self.built = built
        self.only = only

    def persistent_load(self, pid: tuple) -> Any:
        if pid[0] == "term":
            return Term(pid[1], pid[2], pid[3], pid[4])
        source, sha = pid[1], pid[2]
        if source in self.articles:
            return self.articles[source]
        if self.only is not None and source != self.only:
            return None
        if self.built.get(source, ("",))[0] != sha:
            raise _Stale(source)
        article = self.cache.load_article(source)  # unchanged: the row is what was published
        if article is None:
            raise _Stale(source)
        return article


def _pickle_context(context: dict[str, Any], shas: Mapping[str, str]) -> bytes | None:
    buffer = io.BytesIO()
    try:
        _ContextPickler(buffer, shas).dump(context)
    except (RecursionError, pickle.PicklingError, TypeError, KeyError):
        return None  # e.g. front matter nested thousands deep: this page is left to full builds
    return buffer.getvalue()


def record(
    cache: BuildCache, rendered: list[Page], drafts: list[Article], complete: bool = True
) -> None:
    """After a successful build: record what it published of every article it rendered (and
    of drafts, which have no page). Articles whose pages were carried over keep the record
    from when they were rendered, which their unchanged page fingerprint proves still true.
    A `complete` build (a full one) read every file: records of files it did not see go; an
    incomplete one (the engine's) knows the hashes of the others from their records. (A full
    build stages the same rows while it renders: `cache.stage_built(published(...))`.)"""
    shas: Mapping[str, str] = cache.article_sha if complete else _Published(cache)
    cache.store_built(published(rendered, drafts, shas), present=set(shas) if complete else None)


def published(
    rendered: list[Page], drafts: list[Article], shas: Mapping[str, str]
) -> Iterator[BuiltRow]:
    """What the build published of each article it rendered, one row at a time (10,000
    pickled contexts held at once were 27 MB more at the end of a cold build, its peak)."""
    for page in rendered:
        article = page.context.get("article")
        if page.template == ARTICLE_TEMPLATE and article.source in shas:
            context = _pickle_context(page.context, shas)
            shape = article_shape(article) if context is not None else None
            yield article.source, shas[article.source], shape, page.path, context
    for draft in drafts:
        if draft.source in shas:
            yield draft.source, shas[draft.source], article_shape(draft), None, None


class _Published(Mapping[str, str]):
    """Each content file's hash: as this build read it, else as last published. Looked up one
    at a time: an engine build records a few pages, and reading 10,000 records cost 0.03 s."""

    def __init__(self, cache: BuildCache) -> None:
        self.cache = cache

    def __getitem__(self, source: str) -> str:
        sha = self.cache.article_sha.get(source) or self.cache.built_sha(source)
        if sha is None:
            raise KeyError(source)
        return sha

    def __iter__(self) -> Iterator[str]:
        return iter(self.cache.built().keys() | self.cache.article_sha.keys())

    def __len__(self) -> int:
        return sum(1 for _ in self)


# What a body edit changes of an article: the body and the values derived from it. A page
# other than the article's own that reads any of them, or a template function reading them,
# shows the body; `excerpt` does not count: the shape holds its value.
_FROM_BODY = frozenset({"body", *(name for name, of in DERIVED_FROM.items() if "body" in of)})


def _shows_body(names: set[str]) -> bool:
    return any(
        name in _FROM_BODY
        or (name != "excerpt" and not _FROM_BODY.isdisjoint(TEMPLATE_READS.get(name, ())))
        for name in names
    )


def quick_path_allowed(
    cache: BuildCache, settings: str, env: jinja2.Environment, parsed: ParsedFiles | None = None
) -> bool:
    """`shown_on_own_pages` for the templates of these settings: found once, kept in the cache
    (the full build finds it, so that the first body edit after it does not pay for it; it
    passes the template files its fingerprints parsed)."""
    allowed = cache.body_edits_allowed(settings)
    if allowed is None:
        allowed = shown_on_own_pages(env, parsed)
        cache.save_body_edits_allowed(settings, allowed)
    return allowed


def shown_on_own_pages(env: jinja2.Environment, parsed: ParsedFiles | None = None) -> bool:
    """Whether the site's templates show an article's body on its own page alone (and in the
    downloads, which `rebuild` patches), and that page reads no more than its recorded context
    holds: of its terms, what names them; nothing of the `archive` global (it renders against
    an empty model). Then edits to bodies alone may take the quick path. Found from what the
    templates read, by the same reading as the page fingerprint (`pageinputs`)."""
    # Pages are made with the theme's templates but its partials (`_name.html`), which a site's
    # own templates replace by name.
    pages = sorted(path.name for path in (THEME_DIR / "templates").iterdir())
    parsed = {} if parsed is None else parsed
    for template in [name for name in pages if not name.startswith("_")]:
        try:
            if template == ARTICLE_TEMPLATE:
                reads = template_reads(env, template, parsed)
                if reads.archive_parts or reads.counts_terms:
                    return False
            if _shows_body(names_read(env, template, template == ARTICLE_TEMPLATE, parsed)):
                return False
        except (Uncacheable, jinja2.TemplateError, UnicodeError, OSError):
            return False  # the page fingerprint cannot describe it either
    return True


def rebuild(
    config: Config,
    site_dir: Path,
    strict: bool,
    cache: BuildCache,
    settings: str,
    files: ContentFiles,
    render_limit: int,
) -> QuickBuild | None:
    """Bring the site up to date after body-only edits (`files`: the build's `content_stats`);
    None when the full build must run instead. Raises TooMuchWork when more than
    `render_limit` articles changed: it renders their pages in one process, the full build on
    every core (and the saved engine would refuse them too)."""
    layout = cache.search_shards() if config.search else {}
    if layout is None or settings != cache.last_settings():
        return None
    built = cache.built()
    if files.keys() != built.keys():
        return None
    changed: dict[str, Article] = {}
    for source, (path, stat) in files.items():
        published = built[source][0]
        if cache.unchanged_stat(source, stat, strict) and cache.recorded_sha(source) == published:
            continue
        article, problems = cache.read_article(Path(path), source, strict)
        if article is None or problems:
            return None  # the full build reports them
        if cache.article_sha[source] != published:
            changed[source] = article
    for source, article in changed.items():
        _, shape, page = built[source]
        if shape is None or article_shape(article) != shape or (page is None) != article.draft:
            return None
    pages_due = sum(1 for article in changed.values() if not article.draft)
    if pages_due > render_limit:  # bodies alone: the engine would render as many
        raise TooMuchWork(f"{pages_due} changed articles")
    # An article page reads nothing of the archive global (`shown_on_own_pages`), so it
    # renders against an empty model.
    empty = build_archive([], Authority({kind: {} for kind in KINDS}), config.related_articles)
    renderer = Renderer(config, empty, compiled_templates(config))
    if not quick_path_allowed(cache, settings, renderer.env):
        return None
    if not cache.pages_in_place(site_dir):  # last: a tag edit is turned away above, sooner
        return None
    pages: dict[str, Page] = {}  # source -> its article page
    try:
        for source in changed:
            path, context = built[source][2], cache.built_context(source)
            if path is not None and context is not None:
                loaded = _ContextUnpickler(context, changed, cache, built).load()
                if not isinstance(loaded, dict) or loaded.get("article") is not changed[source]:
                    raise TypeError(f"{source}: not the context of its article page")
                pages[source] = Page(path, ARTICLE_TEMPLATE, loaded)
        records = _search_records(layout, pages, changed, cache, built)
    except _Stale:
        return None
    except Exception as error:  # a context that does not unpickle to a page's: a damaged row
        raise CacheDamaged(f"built: {type(error).__name__}: {error}") from None
    index = None
    if records:
        index = reindex_shards(records, list(layout), config.language, config.root / CACHE_DIR)
        if index is None:
            return None
    # The citations a body edit leaves as they were: formatting the first costs ~30 ms.
    cache.prefill_bodies(list(pages.values()), renderer.bodies, config)
    rendered = dict(render_all(list(pages.values()), renderer))
    archive_json = _archive_json(site_dir, changed)
    if archive_json is None:
        return None
    rendered["archive.json"] = archive_json
    if config.downloads:
        downloads = _downloads(site_dir, changed, renderer, rendered)
        if downloads is None:
            return None
        rendered.update(downloads)
    # Before the first file is replaced: if the build dies now, the next one is a full build
    # that renders these pages again.
    old_index = [p for shard in records for p in cache.recorded_pages(f"{INDEX_DIR}/{shard}/")]
    cache.forget_build()
    cache.mark_engine_stale(list(rendered))  # it knows these pages as they were
    cache.forget_page_records([*rendered, *old_index])
    cache.commit()
    written = [path for path, data in rendered.items() if write_atomically(site_dir / path, data)]
    cache.record_rewritten({path: len(data) for path, data in rendered.items()})
    quick = QuickBuild(written)
    if index is not None:
        prefixes = tuple(f"{INDEX_DIR}/{shard}/" for shard in records)
        new_index = {path: src for path, src in index.files.items() if path.startswith(prefixes)}
        swapped = tuple(f"{INDEX_DIR}/{shard}/" for shard in swap_shards(new_index, site_dir))
        cache.record_rewritten({path: src.stat().st_size for path, src in new_index.items()})
        quick.written += sorted(path for path in new_index if path.startswith(swapped))
        quick.removed = len(set(old_index) - set(new_index))
        quick.files_added = len(new_index) - len(old_index)
        quick.search = f"{len(index.rebuilt)} of {index.shards} search shards re-indexed"
    cache.store_bodies({changed[s].path: changed[s] for s in pages}, renderer.bodies)
    shas = {source: row[0] for source, row in built.items()} | cache.article_sha
    rows = []
    for source in changed:
        _, shape, path = built[source]
        page = pages.get(source)
        context = _pickle_context(page.context, shas) if page else None
        rows.append((source, shas[source], shape if context or not page else None, path, context))
    cache.store_built(rows)
    return quick


def _archive_json(site_dir: Path, changed: dict[str, Article]) -> bytes | None:
    """archive.json with the edited articles' word counts (the one field a body changes)."""
    try:
        data = (site_dir / "archive.json").read_bytes()
    except OSError:
        return None
    counts = {a.path: a.word_count for a in changed.values() if not a.draft}
    return archive_json_with_word_counts(data, counts)


def _downloads(
    site_dir: Path, changed: dict[str, Article], renderer: Renderer, rendered: dict[str, bytes]
) -> dict[str, bytes] | None:
    """The downloads a body shows in (the CSV's word count, the database's body, text and word
    count) and the data page with their sizes; None when a built one cannot be read."""
    edited = [article for article in changed.values() if not article.draft]
    if not edited:
        return {}
    counts = {article.path: article.word_count for article in edited}
    try:
        table = (site_dir / "archive.csv").read_bytes().decode("utf-8")
        files = {
            "archive.csv": csv_with_word_counts(table, counts).encode("utf-8"),
            "archive.sqlite": sqlite_with_bodies(
                (site_dir / "archive.sqlite").read_bytes(), edited
            ),
        }
        made = rendered | files
        page = with_sizes(
            # only bodies changed, so the originals published are the site's as it stands
            data_page(originals=(site_dir / "manifest-sha256.txt").is_file()),
            lambda path: len(made[path]) if path in made else (site_dir / path).stat().st_size,
        )
    except (OSError, UnicodeError, ValueError, IndexError, sqlite3.Error):
        return None
    files[DATA_PAGE] = renderer.render(page)
    return files


def _search_records(
    layout: dict[str, list[str]],
    pages: dict[str, Page],
    changed: dict[str, Article],
    cache: BuildCache,
    built: dict,
) -> dict[str, list[Record]]:
    """The search records of every shard holding an edited article (drafts are not indexed),
    rebuilt from the recorded page contexts: their terms and publisher are all a record needs."""
    if not layout:  # search is off
        return {}
    shard_of = {source: shard for shard, sources in layout.items() for source in sources}
    records: dict[str, list[Record]] = {}
    for shard in dict.fromkeys(shard_of[source] for source in pages):
        members = []
        for source in layout[shard]:
            if source in pages:
                context = pages[source].context
            else:
                blob = cache.built_context(source)
                if blob is None:
                    raise _Stale(source)
                context = _ContextUnpickler(blob, changed, cache, built, only=source).load()
            members.append(record_of(context["article"], context["terms"], context["publisher"]))
        records[shard] = members
    return records
