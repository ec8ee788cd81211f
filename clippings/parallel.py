"""Render pages on every core: forked worker processes, chunks merged back in page order.

Rendering is a pure function of a page, so pages are split into contiguous chunks that forked
workers render (they inherit the archive and the Jinja environment; nothing is pickled on the
way in) and stage themselves with the `put` they are given (the site writer's, whose folders
exist before the fork), so a page's bytes never travel between processes. A page made from the
whole archive (archive.sqlite takes seconds at 10,000 articles) is a chunk of its own, handed
out first, so it does not finish alone on one core at the end. What each page became (path,
size, written) is put back in chunk order, so the results and the order of reported problems
do not depend on the number of workers or on which chunk finished first.
"""

from __future__ import annotations

import contextlib
import gc
import os
import queue
from collections.abc import Callable, Generator, Iterator, Sequence
from concurrent.futures import Future
from concurrent.futures.process import BrokenProcessPool
from typing import Any, TypeVar

from clippings.content import Article
from clippings.errors import BuildError, Problem
from clippings.forking import Inherited, can_fork, forked_executor
from clippings.render import MarkdownConverter, Page, Renderer, archive_wide, render_all

# Below this many pages forking costs more than it saves.
_MIN_PARALLEL_PAGES = 200
# Several chunks per worker keep both cores busy when chunks differ in cost; a cap on a chunk's
# pages bounds what a worker and the parent hold at once (a chunk's bytes travel as one message).
_CHUNKS_PER_JOB = 8
_MAX_CHUNK_PAGES = 500
_WORKER_DIED = (
    "a render worker ended before its pages were done (killed, most often for lack of memory);"
    " nothing was published: try again with fewer workers (--jobs 1)"
)

# Stages one page's bytes (SiteWriter.put); True when written, False when linked unchanged.
Put = Callable[[str, bytes], bool]
# Creates the staging folders of these pages (SiteWriter.make_folders).
MakeFolders = Callable[[list[str]], None]
Staged = tuple[str, int, bool]  # path, size, written

_work: Inherited[tuple[list[Page], Renderer, Put, MakeFolders]] = Inherited()  # render_pages'
_mapped: Inherited[tuple[Callable[[Any], Any], Sequence[Any]]] = Inherited()  # map_forked's
_ahead: Inherited[tuple[list[Article], MarkdownConverter]] = Inherited()  # BodiesAhead's
# Bodies converted ahead come back to the parent and stay there to the end of the build: a bound
# on their HTML bounds that memory (at 10,000 articles it is about what fits the idle time).
_AHEAD_BYTES = 16_000_000
_AHEAD_CHUNK = 20  # bodies per task: `take` waits for the chunk under way (~15 ms)

Item = TypeVar("Item")
Result = TypeVar("Result")


def default_jobs() -> int:
    return os.cpu_count() or 1


def _render_and_put(pages: list[Page], renderer: Renderer, put: Put) -> Iterator[Staged]:
    for path, data in render_all(pages, renderer):
        yield path, len(data), put(path, data)


def _chunks(pages: list[Page], jobs: int) -> list[tuple[int, int]]:
    """Contiguous (start, end) runs of pages, in page order; an archive-wide page is its own."""
    size = _chunk_size(len(pages), jobs)
    chunks: list[tuple[int, int]] = []
    start = 0
    for index, page in enumerate(pages):
        if archive_wide(page) or index - start == size:
            if index > start:
                chunks.append((start, index))
            start = index
        if archive_wide(page):
            chunks.append((index, index + 1))
            start = index + 1
    if start < len(pages):
        chunks.append((start, len(pages)))
    return chunks


def _render_chunk(
    task: tuple[int, tuple[int, int]],
) -> tuple[int, list[Staged], list[Problem], Any]:
    number, bounds = task
    pages, renderer, put, make_folders = _work.value
    known = set(renderer.bodies)
    rendered: list[Staged] = []
    chunk = pages[bounds[0] : bounds[1]]
    # Here, not before the fork: made one by one, the folders of 14,000 pages took the parent
    # 1-2 s with both cores idle.
    make_folders([page.path for page in chunk])
    try:
        rendered.extend(_render_and_put(chunk, renderer, put))
        problems: list[Problem] = []
    except BuildError as error:
        problems = error.problems
    fresh = {path: html for path, html in renderer.bodies.items() if path not in known}
    for path in fresh:  # an article's body is shown on its own page only: the parent keeps it
        del renderer.bodies[path]
    return number, rendered, problems, fresh


