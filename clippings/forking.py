"""Forked worker processes that end with the process that forked them.

A worker of `multiprocessing` or `concurrent.futures` waits on a pipe whose write end it holds
itself (inherited through fork), so when its parent is killed (SIGKILL, the OOM killer) nothing
ever wakes it: it would sleep for good, holding its memory. Workers are made to die with it.
"""

from __future__ import annotations

import ctypes
import multiprocessing
import os
import signal
import sys
from collections.abc import Callable
from concurrent.futures import Future, ProcessPoolExecutor
from typing import Any, TypeVar

_PR_SET_PDEATHSIG = 1  # <linux/prctl.h>

Result = TypeVar("Result")
_aside: Callable[[], Any] | None = None  # set while `run_aside` forks


def end_with_parent(parent: int) -> None:
    """The first call of a worker forked by process `parent` (an initializer): on Linux the
    kernel kills the worker when `parent` ends; if it already has, the worker ends now."""
    if sys.platform.startswith("linux"):
        ctypes.CDLL(None).prctl(_PR_SET_PDEATHSIG, signal.SIGKILL)
    if os.getppid() != parent:
        os._exit(1)


def can_fork() -> bool:
    """Whether this platform forks processes (the pools here need it; elsewhere work runs here)."""
    return "fork" in multiprocessing.get_all_start_methods()


def forked_executor(workers: int) -> ProcessPoolExecutor:
    """Workers forked from this process (sharing its loaded state) that end with it; a worker
    that dies makes the pool raise `BrokenProcessPool` instead of waiting for it forever."""
    return ProcessPoolExecutor(
        workers,
        mp_context=multiprocessing.get_context("fork"),
        initializer=end_with_parent,
        initargs=(os.getpid(),),
    )


def run_aside(call: Callable[[], Result]) -> Future[Result]:
    """`call()` in a process forked now, while this one goes on: it inherits `call` and all it
    holds (nothing is pickled on the way in). The future gives its result or raises its error,
    or `BrokenProcessPool` if it died. Where processes cannot be forked, the call is made now."""
    if not can_fork():
        done: Future[Result] = Future()
        try:
            done.set_result(call())
        except Exception as error:
            done.set_exception(error)
        return done
    global _aside
    _aside = call
    pool = forked_executor(1)
    try:
        return pool.submit(_call_aside)  # forks here, the pool's first task
    finally:
        _aside = None
        pool.shutdown(wait=False)


def _call_aside() -> Any:
    assert _aside is not None
    return _aside()
