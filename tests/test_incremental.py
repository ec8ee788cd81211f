"""The live rebuilder always leaves the same site a clean full build makes, byte for byte."""

from __future__ import annotations

import pickle
import random
import re
from pathlib import Path

import pytest

from clippings import incremental as incremental_module
from clippings.build import build_site
from clippings.cache import fingerprint_base
from clippings.config import load_config
from clippings.errors import BuildError
from clippings.incremental import PageRefs, Prerendered, Rebuilder
from clippings.pageinputs import PageInputs
from clippings.render import DATA_PAGE, archive_wide
from tests.conftest import saved_after_read, write_article
from tests.test_parallel import _site_bytes

PEOPLE = ["Kim Jong Un", "Vladimir Putin", "Angela Merkel", "Moon Jae-in", "Xi Jinping"]
# The Soviet Union has no shape on the coverage map: it is listed beside it.
COUNTRIES = ["North Korea", "Russia", "Germany", "China", "Soviet Union"]
PUBLICATIONS = ["Example Times", "Daily Planet", "Reuters"]


def _files(site: Path) -> dict[str, bytes]:
    return _site_bytes(site)  # the search index is refreshed apart, by serve


def _assert_same_as_clean_build(site_root: Path, live_site: Path, tmp_path: Path) -> None:
    clean = tmp_path / "clean"
    build_site(load_config(site_root / "config.yaml"), clean)
    expected, actual = _files(clean), _files(live_site)
    assert sorted(actual) == sorted(expected)
    different = [path for path in expected if expected[path] != actual[path]]
    assert different == []


def _assert_fingerprints_as_made_afresh(rebuilder: Rebuilder) -> None:
    """The fingerprints the engine kept (scoped to what an edit touched, digests remembered)
    are those of every page fingerprinted anew: stricter than equal bytes, as a fingerprint
    also covers fields a template reads but happens not to show."""
    assert rebuilder.config is not None and rebuilder.archive is not None
    env = rebuilder._renderer.env  # the engine's own templates
    base = fingerprint_base(rebuilder.config, rebuilder.site_dir)
    afresh = PageInputs(rebuilder.archive, env, base)
    plan = rebuilder._plan
    expected = {path: afresh.fingerprint(page) for path, page in plan.items() if path != DATA_PAGE}
    kept = {path: print_ for path, print_ in rebuilder.fingerprints.items() if path != DATA_PAGE}
    assert kept == expected


def _front(rng: random.Random, title: str, year: int) -> str:
    people = rng.sample(PEOPLE, rng.randint(0, 3))
    countries = rng.sample(COUNTRIES, rng.randint(0, 2))
    return (
        f"title: {title}\ndate: {year}-0{rng.randint(1, 9)}-1{rng.randint(0, 9)}\n"
        f"publication: {rng.choice(PUBLICATIONS)}\npeople: {people}\ncountries: {countries}\n"
        "sources: []"
    )


def _without(text: str, *keys: str) -> str:
    """The file without the front matter lines of these keys (so they can be set anew)."""
    return "".join(
        line for line in text.splitlines(keepends=True) if line.split(":")[0] not in keys
    )


