"""The file system is input too: odd files, editors' files, symlinks, unreadable folders, long
paths, read-only projects and full disks, in every folder a build reads.

Each case is a real build (in this process, through the CLI, or as the `nobody` user where
permissions matter: the suite runs as root in CI, and root reads any folder). What must hold:
an error naming the path (never a hang, a traceback or a silent drop), the previous site
untouched, and the build cache kept.
"""

from __future__ import annotations

import contextlib
import errno
import os
import pwd
import shutil
import socket
import sqlite3
import stat
import subprocess
import sys
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from clippings.build import build_site
from clippings.cache import CACHE_DIR, BuildCache
from clippings.config import load_config
from clippings.errors import BuildError
from clippings.files import ignored_name
from clippings.incremental import Rebuilder
from tests.conftest import FIXTURE_SITE, site_tree
from tests.reliability.report import FIGURES

pytestmark = pytest.mark.timeout(120)

LETTER = "content/2019/letter.md"


def _build(site: Path, output_dir: Path | None = None) -> object:
    config = load_config(site / "config.yaml")
    return build_site(config, output_dir or site / "_site")


def _errors(site: Path) -> list[str]:
    with pytest.raises(BuildError) as raised:
        _build(site)
    return [str(problem) for problem in raised.value.problems]


def _record(case: str) -> None:
    FIGURES.trust.setdefault("file system", []).append(case)


# -- files that are not regular files ---------------------------------------------------------


def _fifo(path: Path) -> None:
    os.mkfifo(path)


def _socket(path: Path) -> None:
    with socket.socket(socket.AF_UNIX) as server:
        server.bind(str(path))  # the file stays after the socket closes


def _device(path: Path) -> None:
    try:
        os.mknod(path, 0o600 | stat.S_IFCHR, os.makedev(1, 5))  # what /dev/zero is
    except PermissionError:
        pytest.skip("creating a device file needs root (CAP_MKNOD)")


def _device_link(path: Path) -> None:
    path.symlink_to("/dev/zero")


ODD_FILES: dict[str, Callable[[Path], None]] = {
    "fifo": _fifo,
    "socket": _socket,
    "device": _device,
    "symlink-to-dev-zero": _device_link,
}
# Where an odd file goes, and the path its message must name.
PLACES = {
    "content": "content/2019/odd.md",
    "template": "templates/article.html",
    "static": "static/odd.css",
    "config": "config.yaml",
    "authority": "data/entities.yaml",
}


@pytest.mark.timeout(30)  # a FIFO that is opened for reading waits for ever
@pytest.mark.parametrize("place", PLACES)
@pytest.mark.parametrize("kind", ODD_FILES)
def test_only_regular_files_are_read(
    fixture_site: Path, monkeypatch: pytest.MonkeyPatch, kind: str, place: str
) -> None:
    monkeypatch.chdir(fixture_site)  # messages then name paths as the user sees them
    target = Path(PLACES[place])
    target.parent.mkdir(parents=True, exist_ok=True)
    target.unlink(missing_ok=True)
    ODD_FILES[kind](target)
    with pytest.raises(BuildError) as raised:
        build_site(load_config(Path("config.yaml")), Path("_site"))
    messages = [str(problem) for problem in raised.value.problems]
    assert any(message.startswith(f"{target}: ") for message in messages), messages
    assert not Path("_site").exists()
    _record(f"a {kind} as {target}: an error naming it, never opened for reading")


# -- editors' files ---------------------------------------------------------------------------

