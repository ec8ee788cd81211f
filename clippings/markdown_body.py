"""Article bodies: Markdown to HTML with Python-Markdown, skipping work whose result is known.

Python-Markdown converts every body and decides every block. At 10,000 articles it costs more
than any other part of rendering an article but the cite block, most of it in the ~14 inline
patterns, each searched over every paragraph, and in the ~15 block tests run on each block.
Two shortcuts leave its output unchanged (property tests in tests/test_markdown_body.py compare
it with `reference_markdown` over random text, the devset, the shipped archive and the fixture
site):

- A part of Python-Markdown that only acts on a character the document lacks is not run: without
  `[` there is no link to find, without `*` or `_` no emphasis, without `{` no attribute list,
  without a backslash nothing to unescape, without three backticks or tildes no fenced code, and
  without a link or image no target to check. One converter per set of parts, made when a
  document first needs it (a handful in practice).
- A paragraph is made by our block processor, tried first, when no other block processor could
  claim it: every line starts with a letter, a quote or `(` (so no heading, list, quote, rule,
  indent, definition, reference, footnote or table separator row). A paragraph of
  plain text (no character an inline pattern needs) also keeps its text as written (a
  `markdown.util.AtomicString`) instead of having every pattern searched over it.
"""

from __future__ import annotations

import importlib
import re
import xml.etree.ElementTree as etree
from typing import Any

import markdown
from markdown.blockprocessors import BlockProcessor
from markdown.extensions import Extension, extra
from markdown.treeprocessors import Treeprocessor
from markdown.util import AtomicString

from clippings.escape import safe_url

# What each optional part of Python-Markdown 3 (with "extra"), by registry and name, needs in a
# text (one of) to change anything. A reference link whose name is not defined is left as
# written, and a definition needs `]:` (`[name]: url`), so without one the reference patterns do
# nothing. "unescape" puts back only what the escape pattern took out.
_PART_NEEDS: dict[tuple[str, str], tuple[str, ...]] = {
    ("inlinePatterns", "backtick"): ("`",),
    ("inlinePatterns", "escape"): ("\\",),
    ("inlinePatterns", "footnote"): ("[^",),
    ("inlinePatterns", "reference"): ("]:",),
    ("inlinePatterns", "link"): ("[",),
    ("inlinePatterns", "image_link"): ("![",),
    ("inlinePatterns", "image_reference"): ("![",),
    ("inlinePatterns", "short_reference"): ("]:",),
    ("inlinePatterns", "short_image_ref"): ("![",),
    ("inlinePatterns", "autolink"): ("<",),
    ("inlinePatterns", "automail"): ("<",),
    ("inlinePatterns", "linebreak"): ("  \n",),
    ("inlinePatterns", "entity"): ("&",),
    ("inlinePatterns", "em_strong"): ("*", "_"),
    ("preprocessors", "fenced_code_block"): ("```", "~~~"),
    ("treeprocessors", "attr_list"): ("{",),
    ("treeprocessors", "unescape"): ("\\",),
    ("treeprocessors", "unsafe_links"): ("[", "<"),
}
_NEEDS = sorted({need for needs in _PART_NEEDS.values() for need in needs})
# Python-Markdown drops STX/ETX and expands tabs and CRs before parsing, which can make a
# needed sequence ("  \n", "*[") out of characters that are apart in the text: no shortcut then.
_REWRITTEN_BEFORE_PARSING = ("\t", "\r", "\x02", "\x03")
# A block no other block processor could claim: every line starts with a letter, a quote or
# `(` (a table's second line is its separator row, of `-`, `:` and `|`), and none holds STX/ETX
# (a stashed block).
_LINE_START = r"""(?:[^\W\d_]|["'(“‘«])"""
_PROSE_BLOCK = re.compile(rf"{_LINE_START}[^\n\x02\x03]*(?:\n{_LINE_START}[^\n\x02\x03]*)*")
# A paragraph of plain text (with no two spaces ending a line, checked apart): no character any
# inline pattern needs (nor braces or `>`, to keep the set obviously safe).
_PLAIN_TEXT = re.compile(r"[^`\\\[\]<>&*_{}]*")
_PARAGRAPH_PRIORITY = 106  # before every other block processor (md_in_html's is 105)
# The parts a text cannot need and whether plain paragraphs skip inline patterns; None for none.
_Shortcuts = tuple[frozenset[tuple[str, str]], bool] | None


class _UnsafeLinks(Treeprocessor):
    """Links and images whose target `safe_url` refuses lose it (`[x](javascript:...)` shows
    as the text x): Python-Markdown copies link targets as written."""

    def run(self, root: Any) -> None:
        for element in root.iter():
            attribute = {"a": "href", "img": "src"}.get(element.tag)
            target = element.get(attribute) if attribute else None
            if target is not None and safe_url(target) is None:
                del element.attrib[attribute]


