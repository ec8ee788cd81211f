"""Write stage: the site is built in a staging folder and swapped in whole, only on success.

A failed or killed build leaves the previous site exactly as it was: pages go to a staging folder
next to the site (unchanged files are hard-linked from the current site, so their bytes and times
are kept), and the finished folder is exchanged with the old one in a single atomic rename.
"""

from __future__ import annotations

import contextlib
import ctypes
import ctypes.util
import fcntl
import glob
import os
import shutil
import stat
from collections.abc import Iterable, Iterator
from pathlib import Path

from clippings.errors import BuildError, Problem
from clippings.files import read_regular, temporary_beside

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


@contextlib.contextmanager
def build_lock(*folders: Path) -> Iterator[None]:
    """Hold exclusive locks on these folders (the project's and the site's parent) for a build.

    Two builds of one site, say a dev server's rebuild and a manual build, share the staging
    folder and the build cache; unlocked, the second deleted the first's staging folder or hit a
    locked cache, with a traceback. Now it waits. Locks are taken in one order, so two builds
    cannot deadlock, and the kernel drops them when their holder dies, even by SIGKILL.
    """
    descriptors: list[int] = []
    try:
        for folder in sorted({folder.resolve() for folder in folders}):
            folder.mkdir(parents=True, exist_ok=True)
            descriptors.append(os.open(folder, os.O_RDONLY))
            fcntl.flock(descriptors[-1], fcntl.LOCK_EX)
        yield
    finally:
        for descriptor in descriptors:
            os.close(descriptor)  # closing the descriptor releases its lock


def safe_relative(path: str) -> str:
    """Validate an output path: relative, inside the site, no `..`, NUL or backslash. (Strings,
    not pathlib: it runs once per page, and PurePosixPath cost more than the rest of it.)"""
    if (
        not path
        or path.startswith("/")
        or "\0" in path
        or "\\" in path
        or any(part in ("..", ".") for part in path.split("/"))
    ):
        raise BuildError(
            [Problem(path or "<empty>", None, "refusing to write outside the output folder")]
        )
    return path


