#!/usr/bin/env python3
"""Importer speed: `build.py import` over N scraped texts, spaCy model load included.

    python bench/import_speed.py [N] [--out bench/out/import] [--warc]      (default N: 1000)

The texts are the shared devset's and the holdout's, repeated with a copy number appended to
each one's first line (the title), so every copy is a new article with its own slug. Prints the
wall time, articles per second, the CPU time of the import and its worker processes (which
depends less than the wall time on other jobs sharing the machine), the peak RSS of its largest
process, the load average and the importer's own summary line. With `--warc`, the copies are
saved as HTML pages in one gzipped WARC file (written with warcio) and that file is imported.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import time
from itertools import cycle, islice
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
TEXT_FOLDERS = [REPO.parent / "shared" / "devset", REPO / "tests" / "importer" / "holdout"]


def write_copies(count: int, folder: Path) -> None:
    """`count` texts in `folder`, each a source text with a unique title line."""
    sources = sorted(path for source in TEXT_FOLDERS for path in source.glob("*.txt"))
    if not sources:
        sys.exit("no texts found in " + ", ".join(map(str, TEXT_FOLDERS)))
    folder.mkdir(parents=True)
    for number, source in enumerate(islice(cycle(sources), count), start=1):
        first, _, rest = source.read_text(encoding="utf-8").lstrip().partition("\n")
        text = f"{first} (copy {number})\n{rest}"
        (folder / f"{number:05d}_{source.name}").write_text(text, encoding="utf-8")


def write_warc(texts: Path, path: Path) -> None:
    """The texts in `texts` as HTML response records of one gzipped WARC file."""
    import html
    import io

    from warcio.statusandheaders import StatusAndHeaders
    from warcio.warcwriter import WARCWriter

    with path.open("wb") as out:
        writer = WARCWriter(out, gzip=True)
        for text_path in sorted(texts.glob("*.txt")):
            first, *rest = [line for line in text_path.read_text().splitlines() if line.strip()]
            paragraphs = "".join(f"<p>{html.escape(line)}</p>" for line in rest)
            page = f"<html><head><title>{html.escape(first)}</title></head><body><article>"
            page += f"<h1>{html.escape(first)}</h1>{paragraphs}</article></body></html>"
            headers = StatusAndHeaders("200 OK", [("Content-Type", "text/html")], "HTTP/1.1")
            url = f"https://example.com/{text_path.stem}"
            record = writer.create_warc_record(
                url, "response", payload=io.BytesIO(page.encode()), http_headers=headers
            )
            writer.write_record(record)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("count", nargs="?", type=int, default=1000)
    parser.add_argument("--out", type=Path, default=REPO / "bench" / "out" / "import")
    parser.add_argument("--warc", action="store_true", help="import the copies from one WARC")
    args = parser.parse_args()
    shutil.rmtree(args.out, ignore_errors=True)
    texts = args.out / "texts"
    write_copies(args.count, texts)
    source = texts
    if args.warc:
        source = args.out / "crawl.warc.gz"
        write_warc(texts, source)
    command = [sys.executable, "build.py", "import", str(source)]
    command += ["--content", str(args.out / "content"), "--raw", str(args.out / "raw")]
    load_before = os.getloadavg()[0]
    started = time.perf_counter()
    process = subprocess.Popen(command, cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    output = process.stdout.read().decode()
    _, status, usage = os.wait4(process.pid, 0)
    seconds = time.perf_counter() - started
    lines = output.strip().splitlines()
    summary = lines[-1] if lines else "(no output)"
    print(f"{args.count} texts: {seconds:.1f} s ({args.count / seconds:.0f} articles/s)")
    # CPU time counts the import's worker processes too, and depends less on other jobs on the
    # machine than the wall time does.
    cpu = usage.ru_utime + usage.ru_stime
    print(
        f"CPU {cpu:.1f} s; peak RSS {usage.ru_maxrss / 1024:.0f} MiB (largest process); "
        f"exit code {os.waitstatus_to_exitcode(status)}; load average before "
        f"{load_before:.1f}, after {os.getloadavg()[0]:.1f}"
    )
    print(f"importer: {summary}")


if __name__ == "__main__":
    main()
