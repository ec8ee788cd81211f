"""Split a scraped page into title, dek, credits, captions, body and boilerplate lines.

Every non-blank line lands in exactly one group. The body runs from the first paragraph of the
article proper to its last one; whatever lies between that is not a caption, credit or known
chrome is body, so nothing of the article is dropped.
"""

from __future__ import annotations

import datetime as dt
import re
from collections import Counter
from dataclasses import dataclass, field

from clippings.importer.dates import stamp_date
from clippings.importer.rules import Rules

_WORD = re.compile(r"[\w'’.-]+")
_GLUED_WORDS = re.compile(r"[a-z][A-Z]")
_SENTENCE_END = re.compile(r"[.!?:;\"”’')\]]$")
# A finished sentence, perhaps closing a quotation: not "... destined for the 'front line'".
_FINISHED = re.compile(r"[.!?:;][\"”’')\]]*$")
_SMALL_WORDS = frozenset(
    [
        "a",
        "an",
        "and",
        "as",
        "at",
        "but",
        "by",
        "for",
        "from",
        "in",
        "into",
        "of",
        "on",
        "or",
        "the",
        "to",
        "vs",
        "with",
        "over",
        "after",
        "before",
    ]
)
# "MOSCOW, March 20. /TASS/. ...", "SEOUL, South Korea (AP) — ...", "Tokyo (CNN)US ...".
_DATELINE = re.compile(
    r"[A-Z][A-Z'.-]+(?: [A-Z][A-Z'.-]+)*(?:,| ?[—–]| --| \()|[A-Z][\w'.-]+(?: [A-Z][\w'.-]+)* \([A-Z][\w ]{1,20}\)"
)
# "MOSCOW: Russian Foreign Minister …": a dateline with a colon.
_COLON_DATELINE = re.compile(r"[A-Z][A-Z'.-]+(?: [A-Z][A-Z'.-]+){0,2}: ")
_LONE_DATELINE = re.compile(r"[A-Z][A-Z'.-]+(?: [A-Z][A-Z'.-]+){0,2}(?:, [A-Z][\w .]+)?\s*[—–-]*")
# A sentence addressed to the reader ("Thank you for being with us!") outside quotes.
_READER_ADDRESS = re.compile(r"\b(?:you|your|us|our|we)\b", re.IGNORECASE)
_BIO = re.compile(
    r"(?P<name>[A-Z][\w'’.-]+(?: [A-Z][\w'’.-]+){1,3}) (?:is|was|has|covers|writes|reports)\b"
)
_QUOTED = re.compile(r"[\"“][^\"”]*[\"”]")
# A name alone between the headline and the body is the byline ("Oleksiy Sorokin").
_BARE_BYLINE = re.compile(r"[A-Z][\w'’.-]+(?: [A-Z][\w'’.-]+){1,2}")
# Kinds of line that can follow a dek: body text, or what closes an article's header.
_HEADER_CLOSERS = frozenset({"text", "credit", "duplicate", "stamp", "caption"})
# Outlets joined by slashes, alone on a line: "ABC/Reuters", "CNN / AP".
_SLASHED_CREDIT = re.compile(r"(?:[—–-]\s*)?[A-Z][\w&.-]*(?:\s?/\s?[A-Z][\w&.-]*){1,3}")
# A paragraph this long after a footer line shows the article goes on.
_LONG_PARAGRAPH_WORDS = 25
# A headline is at most this long; a longer first line is the article's first paragraph.
_MAX_TITLE_WORDS = 25
# A headline fused with its dek is at most this long (the split tries every word: quadratic).
_MAX_FUSED_WORDS = 120
# Header lines compared pairwise for a headline repeated with the site's name.
_MAX_HEADER_PAIRS = 200
# Boxes of chrome around a few article-like lines: a summary ("Key Points" and its bullets,
# closed by a caption or chrome) and a newsletter form ("Sign up for the newsletter ...", its
# pitch, then "Email (required)" or "Sign Up").
_SUMMARY_BOX = re.compile(
    r"(?:key points|key takeaways|story highlights|highlights|at a glance|in brief)\s*:?",
    re.IGNORECASE,
)
_FORM_OPENER = re.compile(r"(?:sign up|subscribe)\b.*\bnewsletters?\b.*", re.IGNORECASE)
_FORM_FIELD = re.compile(
    r"(?:your )?e-?mail(?: address)?\s*(?:\((?:required|optional)\))?\*?|sign ?up|subscribe"
    r"|(?:enter|type) your e-?mail.*",
    re.IGNORECASE,
)
_BOX_LINES = 4
_BOX_LINE_WORDS = 40


