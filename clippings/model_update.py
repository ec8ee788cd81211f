"""Model stage, incrementally: bring an Archive up to date after a few articles changed.

`build_archive` reads every article (seconds at 10,000); re-tagging, re-dating, adding or deleting
one article touches only its terms, their co-occurrence, its neighbours, its year and the related
lists of the articles that share a term with it. `update_archive` changes exactly those, in place,
and leaves an Archive equal to a fresh `build_archive` of the new set of articles (tested against
it over random edit sequences in tests/test_model_update.py). Only the order of the path-keyed
dicts (article_terms, publishers, previous, following, related) may differ; nothing iterates them.
"""

from __future__ import annotations

import bisect
import heapq
from collections import Counter
from collections.abc import Callable, Iterable
from pathlib import PurePath

from clippings.archive import (
    COOCCURRENCE_LIMIT,
    Archive,
    Cooccurring,
    Tags,
    Term,
    _check_unique_urls,
    _preferred_name,
    _spelling_warnings,
    archive_order,
    crowded_warning,
)
from clippings.authority import KINDS, Authority
from clippings.content import Article
from clippings.errors import BuildError, Problem, shown
from clippings.text import slugify

Before = Callable[[Article, Article], bool]


def _archive_before(x: Article, y: Article) -> bool:
    """Archive order: dated articles newest first, then undated ones by slug."""
    kx, ky = x.sort_key, y.sort_key
    if kx[0] != ky[0]:
        return kx[0] < ky[0]
    return kx > ky if kx[0] == 0 else kx < ky


def _newer(x: Article, y: Article) -> bool:
    """A term's article order (newest sort key first)."""
    return x.sort_key > y.sort_key


def _position(items: list[Article], item: Article, before: Before) -> int:
    """Where `item` belongs in `items` (sorted by `before`; sort keys are unique per article)."""
    low, high = 0, len(items)
    while low < high:
        middle = (low + high) // 2
        if before(items[middle], item):
            low = middle + 1
        else:
            high = middle
    return low


def _put(items: list[Article], item: Article, before: Before) -> None:
    items.insert(_position(items, item, before), item)


def _take(items: list[Article], item: Article, before: Before) -> None:
    index = _position(items, item, before)
    if index >= len(items) or items[index] is not item:
        index = next(i for i, other in enumerate(items) if other is item)
    del items[index]


def _names(article: Article, kind: str) -> tuple[str, ...]:
    """The names an article gives a kind of term, in the order build_archive reads them."""
    names: tuple[str, ...] = getattr(article, kind)
    return (*names, article.publication) if kind == "sources" else names


def _slug(authority: Authority, kind: str, name: str) -> str:
    """The slug of the term a name stands for (the authority's canonical name wins)."""
    entity = authority.lookup(kind, name)
    return slugify(entity.name if entity else name)


def _tagged(archive: Archive, article: Article) -> list[Term]:
    own = archive.article_terms[article.path]
    return [term for kind in KINDS for term in own[kind]]


def memberships(archive: Archive, article: Article) -> set[Term]:
    """The terms whose article lists hold `article` (its tags and its publication)."""
    return {*_tagged(archive, article), archive.publishers[article.path]}


def _check_names(articles: Iterable[Article], authority: Authority) -> None:
    """The problems build_archive reports for names that cannot name a page, in its order."""
    problems = []
    for article in articles:
        for kind in KINDS:
            for name in _names(article, kind):
                if not _slug(authority, kind, name):
                    message = f"{kind}: {shown(name)} has no letters or digits to name a page"
                    problems.append(Problem(article.source, None, message))
    if problems:
        raise BuildError(problems)