class SiteWriter:
    """Collects a complete new site in staging, then swaps it in; counts what changed.

    With a `spare` folder (the build cache keeps one), the site replaced by the swap is moved
    there instead of deleted, and the next build updates it in place as its staging folder:
    creating and deleting thousands of page folders costs far more than the pages themselves.
    Staged files are only ever replaced by rename, never written through, because the spare
    shares hard-linked files with the live site.

    Many pages at once: `claim` checks their paths; `make_folders` creates the folders they need
    and `put` stages each page's bytes. Those two may run in forked render workers, since they
    touch no bookkeeping of the writer (the caller counts what `put` returns with `count`).
    """

    def __init__(self, site_dir: Path, spare: Path | None = None) -> None:
        self.site_dir = site_dir
        self.spare = spare
        self.staging = site_dir.with_name(f".{site_dir.name}.staging")
        self.previous = site_dir.with_name(f".{site_dir.name}.previous")
        self.written = 0
        self.unchanged = 0
        self._paths: set[str] = set()
        self._folders: set[str] = {""}  # staging folders already created, relative to it
        self._site = str(site_dir)  # strings, not Paths, for the per-page path joins
        self._stage = str(self.staging)
        self._recover()
        if self.staging.exists():
            shutil.rmtree(self.staging)
        self._reused = spare is not None and self._reuse(spare)
        if not self._reused:
            self.staging.mkdir(parents=True)

    def _reuse(self, spare: Path) -> bool:
        if not spare.is_dir():
            return False
        try:
            spare.rename(self.staging)
            return True
        except OSError:  # e.g. another file system: start from an empty staging folder
            shutil.rmtree(spare, ignore_errors=True)
            return False

    def _recover(self) -> None:
        """Finish a swap that a killed build left half done: the previous site is complete."""
        if self.previous.exists() and not self.site_dir.exists():
            self.previous.rename(self.site_dir)
        elif self.previous.exists():
            shutil.rmtree(self.previous)

    def write(self, path: str, data: bytes) -> None:
        self.prepare([path])
        self.count(self.put(path, data))

    def prepare(self, paths: list[str]) -> None:
        """`claim` these paths and `make_folders` for them."""
        self.claim(paths)
        self.make_folders(paths)

    def claim(self, paths: list[str]) -> None:
        """Claim these output paths, refusing unsafe and repeated ones."""
        for path in paths:
            safe_relative(path)
            if path in self._paths:
                raise BuildError([Problem(path, None, "two pages would be written to this path")])
            self._paths.add(path)

    def make_folders(self, paths: list[str]) -> None:
        """Create every staging folder these claimed paths need, each once, parents first. May
        run in several forked render workers at once, on paths that share folders."""
        needed: set[str] = set()
        for path in paths:
            end = path.rfind("/")
            while end > 0 and path[:end] not in self._folders and path[:end] not in needed:
                needed.add(path[:end])
                end = path.rfind("/", 0, end)
        for folder in sorted(needed):  # a parent sorts before its children
            self._make_folder(f"{self._stage}/{folder}")
            self._folders.add(folder)

    def _make_folder(self, folder: str) -> None:
        try:
            os.mkdir(folder)
        except FileExistsError:
            if os.path.isdir(folder):
                return  # there already, or made meanwhile by another worker
            if not self._reused:
                raise
            with contextlib.suppress(FileNotFoundError):  # another worker's unlink came first
                os.unlink(folder)  # the spare holds an old file where a folder goes now
            try:
                os.mkdir(folder)
            except FileExistsError:
                if not os.path.isdir(folder):
                    raise

    def put(self, path: str, data: bytes) -> bool:
        """Stage the bytes of a `prepare`d path: a hard link to the current site's file when it
        holds these bytes, else a new file. True when written, False when linked."""
        target = f"{self._stage}/{path}"
        current = f"{self._site}/{path}"
        if same_bytes(current, data):
            self._link(current, target)
            return False
        if self._reused:
            temporary = self._temporary(target)
            with open(temporary, "wb") as file:
                file.write(data)
            self._replace(temporary, target)
        else:
            with open(target, "wb") as file:
                file.write(data)
        return True

    def count(self, written: bool) -> None:
        """Count a page `put` staged (written, or linked unchanged)."""
        if written:
            self.written += 1
        else:
            self.unchanged += 1

    def keep(self, path: str) -> bool:
        """Carry the current site's file over without reading it (the caller knows its inputs
        are unchanged); False when there is no such regular file, so it must be written."""
        safe_relative(path)
        current = f"{self._site}/{path}"
        if path in self._paths or os.path.islink(current) or not os.path.isfile(current):
            return False
        self.prepare([path])
        self._link(current, f"{self._stage}/{path}")
        self.unchanged += 1
        return True

    def _link(self, current: str, target: str) -> None:
        if not self._reused:
            os.link(current, target)
            return
        try:
            if os.path.samefile(current, target):
                return  # the spare already holds this very file
        except OSError:
            pass
        temporary = self._temporary(target)
        os.link(current, temporary)
        self._replace(temporary, target)

    @staticmethod
    def _temporary(target: str) -> str:
        folder, name = target.rsplit("/", 1)
        temporary = f"{folder}/.{name}.clippings-new"
        with contextlib.suppress(FileNotFoundError):
            os.unlink(temporary)
        return temporary

    @staticmethod
    def _replace(temporary: str, target: str) -> None:
        if os.path.isdir(target) and not os.path.islink(target):  # an old folder, a page now
            shutil.rmtree(target)
        os.replace(temporary, target)

    def staged_size(self, path: str) -> int:
        """The size of a file staged (written or kept) in this build."""
        return (self.staging / safe_relative(path)).stat().st_size

    def copy(self, path: str, source: Path) -> None:
        self.write(path, read_regular(source))

    def commit(self) -> int:
        """Swap the staging folder in; returns how many old files are gone from the site."""
        removed = self._count_removed()
        if self._reused:
            _remove_all_but(self.staging, self._paths)
        if not self.site_dir.exists():
            self.staging.rename(self.site_dir)
            return removed
        if not _exchange(self.staging, self.site_dir):
            self.site_dir.rename(self.previous)
            self.staging.rename(self.site_dir)
            self._retire(self.previous)
            return removed
        self._retire(self.staging)
        return removed

    def _retire(self, old_site: Path) -> None:
        """Keep the replaced site as the next build's spare, or delete it."""
        if self.spare is not None:
            try:
                self.spare.parent.mkdir(parents=True, exist_ok=True)
                old_site.rename(self.spare)
                return
            except OSError:
                pass
        shutil.rmtree(old_site)

    def abort(self) -> None:
        shutil.rmtree(self.staging, ignore_errors=True)

    def _count_removed(self) -> int:
        if not self.site_dir.is_dir():
            return 0
        return len(_files(self.site_dir) - self._paths)


