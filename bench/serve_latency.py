#!/usr/bin/env python3
"""Save-to-reload latency of `build.py serve`, measured in a real headless Chromium.

For each archive size, the synthetic corpus from ../shared/bench/gen_corpus.py is served; Chromium has
one article open; the script appends a sentence to that article's source and times save → the `load`
event of the re-rendered page. Prints median, min and max over the edits, the server's own rebuild time
and files written per edit, start-up time (first full build included) and the server's RSS.

    .venv/bin/python bench/serve_latency.py 1000 10000 --edits 20

The machine has 2 cores shared with other work: figures are noisy; compare medians.
"""

from __future__ import annotations

import argparse
import os
import queue
import re
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
GENERATOR = REPO.parent / "shared" / "bench" / "gen_corpus.py"
REBUILT = re.compile(r"^Rebuilt in (\d+) ms: (\d+) files written")


def _corpus(size: int, work: Path) -> Path:
    out = work / f"n{size}"
    if not (out / "generic" / "content").is_dir():
        subprocess.run(
            [sys.executable, str(GENERATOR), str(size), "--out", str(out), "--layout", "generic"],
            check=True,
            stdout=subprocess.DEVNULL,
        )
    return out / "generic"


def _rss_mib(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def measure(size: int, edits: int, work: Path) -> None:
    site = _corpus(size, work)
    source = sorted((site / "content").rglob("*.md"))[size // 2]
    started = time.perf_counter()
    server = subprocess.Popen(
        [sys.executable, str(REPO / "build.py"), "serve", "--port", "0"],
        cwd=site,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONPATH": str(REPO)},
    )
    lines: queue.Queue[str] = queue.Queue()
    threading.Thread(
        target=lambda: [lines.put(line) for line in server.stderr or ()], daemon=True
    ).start()
    url = None
    while url is None:
        match = re.search(r"^Serving .* at (\S+) ", lines.get(timeout=1800))
        url = match.group(1) if match else None
    startup = time.perf_counter() - started
    while not lines.empty():
        lines.get()
    sys.path.insert(0, str(REPO))
    from clippings.content import parse_article
    from tests.chromium import launched_chromium

    article, _ = parse_article(source.read_text(encoding="utf-8"), source.name)
    assert article is not None
    latencies, builds, written = [], [], []
    with launched_chromium() as browser:
        page = browser.new_page()
        page.goto(url + article.path)
        text = source.read_text(encoding="utf-8")
        for number in range(edits):
            time.sleep(0.3)  # let the previous save settle
            text += f"\nEdit number {number} saved by the benchmark.\n"
            with page.expect_event("load", timeout=120_000):
                saved = time.perf_counter()
                source.write_text(text, encoding="utf-8")
            latencies.append((time.perf_counter() - saved) * 1000)
            match = None
            while match is None:
                match = REBUILT.search(lines.get(timeout=60))
            builds.append(int(match.group(1)))
            written.append(int(match.group(2)))
        browser.close()
    rss = _rss_mib(server.pid)
    server.send_signal(2)
    server.wait(timeout=60)
    print(
        f"{size} articles, {edits} edits: save→load median {statistics.median(latencies):.0f} ms "
        f"(min {min(latencies):.0f}, max {max(latencies):.0f}); server rebuild median "
        f"{statistics.median(builds):.0f} ms; files written per edit median "
        f"{statistics.median(written):.0f} (min {min(written)}, max {max(written)}); "
        f"start-up {startup:.1f} s; RSS {rss:.0f} MiB"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("sizes", nargs="*", type=int, default=[1000, 10000])
    parser.add_argument("--edits", type=int, default=20)
    parser.add_argument("--work", type=Path, help="folder for the corpora (default: a temp folder)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="serve-bench-") as temporary:
        work = args.work or Path(temporary)
        for size in args.sizes:
            measure(size, args.edits, work)


if __name__ == "__main__":
    main()
