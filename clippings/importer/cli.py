"""`build.py import`: turn scraped text and saved HTML pages into content files.

Each input gets one line of outcome (imported, unchanged, skipped or failed, with the reason);
a bad file never stops the others. The run ends with a summary line and exits 1 if any file
failed.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import filecmp
import json
import os
import re
import stat
import sys
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from clippings.authority import load_authority
from clippings.config import load_config
from clippings.errors import BuildError
from clippings.importer.entities import load_nlp
from clippings.importer.extract import Extracted, Extractor, Meta
from clippings.importer.html import extract_page
from clippings.importer.names import load_gazetteer
from clippings.importer.provenance import read_told, write_told
from clippings.importer.warc import ArchivedPage, ArchiveError, html_records, is_web_archive
from clippings.importer.workers import WorkerDied, available_cores, ordered_map
from clippings.importer.writer import (
    Record,
    atomic_write,
    existing_imported_date,
    existing_source_sha,
    render,
    sha256,
    slug_for,
)

TEXT_SUFFIXES = (".txt",)
HTML_SUFFIXES = (".html", ".htm")
MANIFEST = "manifest.json"
# Bounds on one input, so a run's time and memory stay bounded (see docs/importer.md): a saved
# page is rarely over 5 MB, an article rarely over 100,000 characters or 500 paragraphs, and
# the importer takes about a millisecond per line.
MAX_FILE_BYTES = 20_000_000
MAX_TEXT_CHARS = 1_000_000
MAX_TEXT_LINES = 10_000
MANIFEST_FIELDS = ("text", "url", "publication", "date")
_FILE_KINDS = {
    stat.S_IFIFO: "a FIFO",
    stat.S_IFSOCK: "a socket",
    stat.S_IFCHR: "a character device",
    stat.S_IFBLK: "a block device",
    stat.S_IFDIR: "a folder",
}


class InputError(Exception):
    """A file that cannot be imported; the message is the one-line reason."""


def collect_inputs(sources: list[Path]) -> list[Path]:
    """Files as given, and the text and HTML files inside folders, in name order.

    Inside folders, hidden names (editor lock files) are left out; anything else with a text or
    HTML suffix that is no folder is listed, so a FIFO or a dangling link is reported, not skipped.
    """
    found: list[Path] = []
    for source in sources:
        if source.is_dir():
            found += sorted(
                p
                for p in source.rglob("*")
                if (p.suffix.lower() in (*TEXT_SUFFIXES, *HTML_SUFFIXES) or is_web_archive(p))
                and not p.name.startswith(".")
                and not p.is_dir()
            )
        else:
            found.append(source)
    return list(dict.fromkeys(found))


def read_regular_file(path: Path, limit: int = MAX_FILE_BYTES) -> bytes:
    """The bytes of a regular file of at most `limit` bytes, else InputError.

    FIFOs, sockets and devices are refused before they are opened (reading a FIFO waits for a
    writer for ever); the check is repeated on the opened file, which is opened non-blocking so
    that a file swapped for a FIFO in between cannot make the run wait either.
    """
    try:
        refuse_special_file(path)
        descriptor = os.open(path, os.O_RDONLY | os.O_NONBLOCK | os.O_CLOEXEC)
        with os.fdopen(descriptor, "rb") as handle:
            info = os.fstat(descriptor)
            kind = _FILE_KINDS.get(stat.S_IFMT(info.st_mode))
            if kind:
                raise InputError(f"{kind}, not a regular file; only files are imported")
            data = handle.read(limit + 1)
    except OSError as error:
        raise InputError(f"cannot read file: {error.strerror or error}") from None
    if len(data) > limit:
        raise InputError(f"larger than {limit:,} bytes; the importer takes no bigger files")
    return data


def refuse_special_file(path: Path) -> None:
    """InputError for a FIFO, socket or device, which must never be opened (see above)."""
    kind = _FILE_KINDS.get(stat.S_IFMT(os.stat(path).st_mode))
    if kind:
        raise InputError(f"{kind}, not a regular file; only files are imported")


def read_existing(path: Path) -> str:
    """A content file already in place, which the import may replace."""
    try:
        return read_regular_file(path).decode("utf-8")
    except InputError as error:
        raise InputError(f"{path}: {error}; left alone") from None
    except UnicodeDecodeError:
        raise InputError(f"{path}: not UTF-8, so not written by the importer; left alone") from None


def load_manifest(path: Path) -> dict[Path, dict]:
    """Manifest entries by the resolved path of their text; every field is checked for type."""
    try:
        entries = json.loads(read_regular_file(path).decode("utf-8"))
    except (InputError, ValueError) as error:
        raise InputError(f"{path}: cannot read manifest: {error}") from None
    except RecursionError:
        raise InputError(f"{path}: cannot read manifest: nested too deeply") from None
    if not isinstance(entries, list):
        raise InputError(f"{path}: a manifest is a JSON list of objects with a 'text' key")
    for number, entry in enumerate(entries, start=1):
        if not isinstance(entry, dict):
            raise InputError(f"{path}: entry {number}: must be an object with a 'text' key")
        if entry.get("text") is None:
            raise InputError(f"{path}: entry {number}: missing 'text' (the file it describes)")
        for key in MANIFEST_FIELDS:
            value = entry.get(key)  # null is as good as no value, but for 'text'
            if value is not None and not isinstance(value, str):
                raise InputError(f"{path}: entry {number}: '{key}' must be a string")
            if value is not None and ("\0" in value or not value.strip()):
                raise InputError(f"{path}: entry {number}: '{key}' must be non-empty text")
    return {(path.parent / e["text"]).resolve(): e for e in entries}


def check_size(text: str) -> None:
    """Refuse an article text over the limits (a book, a log file), with the reason."""
    if len(text) > MAX_TEXT_CHARS:
        raise InputError(
            f"article text of {len(text):,} characters; the importer takes at most "
            f"{MAX_TEXT_CHARS:,} (split it into several files)"
        )
    lines = text.count("\n") + 1
    if lines > MAX_TEXT_LINES:
        raise InputError(
            f"article text of {lines:,} lines; the importer takes at most {MAX_TEXT_LINES:,} "
            "(split it into several files)"
        )


def decode(path: Path, data: bytes) -> str:
    if not data.strip():
        raise InputError("empty file")
    if b"\0" in data:
        raise InputError("binary file, not text or HTML")
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        raise InputError(
            f"not UTF-8 (byte 0x{data[error.start]:02x} at offset {error.start})"
        ) from None


@dataclass
class Job:
    """One article to read and extract: a file, or a page of a web archive."""

    path: Path
    source_name: str  # the raw file's name, or `<archive>#<record id>`
    told: Meta  # what the run is told about it, before what the page itself says
    page: ArchivedPage | None = None


@dataclass
class Article:
    """A job's article, extracted and ready to be written."""

    job: Job
    data: bytes  # the bytes its source_sha256 is taken of
    extracted: Extracted


