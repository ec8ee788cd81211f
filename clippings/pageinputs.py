"""What a page is made from: the one fingerprint behind every build, cached, CLI or `serve`.

A page's bytes are a function of its templates (the one named and all it extends, includes or
imports), the site's settings and the values it reads: its context and, through the `archive`
global, parts of the whole archive. Which fields of an article or a term a page reads is found
where they are read, not listed by hand:

- in the templates' syntax trees: every attribute read (`article.title`) and every string
  constant (`selectattr('date')`, `map(attribute='name')`), as possible field names;
- for the functions templates call (`excerpt(article)` reads the summary, dek and body), in
  `render.TEMPLATE_READS`, declared next to the functions;
- for downloads (made by code in `exports.py`), every field.

An article in a context then counts by the fields its page's templates read of articles: a body
edit changes the article's own page, which shows the body, and not the lists showing its title.
What they read through the name `article` (the page's own article, on an article page) is told
apart from what they read of anything else, so its neighbours and related articles count by the
latter: their body edits leave the page as it was. The name `term` (a term page's own term) is
told apart the same way: a term page shows its own count and dates, and only the names of the
terms it appears with and of the listed articles' terms, so a new article leaves the pages of
the terms merely named beside its own as they were. Where a template binds either name to
something else (a loop, a `set`), all it reads of it counts for every article or term; what a
macro reads (it may be passed any) counts for the others.
A term's articles and co-occurring terms count only when read.

Anything it cannot describe (a computed template name, `archive` used other than by attribute, a
context value of an unknown type) makes the fingerprint None: that page is rendered every time.
"""

from __future__ import annotations

import dataclasses
import functools
import hashlib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

import jinja2
import jinja2.meta
import jinja2.nodes

from clippings.archive import TERM_FIELDS, Archive, Cooccurring, Tags, Term
from clippings.content import ARTICLE_FIELDS, DERIVED_FROM, Article
from clippings.exports import Download, export_term_reads, is_export
from clippings.originals import Original
from clippings.render import TEMPLATE_READS, TEMPLATE_READS_REST, TERM_NAME, Page, Pager

# What a template may read of the `archive` global, by attribute: the articles, the years (each
# with its articles) or the terms of every kind.
ARCHIVE_PARTS = {
    "articles": "articles",
    "drafts": "drafts",
    "years": "years",
    "terms": "terms",
    "top_terms": "terms",
    "sorted_terms": "terms",
}
_RELATIONS = frozenset({"articles", "published", "cited", "cooccurring"})  # a term's links
_PLAIN = frozenset({str, int, float, bool, type(None)})
SEQUENCES = frozenset({list, tuple, Cooccurring})  # what a context's lists may be
_LONG = 1000  # lists at least this long are fingerprinted once per model (see `_long`)


class Uncacheable(Exception):
    """A template or value the fingerprint cannot describe: the page renders every time."""


def digest(text: str) -> str:
    return hashlib.blake2b(text.encode("utf-8", "surrogatepass"), digest_size=16).hexdigest()


