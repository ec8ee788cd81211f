"""No regular expression of `clippings/` backtracks super-linearly (issue 13, class 2).

Every pattern (see `regex_audit.collect`: module globals, inline calls, the YAML rule files and
the matchers built from data) meets lines made of its own pieces, spaces, digits and
punctuation. Screening at 1,000 characters finds each pattern's worst line; that line's time at
1k, 2k, 4k and 8k characters, each divided by the time a trivial pattern takes to scan the same
line, must not grow more than `GROWTH` times while growing at most steps: linear
matching keeps the ratio flat, quadratic multiplies it by 8 and exponential never finishes (a
2 s alarm stops it). No wall-clock limit
on the times themselves, so a busy machine does not fail the test.
"""

from __future__ import annotations

import itertools
import re
import signal
import time
from collections.abc import Iterator
from contextlib import contextmanager

import pytest

from clippings.importer.dates import stamp_date
from tests.reliability.regex_audit import Audited, adversarial_lines, collect
from tests.reliability.report import FIGURES

pytestmark = pytest.mark.timeout(120)  # each test may set its own
LENGTHS = (1000, 2000, 4000, 8000)
GROWTH = 4.0  # allowed growth of (pattern time / baseline time) from 1k to 8k characters
HANG = 2.0  # seconds for one call on a 1,000-character line: only exponential patterns get near
WORST_LINES = 2  # lines per pattern and method measured at every length
ATTEMPTS = 3  # measurements of a line's growth before it counts
BASELINE = re.compile(r"[\s\S]*")  # visits every character once

FIGURES.expected["bounds"] = FIGURES.expected.get("bounds", 0) + 2


class Hung(Exception):
    pass


@contextmanager
def alarm(seconds: float) -> Iterator[None]:
    """Interrupt a regular expression that runs away (CPython's engine checks for signals)."""

    def hung(*_: object) -> None:
        raise Hung

    previous = signal.signal(signal.SIGALRM, hung)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


def run(pattern: re.Pattern[str] | re.Pattern[bytes], method: str, line: str) -> None:
    subject: str | bytes = line
    if isinstance(pattern.pattern, bytes):  # a pattern over served bytes (serve.py)
        subject = line.encode("utf-8", "surrogatepass")
    if method == "search":
        for _ in pattern.finditer(subject):  # every match, as finditer, sub and split go on
            pass
    else:
        getattr(pattern, method)(subject)


def best_time(
    pattern: re.Pattern[str] | re.Pattern[bytes], method: str, line: str, repeats: int = 3
) -> float:
    best = float("inf")
    for _ in range(repeats):
        started = time.perf_counter()
        run(pattern, method, line)
        best = min(best, time.perf_counter() - started)
    return best


def ratio(pattern: re.Pattern[str], method: str, line: str) -> float:
    """The pattern's time over the baseline's on the same line, both measured now."""
    return best_time(pattern, method, line) / best_time(BASELINE, "fullmatch", line)


def growth(audited: Audited, method: str, variant: str) -> list[float]:
    """The time/baseline ratio at each length over the first; stops early once past GROWTH
    twice over (a quadratic pattern at 8k characters takes seconds). A pattern that takes less
    than the baseline, one pass over the line, counts as flat (its microsecond is noise)."""
    ratios: list[float] = []
    for length in LENGTHS:
        line = adversarial_lines(audited.pattern, length)[variant]
        ratios.append(ratio(audited.pattern, method, line))
        if ratios[-1] > 2 * GROWTH * ratios[0]:
            break
    if len(ratios) == len(LENGTHS) and ratios[-1] < 1:
        return [1.0] * len(ratios)
    return [r / ratios[0] for r in ratios]


def still_growing(grown: list[float]) -> bool:
    """Past GROWTH over the lengths, growing at two of the three doublings: super-linear work
    grows at every step, while a busy machine or a cache makes one step jump, and the cost of a
    longer line settling makes a plateau."""
    if len(grown) < len(LENGTHS):  # stopped early: grew fast
        return True
    steps = sum(later >= 1.4 * earlier for earlier, later in itertools.pairwise(grown))
    return grown[-1] > GROWTH and steps >= 2