EDITOR_FILES = {
    "emacs-lock": lambda folder, stem: (folder / f".#{stem}").symlink_to("user@host.4242:1"),
    "emacs-autosave": lambda folder, stem: (folder / f"#{stem}#").write_text("{% oops"),
    "backup": lambda folder, stem: (folder / f"{stem}~").write_text("{% oops"),
    "vim-swap": lambda folder, stem: (folder / f".{stem}.swp").write_bytes(b"\0b0VIM"),
    "vim-swx": lambda folder, stem: (folder / f".{stem}.swx").write_bytes(b"\0b0VIM"),
    "vim-probe": lambda folder, stem: (folder / "4913").write_text(""),
    "dangling-symlink": lambda folder, stem: (folder / stem).symlink_to("nowhere/at/all"),
}
FOLDERS = {"content": ("content/2019", "letter.md"), "templates": ("templates", "article.html")}
FOLDERS["static"] = ("static", "style.css")


@pytest.mark.parametrize("folder", FOLDERS)
@pytest.mark.parametrize("editor", EDITOR_FILES)
def test_editor_files_are_ignored_in_builds_cached_builds_and_serve(
    fixture_site: Path, tmp_path: Path, editor: str, folder: str
) -> None:
    clean = tmp_path / "clean"
    _build(fixture_site, clean)
    relative, stem = FOLDERS[folder]
    where = fixture_site / relative
    where.mkdir(parents=True, exist_ok=True)
    if editor == "dangling-symlink":
        stem = "gone-" + stem  # a name of its own: a dangling link, not a file put back
    EDITOR_FILES[editor](where, stem)
    _build(fixture_site)  # no cache yet
    assert site_tree(fixture_site / "_site") == site_tree(clean)
    _build(fixture_site)  # through the cache
    assert site_tree(fixture_site / "_site") == site_tree(clean)
    rebuilder = Rebuilder(fixture_site / "config.yaml", fixture_site / "_served")
    rebuilder.build()
    rebuilder.build({where.resolve() / stem})  # the watcher may name it
    served = site_tree(fixture_site / "_served", search=False)
    assert served == site_tree(clean, search=False)  # serve indexes search apart
    _record(f"{editor} file in {folder}/: ignored by builds, cached builds and serve")


@given(
    stem=st.text(st.characters(categories=["L", "N"], max_codepoint=0x24F), min_size=1),
    pattern=st.sampled_from([".#{}", "#{}#", "{}~", ".{}.swp", ".{}.swx", ".{}.swo"]),
)
def test_every_editor_name_pattern_is_ignored_whatever_the_stem(stem: str, pattern: str) -> None:
    assert ignored_name(pattern.format(stem))
    assert not ignored_name(f"{stem}.css") and not ignored_name(f"{stem}.md")


# -- symlinks leaving the project -------------------------------------------------------------


@pytest.mark.parametrize(
    ("link", "target", "expected"),
    [
        ("static/passwd.txt", "/etc/passwd", "symlink points outside the project; not read"),
        ("templates/article.html", "/etc/hostname", "symlink points outside the project; not read"),
        (
            "templates/base.html",
            "../../outside.html",
            "symlink points outside the project; not read",
        ),
        ("static/etc", "/etc", None),  # a symlinked folder: not followed, with a warning
    ],
)
def test_symlinks_out_of_the_project_are_not_published(
    fixture_site: Path, monkeypatch: pytest.MonkeyPatch, link: str, target: str, expected: str
) -> None:
    monkeypatch.chdir(fixture_site)
    (fixture_site.parent / "outside.html").write_text("secret")
    Path(link).parent.mkdir(exist_ok=True)
    Path(link).symlink_to(target)
    if expected is None:
        result = build_site(load_config(Path("config.yaml")), Path("_site"))
        assert any(w.path == link and "not followed" in w.message for w in result.warnings)
        assert not (fixture_site / "_site" / link).exists()
    else:
        with pytest.raises(BuildError) as raised:
            build_site(load_config(Path("config.yaml")), Path("_site"))
        assert f"{link}: {expected}" in [str(problem) for problem in raised.value.problems]
    _record(f"symlink {link} -> {target}: never followed into the output")