def _random_edit(rng: random.Random, content: Path, step: int) -> set[Path]:
    """Apply one random change; returns the paths a watcher would report."""
    files = sorted(content.rglob("*.md"))
    target = rng.choice(files)
    text = target.read_text(encoding="utf-8")
    actions = [
        *("body", "lead", "title", "tags", "add", "delete", "rename", "date"),
        *("country", "month", "caption", "language"),  # maps, timelines, figures, <html lang>
        *("authors", "links", "original", "source"),  # what citations and originals show
    ]
    action = rng.choice(actions)
    raw = content.parent / "raw"
    if action == "body":
        target.write_text(text + f"\nAn added paragraph {step}.\n", encoding="utf-8")
    elif action == "lead":  # the first paragraph is the excerpt shown in lists and feeds
        end = text.index("\n---\n", 3) + len("\n---\n")
        target.write_text(f"{text[:end]}\nA new lead {step}.\n{text[end:]}", encoding="utf-8")
    elif action == "title":
        target.write_text(text.replace("title: ", f"title: Revised {step} ", 1), encoding="utf-8")
    elif action == "tags":
        person = rng.choice(PEOPLE)
        if "people: [" in text:
            text = text.replace("people: [", f"people: [{person}, ", 1)
        else:
            text = text.replace("---\n", f"---\npeople: [{person}]\n", 1)
        target.write_text(text, encoding="utf-8")
    elif action == "add":
        year = rng.choice([2019, 2020, 2021])
        target = write_article(
            content, f"{year}/new-{step}.md", _front(rng, f"New story {step}", year)
        )
    elif action == "delete" and len(files) > 2:
        target.unlink()
    elif action == "rename":
        moved = target.with_name(f"moved-{step}.md")
        target.rename(moved)
        return {target.resolve(), moved.resolve()}
    elif action == "date":
        target.write_text(text.replace("date: 20", "date: 19", 1), encoding="utf-8")
    elif action == "country":  # moves the overview's map shading and the countries' own maps
        country = rng.choice(COUNTRIES)
        text = re.sub(r"^countries: .*$", "", text, count=1, flags=re.MULTILINE)
        text = text.replace("---\n", f"---\ncountries: [{country}]\n", 1)
        target.write_text(text, encoding="utf-8")
    elif action == "month":  # same year, another month: only the timelines change
        text = re.sub(
            r"^date: (\d{4})-\d\d", rf"date: \g<1>-{rng.randint(10, 12)}", text, count=1, flags=re.M
        )
        target.write_text(text, encoding="utf-8")
    elif action == "caption":
        caption = f"captions:\n  - text: Caption {step}\n    after: {rng.randint(0, 2)}\n"
        text = re.sub(r"^captions:\n(  .*\n)*", "", text, count=1, flags=re.MULTILINE)
        target.write_text(text.replace("---\n", "---\n" + caption, 1), encoding="utf-8")
    elif action == "language":
        text = re.sub(r"^language: .*\n", "", text, count=1, flags=re.MULTILINE)
        language = rng.choice(["fr", "en", "de"])
        target.write_text(
            text.replace("---\n", f"---\nlanguage: {language}\n", 1), encoding="utf-8"
        )
    elif action == "authors":
        front = _without(text, "authors")
        target.write_text(front.replace("---\n", f"---\nauthors: [Writer {step}, Agency]\n", 1))
    elif action == "links":  # url, archived URL and capture date: cite files and provenance
        links = f"url: https://example.com/{step}\narchived_url: https://web.archive.org/{step}\n"
        links += f"retrieved: 2021-01-0{step % 9 + 1}\n"
        front = _without(text, "url", "archived_url", "retrieved")
        target.write_text(front.replace("---\n", f"---\n{links}", 1))
    elif action == "original":  # the captured original changes: published copy, fixity warning
        target = raw / "summit.txt"
        target.write_bytes(target.read_bytes() + f"edit {step}\n".encode())
    elif action == "source":  # another article names a captured original
        name = f"capture-{step}.txt"
        (raw / name).write_text(f"captured {step}\n", encoding="utf-8")
        front = _without(text, "source_file", "source_sha256")
        target.write_text(front.replace("---\n", f"---\nsource_file: {name}\n", 1))
        return {target.resolve(), (raw / name).resolve()}
    return {target.resolve()}


def _built(fixture_site: Path, tmp_path: Path) -> tuple[Rebuilder, Path]:
    """A live rebuilder of the fixture site after its first build, and the site it writes."""
    live_site = tmp_path / "live"
    rebuilder = Rebuilder(fixture_site / "config.yaml", live_site)
    rebuilder.build()
    return rebuilder, live_site


def _assert_as_made_afresh(
    rebuilder: Rebuilder, fixture_site: Path, live_site: Path, tmp_path: Path
) -> None:
    _assert_fingerprints_as_made_afresh(rebuilder)
    _assert_same_as_clean_build(fixture_site, live_site, tmp_path)