class _Paragraph(BlockProcessor):
    """A paragraph no other block processor could claim, made as Python-Markdown's paragraph
    processor makes it; with `plain_text`, a paragraph of plain text is marked as needing no
    inline processing."""

    def __init__(self, parser: Any, plain_text: bool) -> None:
        super().__init__(parser)
        self.plain_text = plain_text

    def test(self, parent: etree.Element, block: str) -> bool:
        # In a tight list the paragraph processor appends to the item's text instead.
        return _PROSE_BLOCK.fullmatch(block) is not None and not self.parser.state.isstate("list")

    def run(self, parent: etree.Element, blocks: list[str]) -> None:
        block = blocks.pop(0)
        if block.strip():
            text = block.lstrip()
            if self.plain_text and _PLAIN_TEXT.fullmatch(text) and "  \n" not in text:
                text = AtomicString(text)
            etree.SubElement(parent, "p").text = text


# "extra" and "sane_lists". Given by name, Python-Markdown looks each extension up among the entry
# points of every installed package (30 ms, the first time in a process), and another package may
# claim the name; the modules Python-Markdown ships are imported directly instead, "extra" as the
# list it registers.
EXTENSIONS = (*extra.extensions, "sane_lists")


def body_extensions() -> list[Extension]:
    """New instances of the extensions bodies are converted with."""
    return [
        importlib.import_module(f"markdown.extensions.{name}").makeExtension()
        for name in EXTENSIONS
    ]


def reference_markdown() -> markdown.Markdown:
    """Python-Markdown as bodies are converted, without shortcuts: the site's extensions, raw
    HTML shown as text (bodies come from scraped pages, and the importer writes none: it
    escapes what looks like markup), unsafe link and image targets removed."""
    md = markdown.Markdown(extensions=body_extensions(), output_format="html")
    md.preprocessors.deregister("html_block")
    md.inlinePatterns.deregister("html")
    # after "unescape" (priority 0), which puts backslash-escaped characters back into targets
    md.treeprocessors.register(_UnsafeLinks(md), "unsafe_links", -1)
    return md


class BodyConverter:
    """Converts bodies with one reused Python-Markdown instance per set of shortcuts (reset
    between documents, as its docs advise)."""

    def __init__(self) -> None:
        self._converters: dict[_Shortcuts, markdown.Markdown] = {}

    def convert(self, text: str) -> str:
        return self._converter(self._shortcuts(text)).reset().convert(text)

    @staticmethod
    def _shortcuts(text: str) -> _Shortcuts:
        """The parts of Python-Markdown the text cannot need, and whether plain paragraphs may
        skip the inline patterns (not when the text may define an abbreviation, `*[HTML]: ...`,
        which applies to every paragraph's text); None for no shortcut."""
        if any(character in text for character in _REWRITTEN_BEFORE_PARSING):
            return None
        present = {need for need in _NEEDS if need in text}
        unused = frozenset(part for part, needs in _PART_NEEDS.items() if present.isdisjoint(needs))
        return unused, "*[" not in text

    def _converter(self, shortcuts: _Shortcuts) -> markdown.Markdown:
        md = self._converters.get(shortcuts)
        if md is None:
            md = self._converters[shortcuts] = reference_markdown()
            if shortcuts is not None:
                unused, plain_text = shortcuts
                for registry, name in unused:
                    getattr(md, registry).deregister(name)
                paragraph = _Paragraph(md.parser, plain_text)
                md.parser.blockprocessors.register(
                    paragraph, "paragraph_first", _PARAGRAPH_PRIORITY
                )
        return md


# Python-Markdown looks for the end of a link from every `[` of a paragraph, through nested
# brackets, to its `]` or (none) to the paragraph's end: time grows with the characters searched,
# ~0.13 µs each, and 12,000 characters of `[a[b[c` took 9 s, 30,000 a minute. A body may make it
# search this many characters in all.
LINK_SEARCH_LIMIT = 10_000_000
BLOCK_BREAK = re.compile(r"\n[ \t]*\n")  # a blank line: Markdown's blocks end there
_BRACKET = re.compile(r"\\.|[\[\]]", re.DOTALL)  # an escaped character is no bracket


def slow_link_paragraph(text: str) -> int | None:
    """The number of lines before the paragraph in which the search for links' ends passes
    `LINK_SEARCH_LIMIT` characters (counted over the text so far), or None if it never does."""
    if text.count("[") * len(text) <= LINK_SEARCH_LIMIT:  # no search can be longer: most bodies
        return None
    breaks = list(BLOCK_BREAK.finditer(text))
    starts = [0] + [match.end() for match in breaks]
    ends = [match.start() for match in breaks] + [len(text)]
    searched = 0
    for start, end in zip(starts, ends, strict=True):
        opened: list[int] = []
        for match in _BRACKET.finditer(text, start, end):
            if match.group() == "[":
                opened.append(match.start())
            elif match.group() == "]" and opened:
                searched += match.start() - opened.pop()
        searched += sum(end - at for at in opened)
        if searched > LINK_SEARCH_LIMIT:
            first = end - len(text[start:end].lstrip())  # its first character, past blank lines
            return text.count("\n", 0, first)
    return None
