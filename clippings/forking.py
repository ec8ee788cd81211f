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
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ProcessPoolExecutor
from contextlib import contextmanager
from typing import Any, Generic, TypeVar

_PR_SET_PDEATHSIG = 1  # <linux/prctl.h>

Result = TypeVar("Result")
Value = TypeVar("Value")


class Inherited(Generic[Value]):
    """A value that the processes forked while it is held read as `value`, inherited rather than
    pickled: the work a pool's workers share, held from just before the pool forks them."""

    def __init__(self) -> None:
        self._value: Value | None = None

    @contextmanager
    def holding(self, value: Value) -> Iterator[None]:
        self._value = value
        try:
            yield
        finally:
            self._value = None

    @property
    def value(self) -> Value:
        assert self._value is not None, "read in a process forked while it was held"
        return self._value


_aside: Inherited[Callable[[], Any]] = Inherited()  # the call of `run_aside`


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
    pool = forked_executor(1)
    try:
        with _aside.holding(call):
            return pool.submit(_call_aside)  # forks here, the pool's first task
    finally:
        pool.shutdown(wait=False)


def _call_aside() -> Any:
    return _aside.value()