class _Update:
    """One update: the terms and articles it touched, and the co-occurrence counts it changed."""

    def __init__(self, archive: Archive, authority: Authority) -> None:
        self.archive = archive
        self.authority = authority
        self.touched: dict[int, Term] = {}  # id -> term whose articles changed
        self.cooccurrence: dict[Term, Counter[Term]] = {}

    def term_for(self, kind: str, name: str) -> Term:
        entity = self.authority.lookup(kind, name)
        canonical = entity.name if entity else name
        slug = slugify(canonical)
        self.archive.spellings.setdefault((kind, slug), Counter())[name] += 1
        term = self.archive.terms[kind].get(slug)
        if term is None:
            term = self.archive.terms[kind][slug] = Term(kind, slug, canonical, entity)
        return term

    def count_pairs(self, tagged: list[Term], sign: int) -> None:
        if len(tagged) > COOCCURRENCE_LIMIT:  # build_archive leaves such articles out
            return
        for term in tagged:
            counts = self.cooccurrence.get(term)
            if counts is None:
                counts = self.cooccurrence[term] = Counter(dict(term.cooccurring))
            for other in tagged:
                if other is not term:
                    counts[other] += sign

    def remove(self, article: Article) -> None:
        archive = self.archive
        own = archive.article_terms.pop(article.path)
        publisher = archive.publishers.pop(article.path)
        self.count_pairs([term for kind in KINDS for term in own[kind]], -1)
        for kind in KINDS:
            for term in own[kind]:
                _take(term.articles, article, _newer)
                if kind == "sources":
                    _take(term.cited, article, _archive_before)
                self.touched[id(term)] = term
            for name in _names(article, kind):
                key = (kind, _slug(self.authority, kind, name))
                archive.spellings[key][name] -= 1
                if not archive.spellings[key][name]:
                    del archive.spellings[key][name]
        _take(publisher.published, article, _archive_before)
        if publisher not in own["sources"]:
            _take(publisher.articles, article, _newer)
        self.touched[id(publisher)] = publisher

    def add(self, article: Article) -> None:
        own = Tags(
            {
                kind: tuple(dict.fromkeys(self.term_for(kind, n) for n in getattr(article, kind)))
                for kind in KINDS
            }
        )
        for kind in KINDS:
            for term in own[kind]:
                _put(term.articles, article, _newer)
                if kind == "sources":
                    _put(term.cited, article, _archive_before)
                self.touched[id(term)] = term
        publisher = self.term_for("sources", article.publication)
        self.archive.publishers[article.path] = publisher
        _put(publisher.published, article, _archive_before)
        if publisher not in own["sources"]:
            _put(publisher.articles, article, _newer)
        self.touched[id(publisher)] = publisher
        self.archive.article_terms[article.path] = own
        self.count_pairs([term for kind in KINDS for term in own[kind]], +1)

    def settle_terms(self) -> None:
        """Drop terms left without articles; rename and re-rank the co-occurrence of the rest."""
        archive = self.archive
        for term in self.touched.values():
            if not term.articles:
                del archive.terms[term.kind][term.slug]
                del archive.spellings[(term.kind, term.slug)]
            else:
                term.name = _preferred_name(term, archive.spellings[(term.kind, term.slug)])
        for term, counts in self.cooccurrence.items():
            ranked = Cooccurring((other, n) for other, n in counts.items() if n > 0)
            ranked.sort(key=lambda item: (-item[1], item[0].kind, item[0].slug))
            term.cooccurring = ranked


def update_archive(
    archive: Archive,
    removed: Iterable[Article],
    added: Iterable[Article],
    authority: Authority,
    related_limit: int = 5,
) -> None:
    """Make `archive` what `build_archive` gives for its articles minus `removed` (the objects it
    holds) plus `added`, drafts kept in file order. An edit is a removal plus an addition.

    Raises BuildError as build_archive would, before changing anything.
    """
    removed, added = list(removed), list(added)
    gone = [a for a in removed if not a.draft]
    new = [a for a in added if not a.draft]
    ordered = list(archive.articles)
    for article in gone:
        _take(ordered, article, _archive_before)
    for article in new:
        _put(ordered, article, _archive_before)
    try:
        _check_unique_urls(ordered)
    except BuildError:  # name the two files in build_archive's order (ties follow file order)
        _check_unique_urls(archive_order(sorted(ordered, key=lambda a: PurePath(a.source))))
        raise
    _check_names(sorted(new, key=lambda a: _position(ordered, a, _archive_before)), authority)

    # What the removed articles shared with others, and their neighbours, before they go.
    held = {id(a): memberships(archive, a) for a in gone}
    around = [n for a in gone for n in (archive.previous[a.path], archive.following[a.path])]
    update = _Update(archive, authority)
    for article in gone:
        update.remove(article)
        for neighbours in (archive.previous, archive.following, archive.related):
            del neighbours[article.path]
    for article in new:
        update.add(article)
    update.settle_terms()
    archive.articles[:] = ordered
    position = {id(a): i for i, a in enumerate(ordered)}
    _update_neighbours(archive, [*around, *new], position)
    _update_years(archive, gone, new)
    _update_related(archive, update.touched.values(), gone, new, held, position, related_limit)
    _order_terms(archive, authority, position, update.touched.values())
    crowded = [
        crowded_warning(article, names)
        for article in ordered
        if (names := sum(map(len, archive.article_terms[article.path].values())))
        > COOCCURRENCE_LIMIT
    ]
    archive.warnings[:] = _spelling_warnings(archive.terms, archive.spellings) + crowded
    gone_drafts = {id(a) for a in removed if a.draft}
    drafts = [a for a in archive.drafts if id(a) not in gone_drafts]
    drafts += [a for a in added if a.draft]
    archive.drafts[:] = sorted(drafts, key=lambda a: PurePath(a.source))


def _update_neighbours(
    archive: Archive, dirty: Iterable[Article | None], position: dict[int, int]
) -> None:
    """Previous/next around every inserted article and every gap a removed one left."""
    ordered = archive.articles
    indices = {position[id(a)] for a in dirty if a is not None and id(a) in position}
    for index in {i + step for i in indices for step in (-1, 0, 1)}:
        if 0 <= index < len(ordered):
            path = ordered[index].path
            archive.previous[path] = ordered[index + 1] if index + 1 < len(ordered) else None
            archive.following[path] = ordered[index - 1] if index > 0 else None


