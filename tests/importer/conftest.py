"""Shared fixtures: the repository's authority file and one extractor (spaCy loads once)."""

from __future__ import annotations

from pathlib import Path

import pytest

from clippings.authority import Authority, load_authority
from clippings.importer.extract import Extractor

REPO = Path(__file__).resolve().parents[2]
SHARED = REPO / ".." / "shared"


@pytest.fixture(scope="session")
def authority() -> Authority:
    return load_authority(REPO / "data" / "entities.yaml")


@pytest.fixture(scope="session")
def extractor(authority: Authority) -> Extractor:
    return Extractor(authority)
