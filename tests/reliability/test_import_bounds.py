"""Imports in bounded time and memory, or refused with a message (issue 13, classes 2 and 3).

Long articles go through without recursion and in time linear in their lines; texts over the
limits, files over the size limit, FIFOs, sockets and devices are refused with one line each;
a manifest's fields are checked for type; lines longer than spaCy takes are cut into pieces.
"""

from __future__ import annotations

import json
import os
import socket
import time
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from clippings.importer import cli
from clippings.importer.extract import Meta, line_pieces
from clippings.importer.rules import load_rules
from clippings.importer.segment import segment
from tests.importing import import_site, run_import, write_manifest
from tests.reliability.report import FIGURES

pytestmark = pytest.mark.timeout(120)  # each test may set its own
FIGURES.expected["bounds"] = FIGURES.expected.get("bounds", 0) + 6
PARAGRAPH = "Paragraph {i} says that the talks went on for a long time and ended without a deal."


def article(paragraphs: int, unit: str = PARAGRAPH) -> str:
    return "Talks End Without A Deal After Long Night\n" + "\n".join(
        unit.format(i=i) for i in range(paragraphs)
    )


@pytest.fixture
def site(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    return import_site(tmp_path, monkeypatch)


@pytest.mark.timeout(120)
def test_an_article_of_1100_paragraphs_imports_whole(extractor):
    # The case: a recursion over lines ran out of stack at about a thousand.
    extracted = extractor.extract(article(1100), Meta(publication="Wire"))
    assert len(extracted.body) == 1100
    FIGURES.bounds["import-1100"] = (
        "an article of 1,100 paragraphs imported whole (a RecursionError before)"
    )


# Layouts that made a loop over lines quadratic or recursive: paragraphs, short labels (each
# looked ahead to the end), footer lines (each listed the rest), reader appeals (a recursion per
# line), bios, captions, and a header of near-identical lines compared pairwise.
LAYOUTS = {
    "paragraphs": PARAGRAPH,
    "labels": "Menu {i}",
    "footers": "Related",
    "reader appeals": "Thank you for reading us, dear reader {i}",
    "bios": "Ann Smith is a reporter {i}",
    "captions": "Photo: AP {i}",
    "headlines": "Talks End Without A Deal {i} - BelTA",
}


@pytest.mark.timeout(300)
@pytest.mark.parametrize("layout", sorted(LAYOUTS))
def test_segmenting_grows_linearly_with_lines(layout):
    """Time per line at 3,200 lines is within 3 times that at 400 (quadratic: 8 times)."""
    rules = load_rules()

    def per_line(lines: int) -> float:
        text = article(lines, LAYOUTS[layout])
        best = float("inf")
        for _ in range(2):
            started = time.perf_counter()
            segment(text, rules)
            best = min(best, time.perf_counter() - started)
        return best / lines

    small = per_line(400)
    large = per_line(3200)
    if large > 3 * small:  # measured again before blaming: the machine is shared
        small, large = per_line(400), per_line(3200)
    assert large <= 3 * small, (
        f"{layout}: {small * 1e6:.0f} µs/line at 400, {large * 1e6:.0f} at 3200"
    )
    FIGURES.bounds["import-linear"] = (
        f"segmenting {len(LAYOUTS)} layouts of page (paragraphs, labels, footers, reader appeals, "
        "bios, captions, site-affixed headlines) at 400 and 3,200 lines: time per line within 3x"
    )


@settings(max_examples=60, deadline=None)
@given(
    st.lists(
        st.sampled_from(
            [
                PARAGRAPH,
                "Related",
                "Menu {i}",
                "By Ann Smith",
                "March 26, 2018 10:00 10:00 Read more",
                "Thank you for reading us!",
                "Ann Smith is a reporter at the Wire.",
                "Photo: AP",
                "Key Points",
                "Sign up for our newsletter",
                "Email (required)",
                "SEOUL",
                "Talks End Without A Deal After Long Night - BelTA",
            ]
        ),
        max_size=300,
    )
)
@pytest.mark.timeout(300)
def test_every_line_lands_in_one_group(units):
    """Segmenting any mix of lines neither raises nor drops a line: each lands in one group,
    but for repeats of the headline."""
    text = "\n".join(unit.format(i=i) for i, unit in enumerate(units))
    seg = segment(text, load_rules())
    groups = [seg.title_line, seg.dek, *seg.credits, *seg.captions, *seg.body, *seg.boilerplate]
    kept = [group for group in groups if group]
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    assert len(kept) <= len(lines)
    first_body = seg.body[0] if seg.body else None  # its status banner may be cut off
    missing = [line for line in lines if line not in kept]
    assert all(
        line in (seg.title, seg.title_line) or (first_body and line.endswith(first_body))
        for line in missing
    ), missing


@settings(max_examples=200, deadline=None)
@given(st.text(alphabet=" ab\n", max_size=300), st.integers(min_value=1, max_value=40))
@pytest.mark.timeout(120)
def test_line_pieces_keep_every_word_and_respect_the_limit(text, limit):
    pieces = line_pieces(text, limit)
    assert all(len(piece) <= limit for piece in pieces)
    assert "".join("".join(pieces).split()) == "".join(text.split())


@pytest.mark.timeout(120)
def test_a_paragraph_longer_than_spacy_takes_is_processed_in_pieces(extractor, monkeypatch):
    nlp = extractor_nlp()
    monkeypatch.setattr(nlp, "max_length", 2000)
    long_paragraph = " ".join(f"Vladimir Putin met Kim Jong Un in Moscow {i}." for i in range(200))
    extracted = extractor.extract(
        f"Putin Meets Kim In Moscow Again Today\n{long_paragraph}", Meta(publication="Wire")
    )
    assert len(long_paragraph) > 4 * nlp.max_length
    assert "Vladimir Putin" in extracted.people
    assert sum(len(line) for line in extracted.body) >= len(long_paragraph) - len(extracted.body)
    FIGURES.bounds["import-pieces"] = (
        "a paragraph four times spaCy's max_length: recognised in pieces (people found), kept whole"
    )


def extractor_nlp():
    from clippings.importer.entities import load_nlp

    return load_nlp()


# --- the command: limits, special files, manifests ---------------------------------------------


def test_texts_over_the_limits_are_refused_quickly(site, capsys):
    inputs = site / "in"
    inputs.mkdir()
    (inputs / "a_10mb.txt").write_text("word " * 2_000_000, encoding="utf-8")
    (inputs / "b_100k_paragraphs.txt").write_text(article(100_000, "P{i}."), encoding="utf-8")
    with open(inputs / "c_huge.txt", "wb") as huge:  # sparse: no 20 MB written
        huge.truncate(cli.MAX_FILE_BYTES + 1)
    (inputs / "d_fine.txt").write_text(article(3), encoding="utf-8")
    started = time.perf_counter()
    assert run_import(str(inputs), "--manifest", str(write_manifest(inputs))) == 1
    assert time.perf_counter() - started < 60  # the refusals are instant; the one import is not
    out, err = capsys.readouterr()
    assert f"failed: {inputs / 'a_10mb.txt'}: article text of 10,000,000 characters;" in err
    assert f"failed: {inputs / 'b_100k_paragraphs.txt'}: article text of 100,001 lines;" in err
    assert f"failed: {inputs / 'c_huge.txt'}: larger than 20,000,000 bytes;" in err
    assert "1 imported, 0 unchanged, 0 skipped, 3 failed" in out
    assert "Traceback" not in out + err
    FIGURES.bounds["import-limits"] = (
        f"a 10 MB text, a text of 100,000 paragraphs and a file over {cli.MAX_FILE_BYTES:,} bytes: "
        "each refused in one line within seconds (limits: "
        f"{cli.MAX_TEXT_CHARS:,} characters, {cli.MAX_TEXT_LINES:,} lines), the others imported"
    )


def special_files(folder: Path) -> dict[str, tuple[Path, str]]:
    """A FIFO (no writer: reading it would wait for ever), a socket, a character device and a
    symlink to one, each with the words of its refusal."""
    fifo = folder / "fifo.txt"
    os.mkfifo(fifo)
    sock = folder / "socket.txt"
    server = socket.socket(socket.AF_UNIX)
    server.bind(str(sock))
    device = folder / "zero.txt"
    device.symlink_to("/dev/zero")
    return {
        "fifo": (fifo, "a FIFO, not a regular file"),
        "socket": (sock, "a socket, not a regular file"),
        "device": (Path("/dev/null"), "a character device, not a regular file"),
        "link to a device": (device, "a character device, not a regular file"),
    }


@pytest.mark.timeout(60)
def test_special_files_are_refused_never_waited_on(site, capsys):
    inputs = site / "in"
    inputs.mkdir()
    files = special_files(inputs)
    (inputs / "fine.txt").write_text(article(3), encoding="utf-8")
    paths = [str(path) for path, _ in files.values()]
    assert run_import(*paths, str(inputs / "fine.txt"), "--manifest", str(write_manifest(inputs)))
    out, err = capsys.readouterr()
    for path, words in files.values():
        assert f"failed: {path}: {words}; only files are imported" in err
    assert "1 imported, 0 unchanged, 0 skipped, 4 failed" in out
    FIGURES.bounds["import-special"] = (
        "a FIFO, a socket, /dev/null and a link to /dev/zero given to import (by name, inside a "
        "folder, or a FIFO as manifest): refused as not regular files, never waited on"
    )


@pytest.mark.timeout(60)
def test_special_files_in_a_folder_are_reported_not_skipped(site, capsys):
    inputs = site / "in"
    inputs.mkdir()
    special_files(inputs)
    (inputs / ".#lock.txt").symlink_to("nowhere")  # an editor's lock file: ignored
    assert run_import(str(inputs)) == 1
    out, err = capsys.readouterr()
    assert err.count("not a regular file") == 3
    assert ".#lock" not in out + err
    assert "0 imported, 0 unchanged, 0 skipped, 3 failed" in out


@pytest.mark.timeout(60)
def test_a_fifo_as_manifest_is_refused(site, capsys):
    fifo = site / "manifest.json"
    os.mkfifo(fifo)
    (site / "a.txt").write_text(article(3), encoding="utf-8")
    assert run_import(str(site / "a.txt"), "--manifest", str(fifo)) == 2
    assert "a FIFO, not a regular file" in capsys.readouterr().err


@pytest.mark.timeout(60)
def test_a_fifo_or_bad_bytes_in_place_of_the_runs_own_files_is_refused(site, capsys):
    """raw/imports.json and data/boilerplate.yaml are read by every run: a FIFO there (or a
    rules file that is not UTF-8) is a message, never a wait or a traceback."""
    (site / "a.txt").write_text(article(3), encoding="utf-8")
    (site / "raw").mkdir()
    os.mkfifo(site / "raw" / "imports.json")
    assert run_import(str(site / "a.txt"), "--publication", "Wire") == 2
    assert "import: raw/imports.json: not a regular file" in capsys.readouterr().err
    (site / "raw" / "imports.json").unlink()
    for rules in ("fifo", b"lines: ['\xff']\n"):
        (site / "data" / "boilerplate.yaml").unlink(missing_ok=True)
        if rules == "fifo":
            os.mkfifo(site / "data" / "boilerplate.yaml")
        else:
            (site / "data" / "boilerplate.yaml").write_bytes(rules)
        assert run_import(str(site / "a.txt"), "--publication", "Wire") == 1
        out, err = capsys.readouterr()
        assert f"failed: {site / 'a.txt'}: " in err and "data/boilerplate.yaml" in err, err
        assert "Traceback" not in out + err


BAD_MANIFESTS = {
    "not a list": ({"text": "a.txt"}, "a manifest is a JSON list of objects with a 'text' key"),
    "entry not an object": (["a.txt"], "entry 1: must be an object with a 'text' key"),
    "no text": ([{"url": "https://x.org/"}], "entry 1: missing 'text' (the file it describes)"),
    "text null": ([{"text": None}], "entry 1: missing 'text' (the file it describes)"),
    "text a number": ([{"text": 3}], "entry 1: 'text' must be a string"),
    "date a number": (
        [{"text": "a.txt"}, {"text": "b.txt"}, {"text": "c.txt", "date": 20180326}],
        "entry 3: 'date' must be a string",
    ),
    "url a list": ([{"text": "a.txt", "url": ["x"]}], "entry 1: 'url' must be a string"),
    "publication an object": (
        [{"text": "a.txt", "publication": {"name": "x"}}],
        "entry 1: 'publication' must be a string",
    ),
    "publication true": (
        [{"text": "a.txt", "publication": True}],
        "entry 1: 'publication' must be a string",
    ),
    "blank url": ([{"text": "a.txt", "url": "  "}], "entry 1: 'url' must be non-empty text"),
    "nul in text": ([{"text": "a\u0000.txt"}], "entry 1: 'text' must be non-empty text"),
    "nested 100,000 deep": (None, "cannot read manifest: nested too deeply"),
    "not JSON": ("{", "cannot read manifest: Expecting property name"),
}


@pytest.mark.timeout(60)
@pytest.mark.parametrize("case", sorted(BAD_MANIFESTS))
def test_manifest_fields_are_type_checked(site, capsys, case):
    value, message = BAD_MANIFESTS[case]
    manifest = site / "raw" / "manifest.json"
    manifest.parent.mkdir()
    if case == "nested 100,000 deep":
        manifest.write_text("[" * 100_000 + "]" * 100_000, encoding="utf-8")
    elif isinstance(value, str):
        manifest.write_text(value, encoding="utf-8")
    else:
        manifest.write_text(json.dumps(value), encoding="utf-8")
    (site / "a.txt").write_text(article(3), encoding="utf-8")
    assert run_import(str(site / "a.txt"), "--manifest", "raw/manifest.json") == 2
    err = capsys.readouterr().err
    assert err.startswith(f"import: raw/manifest.json: {message}"), err
    assert "Traceback" not in err
    FIGURES.bounds["import-manifest"] = (
        f"{len(BAD_MANIFESTS)} bad manifests (fields of the wrong type, null, NUL, 100,000 levels "
        "deep, not JSON): one message each, such as `raw/manifest.json: entry 3: 'date' must be "
        "a string`, exit 2"
    )
