"""Render stage: the archive becomes a list of pages, each rendered with one Jinja environment.

`plan_pages` reads like the list of the site's sections; every page is described (output path,
template, context) before anything is rendered, and rendering a page is a pure function of it.
"""

from __future__ import annotations

import datetime as dt
import os
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from types import FunctionType, MethodType
from typing import Any

import babel
import babel.dates
import jinja2
import jinja2.runtime

from clippings.archive import KIND_SINGULAR, Archive, Term
from clippings.authority import KINDS
from clippings.charts import activity, timeline
from clippings.config import Config
from clippings.content import ARTICLE_FIELDS, Article
from clippings.csl import citations, wayback_lookup
from clippings.errors import BuildError, Problem
from clippings.escape import safe_url, web_url
from clippings.exports import (
    ARTICLE_FILES,
    DOWNLOADS,
    EXPORT_PREFIX,
    Exporting,
    is_export,
    make,
)
from clippings.files import read_regular, reason
from clippings.markdown_body import BLOCK_BREAK, BodyConverter, slow_link_paragraph
from clippings.originals import ORIGINALS_DIR, manifest_text, published_originals, raw_name
from clippings.search import INDEX_DIR, shard_names
from clippings.structured import news_article
from clippings.text import slugify
from clippings.worldmap import WorldMap, coverage_map, neighbourhood_map, stored_shapes

THEME_DIR = Path(__file__).parent / "theme"
KIND_TITLES = {"people": "People", "countries": "Countries", "sources": "Sources"}

# What the functions templates call read of the articles and terms given to them, beyond the
# attributes a template names itself: page fingerprints count these fields (pageinputs.py).
# A function added to the template globals that reads articles or terms must be listed here.
_BODY = frozenset({"body", "body_line", "captions", "caption_places"})
TERM_NAME = frozenset({"kind", "slug", "name", "entity", "path"})  # a term's own name and place
TEMPLATE_READS: dict[str, frozenset[str]] = {
    "excerpt": frozenset({"summary", "dek", "lead"}),
    "date_tag": frozenset({"date", "iso_date"}),
    "body_html": _BODY,
    "body_sections": _BODY,
    "news_article": ARTICLE_FIELDS | TERM_NAME,
    "citations": ARTICLE_FIELDS,
    "sort_key": TERM_NAME,
    "by_kind": TERM_NAME,
    "coverage_map": TERM_NAME | {"count"},
    "neighbourhood_map": TERM_NAME | {"count"},  # the highlighted country's count
}
# What a function reads of its arguments after the first, where less than of the first: a page's
# own article or term passed first is read as declared above, the others only as here.
TEMPLATE_READS_REST: dict[str, frozenset[str]] = {
    "news_article": TERM_NAME,  # the article's terms, by name
    "neighbourhood_map": TERM_NAME,  # the countries named with the term, by name
}
_MARKDOWN_ESCAPE = re.compile(r"\\([\\`*_{}\[\]()#+\-.!<>|])")
_EXCERPT_LENGTH = 280
_MARKDOWN_LINK = re.compile(r"(?<!\\)\[([^\]]*)\]\([^)]*\)")  # [text](url): the text
_DATE_TAGS_KEPT = 10_000  # date tags memoised per renderer: ~2.5 MB at most
DATA_PAGE = "data/index.html"  # rendered last: it shows the size of each download


@dataclass(frozen=True)
class Page:
    """One output file: where it goes, which template makes it, and what the template receives."""

    path: str  # relative to the site folder, e.g. "2018/some-title/index.html"
    template: str
    context: dict[str, Any] = field(default_factory=dict)

    @property
    def root(self) -> str:
        """Relative prefix from this page back to the site root ("" at the root)."""
        return "../" * self.path.count("/")


@dataclass(frozen=True)
class Pager:
    """One page of a paginated list; paths are site-relative directory URLs."""

    number: int
    pages: int
    items: list[Any]
    first_index: int
    previous: str | None
    next: str | None

    @property
    def count(self) -> int:
        """`pages` by its older name, for sites' own templates (docs/templates.md tells why the
        theme reads `pages`)."""
        return self.pages


