"""Every regular expression of `clippings/`, collected programmatically, and adversarial lines
built from each pattern's own pieces: the material of `test_regex_backtracking.py`.

Patterns come from four places, so a new one cannot slip past the test:
- module globals of every module (a pattern, or a list, tuple or dict of them);
- every `re.compile/match/search/...` call in the source, found with `ast` (patterns built in
  functions; an f-string's holes are filled from module constants, or with a literal);
- the importer's rule files (`boilerplate.yaml`, every publication's section, and the site's
  `data/boilerplate.yaml`) compiled by `rules.load_rules`, and `matching.yaml`'s outlet patterns;
- the matchers the importer builds from data (countries, sources, known people).
"""

from __future__ import annotations

import ast
import importlib
import pkgutil
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from re import _constants as sre
from re import _parser as sre_parse

import clippings

REPO = Path(__file__).resolve().parents[2]
PACKAGE = REPO / "clippings"
ANCHORED = frozenset({"match", "fullmatch"})
# What each method costs in the worst case: `search` (and finditer, sub, split, findall) tries
# every start; `match` and `fullmatch` only the first.
SEARCHING = frozenset({"search", "finditer", "findall", "sub", "subn", "split"})
RE_FUNCTIONS = ANCHORED | SEARCHING | {"compile"}
# How the importer applies each kind of rule (clippings/importer/rules.py).
RULE_METHODS = {
    "lines": {"fullmatch"},
    "footer_start": {"fullmatch"},
    "credits": {"fullmatch"},
    "captions": {"fullmatch"},
    "status_prefixes": {"match"},
    "caption_credits": {"search"},
}
_HOLE = "Qq"  # an f-string hole that is not a module constant (a name, a surname)


@dataclass(frozen=True)
class Audited:
    label: str  # where it comes from: module:NAME, file:line, rules:kind
    pattern: re.Pattern[str]
    methods: frozenset[str]  # "search" and/or "match"/"fullmatch"


def _modules() -> Iterator[object]:
    for info in pkgutil.walk_packages(clippings.__path__, "clippings."):
        if not info.name.endswith("__main__"):  # runs the importer on import
            yield importlib.import_module(info.name)


def _sources() -> dict[Path, ast.Module]:
    return {
        path: ast.parse(path.read_text(encoding="utf-8"))
        for path in PACKAGE.rglob("*.py")
        if path.name != "__main__.py"  # runs the importer on import
    }


def _methods_by_name(trees: dict[Path, ast.Module]) -> dict[str, set[str]]:
    """The re methods called on each name (`_DATELINE.match(...)`, `self.pattern.finditer`)."""
    used: dict[str, set[str]] = {}
    for tree in trees.values():
        for node in ast.walk(tree):
            if isinstance(node, ast.Attribute) and node.attr in RE_FUNCTIONS:
                owner = node.value
                name = getattr(owner, "id", None) or getattr(owner, "attr", None)
                if name:
                    used.setdefault(name, set()).add(node.attr)
    return used


def _kind(methods: set[str] | None) -> frozenset[str]:
    """The methods to try: those the code uses, or every kind when a pattern is passed around."""
    if methods and methods <= ANCHORED:
        return frozenset(methods)
    if methods and methods <= SEARCHING:
        return frozenset({"search"})
    return frozenset({"search", "fullmatch"})


def _patterns_in(value: object) -> Iterator[re.Pattern[str]]:
    if isinstance(value, re.Pattern):
        yield value
    elif isinstance(value, list | tuple):
        for item in value:
            yield from _patterns_in(item)
    elif isinstance(value, dict):
        for item in value.values():
            yield from _patterns_in(item)


def _flags(call: ast.Call) -> int:
    flags = 0
    for node in ast.walk(call):
        if isinstance(node, ast.Attribute) and getattr(node.value, "id", None) == "re":
            value = getattr(re, node.attr, None)
            if isinstance(value, re.RegexFlag):
                flags |= value
    return flags


