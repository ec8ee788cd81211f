"""Make a Pagefind bundle's bytes depend on its records alone.

Pagefind (1.5) writes its filter files and the filter list of its metadata in the iteration order
of Rust hash maps, which are seeded at random per process: the same records give filter files
with the same values in another order, hence other content hashes, other file names, another
metadata file and another `pagefind-entry.json` on every fresh index (Pagefind has no option for
it, and the order of the records makes no difference). Everything else (index chunks, fragments,
scripts) is already byte-identical. `make_deterministic` puts those lists in sorted order and
names the rewritten files by their content, as Pagefind does: its script only follows the names
it is given.

Pagefind's files are gzip'd `pagefind_dcd` + CBOR; only arrays are reordered (their items are
copied as raw bytes), so the encoding of every value stays Pagefind's own.
"""

from __future__ import annotations

import gzip
import hashlib
import json
from pathlib import Path

_SIGNATURE = b"pagefind_dcd"
_FILTERS_IN_META = 3  # [version, pages, index chunks, filters, sorts, meta fields]


class BundleError(Exception):
    """The bundle is not laid out as this Pagefind version writes it."""


def is_complete(bundle: Path, assets: dict[str, bytes]) -> bool:
    """Whether every file of a freshly written bundle is whole: its scripts, styles and WASM are
    the `assets` every bundle holds (`indexer.static_assets`), no other file is empty, every
    compressed one decompresses, and the entry file parses. Pagefind's service answers
    `WriteFiles` before its last writes have reached the disk and, told to stop, exits without
    waiting for them: about one fresh index in thirty had an empty file (`pagefind.js`,
    `pagefind-entry.json`), and one a `pagefind-ui.js` cut short."""
    try:
        json.loads((bundle / "pagefind-entry.json").read_text("utf-8"))
        written = {name: (bundle / name).read_bytes() for name in assets}
        if written != assets:
            return False
        for path in bundle.rglob("*"):
            if path.is_file() and path.name not in assets:
                data = path.read_bytes()
                if not data or (data[:2] == b"\x1f\x8b" and not gzip.decompress(data)):
                    return False
    except (OSError, ValueError, EOFError):  # gzip.BadGzipFile is an OSError
        return False
    return True


def make_deterministic(bundle: Path) -> None:
    """Sort the filter values and the metadata's filter list of the bundle in `bundle`, renaming
    the filter and metadata files by their new content and updating `pagefind-entry.json`."""
    entry_path = bundle / "pagefind-entry.json"
    entry = json.loads(entry_path.read_text("utf-8"))
    renamed: dict[str, str] = {}
    for filter_file in sorted((bundle / "filter").glob("*.pf_filter")):
        data = _read(filter_file)
        _, (_, values) = _array_items(data, len(_SIGNATURE))  # [filter name, values]
        start, entries = _array_items(data, values[0])
        data = data[:start] + b"".join(_sorted_by_first_text(data, entries)) + data[values[1] :]
        language = filter_file.stem.split("_")[0]
        renamed[filter_file.stem] = new = f"{language}_{_digest(data, 7)}"
        _write(bundle / "filter" / f"{new}.pf_filter", data)
        filter_file.unlink()
    for details in entry["languages"].values():
        meta_path = bundle / f"pagefind.{details['hash']}.pf_meta"
        data = _read(meta_path)
        _, fields = _array_items(data, len(_SIGNATURE))
        filters = fields[_FILTERS_IN_META]
        start, entries = _array_items(data, filters[0])
        listed = b"".join(_sorted_by_first_text(data, entries))
        for old, new in renamed.items():  # same length: "en_" and seven hex digits
            listed = listed.replace(_cbor_text(old), _cbor_text(new))
        data = data[:start] + listed + data[filters[1] :]
        language = details["hash"].split("_")[0]
        details["hash"] = f"{language}_{_digest(data, 10)}"
        _write(bundle / f"pagefind.{details['hash']}.pf_meta", data)
        if meta_path.name != f"pagefind.{details['hash']}.pf_meta":
            meta_path.unlink()
    entry_path.write_text(json.dumps(entry, ensure_ascii=False, separators=(",", ":")), "utf-8")


def _read(path: Path) -> bytes:
    data = gzip.decompress(path.read_bytes())
    if not data.startswith(_SIGNATURE):
        raise BundleError(f"{path.name}: not a Pagefind data file")
    return data


def _write(path: Path, data: bytes) -> None:
    path.write_bytes(gzip.compress(data, mtime=0))


def _digest(data: bytes, length: int) -> str:
    return hashlib.sha256(data).hexdigest()[:length]


def _sorted_by_first_text(data: bytes, items: list[tuple[int, int]]) -> list[bytes]:
    """The raw bytes of `items` (arrays that start with a text), sorted by that text."""

    def key(item: tuple[int, int]) -> str:
        _, members = _array_items(data, item[0])
        start = members[0][0]
        header, length = _header(data, start)
        if data[start] >> 5 != 3:
            raise BundleError("a filter entry does not start with a text")
        return data[start + header : start + header + length].decode("utf-8")

    return [data[start:end] for start, end in sorted(items, key=key)]


def _cbor_text(text: str) -> bytes:
    raw = text.encode("utf-8")
    if len(raw) >= 24:
        raise BundleError(f"unexpected Pagefind file name {text!r}")
    return bytes([0x60 | len(raw)]) + raw


def _header(data: bytes, position: int) -> tuple[int, int]:
    """The length of the CBOR item header at `position` and its argument."""
    info = data[position] & 31
    if info < 24:
        return 1, info
    if info > 27:
        raise BundleError("indefinite-length CBOR item")
    size = 1 << (info - 24)
    return 1 + size, int.from_bytes(data[position + 1 : position + 1 + size], "big")


def _end(data: bytes, position: int) -> int:
    """Where the CBOR item at `position` ends."""
    major = data[position] >> 5
    header, argument = _header(data, position)
    end = position + header
    if major in (2, 3):
        return end + argument
    if major in (4, 5, 6):
        for _ in range(argument * 2 if major == 5 else 1 if major == 6 else argument):
            end = _end(data, end)
    return end


def _array_items(data: bytes, position: int) -> tuple[int, list[tuple[int, int]]]:
    """Where the items of the CBOR array at `position` start, and each item's (start, end)."""
    if data[position] >> 5 != 4:
        raise BundleError("expected a CBOR array")
    header, count = _header(data, position)
    items, start = [], position + header
    for _ in range(count):
        end = _end(data, start)
        items.append((start, end))
        start = end
    return position + header, items