@dataclass
class Segments:
    """The groups of one page, each a list of stripped raw lines in document order."""

    title: str | None = None
    title_line: str | None = None
    dek: str | None = None
    credits: list[str] = field(default_factory=list)
    captions: list[str] = field(default_factory=list)
    caption_places: list[int] = field(default_factory=list)  # body paragraphs before each caption
    body: list[str] = field(default_factory=list)
    boilerplate: list[str] = field(default_factory=list)
    stamp_dates: list[dt.date] = field(default_factory=list)


def _words(line: str) -> list[str]:
    return _WORD.findall(line)


def is_prose(line: str) -> bool:
    """A sentence-like line rather than a label: long enough, or a short finished sentence."""
    count = len(_words(line))
    return count >= 7 or (count >= 4 and bool(_SENTENCE_END.search(line)))


def is_paragraph(line: str) -> bool:
    """A line that can only be article text: a long finished sentence."""
    return len(_words(line)) >= 12 and bool(_SENTENCE_END.search(line))


def _ends_body(line: str) -> bool:
    """The last body line is a finished sentence or a long line; teaser headlines are neither."""
    return is_prose(line) and (bool(_SENTENCE_END.search(line)) or len(_words(line)) >= 15)


def _trailers(lines: list[str], kinds: list[str], bylines: str) -> list[bool]:
    """Which lines are a writer bio or a reader appeal after the article, which is chrome.

    A bio opens with a name from a byline ("Ankit Panda is Senior Editor at The Diplomat."); an
    appeal addresses the reader ("Dear readers! Thank you for being with us!") after chrome or
    after another trailer line. One pass, front to back (a recursion over the lines ran out of
    stack on an article of 1,100 paragraphs).
    """
    trailer = [False] * len(lines)
    for i, line in enumerate(lines):
        if kinds[i] != "text":
            continue
        bio = _BIO.match(line)
        if bio and bio["name"] in bylines:
            trailer[i] = True
            continue
        after_chrome = i > 0 and (kinds[i - 1] == "boilerplate" or trailer[i - 1])
        trailer[i] = after_chrome and bool(_READER_ADDRESS.search(_QUOTED.sub("", line)))
    return trailer


def _body_end(lines: list[str], kinds: list[str], body_start: int) -> int | None:
    """The last finished sentence of the article, trailing bios and appeals left out."""
    bylines = " ".join(line for line, kind in zip(lines, kinds, strict=True) if kind == "credit")
    trailer = _trailers(lines, kinds, bylines)
    for i in range(len(lines) - 1, body_start - 1, -1):
        if kinds[i] == "text" and _ends_body(lines[i]) and not trailer[i]:
            return i
    return None


# A figure in a results table: a score, time, place, count or sum ("2-0", "3:31.526", "(31st)",
# "15,150", "$233,600").
_FIGURE = re.compile(r"(?<![\w])\$?\d+(?:[-:.,/]\d+)*(?:st|nd|rd|th|s)?(?![\w])")
_SIGN_OFF = re.compile(r"[-—–]")  # "-- Dublin Newsroom +353 1 676 9779", "— Reuters"
# Prose words a results line may hold ("Marion Clignet (France) 3:31.674", "2 seconds behind",
# "Attendance: 15,150"); a teaser headline with a number ("5 things to know about …") has more.
_MAX_RESULT_WORDS = 3
_MONTH = re.compile(r"\b(?:Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec)[a-z]*\b")
_YEAR = re.compile(r"\b(?:19|20)\d\d\b")
_LABELLED_FIGURE = re.compile(r"[A-Z][\w' ]{0,40}?(?::| -) ?\$?\d[\d,.]*\.?")
_MAX_HEADING_WORDS = 10


def _is_result_line(line: str) -> bool:
    """A row of a results table or list: figures among names, hardly any prose, and no date
    ("Published in Dawn, September 24th, 2016" is a stamp)."""
    prose = [w for w in _words(line) if w.islower() and w not in _SMALL_WORDS]
    dated = _MONTH.search(line) and _YEAR.search(line)
    return bool(_FIGURE.search(line)) and len(prose) <= _MAX_RESULT_WORDS and not dated