def data_page(originals: bool) -> Page:
    """The page describing the downloads; `originals` when captured originals are published
    (with manifest-sha256.txt). Its sizes are filled in by `with_sizes`, once they are known."""
    context = {"downloads": list(DOWNLOADS), "sizes": None, "originals": originals}
    return Page(DATA_PAGE, "data.html", context)


def with_sizes(page: Page, size_of: Callable[[str], int]) -> Page:
    """The data page with the size of each download, known once they are written."""
    sizes = {download.path: size_of(download.path) for download in page.context["downloads"]}
    return Page(page.path, page.template, {**page.context, "sizes": sizes})


def excerpt(article: Article) -> str:
    """Summary, dek, or the first paragraph as plain text, shortened at a word boundary."""
    text = article.summary or article.dek
    if not text:
        text = _MARKDOWN_ESCAPE.sub(r"\1", _MARKDOWN_LINK.sub(r"\1", article.lead))
    text = " ".join(text.split())
    if len(text) <= _EXCERPT_LENGTH:
        return text
    return text[:_EXCERPT_LENGTH].rsplit(" ", 1)[0] + "…"


def atom_date(iso: str) -> str:
    """RFC 3339 timestamp for Atom from an ISO date or datetime (UTC when no zone is given)."""
    if len(iso) == 10:
        return f"{iso}T00:00:00Z"
    has_zone = iso.endswith("Z") or "+" in iso[10:] or "-" in iso[10:]
    return iso if has_zone else f"{iso}Z"


SLOW_LINKS = (
    "body: this paragraph has too many unclosed or nested '[' for Markdown to match in time; "
    "write them as '\\[' or split the paragraph"
)


class MarkdownConverter:
    """Article bodies to HTML (`markdown_body.BodyConverter`: Python-Markdown, raw HTML shown
    as text, unsafe link targets removed), with conversion errors made the article's problem."""

    def __init__(self) -> None:
        self._bodies = BodyConverter()

    def convert(self, text: str) -> str:
        return self._bodies.convert(text)

    def article_html(self, article: Article, text: str | None = None) -> str:
        """An article's body (or `text`, a piece of it) as HTML; anything Python-Markdown raises
        becomes that file's problem (a template error naming the page's template would point at
        the wrong file)."""
        lines_before = slow_link_paragraph(article.body)
        if lines_before is not None:
            line = article.body_line + lines_before
            raise BuildError([Problem(article.source, line, SLOW_LINKS)])
        try:
            return self.convert(article.body if text is None else text)
        except RecursionError:  # Python-Markdown recurses once per level of nesting
            message = "Markdown is nested too deeply (lists or quotes) to convert"
        except Exception as error:
            message = f"Markdown could not be converted ({type(error).__name__}: {error})"
        raise BuildError([Problem(article.source, article.body_line, message[:300])])


def paginate(items: list[Any], per_page: int, base: str) -> list[Pager]:
    """Split items into pages: `base` for the first, `base + "page/N/"` for the rest."""
    chunks = [items[i : i + per_page] for i in range(0, len(items), per_page)] or [[]]

    def path(number: int) -> str:
        return base if number == 1 else f"{base}page/{number}/"

    return [
        Pager(
            number=n,
            pages=len(chunks),
            items=chunk,
            first_index=(n - 1) * per_page,
            previous=path(n - 1) if n > 1 else None,
            next=path(n + 1) if n < len(chunks) else None,
        )
        for n, chunk in enumerate(chunks, start=1)
    ]


def _paged_path(base: str, pager: Pager) -> str:
    return f"{base}index.html" if pager.number == 1 else f"{base}page/{pager.number}/index.html"


def archive_wide(page: Page) -> bool:
    """A download made from every article (`Site.archive_context`): the costly pages."""
    return "articles" in page.context


