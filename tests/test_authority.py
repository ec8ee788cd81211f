"""Authority file: canonical names, aliases matched by slug, validation."""

from __future__ import annotations

import pytest

from clippings.authority import parse_authority
from clippings.errors import BuildError
from clippings.text import slugify

TEXT = """
people:
  Kim Jong Un:
    aliases: [Kim Jong Eun]
    wikidata: Q56226
countries:
  United States:
    aliases: [U.S., USA]
"""


@pytest.mark.parametrize(
    ("name", "slug"),
    [
        ("Kim Jong-un", "kim-jong-un"),
        ("Kim Jong Un", "kim-jong-un"),
        ("Erdoğan", "erdogan"),
        ("金正恩", "金正恩"),
        ("!!!", ""),
        ("word " * 100, "-".join(["word"] * 24)),  # cut to 120 bytes, at a hyphen
        ("abcde " + "abcd " * 23 + "x", "abcde-" + "-".join(["abcd"] * 23)),  # 120 bytes, then "-"
        ("金" * 100, "金" * 40),  # 3 bytes each, never split inside a character
    ],
)
def test_slugify(name: str, slug: str):
    assert slugify(name) == slug


def test_canonical_spelling_through_aliases_and_slugs():
    authority = parse_authority(TEXT, "data/entities.yaml")
    assert authority.canonical("people", "kim jong-un") == "Kim Jong Un"
    assert authority.canonical("people", "Kim Jong Eun") == "Kim Jong Un"
    assert authority.canonical("countries", "USA") == "United States"
    assert authority.canonical("people", "Nobody Known") == "Nobody Known"
    assert authority.lookup("people", "Kim Jong Un").wikidata == "Q56226"


def test_invalid_authority_reports_all():
    text = "people:\n  A:\n    aliases: B\n    colour: red\nplaces:\n  X: {}\n"
    with pytest.raises(BuildError) as error:
        parse_authority(text, "e.yaml")
    assert [str(p) for p in error.value.problems] == [
        "e.yaml:2: people: A: 'aliases' must be a list of names",
        "e.yaml:2: people: A: unknown key 'colour'",
        "e.yaml:5: unknown kind 'places' (expected one of people, countries, sources)",
    ]


def test_browsing_keys_are_read_and_checked():
    text = (
        "people:\n  Kim Jong Un:\n    family_name_first: true\n"
        "  A B:\n    sort_name: B, A\n    family_name_first: maybe\n"
        "countries:\n  Burma:\n    iso: MM\n"
    )
    with pytest.raises(BuildError) as error:
        parse_authority(text, "e.yaml")
    assert [str(p) for p in error.value.problems] == [
        "e.yaml:4: people: A B: 'family_name_first' must be true or false"
    ]
    authority = parse_authority(text.replace("maybe", "false"), "e.yaml")
    assert authority.lookup("people", "Kim Jong Un").family_name_first
    assert authority.lookup("people", "A B").sort_name == "B, A"
    assert authority.lookup("countries", "Burma").iso == "MM"


def test_alias_claimed_twice():
    text = "people:\n  A B:\n    aliases: [X]\n  C D:\n    aliases: [x]\n"
    with pytest.raises(BuildError, match="people: 'x' names both 'A B' and 'C D'"):
        parse_authority(text, "e.yaml")
