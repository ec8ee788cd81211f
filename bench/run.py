#!/usr/bin/env python3
"""Side-by-side build benchmark: Hugo against Clippings on the shared synthetic archive.

    python bench/run.py [SIZES...] [--out bench/out]      (default sizes: 1000 10000)

For each size: generate the corpus with ../shared/bench/gen_corpus.py (generic layout for us,
hugo layout for Hugo), then time Hugo's cold build, our cold build, a no-change rebuild, a rebuild
after editing one article's body, a rebuild after adding one person to one article, a rebuild
after adding one article to a fresh copy of the project with the last cache and site restored
(the Pages workflow's deploy), and our full build with feeds, sitemap and search on. Peak RSS
comes from each child's rusage (wait4). Prints a table with ratios to Hugo; timings on a shared
machine are noisy, so run it more than once.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
GEN_CORPUS = REPO.parent / "shared" / "bench" / "gen_corpus.py"
# Hugo's site has no feeds, sitemap, search or downloads: the timed rows leave ours out too.
LIKE_FOR_LIKE = "title: Bench\nfeeds: false\nsitemap: false\nsearch: false\ndownloads: false\n"
EVERYTHING = (
    "title: Bench\nbase_url: https://archive.example.org/\n"
    "feeds: true\nsitemap: true\nsearch: true\ndownloads: true\n"
)


# Runs our CLI and reports the peak RSS of its own children (the render workers) on stderr,
# then ends as build.py does (without the interpreter's teardown).
OURS = (
    "import os, resource, sys; from clippings.cli import main; code = main(sys.argv[1:]); "
    "workers = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss; "
    "print(f'workers_maxrss_kb={workers}', file=sys.stderr); "
    "sys.stdout.flush(); sys.stderr.flush(); os._exit(code)"
)


# Python as a user runs it: this sandbox sets PYTHONDONTWRITEBYTECODE, which makes every run
# compile our modules from source (~0.1 s, most of it in the short incremental rows).
USER_ENV = {key: value for key, value in os.environ.items() if key != "PYTHONDONTWRITEBYTECODE"}


def timed(command: list[str], cwd: Path) -> tuple[float, float, float]:
    """Run a command; returns (seconds, peak RSS of the process, peak RSS of any of its
    workers), in MiB. Fails loudly on error."""
    started = time.perf_counter()
    process = subprocess.Popen(
        command, cwd=cwd, env=USER_ENV, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
    )
    errors = process.stderr.read().decode()
    _, status, usage = os.wait4(process.pid, 0)
    seconds = time.perf_counter() - started
    if os.waitstatus_to_exitcode(status) != 0:
        sys.exit(f"failed: {' '.join(command)}\n{errors}")
    workers = [line for line in errors.splitlines() if line.startswith("workers_maxrss_kb=")]
    worker_kb = int(workers[-1].split("=")[1]) if workers else 0
    return seconds, usage.ru_maxrss / 1024, worker_kb / 1024


def ensure_hugo() -> str:
    hugo = shutil.which("hugo")
    if hugo is None:
        subprocess.run(["apt-get", "update", "-qq"], check=True)
        subprocess.run(["apt-get", "install", "-y", "-qq", "hugo"], check=True)
        hugo = shutil.which("hugo")
    assert hugo, "hugo is not installed"
    return hugo


def check_our_pages(site: Path, manifest: dict) -> str:
    """Our site has one page per article and per person and country (sources also count the
    publications, which the manifest leaves out), the three overviews and the index."""
    pages = [p.relative_to(site).parts for p in site.rglob("index.html")]
    unpaged = [parts for parts in pages if "page" not in parts]
    articles = sum(1 for parts in unpaged if len(parts) == 3 and parts[0][:1].isdigit())
    terms = {
        kind: sum(1 for parts in unpaged if len(parts) == 3 and parts[0] == kind)
        for kind in manifest["distinct_terms"]
    }
    overviews = sum(1 for parts in unpaged if len(parts) == 2 and parts[0] in terms)
    assert articles == manifest["articles"], f"{articles} article pages"
    for kind in ("people", "countries"):
        assert terms[kind] == manifest["distinct_terms"][kind], f"{terms[kind]} {kind} pages"
    assert terms["sources"] >= manifest["distinct_terms"]["sources"], "too few source pages"
    assert overviews == 3 and (site / "index.html").is_file(), "overviews or index missing"
    return f"{len(pages)} pages ({articles} articles, terms {terms})"


def fresh_clone(project: Path, site: Path) -> None:
    """The project and site as a deploy finds them, at the same paths: content checked out
    afresh (new inodes and times), `.clippings-cache/` and the site restored as `actions/cache`
    restores them (new inodes, times kept)."""
    for folder in (project, site):
        kept = folder.with_name(folder.name + ".kept")
        folder.rename(kept)
        restored = str(kept if folder == site else kept / ".clippings-cache") + "/"

        def as_deployed(source: str, target: str, restored: str = restored) -> object:
            keep_times = source.startswith(restored)
            return (shutil.copy2 if keep_times else shutil.copy)(source, target)

        shutil.copytree(kept, folder, symlinks=True, copy_function=as_deployed)
        shutil.rmtree(kept)


NEW_ARTICLE = """---
title: "A new article for the deploy row"
date: 2025-12-01T09:00:00Z
publication: "The Morning Ledger"
people:
  - "Bench Added Person"
