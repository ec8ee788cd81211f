"""Problems found in user input, reported all at once as `path:line: message`."""

from __future__ import annotations

import reprlib
from dataclasses import dataclass

_SHORT = reprlib.Repr()
_SHORT.maxstring = _SHORT.maxother = 80
_SHORT.maxlevel = 1  # nested lists show as [[...], [...], ...]


@dataclass(frozen=True, order=True)
class Problem:
    """One thing wrong with one input file, pointing at the line when known."""

    path: str
    line: int | None
    message: str
    warning: bool = False

    def __str__(self) -> str:
        label = "warning: " if self.warning else ""
        if self.line is None:
            return f"{self.path}: {label}{self.message}"
        return f"{self.path}:{self.line}: {label}{self.message}"


class BuildError(Exception):
    """Raised with every problem of a stage, so the user fixes them in one pass."""

    def __init__(self, problems: list[Problem]) -> None:
        self.problems = sorted(problems, key=lambda p: (p.path, p.line or 0, p.message))
        super().__init__("\n".join(str(p) for p in self.problems))


def shown(value: object) -> str:
    """A value quoted in a message, cut short: hostile input (a YAML alias bomb, a 50 MB string)
    must not turn into a message of hundreds of megabytes."""
    return _SHORT.repr(value)