def _update_years(archive: Archive, gone: list[Article], new: list[Article]) -> None:
    years = archive.years
    for article in gone:
        _take(years[article.year], article, _archive_before)
        if not years[article.year]:
            del years[article.year]
    for article in new:
        _put(years.setdefault(article.year, []), article, _archive_before)
    ranked = sorted(years, key=lambda y: (y == "undated", -int(y) if y != "undated" else 0))
    if ranked != list(years):  # a year was added (or emptied and refilled): newest first
        archive.years = {year: years[year] for year in ranked}


def _update_related(
    archive: Archive,
    touched: Iterable[Term],
    gone: list[Article],
    new: list[Article],
    held: dict[int, set[Term]],
    position: dict[int, int],
    limit: int,
) -> None:
    """Re-rank the related lists that can have changed: those of the added articles, and of the
    articles naming a term whose articles changed. Most are settled from the old list alone (the
    changed articles enter, leave or move; the others keep their relative order); a list that lost
    an article it cannot refill from what it knows is counted again from its terms."""
    gone_ids = {id(a) for a in gone}
    new_ids = {id(a) for a in new}

    def shared(own: set[Term], other: Article) -> int:
        if id(other) not in held:
            held[id(other)] = memberships(archive, other)
        return len(own & held[id(other)])

    readers: dict[int, Article] = {}
    for term in touched:
        if archive.terms[term.kind].get(term.slug) is term:
            for article in term.cited if term.kind == "sources" else term.articles:
                if id(article) not in new_ids:
                    readers[id(article)] = article
    for article in readers.values():
        own = set(_tagged(archive, article))
        old = archive.related[article.path]
        if len(old) == limit and not any(id(other) in gone_ids for other in old):
            last = (-shared(own, old[-1]), position[id(old[-1])]) if old else (0, -1)
            if all((-shared(own, o), position[id(o)]) > last for o in new):
                continue  # a full list that lost nothing and gained nothing stays as it is
        kept = [other for other in old if id(other) not in gone_ids]
        ranked = [(-shared(own, o), position[id(o)], o) for o in kept]
        for other in new:
            count = shared(own, other)
            if count:
                ranked.append((-count, position[id(other)], other))
        ranked.sort(key=lambda entry: entry[:2])
        if len(old) == limit and len(kept) < len(old):
            # Articles beyond the old cut rank after the last kept one; past it we know nothing.
            last = next((entry for entry in ranked if entry[2] is kept[-1]), None) if kept else None
            if last is None or len(ranked) < limit or ranked[limit - 1][:2] > last[:2]:
                archive.related[article.path] = _rank(archive, article, position, limit)
                continue
        archive.related[article.path] = [other for _, _, other in ranked[:limit]]
    for article in new:
        archive.related[article.path] = _rank(archive, article, position, limit)


def _rank(
    archive: Archive, article: Article, position: dict[int, int], limit: int
) -> list[Article]:
    """One article's related list by the definition: shared terms counted, ties in archive order."""
    counts: Counter[int] = Counter()
    for term in _tagged(archive, article):
        counts.update(map(id, term.articles))
    counts.pop(id(article), None)
    best = heapq.nsmallest(limit, ((-n, position[key]) for key, n in counts.items()))
    return [archive.articles[index] for _, index in best]


def _order_terms(
    archive: Archive, authority: Authority, position: dict[int, int], touched: Iterable[Term]
) -> None:
    """Put each kind's terms in build_archive's order: by first mention in archive order.

    A term the update did not touch keeps its first mention (its articles are the same), and
    articles keep their order among themselves: the others stay in the order they had, and each
    touched term is put in its place by binary search (keys are unique: one name of one article)."""

    def first_mention(term: Term) -> tuple[int, int]:
        # term.articles runs newest first with undated ones first; archive order puts the
        # undated last, by slug, so the first mention is the newest dated article, if any.
        first = next((a for a in term.articles if a.date is not None), term.articles[-1])
        names = _names(first, term.kind)
        slugs = (_slug(authority, term.kind, name) for name in names)
        return position[id(first)], next(i for i, slug in enumerate(slugs) if slug == term.slug)

    moved = {id(term) for term in touched}
    for kind in KINDS:
        terms = archive.terms[kind]
        stay = [term for term in terms.values() if id(term) not in moved]
        if len(stay) == len(terms):
            continue
        placed = sorted(
            [(first_mention(term), term) for term in terms.values() if id(term) in moved],
            key=lambda pair: pair[0],
        )
        ranked: list[Term] = []
        done = 0
        for key, term in placed:
            spot = bisect.bisect_left(stay, key, done, key=first_mention)
            ranked += stay[done:spot]
            ranked.append(term)
            done = spot
        ranked += stay[done:]
        archive.terms[kind] = {term.slug: term for term in ranked}
