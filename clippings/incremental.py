"""The incremental engine: keep the model, the page plan and each page's fingerprint, and redo
only what a change touches. `serve` keeps it in memory; every full CLI build saves it in the build
cache (`cache.save_engine`) and the next CLI build restores it (`build._update_in_place`).

The result always equals a clean `build_site` byte for byte; what changes is how little work
gets there:

- Content files are re-read only when their `files.stat_key` changed (or the watcher names them).
- An edit that keeps an article's place in the graph (same slug, date, tags, publication, aliases,
  draft flag, original file and its hash) swaps the new Article object into the existing Archive
  and into the contexts of the pages holding it (`PageRefs`: article source or term path →
  pages). Adding, deleting, renaming, re-dating or re-tagging updates the model in place
  (`model_update.update_archive`; past `MODEL_UPDATE_LIMIT` articles it is made anew) and plans
  the site again, reusing the pages of every term the update left alone (`_Planner`).
- Every page gets the build's own fingerprint (`pageinputs.PageInputs`: its templates, and the
  fields of the articles and terms in its context that its templates read). Only pages planned
  with other values (`_same_page`: articles and terms by identity, sound because the model assigns
  new lists and never changes one a context holds), or holding a term whose read parts changed
  (`_forget_terms`), are fingerprinted again; `pageinputs.KnownDigests`, saved with the engine,
  memoises article and term digests by identity. Only pages whose fingerprint changed are
  rendered; every changed file is written beside its target and all are renamed only when all
  are written (`output.replace_files`).
- The saved engine is a checkpoint: a CLI build saves it again only when replaying its changes
  would cost more than the save (`Outcome.save_due`: the model made anew, every page
  fingerprinted, more than `REPLAY_FILES` files changed, static files changed, or pages no record
  describes). Otherwise the next build restores the older state, re-reads every file changed
  since, takes the cache's page records as what the site holds (`adopt_site`) and fingerprints
  again the pages rendered since the save; pages the quick path rewrote meanwhile are rendered
  again (`distrust`).
- A template change fingerprints every page again; settings, authority and `raw/` changes rebuild
  the model (`serve`) or make the CLI build in full. For `serve`, the downloads made from every
  article can be deferred until saves pause (`build(defer_downloads=True)`,
  `deferred_downloads`).
"""

from __future__ import annotations

import contextlib
import dataclasses
import functools
import hashlib
import itertools
import math
import os
import time
from collections.abc import Callable, Collection, Iterable, Iterator, Mapping
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from markupsafe import Markup

from clippings.archive import Archive, Tags, Term, build_archive
from clippings.authority import KINDS, Authority, load_authority
from clippings.cache import (
    CACHE_DIR,
    ContentFiles,
    TooMuchWork,
    compiled_templates,
    digest,
    fingerprint_base,
    mark_site_changed,
)
from clippings.config import Config, load_config
from clippings.content import Article, content_files, load_article_file, read_article
from clippings.errors import BuildError, Problem
from clippings.exports import ArticleLines, Download, Exporting
from clippings.files import StatKey, folder_stats, named_file, read_regular, stat_key
from clippings.model_update import memberships, update_archive
from clippings.originals import Original
from clippings.output import build_lock, replace_files, safe_relative, same_bytes
from clippings.pageinputs import SEQUENCES, KnownDigests, PageInputs, Reads
from clippings.plan import check_output_dir, check_page_paths, static_files
from clippings.render import (
    DATA_PAGE,
    THEME_DIR,
    Page,
    Pager,
    Renderer,
    Site,
    archive_wide,
    render_all,
    with_sizes,
)
from clippings.search import INDEX_DIR

# Fields that place an article in the graph (URL, order, terms, years, related); any other edit
# leaves the model's shape alone and is applied by swapping the Article object in place.
# What places an article in the graph, and what its published original is planned from.
_STRUCTURAL = (
    *("slug", "date", "draft", "people", "countries", "sources", "publication", "aliases"),
    *("source_file", "source_sha256"),
)


# Past this many articles added or removed (an edit is both), the model is made anew rather than
# updated: an update re-ranks the related articles of every article sharing a term with a changed
# one, ~13 ms a changed article at 10,000 articles (both grow with the archive), and modelling
# anew takes 1.3 s there, with every page fingerprinted again.
MODEL_UPDATE_LIMIT = 100

# A restored engine reads again every content file changed since it was saved, and updates the
# model for each: past this many, saving it costs a CLI build less than the replays would.
REPLAY_FILES = 16


@dataclass
class _SourceFile:
    stat: StatKey | None  # `files.stat_key`: looked at again only when this changes
    article: Article | None
    problems: list[Problem]
    digest: str | None = None  # of the bytes the article was parsed from (`cache.digest`)


@dataclass
class Outcome:
    """What one rebuild did: site-relative paths written and removed, and how much work it took."""

    written: list[str]
    removed: list[str]
    rendered: int
    model_rebuilt: bool
    seconds: float
    warnings: list[Problem] = field(default_factory=list)
    site_replaced: bool = False  # another build replaced the site: every open page may differ
    sizes: dict[str, int] = field(default_factory=dict)  # of every page rendered
    rendered_pages: list[Page] = field(default_factory=list)
    # content files read again, with the stat and hash they were read under
    reread: list[tuple[str, StatKey | None, str | None]] = field(default_factory=list)
    deferred: int = 0  # downloads not looked at, for a later build (`build(defer_downloads=True)`)
    # A CLI build: replaying this build's changes from the engine as last saved would cost
    # more than saving it now (see `Rebuilder.adopt_site`).
    save_due: bool = True