@dataclass
class Done:
    """An input's or a job's outcome line, when it gives no article to write."""

    outcome: str
    message: str


@dataclass
class ArchiveEnd:
    """Every page of a web archive has been handed out."""

    path: Path
    pages: int
    copy: bool  # the archive is not in the raw folder yet


@dataclass
class Run:
    """One import run: shared state, per-file outcomes and the names for `--suggest`."""

    args: argparse.Namespace
    extractor: Extractor
    record: Record
    site: Path
    manifest: dict[Path, dict]
    today: dt.date = field(default_factory=dt.date.today)
    counts: Counter[str] = field(default_factory=Counter)
    unknown: dict[str, Counter[str]] = field(default_factory=dict)
    contexts: dict[tuple[str, str], str] = field(default_factory=dict)
    # Per web archive: record id → its content file, WARC file, record id and digest.
    archive_records: dict[Path, dict[str, dict[str, str]]] = field(default_factory=dict)

    def told(self, path: Path) -> dict[str, str | None]:
        """What the command line or the manifest says about this file, nothing inferred."""
        entry = self.manifest.get(path.resolve(), {})
        return {
            "url": self.args.url or entry.get("url"),
            "publication": self.args.publication or entry.get("publication"),
            "date": entry.get("date"),
            "retrieved": entry.get("retrieved"),
        }

    def meta_for(self, path: Path) -> Meta:
        """What this run is told, else what the first import of the file was told."""
        told, before = self.told(path), read_told(self.args.raw, path.name)
        return Meta(**{key: told[key] or before.get(key) for key in told})

    def recorded_target(self, source_name: str) -> Path | None:
        """The content file an earlier import of this raw file wrote, while it is still in the
        content folder and still names that raw file: a re-import replaces it in place, even
        when the title or date it finds now would name another file."""
        recorded = read_told(self.args.raw, source_name).get("content_file")
        if not recorded:
            return None
        path = (self.site / recorded).resolve()
        content = self.args.content.resolve()
        if path.suffix != ".md" or not path.is_relative_to(content) or not path.is_file():
            return None
        head = path.read_text(encoding="utf-8", errors="replace")[:4000]
        return (
            path if re.search(rf"^source_file: '?{re.escape(source_name)}'?$", head, re.M) else None
        )

    def note_contexts(self, source_name: str, extracted: Extracted) -> None:
        """A line of context for each name `--suggest` lists: where it first appears."""
        lines = [extracted.title or "", extracted.dek or "", *extracted.body]
        for kind, names in extracted.unknown.items():
            for name in names:
                line = next((line for line in lines if name in line), None)
                if line is not None and (kind, name) not in self.contexts:
                    self.contexts[kind, name] = f"{source_name}: {_around(line, name)}"

    def target(self, year: str, slug: str, source_sha: str) -> Path:
        """content/<year>/<slug>.md, numbered when another article already has that name."""
        for n in range(1, 1000):
            path = self.args.content / year / (f"{slug}.md" if n == 1 else f"{slug}-{n}.md")
            if not path.exists():
                return path
            if existing_source_sha(read_existing(path)) in (source_sha, None):
                return path
        raise InputError(f"too many articles named {slug}")

    def jobs(self, path: Path) -> Iterator[Job | Done]:
        """The articles of one input to extract: the file itself, or every HTML page of a web
        archive followed by the archive's own line; whatever stops the input is its `Done`."""
        try:
            if not is_web_archive(path):
                yield Job(path, path.name, self.meta_for(path))
                return
            refuse_special_file(path)
            raw_copy = self.args.raw / path.name
            same = raw_copy.exists() and raw_copy.resolve() == path.resolve()
            other = raw_copy.exists() and not same and not filecmp.cmp(raw_copy, path, False)
            if other and not self.args.force:
                message = f"{raw_copy}: another file of that name is in the raw folder"
                yield Done("skipped", message)
                return
            told = self.meta_for(path)
            pages = 0
            for record in html_records(path):
                pages += 1
                meta = Meta(**{**vars(told), "url": record.url, "retrieved": record.retrieved})
                yield Job(path, f"{path.name}#{record.record_id}", meta, record)
            yield ArchiveEnd(path, pages, copy=not same)
        except ArchiveError as error:
            yield Done("failed", f"{path}: {error}")
        except Exception as error:  # one bad input never stops the others
            if isinstance(error, OSError) and not isinstance(error, InputError):
                error = InputError(f"cannot read file: {error.strerror or error}")
            yield Done("failed", failure(str(path), error))

    def prepare(self, job: Job) -> Article:
        """Read and extract one article (the costly half, run in worker processes)."""
        if job.page is None:
            data = read_regular_file(job.path)
            text = decode(job.path, data)
            is_html = job.path.suffix.lower() in HTML_SUFFIXES
        else:
            data, text, is_html = job.page.payload, job.page.html, True
        meta = job.told
        if is_html:
            text, meta = _from_html(text, meta)
        check_size(text)
        extracted = self.extractor.extract(text, meta)
        if not extracted.body and not extracted.title:
            raise InputError("no recognisable body")
        return Article(job, data, extracted)

    def prepared(self, job: Job) -> Article | Done:
        """`prepare(job)`, or the job's one-line outcome when it cannot be imported: a page of
        an archive that is no article is skipped and counted, anything else fails that input."""
        try:
            return self.prepare(job)
        except InputError as error:
            if job.page is not None:
                return Done("skipped", str(error))
            return Done("failed", failure(str(job.path), error))
        except Exception as error:
            return Done("failed", failure(job.source_name if job.page else str(job.path), error))

    def write(self, article: Article) -> tuple[str, str]:
        """Write one extracted article (the cheap half, in input order in the main process).
        `source_name` is the raw file's name, or `<archive>#<record id>` for a page of a web
        archive (`path`, kept whole in raw/)."""
        job, data, extracted = article.job, article.data, article.extracted
        path, source_name = job.path, job.source_name
        whole_file = source_name == path.name
        if whole_file and self.meta_for(path) != job.told:
            # An earlier input of this run, of the same name, recorded what it was told after
            # this one was extracted: extract again, as a run of one process would have.
            job = Job(path, source_name, self.meta_for(path))
            article = self.prepare(job)
            data, extracted = article.data, article.extracted
        for kind, names in extracted.unknown.items():
            self.unknown.setdefault(kind, Counter()).update(names)
        if self.args.suggest:
            self.note_contexts(source_name, extracted)
        source_sha = sha256(data)
        year = str(extracted.date.year) if extracted.date else "undated"
        slug = slug_for(extracted, path.name)
        recorded = self.recorded_target(source_name) if whole_file else None
        target = recorded or self.target(year, slug, source_sha)
        # A numbered file (same title as another article) needs its own URL too.
        url_slug = target.stem if target.stem != slug else None
        shown = self._shown(target)
        imported = self.today
        provenance = job.page.provenance() if job.page else {}
        if target.exists():
            current = read_existing(target)
            recorded = self.record.written_by_importer(shown, current)
            new = render(
                extracted,
                source_name,
                source_sha,
                existing_imported_date(current) or imported,
                url_slug,
                provenance,
            )
            if new == current:
                # Exactly what this run writes: ours even when unrecorded (a run killed
                # between writing the file and recording it).
                if not recorded and not self.args.dry_run:
                    self.record.note(shown, current)
                self._note_page(job, shown)
                return "unchanged", shown
            if not recorded and not self.args.force:
                reason = (
                    "edited by hand since import"
                    if shown in self.record.entries
                    else "not written by the importer"
                )
                return "skipped", f"{shown}: {reason}; use --force to overwrite"
            imported = existing_imported_date(current) or imported
        new = render(extracted, source_name, source_sha, imported, url_slug, provenance)
        raw_copy = self.args.raw / path.name
        same_file = not whole_file or (raw_copy.exists() and raw_copy.resolve() == path.resolve())
        if (
            not same_file
            and raw_copy.exists()
            and raw_copy.read_bytes() != data
            and not self.args.force
        ):
            return "skipped", f"{raw_copy}: another file of that name is already in the raw folder"
        if self.args.dry_run:
            return "imported", f"{shown} (dry run, nothing written)"
        # Made durable together before they are recorded (see `Record.note`).
        written = [target]
        if not same_file:
            atomic_write(raw_copy, data, durable=False)
            written.append(raw_copy)
        atomic_write(target, new.encode("utf-8"), durable=False)
        if whole_file:
            told = self.told(path)
            written.append(write_told(self.args.raw, path.name, told, shown, durable=False))
        self.record.note(shown, new, written)
        self._note_page(job, shown)
        notes = _warnings(extracted)
        return "imported", f"{shown} ({'; '.join(notes)})" if notes else shown

    def _note_page(self, job: Job, content_file: str) -> None:
        """Remember an archived page's record and its content file for the archive's
        provenance, written when the archive is done."""
        if job.page is not None:
            records = self.archive_records.setdefault(job.path, {})
            records[job.page.record_id] = {"content_file": content_file, **job.page.provenance()}

    def finish_archive(self, end: ArchiveEnd, skipped: int) -> tuple[str, str]:
        """The archive's own line, once its pages are written; the archive is kept in raw/,
        with what the run was told and each page's record and content file beside it."""
        records = self.archive_records.pop(end.path, {})
        if not self.args.dry_run:
            if end.copy:
                atomic_write(self.args.raw / end.path.name, end.path.read_bytes())
            write_told(self.args.raw, end.path.name, self.told(end.path), records=records)
        return "archive", f"{end.path}: {end.pages} HTML pages, {skipped} skipped as no article"

    def _shown(self, target: Path) -> str:
        try:
            return target.resolve().relative_to(self.site).as_posix()
        except ValueError:
            return target.as_posix()


