"""Validation means types (issue 13, class 8): a value YAML read as the wrong type is an error at
its line, never turned into text; slugs and aliases with control characters are refused; dates
with time zones sort by the instant they name. Content, config and the authority file alike."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from clippings.authority import parse_authority
from clippings.config import parse_config
from clippings.content import NAME_LISTS, TEXT_FIELDS, parse_article
from clippings.errors import BuildError
from tests.reliability.report import FIGURES

pytestmark = pytest.mark.timeout(120)

SOURCE = "content/2018/x.md"
BASE = "title: A title\ndate: 2018-08-15\npublication: KCNA\n"
EXAMPLES = 60
SETTINGS = settings(max_examples=EXAMPLES, deadline=None, derandomize=True, database=None)
FIGURES.expected["types"] = 5


def problems_of(front: str) -> list[str]:
    article, problems = parse_article(f"---\n{front}---\nBody.\n", SOURCE)
    errors = [str(p) for p in problems if not p.warning]
    assert (article is None) == bool(errors)
    return errors


# YAML that does not read as text: numbers, booleans (YAML 1.1's yes/no/on/off too), lists, maps.
NOT_TEXT = {
    "5": "a number",
    "3.5": "a number",
    "0x1F": "a number",
    "1.0e+3": "a number",
    "true": "true or false",
    "no": "true or false",
    "On": "true or false",
    "[a]": "a list",
    "{a: 1}": "a mapping",
}
TEXT_KEYS = ("title", "publication", *TEXT_FIELDS, "retrieved", "imported", "slug")


@pytest.mark.parametrize("key", TEXT_KEYS)
@pytest.mark.parametrize("value", sorted(NOT_TEXT))
def test_a_text_field_of_another_type_is_an_error_at_its_line(key: str, value: str):
    front = "".join(line for line in BASE.splitlines(True) if not line.startswith(f"{key}:"))
    errors = problems_of(front + f"{key}: {value}\n")
    line = front.count("\n") + 2
    assert len(errors) == 1, errors
    assert errors[0].startswith(f"{SOURCE}:{line}: front matter: '{key}' must be")
    assert f"not {NOT_TEXT[value]}" in errors[0]


@pytest.mark.parametrize("key", NAME_LISTS)
@pytest.mark.parametrize("item", sorted(NOT_TEXT))
def test_a_name_of_another_type_is_an_error(key: str, item: str):
    errors = problems_of(BASE + f"{key}: [Russia, {item}]\n")
    assert len(errors) == 1, errors
    assert errors[0].startswith(f"{SOURCE}:5: front matter: '{key}' must be a list of names;")
    assert f"is {NOT_TEXT[item]}, not a name" in errors[0]


@pytest.mark.parametrize("key", ("captions", "aliases"))
@pytest.mark.parametrize("item", ("5", "true", "[a]", "{a: 1}"))
def test_a_line_of_another_type_is_an_error(key: str, item: str):
    errors = problems_of(BASE + f"{key}: [fine, {item}]\n")
    assert errors and errors[0].startswith(f"{SOURCE}:5: front matter: '{key}' must be a list")


def test_quoted_values_are_text():
    article, problems = parse_article(
        "---\ntitle: '1984'\ndate: 2018-08-15\npublication: 'no'\ncountries: ['3']\n"
        "slug: '2018'\nlanguage: 'no'\n---\n",
        SOURCE,
    )
    assert article is not None and not problems
    assert (article.title, article.publication, article.countries) == ("1984", "no", ("3",))
    assert (article.slug, article.language) == ("2018", "no")


def yaml_line(key: str, value: object) -> str:
    """`key: value` as YAML writes it (every character escaped in double quotes)."""
    return yaml.safe_dump({key: value}, default_style='"', width=10**6)


@given(value=st.integers() | st.floats(allow_nan=False) | st.booleans())
@SETTINGS
def test_any_number_or_boolean_as_publication_is_an_error(value: object):
    line = yaml.safe_dump({"publication": value})
    errors = problems_of(f"title: T\ndate: 2018-01-01\n{line}")
    assert len(errors) == 1 and "'publication' must be non-empty text, not " in errors[0]
    FIGURES.types["1 front matter"] = (
        f"Front matter: {len(TEXT_KEYS)} text fields × {len(NOT_TEXT)} values YAML reads as "
        f"numbers, booleans (`no`, `On`), lists or mappings, and {len(NAME_LISTS)} name lists "
        "and 2 line lists with such an item: each one error at its line naming what YAML read; "
        f"{EXAMPLES} random numbers and booleans as `publication` (Hypothesis)"
    )


# Slugs and aliases become folder names and URLs: a control character or a line break in one is
# an error, whether YAML spelled it as an escape or it came as a trailing newline.
PATH_BREAKERS = ["\n", "\r", "\t", "\x00", "\x01", "\x1b", "\x7f", "\u2028", " ", "\x85"]


@pytest.mark.parametrize("character", PATH_BREAKERS, ids=repr)
@pytest.mark.parametrize("where", ("end", "middle"))
def test_control_characters_in_a_slug_or_alias_are_errors(character: str, where: str):
    name = f"story{character}" if where == "end" else f"sto{character}ry"
    assert problems_of(BASE + yaml_line("slug", name)), "slug"
    assert problems_of(BASE + yaml_line("aliases", [name])), "alias"
    assert problems_of(BASE + yaml_line("aliases", [f"old/{name}/"])), "alias folder"


@given(name=st.text(min_size=1, max_size=12))
@SETTINGS
def test_an_accepted_slug_or_alias_has_no_control_character_or_space(name: str):
    for front in (yaml_line("slug", name), yaml_line("aliases", [name])):
        article, _ = parse_article(f"---\n{BASE}{front}---\n", SOURCE)
        if article is not None:
            for path in (article.slug, *article.aliases):
                assert not any(c.isspace() or not c.isprintable() for c in path), path
    FIGURES.types["2 paths"] = (
        f"Slugs and aliases: {len(PATH_BREAKERS)} control, space and line-break characters at "
        "the end and inside, as slug, alias and alias folder: all errors; "
        f"{EXAMPLES} random names (Hypothesis): no accepted slug or alias holds one"
    )


def article_at(date: str, slug: str):
    article, problems = parse_article(
        f"---\ntitle: {slug}\ndate: '{date}'\npublication: P\nslug: {slug}\n---\n", SOURCE
    )
    assert article is not None, problems
    return article


ZONED_PAIRS = [
    ("2018-01-01T10:00:00+09:00", "2018-01-01T05:00:00+00:00"),  # 01:00Z before 05:00Z
    ("2018-01-02T01:00:00Z", "2018-01-01T23:30:00-05:00"),  # 01:00Z before 04:30Z
    ("2018-01-02T08:00:00+09:00", "2018-01-01T23:30:00"),  # 23:00Z before 23:30 (no zone)
    ("2018-01-01", "2018-01-01T00:00:00+00:00"),  # a bare date before the times of its day
    ("2018-01-01T00:30:00Z", "2017-12-31T23:00:00-02:00"),  # 00:30Z before 01:00Z
]


@pytest.mark.parametrize(("earlier", "later"), ZONED_PAIRS)
def test_dates_with_time_zones_sort_by_instant(earlier: str, later: str):
    assert article_at(earlier, "a").sort_key < article_at(later, "b").sort_key


zones = st.integers(min_value=-14 * 60, max_value=14 * 60).map(
    lambda minutes: dt.timezone(dt.timedelta(minutes=minutes))
)


@given(
    moments=st.lists(
        st.tuples(
            st.datetimes(min_value=dt.datetime(1900, 1, 2), max_value=dt.datetime(2100, 1, 1)),
            zones,
        ),
        min_size=2,
        max_size=6,
    )
)
@SETTINGS
def test_zoned_dates_sort_as_their_instants(moments):
    articles = [
        article_at(moment.replace(tzinfo=zone, microsecond=0).isoformat(), f"a{n}")
        for n, (moment, zone) in enumerate(moments)
    ]
    by_key = sorted(articles, key=lambda a: a.sort_key)
    instants = [a.date.astimezone(dt.UTC) for a in by_key]
    assert instants == sorted(instants)
    FIGURES.types["3 dates"] = (
        f"Dates: {len(ZONED_PAIRS)} pairs across zones and days (table) and {EXAMPLES} random "
        "lists of times in zones from -14:00 to +14:00 (Hypothesis) sort by instant"
    )


# Config: a setting of the wrong type, and settings that reach output where text cannot go.
CONFIG_ERRORS = {
    "title: 5": "'title' must be text, not 5",
    "title: [a]": "'title' must be text, not ['a']",
    "search: 'yes'": "'search' must be true or false, not 'yes'",
    "per_page: true": "'per_page' must be a whole number, not True",
    "base_url: 'javascript:alert(1)'": "'base_url' must be an http:// or https:// address",
    "base_url: 'https://exa mple.org/'": "'base_url' must be an http:// or https:// address",
    "base_url: '//example.org/'": "'base_url' must be an http:// or https:// address",
    'base_url: "https://example.org/\\n"': "'base_url' must be an http:// or https:// address",
    "language: 'en\"><script>'": "'language' must be a language tag",
    "language: 'no'": None,  # quoted: Norwegian
    "language: no": "'language' must be text, not False",
    "cname: 'example.org\\nevil'": "'cname' must be a host name",
    "cname: 'a b.org'": "'cname' must be a host name",
    "cname: news.example.org": None,
    "base_url: HTTPS://Example.org/x/": None,
}


@pytest.mark.parametrize("line", sorted(CONFIG_ERRORS))
def test_config_values_are_checked(line: str):
    expected = CONFIG_ERRORS[line]
    if expected is None:
        parse_config(line + "\n", "config.yaml", Path("."))
        return
    with pytest.raises(BuildError) as error:
        parse_config("description: ok\n" + line + "\n", "config.yaml", Path("."))
    (problem,) = error.value.problems
    assert problem.line == 2 and expected in problem.message, problem


def test_config_override_base_url_is_checked():
    with pytest.raises(BuildError) as error:
        parse_config("", "config.yaml", Path("."), {"base_url": "javascript:alert(1)//"})
    assert str(error.value).startswith("--base-url: 'base_url' must be an http")
    FIGURES.types["4 config"] = (
        f"Config: {len(CONFIG_ERRORS)} settings (wrong types, `base_url` that is no http(s) "
        "address, `language` that is no tag, `cname` that is no host name) and `--base-url`: "
        "errors at their line, or accepted when right; forbidden characters dropped with a warning"
    )


def test_config_text_loses_xml_forbidden_characters_with_a_warning():
    config = parse_config('title: "A\\x01B\\uFFFE"\n', "config.yaml", Path("."))
    assert config.title == "AB"
    assert [str(w) for w in config.warnings] == [
        "config.yaml:1: warning: 'title': characters XML 1.0 forbids (control characters) were "
        "dropped"
    ]


AUTHORITY_ERRORS = {
    "people:\n  5: {}\n": "people: 5: the name must be text, not 5",
    "people:\n  true: {}\n": "people: True: the name must be text, not True",
    "people:\n  A: {aliases: [B, 3]}\n": "people: A: 'aliases' must be a list of names",
    "people:\n  A: {description: 5}\n": "people: A: 'description' must be text, not 5",
    "people:\n  A: {wikidata: Q1 onmouseover=x}\n": "people: A: 'wikidata' must be an item id",
    "people:\n  A: {wikidata: '../../w/index.php'}\n": "people: A: 'wikidata' must be an item id",
    "people:\n  A: {wikidata: 56226}\n": "people: A: 'wikidata' must be text, not 56226",
    "people:\n  '\\x01': {}\n": "the name must not be empty",
}


@pytest.mark.parametrize("text", sorted(AUTHORITY_ERRORS))
def test_authority_values_are_checked(text: str):
    with pytest.raises(BuildError) as error:
        parse_authority(text.replace("'\\x01'", '"\\x01"'), "data/entities.yaml")
    # at the line of the entry (each table entry is on line 2)
    assert any(AUTHORITY_ERRORS[text] in p.message and p.line == 2 for p in error.value.problems)


def test_authority_text_loses_xml_forbidden_characters_with_a_warning():
    authority = parse_authority(
        'people:\n  "Kim\\x0bJong Un":\n    aliases: ["K\\uFFFFJU"]\n    description: "a\\x1fb"\n',
        "data/entities.yaml",
    )
    (entity,) = authority.entities("people")
    assert (entity.name, entity.aliases, entity.description) == ("KimJong Un", ("KJU",), "ab")
    assert len(authority.warnings) == 3 and all(w.warning for w in authority.warnings)
    FIGURES.types["5 authority"] = (
        f"Authority file: {len(AUTHORITY_ERRORS)} entries with a name, alias, description or "
        "Wikidata id of the wrong type or shape: errors at the entry's line; forbidden "
        "characters dropped with a warning"
    )
