"""Web archives as input: WARC files built with warcio (gzip and plain), a WACZ package, and
records that are not article pages mixed in."""

from __future__ import annotations

import io
import json
import re
import zipfile
from pathlib import Path

import pytest
from warcio.archiveiterator import ArchiveIterator
from warcio.statusandheaders import StatusAndHeaders
from warcio.warcwriter import WARCWriter

from clippings.content import parse_article
from clippings.importer.warc import ArchiveError, html_records
from tests.importing import run_import

ARTICLE = """<html><head><title>Kim Meets Putin in Vladivostok</title>
<meta property="og:site_name" content="Example Wire"></head><body><article>
<h1>Kim Meets Putin in Vladivostok</h1>
<p>North Korean leader Kim Jong Un met Russian President Vladimir Putin in Vladivostok on
Thursday for their first summit, the Kremlin said in a statement after the talks.</p>
<p>The two leaders discussed the nuclear standoff with the United States and economic ties
between their countries, according to officials who attended the meeting.</p>
</article></body></html>"""


def _record(writer: WARCWriter, url: str, body: bytes, content_type: str, status: str = "200"):
    headers = StatusAndHeaders(
        f"{status} OK", [("Content-Type", content_type)], protocol="HTTP/1.1"
    )
    return writer.create_warc_record(
        url, "response", payload=io.BytesIO(body), http_headers=headers
    )


def write_warc(path: Path, gzip: bool) -> None:
    with path.open("wb") as out:
        writer = WARCWriter(out, gzip=gzip)
        writer.write_record(writer.create_warcinfo_record(path.name, {"software": "test"}))
        article = _record(
            writer,
            "https://example.com/2019/04/25/kim-putin",
            ARTICLE.encode(),
            "text/html; charset=utf-8",
        )
        writer.write_record(article)
        request = writer.create_warc_record(
            "https://example.com/", "request", payload=io.BytesIO(b"GET / HTTP/1.1\r\n\r\n")
        )
        writer.write_record(request)
        writer.write_record(
            _record(writer, "https://example.com/logo.png", b"\x89PNG\r\n", "image/png")
        )
        writer.write_record(
            _record(writer, "https://example.com/gone", b"<html></html>", "text/html", "404")
        )
        revisit = writer.create_revisit_record(
            "https://example.com/2019/04/25/kim-putin",
            digest=article.rec_headers.get_header("WARC-Payload-Digest"),
            refers_to_uri="https://example.com/2019/04/25/kim-putin",
            refers_to_date=article.rec_headers.get_header("WARC-Date"),
        )
        writer.write_record(revisit)
        writer.write_record(
            _record(
                writer,
                "https://example.com/tag/empty",
                b"<html><body><nav>Home</nav></body></html>",
                "text/html",
            )
        )


@pytest.mark.parametrize("name, gzip", [("crawl.warc.gz", True), ("crawl.warc", False)])
def test_html_responses_only(tmp_path: Path, name: str, gzip: bool):
    path = tmp_path / name
    write_warc(path, gzip)
    pages = list(html_records(path))
    assert [p.url for p in pages] == [
        "https://example.com/2019/04/25/kim-putin",
        "https://example.com/tag/empty",
    ]
    assert pages[0].retrieved and len(pages[0].retrieved) == 10
    assert "Vladivostok" in pages[0].html and pages[0].record_id


def test_a_file_that_is_no_archive_is_an_error(tmp_path: Path):
    path = tmp_path / "crawl.warc"
    path.write_bytes(b"not a warc\n")
    with pytest.raises(ArchiveError):
        list(html_records(path))