def test_hidden_static_folders_are_published_and_editor_files_in_them_are_not(
    fixture_site: Path,
) -> None:
    """`static/.well-known/security.txt` was published before the shared walk, and still is."""
    known = fixture_site / "static" / ".well-known"
    known.mkdir(parents=True)
    (known / "security.txt").write_text("Contact: mailto:a@example.org\n")
    (known / ".#security.txt").symlink_to("user@host.1:1")
    (known / "security.txt~").write_text("old")
    _build(fixture_site)
    published = fixture_site / "_site" / "static" / ".well-known"
    assert sorted(path.name for path in published.iterdir()) == ["security.txt"]


def test_symlinks_inside_the_project_still_work(fixture_site: Path) -> None:
    (fixture_site / "assets").mkdir()
    (fixture_site / "assets" / "extra.css").write_text("p { color: red }\n")
    (fixture_site / "static").mkdir()
    (fixture_site / "static" / "extra.css").symlink_to("../assets/extra.css")
    _build(fixture_site)
    assert (fixture_site / "_site" / "static" / "extra.css").read_text() == "p { color: red }\n"


# -- permissions: as a normal user ------------------------------------------------------------


@pytest.fixture
def nobody_site() -> Iterator[Path]:
    """A copy of the fixture site owned by `nobody`, in a folder `nobody` can reach."""
    if os.geteuid() != 0:
        pytest.skip("needs root to drop to the nobody user (as CI runs)")
    holder = Path(tempfile.mkdtemp(prefix="clippings-nobody-"))
    try:
        os.chmod(holder, 0o755)
        site = holder / "site"
        shutil.copytree(FIXTURE_SITE, site)
        user = pwd.getpwnam("nobody")
        for path in [site, *site.rglob("*")]:
            os.lchown(path, user.pw_uid, user.pw_gid)
        yield site
    finally:
        for path in holder.rglob("*"):  # chmod 000 folders must be opened again to delete
            if path.is_dir() and not path.is_symlink():
                path.chmod(0o755)
        shutil.rmtree(holder)


