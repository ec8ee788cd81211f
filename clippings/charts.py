"""Charts drawn at build time: timelines of articles per month or year, laid out for inline SVG.

`activity` counts articles per period (per month up to three years, per year beyond); pages
carry those counts in their context, so a page's fingerprint covers what its chart shows.
`timeline` lays the counts out: bar geometry, axis ticks at round periods, the peak. The
template draws them (a theme can restyle or replace the chart).
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

from clippings.content import Article

CHART_WIDTH = 600
CHART_HEIGHT = 80
_MONTHLY_UP_TO = 36  # months; longer spans are drawn per year
_MAX_TICKS = 8


@dataclass(frozen=True)
class Bar:
    label: str  # "2018-03" or "2018"
    total: int  # articles in the period
    x: float
    y: float
    width: float
    height: float

    @property
    def count(self) -> int:
        """`total` by its older name, for sites' own templates (docs/templates.md tells why the
        theme reads `total`)."""
        return self.total


@dataclass(frozen=True)
class Tick:
    label: str  # "2018-03" or "2018": the period the tick marks the start of
    x: float  # in chart units
    percent: float  # the same, as a share of the width (for labels set in HTML)


@dataclass(frozen=True)
class Timeline:
    unit: str  # "month" or "year"
    bars: list[Bar]
    ticks: list[Tick]
    peak: int
    total: int
    busiest: Bar  # the first period with the peak count
    width: int = CHART_WIDTH
    height: int = CHART_HEIGHT

    @property
    def first(self) -> str:
        return self.bars[0].label

    @property
    def last(self) -> str:
        return self.bars[-1].label


def _months(first: tuple[int, int], last: tuple[int, int]) -> list[tuple[int, int]] | None:
    """Every month from `first` to `last`, or None when they are too many to draw monthly (not
    listed: a term's chart at 10,000 articles can span 300 months, and there are 2,000 terms)."""
    if (last[0] - first[0]) * 12 + last[1] - first[1] >= _MONTHLY_UP_TO:
        return None
    (year, month), months = first, []
    while (year, month) <= last:
        months.append((year, month))
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)
    return months


def activity(
    articles: list[Article], span: tuple[tuple[int, int], tuple[int, int]] | None = None
) -> list[tuple[str, int]]:
    """Articles per month or year, empty periods included (from `span`'s first to last month
    when given, as for a year page); [] when no article is dated."""
    dates = [(a.date.year, a.date.month) for a in articles if a.date]
    if not dates:
        return []
    first, last = span or (min(dates), max(dates))
    months = _months(first, last)
    if months is not None:
        periods = [_period(y, m) for y, m in months]
        keys = [_period(y, m) for y, m in dates]
    else:
        periods = [_period(y) for y in range(first[0], last[0] + 1)]
        keys = [_period(y) for y, _ in dates]
    counts = dict.fromkeys(periods, 0)
    for key in keys:
        counts[key] += 1
    return list(counts.items())


@functools.cache
def _period(year: int, month: int | None = None) -> str:
    # One string per period, shared by every chart: the plan holds ~35,000 of them at 10,000
    # articles, and each copy would be one more object for the saved engine's pickler.
    return str(year) if month is None else f"{year}-{month:02d}"


def _tick_step(periods: int, unit: str) -> int:
    """Ticks every 1, 2, 3, 5, 10... periods (whole years for months), at most _MAX_TICKS."""
    steps = (1, 3, 6, 12, 24, 36, 60) if unit == "month" else (1, 2, 5, 10, 20, 25, 50, 100)
    return next((s for s in steps if periods / s <= _MAX_TICKS), steps[-1])


def timeline(counts: list[tuple[str, int]]) -> Timeline | None:
    """Bars, ticks and peak of `activity` counts; None when there is nothing to draw."""
    if not counts:
        return None
    unit = "month" if "-" in counts[0][0] else "year"
    peak = max(count for _, count in counts)
    slot = CHART_WIDTH / len(counts)
    bars = []
    for index, (label, count) in enumerate(counts):
        height = round(CHART_HEIGHT * count / peak, 1) if peak else 0
        bars.append(
            Bar(
                label,
                count,
                round(index * slot, 1),
                round(CHART_HEIGHT - height, 1),
                round(max(slot * 0.8, 1), 1),
                height,
            )
        )
    step = _tick_step(len(counts), unit)
    ticks = [
        Tick(label, round(index * slot, 1), round(100 * index / len(counts), 2))
        for index, (label, _) in enumerate(counts)
        if _on_step(label, unit, step)
    ]
    busiest = next(bar for bar in bars if bar.total == peak)
    return Timeline(unit, bars, ticks, peak, sum(c for _, c in counts), busiest)


def _on_step(label: str, unit: str, step: int) -> bool:
    """Ticks fall on round periods: January, April... for months; years divisible by step."""
    if unit == "year":
        return int(label) % step == 0
    year, month = (int(part) for part in label.split("-"))
    return ((year * 12 + month - 1) % step) == 0