def _results_end(lines: list[str], kinds: list[str], body_end: int) -> int:
    """The last line of the results that follow the article's last sentence, or `body_end`
    when none do. Results are article text, not chrome: a run of text lines that are results
    rows ("Romania - Cosmin Contra (31st)", "3. Lucy Tyler-Sharman (Australia) 3:31.830") or
    short headings over them ("Scorers:"), stopped by chrome, a credit or a sign-off ("--
    London Newsroom +44 171 542 8062"). One row alone counts only under a heading or as a
    labelled figure ("Attendance: 200"); "Comments (41) Closed" is chrome."""
    end, rows, headed = body_end, 0, False
    for i in range(body_end + 1, len(lines)):
        line = lines[i]
        if kinds[i] != "text" or _SIGN_OFF.match(line) or "@" in line:
            break
        if _is_result_line(line):
            rows += 1
            if rows > 1 or headed or _LABELLED_FIGURE.fullmatch(line):
                end = i
        elif len(_words(line)) > _MAX_HEADING_WORDS or _FINISHED.search(line.rstrip(":")):
            break
        else:
            headed = headed or line.endswith(":")
    return end


def _is_chrome(line: str, rules: Rules) -> bool:
    if rules.matches("lines", line) or not re.search(r"[A-Za-z]", line):
        return True
    # Navigation bars scraped without separators: "FinancialGovernment SolutionsLegal...".
    return len(_GLUED_WORDS.findall(line)) >= 3 and not _SENTENCE_END.search(line)


def _is_title_case(words: list[str]) -> bool:
    bare = [w.lstrip("'\"‘“(") or w for w in words]
    return all(w[0].isupper() or w[0].isdigit() or w.lower() in _SMALL_WORDS for w in bare)


def split_fused_title(line: str, later: str) -> tuple[str, str | None]:
    """Split "Headline In Title Case First sentence of the dek." into (headline, dek).

    The dek starts where a capitalised word begins a run that is no longer title case; when
    several split points are possible, the one whose dek is repeated in the body wins.
    """
    tokens = line.split()
    if not 8 <= len(tokens) <= _MAX_FUSED_WORDS or not line.endswith("."):
        return line, None
    candidates = []
    for i in range(3, len(tokens) - 3):
        head, tail = tokens[:i], tokens[i:]
        if tail[0][0].isupper() and _is_title_case(head) and not _is_title_case(tail[:4]):
            candidates.append(i)
    if not candidates:
        return line, None
    repeated = [i for i in candidates if " ".join(tokens[i:]).rstrip(".") in later]
    i = (repeated or candidates)[-1 if repeated else 0]
    return " ".join(tokens[:i]), " ".join(tokens[i:])


# A tabloid kicker in capitals before the headline: "POISONED PUTIN CRITIC Alexei Navalny was
# poisoned ...". Two or more capitalised words, one of five letters or more (so "NATO", "US",
# "UN" and other short acronyms stay), then a capitalised word and four more words. A match
# starts only where a run of capitals starts, and looks no further than its own six words.
_KICKER = re.compile(
    r"(?<![A-Z'’-])(?=(?:[A-Z'’-]+ ){0,5}[A-Z'’-]{5,} )(?:[A-Z][A-Z'’-]+ ){1,5}[A-Z][A-Z'’-]+\s+(?=[A-Z][a-z]\S*(?:\s+\S+){4,}$)"
)


def _without_kicker(title: str) -> str:
    return _KICKER.sub("", title, count=1)


def _url_words(url: str | None) -> set[str]:
    """The words of a URL's path ("russia-moves-to-block-navalny-websites"), small words left out."""
    if not url:
        return set()
    path = re.sub(r"^[a-z]+://[^/]+", "", url.lower())
    return {w for w in re.findall(r"[a-z]+", path) if len(w) > 2 and w not in _SMALL_WORDS}


# What separates the parts of a byline line: "A · CBC News · Posted: ...", "A / SITE / date",
# "BY A - 07/16/18 05:22 PM EDT".
# A match starts where white space starts (not at each of its characters: quadratic).
BYLINE_SEPARATOR = re.compile(r"(?<!\s)\s*(?:\||·|•|\s/\s|\s[-–—]\s)\s*")