def _as_nobody(site: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """`build.py ARGS` in `site` as the nobody user, in a forked child: this Python lives under
    /root (mode 700), which nobody cannot run, so the child keeps the parent's interpreter and
    drops its privileges itself. What the build loads later is imported here first."""
    import importlib.metadata  # noqa: F401

    import tqdm  # noqa: F401
    from pagefind.service import get_executable  # noqa: F401

    from clippings import cli

    user = pwd.getpwnam("nobody")
    sys.stdout.flush()
    sys.stderr.flush()
    read, write = os.pipe()
    child = os.fork()
    if child == 0:  # pragma: no cover (the child)
        code = 70
        try:
            os.close(read)
            sys.stdout = sys.stderr = os.fdopen(write, "w", buffering=1)
            os.chdir(site)
            os.setgroups([])
            os.setgid(user.pw_gid)
            os.setuid(user.pw_uid)
            code = cli.main(list(args))
        except BaseException:
            import traceback

            traceback.print_exc()
        finally:
            sys.stdout.flush()
            os._exit(code)
    os.close(write)
    try:
        with os.fdopen(read, "r") as pipe:
            text = pipe.read()
        code = os.waitstatus_to_exitcode(os.waitpid(child, 0)[1])
    except BaseException:  # the test timed out: the child must not outlive it
        os.kill(child, 9)
        os.waitpid(child, 0)
        raise
    return subprocess.CompletedProcess(args, code, "", text)


@pytest.mark.parametrize(
    ("folder", "expected"),
    [
        ("content/2019", "content/2019: cannot read folder: Permission denied; the articles in it"),
        ("static/css", "static/css: cannot read folder: Permission denied; the files in it"),
        ("templates", "templates/article.html: cannot read template: Permission denied"),
    ],
)
def test_a_folder_that_cannot_be_read_is_an_error_naming_it(
    nobody_site: Path, folder: str, expected: str
) -> None:
    """The issue's example: `chmod 000 content/2019` built 1 article and said nothing."""
    (nobody_site / "static" / "css").mkdir(parents=True)
    (nobody_site / "static" / "css" / "extra.css").write_text("p {}\n")
    (nobody_site / "templates").mkdir()
    (nobody_site / "templates" / "article.html").write_text('{% extends "base.html" %}')
    for path in (nobody_site / "static", nobody_site / "templates"):
        for item in [path, *path.rglob("*")]:
            os.chown(item, pwd.getpwnam("nobody").pw_uid, -1)
    (nobody_site / "templates" / "article.html").unlink()  # the theme's, until it cannot be seen
    first = _as_nobody(nobody_site, "--quiet")
    assert first.returncode == 0, first.stderr
    before = site_tree(nobody_site / "_site")
    cache = (nobody_site / CACHE_DIR / "cache.sqlite").stat().st_ino
    (nobody_site / folder).chmod(0)
    second = _as_nobody(nobody_site, "--quiet")
    assert second.returncode == 1
    assert expected in second.stderr and "Traceback" not in second.stderr
    assert site_tree(nobody_site / "_site") == before
    assert (nobody_site / CACHE_DIR / "cache.sqlite").stat().st_ino == cache  # not discarded
    _record(f"`chmod 000 {folder}` (as nobody): exit 1, `{expected}…`, site and cache kept")


def test_a_read_only_project_is_an_error_and_keeps_site_and_cache(nobody_site: Path) -> None:
    assert _as_nobody(nobody_site, "--quiet").returncode == 0
    for path in [nobody_site, *nobody_site.rglob("*")]:
        os.lchown(path, 0, 0)  # now root's: nobody may read, not write
    (nobody_site / LETTER).write_text((nobody_site / LETTER).read_text() + "\nMore.\n")
    before = site_tree(nobody_site / "_site")
    cache = (nobody_site / CACHE_DIR / "cache.sqlite").read_bytes()
    result = _as_nobody(nobody_site, "--quiet")
    assert result.returncode == 1 and "Traceback" not in result.stderr
    assert "._site.staging: file system error: Permission denied" in result.stderr
    assert site_tree(nobody_site / "_site") == before
    assert (nobody_site / CACHE_DIR / "cache.sqlite").read_bytes() == cache
    _record("a read-only project (as nobody): exit 1 naming the path, site and cache kept")


# -- names too long, full disks ---------------------------------------------------------------


def test_a_path_too_long_for_the_system_is_an_error_naming_it(fixture_site: Path) -> None:
    """Folders nested past PATH_MAX (4,096 bytes) can exist, made one level at a time."""
    descriptor = os.open(fixture_site / "content", os.O_RDONLY)
    try:
        for _ in range(20):  # 20 x 250 bytes
            os.mkdir("d" * 250, dir_fd=descriptor)
            inner = os.open("d" * 250, os.O_RDONLY, dir_fd=descriptor)
            os.close(descriptor)
            descriptor = inner
        with os.fdopen(os.open("deep.md", os.O_WRONLY | os.O_CREAT, dir_fd=descriptor), "w") as f:
            f.write((fixture_site / LETTER).read_text().replace("slug:", "x_slug:"))
    finally:
        os.close(descriptor)
    messages = _errors(fixture_site)
    assert any("File name too long" in message for message in messages), messages
    assert all(message.startswith(("content/", str(fixture_site))) for message in messages)
    _record("content nested past PATH_MAX: `File name too long` naming the folder")


@contextlib.contextmanager
def _tiny_disk(folder: Path, size: str) -> Iterator[Path]:
    folder.mkdir()
    mounted = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(folder)],
        capture_output=True,
        timeout=30,
    )
    if mounted.returncode != 0:
        pytest.skip("cannot mount a tmpfs here (needs root and CAP_SYS_ADMIN)")
    try:
        yield folder
    finally:
        subprocess.run(["umount", "-l", str(folder)], check=False, timeout=30)


