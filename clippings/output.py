"""Write stage: the site is built in a staging folder and swapped in whole, only on success.

A failed or killed build leaves the previous site exactly as it was: pages go to a staging folder
next to the site (unchanged files are hard-linked from the current site, so their bytes and times
are kept), and the finished folder is exchanged with the old one in a single atomic rename.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import fcntl
import os
import shutil
from pathlib import Path, PurePosixPath

from clippings.errors import BuildError, Problem

_RENAME_EXCHANGE = 2
_AT_FDCWD = -100


def _exchange(first: Path, second: Path) -> bool:
    """Atomically swap two directories (Linux renameat2); False where the call is unavailable."""
    libc_name = ctypes.util.find_library("c")
    if not libc_name:
        return False
    libc = ctypes.CDLL(libc_name, use_errno=True)
    renameat2 = getattr(libc, "renameat2", None)
    if renameat2 is None:
        return False
    result = renameat2(
        _AT_FDCWD, os.fsencode(first), _AT_FDCWD, os.fsencode(second), _RENAME_EXCHANGE
    )
    return result == 0


def _lock_folder(folder: Path) -> int:
    """Hold an exclusive lock on the site's parent folder until the build commits or aborts.

    Two builds of one site (a dev server's rebuild and a manual build) share the staging folder;
    without the lock the second deleted it under the first. The second now waits. The kernel
    drops the lock when its holder dies, even by SIGKILL.
    """
    folder.mkdir(parents=True, exist_ok=True)
    descriptor = os.open(folder, os.O_RDONLY)
    fcntl.flock(descriptor, fcntl.LOCK_EX)
    return descriptor


def safe_relative(path: str) -> PurePosixPath:
    """Validate an output path: relative, inside the site, no `..`, NUL or backslash."""
    pure = PurePosixPath(path)
    if (
        not path
        or pure.is_absolute()
        or "\0" in path
        or "\\" in path
        or any(p in ("..", ".") for p in pure.parts)
    ):
        raise BuildError(
            [Problem(path or "<empty>", None, "refusing to write outside the output folder")]
        )
    return pure


class SiteWriter:
    """Collects a complete new site in staging, then swaps it in; counts what changed."""

    def __init__(self, site_dir: Path) -> None:
        self.site_dir = site_dir
        self.staging = site_dir.with_name(f".{site_dir.name}.staging")
        self.previous = site_dir.with_name(f".{site_dir.name}.previous")
        self.written = 0
        self.unchanged = 0
        self._paths: set[str] = set()
        self._lock = _lock_folder(site_dir.parent)
        try:
            self._recover()
            if self.staging.exists():
                shutil.rmtree(self.staging)
            self.staging.mkdir(parents=True)
        except BaseException:
            self._unlock()
            raise

    def _recover(self) -> None:
        """Finish a swap that a killed build left half done: the previous site is complete."""
        if self.previous.exists() and not self.site_dir.exists():
            self.previous.rename(self.site_dir)
        elif self.previous.exists():
            shutil.rmtree(self.previous)

    def write(self, path: str, data: bytes) -> None:
        relative = safe_relative(path)
        if path in self._paths:
            raise BuildError([Problem(path, None, "two pages would be written to this path")])
        self._paths.add(path)
        target = self.staging / relative
        try:
            target.parent.mkdir(parents=True, exist_ok=True)
            current = self.site_dir / relative
            if _same_bytes(current, data):
                os.link(current, target)
                self.unchanged += 1
                return
            target.write_bytes(data)
        except (FileExistsError, IsADirectoryError, NotADirectoryError):
            # e.g. an alias `feed.xml/` needs a folder where the feed file goes, or the reverse.
            message = "another page needs this path as a folder, or a folder on its path as a file"
            raise BuildError([Problem(path, None, message)]) from None
        self.written += 1

    def copy(self, path: str, source: Path) -> None:
        self.write(path, source.read_bytes())

    def commit(self) -> int:
        """Swap the staging folder in; returns how many old files are gone from the site."""
        try:
            return self._swap()
        finally:
            self._unlock()

    def _swap(self) -> int:
        removed = self._count_removed()
        if not self.site_dir.exists():
            self.staging.rename(self.site_dir)
            return removed
        if not _exchange(self.staging, self.site_dir):
            self.site_dir.rename(self.previous)
            self.staging.rename(self.site_dir)
            shutil.rmtree(self.previous)
            return removed
        shutil.rmtree(self.staging)
        return removed

    def abort(self) -> None:
        shutil.rmtree(self.staging, ignore_errors=True)
        self._unlock()

    def _unlock(self) -> None:
        if self._lock >= 0:
            os.close(self._lock)  # closing the descriptor releases the lock
            self._lock = -1

    def _count_removed(self) -> int:
        if not self.site_dir.is_dir():
            return 0
        old = {
            p.relative_to(self.site_dir).as_posix()
            for p in self.site_dir.rglob("*")
            if not p.is_dir()
        }
        return len(old - self._paths)


def _same_bytes(path: Path, data: bytes) -> bool:
    try:
        if path.is_symlink() or path.stat().st_size != len(data):
            return False
        return path.read_bytes() == data
    except OSError:
        return False
