"""Helpers shared by the import tests (tests/importer/, tests/reliability/): a site to import into, the command, a manifest."""

from __future__ import annotations

import argparse
import json
import shutil
from pathlib import Path

import pytest

from clippings.importer import cli
from clippings.importer.options import configure_parser
from tests.conftest import REPO


def import_site(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A site folder with the repository's data files, made the current folder."""
    shutil.copytree(REPO / "data", tmp_path / "data")
    monkeypatch.chdir(tmp_path)
    return tmp_path


def run_import(*argv: str) -> int:
    """`build.py import ARGV...` in this process; returns its exit code."""
    parser = argparse.ArgumentParser()
    configure_parser(parser)
    return cli.run(parser.parse_args(list(argv)))


def write_manifest(folder: Path) -> Path:
    """A manifest giving every text file in `folder` the publication "Wire"."""
    entries = [{"text": p.name, "publication": "Wire"} for p in sorted(folder.glob("*.txt"))]
    path = folder / "manifest.json"
    path.write_text(json.dumps(entries), encoding="utf-8")
    return path
