"""Boilerplate, credit and caption rules: shipped defaults plus a site's own file.

The rules are data so a user can teach the importer about a new publication by editing
`data/boilerplate.yaml` instead of the code (see the comments in the shipped
`boilerplate.yaml` for the format).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from clippings.errors import BuildError, Problem
from clippings.yamlfile import load_mapping, read_text_file

DEFAULTS = Path(__file__).with_name("boilerplate.yaml")
RULE_KEYS = ("lines", "footer_start", "status_prefixes", "credits", "captions", "caption_credits")
# Credits and captions rely on capitals (a name vs a sentence), the rest ignore case.
_CASE_SENSITIVE = frozenset({"credits", "captions", "caption_credits"})
_WHOLE_LINE = ("lines", "footer_start", "credits", "captions")  # the kinds that match whole lines
# A back-reference or a conditional on a group (`\1`, `(?P=name)`, `(?(1)…)`), or what looks
# like one (an escaped backslash before a digit): such rules are tried one by one.
_REFERS_BACK = re.compile(r"\\[1-9]|\(\?P=|\(\?\(")


@dataclass(frozen=True)
class Rules:
    """Compiled patterns, one tuple per rule kind: whole-line matches, but `status_prefixes`
    (a line's start) and `caption_credits` (deleted wherever they match)."""

    lines: tuple[re.Pattern[str], ...]
    footer_start: tuple[re.Pattern[str], ...]
    status_prefixes: tuple[re.Pattern[str], ...]
    credits: tuple[re.Pattern[str], ...]
    captions: tuple[re.Pattern[str], ...]
    caption_credits: tuple[re.Pattern[str], ...]  # deleted from a caption's text, in order

    def __post_init__(self) -> None:
        whole_line = {kind: _one_of(getattr(self, kind)) for kind in _WHOLE_LINE}
        object.__setattr__(self, "_whole_line", whole_line)

    def matches(self, kind: str, line: str) -> bool:
        one_of = self._whole_line.get(kind)  # type: ignore[attr-defined]
        if one_of is not None:
            return one_of.fullmatch(line) is not None
        return any(pattern.fullmatch(line) for pattern in getattr(self, kind))

    def strip_caption_credits(self, caption: str) -> str:
        for pattern in self.caption_credits:
            caption = pattern.sub("", caption)
        return caption

    def strip_status(self, line: str) -> str:
        """`Updated | Text` → `Text`: the banner is followed by `|` or `:`, or is in brackets."""
        for pattern in self.status_prefixes:
            match = pattern.match(line)
            if match:
                return line[match.end() :]
        return line


def _one_of(patterns: tuple[re.Pattern[str], ...]) -> re.Pattern[str] | None:
    """One pattern that fully matches a line when any of `patterns` does: one call per line
    instead of one per rule (300 rules, a sixth of the segmenter's time). None where the
    alternation could mean something else: a back-reference would count groups anew, and a
    global flag may not stand inside it."""
    texts = [pattern.pattern for pattern in patterns]
    if not texts or any(_REFERS_BACK.search(text) for text in texts):
        return None
    try:
        return re.compile("|".join(f"(?:{text})" for text in texts), patterns[0].flags)
    except re.error:
        return None


def _raw_rules(path: Path, display: str) -> dict:
    if not path.is_file():  # a FIFO would be waited on for ever
        raise BuildError([Problem(display, None, "not a regular file; rules are not read")])
    text, problems = read_text_file(path, display)
    mapping, problems = load_mapping(text, display) if text is not None else (None, problems)
    if mapping is None:
        raise BuildError(problems)
    return mapping.data


def _check(section: dict, display: str, where: str) -> list[Problem]:
    problems = []
    for key, patterns in section.items():
        if key not in RULE_KEYS:
            problems.append(Problem(display, None, f"{where}unknown key '{key}'"))
            continue
        if not isinstance(patterns, list) or not all(isinstance(p, str) for p in patterns):
            problems.append(Problem(display, None, f"{where}'{key}' must be a list of patterns"))
            continue
        for pattern in patterns:
            try:
                re.compile(pattern)
            except re.error as error:
                problems.append(
                    Problem(display, None, f"{where}{key}: bad pattern {pattern!r}: {error}")
                )
    return problems


def load_rules(site_file: Path | None = None, publication: str | None = None) -> Rules:
    """Defaults, then the site's general rules, then its rules for `publication`."""
    sources = [(DEFAULTS, str(DEFAULTS))]
    if site_file is not None and site_file.exists():
        sources.append((site_file, str(site_file)))
    collected: dict[str, list[str]] = {key: [] for key in RULE_KEYS}
    problems: list[Problem] = []
    for path, display in sources:
        data = _raw_rules(path, display)
        publications = data.pop("publications", None) or {}
        sections = [(data, "")]
        if publication and isinstance(publications, dict):
            sections += [
                (spec, f"publications: {name}: ")
                for name, spec in publications.items()
                if str(name).casefold() == publication.casefold() and isinstance(spec, dict)
            ]
        for section, where in sections:
            problems += _check(section, display, where)
            for key in RULE_KEYS:
                collected[key] += [p for p in section.get(key) or [] if isinstance(p, str)]
    if problems:
        raise BuildError(problems)

    def compiled(key: str) -> tuple[re.Pattern[str], ...]:
        flags = 0 if key in _CASE_SENSITIVE else re.IGNORECASE
        if key == "status_prefixes":
            # "Updated | ", "Breaking: " and Yonhap's "(LEAD) ", "[UPDATE] ".
            return tuple(
                re.compile(rf"(?:(?:{p})\s*[|:]|[(\[](?:{p})[)\]])\s*", flags)
                for p in collected[key]
            )
        if key == "caption_credits":
            # Deleted wherever they match, so searched for from every character: one that opens
            # with any amount of white space (\s* or \s+) starts only where white space starts:
            # the same leftmost matches, where from every space of a long run it was quadratic.
            return tuple(
                re.compile(rf"(?<!\s){p}" if p.startswith((r"\s*", r"\s+")) else p, flags)
                for p in collected[key]
            )
        return tuple(re.compile(p, flags) for p in collected[key])

    return Rules(*(compiled(key) for key in RULE_KEYS))
