"""Model stage: the whole archive as one graph of articles and terms, built before any page renders.

Pure functions over loaded articles: no I/O. Term pages need the full graph (counts, dates,
co-occurrence), so everything here is computed once from the complete list of articles.
"""

from __future__ import annotations

import heapq
from collections import Counter, defaultdict
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, NoReturn

from clippings.authority import KINDS, Authority, Entity
from clippings.content import Article
from clippings.errors import BuildError, Problem, shown
from clippings.text import slugify

# Terms with at most this many articles are counted outright when ranking related articles.
FULL_COUNT_TERM_SIZE = 64
KIND_SINGULAR = {"people": "person", "countries": "country", "sources": "source"}
# Co-occurrence is quadratic in the names of one article: an article naming thousands (a list,
# a directory) would link every name to every other and take minutes; it is left out instead.
COOCCURRENCE_LIMIT = 200


class Cooccurring(list):
    """A term's (other term, articles naming both) pairs, most first. Pickled as two columns:
    the engine a build saves holds ~130,000 pairs at 10,000 articles, and one pickled tuple
    per pair was a sixth of the objects the pickler had to remember (its peak memory)."""

    def __reduce__(self) -> tuple:
        return _cooccurring_from_columns, ([term for term, _ in self], [n for _, n in self])


def _cooccurring_from_columns(terms: list[Term], counts: list[int]) -> Cooccurring:
    return Cooccurring(zip(terms, counts, strict=True))


# Terms are identities in the graph: hashed and compared by identity.
@dataclass(eq=False, repr=False)
class Term:
    """A person, country or source, with every article that names it (newest first)."""

    kind: str
    slug: str
    name: str
    entity: Entity | None = None
    articles: list[Article] = field(default_factory=list)
    published: list[Article] = field(default_factory=list)  # sources only: the publication
    cited: list[Article] = field(default_factory=list)  # sources only: named as a source
    cooccurring: list[tuple[Term, int]] = field(default_factory=Cooccurring)

    def __repr__(self) -> str:  # the default would print the whole graph, through co-occurrence
        return f"Term({self.kind!r}, {self.slug!r})"

    def __getstate__(self) -> dict[str, object]:
        """Without its co-occurring terms: pickled inside each term, every term would nest the
        next one (thousands deep). The Archive pickles them after all its terms."""
        return {**self.__dict__, "cooccurring": []}

    @property
    def path(self) -> str:
        return f"{self.kind}/{self.slug}/"

    @property
    def count(self) -> int:
        return len(self.articles)

    # Articles are sorted newest first with undated ones first, so the ends hold the date range.
    @property
    def first_date(self) -> str | None:
        return next((a.iso_date for a in reversed(self.articles) if a.date), None)

    @property
    def last_date(self) -> str | None:
        return next((a.iso_date for a in self.articles if a.date), None)


class Tags(dict[str, tuple[Term, ...]]):
    """An article's terms, by kind, fixed when made: an edit of the article's tags makes a new
    one, so the engine can keep what it derived from one by its identity (`KnownDigests`,
    `exports.ArticleLines`) as long as no term is renamed."""

    __slots__ = ("_fixed",)

    def __init__(self, terms: Mapping[str, tuple[Term, ...]]) -> None:
        super().__init__(terms)
        self._fixed = True

    def _refuse(self, *args: object, **kwargs: object) -> NoReturn:
        raise TypeError("an article's Tags are never changed in place: make new ones")

    def __setitem__(self, kind: str, terms: tuple[Term, ...]) -> None:
        if getattr(self, "_fixed", False):  # unpickling sets the items, then the state
            self._refuse()
        super().__setitem__(kind, terms)

    __delitem__ = __ior__ = clear = pop = popitem = setdefault = update = _refuse  # type: ignore[assignment]

    # Pickled as a dict is, its items one by one, then this state: no temporary object per
    # Tags, which the pickler's memo would keep to the end of a dump (23 MB at 100,000).
    def __getstate__(self) -> bool:
        return True

    def __setstate__(self, state: bool) -> None:
        self._fixed = True

    def __copy__(self) -> Tags:
        return self


