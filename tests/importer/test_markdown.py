import html
import re

import markdown
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from clippings.importer import writer
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


def _front(value: str) -> dict:
    return {"title": value, "people": [value, "Kim"], "captions": [{"text": value, "after": 1}]}


@settings(max_examples=300, deadline=None)
@given(st.text())
def test_front_matter_bytes_do_not_depend_on_the_yaml_emitter(value):
    """libyaml's emitter is used where it writes what PyYAML's own does; text with an emoji, NEL
    or a line separator, which libyaml would escape, is written by PyYAML's."""
    front = _front(value)
    expected = yaml.dump(
        front, Dumper=yaml.SafeDumper, sort_keys=False, allow_unicode=True, width=1_000_000
    )
    written = yaml.dump(
        front, Dumper=writer._dumper(front), sort_keys=False, allow_unicode=True, width=1_000_000
    )
    assert written == expected


def test_an_emoji_stays_as_written_in_front_matter():
    assert writer._dumper(_front("Kim 😀")) is yaml.SafeDumper
    assert writer._dumper(_front("Kim Jong Un")) is yaml.CSafeDumper