@pytest.mark.parametrize("seed", [1, 2, 3, 4])
def test_random_edit_sequences_match_a_clean_build(
    fixture_site: Path, tmp_path: Path, seed: int
) -> None:
    rng = random.Random(seed)
    rebuilder, live_site = _built(fixture_site, tmp_path)
    for step in range(12):
        changed = _random_edit(rng, fixture_site / "content", step)
        # with and without watcher paths; half of them as serve's watcher makes them, the
        # downloads made from every article left to the catch-up that follows
        deferring = step % 2 == 1
        rebuilder.build(changed if step % 3 else None, defer_downloads=deferring)
        if deferring:
            rebuilder.build(set())
        _assert_as_made_afresh(rebuilder, fixture_site, live_site, tmp_path)


@pytest.mark.parametrize(("seed", "limit"), [(7, None), (8, 0), (9, 2)])
def test_batches_of_edits_match_a_clean_build(
    fixture_site: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    seed: int,
    limit: int | None,
) -> None:
    """Several files edited between builds (a pull, a search and replace): the model updated in
    place, or made anew past `MODEL_UPDATE_LIMIT` articles."""
    if limit is not None:
        monkeypatch.setattr(incremental_module, "MODEL_UPDATE_LIMIT", limit)
    updated: list[int] = []
    update_archive = incremental_module.update_archive
    monkeypatch.setattr(
        incremental_module, "update_archive", lambda *a: updated.append(1) or update_archive(*a)
    )
    rng = random.Random(seed)
    rebuilder, live_site = _built(fixture_site, tmp_path)
    for step in range(6):
        changed: set[Path] = set()
        for edit in range(rng.randint(2, 4)):
            changed |= _random_edit(rng, fixture_site / "content", step * 10 + edit)
        rebuilder.build(changed)
        _assert_as_made_afresh(rebuilder, fixture_site, live_site, tmp_path)
    assert (updated != []) is (limit != 0)  # with 0, every batch made the model anew


def test_body_edit_renders_only_pages_showing_the_article(
    fixture_site: Path, tmp_path: Path
) -> None:
    live_site = tmp_path / "live"
    rebuilder = Rebuilder(fixture_site / "config.yaml", live_site)
    first = rebuilder.build()
    letter = fixture_site / "content/2019/letter.md"
    letter.write_text(letter.read_text(encoding="utf-8") + "\nA new closing line.\n", "utf-8")
    outcome = rebuilder.build({letter.resolve()})
    assert not outcome.model_rebuilt
    assert "2019/a-letter-from-pyongyang/index.html" in outcome.written
    assert "people/index.html" not in outcome.written  # counts did not change
    assert 0 < outcome.rendered < first.rendered / 2
    _assert_same_as_clean_build(fixture_site, live_site, tmp_path)


