import datetime as dt

from clippings.importer.dates import juche_date, parse_iso, stamp_date, url_date


def test_juche_date():
    assert juche_date("... of Russia. -0- (Juche111.10.7.)") == dt.date(2022, 10, 7)


def test_date_stamp_lines():
    assert stamp_date("August 12, 2016 / 1:19 PM / a year ago") == dt.date(2016, 8, 12)
    assert stamp_date("February 19, 2014") == dt.date(2014, 2, 19)
    assert stamp_date("Updated: 3 March 2019 10:15 GMT") == dt.date(2019, 3, 3)


def test_dates_inside_sentences_or_without_year_are_not_stamps():
    assert stamp_date("Two jets train, Thursday, March 24, 2016. The jet is fast.") is None
    assert stamp_date("He spoke on Tuesday, March 24.") is None


def test_url_dates():
    assert url_date("http://www.itv.com/news/2017-04-20/russia-declares/") == dt.date(2017, 4, 20)
    assert url_date("http://www.euronews.com/2016/10/21/russia-warships") == dt.date(2016, 10, 21)
    assert url_date("http://x.com/view.php?mp=23&ud=20200509000056") == dt.date(2020, 5, 9)
    assert url_date("http://x.com/article/1739477014-f-22s") is None


def test_iso_values():
    assert parse_iso("2018-03-20T10:00:00+00:00") == dt.date(2018, 3, 20)
    assert parse_iso("yesterday") is None