def worst_lines(audited: Audited, method: str) -> list[str]:
    """The variants slowest at 1,000 characters; raises Hung for one that runs away."""
    times = {}
    for variant, line in adversarial_lines(audited.pattern, LENGTHS[0]).items():
        with alarm(HANG):
            try:
                times[variant] = best_time(audited.pattern, method, line, repeats=1)
            except Hung:
                raise Hung(f"{variant}: over {HANG} s at {len(line)} characters") from None
    return sorted(times, key=times.__getitem__, reverse=True)[:WORST_LINES]


@pytest.fixture(scope="module")
def patterns() -> list[Audited]:
    """Collected when the tests run, not on import: it loads the importer's matchers."""
    return collect()


def test_every_source_of_patterns_is_collected(patterns):
    labels = {audited.label.split(":")[0] for audited in patterns}
    assert {"rules", "matching.yaml", "entities"} <= labels
    modules = {label for label in labels if label.startswith("clippings.")}
    assert {"clippings.importer.dates", "clippings.importer.segment", "clippings.text"} <= modules
    assert len(patterns) > 150


@pytest.mark.timeout(900, method="thread")  # the test's own alarm takes SIGALRM
def test_no_pattern_backtracks_super_linearly(patterns):
    slow = []
    for audited in patterns:
        for method in sorted(audited.methods):
            try:
                variants = worst_lines(audited, method)
            except Hung as error:
                slow.append(f"{audited.label} {audited.pattern.pattern[:80]!r} {method}: {error}")
                continue
            for variant in variants:
                grown = growth(audited, method, variant)
                for _ in range(ATTEMPTS - 1):  # measured again before blaming: a shared machine
                    if not still_growing(grown):
                        break
                    grown = min(grown, growth(audited, method, variant), key=lambda g: g[-1])
                if still_growing(grown):
                    steps = ", ".join(f"{g:.1f}" for g in grown)
                    slow.append(
                        f"{audited.label} {audited.pattern.pattern[:80]!r} {method} on "
                        f"{variant[:60]}: time/baseline grew {steps} over {LENGTHS}"
                    )
    assert not slow, "\n".join(slow)
    sources = {
        "module constants": sum(a.label.startswith("clippings.") for a in patterns),
        "inline in functions": sum(a.label.startswith("clippings/") for a in patterns),
        "boilerplate.yaml rules": sum(a.label.startswith("rules:") for a in patterns),
        "matching.yaml and the matchers built from data": sum(
            a.label.startswith(("matching.yaml", "entities:")) for a in patterns
        ),
    }
    lines = sum(len(adversarial_lines(a.pattern, LENGTHS[0])) for a in patterns)
    FIGURES.bounds["regex"] = (
        f"regular expressions: {len(patterns)} distinct patterns ("
        + ", ".join(f"{count} {source}" for source, count in sources.items())
        + f") met {lines:,} adversarial lines made of their own pieces, spaces, digits and "
        f"punctuation; on the worst, time over a trivial scan's never grew steadily past "
        f"{GROWTH:.0f}-fold from 1,000 to 8,000 characters, and none ran away"
    )


@pytest.mark.timeout(60, method="thread")
@pytest.mark.parametrize("times", [10, 100, 1000])
def test_the_issues_date_line_is_fast(times):
    # "March 26, 2018", "10:00" ten times and "Read more": minutes before the fix.
    line = "March 26, 2018" + " 10:00" * times + " Read more"
    with alarm(HANG):
        assert stamp_date(line) is None
    assert stamp_date("March 26, 2018" + " 10:00" * times) is not None
    FIGURES.bounds["regex-date"] = (
        'the issue\'s date line ("March 26, 2018", "10:00" 10, 100 and 1,000 times, "Read '
        'more"): refused as a date stamp at once (it took minutes with ten)'
    )
