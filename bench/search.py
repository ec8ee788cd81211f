#!/usr/bin/env python3
"""Search index benchmark: full build, one-article re-index, peak memory, and query latency.

    python bench/search.py [N] [--browser] [--corpus DIR] [--edits K]

Generates an N-article corpus (default 10,000) with the shared gen_corpus.py, then times the
sharded Pagefind index on its own (the rest of the build is not counted): a full index from an empty
cache, a no-change build, and the re-index after editing one article, as builds and `serve` run it
(`refresh_live_index`: find the changed shard, index it, swap it into a live site folder), K times
(default 5): with the archive loaded anew, as a CLI build has it, and with the archive kept and
updated in place, as `serve` has it. Peak memory is the Pagefind service's (the indexer child
process) and the Python process's own. With --browser it also builds the site and measures, in
headless Chromium, how long each of 10 queries takes to show its first result and how many bytes
the query fetched.
"""

from __future__ import annotations

import argparse
import dataclasses
import gc
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from clippings.archive import Archive  # noqa: E402
from clippings.authority import load_authority  # noqa: E402
from clippings.build import build_site, load_archive  # noqa: E402
from clippings.cache import CACHE_DIR  # noqa: E402
from clippings.config import Config, load_config  # noqa: E402
from clippings.content import read_article  # noqa: E402
from clippings.model_update import update_archive  # noqa: E402
from clippings.search import (  # noqa: E402
    Record,
    build_search_index,
    index_shards,
    refresh_live_index,
    shard_records,
    shards_by_date,
)

QUERIES = [  # words of the generated corpus
    "election",
    "minister",
    "parliament",
    "hospitals",
    "refugees",
    "embassy",
    "floods",
    "teachers",
    "protests",
    "agreement",
]


class MemorySampler:
    """Peak of this process's RSS plus its live children's (the Pagefind services), sampled."""

    def __init__(self) -> None:
        self.peak = self.start = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def __enter__(self) -> MemorySampler:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()

    @property
    def peak_mib(self) -> float:
        return self.peak / 2**20

    def _run(self) -> None:
        me = os.getpid()
        while not self._stop.wait(0.02):
            total = 0
            for stat in Path("/proc").glob("[0-9]*/stat"):
                try:
                    fields = stat.read_text().rsplit(")", 1)[1].split()
                    if int(stat.parent.name) == me or int(fields[1]) == me:
                        total += int(fields[21]) * resource.getpagesize()
                except (OSError, IndexError, ValueError):
                    continue
            self.start = self.start or total
            self.peak = max(self.peak, total)


def generate(count: int, folder: Path, kept: Path | None = None) -> Path:
    """The corpus in `folder`; with `kept`, generated there once and copied (the bench edits it)."""
    if kept is not None:
        if not (kept / "generic" / "config.yaml").is_file():
            generate(count, kept)
        shutil.copytree(kept / "generic", folder / "generic")
        return folder / "generic"
    subprocess.run(
        [
            sys.executable,
            str(REPO.parent / "shared" / "bench" / "gen_corpus.py"),
            str(count),
            "--out",
            str(folder),
            "--layout",
            "generic",
        ],
        check=True,
        capture_output=True,
    )
    site = folder / "generic"
    (site / "config.yaml").write_text("title: Benchmark\n", encoding="utf-8")
    return site


def timed_index(site: Path, cache: Path) -> tuple[float, int, int, float]:
    """Seconds, shards rebuilt, shards, and peak MiB (Python + Pagefind) of indexing alone."""
    config = load_config(site / "config.yaml")
    archive = load_archive(config)
    cpu_before = _cpu_seconds()
    with MemorySampler() as memory:
        started = time.perf_counter()
        result = build_search_index(archive, config.language, cache)
        seconds = time.perf_counter() - started
    # CPU time (Python + Pagefind, user + system) varies less than wall time on a shared machine.
    print(
        f"  (indexing added {(memory.peak - memory.start) / 2**20:.0f} MiB to the process; "
        f"CPU {_cpu_seconds() - cpu_before:.1f} s)"
    )
    return seconds, len(result.rebuilt), result.shards, memory.peak_mib


def _cpu_seconds() -> float:
    own, children = (
        resource.getrusage(resource.RUSAGE_SELF),
        resource.getrusage(resource.RUSAGE_CHILDREN),
    )
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


