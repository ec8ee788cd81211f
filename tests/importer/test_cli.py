"""The import command end to end in a temporary site: outcomes, safety and bad input."""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import pytest

from clippings.importer import writer
from tests.importer.conftest import SHARED
from tests.importing import run_import

SEED = SHARED / "seeds" / "000_cb113fcc93b213c7.txt"


def test_reimport_is_identical_and_hand_edits_are_kept(site, capsys):
    assert run_import(str(SEED), "--publication", "Newsweek") == 0
    [path] = list((site / "content").rglob("*.md"))
    first = path.read_bytes()
    assert (site / "raw" / SEED.name).read_bytes() == SEED.read_bytes()
    assert run_import(str(SEED), "--publication", "Newsweek") == 0
    assert path.read_bytes() == first
    assert "0 imported, 1 unchanged, 0 skipped, 0 failed" in capsys.readouterr().out

    path.write_text(first.decode() + "\nMy own note.\n")
    assert run_import(str(SEED), "--publication", "Newsweek") == 0
    out = capsys.readouterr().out
    assert f"skipped: content/undated/{path.name}: edited by hand since import" in out
    assert path.read_text().endswith("My own note.\n")
    assert run_import(str(SEED), "--publication", "Newsweek", "--force") == 0
    assert path.read_bytes() == first


def test_dry_run_writes_nothing(site, capsys):
    assert run_import(str(SEED), "--dry-run") == 0
    assert not (site / "content").exists() and not (site / "raw").exists()
    assert "1 imported" in capsys.readouterr().out


def test_bad_inputs_fail_one_line_each_and_others_go_on(site, capsys):
    bad = site / "in"
    bad.mkdir()
    (bad / "a_empty.txt").write_text("  \n")
    (bad / "b_binary.txt").write_bytes(b"\x89PNG\r\n\x1a\n\0\0\0")
    (bad / "c_latin1.txt").write_bytes("Caf\xe9 news\n\nA body line.".encode("latin-1"))
    (bad / "d_nobody.txt").write_text("Menu\n\nsubscribe\n")
    shutil.copy(SEED, bad / "e_good.txt")
    assert run_import(str(bad)) == 1
    captured = capsys.readouterr()
    errors = captured.err.strip().splitlines()
    assert errors == [
        f"failed: {bad / 'a_empty.txt'}: empty file",
        f"failed: {bad / 'b_binary.txt'}: binary file, not text or HTML",
        f"failed: {bad / 'c_latin1.txt'}: not UTF-8 (byte 0xe9 at offset 3)",
        f"failed: {bad / 'd_nobody.txt'}: no recognisable body",
    ]
    assert captured.out.strip().splitlines()[-1] == "1 imported, 0 unchanged, 0 skipped, 4 failed"


def test_interrupted_write_leaves_no_partial_file(site, monkeypatch):
    target = site / "out.md"
    target.write_text("old")

    def boom(src, dst):
        raise KeyboardInterrupt

    monkeypatch.setattr(os, "replace", boom)
    with pytest.raises(KeyboardInterrupt):
        writer.atomic_write(target, b"new content")
    assert target.read_text() == "old"
    assert [p.name for p in site.iterdir() if p.name.endswith(".tmp")] == []


def test_suggest_lists_names_the_authority_lacks(site, capsys):
    text = site / "story.txt"
    text.write_text("Minister Resigns\n\nJane Q. Example resigned on Monday, Fox News reported.\n")
    assert run_import(str(text), "--suggest") == 0
    out = capsys.readouterr().out.splitlines()
    line = out.index("suggest people: Jane Q. Example (1)")
    assert out[line + 1] == "    story.txt: Jane Q. Example resigned on Monday, Fox News reported."
    # A report only: nothing is imported.
    assert not (site / "content").exists() and not (site / "raw").exists()


def test_reimport_keeps_what_the_first_import_was_told(site, capsys):
    assert run_import(str(SEED), "--publication", "Newsweek", "--url", "https://example.com/a") == 0
    [path] = list((site / "content").rglob("*.md"))
    first = path.read_text()
    assert "publication: Newsweek" in first
    # A second run without the flags, forced, replaces the same file with the same metadata.
    assert run_import(str(SEED), "--force") == 0
    assert list((site / "content").rglob("*.md")) == [path]
    assert path.read_text() == first
    # A re-import from raw/ keeps them too.
    assert run_import(str(site / "raw" / SEED.name)) == 0
    assert "0 imported, 1 unchanged" in capsys.readouterr().out.splitlines()[-1]


def test_forced_reimport_replaces_the_article_in_place(site):
    assert run_import(str(SEED), "--publication", "Newsweek") == 0
    [path] = list((site / "content").rglob("*.md"))
    # The first import was given a date by its manifest; the second finds none and would
    # have written a second copy under content/undated/.
    manifest = site / "manifest.json"
    manifest.write_text(f'[{{"text": "{SEED}", "date": "2018-08-15"}}]')
    assert run_import(str(SEED), "--manifest", str(manifest), "--force") == 0
    assert list((site / "content").rglob("*.md")) == [path]
    assert "date: '2018-08-15'" in path.read_text() or "date: 2018-08-15" in path.read_text()


def test_capture_without_article_text_is_imported_as_a_record(site, capsys):
    text = site / "gallery.txt"
    text.write_text(
        "Home | World | Sport\n\nIn pictures: the parade in Pyongyang\n\nBy Jane Smith\n\n"
        "Share this\n"
    )
    assert run_import(str(text), "--publication", "Example Wire") == 0
    out = capsys.readouterr().out
    assert "(no article text in the capture: imported with an empty body)" in out
    [path] = list((site / "content").rglob("*.md"))
    written = path.read_text()
    assert "title: 'In pictures: the parade in Pyongyang'" in written
    assert "- Jane Smith" in written and written.endswith("---\n\n\n")