@dataclass(frozen=True)
class Reads:
    """What one template, with all it pulls in, can read: its sources' digest, the fields of
    articles (the page's own `article`, and the others it holds) and terms, and the parts of
    the `archive` global."""

    sources: str
    article_fields: tuple[str, ...]
    term_fields: tuple[str, ...]
    archive_parts: tuple[str, ...]
    other_article_fields: tuple[str, ...]  # what it reads of anything but the own `article`
    other_term_fields: tuple[str, ...]  # ... and of anything but the own `term`

    def __post_init__(self) -> None:
        # Hashed once: digest tables are looked up by a Reads for every article and term a page
        # holds, and hashing its ~35 field names each time was a tenth of fingerprinting.
        object.__setattr__(self, "_hash", hash(self.__reduce__()[1]))

    def __hash__(self) -> int:
        return self._hash

    def __reduce__(self) -> tuple:  # made again when unpickled: str hashes differ per process
        fields = (self.article_fields, self.term_fields, self.archive_parts)
        return Reads, (self.sources, *fields, self.other_article_fields, self.other_term_fields)

    @functools.cached_property
    def of_others(self) -> Reads:
        """What it reads of the values in a page's context other than its own `article` or
        `term`: on an article page, its neighbours' and related articles' titles, not their
        bodies; on a term page, the names of the terms beside it, not their counts."""
        others = (self.other_article_fields, self.other_term_fields)
        if others == (self.article_fields, self.term_fields):
            return self
        return Reads(self.sources, *others, self.archive_parts, *others)

    @functools.cached_property
    def counts_terms(self) -> bool:
        """Whether it reads of a term more than what names it, which changes only with a
        rename (after which the engine fingerprints every page): then pages name their terms
        in `refs`."""
        return not TERM_NAME.issuperset(self.term_fields)

    @functools.cached_property
    def plain_term_fields(self) -> tuple[str, ...]:
        """What is read of a co-occurring term: its own fields, not its links."""
        return tuple(field for field in self.term_fields if field not in _RELATIONS)


# Filters and tests whose string arguments name attributes (`map(attribute='title')`).
_ATTRIBUTE_ARGUMENTS = frozenset(
    {"map", "selectattr", "rejectattr", "sort", "groupby", "sum", "unique", "min", "max", "attr"}
)


OWN_ARTICLE = "article"  # an article page's own article, by its name in the page's context
OWN_TERM = "term"  # a term page's (and a term feed's) own term
_OWN = frozenset({OWN_ARTICLE, OWN_TERM})


@dataclass
class _Usage:
    """What one template file reads outside its macros, and inside each macro: the attribute
    names and `TEMPLATE_READS` functions it reads, the macros it calls, and per macro both.
    `own` is what it reads of the page's own `article` and `term`, by name, outside macros (None
    in a macro, which may be passed any: there it is in `names`); `rebinds`, the names of those
    it binds to another value there (a loop, a `set`), so those reads may be another's."""

    names: set[str] = dataclasses.field(default_factory=set)
    calls: set[str] = dataclasses.field(default_factory=set)
    macros: dict[str, tuple[set[str], set[str]]] = dataclasses.field(default_factory=dict)
    own: dict[str, set[str]] | None = dataclasses.field(default_factory=dict)
    rebinds: set[str] = dataclasses.field(default_factory=set)


# Template files as parsed, by name: (source, what it reads, the `archive` parts it reads, the
# templates it names). One reading of several templates shares the files they have in common.
ParsedFiles = dict[str, tuple[str, _Usage, set[str], list[str | None]]]


def _own_read(node: jinja2.nodes.Node) -> tuple[str, str] | None:
    """(own name, what `node` reads of it directly) for the own article or term
    (`article.title`, `article['title']`, `excerpt(article)`), or None."""
    if isinstance(node, jinja2.nodes.Getattr) and _is_own(node.node):
        return node.node.name, node.attr
    if isinstance(node, jinja2.nodes.Getitem) and isinstance(node.arg, jinja2.nodes.Const):
        return (node.node.name, str(node.arg.value)) if _is_own(node.node) else None
    if isinstance(node, jinja2.nodes.Call) and isinstance(node.node, jinja2.nodes.Name):
        function = node.node.name  # what a function reads is declared of its first argument
        if function in TEMPLATE_READS and node.args and _is_own(node.args[0]):
            return node.args[0].name, function
    return None


def _is_own(node: jinja2.nodes.Node) -> bool:
    return isinstance(node, jinja2.nodes.Name) and node.name in _OWN and node.ctx == "load"


