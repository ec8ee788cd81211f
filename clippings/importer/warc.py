"""Web archives as input: the HTML pages of a WARC file (`.warc`, `.warc.gz`) or of the WARC files
inside a WACZ package, read with `warcio`."""

from __future__ import annotations

import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO

ARCHIVE_SUFFIXES = (".warc", ".warc.gz", ".wacz")


class ArchiveError(Exception):
    """A web archive that cannot be read; the message is the one-line reason."""


@dataclass
class ArchivedPage:
    url: str
    retrieved: str | None  # the capture date, YYYY-MM-DD
    record_id: str  # the WARC-Record-ID without its <urn:uuid:…> wrapping
    payload: bytes
    html: str
    warc_file: str  # the WARC file's name (inside a WACZ package: its path there)
    warc_record_id: str  # the WARC-Record-ID as the archive writes it, without <>
    digest: str | None  # the record's own WARC-Payload-Digest, else its WARC-Block-Digest

    def provenance(self) -> dict[str, str]:
        """What the article's front matter and the archive's provenance say of the record."""
        found = {"warc_file": self.warc_file, "warc_record_id": self.warc_record_id}
        return found | ({"warc_digest": self.digest} if self.digest else {})


def is_web_archive(path: Path) -> bool:
    return path.name.lower().endswith(ARCHIVE_SUFFIXES)


def html_records(path: Path) -> Iterator[ArchivedPage]:
    """Every response record with status 200 and an HTML body, in archive order; requests,
    revisits, metadata and other media are passed over."""
    from warcio.exceptions import ArchiveLoadFailed

    try:
        if path.name.lower().endswith(".wacz"):
            with zipfile.ZipFile(path) as package:
                for member in sorted(package.namelist()):
                    if member.startswith("archive/") and is_web_archive(Path(member)):
                        with package.open(member) as stream:
                            yield from _pages(stream, member)
        else:
            with path.open("rb") as stream:
                yield from _pages(stream, path.name)
    except (ArchiveLoadFailed, zipfile.BadZipFile, EOFError, OSError, ValueError) as error:
        raise ArchiveError(f"not a readable web archive: {error}") from None


def _pages(stream: IO[bytes], warc_file: str) -> Iterator[ArchivedPage]:
    from warcio.archiveiterator import ArchiveIterator

    for record in ArchiveIterator(stream):
        if record.rec_type != "response" or record.http_headers is None:
            continue
        status = record.http_headers.get_statuscode()
        content_type = (record.http_headers.get_header("Content-Type") or "").lower()
        if status != "200" or "html" not in content_type:
            continue
        payload = record.content_stream().read()
        headers = record.rec_headers
        record_id = (headers.get_header("WARC-Record-ID") or "").strip("<>")
        yield ArchivedPage(
            url=headers.get_header("WARC-Target-URI") or "",
            retrieved=(headers.get_header("WARC-Date") or "")[:10] or None,
            record_id=record_id.removeprefix("urn:uuid:"),
            payload=payload,
            html=payload.decode(_charset(content_type), errors="replace"),
            warc_file=warc_file,
            warc_record_id=record_id,
            digest=headers.get_header("WARC-Payload-Digest")
            or headers.get_header("WARC-Block-Digest"),
        )


def _charset(content_type: str) -> str:
    """The charset the Content-Type names, when Python knows it; UTF-8 otherwise."""
    import codecs

    for part in content_type.split(";"):
        name, _, value = part.strip().partition("=")
        if name == "charset":
            try:
                return codecs.lookup(value.strip("\"' ")).name
            except LookupError:
                break
    return "utf-8"
