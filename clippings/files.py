"""The file system as input: which files a build reads, and reading them without waiting; and
writing one file whole or not at all.

Every folder the build or `serve` reads (content/, templates/, static/, the theme) is walked by
`walk_folder`, and every source file is opened by `read_regular`, so one rule holds everywhere:

- editors' lock, swap and backup files (`.#a.md`, `a.md~`, `.a.md.swp`, Vim's `4913` probe,
  `#a.md#`) and hidden files are not site files, and a dangling symlink is an editor's lock;
- only regular files are read: a FIFO would block the build for ever, a device never ends, so
  both are refused with a message, never opened for reading;
- a folder that cannot be listed is an error naming it, never a silent drop of what it holds.
"""

from __future__ import annotations

import errno
import os
import stat
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import BinaryIO

from clippings.errors import Problem

_EDITOR_SUFFIXES = ("~", ".swp", ".swx", ".swo")


def ignored_name(name: str) -> bool:
    """True for names that are never site files: hidden files and editors' temporary files."""
    return (
        name.startswith(".")  # hidden; also Emacs's `.#name` lock and Vim's `.name.swp`
        or name.endswith(_EDITOR_SUFFIXES)
        or name == "4913"  # Vim's probe file, written to test a folder before each save
        or (name.startswith("#") and name.endswith("#"))  # Emacs's auto-save file
    )


class NotRegularFile(OSError):
    """A FIFO, socket, device or folder where a file was expected."""


def kind_of(mode: int) -> str:
    """What a non-regular file is, in words."""
    if stat.S_ISDIR(mode):
        return "a folder"
    if stat.S_ISFIFO(mode):
        return "a FIFO (named pipe)"
    if stat.S_ISSOCK(mode):
        return "a socket"
    if stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        return "a device"
    return "not a regular file"


def read_regular(path: Path | str) -> bytes:
    """The bytes of a regular file (see `open_regular`)."""
    with open_regular(path) as handle:
        return handle.read()


@contextmanager
def open_regular(path: Path | str) -> Iterator[BinaryIO]:
    """A regular file open for reading. Anything else raises `NotRegularFile` without being
    read: opened non-blocking, so a FIFO without a writer does not hang the build."""
    descriptor = os.open(path, os.O_RDONLY | os.O_NONBLOCK | os.O_CLOEXEC)
    try:
        mode = os.fstat(descriptor).st_mode
        if stat.S_ISDIR(mode):
            raise IsADirectoryError(errno.EISDIR, os.strerror(errno.EISDIR))
        if not stat.S_ISREG(mode):
            raise NotRegularFile(errno.EINVAL, f"{kind_of(mode)}, not a regular file; not read")
        with os.fdopen(descriptor, "rb", closefd=False) as handle:
            yield handle
    finally:
        os.close(descriptor)


def reason(error: OSError) -> str:
    """An OSError as a message for people: no errno number, no repeated path."""
    return error.strerror or str(error)


def os_problem(error: OSError, fallback: Path | str) -> Problem:
    """A file system error of a whole run (a full disk, a read-only folder) as a problem naming
    the path it struck."""
    path = error.filename if error.filename is not None else fallback
    return Problem(os.fsdecode(path), None, f"file system error: {reason(error)}")


@dataclass
class Walk:
    """What `walk_folder` found: files as (path components below the folder, full path), in
    sorted order, and the problems met (unreadable folders, FIFOs, symlinks leaving `inside`)."""

    files: list[tuple[tuple[str, ...], str]] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)


def walk_folder(
    folder: Path,
    display: Callable[[str], str],
    wanted: Callable[[str], bool] = lambda name: True,
    inside: Path | None = None,
    what: str = "files",
    hidden_folders: bool = False,
) -> Walk:
    """Every file of `folder` whose name is `wanted` (and not ignored), in sorted order.

    `display` names a path in messages; `what` names the files in them. Symlinked folders are
    not followed (a warning says so). With `inside`, a symlink must point to a file within that
    folder (the project), else it is refused: a link to /etc/passwd in static/ must not be
    published. Without it, symlinks to regular files are listed as they are (the content loader
    checks them itself). A symlink loop is listed, so reading it reports it. With
    `hidden_folders`, folders such as `.well-known/` are walked (static/ publishes them).
    """
    walk = Walk()
    pending: list[tuple[tuple[str, ...], str]] = [((), str(folder))]
    while pending:
        parts, current = pending.pop()
        try:
            with os.scandir(current) as listing:
                entries = list(listing)
        except FileNotFoundError:
            continue  # vanished while walked (or never there): nothing of it to lose
        except OSError as error:
            message = f"cannot read folder: {reason(error)}; the {what} in it are not read"
            walk.problems.append(Problem(display(current), None, message))
            continue
        for entry in entries:
            if ignored_name(entry.name) and not (
                hidden_folders
                and entry.name.startswith(".")
                and entry.is_dir(follow_symlinks=False)
            ):
                continue
            kind = _classify(entry, inside)
            if kind == _FOLDER:
                pending.append(((*parts, entry.name), entry.path))
            elif kind == _SYMLINKED_FOLDER:
                message = f"symlinked folder is not followed; {what} in it are not read"
                walk.problems.append(Problem(display(entry.path), None, message, warning=True))
            elif kind == _SKIP or not wanted(entry.name):
                continue
            elif kind == _FILE:
                walk.files.append(((*parts, entry.name), entry.path))
            else:
                walk.problems.append(Problem(display(entry.path), None, kind))
    walk.files.sort()
    walk.problems.sort(key=lambda problem: problem.path)
    return walk


