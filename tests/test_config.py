"""Configuration: defaults, overrides, and every problem reported at once."""

from __future__ import annotations

from pathlib import Path

import pytest

from clippings.config import load_config, parse_config
from clippings.errors import BuildError


def test_defaults_and_site_url():
    config = parse_config("base_url: https://x.github.io/repo\n", "config.yaml", Path("."))
    assert config.site_url == "https://x.github.io/repo/"
    assert config.per_page == 20
    assert config.feeds is True


def test_overrides_win():
    config = parse_config(
        "title: A\n", "config.yaml", Path("."), {"base_url": "https://e.org", "title": None}
    )
    assert config.base_url == "https://e.org"
    assert config.title == "A"


def test_all_problems_together():
    text = "title: x\nper_page: many\ncolour: red\nfeeds: 3\nterm_per_page: 0\n"
    with pytest.raises(BuildError) as error:
        parse_config(text, "config.yaml", Path("."))
    messages = [str(p) for p in error.value.problems]
    assert messages[0] == "config.yaml:2: 'per_page' must be a whole number, not 'many'"
    assert messages[1].startswith(
        "config.yaml:3: unknown setting 'colour' (known settings: authority,"
    )
    assert messages[2:] == [
        "config.yaml:4: 'feeds' must be true or false, not 3",
        "config.yaml:5: 'term_per_page' must be at least 1",
    ]


def test_missing_named_config_is_an_error(tmp_path: Path):
    with pytest.raises(BuildError, match="config file not found"):
        load_config(tmp_path / "other.yaml")
