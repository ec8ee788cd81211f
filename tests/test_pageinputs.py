"""Page fingerprints: what a page reads is found in its templates, not listed by hand."""

from __future__ import annotations

import dataclasses
import datetime as dt
import functools
from pathlib import Path

import jinja2
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from clippings import render as render_module
from clippings.archive import build_archive
from clippings.authority import Authority
from clippings.content import DERIVED_FROM, Article
from clippings.pageinputs import (
    PageInputs,
    Uncacheable,
    _archive_reads,
    names_read,
    template_reads,
)
from clippings.render import TEMPLATE_READS, TERM_NAME, THEME_DIR, Page

THEME = THEME_DIR / "templates"


def _article(slug: str, **fields: object) -> Article:
    values = dict(
        source=f"content/{slug}.md",
        title=slug.title(),
        date=None,
        publication="Daily",
        slug=slug,
        body="First paragraph.\n\nSecond.",
        body_line=5,
        people=("Ann Lee",),
    )
    return Article(**(values | fields))


def _inputs(templates: dict[str, str], articles: list[Article]) -> PageInputs:
    env = jinja2.Environment(loader=jinja2.DictLoader(templates))
    archive = build_archive(articles, Authority(), 5)
    return PageInputs(archive, env, "base")


def test_archive_reads_come_from_the_syntax_tree() -> None:
    env = jinja2.Environment()
    # The theme's home page gets its figures in its context: it reads no `archive`.
    assert _archive_reads(env.parse((THEME / "index.html").read_text())) == set()
    custom = "{{ archive.articles | length }} {{ archive.top_terms('people', 3) }}"
    assert _archive_reads(env.parse(custom)) == {"articles", "terms"}
    # The footer's link to archive.json and a comment naming the archive are no reads.
    assert _archive_reads(env.parse((THEME / "base.html").read_text())) == set()
    assert _archive_reads(env.parse("{{ archive.years | length }}")) == {"years"}
    for opaque in (
        "{{ shown(archive) }}",
        "{% set archive = 1 %}{{ archive }}",
        "{{ archive.related }}",
    ):
        with pytest.raises(Uncacheable):
            _archive_reads(env.parse(opaque))


def test_the_fields_a_template_reads_come_from_its_syntax_and_the_functions_it_calls() -> None:
    env = jinja2.Environment(
        loader=jinja2.DictLoader(
            {
                "list.html": "{% for a in items %}{{ a.title }}{{ date_tag(a) }}{% endfor %}",
                "page.html": "{% extends 'base.html' %}{{ body_html(article) }}",
                "base.html": "{{ items | map(attribute='publication') | join }}",
            }
        )
    )
    assert template_reads(env, "list.html").article_fields == ("date", "iso_date", "title")
    page = template_reads(env, "page.html")
    assert {"body", "captions", "publication"} <= set(page.article_fields)
    assert "title" not in page.article_fields


def test_a_macro_adds_what_it_reads_only_where_it_is_called() -> None:
    macros = (
        "{% macro counted(t) %}{{ t.count }}{% endmacro %}"
        "{% macro named(t) %}{{ t.name }}{{ counted(t) if false }}{% endmacro %}"
        "{% macro unused(t) %}{{ t.cooccurring }}{% endmacro %}"
    )
    env = jinja2.Environment(
        loader=jinja2.DictLoader(
            {
                "m.html": macros,
                "direct.html": "{% import 'm.html' as m %}{{ m.named(term) }}",
                "aliased.html": "{% from 'm.html' import counted as c %}{{ c(term) }}",
            }
        )
    )
    assert template_reads(env, "direct.html").term_fields == ("count", "name")  # transitively
    assert template_reads(env, "aliased.html").term_fields == ("count",)


@pytest.mark.parametrize(
    ("page", "of_others"),
    [
        # the own article by attribute, by item and through a template function
        ("{{ article.body }}{{ article['dek'] }}{{ excerpt(article) }}", set()),
        ("{{ article.title }}{% for other in related %}{{ other.title }}{% endfor %}", {"title"}),
        ("{{ date_tag(article) }}{{ date_tag(previous) }}", {"date_tag"}),
        # a function's other arguments are read as it declares (`TEMPLATE_READS_REST`)
        ("{{ news_article(article, terms, excerpt(article)) }}", set(TERM_NAME)),
        # the name bound to other articles: whatever is read through it may be theirs
        ("{% for article in related %}{{ article.lead }}{% endfor %}", {"lead"}),
        ("{% set article = previous %}{{ body_html(article) }}", {"body_html"}),
        # a macro may be passed any article, and sees the template's own
        ("{% macro card() %}{{ article.body }}{% endmacro %}{{ card() }}", {"body"}),
        ("{% from 'm.html' import card %}{{ card(article) }}", {"word_count"}),
    ],
)
def test_what_an_article_page_reads_of_other_articles_is_told_apart_from_its_own(
    page: str, of_others: set[str]
) -> None:
    macros = "{% macro card(a) %}{{ a.word_count }}{% endmacro %}"
    env = jinja2.Environment(loader=jinja2.DictLoader({"page.html": page, "m.html": macros}))
    assert names_read(env, "page.html", but_own_article=True) == of_others
    assert of_others <= names_read(env, "page.html")