def _literal(node: ast.expr, constants: dict[str, object]) -> str | None:
    """The pattern text of a call's first argument: a string, or an f-string with its holes
    filled (module string constants as they are, anything else as a plain word)."""
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return node.value
    if isinstance(node, ast.JoinedStr):
        parts = []
        for value in node.values:
            if isinstance(value, ast.Constant):
                parts.append(str(value.value))
            else:
                name = getattr(value.value, "id", None)  # type: ignore[attr-defined]
                constant = constants.get(name) if name else None
                parts.append(constant if isinstance(constant, str) else _HOLE)
        return "".join(parts)
    if isinstance(node, ast.Name) and isinstance(constants.get(node.id), str):
        return constants[node.id]  # type: ignore[return-value]
    return None


def _assigned_names(tree: ast.Module) -> dict[int, str]:
    """The name each `X = re.compile(...)` assigns its pattern to, by the call's id."""
    names = {}
    for node in ast.walk(tree):
        if isinstance(node, ast.Assign) and len(node.targets) == 1:
            target = node.targets[0]
            name = getattr(target, "id", None) or getattr(target, "attr", None)
            if name:
                names[id(node.value)] = name
    return names


def _inline(trees: dict[Path, ast.Module], used: dict[str, set[str]]) -> Iterator[Audited]:
    for path, tree in trees.items():
        module = importlib.import_module(
            ".".join(path.relative_to(REPO).with_suffix("").parts).removesuffix(".__init__")
        )
        constants = vars(module)
        assigned = _assigned_names(tree)
        for node in ast.walk(tree):
            if not (
                isinstance(node, ast.Call)
                and isinstance(node.func, ast.Attribute)
                and getattr(node.func.value, "id", None) == "re"
                and node.func.attr in RE_FUNCTIONS
                and node.args
            ):
                continue
            text = _literal(node.args[0], constants)
            label = f"{path.relative_to(REPO)}:{node.lineno}"
            if text is None:
                continue  # a pattern held in a variable: collected from where it was built
            if node.func.attr == "compile":  # used where it is assigned to
                methods = _kind(used.get(assigned.get(id(node), "")))
            else:
                methods = _kind({node.func.attr})
            yield Audited(label, re.compile(text, _flags(node)), methods)


def _rules() -> Iterator[Audited]:
    from clippings.importer.rules import DEFAULTS, RULE_KEYS, load_rules
    from clippings.yamlfile import load_mapping

    site_rules = REPO / "data" / "boilerplate.yaml"
    publications: set[str | None] = {None}
    for path in (DEFAULTS, site_rules):
        if path.exists():
            mapping, _ = load_mapping(path.read_text(encoding="utf-8"), str(path))
            publications |= {str(name) for name in (mapping.data.get("publications") or {})}
    for publication in sorted(publications, key=str):
        rules = load_rules(site_rules if site_rules.exists() else None, publication)
        for key in RULE_KEYS:
            for pattern in getattr(rules, key):
                yield Audited(f"rules:{key}", pattern, frozenset(RULE_METHODS[key]))


def _matchers() -> Iterator[Audited]:
    from clippings.authority import load_authority
    from clippings.importer import entities

    authority = load_authority(REPO / "data" / "entities.yaml")
    countries = entities.Countries(authority)
    sources = entities.Sources(authority)
    people = entities.People(authority)
    search = frozenset({"search"})
    yield Audited("entities:countries", countries.pattern, search)
    yield Audited("entities:sources", sources.pattern, search)
    yield Audited("entities:not_outlets", sources.not_outlets, frozenset({"search", "fullmatch"}))
    for pattern in sources.outlet_patterns:
        yield Audited("matching.yaml:outlet_patterns", pattern, search)
    for _, pattern in people.known_mentions:
        yield Audited("entities:known_mentions", pattern, search)


def collect() -> list[Audited]:
    """Every pattern once (by text and flags), with the methods it is used with."""
    trees = _sources()
    used = _methods_by_name(trees)
    found: list[Audited] = []
    for module in _modules():
        for name, value in vars(module).items():
            for pattern in _patterns_in(value):
                found.append(Audited(f"{module.__name__}:{name}", pattern, _kind(used.get(name))))
    found += [*_inline(trees, used), *_rules(), *_matchers()]
    unique: dict[tuple[str, int], Audited] = {}
    for audited in found:
        key = (audited.pattern.pattern, audited.pattern.flags)
        if key in unique:
            merged = unique[key].methods | audited.methods
            unique[key] = Audited(unique[key].label, audited.pattern, merged)
        else:
            unique[key] = audited
    return list(unique.values())


