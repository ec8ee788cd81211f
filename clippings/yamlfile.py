"""YAML parsing with line numbers, duplicate-key detection and no silent timestamp conversion.

PyYAML's C loader does the parsing; composing to nodes first gives us the line of every key, so
problems can point at the exact line, and lets us reject duplicate keys that PyYAML would
otherwise resolve silently by keeping the last one.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from clippings.errors import Problem
from clippings.files import NotRegularFile, read_regular, reason


class _Loader(yaml.CSafeLoader):
    """Safe C loader that keeps timestamps as strings: dates are validated by the caller."""


_Loader.add_constructor(
    "tag:yaml.org,2002:timestamp", lambda loader, node: loader.construct_scalar(node)
)

# How many values aliases may add to a document. Nine aliases of nine aliases, eight deep, stand
# for 43 million values in a few lines (a "billion laughs"): cheap to parse, but every later
# walk of the value (a fingerprint, an error message) would take tens of seconds.
ALIAS_GROWTH_LIMIT = 100_000


@dataclass(frozen=True)
class YamlMapping:
    """A parsed top-level mapping, the 1-based line of each of its keys and of the keys of the
    mappings under them (the authority file's entries)."""

    data: dict[str, Any]
    key_lines: dict[str, int]
    inner_key_lines: dict[tuple[str, str], int] = field(default_factory=dict)

    def line_of(self, key: str, default: int) -> int:
        return self.key_lines.get(key, default)

    def line_within(self, key: str, inner_key: object, default: int) -> int:
        """The line of `inner_key` in the mapping under `key` (YAML's spelling of scalars)."""
        spelling = str(inner_key).lower() if isinstance(inner_key, bool) else str(inner_key)
        return self.inner_key_lines.get((key, spelling), default)


def load_mapping(
    text: str, path: str, first_line: int = 1
) -> tuple[YamlMapping | None, list[Problem]]:
    """Parse `text` as a YAML mapping; `first_line` is the file line where `text` starts."""
    offset = first_line - 1
    loader = _Loader(text)
    try:
        node = loader.get_single_node()
        if node is None:
            return YamlMapping({}, {}), []
        if not isinstance(node, yaml.MappingNode):
            return None, [Problem(path, first_line, "expected a mapping of keys to values")]
        overgrown = _overgrown_key(node)
        if overgrown is not None:
            line = overgrown.start_mark.line + 1 + offset
            message = f"YAML error: aliases here expand to more than {ALIAS_GROWTH_LIMIT:,} values"
            return None, [Problem(path, line, message)]
        problems: list[Problem] = []
        key_lines: dict[str, int] = {}
        inner_key_lines: dict[tuple[str, str], int] = {}
        for key_node, value_node in node.value:
            if not isinstance(key_node, yaml.ScalarNode):
                # A list or mapping as a key is reported by construction as unhashable; its
                # repr could be huge (an alias bomb), so it is never turned into text here.
                continue
            key = str(key_node.value)
            line = key_node.start_mark.line + 1 + offset
            if key in key_lines:
                problems.append(
                    Problem(
                        path, line, f"duplicate key '{key}' (first given on line {key_lines[key]})"
                    )
                )
            else:
                key_lines[key] = line
            if isinstance(value_node, yaml.MappingNode):
                for inner, _ in value_node.value:
                    if isinstance(inner, yaml.ScalarNode):
                        inner_line = inner.start_mark.line + 1 + offset
                        inner_key_lines.setdefault((key, str(inner.value)), inner_line)
        data = loader.construct_document(node)
    except yaml.reader.ReaderError as error:
        # Raised for control characters; it carries a character offset, not a line.
        line = text.count("\n", 0, error.position) + 1 + offset
        reason = f"{error.reason} (character #x{error.character:04x})"
        return None, [Problem(path, line, f"YAML syntax error: {reason}")]
    except yaml.MarkedYAMLError as error:
        mark = error.problem_mark or error.context_mark
        line = mark.line + 1 + offset if mark else first_line
        reason = error.problem or error.context or "invalid YAML"
        return None, [Problem(path, line, f"YAML syntax error: {reason}")]
    except yaml.YAMLError as error:
        return None, [Problem(path, first_line, f"YAML error: {error}")]
    except (ValueError, TypeError) as error:
        return None, [Problem(path, first_line, f"YAML error: {error}")]
    finally:
        loader.dispose()
    if problems:
        return None, problems
    return YamlMapping({str(k): v for k, v in data.items()}, key_lines, inner_key_lines), []


def _overgrown_key(root: yaml.MappingNode) -> yaml.Node | None:
    """The key of the top-level entry that grows most through aliases, if aliases make the
    document more than `ALIAS_GROWTH_LIMIT` values larger than its nodes: sizes are counted
    once per node (an alias is the node it names), without recursion (nesting may be deep)."""
    sizes: dict[int, int] = {}
    stack: list[tuple[yaml.Node, bool]] = [(root, False)]
    while stack:
        node, counted_children = stack.pop()
        if counted_children:  # a node inside itself (a recursive alias) adds nothing
            sizes[id(node)] = 1 + sum(sizes.get(id(child), 0) for child in _children(node))
        elif id(node) not in sizes:  # an alias met again is counted once
            sizes[id(node)] = 0
            stack.append((node, True))
            stack.extend((child, False) for child in _children(node) if id(child) not in sizes)
    if sizes[id(root)] - len(sizes) <= ALIAS_GROWTH_LIMIT:
        return None
    return max(root.value, key=lambda pair: sizes[id(pair[0])] + sizes[id(pair[1])])[0]


def _children(node: yaml.Node) -> list[yaml.Node]:
    if isinstance(node, yaml.SequenceNode):
        return node.value
    if isinstance(node, yaml.MappingNode):
        return [part for pair in node.value for part in pair]
    return []


def read_text_file(path: Path, display: str) -> tuple[str | None, list[Problem]]:
    """Read a UTF-8 text file; unreadable, binary or non-UTF-8 files are problems, not tracebacks."""
    try:
        raw = read_regular(path)  # a FIFO or device is refused, never waited on
    except NotRegularFile as error:
        return None, [Problem(display, None, reason(error))]
    except OSError as error:
        return None, [Problem(display, None, f"cannot read file: {reason(error)}")]
    return decode_text(raw, display)


def decode_text(raw: bytes, display: str) -> tuple[str | None, list[Problem]]:
    """The bytes of a text file as read (`read_text_file`) decoded, or why they are not text."""
    if raw.startswith((b"\xff\xfe", b"\xfe\xff")):
        return None, [Problem(display, None, "saved as UTF-16; save the file as UTF-8")]
    if b"\0" in raw:
        return None, [
            Problem(display, None, "binary file (contains NUL bytes); expected UTF-8 text")
        ]
    try:
        return raw.decode("utf-8"), []
    except UnicodeDecodeError as error:
        line = raw[: error.start].count(b"\n") + 1
        message = f"not valid UTF-8 (byte 0x{raw[error.start]:02x}); save the file as UTF-8"
        return None, [Problem(display, line, message)]
