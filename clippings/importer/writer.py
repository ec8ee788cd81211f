"""Markdown content files with front matter: rendering, provenance and safe writing.

Every file the importer writes is recorded with its SHA-256 in `raw/imports.json`; a content
file whose bytes no longer match its record was edited by hand and is left alone unless the
user forces it. Writes go to a temporary file in the same folder first and are moved into place
with `os.replace`, so an interrupted import never leaves a half-written file.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import fcntl
import hashlib
import json
import os
import re
from collections.abc import Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import yaml

from clippings.errors import BuildError, Problem
from clippings.files import atomic_file
from clippings.importer.extract import Extracted
from clippings.text import slugify

RECORD = "imports.json"
FLUSH_EVERY = 100  # entries noted before `Record` writes them
_SYNC_THREADS = 16
_MAX_SLUG = 80
_LIBYAML_ESCAPES = re.compile("[\x85\u2028\u2029\U00010000-\U0010ffff]")
_IMPORTED = re.compile(r"^imported: '?(\d{4}-\d{2}-\d{2})'?$", re.MULTILINE)
_SOURCE_SHA = re.compile(r"^source_sha256: '?([0-9a-f]{64})'?$", re.MULTILINE)
# Markdown would read these anywhere in a line; the backslash comes first so it is not doubled.
_INLINE = str.maketrans({"\\": "\\\\", "*": "\\*", "_": "\\_", "`": "\\`", "[": "\\[", "]": "\\]"})
_LINE_START = re.compile(r"^(?:[#>+]|[-*](?=\s|$)|-{3,}|(\d+)([.)])(?=\s|$))")


def sha256(data: bytes | str) -> str:
    return hashlib.sha256(data.encode("utf-8") if isinstance(data, str) else data).hexdigest()


def escape_markdown(line: str) -> str:
    """Escape a line so that Markdown renders it as exactly this text in one paragraph."""
    text = line.translate(_INLINE).replace("&", "&amp;").replace("<", "&lt;")
    match = _LINE_START.match(text)
    if match is None:
        return text
    if match.group(1) is not None:  # "1. " would start a list
        return f"{match.group(1)}\\{match.group(2)}{text[match.end() :]}"
    return "\\" + text


def slug_for(extracted: Extracted, source_file: str) -> str:
    base = slugify(extracted.title or Path(source_file).stem) or "article"
    return base[:_MAX_SLUG].rstrip("-")


def render(
    extracted: Extracted,
    source_file: str,
    source_sha: str,
    imported: dt.date,
    slug: str | None = None,
    provenance: dict[str, str] | None = None,
) -> str:
    """The content file: YAML front matter, then one escaped paragraph per body line.

    `slug` is written only when it differs from the title's, e.g. for a second "Print options";
    `provenance` names a web archive's record (`warc_file`, `warc_record_id`, `warc_digest`).
    """
    front = {
        "title": extracted.title or Path(source_file).stem,
        **({"title_source": extracted.title_source} if extracted.title_source else {}),
        **({"slug": slug} if slug else {}),
        "date": extracted.date,
        "publication": extracted.publication,
        "url": extracted.url,
        "authors": extracted.authors,
        "people": extracted.people,
        "countries": extracted.countries,
        "sources": extracted.sources,
        "dek": extracted.dek,
        "captions": [
            {"text": text, "after": place}
            for text, place in zip(extracted.captions, extracted.caption_places, strict=True)
        ],
        "summary": extracted.summary,
        "source_file": source_file,
        "source_sha256": source_sha,
        **(provenance or {}),
        **({"retrieved": extracted.retrieved} if extracted.retrieved else {}),
        "imported": imported,
    }
    header = yaml.dump(
        front, Dumper=_dumper(front), sort_keys=False, allow_unicode=True, width=1_000_000
    )
    body = "\n\n".join(escape_markdown(line) for line in extracted.body)
    return f"---\n{header}---\n\n{body}\n"


def _dumper(front: dict[str, Any]) -> type[yaml.SafeDumper] | type[yaml.CSafeDumper]:
    """libyaml's emitter, several times faster than PyYAML's own, writes the same bytes but for
    NEL, the line and paragraph separators and characters beyond the BMP (an emoji), which it
    escapes ("\\U0001F600"): front matter holding any of those is written by PyYAML's, as before."""
    strings = json.dumps(front, ensure_ascii=False, default=str)
    return yaml.SafeDumper if _LIBYAML_ESCAPES.search(strings) else yaml.CSafeDumper


