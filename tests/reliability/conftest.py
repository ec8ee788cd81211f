"""Writes docs/reliability.md when the whole reliability folder ran and passed."""

from __future__ import annotations

import pytest

from tests.reliability.report import write_if_complete


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    if exitstatus == 0:
        write_if_complete()


@pytest.fixture(scope="session")
def extractor():
    """One importer extractor for the session: loading spaCy takes seconds."""
    from clippings.authority import load_authority
    from clippings.importer.extract import Extractor
    from tests.conftest import REPO

    return Extractor(load_authority(REPO / "data" / "entities.yaml"))
