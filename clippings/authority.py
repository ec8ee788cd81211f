"""The authority file: one canonical name per person, country and source, with their aliases.

Format (`data/entities.yaml`)::

    people:
      Kim Jong Un:
        aliases: [Kim Jong-un, Kim Jong Eun]
        description: Supreme Leader of North Korea since 2011.
        wikidata: Q56226
    countries:
      North Korea:
        aliases: [DPRK, Democratic People's Republic of Korea]
    sources:
      KCNA:
        aliases: [Korean Central News Agency]

Every name and alias is matched by its slug, so spelling variants that differ only in case,
accents, hyphens or spacing resolve to the same entity without being listed.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from clippings.errors import BuildError, Problem
from clippings.text import slugify
from clippings.yamlfile import load_mapping, read_text_file

KINDS: tuple[str, ...] = ("people", "countries", "sources")
ENTITY_KEYS = frozenset(
    {"aliases", "description", "wikidata", "iso", "sort_name", "family_name_first"}
)


@dataclass(frozen=True)
class Entity:
    """A canonical term with what the authority file says about it."""

    kind: str
    name: str
    aliases: tuple[str, ...] = ()
    description: str | None = None
    wikidata: str | None = None
    iso: str | None = None  # countries: ISO 3166-1 alpha-2 code, for the map
    sort_name: str | None = None  # people: how the name sorts ("Xi Jinping" -> "Xi Jinping")
    family_name_first: bool = False  # people: the family name is the first word (Kim Jong Un)

    @property
    def slug(self) -> str:
        return slugify(self.name)


@dataclass(frozen=True)
class Authority:
    """Lookup of canonical entities by kind and by the slug of any of their names."""

    by_key: dict[str, dict[str, Entity]] = field(default_factory=dict)

    def lookup(self, kind: str, name: str) -> Entity | None:
        return self.by_key.get(kind, {}).get(slugify(name))

    def canonical(self, kind: str, name: str) -> str:
        """The canonical spelling of `name`, or `name` itself when the authority does not know it."""
        entity = self.lookup(kind, name)
        return entity.name if entity else name

    def entities(self, kind: str) -> list[Entity]:
        unique = {entity.name: entity for entity in self.by_key.get(kind, {}).values()}
        return [unique[name] for name in sorted(unique)]


def _string_list(value: object) -> list[str] | None:
    if isinstance(value, list) and all(isinstance(item, str) for item in value):
        return value
    return None


def _entity_problems(kind: str, name: str, spec: dict) -> list[str]:
    problems = [f"unknown key '{key}'" for key in sorted(set(spec) - ENTITY_KEYS)]
    if "aliases" in spec and _string_list(spec["aliases"]) is None:
        problems.append("'aliases' must be a list of names")
    for key in ("description", "wikidata", "iso", "sort_name"):
        if spec.get(key) is not None and not isinstance(spec[key], str):
            problems.append(f"'{key}' must be text")
    if not isinstance(spec.get("family_name_first", False), bool):
        problems.append("'family_name_first' must be true or false")
    return [f"{kind}: {name}: {problem}" for problem in problems]


def parse_authority(text: str, path: str) -> Authority:
    """Parse and validate the authority file's text, raising BuildError with every problem."""
    mapping, problems = load_mapping(text, path)
    if mapping is None:
        raise BuildError(problems)
    by_key: dict[str, dict[str, Entity]] = {kind: {} for kind in KINDS}
    for kind, entries in mapping.data.items():
        line = mapping.line_of(kind, 1)
        if kind not in KINDS:
            problems.append(
                Problem(path, line, f"unknown kind '{kind}' (expected one of {', '.join(KINDS)})")
            )
            continue
        if entries is None:
            continue
        if not isinstance(entries, dict):
            problems.append(
                Problem(path, line, f"'{kind}' must map canonical names to their details")
            )
            continue
        for name, spec in entries.items():
            spec = spec or {}
            if not isinstance(spec, dict):
                problems.append(Problem(path, line, f"{kind}: {name}: details must be a mapping"))
                continue
            messages = _entity_problems(kind, str(name), spec)
            problems.extend(Problem(path, line, message) for message in messages)
            if messages:
                continue
            entity = Entity(
                kind=kind,
                name=str(name),
                aliases=tuple(spec.get("aliases") or ()),
                description=spec.get("description"),
                wikidata=spec.get("wikidata"),
                iso=spec.get("iso"),
                sort_name=spec.get("sort_name"),
                family_name_first=spec.get("family_name_first", False),
            )
            for spelling in (entity.name, *entity.aliases):
                key = slugify(spelling)
                other = by_key[kind].get(key)
                if other is not None and other.name != entity.name:
                    problems.append(
                        Problem(
                            path,
                            line,
                            f"{kind}: '{spelling}' names both '{other.name}' and '{entity.name}'",
                        )
                    )
                by_key[kind][key] = entity
    if problems:
        raise BuildError(problems)
    return Authority(by_key)


def load_authority(path: Path, display: str | None = None) -> Authority:
    """Read the authority file; a missing file is an empty authority."""
    if not path.exists():
        return Authority({kind: {} for kind in KINDS})
    text, problems = read_text_file(path, display or str(path))
    if text is None:
        raise BuildError(problems)
    return parse_authority(text, display or str(path))
