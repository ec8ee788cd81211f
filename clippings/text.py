"""Small text helpers shared by the build and the importer."""

from __future__ import annotations

import functools
import re
import unicodedata

_NON_WORD = re.compile(r"[^\w]+")


# Memoised: the model slugifies every name of every article (~150,000 calls for ~2,000 names at
# 10,000 articles); the slug of a string never changes.
@functools.lru_cache(maxsize=65536)
def slugify(name: str) -> str:
    """Lower-case, accent-free, hyphen-separated form of a name, used to identify terms.

    "Kim Jong-un" and "Kim Jong Un" give the same slug; "Erdoğan" gives "erdogan"; letters of
    other scripts are kept ("金正恩"), so a non-Latin name still gets a page.
    """
    decomposed = unicodedata.normalize("NFKD", name)
    without_marks = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    without_marks = without_marks.replace("_", " ").replace("'", "").replace("’", "")
    return _NON_WORD.sub("-", without_marks.lower()).strip("-")