# --- adversarial lines --------------------------------------------------------------------

_CATEGORY_CHARS = {
    sre.CATEGORY_DIGIT: "1",
    sre.CATEGORY_NOT_DIGIT: "a",
    sre.CATEGORY_SPACE: " ",
    sre.CATEGORY_NOT_SPACE: "a",
    sre.CATEGORY_WORD: "a",
    sre.CATEGORY_NOT_WORD: " ",
}
_REPEATS = (sre.MAX_REPEAT, sre.MIN_REPEAT, sre.POSSESSIVE_REPEAT)


def _in_char(items: list) -> str:
    if items and items[0][0] is sre.NEGATE:
        excluded = {chr(value) for op, value in items[1:] if op is sre.LITERAL}
        return next(c for c in "a1 A.-" if c not in excluded)
    op, value = items[0]
    if op is sre.LITERAL:
        return chr(value)
    if op is sre.RANGE:
        return chr(value[0])
    return _CATEGORY_CHARS.get(value, "a")


def _witness(items: list, pieces: set[str]) -> str:
    """A short string the items match, noting every repeated body's and branch's own witness
    in `pieces` along the way (those are what an attacker repeats)."""
    out = []
    for op, value in items:
        if op is sre.LITERAL:
            out.append(chr(value))
        elif op is sre.NOT_LITERAL:
            out.append("a" if value != ord("a") else "b")
        elif op is sre.ANY:
            out.append("a")
        elif op is sre.IN:
            out.append(_in_char(value))
        elif op in _REPEATS:
            low, _, body = value
            once = _witness(list(body), pieces)
            pieces.add(once)
            out.append(once * max(low, 1))
        elif op is sre.SUBPATTERN:
            out.append(_witness(list(value[-1]), pieces))
        elif op is sre.ATOMIC_GROUP:
            out.append(_witness(list(value), pieces))
        elif op is sre.BRANCH:
            branches = [_witness(list(branch), pieces) for branch in value[1]]
            pieces.update(branches[:: max(1, len(branches) // 12)])  # big alternations: a sample
            out.append(branches[0])
        elif op in (sre.ASSERT, sre.ASSERT_NOT):
            _witness(list(value[1]), pieces)
    return "".join(out)


def pieces_of(pattern: re.Pattern[str]) -> tuple[str, list[str]]:
    """A witness of the whole pattern, and the pieces to repeat: the pattern's own (witnesses
    of its repeats and branches) and generic ones (spaces, digits, words, punctuation)."""
    found: set[str] = set()
    whole = _witness(list(sre_parse.parse(pattern.pattern, pattern.flags)), found) or "a"
    generic = ["1", " ", "a", "A", "Aa ", "1:00 ", ". ", "-", "A. ", "Aa and "]
    own = sorted((p for p in found if p), key=lambda p: (len(p), p))[:24]
    return whole, list(dict.fromkeys([*own, whole, *generic]))


def adversarial_lines(pattern: re.Pattern[str], length: int) -> dict[str, str]:
    """Lines of about `length` characters: each piece repeated bare, with spaces or new lines,
    after the pattern's own witness, with an end that fails ("!", NUL) or none; and all of
    the pattern's pieces in turn (a date, ten times "10:00", then "Read more")."""
    whole, pieces = pieces_of(pattern)
    lines: dict[str, str] = {}
    for piece in pieces:
        for joint in ("", " ", "\n"):
            unit = piece + joint
            body = unit * max(1, length // len(unit))
            for end in ("", "!", "\0"):
                lines[f"({piece!r} {joint!r}) * n {end!r}"] = body + end
            if joint != "\n":
                lines[f"{whole!r} ({piece!r} {joint!r}) * n '!'"] = whole + body + "!"
    mixed = " ".join(pieces)
    lines["all pieces"] = (mixed + " ") * max(1, length // (len(mixed) + 1)) + "!"
    return lines