class PageRefs:
    """What page contexts hold: article source or term path -> the paths of the pages holding it.
    Kept and pickled as one string of page numbers per key, split into a set when first asked
    (or added to): a set per key was ~100,000 objects for the unpickler at 10,000 articles
    (0.07 s of every CLI build that loads it), and 70 MB at 100,000 when the engine is saved."""

    def __init__(self) -> None:
        self._sets: dict[str, set[str]] = {}
        self._numbered: dict[str, str] = {}  # key -> numbers into `_paths`, space-separated
        self._paths: list[str] = []

    @classmethod
    def taking(cls, lists: dict[str, list[str]]) -> PageRefs:
        """A full build's references (each page once per key), numbered at once: `lists` is
        emptied as they are, so the build never holds both."""
        refs = cls()
        number: dict[str, str] = {}
        while lists:
            key, paths = lists.popitem()
            numbers = []
            for path in paths:
                found = number.get(path)
                if found is None:
                    found = number[path] = str(len(number))
                numbers.append(found)
            refs._numbered[key] = " ".join(numbers)
        refs._paths = list(number)  # in the order numbered
        return refs

    def get(self, key: str) -> Collection[str]:
        numbers = self._numbered.pop(key, None)
        if numbers is not None:
            paths = self._paths
            held = self._sets.setdefault(key, set())
            held.update([paths[int(number)] for number in numbers.split()])
        return self._sets.get(key, ())

    def add(self, key: str, path: str) -> None:
        """Without splitting what was saved: a download holding every article adds to all."""
        held = self._sets.get(key)
        if held is None:
            self._sets[key] = {path}
        else:
            held.add(path)

    def __getstate__(self) -> dict[str, Any]:
        if self._sets:  # numbered anew, all of them
            lists = {key: list(self.get(key)) for key in [*self._sets, *self._numbered]}
            return PageRefs.taking(lists).__getstate__()
        return {"paths": self._paths, "numbered": self._numbered}

    def __setstate__(self, state: dict[str, Any]) -> None:
        self._sets, self._numbered, self._paths = {}, state["numbered"], state["paths"]


# Fills a dict with the cached HTML of what pages show (`cache.BuildCache.prefill_bodies`).
CachedHTML = Callable[[list[Page], dict[str, str]], None]


class LiveRenderer(Renderer):
    """The build's renderer, with Markdown cached per Article object (an edit keeps its path)."""

    def __init__(
        self, config: Config, archive: Archive, bytecode_dir: Path | None, lines: ArticleLines
    ) -> None:
        super().__init__(config, archive, bytecode_dir)
        self._live_bodies: dict[str, tuple[Article, str]] = {}
        self.exporting = Exporting(config.site_url, config.title, lines)

    def body_html(self, article: Article) -> Markup:
        cached = self._live_bodies.get(article.source)
        if cached is None or cached[0] is not article:
            cached = (article, self.markdown.article_html(article))
            self._live_bodies[article.source] = cached
        return Markup(cached[1])

    def take_cached(self, pages: list[Page], cached: CachedHTML) -> None:
        """The bodies and citations of these pages the build cache holds (a CLI build: a
        process's first Markdown conversion and first citation cost ~30 ms each)."""
        found: dict[str, str] = {}
        cached(pages, found)  # bodies by article path, citations by `citation_key`
        for page in pages:
            article = page.context.get("article")
            if type(article) is Article and article.path in found:
                self._live_bodies[article.source] = (article, found.pop(article.path))
        self.bodies.update(found)

    def use_archive(self, archive: Archive) -> None:
        self.archive = archive
        self.env.globals["archive"] = archive


def _structural_key(article: Article) -> tuple:
    return tuple(getattr(article, name) for name in _STRUCTURAL)


def _terms_of(archive: Archive, articles: list[Article]) -> list[Term]:
    """The terms these articles hold in the archive (their publisher's too); drafts hold none."""
    return [term for a in articles if not a.draft for term in memberships(archive, a)]


def _cooccurring(terms: list[Term]) -> list[Term]:
    return list(dict.fromkeys(other for term in terms for other, _ in term.cooccurring))


def _counts(term: Term) -> tuple[int, str | None, str | None]:
    """What a page shows of a term besides its name and its lists."""
    return term.count, term.first_date, term.last_date


# Term fields an edit changes in place (see `_forget_terms`): a same-shape edit only the
# articles listed; a structural one their number and dates, and the co-occurring terms.
_LISTS = frozenset({"articles", "published", "cited"})
_LINKS = frozenset({"cooccurring"})
_COUNTED = _LISTS | _LINKS | {"count", "first_date", "last_date"}
_PLAIN = frozenset({str, int, float, bool, type(None)})


def _same_page(old: Page | None, new: Page) -> bool:
    """Whether a page planned again holds the very values it held (articles and terms by
    identity). Sound because the model never changes a list or dict a context holds in place:
    it assigns a new one (`model_update`); terms, changed in place, are `_forget_terms`' part."""
    return old is not None and old.template == new.template and _same(old.context, new.context)


def _same(old: Any, new: Any) -> bool:
    if old is new:
        return True
    kind = type(old)
    if kind is not type(new):
        return False
    if kind in _PLAIN or kind is Original or kind is Download:
        return old == new
    if kind in SEQUENCES:
        return len(old) == len(new) and all(map(_same, old, new))
    if kind is dict:
        return old.keys() == new.keys() and all(
            _same(value, new[key]) for key, value in old.items()
        )
    if kind is Pager:
        return (old.number, old.pages, old.first_index, old.previous, old.next) == (
            new.number,
            new.pages,
            new.first_index,
            new.previous,
            new.next,
        ) and _same(old.items, new.items)
    return False  # articles and terms: only the same object is the same