def _rest_read(node: jinja2.nodes.Node, function: str) -> set[str]:
    """What a call of `function` with an own article or term first reads of its other
    arguments: as declared in `TEMPLATE_READS_REST`, else what it reads of the first."""
    if not isinstance(node, jinja2.nodes.Call):
        return set()
    spread = node.dyn_args is not None or node.dyn_kwargs is not None  # f(term, *others)
    if len(node.args) + len(node.kwargs) < 2 and not spread:
        return set()
    return set(TEMPLATE_READS_REST.get(function, {function}))


def _walk(node: jinja2.nodes.Node, usage: _Usage) -> None:
    """Collect what `node` reads; a macro's body is collected apart, read only when called."""
    if isinstance(node, jinja2.nodes.Macro):
        inner = _Usage(own=None)
        for child in node.body:
            _walk(child, inner)
        usage.macros.update(inner.macros)
        usage.macros[node.name] = (inner.names, inner.calls)
        return
    names, calls = usage.names, usage.calls
    if usage.own is not None:
        if isinstance(node, jinja2.nodes.Name) and node.name in _OWN and node.ctx != "load":
            usage.rebinds.add(node.name)
        own = _own_read(node)
        if own is not None:
            usage.own.setdefault(own[0], set()).add(own[1])
            names |= _rest_read(node, own[1])
            # the rest (an item's key, a call's other arguments) is read as anywhere else
            for child in node.iter_child_nodes():
                if child is not node.node and not _is_own(child):
                    _walk(child, usage)
            return
    if isinstance(node, jinja2.nodes.Getattr):
        names.add(node.attr)
    elif isinstance(node, jinja2.nodes.Getitem) and isinstance(node.arg, jinja2.nodes.Const):
        names.add(str(node.arg.value))
    elif isinstance(node, jinja2.nodes.Name) and node.name in TEMPLATE_READS:
        names.add(node.name)  # a function called: what it reads is declared with it
    elif isinstance(node, jinja2.nodes.Filter | jinja2.nodes.Test):
        names.add(node.name)
        if node.name in _ATTRIBUTE_ARGUMENTS:
            arguments = [*node.args, *(keyword.value for keyword in node.kwargs)]
            names |= {
                argument.value
                for argument in arguments
                if isinstance(argument, jinja2.nodes.Const) and isinstance(argument.value, str)
            }
    elif isinstance(node, jinja2.nodes.FromImport):  # a macro imported under another name
        calls.update(item[0] for item in node.names if isinstance(item, tuple))
    elif isinstance(node, jinja2.nodes.Call):
        called = node.node
        if isinstance(called, jinja2.nodes.Name):
            calls.add(called.name)
        elif isinstance(called, jinja2.nodes.Getattr):
            calls.add(called.attr)
    for child in node.iter_child_nodes():
        _walk(child, usage)


def _usage(parsed: jinja2.nodes.Template) -> _Usage:
    usage = _Usage()
    _walk(parsed, usage)
    return usage


def _names_read(usages: list[_Usage], but_own: frozenset[str] = frozenset()) -> set[str]:
    """Every name the templates read outside macros, and inside the macros they call (by
    name, transitively): a macro file imported everywhere adds only what is used of it. With
    `but_own`, not what they read of the page's own `article` or `term` by these names, unless
    one of them binds the name to something else (see `names_read`)."""
    macros: dict[str, list[tuple[set[str], set[str]]]] = {}
    for usage in usages:
        for name, body in usage.macros.items():
            macros.setdefault(name, []).append(body)
    names: set[str] = set()
    pending: list[str] = []
    for usage in usages:
        names |= usage.names
        pending += usage.calls
    called: set[str] = set()
    while pending:
        macro = pending.pop()
        if macro in called:
            continue
        called.add(macro)
        for body_names, body_calls in macros.get(macro, ()):
            names |= body_names
            pending += body_calls
    rebound = set().union(*(usage.rebinds for usage in usages))
    for usage in usages:
        for own, reads in (usage.own or {}).items():
            if own not in but_own or own in rebound:
                names |= reads
    return names


