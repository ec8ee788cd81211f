"""Charts drawn at build time: the data of a term's timeline, laid out for an inline SVG.

The template draws the bars (so a theme can restyle or replace them); this module only counts
articles per month (per year for spans over three years) and computes each bar's geometry.
"""

from __future__ import annotations

from dataclasses import dataclass

from clippings.content import Article

CHART_WIDTH = 600
CHART_HEIGHT = 80
_MONTHLY_UP_TO = 36  # months; longer spans are drawn per year


@dataclass(frozen=True)
class Bar:
    label: str  # "2018-03" or "2018"
    count: int
    x: float
    y: float
    width: float
    height: float


@dataclass(frozen=True)
class Timeline:
    unit: str  # "month" or "year"
    bars: list[Bar]
    peak: int
    width: int = CHART_WIDTH
    height: int = CHART_HEIGHT

    @property
    def first(self) -> str:
        return self.bars[0].label

    @property
    def last(self) -> str:
        return self.bars[-1].label


def _months(first: tuple[int, int], last: tuple[int, int]) -> list[tuple[int, int]]:
    (year, month), months = first, []
    while (year, month) <= last:
        months.append((year, month))
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)
    return months


def timeline(articles: list[Article]) -> Timeline | None:
    """Articles per month or year, empty periods included; None when no article is dated."""
    dates = [(a.date.year, a.date.month) for a in articles if a.date]
    if not dates:
        return None
    months = _months(min(dates), max(dates))
    if len(months) <= _MONTHLY_UP_TO:
        unit, periods = "month", [f"{y}-{m:02d}" for y, m in months]
        keys = [f"{y}-{m:02d}" for y, m in dates]
    else:
        unit = "year"
        periods = [str(y) for y in range(min(dates)[0], max(dates)[0] + 1)]
        keys = [str(y) for y, _ in dates]
    counts = dict.fromkeys(periods, 0)
    for key in keys:
        counts[key] += 1
    peak = max(counts.values())
    slot = CHART_WIDTH / len(periods)
    bars = []
    for index, (label, count) in enumerate(counts.items()):
        height = round(CHART_HEIGHT * count / peak, 1)
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
    return Timeline(unit, bars, peak)