def _replace_all(items: list, old: object, new: object) -> None:
    for index, item in enumerate(items):
        if item is old:
            items[index] = new


def _substitute(archive: Archive, old: Article, new: Article) -> None:
    """Put `new` wherever the archive holds `old` (same place in the graph, so no order changes)."""
    for items in (archive.articles, archive.drafts, archive.years.get(old.year, [])):
        _replace_all(items, old, new)
    own = archive.article_terms.get(old.path, {})
    terms: list[Term] = [term for kind in KINDS for term in own.get(kind, [])]
    if old.path in archive.publishers:
        terms.append(archive.publishers[old.path])
    for term in terms:
        for items in (term.articles, term.published, term.cited):
            _replace_all(items, old, new)
    for related in archive.related.values():
        _replace_all(related, old, new)
    for neighbours in (archive.previous, archive.following):
        for key, value in neighbours.items():
            if value is old:
                neighbours[key] = new


_CONTAINERS = (list, dict, Pager)  # what a page context holds articles in


def _replace_in_context(
    container: list | dict | Pager, old: Article, new: Article, seen: set[int]
) -> None:
    """Swap `old` for `new` inside a page context's lists, dicts and pagers, in place. `seen`
    holds the containers done: pages share them (the downloads share one list of every
    article, which walked once per page took most of a body edit's rebuild at 10,000). Items
    are looked at in the loop, not by a call each, and an article's `Tags` (the downloads hold
    10,000) are passed over: they hold terms, never articles."""
    if id(container) in seen:
        return
    seen.add(id(container))
    if isinstance(container, Pager):
        _replace_in_context(container.items, old, new, seen)
        return
    pairs = container.items() if isinstance(container, dict) else enumerate(container)
    for key, item in pairs:
        if item is old:
            container[key] = new  # type: ignore[index]
        elif isinstance(item, _CONTAINERS) and type(item) is not Tags:  # Tags hold terms only
            _replace_in_context(item, old, new, seen)


def _detached(value: Any) -> Any:
    """A copy of a page context's lists and dicts (not of the objects in them), which the
    engine's swaps of edited articles then leave alone (see `_replace_in_context`)."""
    if type(value) is Tags:  # never changed in place
        return value
    if isinstance(value, list):
        return [_detached(item) for item in value]
    if isinstance(value, dict):
        return {key: _detached(item) for key, item in value.items()}
    return value


# Downloads rendered away from the lock: path -> (the fingerprint they were rendered for, bytes).
Prerendered = dict[str, tuple[str, bytes]]