# Every field a template may read of a term (see pageinputs.py).
TERM_FIELDS = frozenset(
    [name for name in Term.__dataclass_fields__]
    + [name for name, value in vars(Term).items() if isinstance(value, property)]
)


@dataclass
class Archive:
    """Articles newest first, terms per kind, and the links between them."""

    articles: list[Article]
    terms: dict[str, dict[str, Term]]
    article_terms: dict[str, Tags]  # article path -> kind -> its terms
    publishers: dict[str, Term]  # article path -> the source term of its publication
    previous: dict[str, Article | None]  # article path -> the next older article
    following: dict[str, Article | None]  # article path -> the next newer article
    related: dict[str, list[Article]]
    years: dict[str, list[Article]]
    drafts: list[Article]
    warnings: list[Problem]
    # (kind, slug) -> how many times each spelling names the term: kept so that the model can be
    # updated for a few changed articles (model_update.py) without reading all the others.
    spellings: dict[tuple[str, str], Counter[str]] = field(default_factory=dict)

    def __getstate__(self) -> dict[str, object]:
        """With each term's co-occurring terms last, when every term is already pickled (see
        `Term.__getstate__`); the lists keep their identity (page contexts hold them too)."""
        every = [term for terms in self.terms.values() for term in terms.values()]
        return {**self.__dict__, "cooccurring": [(term, term.cooccurring) for term in every]}

    def __setstate__(self, state: dict[str, Any]) -> None:
        for term, cooccurring in state.pop("cooccurring"):
            term.cooccurring = cooccurring
        self.__dict__.update(state)

    def sorted_terms(self, kind: str) -> list[Term]:
        return sorted(self.terms[kind].values(), key=lambda t: (slugify(t.name), t.slug))

    def top_terms(self, kind: str, limit: int) -> list[Term]:
        return sorted(self.terms[kind].values(), key=lambda t: (-t.count, t.slug))[:limit]


def _check_unique_urls(articles: list[Article]) -> None:
    """Two articles that would write the same page are an error naming both files."""
    claimed: dict[str, str] = {}
    problems = []
    for article in articles:
        for path in (article.path, *(alias.strip("/") + "/" for alias in article.aliases)):
            if path in claimed:
                problems.append(
                    Problem(article.source, None, f"URL {path} is also used by {claimed[path]}")
                )
            else:
                claimed[path] = article.source
    if problems:
        raise BuildError(problems)


def _collect_terms(
    articles: list[Article], authority: Authority
) -> tuple[
    dict[str, dict[str, Term]],
    dict[str, Tags],
    dict[str, Term],
    dict[tuple[str, str], Counter[str]],
]:
    terms: dict[str, dict[str, Term]] = {kind: {} for kind in KINDS}
    article_terms: dict[str, Tags] = {}
    publishers: dict[str, Term] = {}
    spellings: dict[tuple[str, str], Counter[str]] = defaultdict(Counter)
    problems: list[Problem] = []

    def term_for(kind: str, name: str, article: Article) -> Term | None:
        entity = authority.lookup(kind, name)
        canonical = entity.name if entity else name
        slug = slugify(canonical)
        if not slug:
            problems.append(
                Problem(
                    article.source,
                    None,
                    f"{kind}: {shown(name)} has no letters or digits to name a page",
                )
            )
            return None
        spellings[(kind, slug)][name] += 1
        term = terms[kind].get(slug)
        if term is None:
            term = terms[kind][slug] = Term(kind, slug, canonical, entity)
        return term

    for article in articles:  # newest first, so term article lists are newest first too
        found = {
            kind: [term_for(kind, name, article) for name in getattr(article, kind)]
            for kind in KINDS
        }
        own = Tags(
            {kind: tuple(dict.fromkeys(t for t in found[kind] if t is not None)) for kind in KINDS}
        )
        for kind in KINDS:
            for term in own[kind]:
                term.articles.append(article)
                if kind == "sources":
                    term.cited.append(article)
        publisher = term_for("sources", article.publication, article)
        if publisher is not None:
            publishers[article.path] = publisher
            publisher.published.append(article)
            if publisher not in own["sources"]:
                publisher.articles.append(article)
        article_terms[article.path] = own
    if problems:
        raise BuildError(problems)
    keys = {id(article): article.sort_key for article in articles}  # once each, not per term
    for kind_terms in terms.values():
        for term in kind_terms.values():
            term.articles.sort(key=lambda a: keys[id(a)], reverse=True)
            term.name = _preferred_name(term, spellings[(term.kind, term.slug)])
    return terms, article_terms, publishers, dict(spellings)