def existing_imported_date(text: str) -> dt.date | None:
    match = _IMPORTED.search(text)
    return dt.date.fromisoformat(match[1]) if match else None


def existing_source_sha(text: str) -> str | None:
    match = _SOURCE_SHA.search(text)
    return match[1] if match else None


def atomic_write(path: Path, data: bytes, durable: bool = True) -> None:
    """Write via a temporary file in the same folder and `os.replace`, never half a file; with
    `durable`, the data is on disk (fsync) before the file takes its name. Without it, the
    caller makes it durable later (`sync_files`), before anything records it as written."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with atomic_file(path, durable) as out:
        out.write(data)


def sync_files(paths: Iterable[Path]) -> None:
    """fsync each file, several at once: concurrent fsyncs share the file system's journal
    commits, where one after another each waits for its own (8 ms each on a busy disk)."""
    with ThreadPoolExecutor(_SYNC_THREADS) as pool:
        list(pool.map(_sync, paths))


def _sync(path: Path) -> None:
    try:
        descriptor = os.open(path, os.O_RDONLY | os.O_NONBLOCK | os.O_CLOEXEC)
    except FileNotFoundError:  # removed since: nothing of it to keep
        return
    try:
        os.fsync(descriptor)
    finally:
        os.close(descriptor)


@contextlib.contextmanager
def _locked(folder: Path) -> Iterator[None]:
    """An exclusive `flock` on a folder, dropped by the kernel if its holder dies."""
    descriptor = os.open(folder, os.O_RDONLY)
    try:
        fcntl.flock(descriptor, fcntl.LOCK_EX)
        yield
    finally:
        os.close(descriptor)


class Record:
    """`raw/imports.json`: the SHA-256 of every content file as the importer wrote it.

    Several imports may run at once into one site: each `save` reads the file afresh and
    replaces it under an exclusive lock on the raw folder, so no run drops another's entries.
    """

    def __init__(self, raw_dir: Path) -> None:
        self.path = raw_dir / RECORD
        self.entries: dict[str, str] = self._read()
        self.pending: dict[str, str] = {}  # noted, not written yet
        self.unsynced: list[Path] = []  # written for the pending entries, not fsynced yet

    def _read(self) -> dict[str, str]:
        if self.path.exists() and not self.path.is_file():  # a FIFO would be waited on
            raise BuildError([Problem(str(self.path), None, "not a regular file")])
        try:
            entries = json.loads(self.path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            return {}
        except (OSError, ValueError) as error:
            raise BuildError([Problem(str(self.path), None, f"cannot read: {error}")]) from None
        if not isinstance(entries, dict) or not all(
            isinstance(value, str) for value in entries.values()
        ):
            message = "expected an object of content files and their SHA-256"
            raise BuildError([Problem(str(self.path), None, message)])
        return entries

    def written_by_importer(self, key: str, text: str) -> bool:
        return self.entries.get(key) == sha256(text)

    def save(self, key: str, text: str) -> None:
        """Record `key` now."""
        self.note(key, text)
        self.flush()

    def note(self, key: str, text: str, written: Iterable[Path] = ()) -> None:
        """Record `key` with the next `flush`, at most `FLUSH_EVERY` entries later: rewriting
        the whole record for every file took 10 s of a 1,000-article import. The files
        `written` for it without an fsync of their own are made durable first. A run killed
        before the flush leaves files it wrote unrecorded, which the next run adopts when it
        would write the same bytes and otherwise leaves alone, as it does a hand edit."""
        self.entries[key] = self.pending[key] = sha256(text)
        self.unsynced += written
        if len(self.pending) >= FLUSH_EVERY:
            self.flush()

    def flush(self) -> None:
        """Write the entries noted since the last flush, merged with the file as it is now,
        once the files written for them are on disk."""
        if not self.pending:
            return
        sync_files(self.unsynced)
        self.unsynced = []
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with _locked(self.path.parent):
            self.entries = {**self._read(), **self.pending}
            data = json.dumps(self.entries, indent=2, sort_keys=True) + "\n"
            atomic_write(self.path, data.encode("utf-8"))
        self.pending = {}
