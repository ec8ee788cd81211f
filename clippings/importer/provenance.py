"""What the first import of a raw file was told, kept beside it for the next import.

`raw/<file>.import.json` holds the URL, publication and date the command line or the manifest gave
(never what the importer inferred) and the content file the import wrote; for a web archive, the
record of each page instead (record id → content file, WARC file, WARC-Record-ID and the
record's own digest). A later run without `--url`, `--publication` or a manifest reuses them, so
a re-import does not write `publication: null`, and writes over the article it made before
instead of making a second copy.
"""

from __future__ import annotations

import json
from pathlib import Path

from clippings.importer.writer import atomic_write

TOLD = ("url", "publication", "date", "retrieved")
SUFFIX = ".import.json"


def told_path(raw: Path, source_name: str) -> Path:
    return raw / f"{source_name}{SUFFIX}"


def read_told(raw: Path, source_name: str) -> dict[str, str]:
    """The recorded fields, or none when there is no record or it is unreadable (a hand-edited
    or damaged record is ignored: the run then behaves as a first import)."""
    return {k: v for k, v in _read(raw, source_name).items() if isinstance(v, str) and v}


def _read(raw: Path, source_name: str) -> dict:
    try:
        data = json.loads(told_path(raw, source_name).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def write_told(
    raw: Path,
    source_name: str,
    told: dict[str, str | None],
    content_file: str | None = None,
    records: dict[str, dict[str, str]] | None = None,
    durable: bool = True,
) -> Path:
    """Record what this import was told (merged over the last record) and the file it wrote, or
    for a web archive the record of each page imported (id → content file, WARC file, record id
    and digest). Returns the record's path (see `atomic_write` for `durable`)."""
    record = read_told(raw, source_name)
    record.update({k: v for k, v in told.items() if k in TOLD and v})
    if content_file is not None:
        record["content_file"] = content_file
    if records:
        earlier = _read(raw, source_name).get("records")
        record["records"] = {**(earlier if isinstance(earlier, dict) else {}), **records}
    text = json.dumps(dict(sorted(record.items())), ensure_ascii=False, indent=1) + "\n"
    path = told_path(raw, source_name)
    atomic_write(path, text.encode("utf-8"), durable)
    return path
