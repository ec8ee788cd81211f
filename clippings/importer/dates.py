"""Publication dates stated by a page: date-stamp lines, KCNA's Juche dates, and URLs.

Only explicit dates count: a weekday ("on Tuesday"), a day and month without a year, or a date
inside a sentence (often a photo date in a caption) is never used.
"""

from __future__ import annotations

import datetime as dt
import re

_MONTHS = {
    name: number
    for number, names in enumerate(
        [
            ("january", "jan"),
            ("february", "feb"),
            ("march", "mar"),
            ("april", "apr"),
            ("may",),
            ("june", "jun"),
            ("july", "jul"),
            ("august", "aug"),
            ("september", "sep", "sept"),
            ("october", "oct"),
            ("november", "nov"),
            ("december", "dec"),
        ],
        start=1,
    )
    for name in names
}
_MONTH = r"(?P<month>" + "|".join(sorted(_MONTHS, key=len, reverse=True)) + r")\.?"
_DAY = r"(?P<day>\d{1,2})(?:st|nd|rd|th)?"
_YEAR = r"(?P<year>(?:19|20)\d{2})"
_TEXT_DATES = [
    # "March 26th, 2018"; a dotted month may touch its day: "Sep.19,2018".
    re.compile(rf"\b{_MONTH}(?:\s+|(?<=\.)){_DAY}(?:,\s*|\s+){_YEAR}\b", re.IGNORECASE),
    re.compile(rf"\b{_DAY}\s+{_MONTH},?\s+{_YEAR}\b", re.IGNORECASE),
    # ISO "2018-03-20" (also inside "2018-03-20T10:00Z"), Yonhap's "2019/03/15".
    re.compile(r"\b(?P<year>(?:19|20)\d{2})([-/.])(?P<month>\d{1,2})\2(?P<day>\d{1,2})(?!\d)"),
    # European "24.04.2019" (dots only: "04/05/2019" is ambiguous between day and month).
    re.compile(r"\b(?P<day>\d{1,2})\.(?P<month>\d{1,2})\.(?P<year>(?:19|20)\d{2})\b"),
    # Slashes only where a number above 12 tells the day: "07/27/2017", "27/07/2017".
    re.compile(r"\b(?P<month>0?[1-9]|1[0-2])/(?P<day>1[3-9]|2\d|3[01])/(?P<year>(?:19|20)\d{2})\b"),
    re.compile(r"\b(?P<day>1[3-9]|2\d|3[01])/(?P<month>0?[1-9]|1[0-2])/(?P<year>(?:19|20)\d{2})\b"),
    # A two-digit year before a 12-hour clock, the US order: "07/16/18 05:22 PM EDT".
    re.compile(
        r"\b(?P<month>0?[1-9]|1[0-2])/(?P<day>0?[1-9]|[12]\d|3[01])/(?P<year>\d{2})"
        r"(?=\s+\d{1,2}:\d{2}\s*(?i:[ap]\.?m\b))"
    ),
]
# What may surround the date on a date-stamp line: times, weekdays, "Updated", "a year ago"...
# Written so that no line can be read two ways: separators are taken whole (possessive; "(" is
# one only when no place in brackets follows), each token is atomic and a word must end where
# its letters end. The first version backtracked exponentially: "March 26, 2018" followed by
# ten "10:00" and "Read more" took minutes ("10:00" is one time, or two numbers and a colon).
_STAMP_SEPARATORS = r"(?:[\s/|,·•.:)—–@-]|\((?![a-z][a-z .-]{1,20}\)))*+"
_STAMP_DOMAINS = r"com|net|org|co|ph|my|pk|id|th|tw|ie|by|ir"
# Tokens that may touch what follows: "10:41am", "5h", "p.m.EDT".
_STAMP_GLUED = (
    r"t?\d{1,2}[:.]\d{2}(?::\d{2}(?:\.\d+)?)?z?(?![hmdw](?![a-z]))|[+-]\d{2}:?\d{2}"
    r"|(?<=gmt|utc)[+-]\d{1,2}(?![hmdw](?![a-z]))|\d+(?:[hmdw](?![a-z]))?|a\.m\.|p\.m\."
)
_STAMP_WORDS = (
    r"am|pm|a|an|ago|years?|months?"
    r"|weeks?|days?|hours?|mins?|minutes?|updated?|published|posted|filed|issued|modified|edited|write|written|date|dated|time|uhr"
    r"|last|first|on|at|by|gmt|utc|uk|[ecmp][sd]?t|bst|cet|cest|kst|jst|hkt|msk|ist|sgt|aest|aedt|awst|acst|nzst|nzdt|gst|ast|eet|eest|wet|west|cat|eat|sast|pkt|pht|ict|wib|wita|wit|myt|irst|trt|monday|tuesday|wednesday|thursday|friday|saturday|sunday"
    r"|mon|tue|wed|thu|fri|sat|sun"
    # A print page's menu ("- Page 1 News List Print").
    r"|page(?=\s\d)|news\slist|print"
)
_STAMP_FILLER = re.compile(
    rf"{_STAMP_SEPARATORS}(?:(?>{_STAMP_GLUED}"
    rf"|(?:{_STAMP_WORDS})(?![a-z]|\.(?:{_STAMP_DOMAINS}))"
    # The site's domain ("INQUIRER.net /"); the place whose clock is given ("at 10:41 am (Paris)").
    rf"|[a-z][\w-]*\.(?:{_STAMP_DOMAINS})|\([a-z][a-z .-]{{1,20}}\)){_STAMP_SEPARATORS})*+",
    re.IGNORECASE,
)
_SECTION_LABEL = re.compile(r"[A-Z][\w&]*(?:,? [A-Z&][\w&]*){0,3}")
_PLACE_LABEL = re.compile(r"[A-Z][a-z]+")
# A dateline closing a stamp line: "Updated - October 18, 2024 02:21 pm IST - SEOUL".
_TRAILING_DATELINE = re.compile(r"\s[-–—]\s+[A-Z][A-Z'.-]+(?: [A-Z][A-Z'.-]+){0,2}$")
# KCNA ends dispatches with "(Juche111.10.7.)": Juche year 1 is 1912.
_JUCHE = re.compile(r"\bJuche\s?(?P<year>\d{1,3})\.(?P<month>\d{1,2})\.(?P<day>\d{1,2})\b")
_JUCHE_OFFSET = 1911
_URL_DATES = [
    re.compile(r"(?<!\d)(?P<year>(?:19|20)\d{2})[/-](?P<month>\d{1,2})[/-](?P<day>\d{1,2})(?!\d)"),
    re.compile(r"[?&](?:ud|date|d)=(?P<year>(?:19|20)\d{2})(?P<month>\d{2})(?P<day>\d{2})"),
    re.compile(r"/(?P<year>(?:19|20)\d{2})(?P<month>\d{2})(?P<day>\d{2})(?:/|-|_|\d{6}|$)"),
]