_FOLDER, _SYMLINKED_FOLDER, _FILE, _SKIP = "folder", "symlinked folder", "file", "skip"


def _classify(entry: os.DirEntry[str], inside: Path | None) -> str:
    """What a folder entry is: one of the kinds above, or why it is refused."""
    try:
        # From the listing itself, without a system call per file (10,000 files a build).
        if entry.is_dir(follow_symlinks=False):
            return _FOLDER
        if entry.is_file(follow_symlinks=False):
            return _FILE
        if not entry.is_symlink():
            mode = entry.stat(follow_symlinks=False).st_mode
            return _FILE if stat.S_ISREG(mode) else f"{kind_of(mode)}, not a regular file; not read"
        mode = os.stat(entry.path).st_mode
    except FileNotFoundError:
        return _SKIP  # gone, or a dangling symlink: an editor's lock file
    except OSError as error:
        if error.errno == errno.ELOOP:
            return _FILE  # a symlink loop: reading it reports it
        return f"cannot read: {reason(error)}"  # e.g. a path longer than the system takes
    if stat.S_ISDIR(mode):
        return _SYMLINKED_FOLDER
    if not stat.S_ISREG(mode):
        return f"symlink to {kind_of(mode)}, not a regular file; not read"
    if inside is not None and not Path(os.path.realpath(entry.path)).is_relative_to(inside):
        return "symlink points outside the project; not read"
    return _FILE


StatKey = tuple[int, int, int, int]


def stat_key(info: os.stat_result) -> StatKey:
    """What says a file may have changed: mtime and size, and also the change time and inode,
    since an edit of the same size whose mtime was put back (`touch -r`, `cp -p`, rsync) still
    moves the ctime, which no user call can set."""
    return (info.st_mtime_ns, info.st_ctime_ns, info.st_ino, info.st_size)


def folder_stats(folder: Path) -> list[str]:
    """`stat_key` of every file of a folder the build reads (templates, static, theme), as the
    walk sees it: editors' lock files come and go without changing the site."""
    walk = walk_folder(folder, str)
    stats = [str(problem) for problem in walk.problems]  # an unreadable folder proves nothing
    for _, path in walk.files:
        try:
            stats.append(f"{path}:{stat_key(os.stat(path))}")
        except OSError:
            stats.append(f"{path}:-")
    return stats


def named_file(path: Path, below: Path) -> str:
    """How the walk of `below` would take a file a watcher named: "file" (listed), "none" (not
    there, dangling or an editor's file: skipped) or "odd" (a FIFO or device: walk the folder
    again, so its message is given)."""
    if any(ignored_name(part) for part in path.relative_to(below).parts):
        return "none"
    try:
        mode = os.stat(path).st_mode
    except FileNotFoundError:
        return "none"
    except OSError:
        return "file"  # e.g. a symlink loop: reading it reports what is wrong
    return "file" if stat.S_ISREG(mode) else "odd"


def temporary_beside(target: Path) -> Path:
    """Where a new `target` is written before it is renamed into place: hidden (walks skip it)
    and named by process, so two processes never write one file (`.<name>.<pid>.tmp`)."""
    return target.with_name(f".{target.name}.{os.getpid()}.tmp")


@contextmanager
def atomic_file(target: Path, durable: bool = False) -> Iterator[BinaryIO]:
    """A file to write `target` through: renamed over it when the block ends, deleted if the
    block raises. Readers see the old file or the new one whole, never part of either. With
    `durable`, the bytes are on disk (fsync) before the file takes its name."""
    temporary = temporary_beside(target)
    try:
        with open(temporary, "wb") as file:
            yield file
            if durable:
                file.flush()
                os.fsync(file.fileno())
        os.replace(temporary, target)
    except BaseException:
        temporary.unlink(missing_ok=True)
        raise
