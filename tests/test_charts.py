"""Timelines: per month up to three years, per year beyond, empty periods included; ticks at
round periods; the counts a page carries in its context."""

from __future__ import annotations

import datetime as dt

from clippings.charts import CHART_HEIGHT, activity, timeline
from clippings.content import Article


def dated(*dates: dt.date | None) -> list[Article]:
    return [
        Article(
            source="x.md", title="T", date=d, publication="P", slug=f"s{i}", body="", body_line=1
        )
        for i, d in enumerate(dates)
    ]


def test_monthly_bars_include_empty_months_and_scale_to_the_peak():
    counts = activity(dated(dt.date(2018, 1, 5), dt.date(2018, 3, 1), dt.date(2018, 3, 9), None))
    assert counts == [("2018-01", 1), ("2018-02", 0), ("2018-03", 2)]
    chart = timeline(counts)
    assert chart is not None and chart.unit == "month"
    assert chart.bars[2].height == CHART_HEIGHT and chart.bars[0].height == CHART_HEIGHT / 2
    assert (chart.total, chart.peak, chart.busiest.label) == (3, 2, "2018-03")
    assert [t.label for t in chart.ticks] == ["2018-01", "2018-02", "2018-03"]


def test_long_spans_are_drawn_per_year_with_round_ticks_and_undated_only_gives_none():
    chart = timeline(activity(dated(dt.date(2001, 1, 1), dt.date(2019, 6, 1))))
    assert chart is not None and chart.unit == "year"
    assert (chart.first, chart.last, len(chart.bars)) == ("2001", "2019", 19)
    assert [t.label for t in chart.ticks] == ["2005", "2010", "2015"]
    assert chart.ticks[0].percent == round(100 * 4 / 19, 2)
    assert activity(dated(None)) == [] and timeline([]) is None


def test_a_year_page_spans_the_whole_year_with_quarterly_ticks():
    counts = activity(dated(dt.date(2018, 5, 2)), ((2018, 1), (2018, 12)))
    assert len(counts) == 12 and dict(counts)["2018-05"] == 1
    chart = timeline(counts)
    assert chart is not None
    assert [t.label for t in chart.ticks] == ["2018-01", "2018-04", "2018-07", "2018-10"]


def test_three_years_of_months_are_drawn_monthly_and_one_month_more_per_year():
    three_years = activity(dated(dt.date(2016, 2, 1), dt.date(2019, 1, 31)))
    assert len(three_years) == 36 and three_years[0] == ("2016-02", 1)
    assert activity(dated(dt.date(2016, 1, 1), dt.date(2019, 1, 1))) == [
        ("2016", 1),
        ("2017", 0),
        ("2018", 0),
        ("2019", 1),
    ]