def dated_byline(line: str) -> dt.date | None:
    """The date of a byline that carries one: "Ahmet Gencturk |29.09.2021 - Update : ...",
    "Catharine Tunney · CBC News · Posted: Feb 16, 2024 ...", "TOI World Desk / SITE.COM / date".

    The line opens with a name; short labels (the outlet) may stand between it and the stamp.
    """
    parts = BYLINE_SEPARATOR.split(line)
    if len(parts) < 2 or not _BARE_BYLINE.fullmatch(parts[0].strip()):
        return None
    for k in range(1, len(parts)):
        date = stamp_date(" | ".join(parts[k:]))
        if date is not None:
            return date
        if len(_words(parts[k])) > 4 or _SENTENCE_END.search(parts[k]):
            return None
    return None


def _kind(line: str, rules: Rules) -> str:
    """What a line is on its own, before its place in the page is considered."""
    # Before the chrome rules: "2019/03/15 18:20" has no letters but states the date.
    if stamp_date(line) is not None:
        return "stamp"
    if dated_byline(line) is not None:
        return "credit"
    if _is_chrome(line, rules):
        return "boilerplate"
    if rules.matches("captions", line):
        return "caption"
    if rules.matches("credits", line):
        return "credit"
    return "text"


def _is_long_paragraph(line: str) -> bool:
    return len(_words(line)) >= _LONG_PARAGRAPH_WORDS and bool(_SENTENCE_END.search(line))


def _mark_footer(lines: list[str], kinds: list[str], rules: Rules) -> None:
    """Everything from a footer line ("Related", "About the writer") on is boilerplate.

    A footer starts only once the article has begun ("Related" may be a menu item), and only
    where no long paragraph follows: a "Related" box inside the article is chrome together with
    its teaser headlines, and the article goes on after it.
    """
    # The first long text paragraph after each line, found in one pass from the end (lines
    # marked below are never long paragraphs, so marking does not change it).
    next_long: list[int | None] = [None] * len(lines)
    following: int | None = None
    for i in range(len(lines) - 1, -1, -1):
        next_long[i] = following
        if kinds[i] == "text" and _is_long_paragraph(lines[i]):
            following = i
    begun = False
    marked = 0  # lines before this were already looked at as teasers
    for i, line in enumerate(lines):
        if begun and rules.matches("footer_start", line):
            resumes = next_long[i]
            if resumes is None:
                kinds[i:] = ["boilerplate"] * (len(lines) - i)
                return
            # Teaser headlines in the box do not end like a sentence, however long they are.
            for j in range(max(i + 1, marked), resumes):
                if kinds[j] == "text" and not _FINISHED.search(lines[j]):
                    kinds[j] = "boilerplate"
            marked = max(marked, resumes)
            kinds[i] = "boilerplate"
        begun = begun or (kinds[i] == "text" and is_paragraph(line))


def _mark_boxes(lines: list[str], kinds: list[str]) -> None:
    """Lines inside a summary box or a newsletter form are chrome (see `_SUMMARY_BOX`).

    A summary box holds at most four short lines and must be closed by a line that is not
    text, so an article that follows its bullets directly keeps every paragraph.
    """
    for i, line in enumerate(lines):
        if kinds[i] != "boilerplate":
            continue
        if _SUMMARY_BOX.fullmatch(line):
            j = i + 1
            while (
                j < len(lines)
                and j - i <= _BOX_LINES
                and kinds[j] == "text"
                and len(_words(lines[j])) <= _BOX_LINE_WORDS
            ):
                j += 1
            if i + 1 < j < len(lines) and j - i <= _BOX_LINES and kinds[j] != "text":
                kinds[i + 1 : j] = ["boilerplate"] * (j - i - 1)
        elif _FORM_OPENER.fullmatch(line):
            for j in range(i + 2, min(i + 2 + _BOX_LINES, len(lines))):
                if kinds[j] == "boilerplate" and _FORM_FIELD.fullmatch(lines[j]):
                    for k in range(i + 1, j):
                        if kinds[k] == "text":
                            kinds[k] = "boilerplate"
                    break