def _preferred_name(term: Term, names: Counter[str]) -> str:
    """The authority's spelling, or else the alphabetically first spelling, so output is stable."""
    return term.entity.name if term.entity else min(names)


def _spelling_warnings(
    terms: dict[str, dict[str, Term]], spellings: dict[tuple[str, str], Counter[str]]
) -> list[Problem]:
    """One warning per term without an authority entry that is spelled more than one way."""
    warnings = []
    for (kind, slug), names in sorted(spellings.items()):
        term = terms[kind][slug]
        if term.entity is None and len(names) > 1:
            listed = ", ".join(sorted(names))
            message = (
                f"{kind}: {listed} share one page '{term.name}'; "
                "add the name to the authority file to choose its spelling"
            )
            warnings.append(Problem("content", None, message, warning=True))
    return warnings


def crowded_warning(article: Article, names: int) -> Problem:
    """The warning for an article naming too many terms to count its co-occurrences."""
    message = (
        f"names {names} people, countries and sources; articles naming more than "
        f"{COOCCURRENCE_LIMIT} are left out of 'appears with' lists"
    )
    return Problem(article.source, None, message, warning=True)


def _cooccurrence(
    terms: dict[str, dict[str, Term]],
    article_terms: dict[str, Tags],
    articles: list[Article],
) -> list[Problem]:
    """Rank the terms each term appears with; returns warnings for articles left out."""
    counts: dict[Term, Counter[Term]] = defaultdict(Counter)
    warnings: list[Problem] = []
    for article in articles:
        own = article_terms[article.path]
        tagged = [term for kind in KINDS for term in own[kind]]
        if len(tagged) > COOCCURRENCE_LIMIT:
            warnings.append(crowded_warning(article, len(tagged)))
            continue
        for term in tagged:
            counts[term].update(other for other in tagged if other is not term)
    for kind_terms in terms.values():
        for term in kind_terms.values():
            ranked = sorted(
                counts[term].items(), key=lambda item: (-item[1], item[0].kind, item[0].slug)
            )
            term.cooccurring = Cooccurring(ranked)
    return warnings


def _related(
    articles: list[Article], article_terms: dict[str, Tags], limit: int
) -> dict[str, list[Article]]:
    """Up to `limit` articles per article, ranked by how many people, countries and sources they
    share (most first), ties broken by archive order.

    Counting every article that shares any term is quadratic in the size of popular terms (a
    country named in a third of the archive), so only small terms are counted outright. A big
    term is a bitmask over archive positions; per article its big terms' masks are summed into
    a binary counter whose digits are masks, so "shares exactly L big terms" is a few AND
    operations over the whole archive in C, and the lowest set bits come first in archive order.
    """
    position = {article.path: index for index, article in enumerate(articles)}
    members: dict[Term, list[int]] = {}  # term -> archive positions of its articles
    member_sets: dict[Term, set[int]] = {}
    masks: dict[Term, int] = {}
    related: dict[str, list[Article]] = {}
    for index, article in enumerate(articles):
        own = [term for kind in KINDS for term in article_terms[article.path][kind]]
        for term in own:
            if term not in members:
                members[term] = [position[other.path] for other in term.articles]
        big = [term for term in own if len(members[term]) > FULL_COUNT_TERM_SIZE]
        counts: Counter[int] = Counter()
        for term in own:
            if len(members[term]) <= FULL_COUNT_TERM_SIZE:
                counts.update(members[term])
        for term in big:  # exact counts for the candidates already found, at C speed
            if term not in member_sets:
                member_sets[term] = set(members[term])
            counts.update(counts.keys() & member_sets[term])
        counts.pop(index, None)
        top = heapq.nsmallest(limit, ((-count, other) for other, count in counts.items()))
        if big:
            for term in big:
                if term not in masks:
                    masks[term] = _bitmask(members[term], len(articles))
            big_masks = [masks[term] for term in big]
            top = _add_big_term_matches(top, counts.keys() | {index}, big_masks, limit)
        related[article.path] = [articles[other] for _, other in top]
    return related


