"""Term timelines: per month up to three years, per year beyond, empty periods included."""

from __future__ import annotations

import datetime as dt

from clippings.charts import CHART_HEIGHT, timeline
from clippings.content import Article


def dated(*dates: dt.date | None) -> list[Article]:
    return [
        Article(
            source="x.md", title="T", date=d, publication="P", slug=f"s{i}", body="", body_line=1
        )
        for i, d in enumerate(dates)
    ]


def test_monthly_bars_include_empty_months_and_scale_to_the_peak():
    chart = timeline(dated(dt.date(2018, 1, 5), dt.date(2018, 3, 1), dt.date(2018, 3, 9), None))
    assert chart is not None and chart.unit == "month"
    assert [(b.label, b.count) for b in chart.bars] == [
        ("2018-01", 1),
        ("2018-02", 0),
        ("2018-03", 2),
    ]
    assert chart.bars[2].height == CHART_HEIGHT and chart.bars[0].height == CHART_HEIGHT / 2


def test_long_spans_are_drawn_per_year_and_undated_only_gives_none():
    chart = timeline(dated(dt.date(2001, 1, 1), dt.date(2010, 6, 1)))
    assert chart is not None and chart.unit == "year"
    assert (chart.first, chart.last, len(chart.bars)) == ("2001", "2010", 10)
    assert timeline(dated(None)) is None