def _pick_title(lines: list[str], header: list[int], url_words: set[str]) -> int | None:
    """The headline among the lines before the first paragraph.

    Navigation labels ("World", "Asia Pacific") are short, so the headline is the first line of
    four or more words not ending with a full stop, unless the URL slug or a repeat of the line further down names another.
    """
    fits = [
        i for i in header if len(_words(lines[i])) <= _MAX_TITLE_WORDS or lines[i].endswith(".")
    ]
    if not fits:
        return None

    def shared(i: int) -> int:
        return len(url_words & {w.lower().strip("'’") for w in _words(lines[i])})

    # The article's first paragraph shares the slug's words too: only headline-sized lines.
    headline_sized = [i for i in fits if not is_paragraph(lines[i])]
    best = max(headline_sized, key=shared, default=None)
    if best is not None and shared(best) >= 3:
        return best
    counts = Counter(lines)
    repeated = [i for i in fits if counts[lines[i]] > 1]
    # Headlines do not end with a full stop; a line that does is already the article.
    long_enough = [i for i in fits if len(_words(lines[i])) >= 4 and not lines[i].endswith(".")]
    return (repeated or long_enough or fits)[0]


_SITE_AFFIX = r"[A-Z][\w.&'’-]*(?: [A-Z][\w.&'’-]*){0,3}"


def _dateline_sentence(line: str) -> bool:
    """A sentence that opens with a dateline: "MOSCOW: Russian Foreign Minister … said."."""
    sentence = line.endswith((".", '."', ".”"))
    return sentence and bool(_DATELINE.match(line) or _COLON_DATELINE.match(line))


def _site_affixed(line: str, headline: str) -> bool:
    """ "Headline - BelTA" or "Tehran Times | Headline": `headline` with a site name added."""
    if not (line.startswith(headline) or line.endswith(headline)) or len(_words(headline)) < 4:
        return False
    affix = line.removeprefix(headline) if line.startswith(headline) else line[: -len(headline)]
    return bool(
        re.fullmatch(rf"\s+[-–—|:]\s+{_SITE_AFFIX}", affix)
        or re.fullmatch(rf"{_SITE_AFFIX}\s+[-–—|:]\s+", affix)
    )


def segment(text: str, rules: Rules, url: str | None = None) -> Segments:
    """Group the lines of `text` (see the module docstring); `url` helps find the headline."""
    lines = [line.strip() for line in text.splitlines()]
    lines = [line for line in lines if line]
    seg = Segments()
    kinds = [_kind(line, rules) for line in lines]
    _mark_boxes(lines, kinds)
    _mark_footer(lines, kinds, rules)
    # A line after an image slug ("08_15_Kim") is that image's caption.
    for i in range(1, len(lines)):
        if kinds[i] == "text" and re.fullmatch(r"\d{2}_\d{2}_\w+", lines[i - 1]):
            kinds[i] = "caption"

    texts = [i for i, kind in enumerate(kinds) if kind == "text"]
    first_paragraph = next((i for i in texts if is_paragraph(lines[i])), len(lines))
    header = [i for i in texts if i <= first_paragraph]
    # The headline repeated with the site's name ("Headline - BelTA", "Tehran Times - Headline",
    # a browser or share title) is chrome; the bare headline stays. Pairs are compared only
    # among the first header lines, where headlines are: a page of 100,000 labels stays fast.
    top = header[:_MAX_HEADER_PAIRS]
    for i in list(top):
        if any(_site_affixed(lines[i], lines[j]) for j in top if j != i):
            kinds[i] = "boilerplate"
            top.remove(i)
    header = top + header[_MAX_HEADER_PAIRS:]
    start = 0
    chosen = _pick_title(lines, header, _url_words(url))
    if chosen is not None and _dateline_sentence(lines[chosen]):
        # The text has no headline line: its first line is the article's first sentence, kept
        # whole in the body (the title is derived from the URL, the manifest or these words).
        chosen = None
    if chosen is not None:
        later = " ".join(lines[i] for i in texts if i > chosen)
        title, dek = split_fused_title(_without_kicker(rules.strip_status(lines[chosen])), later)
        if dek is not None or len(_words(title)) <= _MAX_TITLE_WORDS:
            seg.title, seg.title_line, seg.dek = title, lines[chosen], dek
            kinds[chosen] = "title"
            start = chosen + 1
            # Labels above the headline are navigation.
            for i in header:
                if i < chosen and lines[i] != lines[chosen]:
                    kinds[i] = "boilerplate"
    for i in range(start, len(lines)):
        if kinds[i] == "text" and lines[i] in (seg.title, seg.title_line):
            kinds[i] = "duplicate"
    # A byline is above the first paragraph, or right below a standfirst that is a sentence.
    after_title = [i for i in texts if i >= start]
    byline_zone = max(first_paragraph, after_title[1] if len(after_title) > 1 else 0)
    for i in after_title:
        if i <= byline_zone and kinds[i] == "text" and _BARE_BYLINE.fullmatch(lines[i]):
            kinds[i] = "credit"
    body_start = _body_start(lines, kinds, start, _header_from(lines, kinds, start), seg)
    body_end = _body_end(lines, kinds, body_start)
    if body_end is not None:
        body_end = _results_end(lines, kinds, body_end)
    # "ABC/Reuters" after the article credits the story; above its end, an image.
    for i in range(len(lines) if body_end is None else body_end + 1, len(lines)):
        if kinds[i] == "caption" and _SLASHED_CREDIT.fullmatch(lines[i]):
            kinds[i] = "credit"
    for i, (line, kind) in enumerate(zip(lines, kinds, strict=True)):
        if kind == "stamp":
            seg.stamp_dates.append(stamp_date(line))  # type: ignore[arg-type]
            seg.boilerplate.append(line)
        elif kind == "caption":
            seg.captions.append(line)
            seg.caption_places.append(len(seg.body))
        elif kind == "credit":
            seg.credits.append(line)
            seg.stamp_dates += [d for d in [dated_byline(line)] if d is not None]
        elif kind == "text" and body_end is not None and body_start <= i <= body_end:
            seg.body.append(line)
        elif kind in ("text", "boilerplate"):
            seg.boilerplate.append(line)
    if seg.body:
        seg.body[0] = rules.strip_status(seg.body[0])
    return seg


