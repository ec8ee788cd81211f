"""The body converter's shortcuts give exactly Python-Markdown's output (see markdown_body.py)."""

from __future__ import annotations

from pathlib import Path

import markdown
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from clippings.content import split_front_matter
from clippings.importer.writer import escape_markdown
from clippings.markdown_body import (
    LINK_SEARCH_LIMIT,
    BodyConverter,
    body_extensions,
    reference_markdown,
    slow_link_paragraph,
)

REPO = Path(__file__).resolve().parent.parent
DEVSET = REPO.parent / "shared" / "devset"

shortcut = BodyConverter()  # reused across examples, as a render worker reuses it
reference = reference_markdown()


def assert_same(text: str) -> None:
    assert shortcut.convert(text) == reference.reset().convert(text), repr(text)


# Characters Python-Markdown reads, with spaces, tabs and line ends, and plain words.
SYNTAX = [
    *"`\\[]()!<>&*_{}#=-+|:~^.'\"/;0123456789 \t\n\r\x02\x03",
    "  \n",
    "\n\n",
    "    ",
    "http://x.org",
    "&amp;",
    "&#38;",
    "*[",
    "[^1]",
    "é",
    "日本",
]
WORDS = ["word", "Kim Jong Un", "said", "HTML", "U.S.", "1.", "x"]
fragments = st.lists(st.sampled_from(SYNTAX + WORDS), max_size=40).map("".join)

# Paragraphs of plain text, with the word the abbreviation below defines.
PROSE = ["HTML", "the", "said", "Kim", ",", ".", "1999", "(AP)", "-", ":", "'", '"', "?", "é"]
PROSE += ["\n", "\nword", "\n ", "“", "«", "Ⅷ", "²", "١.", "٣"]
plain = st.lists(st.sampled_from(PROSE), min_size=1, max_size=12).map(" ".join)
# Paragraphs starting with a word but holding Markdown: our paragraph processor takes them while
# every part Python-Markdown would run on them runs.
INLINE = ["*em*", "**strong**", "_em_", "`code`", "[link](https://x.org)", "{: .c }", "&amp;"]
INLINE += ["<http://x.org>", "<ftp://x.org>", "<a@b.org>", "\\*", "![i](a.png)", "|", "x | y"]
INLINE += ["  \n", "\n# not", "\n> q", "\n- l", "\n: d"]
prose = st.lists(st.sampled_from(PROSE + INLINE), min_size=1, max_size=12).map(
    lambda words: "Word " + " ".join(words)
)
BLOCKS = [
    "## A heading",
    "Setext\n======",
    "- one\n- two",
    "1. one\n2. two\n\n    indented",
    "* item\n\n    continued",
    "> quoted\nlazy line",
    "    code block",
    "```\ncode\n\nfence\n```",
    "~~~\ntilde fence\n~~~",
    "Word | head\n--- | ---\ncell | row",
    "| a | b |\n| - | - |\n| 1 | 2 |",
    "Term\n: definition",
    ": loose definition",
    "*[HTML]: HyperText Markup Language",
    "A footnote[^n].\n\n[^n]: The note.",
    "[ref]: http://example.org 'Title'",
    "See [ref] and [the ref][ref] and ![img](a.png)",
    "See [ref], [the ref][ref], ![an image][ref] and [undefined].\n\n[ref]: http://example.org",
    "A [link](https://example.org/a_b) and **bold** and _em_ and `code`",
    "Ends with two spaces  \nthen more",
    "<div>raw</div> &amp; <b>x</b> <http://x.org>",
    "text {: .class }",
    "***",
    "\\*escaped\\*",
    "Title\n-----",
    "Para\n    indented continuation",
    "- item\nlazy plain line",
    "- tight\n- list\nlazy",
    "1. item\n\n    para in item\n\n    another",
    "> quote\n> more",
    "Term one\nTerm two\n\n: definition",
    "    code\n\n    more code",
    "Plain first line\n## heading inside",
    "Plain\n> quote inside",
    "Plain\n1. list inside",
]
blocks = st.one_of(plain, prose, st.sampled_from(BLOCKS), fragments)
documents = st.lists(blocks, max_size=8).flatmap(
    lambda parts: st.lists(
        st.sampled_from(["\n\n", "\n", "\n\n\n", "\n  \n"]),
        min_size=len(parts),
        max_size=len(parts),
    ).map(lambda seps: "".join(part + sep for part, sep in zip(parts, seps, strict=True)))
)


