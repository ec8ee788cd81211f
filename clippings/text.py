"""Small text helpers shared by the build and the importer."""

from __future__ import annotations

import re
import unicodedata

_NON_WORD = re.compile(r"[^\w]+")
# A slug becomes a folder name, and file systems refuse names over 255 bytes; long headlines and
# names are cut at a hyphen so their pages can still be written.
MAX_SLUG_BYTES = 120


def hyphenated_words(text: str) -> str:
    """Lower-case, accent-free words joined by hyphens, at any length (for matching in text)."""
    decomposed = unicodedata.normalize("NFKD", text)
    without_marks = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    without_marks = without_marks.replace("_", " ").replace("'", "").replace("’", "")
    return _NON_WORD.sub("-", without_marks.lower()).strip("-")


def slugify(name: str) -> str:
    """Lower-case, accent-free, hyphen-separated form of a name, used to identify terms.

    "Kim Jong-un" and "Kim Jong Un" give the same slug; "Erdoğan" gives "erdogan"; letters of
    other scripts are kept ("金正恩"), so a non-Latin name still gets a page.
    """
    slug = hyphenated_words(name)
    if len(slug.encode("utf-8")) <= MAX_SLUG_BYTES:
        return slug
    cut = slug.encode("utf-8")[:MAX_SLUG_BYTES].decode("utf-8", "ignore")
    if slug[len(cut)] != "-" and "-" in cut:  # the cut fell inside a word: drop that word
        cut = cut.rsplit("-", 1)[0]
    return cut.strip("-")