countries:
  - "Equatorial Guinea"
---

One paragraph, as a new clipping has.
"""


def bench_size(size: int, out: Path, hugo: str) -> list[tuple[str, float, float, float]]:
    work = out / f"n{size}"
    subprocess.run(
        [
            sys.executable,
            str(GEN_CORPUS),
            str(size),
            "--out",
            str(work / "g"),
            "--layout",
            "generic",
        ],
        check=True,
        stdout=subprocess.DEVNULL,
    )
    subprocess.run(
        [sys.executable, str(GEN_CORPUS), str(size), "--out", str(work / "h"), "--layout", "hugo"],
        check=True,
        stdout=subprocess.DEVNULL,
    )
    manifest = json.loads((work / "g" / "manifest.json").read_text())
    site_root = work / "g" / "generic"
    (site_root / "config.yaml").write_text(LIKE_FOR_LIKE)
    ours = [
        sys.executable,
        "-c",
        OURS,
        "build",
        "--quiet",
        "--config",
        str(site_root / "config.yaml"),
    ]
    rows = []
    hugo_out = work / "hugo-site"
    for old_output in (hugo_out, work / "site", work / "site-full"):  # cold means empty
        shutil.rmtree(old_output, ignore_errors=True)
    rows.append(("hugo cold", *timed([hugo, "--quiet", "-d", str(hugo_out)], work / "h" / "hugo")))
    hugo_pages = sum(1 for _ in hugo_out.rglob("*.html"))
    shutil.rmtree(site_root / ".clippings-cache", ignore_errors=True)
    rows.append(("ours cold", *timed([*ours, "--output", str(work / "site")], REPO)))
    ours_pages = check_our_pages(work / "site", manifest)
    rows.append(("ours no-change", *timed([*ours, "--output", str(work / "site")], REPO)))
    article = sorted((site_root / "content").rglob("*.md"))[size // 2]
    text = article.read_text()
    article.write_text(text + "\nOne more edited paragraph.\n")
    rows.append(("ours edit body", *timed([*ours, "--output", str(work / "site")], REPO)))
    article.write_text(text.replace("people:\n", 'people:\n  - "Bench Added Person"\n', 1))
    rows.append(("ours add person", *timed([*ours, "--output", str(work / "site")], REPO)))
    article.write_text(text)
    timed([*ours, "--output", str(work / "site")], REPO)  # the deploy starts from this build
    fresh_clone(site_root, work / "site")
    new_article = article.parent / "bench-new-article.md"
    new_article.write_text(NEW_ARTICLE)
    rows.append(("ours deploy new article", *timed([*ours, "--output", str(work / "site")], REPO)))
    new_article.unlink()
    print(
        f"n={size}: hugo wrote {hugo_pages} HTML pages (manifest: {manifest['expected_html_pages']}); ours: {ours_pages}"
    )
    assert hugo_pages == manifest["expected_html_pages"], "Hugo page count differs from manifest"
    (site_root / "config.yaml").write_text(EVERYTHING)
    shutil.rmtree(site_root / ".clippings-cache", ignore_errors=True)  # cold, like the others
    rows.append(("ours everything on", *timed([*ours, "--output", str(work / "site-full")], REPO)))
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("sizes", nargs="*", type=int, default=[1000, 10000])
    parser.add_argument("--out", type=Path, default=REPO / "bench" / "out")
    args = parser.parse_args()
    hugo = ensure_hugo()
    print(
        f"{'size':>7} {'build':<24} {'seconds':>8} {'× hugo':>7} {'peak MiB':>9} {'workers MiB':>12}"
    )
    for size in args.sizes:
        rows = bench_size(size, args.out, hugo)
        hugo_seconds = rows[0][1]
        for name, seconds, rss, workers in rows:
            ratio = seconds / hugo_seconds
            print(
                f"{size:>7} {name:<24} {seconds:>8.2f} {ratio:>7.2f} {rss:>9.0f} {workers:>12.0f}"
            )


if __name__ == "__main__":
    main()