def run(args: argparse.Namespace) -> int:
    """Import every SRC; the exit code is 1 if any file failed, 2 for a bad command line."""
    inputs = collect_inputs(args.src)
    if (args.url or args.publication) and len(inputs) != 1:
        print(
            "import: --url and --publication describe one file; use --manifest for several",
            file=sys.stderr,
        )
        return 2
    if args.suggest:  # a report only: nothing is written
        args.dry_run = True
    try:
        site, authority_file = _site_paths(args)
        authority = load_authority(authority_file)
        manifest: dict[Path, dict] = {}
        manifests = (
            [args.manifest]
            if args.manifest
            else [s / MANIFEST for s in args.src if (s / MANIFEST).is_file()]
        )
        for path in manifests:
            manifest.update(load_manifest(path))
        record = Record(args.raw)
    except (BuildError, InputError) as error:
        print(f"import: {error}", file=sys.stderr)
        return 2
    state = Run(
        args,
        Extractor(authority, site / "data" / "boilerplate.yaml"),
        record,
        site,
        manifest,
    )
    try:
        for outcome, message in import_all(state, inputs, args.jobs or available_cores()):
            state.counts[outcome] += 1
            print(f"{outcome}: {message}", file=sys.stderr if outcome == "failed" else sys.stdout)
        record.flush()
    except OSError as error:  # the record of what was written cannot be saved
        state.counts["failed"] += 1
        print(f"failed: {record.path}: {error}".replace("\n", "; "), file=sys.stderr)
    finally:  # interrupted: what was written is recorded still, as far as it can be
        with contextlib.suppress(OSError):
            record.flush()
    counts = state.counts
    print(
        f"{counts['imported']} imported, {counts['unchanged']} unchanged, "
        f"{counts['skipped']} skipped, {counts['failed']} failed"
    )
    if args.suggest:
        _print_suggestions(state.unknown, state.contexts)
    return 1 if counts["failed"] else 0


