"""Split a scraped page into title, dek, credits, captions, body and boilerplate lines.

Every non-blank line lands in exactly one group. The body runs from the first paragraph of the
article proper to its last one; whatever lies between that is not a caption, credit or known
chrome is body, so nothing of the article is dropped.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field

from clippings.importer.dates import stamp_date
from clippings.importer.rules import Rules

_WORD = re.compile(r"[\w'’.-]+")
_GLUED_WORDS = re.compile(r"[a-z][A-Z]")
_SENTENCE_END = re.compile(r"[.!?:;\"”’')\]]$")
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
# A headline is at most this long; a longer first line is the article's first paragraph.
_MAX_TITLE_WORDS = 25


@dataclass
class Segments:
    """The groups of one page, each a list of stripped raw lines in document order."""

    title: str | None = None
    title_line: str | None = None
    dek: str | None = None
    credits: list[str] = field(default_factory=list)
    captions: list[str] = field(default_factory=list)
    body: list[str] = field(default_factory=list)
    boilerplate: list[str] = field(default_factory=list)
    stamp_dates: list[dt.date] = field(default_factory=list)


def _words(line: str) -> list[str]:
    return _WORD.findall(line)


def is_prose(line: str) -> bool:
    """A sentence-like line rather than a label: long enough, or a short finished sentence."""
    count = len(_words(line))
    return count >= 7 or (count >= 4 and bool(_SENTENCE_END.search(line)))


def _is_chrome(line: str, rules: Rules) -> bool:
    if rules.matches("lines", line) or not re.search(r"[A-Za-z]", line):
        return True
    # Navigation bars scraped without separators: "FinancialGovernment SolutionsLegal...".
    return len(_GLUED_WORDS.findall(line)) >= 3 and not _SENTENCE_END.search(line)


def _is_title_case(words: list[str]) -> bool:
    bare = [w.lstrip("'\"‘“(") or w for w in words]
    return all(w[0].isupper() or w[0].isdigit() or w.lower() in _SMALL_WORDS for w in bare)


def _is_section_label(line: str, following: str) -> bool:
    """A short label ("Russia-Ukraine war") right above a headline-shaped line is chrome."""
    return (
        len(_words(line)) <= 3
        and 4 <= len(_words(following)) <= _MAX_TITLE_WORDS
        and (not following.endswith("."))
    )


def split_fused_title(line: str, later: str) -> tuple[str, str | None]:
    """Split "Headline In Title Case First sentence of the dek." into (headline, dek).

    The dek starts where a capitalised word begins a run that is no longer title case; when
    several split points are possible, the one whose dek is repeated in the body wins.
    """
    tokens = line.split()
    if len(tokens) < 8 or not line.endswith("."):
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


def segment(text: str, rules: Rules) -> Segments:
    """Group the lines of `text` (see the module docstring)."""
    lines = [line.strip() for line in text.splitlines()]
    lines = [line for line in lines if line]
    seg = Segments()
    kinds: list[str] = []
    in_footer = False
    for line in lines:
        in_footer = in_footer or rules.matches("footer_start", line)
        if in_footer or _is_chrome(line, rules):
            kinds.append("boilerplate")
        elif stamp_date(line) is not None:
            kinds.append("stamp")
        elif rules.matches("captions", line):
            kinds.append("caption")
        elif rules.matches("credits", line):
            kinds.append("credit")
        else:
            kinds.append("text")
    # A line after an image slug ("08_15_Kim") is that image's caption.
    for i in range(1, len(lines)):
        if kinds[i] == "text" and re.fullmatch(r"\d{2}_\d{2}_\w+", lines[i - 1]):
            kinds[i] = "caption"

    texts = [i for i, kind in enumerate(kinds) if kind == "text"]
    start = 0
    label_first = len(texts) > 1 and _is_section_label(lines[texts[0]], lines[texts[1]])
    # ...unless it is the headline, repeated further down as chrome.
    if label_first and lines.count(lines[texts[0]]) == 1:
        kinds[texts[0]] = "boilerplate"
        texts.pop(0)
    if texts:
        first = texts[0]
        later = " ".join(lines[i] for i in texts[1:])
        title, dek = split_fused_title(rules.strip_status(lines[first]), later)
        if dek is not None or len(_words(title)) <= _MAX_TITLE_WORDS:
            seg.title, seg.title_line, seg.dek = title, lines[first], dek
            kinds[first] = "title"
            start = first + 1
    for i in range(start, len(lines)):
        if kinds[i] == "text" and lines[i] in (seg.title, seg.title_line):
            kinds[i] = "duplicate"
    body_start = _body_start(lines, kinds, start, seg)
    body_end = max(
        (i for i in range(body_start, len(lines)) if kinds[i] == "text" and is_prose(lines[i])),
        default=None,
    )
    for i, (line, kind) in enumerate(zip(lines, kinds, strict=True)):
        if kind == "stamp":
            seg.stamp_dates.append(stamp_date(line))  # type: ignore[arg-type]
            seg.boilerplate.append(line)
        elif kind == "caption":
            seg.captions.append(line)
        elif kind == "credit":
            seg.credits.append(line)
        elif kind == "text" and body_end is not None and body_start <= i <= body_end:
            seg.body.append(line)
        elif kind in ("text", "boilerplate"):
            seg.boilerplate.append(line)
    if seg.body:
        seg.body[0] = rules.strip_status(seg.body[0])
    return seg


def _body_start(lines: list[str], kinds: list[str], start: int, seg: Segments) -> int:
    """Index of the first body line; prose lines before a byline or repeated title form the dek."""
    for i in range(start, len(lines)):
        if kinds[i] != "text":
            continue
        # A dek is followed directly (captions and chrome aside) by a byline or the repeated title.
        ahead = [k for k in kinds[i + 1 :] if k in ("text", "credit", "duplicate", "stamp")]
        closes_header = bool(ahead) and ahead[0] != "text"
        if (
            seg.dek is None
            and closes_header
            and is_prose(lines[i])
            and i == _next_text(kinds, start)
        ):
            seg.dek = lines[i]
            kinds[i] = "dek"
            continue
        return i
    return len(lines)


def _next_text(kinds: list[str], start: int) -> int | None:
    return next((i for i in range(start, len(kinds)) if kinds[i] == "text"), None)