def _archive_reads(parsed: jinja2.nodes.Template) -> set[str]:
    """The parts of the `archive` global a template reads (`archive.years`...). From the syntax
    tree: a text search also matched `archive.json` in the theme's footer."""
    names = [node for node in parsed.find_all(jinja2.nodes.Name) if node.name == "archive"]
    if any(node.ctx != "load" for node in names):  # a template's own `archive` variable
        raise Uncacheable("archive")
    reads = [
        node.attr
        for node in parsed.find_all(jinja2.nodes.Getattr)
        if isinstance(node.node, jinja2.nodes.Name) and node.node.name == "archive"
    ]
    if len(reads) != len(names) or not set(reads) <= ARCHIVE_PARTS.keys():
        raise Uncacheable("archive")  # passed on, iterated, or a part with no digest
    return {ARCHIVE_PARTS[read] for read in reads}


def template_reads(env: jinja2.Environment, name: str, parsed: ParsedFiles | None = None) -> Reads:
    """What the template `name` and everything it pulls in read (`parsed` keeps the files
    parsed, for the next call); raises Uncacheable."""
    if is_export(name):  # made by code, which the cache version covers: every article field
        every = tuple(sorted(ARTICLE_FIELDS))
        terms = tuple(sorted(export_term_reads(name)))
        return Reads(name, every, terms, (), every, terms)
    sources, usages, parts = _template_set(env, name, parsed)
    names, of_others = _names_read(usages), _names_read(usages, _OWN)
    text = "\n".join(f"{key}\n{sources[key]}" for key in sorted(sources))
    return Reads(
        digest(text),
        _article_fields(names),
        _term_fields(names),
        tuple(sorted(parts)),
        _article_fields(of_others),
        _term_fields(of_others),
    )


def _with_functions(names: set[str]) -> set[str]:
    """The names, and the fields the template functions among them read."""
    return names.union(*(TEMPLATE_READS[function] for function in names & TEMPLATE_READS.keys()))


def _article_fields(names: set[str]) -> tuple[str, ...]:
    return tuple(sorted(_with_functions(names) & ARTICLE_FIELDS))


def _term_fields(names: set[str]) -> tuple[str, ...]:
    return tuple(sorted(_with_functions(names) & TERM_FIELDS))


def names_read(
    env: jinja2.Environment,
    name: str,
    but_own_article: bool = False,
    parsed: ParsedFiles | None = None,
) -> set[str]:
    """The names (attributes, and functions of `TEMPLATE_READS`) that the template `name` and
    everything it pulls in read. With `but_own_article`, only what they read of anything but
    the page's own `article` (on an article page: what it shows of the other articles it
    holds), unless they bind that name to something else. Raises Uncacheable."""
    but_own = frozenset({OWN_ARTICLE}) if but_own_article else frozenset()
    return _names_read(_template_set(env, name, parsed)[1], but_own)


def _template_set(
    env: jinja2.Environment, name: str, parsed: ParsedFiles | None
) -> tuple[dict[str, str], list[_Usage], set[str]]:
    """The sources of `name` and of every template it extends, includes or imports, what each
    reads, and the parts of the `archive` global they read."""
    parsed = {} if parsed is None else parsed
    sources: dict[str, str] = {}
    usages: list[_Usage] = []
    parts: set[str] = set()
    pending = [name]
    while pending:
        current = pending.pop()
        if current in sources:
            continue
        if current not in parsed:
            assert env.loader is not None
            source = env.loader.get_source(env, current)[0]
            tree = env.parse(source)
            referenced = list(jinja2.meta.find_referenced_templates(tree))
            parsed[current] = (source, _usage(tree), _archive_reads(tree), referenced)
        sources[current], usage, archive_parts, referenced = parsed[current]
        usages.append(usage)
        parts |= archive_parts
        for found in referenced:
            if found is None:  # a computed template name: anything may be used
                raise Uncacheable(current)
            pending.append(found)
    return sources, usages, parts


