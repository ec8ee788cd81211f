"""Extraction on every core: worker processes forked once the model is loaded, results in input
order.

spaCy's recogniser and trafilatura take nearly all of an import's time and hold the GIL, so the
costly half of each article (`work`) runs in worker processes, forked after the model, rules and
gazetteer are loaded so that they share those pages instead of loading them again. The caller
writes the results one by one in input order, so the output, the messages and their order are
those of one process. A worker that dies (killed for memory, a crash in native code) fails the
one article it was working on: the others still pending are run again, one at a time in a fresh
worker, until the one that kills its worker is found.
"""

from __future__ import annotations

import gc
import os
from collections import deque
from collections.abc import Callable, Generator, Iterable, Iterator
from concurrent.futures import Future
from concurrent.futures.process import BrokenProcessPool
from typing import Any

from clippings.forking import forked_executor

# Articles handed out ahead of the one being written, per worker: enough to keep every worker
# busy, few enough that a large web archive is not read into memory ahead of its writing.
AHEAD_PER_WORKER = 4

_work: Callable[[Any], Any] | None = None  # set before the workers fork; they inherit it


class WorkerDied(Exception):
    """The worker process extracting an item died (its exit, not an exception it raised)."""


def available_cores() -> int:
    """The cores this process may run on (all of them where the system cannot say)."""
    if hasattr(os, "sched_getaffinity"):
        return len(os.sched_getaffinity(0))
    return os.cpu_count() or 1


def ordered_map(
    work: Callable[[Any], Any], items: Iterable[Any], is_job: Callable[[Any], bool], workers: int
) -> Iterator[tuple[Any, Any]]:
    """(item, work(item)) for each job of `items`, (item, None) for the rest, in order; with
    several `workers`, jobs run in forked processes. `work` must not raise: whatever it returns
    is picklable; a job whose worker died gives a `WorkerDied` as its result, one whose result
    could not be sent back the exception that said so."""
    if workers <= 1:
        for item in items:
            yield item, work(item) if is_job(item) else None
        return
    global _work
    _work = work
    # Objects the collector never visits are never written, so they stay shared with the workers.
    gc.freeze()
    pending: deque[tuple[Any, Future | None]] = deque()
    pool = forked_executor(workers)
    try:
        for item in items:
            pending.append((item, pool.submit(_call, item) if is_job(item) else None))
            while len(pending) > workers * AHEAD_PER_WORKER or (pending and _ready(pending[0])):
                if not (yield from _next(pending, is_job)):
                    pool.shutdown(cancel_futures=True)
                    pool = forked_executor(workers)
        while pending:
            yield from _next(pending, is_job)
    finally:
        pool.shutdown(cancel_futures=True)
        gc.unfreeze()


def _next(
    pending: deque[tuple[Any, Future | None]], is_job: Callable[[Any], bool]
) -> Generator[tuple[Any, Any], None, bool]:
    """Yield the first pending item's result; False when its worker died (the pending items are
    then run one at a time, and the pool must be replaced)."""
    item, future = pending.popleft()
    try:
        yield item, future.result() if future else None
        return True
    except BrokenProcessPool:
        yield from _one_at_a_time([item, *(i for i, _ in pending)], is_job)
        pending.clear()
        return False
    except Exception as error:  # a result that could not be sent back: that item's failure
        yield item, error
        return True


def _ready(entry: tuple[Any, Future | None]) -> bool:
    return entry[1] is None or entry[1].done()


def _one_at_a_time(items: list[Any], is_job: Callable[[Any], bool]) -> Iterator[tuple[Any, Any]]:
    """The items pending when a worker died, each job alone in a worker, so that the one that
    kills its worker is known and fails, and no other."""
    pool = forked_executor(1)
    try:
        for item in items:
            if not is_job(item):
                yield item, None
                continue
            try:
                result = pool.submit(_call, item).result()
            except BrokenProcessPool:
                pool.shutdown(cancel_futures=True)
                pool = forked_executor(1)
                result = WorkerDied()
            except Exception as error:
                result = error
            yield item, result
    finally:
        pool.shutdown(cancel_futures=True)


def _call(item: Any) -> Any:
    assert _work is not None
    return _work(item)
