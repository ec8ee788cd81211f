"""`build.py import`: turn scraped text and saved HTML pages into content files.

Each input gets one line of outcome (imported, unchanged, skipped or failed, with the reason);
a bad file never stops the others. The run ends with a summary line and exits 1 if any file
failed.
"""

from __future__ import annotations

import argparse
import datetime as dt
import filecmp
import json
import re
import sys
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from clippings.authority import load_authority
from clippings.config import load_config
from clippings.errors import BuildError
from clippings.importer.extract import Extracted, Extractor, Meta
from clippings.importer.html import extract_page
from clippings.importer.provenance import read_told, write_told
from clippings.importer.warc import ArchiveError, html_records, is_web_archive
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


class InputError(Exception):
    """A file that cannot be imported; the message is the one-line reason."""


def collect_inputs(sources: list[Path]) -> list[Path]:
    """Files as given, and the text and HTML files inside folders, in name order."""
    found: list[Path] = []
    for source in sources:
        if source.is_dir():
            found += sorted(
                p
                for p in source.rglob("*")
                if p.is_file()
                and (p.suffix.lower() in (*TEXT_SUFFIXES, *HTML_SUFFIXES) or is_web_archive(p))
            )
        else:
            found.append(source)
    return list(dict.fromkeys(found))


def load_manifest(path: Path) -> dict[Path, dict]:
    """Manifest entries by the resolved path of their text."""
    try:
        entries = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as error:
        raise InputError(f"{path}: cannot read manifest: {error}") from error
    if not isinstance(entries, list) or not all(
        isinstance(e, dict) and "text" in e for e in entries
    ):
        raise InputError(f"{path}: a manifest is a JSON list of objects with a 'text' key")
    return {(path.parent / e["text"]).resolve(): e for e in entries}


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
            if existing_source_sha(path.read_text(encoding="utf-8")) in (source_sha, None):
                return path
        raise InputError(f"too many articles named {slug}")

    def import_file(self, path: Path) -> tuple[str, str]:
        """Import one file; returns (outcome, message)."""
        if is_web_archive(path):
            return self.import_archive(path)
        data = path.read_bytes()
        text = decode(path, data)
        meta = self.meta_for(path)
        if path.suffix.lower() in HTML_SUFFIXES:
            text, meta = _from_html(text, meta)
        return self.import_text(path, path.name, data, text, meta)

    def import_archive(self, path: Path) -> tuple[str, str]:
        """Every HTML page of a web archive (WARC or WACZ) as an article; non-article pages
        (no title and no text) are counted, not failed one by one. The archive itself is kept in
        the raw folder; each article's `source_file` names it and the record."""
        raw_copy = self.args.raw / path.name
        same = raw_copy.exists() and raw_copy.resolve() == path.resolve()
        other = raw_copy.exists() and not same and not filecmp.cmp(raw_copy, path, shallow=False)
        if other and not self.args.force:
            return "skipped", f"{raw_copy}: another file of that name is in the raw folder"
        pages = skipped = 0
        try:
            for record in html_records(path):
                pages += 1
                meta = self.meta_for(path)
                meta = Meta(**{**vars(meta), "url": record.url, "retrieved": record.retrieved})
                name = f"{path.name}#{record.record_id}"
                try:
                    text, meta = _from_html(record.html, meta)
                    outcome, message = self.import_text(path, name, record.payload, text, meta)
                except InputError:
                    skipped += 1
                    continue
                self.counts[outcome] += 1
                print(f"{outcome}: {message}")
        except ArchiveError as error:
            raise InputError(str(error)) from None
        if not self.args.dry_run and not same:
            atomic_write(raw_copy, path.read_bytes())
        return "archive", f"{path}: {pages} HTML pages, {skipped} skipped as no article"

    def import_text(
        self, path: Path, source_name: str, data: bytes, text: str, meta: Meta
    ) -> tuple[str, str]:
        """Import one article from its text. `source_name` is the raw file's name, or
        `<archive>#<record id>` for a page of a web archive (`path`, kept whole in raw/)."""
        whole_file = source_name == path.name
        extracted = self.extractor.extract(text, meta)
        if not extracted.body and not extracted.title:
            raise InputError("no recognisable body")
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
        if target.exists():
            current = target.read_text(encoding="utf-8")
            recorded = self.record.written_by_importer(shown, current)
            new = render(
                extracted,
                source_name,
                source_sha,
                existing_imported_date(current) or imported,
                url_slug,
            )
            if new == current:
                # Exactly what this run writes: ours even when unrecorded (a run killed
                # between writing the file and recording it).
                if not recorded and not self.args.dry_run:
                    self.record.save(shown, current)
                return "unchanged", shown
            if not recorded and not self.args.force:
                reason = (
                    "edited by hand since import"
                    if shown in self.record.entries
                    else "not written by the importer"
                )
                return "skipped", f"{shown}: {reason}; use --force to overwrite"
            imported = existing_imported_date(current) or imported
        new = render(extracted, source_name, source_sha, imported, url_slug)
        raw_copy = self.args.raw / path.name
        same_file = not whole_file or (raw_copy.exists() and raw_copy.resolve() == path.resolve())
        if (
            not same_file
            and raw_copy.exists()
            and not same_file
            and raw_copy.read_bytes() != data
            and not self.args.force
        ):
            return "skipped", f"{raw_copy}: another file of that name is already in the raw folder"
        if self.args.dry_run:
            return "imported", f"{shown} (dry run, nothing written)"
        if not same_file:
            atomic_write(raw_copy, data)
        atomic_write(target, new.encode("utf-8"))
        self.record.save(shown, new)
        if whole_file:
            write_told(self.args.raw, path.name, self.told(path), shown)
        notes = _warnings(extracted)
        return "imported", f"{shown} ({'; '.join(notes)})" if notes else shown

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
    except (BuildError, InputError) as error:
        print(f"import: {error}", file=sys.stderr)
        return 2
    state = Run(
        args,
        Extractor(authority, site / "data" / "boilerplate.yaml"),
        Record(args.raw),
        site,
        manifest,
    )
    for path in inputs:
        try:
            outcome, message = state.import_file(path)
        except InputError as error:
            outcome, message = "failed", f"{path}: {error}"
        except (OSError, BuildError) as error:
            outcome, message = "failed", f"{path}: {error}".replace("\n", "; ")
        state.counts[outcome] += 1
        print(f"{outcome}: {message}", file=sys.stderr if outcome == "failed" else sys.stdout)
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
