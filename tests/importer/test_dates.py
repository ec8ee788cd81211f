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


def test_other_outlets_date_stamps():
    forms = {
        "Last modified on Wed 29 Nov 2017 05.40 GMT": dt.date(2017, 11, 29),
        "2019/03/15 18:20": dt.date(2019, 3, 15),
        "Date 24.04.2019": dt.date(2019, 4, 24),
        "Published On 20 Mar 2022": dt.date(2022, 3, 20),
        "Mar. 20, 2018 5:01 p.m. ET": dt.date(2018, 3, 20),
        "2018-03-20T10:15:00+09:00": dt.date(2018, 3, 20),
        "Updated 0412 GMT (1212 HKT) July 8, 2018": dt.date(2018, 7, 8),
        "Feb 12,2018": dt.date(2018, 2, 12),
        "Nov 14, 2018 - 21:05 | World, All": dt.date(2018, 11, 14),
        "07/27/2017 08:13 PM EDT": dt.date(2017, 7, 27),
        "27/07/2017": dt.date(2017, 7, 27),
    }
    assert {line: stamp_date(line) for line in forms} == forms
    # Day and month order is ambiguous with slashes: not guessed.
    assert stamp_date("02/09/2020 - 18:14") is None