class Rebuilder:
    """Holds the last good build in memory; `build(changed)` brings `site_dir` up to date."""

    def __init__(
        self,
        config_path: Path,
        site_dir: Path | None = None,
        overrides: dict[str, Any] | None = None,
        strict: bool = False,
    ) -> None:
        self.config_path = config_path
        self.overrides = overrides or {}
        self.strict = strict
        self._site_dir_option = site_dir
        self.config: Config | None = None
        self.site_dir = site_dir or Path("_site")
        self._authority: Authority | None = None
        self._sources: dict[str, _SourceFile] = {}  # content file path -> what it holds
        self._walk_problems: list[Problem] = []  # of the last walk of content/
        self._archive: Archive | None = None
        self._in_model: dict[str, Article] = {}  # source -> the Article object the archive holds
        self._plan: dict[str, Page] = {}
        self._pages: list[Page] = []  # the plan as planned, two pages on one path included
        # article source -> paths of the pages whose context holds it
        self._refs = PageRefs()
        self._fingerprints: dict[str, str | None] = {}
        self._undescribed: set[str] = set()  # the paths whose fingerprint is None
        self._known = KnownDigests()  # digests kept between rebuilds (and when saved)
        self._lines = ArticleLines()  # archive.json's, the same way
        self._reread: list[tuple[str, StatKey | None, str | None]] = []  # see `Outcome`
        self._template_reads: dict[str, Reads | None] = {}  # until a template file changes
        self._always: set[str] = set()  # pages that read `archive` or cannot be fingerprinted
        self._assets: Collection[str] = ()
        self._templates_seen: tuple = ()  # (path, mtime, size) of every template file
        self._renderer: LiveRenderer | None = None
        self._digests: dict[str, bytes] = {}  # what each output file holds now
        # Pages to fingerprint again (None: all); kept across a failed build so none is missed.
        self._pending: set[str] | None = None
        self._stale_plan = True
        self._changed_terms: set[str] = set()  # paths of the terms changed since the last plan
        self._reset_failed = False
        self._site_identity: tuple[int, int] | None = None
        # As this engine was saved (`adopt_site`): what a save must be due to change.
        self._saved_assets: Collection[str] = ()
        self._saved_undescribed: set[str] = set()
        self._unplanned: set[str] = set()  # recorded pages it did not plan (`adopt_site`)

    # -- inputs ------------------------------------------------------------------------------

    @property
    def archive(self) -> Archive | None:
        """The model of the last successful build (serve indexes it for search)."""
        return self._archive

    @property
    def fingerprints(self) -> dict[str, str | None]:
        """Each planned page's fingerprint as last rendered or carried over."""
        return self._fingerprints

    @property
    def outputs(self) -> int:
        """How many files the plan and the static folders give (the search index apart)."""
        return len(self._pages) + len(self._assets)

    def watched_paths(self) -> list[Path]:
        """Folders and files whose changes matter (absolute); valid after the first build."""
        config = self.config or load_config(self.config_path, self.overrides)
        paths = [self.config_path, config.path("authority")]
        folders = ("content_dir", "templates_dir", "static_dir", "raw_dir")
        paths += [config.path(name) for name in folders]
        return [path.resolve() for path in paths]

    def _needs_reset(self, changed: Collection[Path] | None) -> bool:
        if self.config is None or changed is None or self._reset_failed:
            return True
        settings = {self.config_path.resolve(), self.config.path("authority").resolve()}
        raw = self.config.path("raw_dir").resolve()  # originals are planned with their stat
        return any(path in settings or path.is_relative_to(raw) for path in changed)

    def _reset(self) -> None:
        self._reset_failed = True  # until the settings load: keep retrying them
        config = load_config(self.config_path, self.overrides)
        site_dir = self._site_dir_option or config.path("output_dir")
        check_output_dir(config, site_dir)
        authority = load_authority(config.path("authority"), config.authority)
        self.config, self.site_dir, self._authority = config, site_dir, authority
        self._sources.clear()
        self._archive = None
        self._in_model = {}
        self._template_reads = {}
        self._templates_seen = ()
        self._renderer = None
        self._pending = None
        self._reset_failed = False

    def _read(
        self, path: str, content_dir: Path, force: bool = False, key: StatKey | None = None
    ) -> None:
        """Re-read one content file if it is new, named by the watcher, or its stat changed
        (`key`: as the build's listing took it, else taken now)."""
        if key is None:
            with contextlib.suppress(OSError):  # e.g. a symlink loop: reading it reports it
                key = stat_key(os.stat(path))
        cached = self._sources.get(path)
        if cached is not None and cached.stat == key and not force:
            return
        assert self.config is not None
        data: bytes | None = None
        sha: str | None = None
        try:  # hashed and parsed from one read: a file saved in between is read again next time
            data = read_regular(path)
            sha = digest(data)
        except OSError:
            pass  # parsing reports it
        # The same bytes under another stat (a fresh clone, a restored cache, a save that
        # changed nothing) keep their article: reading 10,000 files costs a fraction of parsing
        # them. A symlink is parsed, which checks where it points.
        if cached and cached.article and sha and sha == cached.digest and not os.path.islink(path):
            self._sources[path] = dataclasses.replace(cached, stat=key)
            self._reread.append((path, key, sha))  # the build cache learns its new stat
            return
        article, problems = load_article_file(
            Path(path),
            content_dir.resolve(),
            self.config.root,
            self.strict,
            functools.partial(read_article, data=data),
        )
        if cached is not None and article is not None and article == cached.article:
            article = cached.article  # same content: keep the object, so nothing downstream changes
        self._sources[path] = _SourceFile(key, article, problems, sha)
        self._reread.append((path, key, sha))

    def _load(
        self, changed: Collection[Path] | None, listed: ContentFiles | None = None
    ) -> list[Problem]:
        """Bring the per-file cache up to date; returns load warnings, raises on errors.
        `listed`: every content file as the CLI build's first walk found it (`content_stats`),
        used instead of walking again when it found no problem."""
        assert self.config is not None
        content_dir = self.config.path("content_dir")
        if not content_dir.is_dir():
            raise BuildError([Problem(str(content_dir), None, "content folder not found")])
        root = content_dir.resolve()
        named = {p: named_file(p, root) for p in changed or () if p.is_relative_to(root)}
        rescan = (
            changed is None
            or self._sources == {}
            or self._walk_problems != []  # walk again until what it reported is gone
            or any(p.suffix != ".md" or kind == "odd" for p, kind in named.items())
        )
        present: dict[str, StatKey | None] = {}
        if rescan and listed is not None and all(stat for _, stat in listed.values()):
            present = dict(listed.values())
            self._walk_problems = listed.warnings
        elif rescan:  # a whole folder may have moved: look at all
            paths, self._walk_problems = content_files(content_dir, self.config.root)
            present = dict.fromkeys(map(str, paths))
        else:  # the watcher named these files: walk only them, by the walk's own rule
            for path, kind in named.items():
                name = str(content_dir / path.relative_to(root))
                if kind == "file":
                    present[name] = None
                else:
                    self._sources.pop(name, None)
        if rescan:
            for gone in self._sources.keys() - present.keys():
                del self._sources[gone]
        for path, key in present.items():
            self._read(path, content_dir, not rescan, key)
        problems = [p for source in self._sources.values() for p in source.problems]
        problems += self._walk_problems
        errors = [p for p in problems if not p.warning]
        if errors:
            raise BuildError(errors)
        return [p for p in problems if p.warning]

    def _current_articles(self) -> dict[str, Article]:
        """source -> the Article its file holds now (files that hold none left out)."""
        return {s.article.source: s.article for s in self._sources.values() if s.article}

    def _added(self, current: dict[str, Article]) -> list[Article]:
        """The articles of `current` the model does not hold: new, or edited (a new object)."""
        return [new for source, new in current.items() if self._in_model.get(source) is not new]

    # -- model and plan ----------------------------------------------------------------------

    def _sync_model(self) -> tuple[list[tuple[Article, Article]], bool]:
        """Update the archive to the loaded articles: swap edited ones in, or rebuild it."""
        assert self.config is not None and self._authority is not None
        current = self._current_articles()
        same_shape = self._archive is not None and current.keys() == self._in_model.keys()
        swaps = [
            (self._in_model[source], article)
            for source, article in current.items()
            if same_shape and self._in_model[source] is not article
        ]
        same_shape = same_shape and all(
            _structural_key(old) == _structural_key(new) for old, new in swaps
        )
        removed: list[Article] = []
        added: list[Article] = []
        if not same_shape and self._archive is not None:
            removed = [
                old for source, old in self._in_model.items() if current.get(source) is not old
            ]
            added = self._added(current)
        if same_shape:
            assert self._archive is not None
            # Same tags, dates and names: only the terms' lists of articles hold other objects.
            self._forget_terms(_terms_of(self._archive, [old for old, _ in swaps]), _LISTS)
            for old, new in swaps:
                _substitute(self._archive, old, new)
        elif self._archive is not None and max(len(removed), len(added)) <= MODEL_UPDATE_LIMIT:
            # update only what the changed articles touch
            limit = self.config.related_articles
            before = _terms_of(self._archive, removed)
            names = {id(term): (term.name, term.path) for term in before}
            counts = {id(term): _counts(term) for term in before}
            cooccurring = {id(term): term.cooccurring for term in before}  # replaced, not changed
            update_archive(self._archive, removed, added, self._authority, limit)
            terms = list(dict.fromkeys([*before, *_terms_of(self._archive, added)]))
            self._changed_terms |= {term.path for term in terms}
            if any(names.get(id(t), (t.name, t.path)) != (t.name, t.path) for t in terms):
                # A term shows its co-occurring terms by name: one renamed (a new spelling)
                # changes terms no edited article holds, on pages that hold none of them.
                self._known.forget_terms(None)
                self._pending = None
            else:
                # Terms whose count or dates changed show them on the pages of the terms they
                # co-occur with; the others only list other articles and co-occurring terms.
                counted = [t for t in terms if counts.get(id(t)) != _counts(t)]
                listed = [t for t in terms if counts.get(id(t)) == _counts(t)]
                linked = [o for t in counted for o, _ in cooccurring.get(id(t), [])]
                linked += _cooccurring(counted)
                self._forget_terms(counted, _COUNTED, linked)
                self._forget_terms(listed, _LISTS | _LINKS)
            swaps = []
        else:  # the first build, or more changes than updating the model is worth
            in_file_order = [
                s.article for _, s in sorted(self._sources.items(), key=_by_parts) if s.article
            ]
            archive = build_archive(in_file_order, self._authority, self.config.related_articles)
            self._archive = archive
            swaps = []
        self._in_model = current
        return swaps, not same_shape

    def _replan(self, archive: Archive) -> None:
        """Plan every page again; the pages that are new or hold other values than before are
        fingerprinted again (the terms an update changed in place are found by `_forget_terms`)."""
        assert self.config is not None
        kept = {
            path: pages
            for path, pages in _pages_by_term(self._pages).items()
            if path not in self._changed_terms
        }
        before = self._plan
        planner = _Planner(archive, self.config, kept, before)
        self._pages = list(planner.pages())  # for `check_page_paths`
        plan: dict[str, Page] = {}
        for page in self._pages:
            if page.path not in before:  # the others were checked when first planned
                safe_relative(page.path)
            plan.setdefault(page.path, page)  # two on one path: `check_page_paths` names them
        if self._pending is not None:
            self._pending |= {
                path
                for path, page in plan.items()
                if before.get(path) is not page and not _same_page(before.get(path), page)
            }
        self._plan = plan
        self._changed_terms = set()

    def _forget_terms(
        self, terms: list[Term], fields: frozenset[str], linked: Collection[Term] = ()
    ) -> None:
        """Terms an update changed in place, in these `fields`: forget their digests and
        fingerprint again the pages holding them whose templates read those fields, and the
        pages holding the `linked` terms (co-occurring with them) that show co-occurring terms."""
        self._known.forget_terms(terms, linked)
        if self._pending is None:
            return
        changes: list[tuple[Collection[Term], frozenset[str]]] = [(terms, fields), (linked, _LINKS)]
        for changed, read in changes:
            for term in changed:
                for path in self._refs.get(term.path):
                    page = self._plan.get(path)
                    if page is not None and self._reads_any(page, read):
                        self._pending.add(path)

    def _reads_any(self, page: Page, fields: frozenset[str]) -> bool:
        """Whether the page's templates may read any of these term fields."""
        reads = self._template_reads.get(page.template)
        return reads is None or not fields.isdisjoint(reads.term_fields)

    def _patch_plan(self, archive: Archive, swaps: list[tuple[Article, Article]]) -> set[str]:
        """Apply swapped articles to the pages holding them; returns the paths to fingerprint again."""
        assert self.config is not None
        touched: set[str] = set()
        for old, new in swaps:
            seen: set[int] = set()
            for path in self._refs.get(old.source):
                page = self._plan.get(path)  # a page dropped from the plan may still be named
                if page is None:
                    continue
                _replace_in_context(page.context, old, new, seen)
                touched.add(path)
        return touched

    # -- fingerprints ------------------------------------------------------------------------

    def _template_files(self) -> tuple:
        """What says a template may have changed; editors' lock files are not templates."""
        assert self.config is not None
        folders = (self.config.path("templates_dir"), THEME_DIR / "templates")
        return tuple(stat for folder in folders for stat in folder_stats(folder))

    # -- output ------------------------------------------------------------------------------

    def _differs(self, path: str, data: bytes) -> bool:
        """True when the site's file does not hold these bytes (known by digest, else read)."""
        digest = hashlib.blake2b(data, digest_size=16).digest()
        if self._digests.get(path) == digest:
            return False
        if path not in self._digests and same_bytes(self.site_dir / path, data):
            self._digests[path] = digest
            return False
        return True

    def _remove(self, keep: Iterable[str]) -> list[str]:
        """Delete files the site no longer has (and any stray file found at start-up)."""
        keep = set(keep)
        known = set(self._digests) | set(self._fingerprints) | set(self._assets)
        if not self._fingerprints and self.site_dir.is_dir():
            known |= {
                p.relative_to(self.site_dir).as_posix()
                for p in self.site_dir.rglob("*")
                if not p.is_dir()
            }
        # The search index is not a page: serve refreshes it apart (search.refresh_live_index).
        removed = sorted(p for p in known - keep if not p.startswith(INDEX_DIR + "/"))
        for path in removed:
            target = self.site_dir / path
            target.unlink(missing_ok=True)
            self._digests.pop(path, None)
            _prune_empty(target.parent, self.site_dir)
        return removed

    # -- the rebuild -------------------------------------------------------------------------

    def build(
        self,
        changed: Collection[Path] | None = None,
        defer_downloads: bool = False,
        prerendered: Prerendered | None = None,
    ) -> Outcome:
        """Rebuild after `changed` files (absolute paths; None = look at everything).

        With `defer_downloads`, the downloads made from every article (`render.archive_wide`:
        seconds at 10,000 articles) are left as they are and counted in `Outcome.deferred`: the
        next build renders them, or takes them from `prerendered` (see `deferred_downloads`)
        when they were rendered for the inputs they have now.
        Raises BuildError listing every problem; the site folder then keeps the last good build.
        The caller holds `build_lock()` (serve does), so a CLI build of the same project waits
        for a rebuild to end, and a rebuild for a CLI build.
        """
        started = time.perf_counter()
        changed = None if changed is None else {Path(p) for p in changed}
        if self._needs_reset(changed):
            self._reset()
            self._fingerprints, self._undescribed = {}, set()
            changed = None
        try:
            return self._build(changed, started, defer_downloads=defer_downloads, ready=prerendered)
        except BuildError:
            raise  # the state is kept for the next rebuild (see `_pending`)
        except BaseException:
            self.invalidate()
            raise

    def build_lock(self) -> AbstractContextManager[None]:
        """The lock a CLI build of this site takes (`output.build_lock`): `serve` holds it for
        each rebuild and search refresh, so the two never interleave (and a rebuild after a CLI
        build sees the site it left). Before the settings load, the project's alone."""
        config, site_dir = self.config, self.site_dir
        if config is None:
            try:
                config = load_config(self.config_path, self.overrides)
                site_dir = self._site_dir_option or config.path("output_dir")
            except BuildError:  # the rebuild reports it
                return build_lock(self.config_path.resolve().parent)
        return build_lock(config.root, site_dir.resolve().parent)

    def _mark_site_changed(self, paths: list[str]) -> None:
        """serve's writes: the next CLI build must not trust its page records (see
        `cache.mark_site_changed`)."""
        assert self.config is not None
        if self.config.cache:
            mark_site_changed(self.config.root / CACHE_DIR)

    def update(
        self,
        before_writing: Callable[[list[str]], None],
        render_limit: int,
        listed: ContentFiles | None = None,
        cached: CachedHTML | None = None,
    ) -> Outcome:
        """A CLI build through a restored engine: look at every file (as `listed`, the build's
        own walk, found them), keep all else held; bodies and citations the build cache holds
        are taken from `cached`. `before_writing(paths)` runs once before the first file is
        replaced. Raises TooMuchWork, before writing anything, when more than `render_limit`
        pages are to be rendered (before the model is touched, when more articles than that
        changed): the full build renders them in parallel."""
        started = time.perf_counter()
        return self._build(
            None, started, before_writing, render_limit, listed=listed, cached=cached
        )

    @classmethod
    def from_build(
        cls,
        config: Config,
        site_dir: Path,
        strict: bool,
        sources: dict[str, tuple[StatKey | None, Article | None, list[Problem], str | None]],
        archive: Archive,
        pages: list[Page],
        fingerprints: dict[str, str | None],
        refs: dict[str, list[str]],
        inputs: PageInputs,
        assets: Collection[str],
    ) -> Rebuilder:
        """The engine as a full build leaves it, to be saved in the build cache: the next CLI
        build restores it and redoes only what changed."""
        engine = cls(config.root / "config.yaml", site_dir, None, strict)
        engine.config = config
        engine._authority = load_authority(config.path("authority"), config.authority)
        engine._sources = {path: _SourceFile(*state) for path, state in sources.items()}
        engine._archive = archive
        engine._in_model = {
            state[1].source: state[1] for state in sources.values() if state[1] is not None
        }
        engine._pages = pages
        engine._plan = {}
        for page in pages:
            engine._plan.setdefault(page.path, page)
        engine._fingerprints = {path: fingerprints.get(path) for path in engine._plan}
        engine._undescribed = {p for p, known in engine._fingerprints.items() if known is None}
        engine._refs = PageRefs.taking(refs)
        engine._template_reads = inputs.template_reads
        engine._known = inputs.known
        # made here too (~0.2 s), from the planned page's own lists: an engine build saves the
        # engine only now and then
        listing = engine._plan["archive.json"].context  # every plan has it (Site.site_files)
        engine._lines.lines(listing["articles"], listing["terms"])
        engine._assets = frozenset(assets)
        engine._templates_seen = engine._template_files()
        engine._pending = set()
        engine._stale_plan = False
        engine._always = {path for path, page in engine._plan.items() if inputs.reads_archive(page)}
        engine._site_identity = _identity(site_dir)
        return engine

    def distrust(self, paths: Collection[str]) -> None:
        """Pages rewritten since this engine was saved: render them again at the next update."""
        for path in paths:
            self._fingerprints.pop(path, None)
        self._undescribed.difference_update(paths)
        if self._pending is not None:
            self._pending |= {path for path in paths if path in self._plan}

    def __getstate__(self) -> dict[str, Any]:
        """For the build cache: the Jinja environment is made again on restore."""
        return {**self.__dict__, "_renderer": None, "_digests": {}}

    def invalidate(self) -> None:
        """After a failure other than a BuildError (a full disk, a bug): trust nothing held in
        memory, so the next rebuild re-reads the settings, every file and the site itself."""
        self._reset_failed = True
        self._digests = {}
        self._fingerprints, self._undescribed = {}, set()
        self._site_identity = None

    def adopt_site(self, records: Mapping[str, tuple[str, int]]) -> None:
        """A restored engine: take the site folder there now as the one it wrote, and its
        pages as the build cache `records` them (path -> fingerprint, size; the caller checked
        every recorded page is in place).

        A CLI build saves the engine only when replaying what changed since the last save
        would cost more than saving (`Outcome.save_due`): the builds in between rendered
        pages this engine does not know of. Their records say what the site holds; what the
        engine holds of the content (each file's stat) makes it read again every file changed
        since it was saved. A page whose record is not the fingerprint it saved (rendered
        since, or not recorded) is fingerprinted again: a file edited back to what it held
        then reads as unchanged. A recorded page it never planned is deleted unless planned."""
        self._site_identity = _identity(self.site_dir)
        saved, undescribed = self._fingerprints, self._undescribed
        self._fingerprints = {path: known for path, (known, _) in records.items()}
        self._fingerprints.update(dict.fromkeys(undescribed))
        if self._pending is not None:
            self._pending |= {
                path
                for path, known in saved.items()
                if known is not None and self._fingerprints.get(path) != known
            }
        self._unplanned = {
            path
            for path in records.keys() - saved.keys()
            if path not in self._assets and not path.startswith(INDEX_DIR + "/")
        }
        self._saved_assets = self._assets
        self._saved_undescribed = set(undescribed)

    def site_replaced(self) -> bool:
        """True when the site folder is not the one this rebuilder last wrote (a CLI build
        swapped in a new one, or it was deleted): what it knows of the files is void."""
        return self._site_identity is not None and _identity(self.site_dir) != self._site_identity

    def _inputs(self) -> PageInputs:
        assert self.config and self._archive is not None and self._renderer is not None
        base = fingerprint_base(self.config, self.site_dir)
        env = self._renderer.env
        return PageInputs(self._archive, env, base, self._template_reads, self._known)

    def deferred_downloads(self) -> tuple[list[tuple[Page, str]], Renderer | None]:
        """The downloads deferred builds left whose inputs changed, each with its fingerprint,
        detached from the model (their lists copied), and the renderer to render them with.
        The caller holds the lock on this rebuilder; rendering them needs none (seconds at
        10,000 articles), and `build(set(), True, prerendered)` then takes each one still
        rendered for the inputs it has, under the lock again."""
        if not self._pending or self._renderer is None:
            return [], None
        inputs = self._inputs()
        work = []
        for path in sorted(self._pending):
            page = self._plan.get(path)
            if page is None or not archive_wide(page):
                continue
            fingerprint = inputs.fingerprint(page)
            if fingerprint is not None and fingerprint != self._fingerprints.get(path):
                work.append(
                    (dataclasses.replace(page, context=_detached(page.context)), fingerprint)
                )
        return work, self._renderer

    def _build(
        self,
        changed: set[Path] | None,
        started: float,
        before_writing: Callable[[list[str]], None] | None = None,
        render_limit: float = math.inf,
        defer_downloads: bool = False,
        ready: Prerendered | None = None,
        listed: ContentFiles | None = None,
        cached: CachedHTML | None = None,
    ) -> Outcome:
        assert self.config is not None
        before_writing = before_writing or self._mark_site_changed
        self._reread = []
        replaced = self.site_replaced()
        if replaced:  # compare every output with what is on disk now
            self._site_identity = None  # noticed once, even if this rebuild fails
            self._digests = {}
            self._fingerprints, self._undescribed = {}, set()
            self._pending = None
        warnings = self._load(changed, listed)
        if render_limit < math.inf:  # each article read anew has its own page to render
            edited = sum(not article.draft for article in self._added(self._current_articles()))
            if edited > render_limit:
                raise TooMuchWork(f"{edited} changed articles")
        made_anew = self._archive is None
        swaps, model_rebuilt = self._sync_model()
        archive = self._archive
        assert archive is not None
        assets, asset_warnings = static_files(self.config)
        self._stale_plan = self._stale_plan or model_rebuilt
        replanned = self._stale_plan
        if self._stale_plan or assets.keys() != self._assets:
            if self._stale_plan:
                self._replan(archive)
            check_page_paths(self._pages, assets)  # the build's own check
            self._stale_plan = False
        else:
            touched = self._patch_plan(archive, swaps)
            if self._pending is not None:
                self._pending |= touched
        template_files = self._template_files()
        if template_files != self._templates_seen:
            # a template changed: start from fresh compiled templates and read them again
            self._renderer = None
            self._template_reads = {}
            self._pending = None
        if self._renderer is None:
            self._renderer = LiveRenderer(
                self.config, archive, compiled_templates(self.config), self._lines
            )
        self._templates_seen = template_files
        self._renderer.use_archive(archive)
        if model_rebuilt:  # forget the digests of every article and term gone
            terms = [term for of_kind in archive.terms.values() for term in of_kind.values()]
            self._known.keep_only(self._in_model.values(), terms, archive.article_terms.values())
        else:  # only the swapped-out articles are gone
            self._known.forget_articles([old for old, _ in swaps])
        inputs = self._inputs()
        everything = self._pending is None
        candidates: Iterable[str] = self._plan
        if everything or replanned:
            self._always = {path for path, page in self._plan.items() if inputs.reads_archive(page)}
        if not everything:  # and the pages that cannot be described, rendered every time
            candidates = (self._pending | self._always | self._undescribed) & self._plan.keys()
        fingerprints: dict[str, str | None] = {}
        to_render: list[Page] = []
        refs = PageRefs() if everything else self._refs
        deferred = set()
        taken: dict[str, bytes] = {}  # from `ready`
        for path in candidates:
            if path == DATA_PAGE:  # last: it shows the size of each download
                continue
            page = self._plan[path]
            defer = defer_downloads and not everything and archive_wide(page)
            if defer and ready is None:
                deferred.add(path)  # not even fingerprinted: that reads every article
                continue
            page_refs: set[str] = set()
            fingerprint = inputs.fingerprint(page, page_refs)
            for source in page_refs:
                refs.add(source, path)
            fingerprints[path] = fingerprint
            if fingerprint is not None and self._fingerprints.get(path) == fingerprint:
                continue
            if not defer or fingerprint is None or ready is None:  # an undescribed one here
                to_render.append(page)
            elif ready.get(path, ("",))[0] == fingerprint:
                taken[path] = ready[path][1]
            else:  # its inputs changed since it was rendered: left for the next catch-up
                deferred.add(path)
                del fingerprints[path]
        if len(to_render) > render_limit:
            raise TooMuchWork(f"{len(to_render)} pages to render")
        if cached is not None and to_render:
            self._renderer.take_cached(to_render, cached)
        rendered = dict(render_all(to_render, self._renderer)) | taken
        if DATA_PAGE in self._plan:
            page = with_sizes(
                self._plan[DATA_PAGE],
                lambda path: (
                    len(rendered[path])
                    if path in rendered
                    else (self.site_dir / path).stat().st_size
                ),
            )
            fingerprint = fingerprints[DATA_PAGE] = inputs.fingerprint(page)
            if fingerprint is None or self._fingerprints.get(DATA_PAGE) != fingerprint:
                rendered.update(render_all([page], self._renderer))
        outputs = rendered | {path: read_regular(source) for path, source in assets.items()}
        changes = {path: data for path, data in outputs.items() if self._differs(path, data)}
        if changes:
            before_writing(list(changes))
        written = replace_files(self.site_dir, changes)
        for path, data in changes.items():
            self._digests[path] = hashlib.blake2b(data, digest_size=16).digest()
        removed = []
        if everything or replanned or assets.keys() != self._assets or self._unplanned:
            # paths may have changed
            removed = self._remove(itertools.chain(self._plan, assets))
            self._assets = frozenset(assets)
            self._unplanned = set()
        self._refs = refs
        if everything:
            self._fingerprints, self._undescribed = fingerprints, set()
        else:
            self._fingerprints.update(fingerprints)
            for path in removed:
                self._fingerprints.pop(path, None)
            self._undescribed.difference_update([*fingerprints, *removed])
        self._undescribed.update(path for path, known in fingerprints.items() if known is None)
        self._pending = deferred
        self._site_identity = _identity(self.site_dir)
        save_due = (
            everything
            or made_anew
            or len(self._reread) > REPLAY_FILES
            or self._assets != self._saved_assets  # a static file gone must be deleted
            or not self._undescribed <= self._saved_undescribed  # so must a page no record names
        )
        return Outcome(
            written=sorted(written),
            removed=removed,
            rendered=len(rendered),
            rendered_pages=to_render,
            reread=self._reread,
            model_rebuilt=model_rebuilt,
            seconds=time.perf_counter() - started,
            warnings=[
                *self.config.warnings,
                *self._authority.warnings,
                *warnings,
                *asset_warnings,
                *archive.warnings,
            ],
            site_replaced=replaced,
            sizes={path: len(data) for path, data in rendered.items()},
            deferred=len(deferred),
            save_due=save_due,
        )


