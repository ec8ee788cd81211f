"""YAML front matter and data files: aliases may not grow a document without bound."""

from __future__ import annotations

from clippings.yamlfile import ALIAS_GROWTH_LIMIT, load_mapping


def nested_aliases(depth: int, width: int = 9) -> str:
    """Each anchor holds `width` aliases of the one before: the last stands for width**depth."""
    lines = [f"a0: &a0 [{', '.join(['x'] * width)}]"]
    for level in range(1, depth):
        aliases = ", ".join([f"*a{level - 1}"] * width)
        lines.append(f"a{level}: &a{level} [{aliases}]")
    return "title: T\n" + "\n".join(lines) + "\n"


def test_aliases_growing_a_document_past_the_limit_are_refused_at_the_entry_growing_most():
    mapping, problems = load_mapping(nested_aliases(7) + "people: [*a6]\n", "a.md", first_line=2)
    assert mapping is None
    expected = f"YAML error: aliases here expand to more than {ALIAS_GROWTH_LIMIT:,} values"
    assert [(p.line, p.message) for p in problems] == [(10, expected)]  # 'people', below a6


def test_aliases_within_the_limit_and_large_documents_without_aliases_load():
    mapping, problems = load_mapping(nested_aliases(5), "a.md")  # 9**5 = 59,049 values
    assert problems == [] and len(mapping.data["a4"]) == 9
    many = "people:\n" + "".join(f"- name {n}\n" for n in range(ALIAS_GROWTH_LIMIT + 1))
    mapping, problems = load_mapping(many, "a.md")
    assert problems == [] and len(mapping.data["people"]) == ALIAS_GROWTH_LIMIT + 1


def test_a_recursive_alias_loads_as_the_recursive_value_it_is():
    mapping, problems = load_mapping("a: &a [x, *a]\n", "a.md")
    assert problems == []
    assert mapping.data["a"][1] is mapping.data["a"]