@settings(max_examples=600, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(fragments)
def test_random_text_converts_as_python_markdown_does(text: str) -> None:
    assert_same(text)


@settings(max_examples=600, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(documents)
def test_random_documents_of_blocks_convert_as_python_markdown_does(text: str) -> None:
    assert_same(text)


def _bodies(folder: Path) -> list[str]:
    found = []
    for path in sorted(folder.rglob("*.md")):
        parts = split_front_matter(path.read_text(encoding="utf-8"))
        found.append(parts[1] if parts else path.read_text(encoding="utf-8"))
    return found


@pytest.mark.parametrize("folder", ["content", "tests/fixtures/site/content"])
def test_shipped_and_fixture_articles_convert_as_python_markdown_does(folder: str) -> None:
    bodies = _bodies(REPO / folder)
    assert bodies
    for body in bodies:
        assert_same(body)


@pytest.mark.skipif(not DEVSET.is_dir(), reason="the shared devset is not checked out here")
def test_devset_articles_convert_as_python_markdown_does() -> None:
    texts = sorted(DEVSET.glob("*.txt"))
    assert texts
    for path in texts:
        text = path.read_text(encoding="utf-8")
        lines = [line.strip() for line in text.splitlines() if line.strip()]
        assert_same("\n\n".join(escape_markdown(line) for line in lines))  # as imported
        assert_same(text)  # and as if written by hand


def test_shortcuts_apply_where_the_text_allows() -> None:
    unused, plain_paragraphs = BodyConverter._shortcuts("Plain words, and a [link](x).")
    assert ("inlinePatterns", "link") not in unused
    assert ("treeprocessors", "unsafe_links") not in unused
    assert {"backtick", "em_strong", "entity"} <= {name for _, name in unused}
    assert {("treeprocessors", "attr_list"), ("preprocessors", "fenced_code_block")} <= unused
    assert plain_paragraphs
    paragraph = shortcut._converter(BodyConverter._shortcuts("Word")).parser.blockprocessors
    assert paragraph["paragraph_first"].test(None, "Word *em*, `x` and [y](z)\n“Quoted” line")
    assert not paragraph["paragraph_first"].test(None, "Word\n# heading")
    assert BodyConverter._shortcuts("*[HTML]: defined")[1] is False
    assert BodyConverter._shortcuts("a\tb") is None
    html = shortcut.convert("Plain words.\n\nA [link](https://x.org) here.")
    assert html == '<p>Plain words.</p>\n<p>A <a href="https://x.org">link</a> here.</p>'


def test_the_extensions_are_those_extra_and_sane_lists_name() -> None:
    """Made from Python-Markdown's modules, not looked up by name: the same parts, in the same
    order, as a converter given the names, and the same output."""
    by_name = markdown.Markdown(extensions=["extra", "sane_lists"], output_format="html")
    made = markdown.Markdown(extensions=body_extensions(), output_format="html")
    for registry in ("preprocessors", "inlinePatterns", "treeprocessors", "postprocessors"):
        assert [type(part) for part in getattr(made, registry)] == [
            type(part) for part in getattr(by_name, registry)
        ], registry
    blocks = made.parser.blockprocessors
    assert [type(part) for part in blocks] == [type(p) for p in by_name.parser.blockprocessors]
    assert len(list(blocks)) > 15  # the test compares something
    assert made.ESCAPED_CHARS == by_name.ESCAPED_CHARS
    assert made.block_level_elements == by_name.block_level_elements
    text = "Term\n: Definition\n\n| a | b |\n|---|---|\n| 1 | 2 |\n\nA[^1] *HTML*\n\n[^1]: note"
    text += "\n\n*[HTML]: Hyper\n\n```\ncode\n```\n\n1. one\n* two\n\nx {: .c }"
    assert made.convert(text) == by_name.convert(text)
    assert "<dl>" in made.convert(text) and "<table>" in made.convert(text)


def test_a_paragraph_whose_brackets_python_markdown_would_search_too_long_is_found():
    nested = "[a[b[c" * 2000  # each '[' searched to the paragraph's end: ~9 s of Python-Markdown
    text = "First [sic].\n\n\n  " + nested + "\n\nLast."
    assert slow_link_paragraph(text) == 3  # lines before the paragraph's first character
    assert slow_link_paragraph(nested.replace("[", "\\[")) is None  # escaped: no link to seek
    closed = "[" * 4000 + "]" * 4000  # nested, every '[' searched to its own ']'
    assert slow_link_paragraph(closed) == 0
    assert slow_link_paragraph("[" * 3000 + "]" * 3000) is None  # 9 million characters


def test_brackets_of_ordinary_bodies_are_within_the_link_search_limit():
    links = "A [link](https://example.org/a) and [sic] in a paragraph.\n\n" * 20_000
    unclosed = "An aside [that never closes.\n\n" * 20_000  # each search ends with its paragraph
    for text in (links, unclosed):
        assert text.count("[") * len(text) > LINK_SEARCH_LIMIT  # past the quick test
        assert slow_link_paragraph(text) is None