def _make(year: str | int, month: str | int, day: str | int) -> dt.date | None:
    month_number = _MONTHS.get(str(month).lower().rstrip(".")) or int(month)
    year_number = int(year) + (2000 if len(str(year)) == 2 else 0)
    try:
        return dt.date(year_number, month_number, int(day))
    except ValueError:
        return None


def _first(patterns: list[re.Pattern[str]], text: str) -> tuple[dt.date, re.Match[str]] | None:
    for pattern in patterns:
        for match in pattern.finditer(text):
            date = _make(match["year"], match["month"], match["day"])
            if date is not None:
                return date, match
    return None


def stamp_date(line: str) -> dt.date | None:
    """The date of a date-stamp line ("August 12, 2016 / 1:19 PM / a year ago"), else None.

    The first of several dates on the line is the one given (published before updated).

    A section label after a bar is allowed: "Nov 14, 2018 - 21:05 | World, All", and so is a
    closing dateline after a dash ("October 18, 2024 02:21 pm IST - SEOUL").
    """
    stamp, bar, label = line.rpartition("|")
    if bar and stamp and _SECTION_LABEL.fullmatch(label.strip()):
        line = stamp
    # A one-word place or section before a bar: "Jakarta | Sat, February 18, 2017 | 03:41 pm".
    label, bar, stamp = line.partition("|")
    if bar and stamp and _PLACE_LABEL.fullmatch(label.strip()):
        line = stamp
    line = _TRAILING_DATELINE.sub("", line)
    found = _first(_TEXT_DATES, line)
    if found is None:
        return None
    date, match = found
    rest = line[: match.start()] + " " + line[match.end() :]
    # A second stamp on the line ("Filed on June 12, 2018 | Last updated on June 12, 2018 at
    # 11:32 PM", "Published: 06:14 EDT, 24 May 2018 | Updated: 10:33 EDT, 24 May 2018").
    for pattern in _TEXT_DATES:
        rest = pattern.sub(" ", rest)
    return date if _STAMP_FILLER.fullmatch(rest) else None


def juche_date(text: str) -> dt.date | None:
    for match in _JUCHE.finditer(text):
        date = _make(int(match["year"]) + _JUCHE_OFFSET, match["month"], match["day"])
        if date is not None:
            return date
    return None


def url_date(url: str | None) -> dt.date | None:
    if not url:
        return None
    found = _first(_URL_DATES, url)
    return found[0] if found else None


def parse_iso(value: object) -> dt.date | None:
    """A manifest or metadata date ("2018-03-20" or a longer ISO timestamp), else None."""
    if isinstance(value, dt.date):
        return value
    if not isinstance(value, str):
        return None
    match = re.match(r"\s*(\d{4})-(\d{1,2})-(\d{1,2})", value)
    return _make(*match.groups()) if match else None