def _bitmask(positions: list[int], size: int) -> int:
    bits = bytearray(size // 8 + 1)
    for position in positions:
        bits[position >> 3] |= 1 << (position & 7)
    return int.from_bytes(bits, "little")


def _add_big_term_matches(
    top: list[tuple[int, int]], taken: set[int], masks: list[int], limit: int
) -> list[tuple[int, int]]:
    """Add the articles that share only big terms (their masks) with this one, most shared first
    and in archive order, while they can still enter the top; `taken` are already ranked."""
    digits: list[int] = []  # digit i holds the positions whose count of shared terms has bit i
    for mask in masks:
        carry = mask
        for i, digit in enumerate(digits):
            digits[i] = digit ^ carry
            carry &= digit
            if not carry:
                break
        if carry:
            digits.append(carry)
    for level in range(len(masks), 0, -1):
        if len(top) == limit and -top[-1][0] > level:
            break
        if level.bit_length() > len(digits):
            continue  # no article shares that many
        # The positions counting exactly `level`: the digits of its one bits, less those of its
        # zero bits. Every value stays non-negative: CPython's bitwise operations take extra
        # passes over a negative int (~digit, -exact), and these masks span the whole archive.
        ones = [digit for i, digit in enumerate(digits) if level >> i & 1]  # level >= 1: not empty
        exact = ones[0]
        for digit in ones[1:]:
            exact &= digit
        for i, digit in enumerate(digits):
            if not level >> i & 1:
                exact ^= exact & digit
        found: list[tuple[int, int]] = []
        while exact and len(found) < limit:
            rest = exact & (exact - 1)  # the lowest set bit cleared
            other = (exact ^ rest).bit_length() - 1
            exact = rest
            if other not in taken:
                found.append((-level, other))
        if found:
            top = sorted([*top, *found])[:limit]
    return top


def archive_order(articles: list[Article]) -> list[Article]:
    """The published articles newest first, undated last (ties, only between duplicate URLs, keep
    the given order among undated articles and reverse it among dated ones)."""
    published = sorted((a for a in articles if not a.draft), key=lambda a: a.sort_key)
    # Newest first, undated last: reverse the dated part only.
    dated = [a for a in published if a.date is not None]
    return dated[::-1] + [a for a in published if a.date is None]


def build_archive(articles: list[Article], authority: Authority, related_limit: int = 5) -> Archive:
    """Gather the whole archive: ordering, terms, neighbours, related articles and years."""
    drafts = [a for a in articles if a.draft]
    ordered = archive_order(articles)
    _check_unique_urls(ordered)
    terms, article_terms, publishers, spellings = _collect_terms(ordered, authority)
    crowded = _cooccurrence(terms, article_terms, ordered)
    previous = {
        a.path: (ordered[i + 1] if i + 1 < len(ordered) else None) for i, a in enumerate(ordered)
    }
    following = {a.path: (ordered[i - 1] if i > 0 else None) for i, a in enumerate(ordered)}
    years: dict[str, list[Article]] = {}
    for article in ordered:
        years.setdefault(article.year, []).append(article)
    return Archive(
        articles=ordered,
        terms=terms,
        article_terms=article_terms,
        publishers=publishers,
        previous=previous,
        following=following,
        related=_related(ordered, article_terms, related_limit),
        years=years,
        drafts=drafts,
        warnings=_spelling_warnings(terms, spellings) + crowded,
        spellings=spellings,
    )