@functools.cache
def _digested(fields: tuple[str, ...]) -> tuple[str, ...]:
    """The fields an article's digest holds: those read, but a derived value whose inputs are
    read too (a body's word count costs more than the rest of a digest, and says nothing the
    body does not)."""
    read = set(fields)
    return tuple(
        field for field in fields if not (field in DERIVED_FROM and DERIVED_FROM[field] <= read)
    )


class KnownDigests:
    """Digests of articles (per set of fields read; the body by `Article.body_digest`) and of terms
    (per template's reads), kept by identity, for the engine to keep between builds and in the
    state it saves, instead of hashing all 10,000 articles and every term again.

    An edit never changes an Article (it is frozen; the engine swaps in a new object), so an
    article's digest holds while its object lives. Terms are updated in place by the model: the
    engine names the terms an edit touched (`forget_terms`) before fingerprinting again.
    An article's `Tags` are never changed in place either: where a template reads only what
    names a term, which changes with a rename alone (`forget_terms(None)`), their digest holds
    while they live (the archive-wide downloads list every article's tags)."""

    def __init__(self) -> None:
        # the object is held beside its digest, so its id cannot be reused while the row lives
        self._tables: dict[tuple[str, ...], dict[int, tuple[Article, str]]] = {}
        self._terms: dict[tuple[Reads, bool], dict[int, tuple[Term, str]]] = {}
        self._tags: dict[Reads, dict[int, tuple[Tags, str]]] = {}

    def article(self, article: Article, fields: tuple[str, ...]) -> str:
        table = self._tables.get(fields)
        if table is None:
            table = self._tables[fields] = {}
        known = table.get(id(article))
        if known is None:
            values = [article.source, article.path]
            for field in _digested(fields):  # the body by its digest, kept on the article
                values.append(article.body_digest if field == "body" else getattr(article, field))
            known = table[id(article)] = (article, "A" + digest(repr(values)))
        return known[1]

    def term_table(self, reads: Reads, relations: bool) -> dict[int, tuple[Term, str]]:
        table = self._terms.get((reads, relations))
        if table is None:
            table = self._terms[(reads, relations)] = {}
        return table

    def tags_table(self, reads: Reads) -> dict[int, tuple[Tags, str]]:
        assert not reads.counts_terms  # more than names: a term may change, its Tags not
        return self._tags.setdefault(reads, {})

    def forget_terms(self, terms: Iterable[Term] | None, linked: Iterable[Term] = ()) -> None:
        """Forget these terms' digests (None: every term's, and every Tags'), and those of the
        `linked` terms (co-occurring with them) where a digest holds its co-occurring terms' own
        fields."""
        if terms is None:
            self._terms.clear()
            self._tags.clear()
            return
        for term in terms:
            for table in self._terms.values():
                table.pop(id(term), None)
        linked = list(linked)
        for (reads, relations), table in self._terms.items():
            if relations and "cooccurring" in reads.term_fields:
                for term in linked:
                    table.pop(id(term), None)

    def forget_articles(self, articles: Iterable[Article]) -> None:
        """Forget these articles' digests (objects the model no longer holds)."""
        for article in articles:
            for table in self._tables.values():
                table.pop(id(article), None)

    def keep_only(
        self, articles: Iterable[Article], terms: Iterable[Term], tags: Iterable[Tags]
    ) -> None:
        """Forget every article, term and Tags but these (the ones a rebuild still holds)."""
        alive = {id(article) for article in articles} | {id(term) for term in terms}
        alive |= {id(own) for own in tags}
        for table in [*self._tables.values(), *self._terms.values(), *self._tags.values()]:
            for key in [key for key in table if key not in alive]:
                del table[key]

    def __getstate__(self) -> dict[str, Any]:
        """Ids do not survive a pickle; the objects (restored with the archive) do. Each table
        is two columns, the digests in one string: one pickled tuple and string per row were
        ~80,000 objects more for the pickler to remember at 10,000 articles."""
        return {
            "tables": {fields: _columns(table) for fields, table in self._tables.items()},
            "terms": {key: _columns(table) for key, table in self._terms.items()},
            "tags": {key: _columns(table) for key, table in self._tags.items()},
        }

    def __setstate__(self, state: dict[str, Any]) -> None:
        self._tables = {fields: _rows(*columns) for fields, columns in state["tables"].items()}
        self._terms = {key: _rows(*columns) for key, columns in state["terms"].items()}
        self._tags = {key: _rows(*columns) for key, columns in state["tags"].items()}


