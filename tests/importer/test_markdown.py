import html
import re

import markdown
from hypothesis import given, settings
from hypothesis import strategies as st

from clippings.importer.writer import escape_markdown


def rendered_text(source: str) -> str:
    """What a reader sees: Python-Markdown's HTML without tags, entities decoded."""
    out = markdown.markdown(source)
    assert out.startswith("<p>") and out.endswith("</p>"), out
    return html.unescape(re.sub(r"<[^>]+>", "", out[3:-4]))


CASES = [
    "# not a heading",
    "> not a quote",
    "- not a list",
    "* not a list",
    "+ not a list",
    "1. not a list",
    "2016. A year",
    "---",
    "Use *stars* and _underscores_ and `code` and [links](http://x) and <b>tags</b>",
    "AT&T &amp; friends &copy; C:\\path\\to \\* done",
    "Price is $1.3T, 50% off!",
    "Juche111.10.7. -0- (KCNA) -- end",
]


def test_escaped_lines_render_as_written():
    for line in CASES:
        assert rendered_text(escape_markdown(line)) == line


printable = st.characters(blacklist_categories=("Cc", "Cs", "Zl", "Zp"))


@settings(max_examples=300, deadline=None)
@given(st.text(printable, min_size=1, max_size=60).map(str.strip).filter(bool))
def test_any_line_renders_as_written(line):
    assert rendered_text(escape_markdown(line)) == line