def test_import_of_a_warc(site, capsys):
    path = site / "crawl.warc.gz"
    write_warc(path, gzip=True)
    assert run_import(str(path)) == 0
    out = capsys.readouterr().out
    assert f"{path}: 2 HTML pages, 1 skipped as no article" in out
    [article] = list((site / "content").rglob("*.md"))
    text = article.read_text()
    assert "url: https://example.com/2019/04/25/kim-putin" in text
    assert "source_file: crawl.warc.gz#" in text and "retrieved: '" in text
    assert "- Kim Jong Un" in text
    assert (site / "raw" / "crawl.warc.gz").read_bytes() == path.read_bytes()
    # Once more: the same articles, unchanged.
    assert run_import(str(path)) == 0
    assert "0 imported, 1 unchanged" in capsys.readouterr().out


def test_each_page_names_its_warc_record_and_digest(site, capsys):
    """The record's own digest (WARC-Payload-Digest, else WARC-Block-Digest), the WARC file and
    the WARC-Record-ID, in the article's front matter and in the archive's provenance."""
    path = site / "crawl.warc"
    write_warc(path, gzip=False)
    first = next(r for r in ArchiveIterator(path.open("rb")) if r.rec_type == "response")
    headers = first.rec_headers
    record_id = headers.get_header("WARC-Record-ID").strip("<>")
    digest = headers.get_header("WARC-Payload-Digest")
    assert digest and record_id.startswith("urn:uuid:")
    assert run_import(str(path)) == 0
    [article] = list((site / "content").rglob("*.md"))
    text = article.read_text()
    assert f"source_file: crawl.warc#{record_id.removeprefix('urn:uuid:')}\n" in text
    assert f"warc_file: crawl.warc\nwarc_record_id: {record_id}\nwarc_digest: {digest}\n" in text
    # The build reads them (no unknown keys) and shows them with the article's provenance.
    parsed, problems = parse_article(text, "a.md", strict=True)
    assert not problems and (parsed.warc_record_id, parsed.warc_digest) == (record_id, digest)
    told = json.loads((site / "raw" / "crawl.warc.import.json").read_text())
    assert told["records"] == {
        record_id.removeprefix("urn:uuid:"): {
            "content_file": article.relative_to(site).as_posix(),
            "warc_file": "crawl.warc",
            "warc_record_id": record_id,
            "warc_digest": digest,
        }
    }


def test_a_record_without_a_payload_digest_gives_its_block_digest(tmp_path: Path):
    path = tmp_path / "crawl.warc"
    with path.open("wb") as out:
        writer = WARCWriter(out, gzip=False)
        writer.write_record(_record(writer, "https://example.com/a", ARTICLE.encode(), "text/html"))
    # warcio always writes both digests; a crawler may write only the block's.
    path.write_bytes(re.sub(rb"WARC-Payload-Digest: [^\r]*\r\n", b"", path.read_bytes()))
    headers = next(ArchiveIterator(path.open("rb"))).rec_headers
    block = headers.get_header("WARC-Block-Digest")
    assert headers.get_header("WARC-Payload-Digest") is None and block.startswith("sha1:")
    [page] = html_records(path)
    assert page.digest == block and page.provenance()["warc_digest"] == block


def test_wacz_package(tmp_path: Path):
    warc = tmp_path / "data.warc.gz"
    write_warc(warc, gzip=True)
    package = tmp_path / "crawl.wacz"
    with zipfile.ZipFile(package, "w") as wacz:
        wacz.write(warc, "archive/data.warc.gz")
        wacz.writestr("datapackage.json", "{}")
    assert len(list(html_records(package))) == 2


def test_saved_html_gives_its_capture_date(site):
    page = site / "page.html"
    note = "<!--\n Page saved with SingleFile \n url: https://example.com/a \n"
    note += " saved date: Mon Dec 06 2021 10:21:03 GMT+0100 (Central European Standard Time)\n-->"
    page.write_text(note + ARTICLE)
    assert run_import(str(page), "--publication", "Example Wire") == 0
    [article] = list((site / "content").rglob("*.md"))
    assert "retrieved: '2021-12-06T10:21:03+01:00'" in article.read_text()
