"""Render stage: relative links, escaping, pagination, template errors with file and line."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from clippings.build import build_site, load_archive
from clippings.config import Config
from clippings.errors import BuildError
from clippings.render import Page, Renderer, Site, atom_date, paginate
from tests.conftest import write_article


def test_page_root_is_relative_depth():
    assert Page("index.html", "x").root == ""
    assert Page("people/kim/index.html", "x").root == "../../"


def test_paginate_paths():
    pagers = paginate(list(range(5)), 2, "people/kim/")
    assert [(p.number, p.items, p.previous, p.next) for p in pagers] == [
        (1, [0, 1], None, "people/kim/page/2/"),
        (2, [2, 3], "people/kim/", "people/kim/page/3/"),
        (3, [4], "people/kim/page/2/", None),
    ]
    assert paginate([], 2, "")[0].items == []


@pytest.mark.parametrize(
    ("iso", "expected"),
    [
        ("2018-01-02", "2018-01-02T00:00:00Z"),
        ("2018-01-02T03:04:05", "2018-01-02T03:04:05Z"),
        ("2018-01-02T03:04:05+03:00", "2018-01-02T03:04:05+03:00"),
    ],
)
def test_atom_date(iso: str, expected: str):
    assert atom_date(iso) == expected


def test_every_url_in_html_is_relative(fixture_config: Config, tmp_path: Path):
    site = tmp_path / "out"
    build_site(fixture_config, site)
    for page in site.rglob("*.html"):
        html = re.sub(r'<link rel="canonical"[^>]*>', "", page.read_text())
        if page.name == "404.html":  # served at any depth: its <base> is the site's root path
            assert '<base href="/fixture/">' in html
            html = html.replace('<base href="/fixture/">', "")
        for url in re.findall(r'(?:href|src)="([^"]*)"', html):
            assert not url.startswith("/"), f"{page}: {url}"
            assert not url.startswith("https://example.org"), f"{page}: {url}"


def test_title_with_script_is_escaped(fixture_config: Config, tmp_path: Path):
    site = tmp_path / "out"
    build_site(fixture_config, site)
    html = (site / "2020/erdogan-calls-kim-script-alert-1-script/index.html").read_text()
    assert "<script>alert(1)</script>" not in html
    assert "Erdoğan Calls Kim &lt;script&gt;alert(1)&lt;/script&gt;" in html


def test_template_error_names_file_and_line(
    fixture_site: Path, fixture_config: Config, tmp_path: Path
):
    (fixture_site / "templates").mkdir()
    (fixture_site / "templates" / "article.html").write_text(
        "line one\n{{ article.no_such_field }}\n"
    )
    with pytest.raises(BuildError) as error:
        build_site(fixture_config, tmp_path / "out")
    problem = error.value.problems[0]
    assert problem.path.endswith("templates/article.html")
    assert problem.line == 2
    assert "no_such_field" in problem.message


def test_template_syntax_error(fixture_site: Path, fixture_config: Config, tmp_path: Path):
    (fixture_site / "templates").mkdir()
    (fixture_site / "templates" / "term.html").write_text("ok\n{% if %}\n")
    with pytest.raises(BuildError) as error:
        build_site(fixture_config, tmp_path / "out")
    assert [(p.path.endswith("term.html"), p.line) for p in error.value.problems] == [(True, 2)]


def test_site_template_overrides_theme(fixture_site: Path, fixture_config: Config, tmp_path: Path):
    (fixture_site / "templates").mkdir()
    (fixture_site / "templates" / "404.html").write_text("custom {{ site.title }}\n")
    build_site(fixture_config, tmp_path / "out")
    assert (tmp_path / "out" / "404.html").read_text() == "custom Fixture Archive\n"


def test_page_plan_covers_contract(fixture_config: Config):
    archive = load_archive(fixture_config)
    paths = {page.path for page in Site(archive, fixture_config).pages()}
    for expected in [
        "index.html",
        "page/2/index.html",
        "2020/index.html",
        "undated/index.html",
        "2020/leaders-meet-at-the-summit/index.html",
        "undated/an-undated-note/index.html",
        "people/index.html",
        "countries/index.html",
        "sources/index.html",
        "people/kim-jong-un/index.html",
        "people/kim-jong-un/page/2/index.html",
        "people/kim-jong-un/feed.xml",
        "feed.xml",
        "sitemap.xml",
        "robots.txt",
        "404.html",
        ".nojekyll",
        "archive.json",
        "old/summit/index.html",
    ]:
        assert expected in paths


def test_markdown_body_rendered(fixture_config: Config):
    archive = load_archive(fixture_config)
    renderer = Renderer(fixture_config, archive)
    summit = next(a for a in archive.articles if a.slug == "leaders-meet-at-the-summit")
    assert str(renderer.body_html(summit)).startswith(
        "<p>The leaders met for <strong>two hours</strong>"
    )


def test_capture_without_article_text_says_so(fixture_config: Config, tmp_path: Path):
    # The importer keeps a gallery page (a title, no text) as a record with an empty body.
    write_article(
        fixture_config.path("content_dir"),
        "2021/a-gallery.md",
        "title: A Gallery\ndate: 2021-05-01\npublication: Example Wire",
        body="\n",
    )
    site = tmp_path / "out"
    build_site(fixture_config, site)
    html = (site / "2021/a-gallery/index.html").read_text()
    assert '<p class="no-text">No article text in the capture.</p>' in html
    other = (site / "2020/leaders-meet-at-the-summit/index.html").read_text()
    assert "No article text" not in other


def test_captions_placed_among_paragraphs_and_dates_in_the_sites_language(
    fixture_config: Config,
):
    import dataclasses
    import datetime as dt

    from clippings.content import Article

    body = "One.\n\nTwo <b>&amp;</b>.\n\n  \nThree.\n"
    article = Article("x.md", "T", dt.date(2018, 3, 3), "P", "t", body, 1)
    article = dataclasses.replace(
        article, captions=("Late", "Early", "Far"), caption_places=(None, 1, 9)
    )
    renderer = Renderer(fixture_config, load_archive(fixture_config))
    sections = renderer.body_sections(article)
    assert [captions for _, captions in sections] == [["Early"], ["Late", "Far"]]
    assert str(sections[0][0]) == "<p>One.</p>" and "<p>Three.</p>" in str(sections[1][0])
    assert renderer.human_date("2018-03-03T10:00:00Z") == "March 3, 2018"
    french = Renderer(dataclasses.replace(fixture_config, language="fr"), renderer.archive)
    assert french.human_date("2018-03-03") == "3 mars 2018"
    assert french.period_name("2018-03") == "mars 2018"


def test_date_tags_are_memoised_within_a_bound(fixture_config: Config, monkeypatch):
    import dataclasses
    import datetime as dt

    from clippings import render
    from clippings.content import Article

    monkeypatch.setattr(render, "_DATE_TAGS_KEPT", 3)
    renderer = Renderer(fixture_config, load_archive(fixture_config))
    article = Article("x.md", "T", dt.date(2018, 3, 3), "P", "t", "Body.", 1)
    tags = []
    for minute in range(8):
        when = dt.datetime(2018, 3, 3, 10, minute, tzinfo=dt.UTC)
        tags.append(str(renderer.date_tag(dataclasses.replace(article, date=when))))
        assert len(renderer._date_tags) <= 3
    assert tags[7] == '<time datetime="2018-03-03T10:07:00+00:00">March 3, 2018</time>'
    again = dataclasses.replace(article, date=dt.datetime(2018, 3, 3, 10, 0, tzinfo=dt.UTC))
    assert str(renderer.date_tag(again)) == tags[0]


def test_template_calls_keep_jinjas_rules(fixture_config: Config):
    """Plain functions and methods are called directly (`_DirectCallContext`); one marked with
    `pass_context` still gets the context, and a StopIteration becomes an undefined value."""
    import types

    import jinja2

    class Helper:
        def twice(self, text: str) -> str:
            return text * 2

    def stop() -> None:
        raise StopIteration

    renderer = Renderer(fixture_config, load_archive(fixture_config))
    env = renderer.env
    env.globals.update(
        twice=Helper().twice,
        plain=lambda text: f"<{text}>",
        from_context=jinja2.pass_context(lambda context, key: context[key]),
        from_environment=jinja2.pass_environment(lambda environment: environment is env),
        stop=stop,
        bound_builtin=types.MethodType(len, "abc"),
    )
    template = env.from_string(
        "{{ twice('a') }} {{ plain('b') }} {{ from_context('word') }} {{ from_environment() }}"
        "{% for i in [1] %}{% set inner = 'v' %}{{ from_context('inner') }}{% endfor %}"
        " {{ bound_builtin() }}"
    )
    assert template.render(word="w") == "aa &lt;b&gt; w Truev 3"
    with pytest.raises(jinja2.UndefinedError, match="StopIteration"):
        env.from_string("{{ stop() }}").render()


def test_people_sort_by_surname_unless_the_authority_says_otherwise():
    from clippings.archive import Term
    from clippings.authority import Entity
    from clippings.render import sort_key

    def person(name: str, **entity) -> Term:
        return Term("people", name, name, Entity("people", name, **entity) if entity else None)

    assert sort_key(person("Vladimir Putin")) == "putin-vladimir"
    assert sort_key(person("Kim Jong Un", family_name_first=True)) == "kim-jong-un"
    assert sort_key(person("Recep Tayyip Erdoğan", sort_name="Erdoğan, Recep")) == "erdogan-recep"
    assert sort_key(person("Madonna")) == "madonna"
