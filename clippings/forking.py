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
from concurrent.futures import ProcessPoolExecutor

_PR_SET_PDEATHSIG = 1  # <linux/prctl.h>


def end_with_parent(parent: int) -> None:
    """The first call of a worker forked by process `parent` (an initializer): on Linux the
    kernel kills the worker when `parent` ends; if it already has, the worker ends now."""
    if sys.platform.startswith("linux"):
        ctypes.CDLL(None).prctl(_PR_SET_PDEATHSIG, signal.SIGKILL)
    if os.getppid() != parent:
        os._exit(1)


def forked_executor(workers: int) -> ProcessPoolExecutor:
    """Workers forked from this process (sharing its loaded state) that end with it; a worker
    that dies makes the pool raise `BrokenProcessPool` instead of waiting for it forever."""
    return ProcessPoolExecutor(
        workers,
        mp_context=multiprocessing.get_context("fork"),
        initializer=end_with_parent,
        initargs=(os.getpid(),),
    )
