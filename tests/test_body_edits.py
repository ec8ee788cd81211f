"""Body-only edits re-render just the article's page, and the site equals a full build's."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

from clippings import body_edits
from clippings import build as build_module
from clippings.archive import build_archive
from clippings.authority import Authority
from clippings.build import build_site
from clippings.cache import CACHE_DIR, BuildCache
from clippings.config import Config
from clippings.errors import BuildError
from clippings.render import Renderer
from clippings.search import INDEX_DIR, ShardCache, shard_hash, shard_records
from tests.test_parallel import _site_bytes


@pytest.fixture
def config(fixture_config: Config) -> Config:
    """Without the downloads: archive.sqlite holds every body, so with them on a body edit is
    a full build (`test_with_downloads_on_a_body_edit_is_a_full_build`)."""
    return dataclasses.replace(fixture_config, search=False, downloads=False)


@pytest.fixture
def full_builds(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """Counts the builds that loaded the whole archive."""
    calls: list[int] = []
    original = build_module._load

    def counting(*args, **kwargs):
        calls.append(1)
        return original(*args, **kwargs)

    monkeypatch.setattr(build_module, "_load", counting)
    return calls


def _build(config: Config, site: Path, full_builds: list[int]) -> tuple[int, bool]:
    """Build; returns the files written and whether the whole archive was loaded."""
    before = len(full_builds)
    result = build_site(config, site)
    return result.written, len(full_builds) > before


def _clean(config: Config, site: Path) -> dict[str, bytes]:
    build_site(dataclasses.replace(config, cache=False), site)
    return _site_bytes(site)


def _append(path: Path, text: str) -> None:
    path.write_text(path.read_text(encoding="utf-8") + text, encoding="utf-8")


def test_a_body_edit_rewrites_one_page_without_loading_the_archive(
    config: Config, tmp_path: Path, full_builds: list[int]
) -> None:
    site = tmp_path / "out"
    content = config.path("content_dir")
    assert _build(config, site, full_builds)[1]
    letter = content / "2019" / "letter.md"
    _append(letter, "\nA closing paragraph with *emphasis* and [a link](https://example.org/).\n")

    assert _build(config, site, full_builds) == (2, False)  # the page and archive.json
    page = site / "2019" / "a-letter-from-pyongyang" / "index.html"
    assert "closing paragraph" in page.read_text()
    assert _site_bytes(site) == _clean(config, tmp_path / "clean1")
    assert _build(config, site, full_builds) == (0, False)  # the no-op check holds after it
    page.unlink()  # and still sees a rewritten page go missing
    assert _build(config, site, full_builds)[1]
    assert _site_bytes(site) == _clean(config, tmp_path / "clean1")

    # Two articles at once, one of them shown in the other's related list, and a draft.
    _append(letter, "\nA second addition.\n")
    _append(content / "2020" / "summit.md", "\nMore about the summit.\n")
    _append(content / "2019" / "draft.md", "\nA draft keeps growing.\n")
    assert _build(config, site, full_builds) == (3, False)
    assert _site_bytes(site) == _clean(config, tmp_path / "clean2")

    # Captions placed among the paragraphs: a body edit keeps them where they were put.
    letter.write_text(
        letter.read_text().replace("---\n", "---\ncaptions:\n  - text: A photo\n    after: 1\n", 1)
    )
    _build(config, site, full_builds)  # a caption is front matter: not a quick rebuild
    before_quick = letter.read_text()
    _append(letter, "\nA third addition, below the photo.\n")
    assert _build(config, site, full_builds) == (2, False)  # the page and archive.json
    assert '<figure class="caption">' in (page.read_text())
    assert _site_bytes(site) == _clean(config, tmp_path / "clean2b")

    # The engine saved before that quick rebuild is kept, told which pages it rewrote: the body
    # put back as the engine last saw it, beside a new article elsewhere, renders the page again
    # (its fingerprint is the saved one, but the page on disk is the quick rebuild's).
    letter.write_text(before_quick)
    (content / "2020" / "new.md").write_text(  # shares no term with the letter, nor a neighbour
        "---\ntitle: A New One\ndate: 2020-12-30\npublication: Example Times\n"
        "people: [Body Edit Person]\n---\n\nNew.\n"
    )
    assert not _build(config, site, full_builds)[1]
    assert "third addition" not in page.read_text()
    assert _site_bytes(site) == _clean(config, tmp_path / "clean3")


@pytest.mark.parametrize(
    "change",
    ["first paragraph", "front matter", "new file", "deleted file", "template"],
)
def test_anything_beyond_a_body_edit_is_not_a_quick_rebuild(
    config: Config, tmp_path: Path, full_builds: list[int], change: str
) -> None:
    site = tmp_path / "out"
    content = config.path("content_dir")
    build_site(config, site)
    letter = content / "2019" / "letter.md"
    text = letter.read_text(encoding="utf-8")
    if change == "first paragraph":  # the excerpt, shown in lists, comes from it
        letter.write_text(text.replace("The letter arrived", "The letter came"))
    elif change == "front matter":
        letter.write_text(text.replace("title: A Letter", "title: The Letter"))
    elif change == "new file":
        (content / "2019" / "copy.md").write_text(text.replace("title: A", "title: Another"))
    elif change == "deleted file":
        (content / "2020" / "ankara.md").unlink()
    elif change == "template":  # a custom template may show a body anywhere
        config.path("templates_dir").mkdir(exist_ok=True)
        (config.path("templates_dir") / "term.html").write_text(
            "{% extends 'base.html' %}{% block main %}{{ term.name }}{% endblock %}\n"
        )
    if change == "template":
        _append(letter, "\nOnly the body changed.\n")
    loads_before = len(full_builds)
    build_site(config, site)  # through the saved engine, or the full build for a template
    assert (len(full_builds) > loads_before) == (change == "template")
    assert _site_bytes(site) == _clean(config, tmp_path / "clean")


def test_more_body_edits_than_one_process_renders_are_a_full_build(
    config: Config, tmp_path: Path, full_builds: list[int], monkeypatch: pytest.MonkeyPatch
) -> None:
    """A search and replace over many bodies: the full build renders them on every core."""
    site = tmp_path / "out"
    content = config.path("content_dir")
    build_site(config, site)
    monkeypatch.setattr(build_module, "ENGINE_RENDER_LIMIT", 1)
    _append(content / "2019" / "letter.md", "\nOne more line.\n")
    _append(content / "2020" / "summit.md", "\nAnd one here.\n")
    engines: list[int] = []  # the saved engine would refuse them too: not even loaded
    load = BuildCache.load_engine
    monkeypatch.setattr(BuildCache, "load_engine", lambda *a: engines.append(1) or load(*a))
    result = build_site(config, site)
    assert result.stages.route == "full build: 2 changed articles, more than the quick path renders"
    assert full_builds[-1:] == [1] and engines == []
    assert _site_bytes(site) == _clean(config, tmp_path / "clean")


def test_with_downloads_a_body_edit_updates_them_without_loading_the_archive(
    fixture_config: Config, tmp_path: Path, full_builds: list[int]
) -> None:
    """The CSV's word count, the database's body, text and word count, and the data page's
    sizes are brought up to date from the built files, byte for byte as a full build."""
    config = dataclasses.replace(fixture_config, search=False)
    site = tmp_path / "out"
    content = config.path("content_dir")
    build_site(config, site)
    _append(content / "2019" / "letter.md", "\nSeven more words for the zeppelin count.\n")
    written, full = _build(config, site, full_builds)
    assert not full and written == 5  # page, archive.json, .csv, .sqlite, data page
    assert _site_bytes(site) == _clean(config, tmp_path / "clean1")
    assert b"zeppelin" in (site / "archive.sqlite").read_bytes()
    _append(content / "2019" / "letter.md", "\nA second addition.\n")
    _append(content / "2020" / "summit.md", "\nAnd more.\n")
    _append(content / "2019" / "draft.md", "\nA draft's words count nowhere.\n")
    assert not _build(config, site, full_builds)[1]
    assert _site_bytes(site) == _clean(config, tmp_path / "clean2")
    assert _build(config, site, full_builds) == (0, False)


def test_with_search_on_the_edited_articles_shard_is_indexed_again(
    fixture_config: Config, tmp_path: Path, full_builds: list[int]
) -> None:
    config = dataclasses.replace(fixture_config, search=True, downloads=False)
    site = tmp_path / "out"
    build_site(config, site)
    letter = config.path("content_dir") / "2019" / "letter.md"
    _append(letter, "\nA zeppelinophile wrote back.\n")
    before = len(full_builds)
    result = build_site(config, site)
    assert len(full_builds) == before
    assert result.search.startswith("1 of ")
    assert _site_bytes(site) == _clean(config, tmp_path / "clean")  # every page, index aside

    # The shards hash as a full build would hash them, and the site holds the cached bundles.
    records = shard_records(build_module.load_archive(config))
    shards = ShardCache(config.root / CACHE_DIR)
    assert {name: shards.hash_of(name) for name in records} == {
        name: shard_hash(items, "en") for name, items in records.items()
    }
    for name in records:
        live = site / INDEX_DIR / name
        for path in (p for p in live.rglob("*") if p.is_file()):
            assert path.read_bytes() == (shards.folder(name) / path.relative_to(live)).read_bytes()
    assert _build(config, site, full_builds) == (0, False)


def test_a_quick_rebuild_that_dies_is_finished_by_the_next_build(
    config: Config, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, full_builds: list[int]
) -> None:
    site = tmp_path / "out"
    build_site(config, site)
    letter = config.path("content_dir") / "2019" / "letter.md"
    _append(letter, "\nWritten when the disk filled up.\n")

    def failing(target: Path, data: bytes) -> bool:
        raise OSError(28, "No space left on device")

    with monkeypatch.context() as patch:
        patch.setattr(body_edits, "write_atomically", failing)
        with pytest.raises(BuildError, match="No space left on device"):
            build_site(config, site)
    # The cache no longer vouches for the pages it was writing: the next build (through the
    # engine, which sees the edited file again) renders them again.
    build_site(config, site)
    assert _site_bytes(site) == _clean(config, tmp_path / "clean")


_OWN_BODY = "{% for html, captions in body_sections(article) %}{{ html }}{% endfor %}"


def _article_page(extra: str) -> str:
    return "{% extends 'base.html' %}{% block main %}" + _OWN_BODY + extra + "{% endblock %}"


@pytest.mark.parametrize(
    ("templates", "allowed"),
    [
        ({}, True),  # the theme's
        ({"article.html": _article_page("{{ article.word_count }} words")}, True),
        ({"term.html": "{% for a in articles %}{{ a.title }} {{ excerpt(a) }}{% endfor %}"}, True),
        # a body, or what comes of it, on another page than the article's own
        ({"term.html": "{% for a in articles %}{{ a.word_count }}{% endfor %}"}, False),
        (
            {
                "_macros.html": "{% macro article_list(articles) %}{{ articles[0].lead }}{% endmacro %}"
            },
            False,
        ),
        ({"article.html": _article_page("{{ body_html(previous) }}")}, False),
        (
            {"article.html": _article_page("{% set article = next %}{{ article.body }}")},
            False,
        ),
        # an article page needing more than its recorded context holds
        ({"article.html": _article_page("{{ archive.years | length }}")}, False),
        ({"article.html": _article_page("{{ publisher.articles | length }}")}, False),
        ({"index.html": "{% include site.title %}"}, False),  # cannot be described
    ],
)
def test_the_quick_path_follows_what_the_templates_read(
    config: Config, templates: dict[str, str], allowed: bool
) -> None:
    folder = config.path("templates_dir")
    folder.mkdir(exist_ok=True)
    for name, text in templates.items():
        (folder / name).write_text(text)
    env = Renderer(config, build_archive([], Authority({}), 0)).env
    assert body_edits.shown_on_own_pages(env) is allowed


@pytest.mark.parametrize("shown_in_lists", [False, True])
def test_a_site_with_its_own_templates_takes_the_quick_path_where_they_allow_it(
    config: Config, tmp_path: Path, shown_in_lists: bool
) -> None:
    """The word count, a body's, on each article's own page; or on every list of articles,
    which then changes with a body edit (the saved engine renders them)."""
    folder = config.path("templates_dir")
    folder.mkdir(exist_ok=True)
    if shown_in_lists:
        macros = (body_edits.THEME_DIR / "templates" / "_macros.html").read_text()
        excerpt = '<p class="excerpt">{{ excerpt(article) }}</p>'
        assert excerpt in macros
        words = excerpt + "<p>{{ article.word_count }} words</p>"
        (folder / "_macros.html").write_text(macros.replace(excerpt, words))
    else:
        article = (body_edits.THEME_DIR / "templates" / "article.html").read_text()
        body = '<div class="body">'
        assert body in article
        (folder / "article.html").write_text(
            article.replace(body, body + "{{ article.word_count }}")
        )
    site = tmp_path / "out"
    build_site(config, site)
    _append(config.path("content_dir") / "2019" / "letter.md", "\nFive more words are here.\n")
    route = build_site(config, site).stages.route
    assert route == ("saved engine" if shown_in_lists else "quick path for body edits")
    assert _site_bytes(site) == _clean(config, tmp_path / "clean")


def test_a_body_edit_after_a_build_through_the_engine_is_a_quick_rebuild(
    config: Config, tmp_path: Path, full_builds: list[int]
) -> None:
    """The engine records what it published, as a full build does."""
    site = tmp_path / "out"
    build_site(config, site)
    letter = config.path("content_dir") / "2019" / "letter.md"
    letter.write_text(letter.read_text().replace("people: [", "people: [Engine Person, ", 1))
    assert _build(config, site, full_builds)[1] is False  # through the engine
    quick: list[int] = []
    original = body_edits.rebuild

    def counting(*args, **kwargs):
        result = original(*args, **kwargs)
        quick.append(result is not None)
        return result

    import clippings.build as build_module_here

    build_module_here.rebuild_body_edits, saved = counting, build_module_here.rebuild_body_edits
    try:
        _append(letter, "\nA body edit after the tag edit.\n")
        assert _build(config, site, full_builds) == (2, False)
    finally:
        build_module_here.rebuild_body_edits = saved
    assert quick == [True]
    assert _site_bytes(site) == _clean(config, tmp_path / "clean")


def test_bytes_the_engine_already_held_are_recorded_as_published_for_the_quick_path(
    config: Config, tmp_path: Path
) -> None:
    """A body put back to what the saved engine last parsed keeps the engine's article without
    parsing; the engine must still record the file's hash with the page it renders, or the
    next quick rebuild compares against what an earlier quick rebuild published. Seen after a
    quick rebuild killed once it had begun: the next build went straight to the engine."""
    site = tmp_path / "out"
    build_site(config, site)
    letter = config.path("content_dir") / "2019" / "letter.md"
    summit = config.path("content_dir") / "2020" / "summit.md"
    old = letter.read_text()
    new = old + "\nA new closing line.\n"
    for step, text in enumerate([new, old, new, old]):  # engine, quick, engine, quick
        letter.write_text(text)
        _append(summit, f"\nStep {step}.\n")  # so the quick path has work of its own
        if step % 2 == 0:  # as a killed quick rebuild leaves it: no last build to start from
            cache = BuildCache(config.root / CACHE_DIR)
            cache.forget_build()
            cache.close()
        route = build_site(config, site).stages.route
        assert route == ("saved engine" if step % 2 == 0 else "quick path for body edits")
        assert _site_bytes(site) == _clean(config, tmp_path / f"clean{step}"), step
