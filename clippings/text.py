"""Small text helpers shared by the build and the importer."""

from __future__ import annotations

import re
import unicodedata

_NON_WORD = re.compile(r"[^\w]+")


def slugify(name: str) -> str:
    """Lower-case, accent-free, hyphen-separated form of a name, used to identify terms.

    "Kim Jong-un" and "Kim Jong Un" give the same slug; "Erdoğan" gives "erdogan"; letters of
    other scripts are kept ("金正恩"), so a non-Latin name still gets a page.
    """
    decomposed = unicodedata.normalize("NFKD", name)
    without_marks = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    without_marks = without_marks.replace("_", " ").replace("'", "").replace("’", "")
    return _NON_WORD.sub("-", without_marks.lower()).strip("-")
