"""The importer's command-line arguments, apart from the importer itself: `build.py` sets up its
`import` subcommand on every run, and the importer's modules (spaCy, trafilatura, the rules) load
only when an import runs."""

from __future__ import annotations

import argparse
from pathlib import Path


def configure_parser(parser: argparse.ArgumentParser) -> None:
    """Add the importer's arguments to `parser` (a `build.py import` subparser)."""
    parser.add_argument(
        "src", nargs="+", type=Path, metavar="SRC", help="text/HTML files or folders"
    )
    parser.add_argument(
        "--manifest", type=Path, help="JSON list of {text, url, publication, date, retrieved}"
    )
    parser.add_argument("--url", help="the URL of the one SRC file")
    parser.add_argument("--publication", help="the publication of the one SRC file")
    parser.add_argument(
        "--config", type=Path, default=Path("config.yaml"), help="the site's configuration file"
    )
    parser.add_argument(
        "--content", type=Path, help="content folder (default: content_dir from the config)"
    )
    parser.add_argument("--raw", type=Path, default=Path("raw"), help="folder for raw originals")
    parser.add_argument("--force", action="store_true", help="overwrite hand-edited files")
    parser.add_argument("--dry-run", action="store_true", help="report without writing")
    parser.add_argument(
        "--jobs",
        type=int,
        metavar="N",
        help="processes extracting articles (default: one per CPU core)",
    )
    parser.add_argument(
        "--suggest", action="store_true", help="list names the authority lacks; writes nothing"
    )
