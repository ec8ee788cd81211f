"""The build cache never changes the site: byte-identical with and without it, across edits."""

from __future__ import annotations

import dataclasses
import gc
import os
import pickle
import random
import shutil
import sqlite3
import sys
import weakref
from collections.abc import Iterator
from pathlib import Path

import pytest

from clippings import build as build_module
from clippings import cache as cache_module
from clippings import incremental as incremental_module
from clippings.build import build_site
from clippings.cache import CACHE_DIR
from clippings.config import Config
from clippings.content import read_article
from tests.conftest import saved_after_read, write_article
from tests.test_incremental import _random_edit
from tests.test_parallel import _site_bytes


def _uncached(config: Config, site: Path) -> dict[str, bytes]:
    build_site(dataclasses.replace(config, cache=False), site)
    return _site_bytes(site)


def test_cached_builds_match_uncached_builds_through_edits(
    fixture_config: Config, tmp_path: Path
) -> None:
    site = tmp_path / "out"
    content = fixture_config.path("content_dir")
    first = build_site(fixture_config, site)
    assert first.written == first.pages
    assert _site_bytes(site) == _uncached(fixture_config, tmp_path / "plain0")
    again = build_site(fixture_config, site)
    assert (again.written, again.pages) == (0, first.pages)

    article = content / "2019" / "letter.md"
    article.write_text(article.read_text() + "\nAn edited closing paragraph.\n")
    edited = build_site(fixture_config, site)
    assert 0 < edited.written < edited.pages
    assert _site_bytes(site) == _uncached(fixture_config, tmp_path / "plain1")

    text = article.read_text().replace("people: [", "people: [Cache Test Person, ", 1)
    article.write_text(text)
    write_article(content, "2020/new.md", "title: New one\ndate: 2020-05-05\npublication: P")
    build_site(fixture_config, site)
    assert (site / "people" / "cache-test-person" / "index.html").is_file()
    assert _site_bytes(site) == _uncached(fixture_config, tmp_path / "plain2")

    article.unlink()
    removed = build_site(fixture_config, site)
    assert removed.removed > 0
    assert _site_bytes(site) == _uncached(fixture_config, tmp_path / "plain3")


def test_deleting_a_built_page_makes_the_next_build_restore_it(
    fixture_config: Config, tmp_path: Path
) -> None:
    site = tmp_path / "out"
    build_site(fixture_config, site)
    expected = _site_bytes(site)
    (site / "people" / "index.html").unlink()
    build_site(fixture_config, site)
    assert _site_bytes(site) == expected


def test_corrupt_cache_is_discarded_with_a_message(fixture_config: Config, tmp_path: Path) -> None:
    build_site(fixture_config, tmp_path / "out")
    database = fixture_config.root / CACHE_DIR / "cache.sqlite"
    for suffix in ("-wal", "-shm"):
        Path(f"{database}{suffix}").unlink(missing_ok=True)
    database.write_bytes(b"this is not a database" * 100)
    result = build_site(fixture_config, tmp_path / "out")
    assert any("build cache unreadable" in w.message for w in result.warnings)
    assert _site_bytes(tmp_path / "out") == _uncached(fixture_config, tmp_path / "plain")
    sqlite3.connect(database).execute("SELECT count(*) FROM articles").fetchone()


