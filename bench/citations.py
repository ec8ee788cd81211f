#!/usr/bin/env python3
"""CPU per citation: citeproc-py against the fast path (citation.py), on a site's articles.

    python bench/citations.py SITE_FOLDER [--style chicago-author-date] [--rounds 3]

Formats every article's citation (the site's base URL and title as a build would, else
defaults) through citeproc-py and through the fast path, alternately per round, with fresh
templates each round (so the fast path's probes are counted), and prints CPU (process_time) per
citation, best round of each, and how many items the fast path took.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from clippings import citation, csl
from clippings.content import load_articles


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("site", type=Path)
    parser.add_argument("--style", default="chicago-author-date")
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    articles, _ = load_articles(args.site / "content", args.site)
    items = [
        citation._cleaned(csl.csl_item(a, "https://archive.example.org/", "Bench"))
        for a in articles
    ]
    best = {"citeproc-py": float("inf"), "fast path (declined ones by citeproc-py)": float("inf")}
    for _ in range(args.rounds):
        start = time.process_time()
        for item in items:
            citation._citeproc_text(item, args.style)
        best["citeproc-py"] = min(best["citeproc-py"], time.process_time() - start)
        citation._templates.clear()
        start = time.process_time()
        accepted = 0
        for item in items:
            text = citation._fast_text(item, args.style)
            accepted += text is not None
            if text is None:
                citation._citeproc_text(item, args.style)
        key = "fast path (declined ones by citeproc-py)"
        best[key] = min(best[key], time.process_time() - start)
    print(f"{len(items)} citations ({args.style}), fast path took {accepted}")
    for name, seconds in best.items():
        print(f"{name}: {seconds:.2f} s of CPU, {seconds / len(items) * 1000:.3f} ms per citation")


if __name__ == "__main__":
    main()
