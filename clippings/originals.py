"""The captured originals: published under originals/, listed in a SHA-256 manifest, checked.

An imported article names its original in `raw/` (`source_file`) and records its SHA-256
(`source_sha256`). Fixity is that the file still has that hash: `python build.py check` fails
on a mismatch or a missing file, and every build warns of it.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from clippings.config import Config
from clippings.content import Article
from clippings.errors import Problem

ORIGINALS_DIR = "originals"
_READ_SIZE = 1 << 20


@dataclass(frozen=True)
class Original:
    """A published original: its site path, the raw file, its stat (so a changed file is copied
    again) and the SHA-256 the manifest lists."""

    path: str
    file: str
    stat: tuple[int, int]
    sha256: str

    @property
    def size(self) -> int:
        return self.stat[1]


def raw_name(article: Article) -> PurePosixPath | None:
    """The article's `source_file` as a path inside raw/, or None when it points elsewhere."""
    name = article.source_file
    if not name or "\\" in name or "\0" in name:
        return None
    path = PurePosixPath(name)
    if path.is_absolute() or any(part in ("", ".", "..") for part in name.split("/")):
        return None
    return path


def file_sha256(path: Path | str) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as file:
        while chunk := file.read(_READ_SIZE):
            digest.update(chunk)
    return digest.hexdigest()


def published_originals(articles: Iterable[Article], config: Config) -> list[Original]:
    """The originals to publish: one per raw file that an article names and that exists (a
    missing or unsafe one is reported by `check_fixity`), in path order."""
    raw = config.path("raw_dir")
    found: dict[str, Original] = {}
    for article in articles:
        name = raw_name(article)
        if name is None or f"{ORIGINALS_DIR}/{name}" in found:
            continue
        file = raw / name
        try:
            info = os.stat(file)
        except OSError:
            continue
        if not os.path.isfile(file):
            continue
        sha = (article.source_sha256 or "").lower() or file_sha256(file)
        path = f"{ORIGINALS_DIR}/{name}"
        found[path] = Original(path, str(file), (info.st_mtime_ns, info.st_size), sha)
    return [found[path] for path in sorted(found)]


def manifest_text(originals: list[Original]) -> str:
    """BagIt's payload-manifest format, `<sha256>  <path>`, checkable with `sha256sum -c`."""
    return "".join(f"{original.sha256}  {original.path}\n" for original in originals)


def check_fixity(articles: Iterable[Article], config: Config, warning: bool) -> list[Problem]:
    """Every article's original against its recorded SHA-256; one problem per mismatch,
    missing file or `source_file` outside raw/."""
    raw_dir = config.raw_dir.rstrip("/")
    problems = []
    for article in articles:
        if not article.source_file:
            continue
        name = raw_name(article)
        shown = f"{raw_dir}/{article.source_file}"
        if name is None:
            message = f"original {shown}: not a path inside {raw_dir}/"
            problems.append(Problem(article.source, None, message, warning))
            continue
        try:
            found = file_sha256(config.path("raw_dir") / name)
        except OSError:
            problems.append(Problem(article.source, None, f"original {shown}: missing", warning))
            continue
        expected = (article.source_sha256 or "").lower()
        if expected and found != expected:
            message = f"original {shown}: SHA-256 differs (expected {expected}, found {found})"
            problems.append(Problem(article.source, None, message, warning))
    return problems


def read_original(original: Original) -> bytes:
    return Path(original.file).read_bytes()