@pytest.mark.parametrize(
    ("page", "of_others"),
    [
        # a term page's own count and dates; the terms beside it by name only
        (
            "{{ term.count }}{{ term.first_date }}{{ neighbourhood_map(term, cooccurring) }}"
            "{% for other, n in cooccurring %}{{ other.name }}{% endfor %}",
            ("entity", "kind", "name", "path", "slug"),
        ),
        # the name bound to other terms: whatever is read through it may be theirs
        ("{% for term in terms %}{{ term.count }}{% endfor %}", ("count",)),
        # other arguments, spread or not, are read as the function declares
        ("{{ term.count }}{{ neighbourhood_map(term, *more) }}", tuple(sorted(TERM_NAME))),
        ("{{ term.count }}{{ coverage_map(term, **more) }}", tuple(sorted(TERM_NAME | {"count"}))),
        # any `count` read counts as a term's: the fingerprint goes by attribute name
        ("{{ term.count }}{{ pager.count }}", ("count",)),
    ],
)
def test_what_a_term_page_reads_of_other_terms_is_told_apart_from_its_own(
    page: str, of_others: tuple[str, ...]
) -> None:
    env = jinja2.Environment(loader=jinja2.DictLoader({"page.html": page}))
    reads = template_reads(env, "page.html")
    assert reads.of_others.term_fields == of_others
    assert "count" in reads.term_fields


def test_what_an_article_page_reads_of_its_own_article_counts_among_all_it_reads() -> None:
    page = "{{ article.body }}{{ article['dek'] }}{{ excerpt(article) }}{{ other.title }}"
    env = jinja2.Environment(loader=jinja2.DictLoader({"page.html": page}))
    assert names_read(env, "page.html") == {"body", "dek", "excerpt", "title"}
    assert {"body", "dek", "summary", "lead"} <= set(
        template_reads(env, "page.html").article_fields
    )


def test_a_body_edit_changes_the_page_showing_the_body_and_not_a_list_showing_the_title() -> None:
    templates = {
        "list.html": "{% for a in items %}{{ a.title }}{% endfor %}",
        "article.html": "{{ article.title }}{{ body_html(article) }}",
    }
    first = _article("one")
    edited = dataclasses.replace(first, body="A new first paragraph.")
    retitled = dataclasses.replace(first, title="Another title")

    def prints(article: Article) -> tuple[str | None, str | None]:
        inputs = _inputs(templates, [article])
        listing = Page("index.html", "list.html", {"items": [article]})
        own = Page("one/index.html", "article.html", {"article": article})
        return inputs.fingerprint(listing), inputs.fingerprint(own)

    listing, own = prints(first)
    assert prints(edited) == (listing, prints(edited)[1]) and prints(edited)[1] != own
    assert prints(retitled)[0] != listing and prints(retitled)[1] != own


def test_a_body_edit_changes_its_own_page_and_not_the_page_linking_to_it_as_a_neighbour() -> None:
    templates = {"article.html": "{{ body_html(article) }}{{ previous.title if previous }}"}
    older, newer = _article("older"), _article("newer")

    def prints(older: Article, newer: Article) -> tuple[str | None, str | None]:
        inputs = _inputs(templates, [older, newer])
        own = Page("older/index.html", "article.html", {"article": older, "previous": None})
        linking = Page("newer/index.html", "article.html", {"article": newer, "previous": older})
        return inputs.fingerprint(own), inputs.fingerprint(linking)

    own, linking = prints(older, newer)
    edited = prints(dataclasses.replace(older, body="Rewritten."), newer)
    assert edited[0] != own and edited[1] == linking
    retitled = prints(dataclasses.replace(older, title="Renamed"), newer)
    assert retitled[0] != own and retitled[1] != linking
    # the name `article` bound to the neighbour: its body may be shown, and counts
    templates["article.html"] += "{% set article = previous %}{{ body_html(article) }}"
    own, linking = prints(older, newer)
    assert prints(dataclasses.replace(older, body="Rewritten."), newer)[1] != linking