class Site:
    """Builds the page plan of the whole site from the archive and the configuration."""

    def __init__(self, archive: Archive, config: Config) -> None:
        self.archive = archive
        self.config = config
        self.published = (
            published_originals(archive.articles, config) if config.publish_originals else []
        )

    def pages(self) -> Iterator[Page]:
        yield from self.home_pages()
        yield from self.year_pages()
        yield from self.article_pages()
        if self.config.downloads:
            yield from self.citation_files()
        yield from self.alias_pages()
        for kind in KINDS:
            yield self.overview_page(kind)
            for term in self.archive.sorted_terms(kind):
                yield from self.term_pages(term)
        if self.config.search:
            yield self.search_page()
        if self.config.publish_originals:
            yield from self.originals()
        yield from self.site_files()

    def home_pages(self) -> Iterator[Page]:
        # What the first page shows of the whole archive travels in its context, so its
        # fingerprint covers exactly that (and the theme's index.html reads no `archive`).
        for pager in paginate(self.archive.articles, self.config.per_page, ""):
            context: dict[str, Any] = {"pager": pager}
            if pager.number == 1:
                context["activity"] = activity(self.archive.articles)
                context["overview"] = self.overview()
            yield Page(_paged_path("", pager), "index.html", context)

    def overview(self) -> dict[str, Any]:
        """The home page's figures: counts, the dated range, years and the most named terms."""
        archive = self.archive
        dated = [article for article in archive.articles if article.date]
        return {
            "article_count": len(archive.articles),
            "first": dated[-1].iso_date if dated else None,
            "last": dated[0].iso_date if dated else None,
            "terms": {kind: len(archive.terms[kind]) for kind in KINDS},
            "years": [(year, len(items)) for year, items in archive.years.items()],
            "top": {kind: archive.top_terms(kind, 5) for kind in KINDS},
        }

    def year_pages(self) -> Iterator[Page]:
        for year, articles in self.archive.years.items():
            span = ((int(year), 1), (int(year), 12)) if year.isdigit() else None
            for pager in paginate(articles, self.config.term_per_page, f"{year}/"):
                context = {"year": year, "pager": pager, "total": len(articles)}
                if pager.number == 1:
                    context["activity"] = activity(articles, span)
                yield Page(_paged_path(f"{year}/", pager), "year.html", context)

    def article_pages(self) -> Iterator[Page]:
        archive = self.archive
        originals = {original.path: original for original in self.published}
        for article in archive.articles:
            name = raw_name(article)
            original = originals.get(f"{ORIGINALS_DIR}/{name}") if name else None
            path = article.path
            yield self.article_page(
                f"{path}index.html",
                {
                    "article": article,
                    "terms": archive.article_terms[path],
                    "publisher": archive.publishers.get(path),
                    "previous": archive.previous[path],
                    "next": archive.following[path],
                    "related": archive.related[path],
                    "original": original,
                },
            )

    def article_page(self, path: str, context: dict[str, Any]) -> Page:
        return Page(path, "article.html", context)

    def citation_files(self) -> Iterator[Page]:
        """cite.ris, cite.bib and cite.json next to each article's page (see exports.py)."""
        for article in self.archive.articles:
            for name in ARTICLE_FILES:
                yield Page(f"{article.path}{name}", EXPORT_PREFIX + name, {"article": article})

    def originals(self) -> Iterator[Page]:
        """Each article's captured original under originals/, and their SHA-256 manifest."""
        for original in self.published:
            yield Page(original.path, EXPORT_PREFIX + "original", {"original": original})
        if self.published:
            yield Page("manifest-sha256.txt", "", {"text": manifest_text(self.published)})

    def downloads(self, context: dict[str, Any]) -> Iterator[Page]:
        """The archive as data and the page describing it (archive.json: see site_files); they
        share the `archive_context`, so its long lists are fingerprinted once."""
        for download in DOWNLOADS:
            if download.path == "archive.json":
                continue
            extra = {"all_terms": self.all_terms()} if download.path == "archive.sqlite" else {}
            yield Page(download.path, EXPORT_PREFIX + download.path, {**context, **extra})
        yield data_page(originals=bool(self.published))

    def archive_context(self) -> dict[str, Any]:
        articles = self.archive.articles
        return {
            "articles": list(articles),  # a copy: the engine updates the model's list in place
            "terms": [self.archive.article_terms[a.path] for a in articles],
        }

    def all_terms(self) -> list[Term]:
        return [term for kind in KINDS for term in self.archive.sorted_terms(kind)]

    def alias_pages(self) -> Iterator[Page]:
        for article in self.archive.articles:
            for alias in article.aliases:
                path = alias.strip("/") + "/index.html"
                yield Page(path, "redirect.html", {"article": article})

    def overview_page(self, kind: str) -> Page:
        return Page(
            f"{kind}/index.html",
            "terms.html",
            {"kind": kind, "terms": self.archive.sorted_terms(kind)},
        )

    def term_pages(self, term: Term) -> Iterator[Page]:
        published = {article.path for article in term.published}
        for pager in paginate(term.articles, self.config.term_per_page, term.path):
            context = {
                "term": term,
                "pager": pager,
                "published": [a for a in pager.items if a.path in published],
                "cited": [a for a in pager.items if a.path not in published],
            }
            if pager.number == 1:  # in the context, so only the first page depends on them
                context["activity"] = activity(term.articles)
                context["cooccurring"] = term.cooccurring
            yield Page(_paged_path(term.path, pager), "term.html", context)
        if self.config.feeds:
            yield Page(
                f"{term.path}feed.xml",
                "feed.xml",
                {
                    "feed_path": f"{term.path}feed.xml",
                    "term": term,
                    "entries": term.articles[: self.config.feed_items],
                },
            )

    def search_page(self) -> Page:
        """The search page; its script merges one Pagefind index per shard (see search.py)."""
        bundles = [f"{INDEX_DIR}/{shard}/" for shard in shard_names(self.archive)]
        return Page("search/index.html", "search.html", {"bundles": bundles})

    def site_files(self) -> Iterator[Page]:
        if self.config.feeds:
            entries = self.archive.articles[: self.config.feed_items]
            yield Page(
                "feed.xml", "feed.xml", {"feed_path": "feed.xml", "term": None, "entries": entries}
            )
        if self.config.sitemap:
            yield Page("sitemap.xml", "sitemap.xml", {"urls": self.sitemap_entries()})
        yield Page("robots.txt", "robots.txt")
        yield Page("404.html", "404.html")
        yield Page(".nojekyll", "", {"text": ""})
        if self.config.cname:
            yield Page("CNAME", "", {"text": self.config.cname.strip() + "\n"})
        context = self.archive_context()
        yield Page("archive.json", EXPORT_PREFIX + "archive.json", context)
        if self.config.downloads:
            yield from self.downloads(context)

    def sitemap_entries(self) -> list[tuple[str, str | None]]:
        entries: list[tuple[str, str | None]] = [("", None)]
        entries += [(f"{year}/", None) for year in self.archive.years]
        entries += [
            (a.path, a.iso_date[:10] if a.iso_date else None) for a in self.archive.articles
        ]
        for kind in KINDS:
            entries.append((f"{kind}/", None))
            entries += [
                (t.path, t.last_date[:10] if t.last_date else None)
                for t in self.archive.sorted_terms(kind)
            ]
        return entries