class _Planner(Site):
    """The site's plan, with the pages of each term an update left alone taken as they were
    planned (a term's pages read the term alone: its articles, dates and co-occurring terms),
    and each article page whose context holds the very values it held."""

    def __init__(
        self, archive: Archive, config: Config, kept: dict[str, list[Page]], before: dict[str, Page]
    ) -> None:
        super().__init__(archive, config)
        self.kept = kept
        self.before = before

    def article_page(self, path: str, context: dict[str, Any]) -> Page:
        old = self.before.get(path)
        if (
            old is not None
            and old.template == "article.html"
            and old.context.keys() == context.keys()
        ):
            held = old.context
            if all(value is held[key] or _same(held[key], value) for key, value in context.items()):
                return old
        return super().article_page(path, context)

    def term_pages(self, term: Term) -> Iterator[Page]:
        pages = self.kept.get(term.path)
        if pages and pages[0].context["term"] is term:
            return iter(pages)
        return super().term_pages(term)


def _pages_by_term(pages: list[Page]) -> dict[str, list[Page]]:
    """Each term's pages in a plan, as `Site.term_pages` gave them: under the term's path."""
    grouped: dict[str, list[Page]] = {}
    for page in pages:
        term = page.context.get("term")
        if type(term) is Term and page.path.startswith(term.path):
            grouped.setdefault(term.path, []).append(page)
    return grouped


def _by_parts(item: tuple[str, Any]) -> list[str]:
    """Paths in the order `files.walk_folder` lists them (by path components)."""
    return item[0].split("/")


def _identity(folder: Path) -> tuple[int, int] | None:
    """Which folder this is (device, inode): a build swapping in a new site changes it."""
    try:
        info = os.stat(folder)
    except OSError:
        return None
    return info.st_dev, info.st_ino


def _prune_empty(folder: Path, stop: Path) -> None:
    while folder != stop and folder.is_relative_to(stop):
        try:
            folder.rmdir()
        except OSError:
            return
        folder = folder.parent
