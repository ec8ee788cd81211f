"""Article bodies: Markdown to HTML with Python-Markdown, skipping work whose result is known.

Python-Markdown converts every body and decides every block. At 10,000 articles it costs more
than any other part of rendering an article but the cite block, most of it in the ~14 inline
patterns, each searched over every paragraph. Two shortcuts leave its output unchanged (property
tests in tests/test_markdown_body.py compare it with `reference_markdown` over random text, the
devset, the shipped archive and the fixture site):

- An inline pattern runs only in a document holding a character it needs: without `[` there is
  no link to find, without `*` or `_` no emphasis. One converter per set of patterns, made when
  a document first needs it (a handful in practice).
- A paragraph of plain text is made by our block processor, tried first: it takes a block
  only when no other block processor could (every line starts with a letter, a quote or `(`,
  so no heading, list, quote, rule, indent, definition or table; no `[`, so no reference or
  footnote) and no inline pattern could match in it, and keeps its text as written (a
  `markdown.util.AtomicString`) instead of having every pattern searched over it.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as etree
from typing import Any

import markdown
from markdown.blockprocessors import BlockProcessor
from markdown.treeprocessors import Treeprocessor
from markdown.util import AtomicString

from clippings.escape import safe_url

# What each inline pattern of Python-Markdown 3 (with "extra") needs in a text (one of) to
# change anything. A reference link whose name is not defined is left as written, and a
# definition needs `]:` (`[name]: url`), so without one the reference patterns do nothing.
_INLINE_NEEDS: dict[str, tuple[str, ...]] = {
    "backtick": ("`",),
    "escape": ("\\",),
    "footnote": ("[^",),
    "reference": ("]:",),
    "link": ("[",),
    "image_link": ("![",),
    "image_reference": ("![",),
    "short_reference": ("]:",),
    "short_image_ref": ("![",),
    "autolink": ("<",),
    "automail": ("<",),
    "linebreak": ("  \n",),
    "entity": ("&",),
    "em_strong": ("*", "_"),
}
# Python-Markdown drops STX/ETX and expands tabs and CRs before parsing, which can make a
# needed sequence ("  \n", "*[") out of characters that are apart in the text: no shortcut then.
_REWRITTEN_BEFORE_PARSING = ("\t", "\r", "\x02", "\x03")
# A block of plain text (with no two spaces ending a line, checked apart): every line starts
# with a letter, a quote or `(`, and holds no character any inline pattern needs (nor brackets,
# braces, `>` or `|`, to keep the set obviously safe).
_LINE_START = r"""(?:[^\W\d_]|["'(“‘«])"""
_LINE_REST = r"[^`\\\[\]<>&*_{}|\n\x02\x03]*"
_PLAIN_BLOCK = re.compile(rf"{_LINE_START}{_LINE_REST}(?:\n{_LINE_START}{_LINE_REST})*")
_PLAIN_PRIORITY = 106  # before every other block processor (md_in_html's is 105)


class _UnsafeLinks(Treeprocessor):
    """Links and images whose target `safe_url` refuses lose it (`[x](javascript:...)` shows
    as the text x): Python-Markdown copies link targets as written."""

    def run(self, root: Any) -> None:
        for element in root.iter():
            attribute = {"a": "href", "img": "src"}.get(element.tag)
            target = element.get(attribute) if attribute else None
            if target is not None and safe_url(target) is None:
                del element.attrib[attribute]


class _PlainParagraph(BlockProcessor):
    """A paragraph of plain text, made as Python-Markdown's paragraph processor makes it but
    with its text marked as needing no inline processing."""

    def test(self, parent: etree.Element, block: str) -> bool:
        # In a tight list the paragraph processor appends to the item's text instead.
        return (
            _PLAIN_BLOCK.fullmatch(block) is not None
            and "  \n" not in block
            and not self.parser.state.isstate("list")
        )

    def run(self, parent: etree.Element, blocks: list[str]) -> None:
        block = blocks.pop(0)
        if block.strip():
            etree.SubElement(parent, "p").text = AtomicString(block.lstrip())


def reference_markdown() -> markdown.Markdown:
    """Python-Markdown as bodies are converted, without shortcuts: the site's extensions, raw
    HTML shown as text (bodies come from scraped pages, and the importer writes none: it
    escapes what looks like markup), unsafe link and image targets removed."""
    md = markdown.Markdown(extensions=["extra", "sane_lists"], output_format="html")
    md.preprocessors.deregister("html_block")
    md.inlinePatterns.deregister("html")
    # after "unescape" (priority 0), which puts backslash-escaped characters back into targets
    md.treeprocessors.register(_UnsafeLinks(md), "unsafe_links", -1)
    return md


class BodyConverter:
    """Converts bodies with one reused Python-Markdown instance per set of shortcuts (reset
    between documents, as its docs advise)."""

    def __init__(self) -> None:
        self._converters: dict[tuple[frozenset[str], bool] | None, markdown.Markdown] = {}

    def convert(self, text: str) -> str:
        return self._converter(self._shortcuts(text)).reset().convert(text)

    @staticmethod
    def _shortcuts(text: str) -> tuple[frozenset[str], bool] | None:
        """The inline patterns the text cannot need, and whether plain paragraphs may skip
        them all (not when the text may define an abbreviation, `*[HTML]: ...`, which applies
        to every paragraph's text); None for no shortcut."""
        if any(character in text for character in _REWRITTEN_BEFORE_PARSING):
            return None
        unused = frozenset(
            name for name, needs in _INLINE_NEEDS.items() if not any(need in text for need in needs)
        )
        return unused, "*[" not in text

    def _converter(self, shortcuts: tuple[frozenset[str], bool] | None) -> markdown.Markdown:
        md = self._converters.get(shortcuts)
        if md is None:
            md = self._converters[shortcuts] = reference_markdown()
            if shortcuts is not None:
                unused, plain_paragraphs = shortcuts
                for name in unused:
                    md.inlinePatterns.deregister(name)
                if plain_paragraphs:
                    processor = _PlainParagraph(md.parser)
                    md.parser.blockprocessors.register(processor, "plain", _PLAIN_PRIORITY)
        return md