class _DirectCallContext(jinja2.runtime.Context):
    """Jinja's template context, calling plain Python functions directly: the renderer's
    helpers (`rel`, `date_tag`, `excerpt`…) are called ~65 times a page, and Jinja's `call`
    first looks for a `pass_context`-style marker on the callable and on its `__call__`, each
    miss raising and catching an AttributeError (9% of rendering). A function that carries a
    marker, and any other callable (macros, builtins), goes through Jinja's `call`."""

    def call(self, obj: Any, /, *args: Any, **kwargs: Any) -> Any:
        function = obj.__func__ if type(obj) is MethodType else obj
        if type(function) is not FunctionType or "jinja_pass_arg" in function.__dict__:
            return super().call(obj, *args, **kwargs)
        kwargs.pop("_block_vars", None)  # what Jinja passes for context functions only
        kwargs.pop("_loop_vars", None)
        try:
            return obj(*args, **kwargs)
        except StopIteration:  # as in Jinja's `call`: it must not end the template's generator
            return self.environment.undefined(
                "value was undefined because a callable raised a StopIteration exception"
            )


class TemplateFileError(jinja2.TemplateError):
    """A site template that must not be read: not a regular file, or a symlink out of the project."""

    def __init__(self, path: str, message: str) -> None:
        super().__init__(message)
        self.path = path