def _header_from(lines: list[str], kinds: list[str], start: int) -> int:
    """Where the article's own header begins: after the copy of the headline nearest the
    article, when only labels stand between the headline and that copy. A headline that also
    appears in the navigation (a menu, a list of teasers) is picked at its first copy, and the
    standfirst follows the last one."""
    header_from = start
    for i in range(start, len(lines)):
        if kinds[i] == "text" and is_prose(lines[i]):
            break
        if kinds[i] == "duplicate":
            header_from = i + 1
    return header_from


def _body_start(
    lines: list[str], kinds: list[str], start: int, header_from: int, seg: Segments
) -> int:
    """Index of the first body line: the first sentence-like line after the headline and dek.

    The first text line of the header (from `header_from`) is the dek when a byline, date stamp
    or repeated headline follows it, when it is an unfinished sentence (a standfirst), or when
    the next line opens with a dateline ("MOSCOW, March 20. /TASS/."). Short labels before the
    body are chrome.
    """
    first_text = _next_text(kinds, header_from)
    # The next line closing a header after each line, found in one pass from the end.
    closer: list[int | None] = [None] * len(lines)
    for i in range(len(lines) - 2, start - 1, -1):
        closer[i] = i + 1 if kinds[i + 1] in _HEADER_CLOSERS else closer[i + 1]
    for i in range(start, len(lines)):
        if kinds[i] != "text":
            continue
        following = closer[i]
        # A lead photo after the standfirst also closes the header, if the article follows.
        closes_header = following is not None and (
            kinds[following] in ("credit", "duplicate", "stamp")
            or (kinds[following] == "caption" and _next_is_paragraph(lines, kinds, following))
        )
        standfirst = (
            following is not None
            and not _SENTENCE_END.search(lines[i])
            and is_paragraph(lines[following])
        )
        opens_dateline = following is not None and bool(_DATELINE.match(lines[following]))
        if (
            seg.dek is None
            and i == first_text
            and is_prose(lines[i])
            and not _DATELINE.match(lines[i])
            and (closes_header or standfirst or opens_dateline)
        ):
            seg.dek = lines[i]
            kinds[i] = "dek"
            continue
        if is_prose(lines[i]):
            # A dateline on a line of its own ("ANKARA") opens the first paragraph.
            if i - 1 >= start and kinds[i - 1] == "text" and _LONE_DATELINE.fullmatch(lines[i - 1]):
                return i - 1
            return i
    return len(lines)


def _next_is_paragraph(lines: list[str], kinds: list[str], after: int) -> bool:
    """Whether the next text line (past a lone dateline) is a paragraph."""
    following = _next_text(kinds, after + 1)
    if following is not None and _LONE_DATELINE.fullmatch(lines[following]):
        following = _next_text(kinds, following + 1)
    return following is not None and is_paragraph(lines[following])


def _next_text(kinds: list[str], start: int) -> int | None:
    return next((i for i in range(start, len(kinds)) if kinds[i] == "text"), None)
