"""Writes docs/reliability.md when the whole reliability folder ran and passed."""

from __future__ import annotations

import pytest

from tests.reliability.report import write_if_complete


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    if exitstatus == 0:
        write_if_complete()