def test_a_file_saved_while_the_engine_reads_it_is_parsed_as_hashed(
    fixture_site: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """One read gives the hash and the parse: otherwise the hashed version, saved back under a
    new stat, would keep the parse of the version saved in between."""
    live_site = tmp_path / "live"
    rebuilder = Rebuilder(fixture_site / "config.yaml", live_site)
    rebuilder.build()
    letter = (fixture_site / "content/2019/letter.md").resolve()
    edited = letter.read_text(encoding="utf-8") + "\nThe edit that was hashed.\n"
    letter.write_text(edited, "utf-8")
    saved_after_read(monkeypatch, incremental_module, letter, edited + "\nA later save.\n")
    rebuilder.build({letter})
    letter.write_text(edited, "utf-8")  # the hashed version back
    rebuilder.build({letter})
    assert "A later save" not in (live_site / "2019/a-letter-from-pyongyang/index.html").read_text()
    _assert_same_as_clean_build(fixture_site, live_site, tmp_path)


def test_template_and_config_changes_match_a_clean_build(
    fixture_site: Path, tmp_path: Path
) -> None:
    live_site = tmp_path / "live"
    rebuilder = Rebuilder(fixture_site / "config.yaml", live_site)
    rebuilder.build()
    override = fixture_site / "templates" / "year.html"
    override.parent.mkdir()
    override.write_text("{{ year }}: {{ archive.articles | length }}\n", encoding="utf-8")
    outcome = rebuilder.build({override.resolve()})
    assert "2019/index.html" in outcome.written
    assert "2019/a-letter-from-pyongyang/index.html" not in outcome.written
    _assert_same_as_clean_build(fixture_site, live_site, tmp_path)
    write_article(
        fixture_site / "content", "2019/added.md", "title: Added\ndate: 2019-05-05\npublication: X"
    )
    rebuilder.build({(fixture_site / "content/2019/added.md").resolve()})
    _assert_same_as_clean_build(fixture_site, live_site, tmp_path)  # the custom page re-rendered
    config = fixture_site / "config.yaml"
    config.write_text(config.read_text(encoding="utf-8").replace("Fixture", "Renamed"), "utf-8")
    rebuilder.build({config.resolve()})
    _assert_same_as_clean_build(fixture_site, live_site, tmp_path)


def test_a_broken_file_keeps_the_last_good_site(fixture_site: Path, tmp_path: Path) -> None:
    live_site = tmp_path / "live"
    rebuilder = Rebuilder(fixture_site / "config.yaml", live_site)
    rebuilder.build()
    before = _files(live_site)
    letter = fixture_site / "content/2019/letter.md"
    good = letter.read_text(encoding="utf-8")
    letter.write_text(good.replace("title: A Letter", "title: [A Letter"), encoding="utf-8")
    with pytest.raises(BuildError) as error:
        rebuilder.build({letter.resolve()})
    assert error.value.problems[0].path == "content/2019/letter.md"
    assert error.value.problems[0].line is not None
    assert _files(live_site) == before
    letter.write_text(good + "\nFixed.\n", encoding="utf-8")
    rebuilder.build({letter.resolve()})
    _assert_same_as_clean_build(fixture_site, live_site, tmp_path)


def test_redating_the_oldest_article_within_its_year_updates_the_home_page(
    fixture_site: Path, tmp_path: Path
) -> None:
    live_site = tmp_path / "live"
    rebuilder = Rebuilder(fixture_site / "config.yaml", live_site)
    rebuilder.build()
    article = fixture_site / "content" / "2019" / "letter.md"
    article.write_text(article.read_text().replace("date: 2019-01-02", "date: 2019-01-01"))
    rebuilder.build({article.resolve()})
    assert "2019-01-01" in (live_site / "index.html").read_text()
    _assert_same_as_clean_build(fixture_site, live_site, tmp_path)


def test_a_build_after_serve_rewrote_a_page_renders_it_again(
    fixture_site: Path, tmp_path: Path
) -> None:
    """`serve` writes the same site folder as the build; a file put back afterwards (say by
    `git checkout`) must not leave serve's page behind: the build cache's page records check
    sizes, and this edit keeps the size."""
    site = tmp_path / "out"
    config = load_config(fixture_site / "config.yaml")
    build_site(config, site)
    letter = fixture_site / "content" / "2019" / "letter.md"
    original = letter.read_text(encoding="utf-8")
    rebuilder = Rebuilder(fixture_site / "config.yaml", site)
    rebuilder.build()
    letter.write_text(original.replace("Tuesday", "Tuesdax"), encoding="utf-8")
    assert rebuilder.build({letter.resolve()}).written
    letter.write_text(original, encoding="utf-8")
    build_site(config, site)
    _assert_same_as_clean_build(fixture_site, site, tmp_path)


def test_a_new_spelling_renames_the_term_on_pages_no_edited_article_holds(tmp_path: Path) -> None:
    """A term is named by its alphabetically first spelling: an edit that brings a new one
    renames it on every page listing it, as a co-occurring term of terms the edit never held."""
    site_root = tmp_path / "site"
    content = site_root / "content"
    content.mkdir(parents=True)
    (site_root / "config.yaml").write_text("title: Spellings\nsearch: false\n")
    common = "date: 2020-01-0{day}\npublication: Example Times\n"
    write_article(
        content, "a.md", "title: A\n" + common.format(day=1) + "people: [Kim Jong-un, Ann Lee]"
    )
    edited = write_article(
        content, "b.md", "title: B\n" + common.format(day=2) + "people: [Kim Jong-un]"
    )
    live_site = tmp_path / "live"
    rebuilder = Rebuilder(site_root / "config.yaml", live_site)
    rebuilder.build()
    edited.write_text(edited.read_text().replace("[Kim Jong-un]", "[Kim Jong Un]"))
    rebuilder.build({edited.resolve()})
    assert "Kim Jong Un" in (live_site / "people" / "ann-lee" / "index.html").read_text()
    _assert_same_as_clean_build(site_root, live_site, tmp_path)


def test_a_count_shown_for_a_co_occurring_term_follows_an_edit_elsewhere(tmp_path: Path) -> None:
    """A page showing its term's co-occurring terms with their counts changes when one of them
    gains an article that does not name the page's own term."""
    site_root = tmp_path / "site"
    content = site_root / "content"
    content.mkdir(parents=True)
    (site_root / "config.yaml").write_text("title: Counts\nsearch: false\n")
    (site_root / "templates").mkdir()
    (site_root / "templates" / "term.html").write_text(
        "{% for other, n in term.cooccurring %}{{ other.name }} has {{ other.count }};{% endfor %}"
    )
    common = "publication: Example Times\n"
    write_article(content, "a.md", f"title: A\ndate: 2020-01-01\n{common}people: [Ann Lee, Bo Ray]")
    write_article(content, "b.md", f"title: B\ndate: 2020-01-02\n{common}people: [Bo Ray]")
    live_site = tmp_path / "live"
    rebuilder = Rebuilder(site_root / "config.yaml", live_site)
    rebuilder.build()
    added = write_article(content, "c.md", f"title: C\ndate: 2020-01-03\n{common}people: [Bo Ray]")
    rebuilder.build({added.resolve()})
    assert "Bo Ray has 3;" in (live_site / "people" / "ann-lee" / "index.html").read_text()
    _assert_same_as_clean_build(site_root, live_site, tmp_path)


def test_downloads_rendered_apart_are_taken_only_if_still_current(
    fixture_site: Path, tmp_path: Path
) -> None:
    """serve's catch-up renders the deferred downloads without the lock; a save in between
    changes what they read, so those bytes are refused (left for the next catch-up), and the
    next catch-up's are taken: the site then equals a clean build."""
    live_site = tmp_path / "live"
    rebuilder = Rebuilder(fixture_site / "config.yaml", live_site)
    rebuilder.build()
    letter = (fixture_site / "content/2019/letter.md").resolve()
    text = letter.read_text(encoding="utf-8")
    before = (live_site / "archive.json").read_bytes()

    def catch_up() -> Prerendered:
        work, renderer = rebuilder.deferred_downloads()
        assert work and renderer is not None
        assert all(archive_wide(page) for page, _ in work)
        ready = {page.path: (print_, renderer.render(page)) for page, print_ in work}
        return ready

    letter.write_text(text + "\nOne more sentence.\n", encoding="utf-8")
    assert rebuilder.build({letter}, defer_downloads=True).deferred
    stale = catch_up()
    letter.write_text(text + "\nTwo more sentences here.\n", encoding="utf-8")  # a save meanwhile
    rebuilder.build({letter}, defer_downloads=True)
    refused = rebuilder.build(set(), defer_downloads=True, prerendered=stale)
    assert refused.deferred and "archive.json" not in refused.written
    assert (live_site / "archive.json").read_bytes() == before
    taken = rebuilder.build(set(), defer_downloads=True, prerendered=catch_up())
    assert taken.deferred == 0 and taken.rendered_pages == []  # none rendered under the lock
    assert "archive.json" in taken.written
    _assert_fingerprints_as_made_afresh(rebuilder)
    _assert_same_as_clean_build(fixture_site, live_site, tmp_path)


def test_page_refs_survive_a_pickle_and_grow_after_it() -> None:
    lists = {"content/a.md": ["index.html", "2020/a/index.html"], "people/kim/": ["index.html"]}
    refs = PageRefs.taking(lists)
    assert lists == {}  # taken, not copied
    refs.add("people/kim/", "people/kim/index.html")
    restored = pickle.loads(pickle.dumps(refs))
    restored.add("people/kim/", "2020/a/index.html")
    assert restored.get("content/gone.md") == ()
    again = pickle.loads(pickle.dumps(restored))  # "content/a.md" was never asked for
    assert set(again.get("content/a.md")) == {"index.html", "2020/a/index.html"}
    expected = {"index.html", "people/kim/index.html", "2020/a/index.html"}
    assert set(again.get("people/kim/")) == expected
    assert set(pickle.loads(pickle.dumps(again)).get("people/kim/")) == expected
