"""Small text helpers shared by the build and the importer."""

from __future__ import annotations

import functools
import re
import unicodedata

_NON_WORD = re.compile(r"[^\w]+")
# A slug becomes a folder name, and file systems refuse names over 255 bytes; long headlines and
# names are cut at a hyphen so their pages can still be written.
MAX_SLUG_BYTES = 120
_MARKDOWN_LINK = re.compile(r"!?\[([^\]]*)\]\([^)]*\)")
_HTML_TAG = re.compile(r"<[^>]+>")
_MARKUP_CHARACTERS = "*`#>\\"


def hyphenated_words(text: str) -> str:
    """Lower-case, accent-free words joined by hyphens, at any length (for matching in text)."""
    decomposed = unicodedata.normalize("NFKD", text)
    without_marks = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    without_marks = without_marks.replace("_", " ").replace("'", "").replace("’", "")
    return _NON_WORD.sub("-", without_marks.lower()).strip("-")


# Memoised: the model slugifies every name of every article (~150,000 calls for ~2,000 names at
# 10,000 articles); the slug of a string never changes.
@functools.lru_cache(maxsize=65536)
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


# What XML 1.0 cannot hold at all: C0 controls other than tab, LF and CR, lone surrogates (a YAML
# "\ud800" escape makes one, and it cannot even be encoded as UTF-8), U+FFFE and U+FFFF. One of
# them in a title would make every feed carrying it unreadable, so loading drops them.
# (Listed, not as the complement of what XML allows: that class took 7 ms to compile.)
_XML_FORBIDDEN = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")


# The warning when loading dropped some, after the file, line and field it names.
XML_FORBIDDEN_DROPPED = "characters XML 1.0 forbids (control characters) were dropped"


def without_xml_forbidden(text: str) -> str:
    """`text` without the characters XML 1.0 forbids (the same string when it has none)."""
    return _XML_FORBIDDEN.sub("", text) if _XML_FORBIDDEN.search(text) else text


def plain_text(markdown: str) -> str:
    """Markdown reduced to words for the search index: link text kept, markup dropped.

    Deliberately rough (Pagefind splits words itself) and cheap: it runs over every article.
    """
    text = _MARKDOWN_LINK.sub(r"\1", markdown) if "](" in markdown else markdown
    text = _HTML_TAG.sub(" ", text) if "<" in text else text
    # str.replace per character, not str.translate: translate builds the string a character at a
    # time (1.5 s over 10,000 articles), replace copies runs (0.07 s).
    for character in _MARKUP_CHARACTERS:
        if character in text:
            text = text.replace(character, "")
    return text