def _fill(disk: Path) -> Path:
    """Fill the disk to the last block (unbuffered, so no write is left pending)."""
    filler = disk / "filler"
    descriptor = os.open(filler, os.O_WRONLY | os.O_CREAT)
    try:
        for size in (65536, 512, 1):
            with contextlib.suppress(OSError):
                while True:
                    os.write(descriptor, b"\0" * size)
    finally:
        os.close(descriptor)
    return filler


def test_a_full_disk_is_an_error_and_keeps_site_and_cache(tmp_path: Path) -> None:
    """A real full disk (a small tmpfs): SQLite's "database or disk is full" is not a damaged
    cache, and the site being replaced is left as it was."""
    with _tiny_disk(tmp_path / "disk", "8m") as disk:
        site = disk / "site"
        shutil.copytree(FIXTURE_SITE, site)
        _build(site)
        before = site_tree(site / "_site")
        cache = (site / CACHE_DIR / "cache.sqlite").stat().st_ino
        (site / LETTER).write_text((site / LETTER).read_text().replace("Pyongyang", "Seoul"))
        filler = _fill(disk)
        messages = _errors(site)
        assert any("No space left on device" in m or "disk is full" in m for m in messages)
        assert site_tree(site / "_site") == before
        assert (site / CACHE_DIR / "cache.sqlite").stat().st_ino == cache
        filler.unlink()
        result = _build(site)
        assert not any("damaged" in w.message or "unreadable" in w.message for w in result.warnings)
    _record("a full disk (8 MB tmpfs, filled): an error, site and cache kept; builds once freed")


@pytest.mark.parametrize(
    "failure",
    [
        OSError(errno.ENOSPC, "No space left on device"),
        OSError(errno.EROFS, "Read-only file system"),
        OSError(errno.EDQUOT, "Disk quota exceeded"),
    ],
    ids=["enospc", "erofs", "edquot"],
)
def test_a_write_that_fails_mid_build_names_the_file_and_keeps_the_site(
    fixture_site: Path, monkeypatch: pytest.MonkeyPatch, failure: OSError
) -> None:
    _build(fixture_site)
    before = site_tree(fixture_site / "_site")
    letter = fixture_site / LETTER  # a new title: a full build, writing many pages
    letter.write_text(letter.read_text().replace("title: A Letter", "title: The Letter"))
    written = []
    original = Path.write_bytes

    def failing(path: Path, data: bytes) -> int:
        written.append(path)
        if len(written) > 1:
            raise OSError(failure.errno, failure.strerror, str(path))
        return original(path, data)

    monkeypatch.setattr(Path, "write_bytes", failing)
    messages = _errors(fixture_site)
    monkeypatch.undo()
    assert messages == [f"{written[-1]}: file system error: {failure.strerror}"]
    assert site_tree(fixture_site / "_site") == before
    assert not list(fixture_site.glob("._site.*"))


def test_a_full_cache_database_is_not_a_damaged_one(
    fixture_site: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _build(fixture_site)
    before = site_tree(fixture_site / "_site")
    database = fixture_site / CACHE_DIR / "cache.sqlite"
    inode = database.stat().st_ino
    letter = fixture_site / LETTER
    letter.write_text(letter.read_text().replace("title: A Letter", "title: The Letter"))

    def full(*args: object) -> None:
        error = sqlite3.OperationalError("database or disk is full")
        error.sqlite_errorcode = sqlite3.SQLITE_FULL
        raise error

    # Before anything is replaced: just before the full build's swap, or before the saved
    # engine's first write.
    monkeypatch.setattr(BuildCache, "forget_build", full)
    messages = _errors(fixture_site)
    monkeypatch.undo()
    assert messages == [
        f"{fixture_site / CACHE_DIR}: build cache: database or disk is full; the cache is kept, "
        "nothing was replaced"
    ]
    assert database.stat().st_ino == inode
    assert site_tree(fixture_site / "_site") == before
    _record("SQLite's `database or disk is full`: an error; the cache is not discarded")
