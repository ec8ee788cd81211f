"""Shared fixtures: the repository's authority file, one extractor (spaCy loads once) and a
site to import into."""

from __future__ import annotations

from pathlib import Path

import pytest

from clippings.authority import Authority, load_authority
from clippings.importer.extract import Extractor
from tests.importing import import_site

REPO = Path(__file__).resolve().parents[2]
SHARED = REPO / ".." / "shared"


@pytest.fixture(scope="session")
def authority() -> Authority:
    return load_authority(REPO / "data" / "entities.yaml")


@pytest.fixture(scope="session")
def extractor(authority: Authority) -> Extractor:
    return Extractor(authority)


@pytest.fixture
def site(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    return import_site(tmp_path, monkeypatch)