class SiteTemplateLoader(jinja2.BaseLoader):
    """The site's `templates/`, read as the rest of the project is (see `files.py`): only regular
    files, never through a symlink that leaves the project; a name that is missing (or a dangling
    symlink, an editor's lock) falls through to the theme's template."""

    def __init__(self, folder: Path, project: Path) -> None:
        self.folder = str(folder)  # as given: template errors name the file as the user sees it
        self.shown_from = str(project)
        self.project = project.resolve()

    def get_source(
        self, environment: jinja2.Environment, template: str
    ) -> tuple[str, str, Callable[[], bool]]:
        path = os.path.join(self.folder, *jinja2.loaders.split_template_path(template))
        shown = os.path.relpath(path, self.shown_from)
        try:
            mtime = os.stat(path).st_mtime_ns
            if not Path(os.path.realpath(path)).is_relative_to(self.project):
                raise TemplateFileError(shown, "symlink points outside the project; not read")
            source = read_regular(path).decode("utf-8")
        except (FileNotFoundError, NotADirectoryError):
            raise jinja2.TemplateNotFound(template) from None
        except OSError as error:
            raise TemplateFileError(shown, f"cannot read template: {reason(error)}") from None

        def uptodate() -> bool:
            try:
                return os.stat(path).st_mtime_ns == mtime
            except OSError:
                return False

        return source, os.path.normpath(path), uptodate


def by_kind(ranked: list[tuple[Term, int]]) -> list[tuple[str, list[tuple[Term, int]]]]:
    """A term's co-occurring terms grouped by kind (in KINDS order), each kept in rank order."""
    groups: dict[str, list[tuple[Term, int]]] = {kind: [] for kind in KINDS}
    for other, count in ranked:
        groups[other.kind].append((other, count))
    return [(kind, items) for kind, items in groups.items() if items]


def sort_key(term: Term) -> str:
    """How a person sorts by surname: the authority's `sort_name`, the name itself when the
    authority says the family name comes first (Kim Jong Un), else the last word first."""
    entity = term.entity
    if entity is not None and entity.sort_name:
        return slugify(entity.sort_name)
    words = term.name.split()
    if (entity is not None and entity.family_name_first) or len(words) < 2:
        return slugify(term.name)
    return slugify(" ".join([words[-1], *words[:-1]]))


def _locale(language: str) -> babel.Locale:
    try:
        return babel.Locale.parse(language.replace("-", "_"))
    except (ValueError, babel.UnknownLocaleError):
        return babel.Locale.parse("en")


def template_problem(error: Exception, fallback: str) -> Problem:
    """Name the template file and line of a Jinja error, not a Python traceback."""
    if isinstance(error, TemplateFileError):
        return Problem(error.path, None, str(error))
    if isinstance(error, jinja2.TemplateSyntaxError):
        return Problem(
            error.filename or error.name or fallback, error.lineno, f"template: {error.message}"
        )
    tb = error.__traceback__
    location: tuple[str, int] | None = None
    while tb is not None:
        filename = tb.tb_frame.f_code.co_filename
        if filename.endswith((".html", ".xml", ".txt")):
            location = (filename, tb.tb_lineno)
        tb = tb.tb_next
    path, line = location or (fallback, None)
    if isinstance(error, RecursionError):  # its text varies with where the limit struck
        return Problem(path, line, "template: calls itself without end (a macro or include?)")
    return Problem(path, line, f"template: {error}")


