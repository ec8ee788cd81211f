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

import re
from dataclasses import dataclass, field
from pathlib import Path

from clippings.errors import BuildError, Problem, shown
from clippings.text import XML_FORBIDDEN_DROPPED, slugify, without_xml_forbidden
from clippings.yamlfile import load_mapping, read_text_file

KINDS: tuple[str, ...] = ("people", "countries", "sources")
ENTITY_KEYS = frozenset(
    {"aliases", "description", "wikidata", "iso", "sort_name", "family_name_first"}
)
_WIKIDATA_ID = re.compile(r"Q[1-9][0-9]*")  # it becomes part of a link to wikidata.org


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
    # Problems that did not stop the build (characters dropped from a name), for the summary.
    warnings: tuple[Problem, ...] = field(default=(), compare=False)

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


def _entity_problems(kind: str, name: object, spec: dict) -> list[str]:
    """What is wrong with one entry; a name or value of the wrong type is never made text."""
    problems = [f"unknown key '{key}'" for key in sorted(set(spec) - ENTITY_KEYS)]
    if not isinstance(name, str):
        hint = "; put it in quotes if it is meant as a name"
        problems.append(f"the name must be text, not {shown(name)}{hint}")
    elif not " ".join(without_xml_forbidden(name).split()):
        problems.append("the name must not be empty")
    if "aliases" in spec and _string_list(spec["aliases"]) is None:
        problems.append("'aliases' must be a list of names")
    for key in ("description", "wikidata", "iso", "sort_name"):
        if spec.get(key) is not None and not isinstance(spec[key], str):
            problems.append(f"'{key}' must be text, not {shown(spec[key])}")
    wikidata = spec.get("wikidata")
    if isinstance(wikidata, str) and not _WIKIDATA_ID.fullmatch(wikidata):
        problems.append(f"'wikidata' must be an item id such as Q56226, not {shown(wikidata)}")
    if not isinstance(spec.get("family_name_first", False), bool):
        problems.append("'family_name_first' must be true or false")
    return [f"{kind}: {_label(name)}: {problem}" for problem in problems]


def _label(name: object) -> str:
    """A name as messages show it: control characters escaped, a long one cut short."""
    return shown(name)[1:-1] if isinstance(name, str) else shown(name)


def _entity(kind: str, name: str, spec: dict, dropped: list[str]) -> Entity:
    """The entity of a valid entry, its text without what XML 1.0 forbids (each field that
    held some noted in `dropped`, for a warning)."""

    def clean(text: str, field: str) -> str:
        without = without_xml_forbidden(text)
        if without != text:
            dropped.append(f"{kind}: {_label(name)}: {field}{XML_FORBIDDEN_DROPPED}")
        return without

    aliases = (clean(alias, "aliases: ") for alias in spec.get("aliases") or ())
    description = spec.get("description")
    sort_name = spec.get("sort_name")
    return Entity(
        kind=kind,
        name=" ".join(clean(name, "").split()),
        aliases=tuple(alias for alias in aliases if alias.strip()),
        description=None if description is None else clean(description, "description: "),
        wikidata=spec.get("wikidata"),
        iso=spec.get("iso"),
        sort_name=None if sort_name is None else clean(sort_name, "sort_name: "),
        family_name_first=spec.get("family_name_first", False),
    )


def parse_authority(text: str, path: str) -> Authority:
    """Parse and validate the authority file's text, raising BuildError with every problem."""
    mapping, problems = load_mapping(text, path)
    if mapping is None:
        raise BuildError(problems)
    by_key: dict[str, dict[str, Entity]] = {kind: {} for kind in KINDS}
    warnings: list[Problem] = []
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
            line = mapping.line_within(kind, name, mapping.line_of(kind, 1))
            spec = spec or {}
            if not isinstance(spec, dict):
                message = f"{kind}: {_label(name)}: details must be a mapping"
                problems.append(Problem(path, line, message))
                continue
            messages = _entity_problems(kind, name, spec)
            problems.extend(Problem(path, line, message) for message in messages)
            if messages:
                continue
            dropped: list[str] = []
            entity = _entity(kind, name, spec, dropped)
            warnings.extend(Problem(path, line, message, warning=True) for message in dropped)
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
    return Authority(by_key, tuple(warnings))


def load_authority(path: Path, display: str | None = None) -> Authority:
    """Read the authority file; a missing file is an empty authority."""
    if not path.exists():
        return Authority({kind: {} for kind in KINDS})
    text, problems = read_text_file(path, display or str(path))
    if text is None:
        raise BuildError(problems)
    return parse_authority(text, display or str(path))
