"""`build.py import`: turn scraped text and saved HTML pages into content files.

Each input gets one line of outcome (imported, unchanged, skipped or failed, with the reason);
a bad file never stops the others. The run ends with a summary line and exits 1 if any file
failed.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import sys
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from clippings.authority import load_authority
from clippings.errors import BuildError
from clippings.importer.extract import Extractor, Meta
from clippings.importer.html import extract_page
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
                if p.is_file() and p.suffix.lower() in (*TEXT_SUFFIXES, *HTML_SUFFIXES)
            )
        else:
            found.append(source)
    return list(dict.fromkeys(found))


def _text_or_none(value: object) -> str | None:
    return str(value).strip() or None if isinstance(value, str | int | float) else None


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

    def meta_for(self, path: Path) -> Meta:
        entry = self.manifest.get(path.resolve(), {})
        return Meta(
            url=self.args.url or entry.get("url"),
            publication=self.args.publication or entry.get("publication"),
            date=entry.get("date"),
            retrieved=_text_or_none(entry.get("retrieved")),
        )

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
        data = path.read_bytes()
        text = decode(path, data)
        meta = self.meta_for(path)
        if path.suffix.lower() in HTML_SUFFIXES:
            page = extract_page(text)
            if page is None:
                raise InputError("no recognisable article text in the HTML page")
            text = page.text
            meta = Meta(
                url=meta.url or page.url,
                publication=meta.publication or page.publication,
                date=page.date or meta.date,
                title=page.title,
                authors=page.authors,
                retrieved=meta.retrieved or page.retrieved,
            )
        extracted = self.extractor.extract(text, meta)
        if not extracted.body:
            raise InputError("no recognisable body")
        for kind, names in extracted.unknown.items():
            self.unknown.setdefault(kind, Counter()).update(names)
        source_sha = sha256(data)
        year = str(extracted.date.year) if extracted.date else "undated"
        slug = slug_for(extracted, path.name)
        target = self.target(year, slug, source_sha)
        # A numbered file (same title as another article) needs its own URL too.
        url_slug = target.stem if target.stem != slug else None
        shown = self._shown(target)
        imported = self.today
        if target.exists():
            current = target.read_text(encoding="utf-8")
            recorded = self.record.written_by_importer(shown, current)
            new = render(
                extracted,
                path.name,
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
        new = render(extracted, path.name, source_sha, imported, url_slug)
        raw_copy = self.args.raw / path.name
        same_file = raw_copy.exists() and raw_copy.resolve() == path.resolve()
        if (
            raw_copy.exists()
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
        if not extracted.publication:  # the build requires one: say so now, not at build time
            return "imported", f"{shown} (no publication found: set 'publication' before building)"
        return "imported", shown

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
    site = args.content.resolve().parent
    try:
        authority = load_authority(site / "data" / "entities.yaml")
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
        _print_suggestions(state.unknown)
    return 1 if counts["failed"] else 0


def _print_suggestions(unknown: dict[str, Counter[str]]) -> None:
    """Names the authority file does not know, most frequent first, for the user to review."""
    for kind in sorted(unknown):
        for name, count in sorted(unknown[kind].items(), key=lambda item: (-item[1], item[0])):
            print(f"suggest {kind}: {name} ({count})")