def scaled_index(site: Path, times: int, cache: Path) -> None:
    """Index the corpus's records `times` over (distinct URLs, same years): the indexer at scale
    without loading an archive that large."""
    config = load_config(site / "config.yaml")
    records = [r for rs in shard_records(load_archive(config)).values() for r in rs]
    copies = [
        Record(dataclasses.replace(r.article, slug=f"{r.article.slug}{n}"), r.names, r.publisher)
        for r in records
        for n in range(times)
    ]
    scaled = shards_by_date(copies, lambda record: record.article.iso_date)
    count = sum(len(records) for records in scaled.values())
    with MemorySampler() as memory:
        started = time.perf_counter()
        index_shards(scaled, config.language, cache)
        seconds = time.perf_counter() - started
    print(
        f"{count} records ({times}x the corpus), {len(scaled)} shards: full index {seconds:.1f} s, "
        f"peak RSS {memory.peak_mib:.0f} MiB (Python + Pagefind services)"
    )


def edit_one_article(site: Path, position: int) -> Path:
    """Append a paragraph to the article at `position` of the content files in path order (the
    generic layout's folders are years, so 0 is in the oldest year and -1 in the newest)."""
    article = sorted((site / "content").rglob("*.md"))[position]
    text = article.read_text(encoding="utf-8")
    article.write_text(text + "\nAn added paragraph mentioning zyzzyva.\n", encoding="utf-8")
    return article


def timed_refresh(
    archive: Archive, config: Config, cache: Path, live: Path
) -> tuple[float, float, int]:
    """Seconds, CPU seconds (Python and Pagefind) and shards re-indexed of `refresh_live_index`
    (records, then the live refresh). With the collector off, as a CLI build re-indexes (inside
    `build._collector_paused`) and as `serve` does (its model is `gc.freeze`d): otherwise a
    collection walking this process's archives could land inside the timing."""
    gc.disable()
    try:
        cpu_before, started = _cpu_seconds(), time.perf_counter()
        result, _ = refresh_live_index(shard_records(archive), config.language, cache, live)
        return time.perf_counter() - started, _cpu_seconds() - cpu_before, len(result.rebuilt)
    finally:
        gc.enable()


def live_edits(site: Path, cache: Path, edits: int) -> None:
    """The re-index of one edited recent article, `edits` times, as a CLI build runs it (the
    archive loaded anew: nothing of the last build in memory) and as `serve` runs it (the archive
    kept, the edited article replaced in it: unchanged articles are the same objects)."""
    config = load_config(site / "config.yaml")
    live = site / "_live"  # the served site: only its pagefind/ is touched
    timed_refresh(load_archive(config), config, cache, live)  # fills the live folder
    seconds, cpu, _ = timed_refresh(load_archive(config), config, cache, live)
    print(f"live refresh, nothing changed: {seconds:.2f} s, CPU {cpu:.2f} s (archive loaded anew)")
    cli: list[tuple[float, float]] = []
    for _ in range(edits):
        edit_one_article(site, -1)
        seconds, cpu, rebuilt = timed_refresh(load_archive(config), config, cache, live)
        assert rebuilt == 1, rebuilt
        cli.append((seconds, cpu))
    # serve: one archive, loaded and indexed once when it starts, then updated in place.
    archive = load_archive(config)
    authority = load_authority(config.path("authority"), config.authority)
    timed_refresh(archive, config, cache, live)
    serve: list[tuple[float, float]] = []
    for _ in range(edits):
        path = edit_one_article(site, -1)
        source = path.relative_to(site).as_posix()
        old = next(a for a in archive.articles if a.source == source)
        new, _ = read_article(path, source)
        assert new is not None
        update_archive(archive, [old], [new], authority)
        seconds, cpu, rebuilt = timed_refresh(archive, config, cache, live)
        assert rebuilt == 1, rebuilt
        serve.append((seconds, cpu))
    for label, runs in (("archive loaded anew (CLI)", cli), ("archive kept (serve)", serve)):
        wall, cpu_times = [run[0] for run in runs], [run[1] for run in runs]
        print(
            f"live re-index of a recent article, {label}: median {statistics.median(wall):.2f} s "
            f"(min {min(wall):.2f}, max {max(wall):.2f}; {len(runs)} edits), "
            f"CPU median {statistics.median(cpu_times):.2f} s"
        )


# The page's own clock. Playwright's wait for the result polls with a backoff (after the first
# ~300 ms, every 500 ms or so), so a result shown at 450 ms and one at 850 ms both read ~880 ms.
_IN_PAGE_CLOCK = """
document.addEventListener("input", () => {
  window.lastInputAt = performance.now();
  window.firstResultAt = undefined;
}, true);
new MutationObserver(() => {
  if (window.firstResultAt === undefined && document.querySelector(".pagefind-ui__result-link")) {
    window.firstResultAt = performance.now();
  }
}).observe(document, {subtree: true, childList: true});
"""