def render_pages(
    pages: list[Page],
    renderer: Renderer,
    put: Put,
    make_folders: MakeFolders,
    jobs: int,
    on_page: Callable[[], None] | None = None,
    on_bodies: Callable[[dict[str, str]], None] | None = None,
    meanwhile: Iterator[object] | None = None,
) -> Iterator[Staged]:
    """Render every page and stage its bytes with `put` in the process that rendered it, in the
    folders `make_folders` creates there; yield
    (path, size, written) in page order. Body HTML that workers converted goes to `on_bodies`
    (article path -> HTML) as it arrives, or else into `renderer.bodies`, so the build cache can
    keep it. `meanwhile` is other work of the parent, whose steps are taken while no result is
    ready (the workers render) and to its end after. Raises BuildError with every problem."""
    meanwhile = iter(()) if meanwhile is None else meanwhile
    if jobs <= 1 or len(pages) < _MIN_PARALLEL_PAGES or not can_fork():
        for _ in meanwhile:
            pass
        make_folders([page.path for page in pages])
        for item in _render_and_put(pages, renderer, put):
            yield item
            if on_page:
                on_page()
        return
    chunks = _chunks(pages, jobs)
    costly_first = sorted(enumerate(chunks), key=lambda task: not archive_wide(pages[task[1][0]]))
    done: dict[int, tuple[list[Staged], list[Problem], Any]] = {}  # finished out of order
    problems: dict[tuple, Problem] = {}
    # Frozen objects are left out of garbage collection, so the workers' collector does not
    # write to (and so copy) every page of the archive they inherit.
    gc.freeze()
    pool = forked_executor(jobs)
    try:
        with _work.holding((pages, renderer, put, make_folders)):
            finished: queue.SimpleQueue[Future] = queue.SimpleQueue()
            for task in costly_first:
                pool.submit(_render_chunk, task).add_done_callback(finished.put)
            next_chunk = 0
            for number, *result in _interleaved(finished, len(chunks), meanwhile):
                done[number] = result
                while next_chunk in done:
                    rendered, found, fresh = done.pop(next_chunk)
                    next_chunk += 1
                    if on_bodies:
                        on_bodies(fresh)
                    else:
                        renderer.bodies.update(fresh)
                    for problem in found:
                        problems.setdefault((problem.path, problem.line, problem.message), problem)
                    for item in rendered:
                        yield item
                        if on_page:
                            on_page()
    except BrokenProcessPool:  # killed (for memory, most often) or crashed in native code
        raise BuildError([Problem("render", None, _WORKER_DIED)]) from None
    finally:
        # Chunks not started are dropped; those under way end first: a worker left running
        # after a failed build could write a stale page into the next build's staging folder.
        pool.shutdown(wait=True, cancel_futures=True)
        gc.unfreeze()
    for _ in meanwhile:
        pass
    if problems:
        raise BuildError(list(problems.values()))


def _interleaved(
    finished: queue.SimpleQueue[Future], count: int, meanwhile: Iterator[object]
) -> Iterator[Any]:
    """The results of `count` futures as they finish, with steps of `meanwhile` taken while none
    is ready. (A queue filled by the futures' callbacks: looking at it costs far less than asking
    every future, which the parent would do once per step.)"""
    idle = False
    while count:
        try:
            future = finished.get(block=idle)
        except queue.Empty:
            idle = next(meanwhile, _DONE) is _DONE
            continue
        count -= 1
        yield future.result()


_DONE = object()


def map_forked(
    work: Callable[[Item], Result], items: Sequence[Item], jobs: int, minimum: int
) -> Generator[Result, None, None]:
    """`work(item)` for each item, in order, as they are asked for; in forked workers when there
    are `minimum` items or more: each takes contiguous chunks (`work` and the items are
    inherited, not pickled; the results come back pickled), so only chunks done and not yet
    taken are held. `work` should turn a failure into its result. Closing the generator ends
    the workers."""
    if jobs <= 1 or len(items) < minimum or not can_fork():
        yield from (work(item) for item in items)
        return
    size = _chunk_size(len(items), jobs)
    bounds = [(start, min(start + size, len(items))) for start in range(0, len(items), size)]
    pool = forked_executor(jobs)  # a worker that dies raises BrokenProcessPool here
    try:
        with _mapped.holding((work, items)):
            for chunk in pool.map(_map_chunk, bounds):
                yield from chunk
    finally:
        pool.shutdown(wait=False, cancel_futures=True)


def _chunk_size(count: int, jobs: int) -> int:
    """Several chunks per worker, each at most `_MAX_CHUNK_PAGES` long."""
    return min(_MAX_CHUNK_PAGES, max(1, -(-count // (jobs * _CHUNKS_PER_JOB))))


def _map_chunk(bounds: tuple[int, int]) -> list[Any]:
    work, items = _mapped.value
    return [work(item) for item in items[bounds[0] : bounds[1]]]


class BodiesAhead:
    """Article bodies converted to HTML by one forked worker while the parent goes on (it models
    and plans the site with the other core idle); `take` ends the worker and gives what it has
    done, article path -> HTML, for the renderer, whose workers then find them converted.
    Only bodies converted whole are converted ahead (placed captions cut a body into pieces);
    one Python-Markdown cannot convert does not stop the rest and is reported by its render."""

    def __init__(self, articles: list[Article]) -> None:
        self._tasks: list[Future[dict[str, str]]] = []
        whole = [a for a in articles if all(place is None for place in a.caption_places)]
        self._pool = (
            forked_executor(1) if len(whole) >= _MIN_PARALLEL_PAGES and can_fork() else None
        )
        if self._pool is None:
            return
        chunks, size = [], 0
        for start in range(0, len(whole), _AHEAD_CHUNK):
            chunks.append((start, start + _AHEAD_CHUNK))
            size += sum(len(a.body) for a in whole[start : start + _AHEAD_CHUNK])
            if size > _AHEAD_BYTES:
                break
        with _ahead.holding((whole, MarkdownConverter())):
            self._tasks = [self._pool.submit(_convert_bodies, chunk) for chunk in chunks]

    def take(self) -> dict[str, str]:
        self.end()
        bodies: dict[str, str] = {}
        for task in self._tasks:
            if task.done() and not task.cancelled() and task.exception() is None:
                bodies.update(task.result())
        return bodies

    def end(self) -> None:
        """End the worker (again, harmlessly): chunks not started are dropped, the one under way
        ends first."""
        if self._pool is not None:
            self._pool.shutdown(wait=True, cancel_futures=True)


def _convert_bodies(bounds: tuple[int, int]) -> dict[str, str]:
    articles, converter = _ahead.value
    bodies = {}
    for article in articles[bounds[0] : bounds[1]]:
        with contextlib.suppress(BuildError):  # reported when its page is rendered
            bodies[article.path] = converter.article_html(article)
    return bodies
