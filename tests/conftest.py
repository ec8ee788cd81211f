"""Shared fixtures: paths of the repository, the shared inputs and the small fixture site."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from clippings.config import Config, load_config

REPO = Path(__file__).resolve().parent.parent
SHARED = REPO.parent / "shared"
FIXTURE_SITE = REPO / "tests" / "fixtures" / "site"


@pytest.fixture
def fixture_site(tmp_path: Path) -> Path:
    """A writable copy of the fixture site."""
    target = tmp_path / "site"
    shutil.copytree(FIXTURE_SITE, target)
    return target


@pytest.fixture
def fixture_config(fixture_site: Path) -> Config:
    return load_config(fixture_site / "config.yaml")


def site_tree(folder: Path, search: bool = True) -> dict[str, bytes]:
    """Every file of a built site by relative path; without `search`, not the search index
    (binary, tested by searching; `serve` indexes it apart, and may be swapping a shard's
    folder in while this walks: the walk does not go in)."""
    tree = {}
    for directory, folders, names in os.walk(folder):
        if not search and Path(directory) == folder and "pagefind" in folders:
            folders.remove("pagefind")
        for name in names:
            path = Path(directory, name)
            if path.is_file():  # not a dangling symlink
                tree[path.relative_to(folder).as_posix()] = path.read_bytes()
    return dict(sorted(tree.items()))


def write_article(content_dir: Path, name: str, front: str, body: str = "Body text.\n") -> Path:
    """Write a content file from front matter text (without fences) and a body."""
    path = content_dir / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(f"---\n{front.strip()}\n---\n\n{body}", encoding="utf-8")
    return path


@contextmanager
def reaped(process: subprocess.Popen) -> Iterator[subprocess.Popen]:
    """A started child process that is killed on the way out if it still runs, whatever failed
    in between: a test that starts a server must not leave it running (or hang CI) on failure."""
    try:
        yield process
    finally:
        if process.poll() is None:
            process.kill()
        process.wait(timeout=10)


def stop_process(process: subprocess.Popen, how: int = signal.SIGINT, seconds: float = 20) -> None:
    """Ask a child to stop (Ctrl-C by default); kill it and fail when it does not in time."""
    process.send_signal(how)
    try:
        process.wait(timeout=seconds)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(timeout=10)
        raise AssertionError(f"the child did not stop within {seconds} s of signal {how}") from None


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo) -> Iterator[None]:
    """A failed test's report shows what a server it started logged (`item.served_log`)."""
    outcome = yield
    report = outcome.get_result()
    served_log = getattr(item, "served_log", None)
    if served_log is not None and report.failed:
        report.sections.append(("what serve logged", served_log()))


def saved_after_read(
    monkeypatch: pytest.MonkeyPatch, module: object, path: Path, edit: str
) -> None:
    """Make `module`'s next read of `path` return its bytes and then save `edit` over it, as an
    editor saving while a build reads the file."""
    real = module.read_regular  # type: ignore[attr-defined]

    def read_then_edit(target: Path | str) -> bytes:
        data = real(target)
        if Path(target) == path:
            monkeypatch.setattr(module, "read_regular", real)
            path.write_text(edit, encoding="utf-8")
        return data

    monkeypatch.setattr(module, "read_regular", read_then_edit)