class Renderer:
    """One Jinja environment (StrictUndefined, autoescape) reused for every page."""

    def __init__(self, config: Config, archive: Archive, bytecode_dir: Path | None = None) -> None:
        """`bytecode_dir` keeps compiled templates between runs (keyed by a hash of their
        source: compiling the article template's closure costs a quick rebuild ~0.1 s), and
        the map's simplified shapes (`worldmap.stored_shapes`)."""
        self.config = config
        self.archive = archive
        self.bytecode_dir = bytecode_dir
        self.markdown = MarkdownConverter()
        # HTML fragments, prefilled from the build cache: article path -> body HTML, and
        # csl.citation_key -> a formatted citation
        self.bodies: dict[str, str] = {}
        self.env = jinja2.Environment(
            loader=jinja2.ChoiceLoader(
                [
                    SiteTemplateLoader(config.path("templates_dir"), config.root),
                    jinja2.FileSystemLoader(str(THEME_DIR / "templates")),
                ]
            ),
            autoescape=jinja2.select_autoescape(["html", "xml"]),
            undefined=jinja2.StrictUndefined,
            trim_blocks=True,
            lstrip_blocks=True,
            keep_trailing_newline=True,
            # Templates do not change under one renderer (the engine makes a new one when they
            # do): no stat of each template a page includes, five per article page.
            auto_reload=False,
            bytecode_cache=jinja2.FileSystemBytecodeCache(str(bytecode_dir))
            if bytecode_dir
            else None,
        )
        self.env.context_class = _DirectCallContext
        self.env.globals.update(
            site=config,
            archive=archive,
            kinds=KINDS,
            kind_titles=KIND_TITLES,
            kind_singular=KIND_SINGULAR,
            excerpt=excerpt,
            timeline=timeline,
            coverage_map=self.coverage_map,
            neighbourhood_map=self.neighbourhood_map,
            sort_key=sort_key,
            by_kind=by_kind,
            period_name=self.period_name,
            date_tag=self.date_tag,
            news_article=news_article,
            body_html=self.body_html,
            body_sections=self.body_sections,
            absolute=self.absolute,
            citations=self.citations,
            web_url=web_url,
            wayback_lookup=wayback_lookup,
            originals_dir=ORIGINALS_DIR,
        )
        self.exporting = Exporting(config.site_url, config.title)
        self.env.filters["atom_date"] = atom_date
        self.env.filters["safe_url"] = safe_url  # see escape.py and docs/templates.md
        self.env.filters["human_date"] = self.human_date
        self.locale = _locale(config.language)
        self._names: dict[str, str] = {}  # dates and periods in the site's language
        # by ISO date: a page lists several articles, and the site shows each date many times
        # (pages come in date order, so a memo emptied when full keeps nearly every hit)
        self._date_tags: dict[str, jinja2.utils.markupsafe.Markup] = {}

    def body_html(self, article: Article) -> jinja2.utils.markupsafe.Markup:
        html = self.bodies.get(article.path)
        if html is None:
            html = self.bodies[article.path] = self.markdown.article_html(article)
        return jinja2.utils.markupsafe.Markup(html)

    def body_sections(
        self, article: Article
    ) -> list[tuple[jinja2.utils.markupsafe.Markup, list[str]]]:
        """The body as (HTML, captions shown after it) runs: a caption placed `after: N` comes
        after the Nth paragraph (blank-line separated block), unplaced ones after the body.
        Only bodies with placed captions are converted in pieces (and not cached)."""
        if all(place is None for place in article.caption_places):
            return [(self.body_html(article), list(article.captions))]
        blocks = BLOCK_BREAK.split(article.body.strip())
        at: dict[int, list[str]] = {len(blocks): []}
        for text, place in zip(article.captions, article.caption_places, strict=True):
            at.setdefault(len(blocks) if place is None else min(place, len(blocks)), []).append(
                text
            )
        sections, start = [], 0
        for cut in sorted(at):
            text = "\n\n".join(blocks[start:cut])
            html = self.markdown.article_html(article, text) if text else ""
            sections.append((jinja2.utils.markupsafe.Markup(html), at[cut]))
            start = cut
        return sections

    def human_date(self, iso: str) -> str:
        """The date of an ISO date or datetime in the site's language ("March 3, 2018" in
        English); the ISO value goes in <time datetime>."""
        day = iso[:10]
        name = self._names.get(day)
        if name is None:  # memoised here: hashing a babel Locale for a shared cache costs more
            date = dt.date.fromisoformat(day)
            name = self._names[day] = babel.dates.format_date(date, "long", locale=self.locale)
        return name

    def date_tag(self, article: Article) -> jinja2.utils.markupsafe.Markup:
        """`<time datetime="ISO">March 3, 2018</time>`, or "Undated" (both values escaped);
        a function rather than a macro, since every list and article page shows several."""
        if not article.date:
            return jinja2.utils.markupsafe.Markup("Undated")
        iso = article.iso_date
        tag = self._date_tags.get(iso)
        if tag is None:
            markupsafe = jinja2.utils.markupsafe
            name = markupsafe.escape(self.human_date(iso))
            tag = markupsafe.Markup(f'<time datetime="{markupsafe.escape(iso)}">{name}</time>')
            if len(self._date_tags) >= _DATE_TAGS_KEPT:
                self._date_tags.clear()
            self._date_tags[iso] = tag
        return tag

    def period_name(self, label: str, short: bool = False) -> str:
        """A timeline period: "2018" stays, "2018-03" becomes "March 2018" ("Mar 2018" when
        short, for axis labels) in the site's language."""
        if "-" not in label:
            return label
        key = f"{label}/{short}"
        name = self._names.get(key)
        if name is None:
            year, month = label.split("-")
            first = dt.date(int(year), int(month), 1)
            pattern = "LLL y" if short else "LLLL y"
            name = self._names[key] = babel.dates.format_date(first, pattern, locale=self.locale)
        return name

    def citations(self, article: Article) -> list[tuple[str, jinja2.utils.markupsafe.Markup]]:
        """The cite block's entries: (style label, formatted HTML) per configured style."""
        config = self.config
        return citations(
            article, config.site_url, config.title, config.citation_styles, self.bodies
        )

    def coverage_map(self, terms: list[Term]) -> WorldMap:
        return coverage_map(terms, stored_shapes(self.bytecode_dir))

    def neighbourhood_map(self, term: Term, cooccurring: list[tuple[Term, int]]) -> WorldMap:
        return neighbourhood_map(term, cooccurring, stored_shapes(self.bytecode_dir))

    def absolute(self, path: str) -> str:
        """Full URL for feeds and sitemaps (base_url + path); relative when no base_url is set."""
        return self.config.site_url + path

    def render(self, page: Page) -> bytes:
        if not page.template:
            return page.context["text"].encode("utf-8")
        if is_export(page.template):
            return make(page.template, page.context, self.exporting)
        root = page.root

        def rel(target: str) -> str:
            return (root + target) or "./"

        template = self.env.get_template(page.template)
        return template.render(page=page, root=root, rel=rel, **page.context).encode("utf-8")


def render_all(
    pages: list[Page], renderer: Renderer, on_page: Callable[[], None] | None = None
) -> Iterator[tuple[str, bytes]]:
    """Render every page, collecting template errors so all of them are reported together."""
    problems: dict[tuple, Problem] = {}
    for page in pages:
        try:
            yield page.path, renderer.render(page)
        except BuildError as error:
            for problem in error.problems:
                problems.setdefault((problem.path, problem.line, problem.message), problem)
        except Exception as error:  # a template can raise anything: 1/0, a recursive macro...
            problem = template_problem(error, page.template)
            problems.setdefault((problem.path, problem.line, problem.message), problem)
        if on_page:
            on_page()
    if problems:
        raise BuildError(list(problems.values()))
