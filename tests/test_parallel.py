"""Parallel rendering and the related-articles ranking give exactly the serial results."""

from __future__ import annotations

import dataclasses
import multiprocessing
import os
import sqlite3
import time
from collections import Counter
from concurrent import futures
from concurrent.futures.process import BrokenProcessPool
from pathlib import Path

import pytest

from clippings import archive as archive_module
from clippings import build as build_module
from clippings import forking, parallel
from clippings.build import build_site, load_archive
from clippings.cache import CACHE_DIR
from clippings.config import Config
from clippings.content import Article
from clippings.errors import BuildError, Problem
from clippings.output import SiteWriter
from clippings.render import MarkdownConverter, Page
from clippings.search import INDEX_DIR
from tests.conftest import write_article


def _site_bytes(site: Path) -> dict[str, bytes]:
    """Every file of the site but the search index: Pagefind names its filter files differently in
    each fresh index build (tests/browser/test_search.py checks the index by searching it)."""
    files = (p for p in site.rglob("*") if p.is_file())
    return {
        p.relative_to(site).as_posix(): p.read_bytes()
        for p in files
        if not p.relative_to(site).as_posix().startswith(INDEX_DIR + "/")
    }


def test_output_is_byte_identical_with_one_or_two_workers(
    fixture_config: Config, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(parallel, "_MIN_PARALLEL_PAGES", 0)
    serial = build_site(dataclasses.replace(fixture_config, jobs=1), tmp_path / "one")
    forked = build_site(dataclasses.replace(fixture_config, jobs=2), tmp_path / "two")
    assert serial.pages == forked.pages
    assert _site_bytes(tmp_path / "one") == _site_bytes(tmp_path / "two")


def _naive_related(archive: archive_module.Archive, limit: int) -> dict[str, list[str]]:
    """The definition: count every shared term, most shared first, ties in archive order."""
    position = {a.path: i for i, a in enumerate(archive.articles)}
    result = {}
    for article in archive.articles:
        shared: Counter[str] = Counter()
        for terms in archive.article_terms[article.path].values():
            for term in terms:
                shared.update(other.path for other in term.articles)
        shared.pop(article.path, None)
        ranked = sorted(shared.items(), key=lambda item: (-item[1], position[item[0]]))
        result[article.path] = [path for path, _ in ranked[:limit]]
    return result


def test_related_ranking_matches_the_definition_when_terms_are_big(
    fixture_config: Config, monkeypatch: pytest.MonkeyPatch
) -> None:
    content = fixture_config.path("content_dir")
    names = ["Ann", "Bo", "Cy", "Di"]
    for i in range(60):  # overlapping popular terms exercise the lazy big-term path
        people = [names[j] for j in range(4) if (i >> j) & 1 or j == i % 4]
        write_article(
            content,
            f"2001/a{i}.md",
            f"title: A{i}\ndate: 2001-01-{i % 28 + 1:02d}\npublication: P{i % 3}\npeople: {people}",
        )
    monkeypatch.setattr(archive_module, "FULL_COUNT_TERM_SIZE", 0)
    archive = load_archive(fixture_config)
    got = {path: [a.path for a in found] for path, found in archive.related.items()}
    assert got == _naive_related(archive, fixture_config.related_articles)


def test_body_html_rendered_by_workers_reaches_the_build_cache(
    fixture_config: Config, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(parallel, "_MIN_PARALLEL_PAGES", 0)
    result = build_site(dataclasses.replace(fixture_config, jobs=2), tmp_path / "out")
    database = fixture_config.root / CACHE_DIR / "cache.sqlite"
    with sqlite3.connect(database) as db:
        stored = db.execute("SELECT COUNT(*) FROM bodies WHERE sha NOT LIKE 'cite:%'").fetchone()
        citations = db.execute("SELECT COUNT(*) FROM bodies WHERE sha LIKE 'cite:%'").fetchone()
    assert stored[0] == result.articles  # each fixture article has a body of its own
    assert citations[0] == result.articles * 3  # and a citation per style


def test_archive_wide_pages_are_chunks_of_their_own_covering_every_page_in_order() -> None:
    pages = [Page(f"p{i}/index.html", "term.html") for i in range(23)]
    pages[5:5] = [Page("archive.json", "export:archive.json", {"articles": []})]
    pages.append(Page("archive.sqlite", "export:archive.sqlite", {"articles": []}))
    chunks = parallel._chunks(pages, jobs=1)
    assert [start for start, _ in chunks] == [0, *[end for _, end in chunks[:-1]]]
    assert chunks[-1][1] == len(pages)
    assert (5, 6) in chunks and (24, 25) in chunks
    assert all(end - start <= 4 for start, end in chunks)  # 25 pages in 8 chunks per job


def test_a_cold_cached_build_fingerprints_while_the_workers_render(
    fixture_config: Config, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """With no page recorded, every page is rendered and fingerprinted meanwhile in the parent;
    the records are the same as when the fingerprints come first (a second build keeps every
    page), and the parent took its steps while a result was still to come."""
    monkeypatch.setattr(parallel, "_MIN_PARALLEL_PAGES", 0)
    taken_at_each_step: list[int] = []  # results taken when the parent took a step
    taken: list[object] = []
    interleaved = parallel._interleaved

    def counting(finished, count, meanwhile):
        def counted():
            for step in meanwhile:
                taken_at_each_step.append(len(taken))
                yield step

        for result in interleaved(finished, count, counted()):
            taken.append(result)
            yield result

    monkeypatch.setattr(parallel, "_interleaved", counting)
    config = dataclasses.replace(fixture_config, jobs=2)
    first = build_site(config, tmp_path / "out")
    assert first.written == first.pages
    assert taken_at_each_step and min(taken_at_each_step) < len(taken)
    again = build_site(config, tmp_path / "out")
    assert again.written == 0
    assert _site_bytes(tmp_path / "out") == _site_bytes(_plain(fixture_config, tmp_path))


def _plain(config: Config, tmp_path: Path) -> Path:
    site = tmp_path / "plain-out"
    build_site(dataclasses.replace(config, cache=False), site)
    return site


def _dies_on_three(item: int) -> int:
    if item == 3:
        os._exit(1)  # as a worker killed for memory, or a crash in native code
    return item * 2


def test_a_render_worker_that_dies_fails_the_build_instead_of_hanging_it(
    fixture_config: Config, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A worker killed mid-chunk (for memory, most often) used to leave the build waiting for
    its results forever; now the build stops with a problem and publishes nothing."""
    monkeypatch.setattr(parallel, "_MIN_PARALLEL_PAGES", 0)
    parent = os.getpid()
    render_and_put = parallel._render_and_put

    def dies_in_a_worker(pages, renderer, put):
        if os.getpid() != parent and any(page.path.startswith("people/") for page in pages):
            os._exit(1)
        return render_and_put(pages, renderer, put)

    monkeypatch.setattr(parallel, "_render_and_put", dies_in_a_worker)
    site = tmp_path / "out"
    with pytest.raises(BuildError) as raised:
        build_site(dataclasses.replace(fixture_config, jobs=2, cache=False), site)
    assert [problem.path for problem in raised.value.problems] == ["render"]
    assert "render worker ended" in str(raised.value)
    assert not site.exists()


def test_a_build_failing_while_workers_render_leaves_no_staging_behind(
    fixture_config: Config, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The parent's own work between results fails: the chunks under way end before the build
    does (a worker left running could write a stale page into the next build's staging), and
    nothing of the build is left."""
    monkeypatch.setattr(parallel, "_MIN_PARALLEL_PAGES", 0)
    fingerprint_each = build_module._fingerprint_each

    def fails_midway(*args):
        steps = fingerprint_each(*args)
        yield next(steps)
        raise BuildError([Problem("content/x.md", 1, "found while the workers render")])

    monkeypatch.setattr(build_module, "_fingerprint_each", fails_midway)
    parent = os.getpid()
    make_folders = SiteWriter.make_folders

    def slow_in_a_worker(writer, paths):
        if os.getpid() != parent:
            time.sleep(0.5)  # still at work when the parent fails
        make_folders(writer, paths)

    monkeypatch.setattr(SiteWriter, "make_folders", slow_in_a_worker)
    site = tmp_path / "out"
    with pytest.raises(BuildError, match="found while the workers render"):
        build_site(dataclasses.replace(fixture_config, jobs=2), site)
    assert multiprocessing.active_children() == []  # none left writing in a later build
    assert [path.name for path in tmp_path.iterdir() if "out" in path.name] == []  # .out.staging


def test_map_forked_gives_results_in_order_and_says_when_a_worker_died() -> None:
    assert list(parallel.map_forked(lambda item: item * 2, list(range(50)), 2, 1)) == [
        item * 2 for item in range(50)
    ]
    with pytest.raises(BrokenProcessPool):
        list(parallel.map_forked(_dies_on_three, list(range(50)), 2, 1))


def _fails() -> None:
    raise ValueError("from the process aside")


@pytest.mark.parametrize("forked", [True, False])
def test_run_aside_gives_the_call_result_or_its_error_forked_or_not(
    forked: bool, monkeypatch: pytest.MonkeyPatch
) -> None:
    if not forked:  # as where processes cannot be forked
        monkeypatch.setattr(forking.multiprocessing, "get_all_start_methods", lambda: ["spawn"])
    parent = os.getpid()
    assert (forking.run_aside(os.getpid).result(timeout=60) != parent) is forked
    with pytest.raises(ValueError, match="from the process aside"):
        forking.run_aside(_fails).result(timeout=60)


_shared: forking.Inherited[list[int]] = forking.Inherited()


def _read_shared() -> list[int]:
    return _shared.value


def test_a_value_held_is_inherited_by_the_processes_forked_meanwhile_and_let_go_after() -> None:
    with _shared.holding([1, 2, 3]):
        assert forking.run_aside(_read_shared).result(timeout=60) == [1, 2, 3]
    with pytest.raises(AssertionError, match="forked while it was held"):
        _read_shared()
    future = forking.run_aside(_read_shared)  # forked with nothing held: the worker says so
    with pytest.raises(AssertionError):
        future.result(timeout=60)


def _bodies_article(number: int, body: str, **fields: object) -> Article:
    return Article(
        source=f"content/2020/a{number}.md",
        title=f"A{number}",
        date=None,
        publication="P",
        slug=f"a{number}",
        body=body,
        body_line=5,
        **fields,
    )


def test_bodies_converted_ahead_are_the_renderers_and_their_worker_ends_when_taken(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(parallel, "_MIN_PARALLEL_PAGES", 0)
    monkeypatch.setattr(parallel, "_AHEAD_CHUNK", 3)
    articles = [_bodies_article(n, f"Body *{n}* and [a link](javascript:x).") for n in range(20)]
    too_deep = _bodies_article(20, "".join("    " * i + "- x\n" for i in range(300)))  # raises
    in_pieces = _bodies_article(21, "One.\n\nTwo.", captions=("A caption",), caption_places=(1,))
    ahead = parallel.BodiesAhead([*articles, too_deep, in_pieces])
    futures.wait(ahead._tasks, timeout=60)
    converter = MarkdownConverter()
    assert ahead.take() == {a.path: converter.article_html(a) for a in articles}
    assert multiprocessing.active_children() == []

    early = parallel.BodiesAhead(articles).take()  # taken at once: what was done, no more
    assert early.items() <= {a.path: converter.article_html(a) for a in articles}.items()
    assert multiprocessing.active_children() == []


def test_a_build_takes_the_bodies_converted_ahead_into_its_pages_and_its_cache(
    fixture_config: Config, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(parallel, "_MIN_PARALLEL_PAGES", 0)
    take = parallel.BodiesAhead.take
    taken: list[int] = []

    def take_when_done(self: parallel.BodiesAhead) -> dict[str, str]:
        futures.wait(self._tasks, timeout=60)  # every body converted ahead, none by the workers
        bodies = take(self)
        taken.append(len(bodies))
        return bodies

    monkeypatch.setattr(parallel.BodiesAhead, "take", take_when_done)
    forked = build_site(dataclasses.replace(fixture_config, jobs=2), tmp_path / "two")
    assert taken == [forked.articles]
    database = fixture_config.root / CACHE_DIR / "cache.sqlite"
    with sqlite3.connect(database) as db:
        stored = db.execute("SELECT COUNT(*) FROM bodies WHERE sha NOT LIKE 'cite:%'").fetchone()
    assert stored[0] == forked.articles
    serial = build_site(dataclasses.replace(fixture_config, jobs=1, cache=False), tmp_path / "one")
    assert _site_bytes(tmp_path / "one") == _site_bytes(tmp_path / "two")
    assert serial.pages == forked.pages


def test_a_build_failing_before_its_render_ends_the_worker_converting_bodies_ahead(
    fixture_config: Config, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(parallel, "_MIN_PARALLEL_PAGES", 0)
    started: list[parallel.BodiesAhead] = []
    original = parallel.BodiesAhead.__init__

    def noted(self: parallel.BodiesAhead, articles: list[Article]) -> None:
        original(self, articles)
        started.append(self)

    def fails(*args: object) -> None:
        raise BuildError([Problem("content/x.md", None, "a model that fails")])

    monkeypatch.setattr(parallel.BodiesAhead, "__init__", noted)
    monkeypatch.setattr(build_module, "_model", fails)
    with pytest.raises(BuildError, match="a model that fails"):
        build_site(dataclasses.replace(fixture_config, jobs=2), tmp_path / "out")
    assert len(started) == 1 and started[0]._tasks  # a worker was converting
    assert multiprocessing.active_children() == []