def _files(root: Path) -> set[str]:
    """Every non-folder entry under `root`, as a relative POSIX path."""
    found = set()
    for folder, _, names in os.walk(root):
        prefix = os.path.relpath(folder, root).replace(os.sep, "/")
        prefix = "" if prefix == "." else prefix + "/"
        found.update(prefix + name for name in names)
    return found


def _remove_all_but(root: Path, keep: set[str]) -> None:
    """Delete every file under `root` that is not in `keep`, then the folders left empty."""
    emptied: set[str] = set()
    for folder, folders, names in os.walk(root, topdown=False):
        prefix = os.path.relpath(folder, root).replace(os.sep, "/")
        prefix = "" if prefix == "." else prefix + "/"
        empty = True
        for name in names:
            if prefix + name in keep:
                empty = False
            else:
                os.unlink(os.path.join(folder, name))
        for name in folders:
            path = os.path.join(folder, name)
            if os.path.islink(path):
                os.unlink(path)
            elif path not in emptied:
                empty = False
        if empty and prefix:
            os.rmdir(folder)
            emptied.add(folder)


def write_atomically(target: Path, data: bytes) -> bool:
    """Replace one file in a live site (temp file, then rename) unless it already holds these
    bytes; True when it was written. Readers see the old file or the new one, never part."""
    return bool(replace_files(target.parent, {target.name: data}))


def replace_files(site_dir: Path, files: dict[str, bytes]) -> list[str]:
    """Replace many files in a live site, all or none: each is written to a temporary file
    beside its target first, and only when every one is written are they renamed into place.
    A failure while writing (a full disk) leaves the site as it was. Returns the paths whose
    bytes changed."""
    staged: list[tuple[Path, Path]] = []
    created: list[Path] = []
    try:
        for path, data in files.items():
            target = site_dir / path
            if same_bytes(target, data):
                continue
            missing = [folder for folder in target.parents if not folder.exists()]
            for folder in reversed(missing):
                folder.mkdir()
                created.append(folder)
            temporary = temporary_beside(target)
            staged.append((temporary, target))
            temporary.write_bytes(data)
    except BaseException:
        for temporary, _ in staged:
            temporary.unlink(missing_ok=True)
        for folder in reversed(created):
            with contextlib.suppress(OSError):
                folder.rmdir()
        raise
    for temporary, target in staged:
        os.replace(temporary, target)
    return [target.relative_to(site_dir).as_posix() for _, target in staged]


def remove_leftovers(site_dir: Path, paths: Iterable[str]) -> None:
    """Delete the temporary files a killed `replace_files` may have left beside these paths."""
    for path in paths:
        target = site_dir / path
        for leftover in target.parent.glob(f".{glob.escape(target.name)}.*.tmp"):
            if leftover.name[len(target.name) + 2 : -4].isdigit():  # files.temporary_beside
                leftover.unlink(missing_ok=True)


def same_bytes(path: Path | str, data: bytes) -> bool:
    """True when `path` is a regular file holding exactly `data`."""
    try:
        status = os.lstat(path)
        if not stat.S_ISREG(status.st_mode) or status.st_size != len(data):
            return False
        with open(path, "rb") as file:
            return file.read() == data
    except OSError:
        return False