def _columns(table: dict[int, tuple[Any, str]]) -> tuple[list, str]:
    return [held for held, _ in table.values()], " ".join([known for _, known in table.values()])


def _rows(held: list, digests: str) -> dict[int, tuple[Any, str]]:
    return {id(item): (item, known) for item, known in zip(held, digests.split(), strict=True)}


class PageInputs:
    """Fingerprints of pages against one model, one instance per state of the archive (a build,
    or one live rebuild). Article and term digests are memoised by identity in `KnownDigests`,
    which the engine keeps across rebuilds."""

    def __init__(
        self,
        archive: Archive,
        env: jinja2.Environment,
        base: str,
        reads: dict[str, Reads | None] | None = None,
        known: KnownDigests | None = None,
    ) -> None:
        self.archive = archive
        self.env = env
        self.base = base  # what every page shares: version, settings, output folder
        # per template; may outlive this instance while the templates stay the same (serve)
        self._reads = {} if reads is None else reads
        self.known = KnownDigests() if known is None else known
        self._parsed: ParsedFiles = {}  # each template file parsed once, not once per page kind
        self._parts: dict[tuple[str, Reads], str] = {}
        # id -> (the list, its digest, what it holds); the list is kept so its id stays its own
        self._lists: dict[tuple[int, tuple, tuple], tuple[list | tuple, str, set[str]]] = {}

    @property
    def parsed_templates(self) -> ParsedFiles:
        """The template files parsed so far, for other readings of the same templates."""
        return self._parsed

    @property
    def template_reads(self) -> dict[str, Reads | None]:
        """What each template read so far: kept by the engine while the templates stay."""
        return self._reads

    def reads(self, template: str) -> Reads | None:
        if template not in self._reads:
            try:
                self._reads[template] = template_reads(self.env, template, self._parsed)
            except (Uncacheable, jinja2.TemplateError, UnicodeError, OSError):
                self._reads[template] = None  # e.g. not UTF-8: rendering reports it
        return self._reads[template]

    def fingerprint(self, page: Page, refs: set[str] | None = None) -> str | None:
        """The page's fingerprint, or None when it cannot be described (render it every time).
        `refs` collects what its context holds: the articles' sources and, if it reads more of
        them than their names (`Reads.counts_terms`), the terms' paths."""
        if not page.template:
            return digest(f"{self.base}\n{page.path}\ntext\n{page.context['text']}")
        reads = self.reads(page.template)
        if reads is None:
            return None
        try:
            parts = [self.base, page.path, reads.sources]
            parts += [self._part(part, reads) for part in reads.archive_parts]
            others = reads.of_others
            for key, value in page.context.items():
                read = reads if key in _OWN else others
                parts.append(f"{key}={self._value(value, read, refs)}")
        except Uncacheable:
            return None
        return digest("\n".join(parts))

    def reads_archive(self, page: Page) -> bool:
        """True when the page reads the `archive` global (or cannot be described): an edit to
        any article may change it."""
        reads = self.reads(page.template) if page.template else None
        return bool(page.template) and (reads is None or bool(reads.archive_parts))

    def _part(self, part: str, reads: Reads) -> str:
        key = (part, reads)
        if key not in self._parts:
            archive = self.archive
            if part == "years":
                value: Any = list(archive.years.items())
            elif part == "terms":
                value = [archive.sorted_terms(kind) for kind in archive.terms]
            else:
                value = getattr(archive, part)
            self._parts[key] = digest(self._value(value, reads, None))
        return self._parts[key]

    def _article(self, article: Article, fields: tuple[str, ...]) -> str:
        return self.known.article(article, fields)

    def _term(self, term: Term, reads: Reads, relations: bool = True) -> str:
        memo = self.known.term_table(reads, relations)
        known = memo.get(id(term))
        if known is None:
            fields = reads.term_fields if relations else reads.plain_term_fields
            values: list[Any] = [term.kind, term.slug]
            for field in fields:
                value = getattr(term, field)
                if field == "cooccurring":
                    value = [(self._term(other, reads, False), n) for other, n in value]
                elif field in _RELATIONS:
                    value = [self._article(a, reads.article_fields) for a in value]
                values.append(value)
            known = memo[id(term)] = (term, "T" + digest(repr(values)))
        return known[1]

    def _long(self, value: list | tuple, reads: Reads, refs: set[str] | None) -> str:
        """A long list (every article, for the downloads) once per fields read: the pages
        sharing it hold the same object, unchanged while this model stands."""
        key = (id(value), reads.article_fields, reads.term_fields)
        known = self._lists.get(key)
        if known is None:
            held: set[str] = set()
            items = ",".join([self._value(item, reads, held) for item in value])
            known = self._lists[key] = (value, f"[{items}]", held)
        if refs is not None:
            refs |= known[2]
        return known[1]

    def _value(self, value: Any, reads: Reads, refs: set[str] | None) -> str:
        kind = type(value)
        if value is None or kind in _PLAIN:
            return repr(value)
        if kind is Article:
            if refs is not None:
                refs.add(value.source)
            return self._article(value, reads.article_fields)
        if kind is Term:
            if refs is not None and reads.counts_terms:
                refs.add(value.path)
            return self._term(value, reads)
        if kind is Pager:
            fields = (value.number, value.pages, value.first_index, value.previous, value.next)
            return repr(fields) + self._value(value.items, reads, refs)
        if kind is Tags and not reads.counts_terms:
            return self._tags(value, reads)
        if kind is Original or kind is Download:
            return repr(value)
        if kind in SEQUENCES:
            if len(value) >= _LONG:
                return self._long(value, reads, refs)
            if kind is Cooccurring:  # hundreds of pairs on a popular term's page
                return self._cooccurring(value, reads, refs)
            if all(type(item) in _PLAIN for item in value):
                return repr(value)
            return "[" + ",".join([self._value(item, reads, refs) for item in value]) + "]"
        if isinstance(value, Mapping):
            return self._mapping(value, reads, refs)
        raise Uncacheable(kind.__name__)

    def _cooccurring(self, pairs: Cooccurring, reads: Reads, refs: set[str] | None) -> str:
        """(term, count) pairs, as `_value` writes any list of pairs, without its type tests."""
        if refs is not None and reads.counts_terms:
            refs.update(term.path for term, _ in pairs)
        return "[" + ",".join([f"[{self._term(t, reads)},{n!r}]" for t, n in pairs]) + "]"

    def _mapping(self, value: Mapping, reads: Reads, refs: set[str] | None) -> str:
        items = [f"{k!r}:{self._value(v, reads, refs)}" for k, v in value.items()]
        return "{" + ",".join(items) + "}"

    def _tags(self, tags: Tags, reads: Reads) -> str:
        """An article's terms, read for their names only: no `refs` to collect."""
        memo = self.known.tags_table(reads)
        known = memo.get(id(tags))
        if known is None:
            known = memo[id(tags)] = (tags, self._mapping(tags, reads, None))
        return known[1]