def test_a_list_of_excerpts_changes_with_the_lead_paragraph_only() -> None:
    """`excerpt` reads the body's first paragraph (`Article.lead`), not the whole body: an
    edit further down renders the article's page again, not the lists showing it."""
    templates = {"list.html": "{% for a in items %}{{ excerpt(a) }}{% endfor %}"}
    first = _article("one")

    def listing(article: Article) -> str | None:
        inputs = _inputs(templates, [article])
        return inputs.fingerprint(Page("index.html", "list.html", {"items": [article]}))

    further_down = dataclasses.replace(first, body="First paragraph.\n\nSecond, edited.")
    new_lead = dataclasses.replace(first, body="A new first paragraph.\n\nSecond.")
    assert listing(further_down) == listing(first) != listing(new_lead)
    assert render_module.excerpt(further_down) == render_module.excerpt(first) == "First paragraph."


def test_a_term_counts_by_what_the_template_reads_of_it() -> None:
    names_only = {"t.html": "{% for t in terms %}{{ t.name }}{% endfor %}"}
    counts = {"t.html": "{% for t in terms %}{{ t.name }} {{ t.count }}{% endfor %}"}

    def fingerprint(templates: dict[str, str], articles: list[Article]) -> str | None:
        inputs = _inputs(templates, articles)
        terms = list(inputs.archive.terms["people"].values())
        return inputs.fingerprint(Page("t/index.html", "t.html", {"terms": terms}))

    one, two = [_article("one")], [_article("one"), _article("two")]
    assert fingerprint(names_only, one) == fingerprint(names_only, two)
    assert fingerprint(counts, one) != fingerprint(counts, two)


def test_what_cannot_be_described_is_rendered_every_time() -> None:
    inputs = _inputs(
        {"computed.html": "{% include name %}", "odd.html": "{{ value }}"}, [_article("one")]
    )
    assert inputs.fingerprint(Page("a.html", "computed.html", {"name": "x"})) is None
    assert inputs.fingerprint(Page("b.html", "odd.html", {"value": object()})) is None


def test_every_template_function_that_takes_an_article_or_a_term_declares_what_it_reads(
    tmp_path: Path,
) -> None:
    """A function missing from TEMPLATE_READS would read fields no fingerprint counts."""
    takes_none = {  # strings, dates, counts, and the context's own values only
        "period_name",
        "absolute",
        "timeline",
        "web_url",
        "wayback_lookup",
        "atom_date",
        "safe_url",
        "human_date",
        "rel",
    }
    (tmp_path / "config.yaml").write_text("title: T\n")
    from clippings.config import load_config

    config = load_config(tmp_path / "config.yaml", {})
    archive = build_archive([], Authority(), 5)
    env = render_module.Renderer(config, archive).env
    callables = {
        name
        for name, value in {**env.globals, **env.filters}.items()
        if callable(value)
        and not isinstance(value, type)
        and name not in jinja2.defaults.DEFAULT_FILTERS
        and name not in {"range", "dict", "lipsum", "cycler", "joiner", "namespace"}
    }
    assert callables - takes_none == TEMPLATE_READS.keys()


def test_a_derived_value_is_left_out_of_a_digest_only_beside_the_fields_it_comes_from() -> None:
    """`content.DERIVED_FROM` names every derived value of an article and its inputs: two
    articles alike in those inputs and different in everything else derive the same value."""
    derived = {
        name
        for name, value in vars(Article).items()
        if isinstance(value, property | functools.cached_property) and not name.startswith("_")
    }
    assert set(DERIVED_FROM) == derived - {"path"}  # the path keys every digest
    first = _article("one", date=dt.datetime(2020, 5, 1, 9, tzinfo=dt.UTC), body="A.\n\nB c.")
    other_values = {
        field.name: getattr(_article("two", date=dt.date(1999, 1, 2), body="X y z."), field.name)
        for field in dataclasses.fields(Article)
    }
    for name, inputs in DERIVED_FROM.items():
        twin = dataclasses.replace(
            first, **{k: v for k, v in other_values.items() if k not in inputs}
        )
        assert getattr(twin, name) == getattr(first, name), name
    templates = {"article.html": "{{ news_article(article, None) }}"}  # reads every field
    own = Page("one/index.html", "article.html", {"article": first})
    recounted = dataclasses.replace(first, body="A.\n\nB c d.")
    assert _inputs(templates, [first]).fingerprint(own) != _inputs(
        templates, [recounted]
    ).fingerprint(dataclasses.replace(own, context={"article": recounted}))


@settings(max_examples=300, deadline=None)
@given(st.lists(st.sampled_from(["\n", "\n\n", " ", "a", "b c", "\t"]), max_size=12).map("".join))
def test_the_lead_is_the_first_paragraph_of_the_body_split_on_blank_lines(body: str) -> None:
    written = next((p.strip() for p in body.split("\n\n") if p.strip()), "")
    assert _article("one", body=body).lead == written