def _from_html(html: str, meta: Meta) -> tuple[str, Meta]:
    """A saved page's main text, and what the manifest says over what the page says."""
    page = extract_page(html)
    if page is None:
        raise InputError("no recognisable article text in the HTML page")
    return page.text, Meta(
        url=meta.url or page.url,
        publication=meta.publication or page.publication,
        date=page.date or meta.date,
        title=page.title,
        authors=page.authors,
        retrieved=meta.retrieved or page.retrieved,
    )


def _warnings(extracted: Extracted) -> list[str]:
    """What the user must know about an imported article."""
    notes = []
    if not extracted.body:  # a gallery or a page of chrome: kept as a record of the capture
        notes.append("no article text in the capture: imported with an empty body")
    if not extracted.publication:  # the build requires one: say so now, not at build time
        notes.append("no publication found: set 'publication' before building")
    return notes


def _site_paths(args: argparse.Namespace) -> tuple[Path, Path]:
    """The site folder and its authority file, from the site's config.yaml as the build reads
    it (`content_dir`, `authority`); `--content` overrides the content folder."""
    config = load_config(args.config)
    if args.content is None:
        args.content = config.path("content_dir")
    return config.root.resolve(), config.path("authority")


def _around(line: str, name: str, width: int = 100) -> str:
    """The part of `line` around `name`, at most about `width` characters."""
    start = max(line.index(name) - (width - len(name)) // 2, 0)
    part = line[start : start + width]
    return ("…" if start else "") + part + ("…" if start + width < len(line) else "")


def import_all(state: Run, inputs: list[Path], workers: int) -> Iterator[tuple[str, str]]:
    """(outcome, message) of every input, and of every page of a web archive, in input order.
    Extraction runs in `workers` processes (see `workers.py`), writing here in input order;
    whatever one input raises becomes that input's failure line: one bad input (or a bug it
    triggers) never stops the others or the summary."""
    if len(inputs) < 2 and not any(map(is_web_archive, inputs)):
        workers = 1  # one article: not worth a process
    if workers > 1:  # loaded before the workers fork, so they share it
        load_nlp()
        load_gazetteer()
    jobs = (item for path in inputs for item in state.jobs(path))
    skipped: Counter[Path] = Counter()  # pages of each archive that are no article
    for item, result in ordered_map(state.prepared, jobs, _is_job, workers):
        if isinstance(item, Done):
            yield item.outcome, item.message
            continue
        page = isinstance(item, Job) and item.page is not None
        label = item.source_name if page else str(item.path)
        try:
            if isinstance(item, ArchiveEnd):
                yield state.finish_archive(item, skipped.pop(item.path, 0))
            elif isinstance(result, WorkerDied):
                died = "the process importing it died (out of memory?); please report this file"
                yield "failed", f"{label}: {died}"
            elif isinstance(result, BaseException):
                yield "failed", failure(label, result)
            elif isinstance(result, Done):
                if result.outcome == "skipped" and page:
                    skipped[item.path] += 1
                else:
                    yield result.outcome, result.message
            else:
                yield state.write(result)
        except Exception as error:
            yield "failed", failure(label, error)


def _is_job(item: object) -> bool:
    return isinstance(item, Job)


def failure(label: str, error: Exception) -> str:
    """The one-line failure of the input named `label`, whatever it raised."""
    if isinstance(error, InputError):
        return f"{label}: {error}"
    if isinstance(error, OSError | BuildError):
        return f"{label}: {error}".replace("\n", "; ")
    if isinstance(error, RecursionError):
        return f"{label}: nested too deeply to import (please report this file)"
    if isinstance(error, MemoryError):
        return f"{label}: too large to import in the memory available"
    # a bug: reported for this input, the run goes on
    detail = f"{type(error).__name__}: {error}".replace("\n", "; ")[:300]
    return f"{label}: internal error ({detail}); please report this file"


def _print_suggestions(
    unknown: dict[str, Counter[str]], contexts: dict[tuple[str, str], str]
) -> None:
    """Names the authority file does not know, most frequent first, each with a line where it
    appears, for the user to review."""
    for kind in sorted(unknown):
        for name, count in sorted(unknown[kind].items(), key=lambda item: (-item[1], item[0])):
            print(f"suggest {kind}: {name} ({count})")
            if (kind, name) in contexts:
                print(f"    {contexts[kind, name]}")