def test_import_reads_the_sites_config(site):
    (site / "config.yaml").write_text("content_dir: articles\nauthority: names.yaml\n")
    (site / "names.yaml").write_text("people:\n  Jane Example:\n    aliases: [Jane Q. Example]\n")
    text = site / "story.txt"
    text.write_text("Minister Resigns\n\nJane Q. Example resigned on Monday, Fox News reported.\n")
    assert run_import(str(text), "--publication", "Example Wire") == 0
    [path] = list((site / "articles").rglob("*.md"))
    assert "- Jane Example" in path.read_text()


def test_html_page_uses_trafilatura_metadata(site):
    pytest.importorskip("lxml_html_clean")
    page = site / "page.html"
    paragraphs = "".join(
        f"<p>Paragraph {n}: Russian President Vladimir Putin met officials in the Kremlin.</p>"
        for n in range(1, 6)
    )
    page.write_text(
        "<html><head><title>Putin Meets Officials</title>"
        '<meta property="article:published_time" content="2019-05-04">'
        '<meta name="author" content="Jane Writer">'
        '<link rel="canonical" href="https://example.com/news/putin-meets"></head>'
        f"<body><article><h1>Putin Meets Officials</h1>{paragraphs}</article></body></html>"
    )
    assert run_import(str(page), "--publication", "Example") == 0
    text = (site / "content" / "2019" / "putin-meets-officials.md").read_text()
    assert "authors:\n- Jane Writer\n" in text
    assert "url: https://example.com/news/putin-meets\n" in text
    assert "people:\n- Vladimir Putin\n" in text


def test_a_date_in_the_text_of_an_html_page_is_not_its_date(site):
    """Only the page's date markup dates it: the photo's date in a sentence, which htmldate's
    extensive search would take, is not the article's."""
    pytest.importorskip("lxml_html_clean")
    page = site / "page.html"
    paragraphs = "".join(
        f"<p>Paragraph {n}: the photo was taken on January 1, 2020, officials said.</p>"
        for n in range(5)
    )
    page.write_text(
        "<html><head><title>Kim Meets Officials</title></head><body><article>"
        f"<h1>Kim Meets Officials</h1>{paragraphs}</article></body></html>"
    )
    assert run_import(str(page), "--publication", "Example") == 0
    assert (site / "content" / "undated" / "kim-meets-officials.md").is_file()


def test_html_page_without_a_given_publication_takes_the_site_name(site):
    pytest.importorskip("lxml_html_clean")
    page = site / "page.html"
    paragraphs = "".join(f"<p>Paragraph {n}: Kim Jong Un met officials.</p>" for n in range(5))
    page.write_text(
        '<html><head><title>Kim Meets Officials</title><meta property="og:site_name" '
        'content="Example News"><meta property="article:published_time" content="2019-05-04">'
        f"</head><body><article><h1>Kim Meets Officials</h1>{paragraphs}</article></body></html>"
    )
    assert run_import(str(page)) == 0
    text = (site / "content" / "2019" / "kim-meets-officials.md").read_text()
    assert "publication: Example News\n" in text


def test_the_capture_time_is_recorded_as_retrieved(site):
    """From a page saver's note (SingleFile) and, ahead of it, from the manifest."""
    pytest.importorskip("lxml_html_clean")
    paragraphs = "".join(f"<p>Paragraph {n}: Kim Jong Un met officials.</p>" for n in range(5))
    page = site / "saved.html"
    page.write_text(
        "<!DOCTYPE html> <html><!--\n Page saved with SingleFile \n url: https://example.com/k \n"
        " saved date: Tue Mar 20 2018 10:15:00 GMT+0100 (Central European Standard Time)\n-->"
        '<head><title>Kim Meets Officials</title><meta property="article:published_time" '
        f'content="2018-03-19"></head><body><article><h1>Kim Meets Officials</h1>{paragraphs}'
        "</article></body></html>"
    )
    assert run_import(str(page), "--publication", "Example") == 0
    text = (site / "content" / "2018" / "kim-meets-officials.md").read_text()
    assert "retrieved: '2018-03-20T10:15:00+01:00'\n" in text

    manifest = site / "manifest.json"
    entry = {"text": "saved.html", "retrieved": "2018-03-21T08:00:00Z", "publication": "Example"}
    manifest.write_text(json.dumps([entry]))
    assert run_import(str(page), "--manifest", str(manifest), "--force") == 0
    text = (site / "content" / "2018" / "kim-meets-officials.md").read_text()
    assert "retrieved: '2018-03-21T08:00:00Z'\n" in text


def test_files_are_on_disk_before_the_record_names_them(tmp_path, monkeypatch):
    """Written without an fsync each, the files of the entries noted are fsynced together
    before the record is written (every `FLUSH_EVERY` entries and at the end of a run)."""
    synced: list[Path] = []
    monkeypatch.setattr(writer, "_sync", synced.append)
    record = writer.Record(tmp_path / "raw")
    files = [tmp_path / f"{name}.md" for name in "ab"]
    for path in files:
        writer.atomic_write(path, b"text", durable=False)
        record.note(path.name, "text", [path])
    assert synced == [] and not record.path.exists()
    record.flush()
    assert synced == files
    assert json.loads(record.path.read_text()) == {"a.md": writer.sha256("text")} | {
        "b.md": writer.sha256("text")
    }