def test_cache_from_another_version_is_discarded(
    fixture_config: Config, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    build_site(fixture_config, tmp_path / "out")
    monkeypatch.setattr(cache_module, "VERSION", "another")
    result = build_site(fixture_config, tmp_path / "out")
    assert any("another version" in w.message for w in result.warnings)
    assert result.written == 0  # pages re-rendered from scratch come out identical
    again = build_site(fixture_config, tmp_path / "out")
    assert not any("build cache" in w.message for w in again.warnings)


@pytest.mark.parametrize("damage", ["every page after the header", "a page read mid-build"])
def test_a_cache_damaged_inside_is_discarded_and_the_build_done_again(
    fixture_config: Config, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, damage: str
) -> None:
    """No integrity check runs at open (it reads the whole file): SQLite reports a damaged page
    when a query reads it, and the build then starts over with a new cache."""
    site = tmp_path / "out"
    build_site(fixture_config, site)
    database = fixture_config.root / CACHE_DIR / "cache.sqlite"
    article = fixture_config.path("content_dir") / "2019" / "letter.md"
    article.write_text(article.read_text().replace("title: A Letter", "title: The Letter"))
    if damage == "every page after the header":
        sqlite3.connect(database).execute("PRAGMA wal_checkpoint(TRUNCATE)").close()
        data = bytearray(database.read_bytes())
        data[4096 * 2 :] = b"\xa5" * (len(data) - 4096 * 2)
        database.write_bytes(bytes(data))
    else:  # in the full build's path: without a saved engine
        (fixture_config.root / CACHE_DIR / cache_module.ENGINE_FILE).unlink()
        original = cache_module.BuildCache.prefill_bodies

        def malformed(self, *args):
            monkeypatch.setattr(cache_module.BuildCache, "prefill_bodies", original)
            raise sqlite3.DatabaseError("database disk image is malformed")

        monkeypatch.setattr(cache_module.BuildCache, "prefill_bodies", malformed)
    result = build_site(fixture_config, site)
    assert any("build cache" in w.message for w in result.warnings)
    assert _site_bytes(site) == _uncached(fixture_config, tmp_path / "plain")
    assert not any("build cache" in w.message for w in build_site(fixture_config, site).warnings)


@pytest.mark.parametrize("path", ["engine", "full build"])
def test_a_tag_edit_renders_only_the_pages_that_show_it(
    fixture_config: Config, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, path: str
) -> None:
    """Through the engine the last build saved, or the full build's fingerprints."""
    site = tmp_path / "out"
    first = build_site(fixture_config, site)
    if path == "full build":
        (fixture_config.root / CACHE_DIR / cache_module.ENGINE_FILE).unlink()
    rendered: list[int] = []
    for module, name in ((build_module, "render_pages"), (incremental_module, "render_all")):
        original = getattr(module, name)

        def counting(pages, *args, original=original, **kwargs):
            rendered.append(len(pages))
            return original(pages, *args, **kwargs)

        monkeypatch.setattr(module, name, counting)
    article = fixture_config.path("content_dir") / "2020" / "ankara.md"
    article.write_text(article.read_text().replace("people: [", "people: [Tag Edit Person, ", 1))
    build_site(fixture_config, site)
    assert 0 < sum(rendered) < first.pages // 2
    assert _site_bytes(site) == _uncached(fixture_config, tmp_path / "plain")


def test_a_build_the_process_ends_with_leaves_the_engine_to_the_system(
    fixture_config: Config, tmp_path: Path
) -> None:
    """The CLI's builds (`process_ends`): the engine a tag edit finished with is frozen rather
    than collected (0.14 s at 10,000 articles), as is the model of a full build, with the
    collector running again after; other callers get their memory back."""
    site = tmp_path / "out"
    article = fixture_config.path("content_dir") / "2020" / "ankara.md"
    gc.unfreeze()  # whatever an earlier test in this process froze
    try:
        for ends in (False, True):
            shutil.rmtree(fixture_config.root / CACHE_DIR, ignore_errors=True)  # a full build
            build_site(fixture_config, site, process_ends=ends)
            assert gc.isenabled() and (gc.get_freeze_count() > 0) is ends
        gc.unfreeze()
        article.write_text(article.read_text().replace("people: [", "people: [Engine Edit, ", 1))
        build_site(fixture_config, site, process_ends=True)  # through the saved engine
        assert gc.isenabled() and gc.get_freeze_count() > 0
    finally:
        gc.unfreeze()
    assert _site_bytes(site) == _uncached(fixture_config, tmp_path / "plain")


def test_an_engine_restored_and_given_up_is_collected_before_the_full_build(
    fixture_config: Config, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Not frozen with what a CLI build keeps: its cycles (terms and their articles) would stay
    beside the full build's own model, its peak (450 MiB at 10,000 articles, against 250)."""
    site = tmp_path / "out"
    build_site(fixture_config, site)
    restored: list[weakref.ref] = []
    load = cache_module.BuildCache.load_engine

    def load_engine(cache: cache_module.BuildCache, settings: str) -> object:
        engine = load(cache, settings)
        term = next(iter(engine.archive.terms["people"].values()))  # in cycles with the others
        restored.append(weakref.ref(term))
        return engine

    monkeypatch.setattr(cache_module.BuildCache, "load_engine", load_engine)
    monkeypatch.setattr(build_module, "ENGINE_RENDER_LIMIT", 0)
    _retitle(fixture_config, "A Letter", "The Letter")
    gc.unfreeze()  # whatever an earlier test in this process froze
    try:
        result = build_site(fixture_config, site, process_ends=True)
        assert result.stages.route.startswith("full build: 1 changed articles")
        assert len(restored) == 1 and restored[0]() is None
    finally:
        gc.unfreeze()


def test_redating_the_oldest_article_within_its_year_updates_the_home_page(
    fixture_config: Config, tmp_path: Path
) -> None:
    """The home page shows the dated range; that article is on none of its pages' lists."""
    site = tmp_path / "out"
    build_site(fixture_config, site)
    article = fixture_config.path("content_dir") / "2019" / "letter.md"
    article.write_text(article.read_text().replace("date: 2019-01-02", "date: 2019-01-01"))
    build_site(fixture_config, site)
    assert "2019-01-01" in (site / "index.html").read_text()
    assert _site_bytes(site) == _uncached(fixture_config, tmp_path / "plain")


@pytest.mark.parametrize("seed", [5, 6])
def test_cached_builds_match_uncached_builds_through_random_edits(
    fixture_config: Config, tmp_path: Path, seed: int
) -> None:
    """The edits of the live rebuilder's random sequences (timelines, maps, captions, language
    included) through cached CLI builds."""
    rng = random.Random(seed)
    site = tmp_path / "out"
    content = fixture_config.path("content_dir")
    build_site(fixture_config, site)
    for step in range(8):
        _random_edit(rng, content, step)
        build_site(fixture_config, site)
        assert _site_bytes(site) == _uncached(fixture_config, tmp_path / f"plain{step}")


def test_each_download_is_made_only_when_its_inputs_changed(
    fixture_config: Config, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A title edit remakes that article's cite files and the archive-wide downloads, not the
    other articles' cite files; a template or raw-file change remakes no download; every
    build equals an uncached one."""
    import clippings.render as render_module

    config = dataclasses.replace(fixture_config, search=False)
    made: list[str] = []
    original_make = render_module.make

    def counting(template: str, context: dict, citing: object) -> bytes:
        made.append(template.removeprefix("export:"))
        return original_make(template, context, citing)

    monkeypatch.setattr(render_module, "make", counting)
    site = tmp_path / "out"
    build_site(config, site)
    assert made.count("cite.ris") == 4 and "archive.sqlite" in made
    made.clear()

    letter = config.path("content_dir") / "2019" / "letter.md"
    letter.write_text(letter.read_text().replace("title: A Letter", "title: The Letter"))
    build_site(config, site)
    assert sorted(m for m in made if m.startswith("cite.")) == ["cite.bib", "cite.json", "cite.ris"]
    assert {"archive.csv", "archive.sqlite", "archive.json", "archive.bib"} <= set(made)
    assert _site_bytes(site) == _uncached(config, tmp_path / "plain1")
    made.clear()

    config.path("templates_dir").mkdir(exist_ok=True)
    (config.path("templates_dir") / "year.html").write_text("{{ year }}\n")
    build_site(config, site)
    assert made == []
    assert _site_bytes(site) == _uncached(config, tmp_path / "plain2")
    made.clear()

    raw = config.path("raw_dir") / "summit.txt"
    raw.write_bytes(raw.read_bytes() + b"edited\n")
    build_site(config, site)
    assert made == ["original"]  # the published copy, nothing else
    assert _site_bytes(site) == _uncached(config, tmp_path / "plain3")


def test_a_template_change_reuses_the_formatted_citations_and_bodies(
    fixture_config: Config, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """citeproc-py and Markdown are the costliest parts of an article page: a theme edit that
    re-renders every article takes their citations and body HTML from the cache; an edited
    article's citations are new (its title changed, its body did not)."""
    import clippings.citation as citation_module
    from clippings.markdown_body import BodyConverter
    from clippings.render import THEME_DIR

    config = dataclasses.replace(fixture_config, search=False)
    formatted: list[str] = []
    original = citation_module.format_citation

    def counting(item: dict, style: str):
        formatted.append(item["id"])
        return original(item, style)

    converted: list[str] = []
    convert = BodyConverter.convert

    def counting_bodies(self: BodyConverter, text: str) -> str:
        converted.append(text)
        return convert(self, text)

    monkeypatch.setattr(citation_module, "format_citation", counting)
    monkeypatch.setattr(BodyConverter, "convert", counting_bodies)
    site = tmp_path / "out"
    build_site(config, site)
    assert len(formatted) == 4 * 3  # four articles, three styles
    assert converted
    formatted.clear()
    converted.clear()

    article_html = (THEME_DIR / "templates" / "article.html").read_text()
    config.path("templates_dir").mkdir(exist_ok=True)
    (config.path("templates_dir") / "article.html").write_text("<!-- site -->\n" + article_html)
    letter = config.path("content_dir") / "2019" / "letter.md"
    letter.write_text(letter.read_text().replace("title: A Letter", "title: The Letter"))
    build_site(config, site)
    assert formatted == ["2019/the-letter-from-pyongyang"] * 3
    assert converted == []
    formatted.clear()
    assert _site_bytes(site) == _uncached(config, tmp_path / "plain")


def _random_setting_edit(rng: random.Random, root: Path, step: int) -> None:
    """A change to an input other than content: a site template, a static file, the
    authority file or the settings."""
    action = rng.choice(["template", "static", "authority", "config"])
    if action == "template":
        (root / "templates").mkdir(exist_ok=True)
        (root / "templates" / "term.html").write_text(
            "{% extends 'base.html' %}{% block main %}<h1>{{ term.name }}</h1> "
            f"{{{{ term.count }}}} ({step}){{% endblock %}}\n"
        )
    elif action == "static":
        (root / "static").mkdir(exist_ok=True)
        (root / "static" / "extra.css").write_text(f"/* {step} */\n")
    elif action == "authority":
        path = root / "data" / "entities.yaml"
        path.write_text(path.read_text() + f"\n# edit {step}\n")
    else:
        path = root / "config.yaml"
        path.write_text(path.read_text().replace("per_page: 2", f"per_page: {2 + step % 2}"))


@pytest.mark.parametrize("seed", [11, 12, 13])
def test_builds_through_the_saved_engine_match_clean_builds_through_any_edits(
    fixture_config: Config, tmp_path: Path, seed: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Random sequences of content edits (most go through the saved engine) mixed with
    template, static, authority and settings changes (full builds), and files put back as they
    were at the first build (what a saved engine replaying its changes reads as unchanged)."""
    from clippings.config import load_config

    rng = random.Random(seed)
    site = tmp_path / "out"
    root = fixture_config.root
    first = {path: path.read_bytes() for path in fixture_config.path("content_dir").rglob("*.md")}
    build_site(fixture_config, site)
    through_engine: list[bool] = []
    original = build_module._update_in_place

    def counting(*args, **kwargs):
        result = original(*args, **kwargs)
        through_engine.append(result is not None)
        return result

    monkeypatch.setattr(build_module, "_update_in_place", counting)
    for step in range(10):
        chance = rng.random()
        if chance < 0.2:
            for path in rng.sample(sorted(first), 2):
                if path.exists():
                    path.write_bytes(first[path])
        elif chance < 0.8:
            _random_edit(rng, fixture_config.path("content_dir"), step)
        else:
            _random_setting_edit(rng, root, step)
        config = load_config(root / "config.yaml", {})
        build_site(config, site)
        assert _site_bytes(site) == _uncached(config, tmp_path / f"plain{step}"), step
    assert any(through_engine)


def _count_full_loads(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """One entry per build that loaded and modelled the whole archive."""
    loads: list[int] = []
    original = build_module._load
    monkeypatch.setattr(build_module, "_load", lambda *a, **k: loads.append(1) or original(*a, **k))
    return loads


def _retitle(config: Config, old: str, new: str) -> Path:
    letter = config.path("content_dir") / "2019" / "letter.md"
    letter.write_text(letter.read_text().replace(f"title: {old}", f"title: {new}"))
    return letter


def test_the_saved_engine_takes_the_builds_listing_and_keeps_its_warnings(
    fixture_config: Config, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The saved engine reads what the build's first walk of content/ listed (with its
    warnings) instead of walking again, and parses only the file that changed."""
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    (fixture_config.path("content_dir") / "linked").symlink_to(elsewhere)
    site = tmp_path / "out"
    first = build_site(fixture_config, site)
    warning = "symlinked folder is not followed; articles in it are not read"
    assert [p.message for p in first.warnings if p.path.endswith("linked")] == [warning]
    walks, parsed = [], []
    original_walk = incremental_module.content_files
    monkeypatch.setattr(
        incremental_module, "content_files", lambda *a: walks.append(1) or original_walk(*a)
    )
    original_load = incremental_module.load_article_file
    monkeypatch.setattr(
        incremental_module,
        "load_article_file",
        lambda path, *a: parsed.append(path.name) or original_load(path, *a),
    )
    _retitle(fixture_config, "A Letter", "A Letter, Retitled")
    second = build_site(fixture_config, site)
    assert second.stages.route == "saved engine"
    assert (walks, parsed) == ([], ["letter.md"])
    assert [p.message for p in second.warnings if p.path.endswith("linked")] == [warning]
    assert _site_bytes(site) == _uncached(fixture_config, tmp_path / "plain")


def test_the_engine_is_saved_only_when_replaying_what_changed_would_cost_more(
    fixture_config: Config, tmp_path: Path
) -> None:
    """Small edits leave the saved engine as it was: the next build replays every file changed
    since it was saved and takes the page records as what the site holds, so a page added by
    a build that did not save it is still deleted when its term goes."""
    site = tmp_path / "out"
    build_site(fixture_config, site)
    saved = fixture_config.root / CACHE_DIR / cache_module.ENGINE_FILE
    checkpoint = saved.read_bytes()
    article = fixture_config.path("content_dir") / "2020" / "ankara.md"
    tagged = article.read_text()
    steps = [
        lambda: article.write_text(tagged.replace("people: [", "people: [Replayed Person, ", 1)),
        # back to the bytes the engine saved: the pages since rendered, and the person's page
        # (never saved), must still go
        lambda: article.write_text(tagged),
        lambda: _retitle(fixture_config, "A Letter", "A Letter, Retitled"),
    ]
    for number, step in enumerate(steps):
        step()
        result = build_site(fixture_config, site)
        assert result.stages.route == "saved engine"
        assert saved.read_bytes() == checkpoint, f"step {number}: saved again"
        assert (site / "people" / "replayed-person").exists() == (number == 0)
        assert _site_bytes(site) == _uncached(fixture_config, tmp_path / f"plain{number}")
    static = fixture_config.path("static_dir")
    static.mkdir(exist_ok=True)
    (static / "extra.css").write_text("p { color: teal }\n")
    build_site(fixture_config, site)
    assert saved.read_bytes() != checkpoint  # a static file that goes must be deleted: saved
    (static / "extra.css").unlink()
    build_site(fixture_config, site)
    assert not (site / "extra.css").exists()
    assert _site_bytes(site) == _uncached(fixture_config, tmp_path / "plain")


def test_a_build_that_fails_on_a_bad_file_keeps_the_saved_engine(
    fixture_config: Config, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from clippings.errors import BuildError

    site = tmp_path / "out"
    build_site(fixture_config, site)
    before = _site_bytes(site)
    letter = fixture_config.path("content_dir") / "2019" / "letter.md"
    good = letter.read_text()
    letter.write_text(good.replace("people: [", "people: 5\nx: [", 1))
    with pytest.raises(BuildError):
        build_site(fixture_config, site)
    assert _site_bytes(site) == before
    loads = _count_full_loads(monkeypatch)
    letter.write_text(good.replace("title: A Letter", "title: The Letter"))
    build_site(fixture_config, site)
    assert loads == []  # through the engine the last good build saved
    assert _site_bytes(site) == _uncached(fixture_config, tmp_path / "plain")


def test_an_engine_that_fails_is_reported_and_the_build_done_in_full(
    fixture_config: Config, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A bug in the engine shows as a warning, not only as a slower build; the site is whole."""
    site = tmp_path / "out"
    build_site(fixture_config, site)

    def broken(*args, **kwargs):
        raise KeyError("no such page")

    monkeypatch.setattr(incremental_module.Rebuilder, "update", broken)
    loads = _count_full_loads(monkeypatch)
    _retitle(fixture_config, "A Letter", "The Letter")
    result = build_site(fixture_config, site)
    assert loads == [1]
    messages = [p.message for p in result.warnings if p.path.endswith("engine.pickle")]
    assert messages == ["the saved engine failed (KeyError: \"'no such page'\"); built in full"]
    assert _site_bytes(site) == _uncached(fixture_config, tmp_path / "plain")


@pytest.mark.parametrize(
    ("reason", "route"),
    [
        ("more articles changed than it renders", "full build: 1 changed articles, more"),
        ("more pages to render than it renders", "pages to render, more than the engine renders"),
        ("a damaged engine", "full build: no saved engine usable with these settings"),
    ],
)
def test_a_build_the_saved_engine_cannot_do_is_a_full_build(
    fixture_config: Config,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    reason: str,
    route: str,
) -> None:
    site = tmp_path / "out"
    build_site(fixture_config, site)
    engine = fixture_config.root / CACHE_DIR / cache_module.ENGINE_FILE
    limit = build_module.ENGINE_RENDER_LIMIT
    if reason == "a damaged engine":
        data = bytearray(engine.read_bytes())
        data[len(data) // 2] ^= 0xFF
        engine.write_bytes(bytes(data))
    else:  # one article retitled: its own page, and the lists showing its title
        monkeypatch.setattr(build_module, "ENGINE_RENDER_LIMIT", 0 if "articles" in reason else 1)
    modelled: list[int] = []  # the saved model updated (an early refusal leaves it alone)
    sync = incremental_module.Rebuilder._sync_model
    monkeypatch.setattr(
        incremental_module.Rebuilder,
        "_sync_model",
        lambda engine: modelled.append(1) or sync(engine),
    )
    loads = _count_full_loads(monkeypatch)
    _retitle(fixture_config, "A Letter", "The Letter")
    result = build_site(fixture_config, site)
    assert route in result.stages.route
    assert modelled == ([1] if "pages to render" in route else [])
    assert loads == [1]  # the full build, which saves a whole engine again
    assert _site_bytes(site) == _uncached(fixture_config, tmp_path / "plain")
    monkeypatch.setattr(build_module, "ENGINE_RENDER_LIMIT", limit)
    loads.clear()  # the uncached build loaded too
    _retitle(fixture_config, "The Letter", "A Letter")
    build_site(fixture_config, site)
    assert loads == []  # and the next edit goes through it


def _engine_renders(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The paths of the pages the engine renders from now on, in order."""
    rendered: list[str] = []
    render_all = incremental_module.render_all
    monkeypatch.setattr(
        incremental_module,
        "render_all",
        lambda pages, *rest: rendered.extend(p.path for p in pages) or render_all(pages, *rest),
    )
    return rendered


def test_a_fresh_copy_with_the_cache_and_site_restored_builds_through_the_engine(
    fixture_config: Config, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """As a deploy does: a fresh clone (every content file with a new stat), the last cache and
    site put back (another site folder); one new article goes through the saved engine, which
    parses only the new file."""
    site = fixture_config.root / "_site"
    build_site(fixture_config, site)
    content = fixture_config.path("content_dir")
    for folder in (content, site):  # copied back while the first is kept: all new inodes
        folder.rename(tmp_path / "first")
        shutil.copytree(tmp_path / "first", folder)
        shutil.rmtree(tmp_path / "first")
    write_article(content / "2021", "new.md", "title: New\ndate: 2021-05-01\npublication: Paper")
    loads = _count_full_loads(monkeypatch)
    parsed: list[str] = []
    original = incremental_module.load_article_file
    monkeypatch.setattr(
        incremental_module,
        "load_article_file",
        lambda path, *rest: parsed.append(path.name) or original(path, *rest),
    )
    rendered = _engine_renders(monkeypatch)
    result = build_site(fixture_config, site)
    assert result.stages.route == "saved engine" and loads == []
    assert parsed == ["new.md"]
    assert "2021/new/index.html" in rendered and len(rendered) < result.pages / 3
    assert _site_bytes(site) == _uncached(fixture_config, tmp_path / "plain")


def test_a_new_article_renders_only_the_pages_it_changes(
    fixture_config: Config, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A new article changes the counts and dates of its terms; the pages of the terms named
    beside them show those terms' names only, so they are not rendered again (a term page's
    own `term` is told apart from the others, and the theme reads no other `count`)."""
    site = tmp_path / "out"
    build_site(fixture_config, site)
    before = _site_bytes(site)
    front = "title: New\ndate: 2020-05-01\npublication: KCNA\npeople: [Kim Jong Un]\ncountries: [North Korea]"
    write_article(fixture_config.path("content_dir") / "2020", "new.md", front)
    rendered = _engine_renders(monkeypatch)
    result = build_site(fixture_config, site)
    after = _site_bytes(site)
    assert result.stages.route == "saved engine"
    assert "people/kim-jong-un/index.html" in rendered
    assert [path for path in rendered if before.get(path) == after[path]] == []
    assert after == _uncached(fixture_config, tmp_path / "plain")


def test_the_saved_engine_keeps_bodies_apart_and_leaves_them_as_they_were(
    fixture_config: Config, tmp_path: Path
) -> None:
    """Articles come back whole, shared where they were shared; saving does not attach a UTF-8
    copy to a non-ASCII body (CPython caches one on a string the pickler encodes, and 10,000
    of them were the cold build's peak of memory); a cut or damaged file is no engine."""
    site = tmp_path / "out"
    build_site(fixture_config, site)
    body = "Ünïcode bödy. " * 200
    letter, _ = read_article(fixture_config.path("content_dir") / "2019" / "letter.md", "x.md")
    assert letter is not None
    article = dataclasses.replace(letter, body=body)
    odd = dataclasses.replace(letter, body="a lone surrogate \udc80", slug="odd")
    state = {"articles": [article, article, odd], "other": {"held": article}}
    size = sys.getsizeof(article.body)
    cache = cache_module.BuildCache(fixture_config.root / CACHE_DIR)
    try:
        cache.save_engine("settings", state)
        assert sys.getsizeof(article.body) == size
        restored = cache.load_engine("settings")
        assert restored["articles"][0] == article and restored["articles"][2] == odd
        assert restored["articles"][0] is restored["articles"][1] is restored["other"]["held"]
        assert cache.load_engine("other settings") is None
        engine = fixture_config.root / CACHE_DIR / cache_module.ENGINE_FILE
        data = engine.read_bytes()
        check = cache_module.ENGINE_CHECK
        engine.write_bytes(data[: -24 - check] + data[-check:])  # a body cut short
        assert cache.load_engine("settings") is None
        with pytest.raises((pickle.PicklingError, AttributeError)):  # fails midway
            cache.save_engine("settings", {"articles": [odd], "then": lambda: None})
        assert odd.body == "a lone surrogate \udc80"  # put back, though the pickle failed
        assert engine.read_bytes() == data[: -24 - check] + data[-check:]  # left as it was
    finally:
        cache.close()


def test_the_engine_saved_meanwhile_takes_its_name_only_when_all_went_well(
    fixture_config: Config, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A full build saves its engine in a forked process while it records the build. Saved:
    the engine loads. The build fails meanwhile: the last engine is left as it was. The engine
    cannot be pickled, or the saving process dies: no engine (a stale one must not be
    trusted), and the build says so. Never a temporary file left behind."""
    build_site(fixture_config, tmp_path / "out")
    folder = fixture_config.root / CACHE_DIR
    engine = folder / cache_module.ENGINE_FILE
    cache = cache_module.BuildCache(folder)
    try:
        with cache.engine_saved_meanwhile("settings", lambda: {"saved": "aside"}):
            pass
        assert cache.load_engine("settings") == {"saved": "aside"}
        saved = engine.read_bytes()
        with (
            pytest.raises(KeyError),
            cache.engine_saved_meanwhile("settings", lambda: {"saved": "again"}),
        ):
            raise KeyError("a failure while the build is recorded")
        assert engine.read_bytes() == saved
        write = cache_module._write_engine_file

        def dies(path, settings, engine):
            write(path, settings, engine)
            os._exit(1)  # killed for memory, say

        with cache.engine_saved_meanwhile("settings", lambda: {"a lambda": lambda: None}):
            pass
        assert not engine.exists() and "engine not saved (" in str(cache.notice)
        cache.save_engine("settings", {"saved": "in place"})
        monkeypatch.setattr(cache_module, "_write_engine_file", dies)
        with cache.engine_saved_meanwhile("settings", lambda: {"saved": "never"}):
            pass
        assert not engine.exists()
        assert "engine not saved (BrokenProcessPool)" in str(cache.notice)
    finally:
        cache.close()
    assert [path.name for path in folder.iterdir() if path.name.endswith(".tmp")] == []


def _cache_rows(folder: Path) -> list[tuple]:
    db = sqlite3.connect(folder / "cache.sqlite")
    try:
        return db.execute("SELECT * FROM articles ORDER BY source").fetchall()
    finally:
        db.close()


def test_reading_ahead_on_two_cores_reads_as_one_by_one(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Files parsed by forked workers give the same articles, problems and cache rows; a file
    changed since it was read ahead is read again."""
    monkeypatch.setattr(cache_module, "_MIN_READ_AHEAD", 1)  # fork even for a few files
    content = tmp_path / "content"
    files = [
        write_article(
            content, f"2020/a{n}.md", f"title: A{n} é\ndate: 2020-01-0{n % 9 + 1}\npublication: P"
        )
        for n in range(12)
    ]
    files.append(write_article(content, "2020/broken.md", "title: [unclosed"))
    (content / "2020/empty.md").write_text("")
    (content / "2020/latin1.md").write_bytes(b"---\ntitle: caf\xe9\n---\n")
    files += [content / "2020/empty.md", content / "2020/latin1.md"]
    named = [(path, f"content/2020/{path.name}") for path in files]

    def read_all(folder: Path, ahead: bool) -> list:
        cache = cache_module.BuildCache(folder)
        if ahead:
            cache.read_ahead(named, False, jobs=2)
            files[0].write_text(files[0].read_text().replace("A0 é", "A0 edited"))
        parsed = [cache.read_article(path, source) for path, source in named]
        cache.close()
        return parsed

    ahead = read_all(tmp_path / "ahead", True)
    assert ahead[0][0] is not None and ahead[0][0].title == "A0 edited"
    assert ahead == read_all(tmp_path / "serial", False)
    assert _cache_rows(tmp_path / "ahead") == _cache_rows(tmp_path / "serial")
    assert [len(problems) for _, problems in ahead[-3:]] == [1, 1, 1]


def test_a_row_gives_the_article_back_with_its_body_and_word_count(tmp_path: Path) -> None:
    """The count is stored with the row, not counted again by each process reading it."""
    path = write_article(
        tmp_path / "content",
        "2020/a.md",
        "title: A\ndate: 2020-01-02\npublication: P",
        "Café *words*, [a link](x).",
    )
    fresh, _ = read_article(path, "content/2020/a.md")
    cache = cache_module.BuildCache(tmp_path / "cache")
    try:
        cache.read_article(path, "content/2020/a.md")  # parsed, stored
        stored, _ = cache.read_article(path, "content/2020/a.md")  # from the row
    finally:
        cache.close()
    assert stored == fresh and stored.body == fresh.body
    assert stored._derived.word_count == fresh.word_count == 4  # from the row, not counted


def test_rows_read_ahead_are_taken_as_asked_and_the_workers_end_with_the_last() -> None:
    closed: list[bool] = []

    def rows() -> Iterator[str]:
        try:
            yield from ["row a", "row b", "row c"]
        finally:
            closed.append(True)  # as `map_forked` ends its workers

    ahead = cache_module._RowsAhead(["a", "b", "c"], rows())  # type: ignore[arg-type]
    assert ahead.take("not read ahead") is None
    assert ahead.take("b") == "row b"  # "row a" is held meanwhile
    assert ahead.take("a") == "row a"
    assert not closed
    assert ahead.take("c") == "row c"
    assert closed == [True]
    assert ahead.take("c") is None


def test_a_worker_that_dies_reading_ahead_leaves_the_files_to_the_load_loop(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(cache_module, "_MIN_READ_AHEAD", 1)
    content = tmp_path / "content"
    named = [
        (
            write_article(
                content, f"2020/a{n}.md", f"title: A{n}\ndate: 2020-01-01\npublication: P"
            ),
            f"content/2020/a{n}.md",
        )
        for n in range(8)
    ]
    parsed_row = cache_module._parsed_row

    def dies_on_a3(item: tuple[Path, str, bool]) -> cache_module.ParsedRow | None:
        if item[1].endswith("a3.md"):
            os._exit(1)  # as a worker killed for memory
        return parsed_row(item)

    monkeypatch.setattr(cache_module, "_parsed_row", dies_on_a3)
    cache = cache_module.BuildCache(tmp_path / "cache")
    cache.read_ahead(named, False, jobs=2)
    titles = [cache.read_article(path, source)[0].title for path, source in named]
    cache.close()
    assert titles == [f"A{n}" for n in range(8)]


def test_a_row_holds_the_parse_of_the_bytes_it_is_keyed_by(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The hash and the parse come from one read: a save between two reads would pair one
    version's hash with another's parse, and the hashed version, saved back later, would then
    be published as the other."""
    source = "content/2020/a.md"
    path = write_article(
        tmp_path / "content", "2020/a.md", "title: One\ndate: 2020-01-02\npublication: P"
    )
    two = path.read_text(encoding="utf-8").replace("One", "Two")
    three = two.replace("Two", "Three")
    cache = cache_module.BuildCache(tmp_path / "cache")
    try:
        cache.read_article(path, source)
        path.write_text(two, encoding="utf-8")
        saved_after_read(monkeypatch, cache_module, path, three)
        assert cache.read_article(path, source)[0].title == "Two"
        path.write_text(two, encoding="utf-8")  # the hashed version back, under a new stat
        assert cache.read_article(path, source)[0].title == "Two"
        saved_after_read(monkeypatch, cache_module, path, three)
        _, _, sha, sealed = cache_module._parsed_row((path, source, False))  # read ahead
    finally:
        cache.close()
    article = cache_module._unpickle_parsed(sealed[cache_module._CHECKSUM_BYTES :])[0]
    assert article.title == "Two" and sha == cache_module.digest(two.encode())
