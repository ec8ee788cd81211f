"""Shared fixtures: paths of the repository, the shared inputs and the small fixture site."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from clippings.config import Config, load_config

REPO = Path(__file__).resolve().parent.parent
SHARED = REPO.parent / "shared"
FIXTURE_SITE = REPO / "tests" / "fixtures" / "site"


@pytest.fixture
def fixture_site(tmp_path: Path) -> Path:
    """A writable copy of the fixture site."""
    target = tmp_path / "site"
    shutil.copytree(FIXTURE_SITE, target)
    return target


@pytest.fixture
def fixture_config(fixture_site: Path) -> Config:
    return load_config(fixture_site / "config.yaml")


def write_article(content_dir: Path, name: str, front: str, body: str = "Body text.\n") -> Path:
    """Write a content file from front matter text (without fences) and a body."""
    path = content_dir / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(f"---\n{front.strip()}\n---\n\n{body}", encoding="utf-8")
    return path