def browser_latency(site: Path) -> None:
    from tests.chromium import launched_chromium
    from tests.pages_server import pages_server

    output = site / "_site"
    build_site(load_config(site / "config.yaml"), output)
    with pages_server(output, "/repo/") as base, launched_chromium() as browser:
        page = browser.new_page()
        page.add_init_script(_IN_PAGE_CLOCK)
        page.goto(base + "search/")
        page.wait_for_selector(".pagefind-ui__search-input")
        page.fill(".pagefind-ui__search-input", "warmup")
        page.wait_for_selector(".pagefind-ui__result, .pagefind-ui__message")
        latencies, in_page, fetched = [], [], []
        sizes: list[int] = []
        page.on(
            "response", lambda response: sizes.append(len(response.body()) if response.ok else 0)
        )
        for query in QUERIES:
            page.fill(".pagefind-ui__search-input", "")
            page.wait_for_timeout(400)
            sizes.clear()
            started = time.perf_counter()
            page.fill(".pagefind-ui__search-input", query)
            # Generous: at 100,000 articles a query on a loaded machine took over 30 s (see
            # docs/performance.md); a slow query is a figure, not a failure.
            page.wait_for_selector(".pagefind-ui__result-link", timeout=300_000)
            latencies.append((time.perf_counter() - started) * 1000)
            in_page.append(page.evaluate("window.firstResultAt - window.lastInputAt"))
            page.wait_for_timeout(500)  # let the first page of results finish loading
            fetched.append(sum(sizes))
        browser.close()
    print(
        f"query to first result (input event to result link inserted, the page's clock): median "
        f"{statistics.median(in_page):.0f} ms (min {min(in_page):.0f}, max {max(in_page):.0f}) "
        f"over {len(QUERIES)} queries"
    )
    print(
        f"  as Playwright sees it: median {statistics.median(latencies):.0f} ms "
        f"(min {min(latencies):.0f}, max {max(latencies):.0f})"
    )
    print(
        f"bytes fetched per query: median {statistics.median(fetched) / 1024:.0f} KiB "
        f"(max {max(fetched) / 1024:.0f} KiB)"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("count", type=int, nargs="?", default=10_000)
    parser.add_argument("--browser", action="store_true", help="also measure query latency")
    parser.add_argument(
        "--scale", type=int, default=0, help="index only: the corpus's records this many times over"
    )
    parser.add_argument(
        "--corpus", type=Path, help="generate the corpus in this folder once and reuse it"
    )
    parser.add_argument("--edits", type=int, default=5, help="one-article re-indexes to time")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="clippings-search-bench-") as tmp:
        site = generate(args.count, Path(tmp) / "corpus", args.corpus)
        # The site's own cache folder: --browser's build then finds the index just timed
        # instead of indexing every shard again (minutes at 100,000 articles).
        cache = site / CACHE_DIR
        if args.scale:
            scaled_index(site, args.scale, cache)
            return
        seconds, rebuilt, shards, peak = timed_index(site, cache)
        print(f"{args.count} articles, {shards} shards")
        print(
            f"full index: {seconds:.2f} s ({rebuilt} shards); peak RSS {peak:.0f} MiB "
            "(Python with the loaded archive + Pagefind services)"
        )
        seconds, rebuilt, _, _ = timed_index(site, cache)
        print(f"no-change index: {seconds:.2f} s ({rebuilt} shards re-indexed)")
        # Recent years have small shards, older years settled ones: an edit costs a shard of its
        # tier (the recent one is the common case).
        for where, position in (("a recent", -1), ("an old", args.count // 2)):
            edit_one_article(site, position)
            seconds, rebuilt, _, peak = timed_index(site, cache)
            print(
                f"edit of {where} article: {seconds:.2f} s ({rebuilt} shard re-indexed), "
                f"peak {peak:.0f} MiB"
            )
        live_edits(site, cache, args.edits)
        size = sum(
            f.stat().st_size for f in (cache / "search" / "shards").rglob("*") if f.is_file()
        )
        print(f"index size on disk: {size / 2**20:.1f} MiB")
        if args.browser:
            browser_latency(site)
        shutil.rmtree(cache, ignore_errors=True)


if __name__ == "__main__":
    main()
