"""The search index without a browser: records, shard caching and failures."""

from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
import shutil
import time
from pathlib import Path

import pytest

from clippings.build import build_site, load_archive
from clippings.config import Config
from clippings.errors import BuildError
from clippings.indexer import IndexerError, PagefindIndexer
from clippings.search import (
    Record,
    article_record,
    record_of,
    refresh_live_index,
    shard_hash,
    shard_names,
    shard_records,
    shards_by_date,
)
from clippings.text import plain_text


@pytest.fixture
def year_shards(monkeypatch: pytest.MonkeyPatch) -> None:
    """Shards of at most two articles: one per year of the fixture site (2020, 2019, undated)."""
    monkeypatch.setattr("clippings.search.SHARD_TARGET", 2)


def test_plain_text_keeps_words_and_drops_markup():
    text = plain_text("## Head\n\n**Bold** and [a link](https://x.org/y) <em>tag</em> `code`")
    assert "Head" in text and "Bold" in text and "a link" in text and "code" in text
    assert not any(mark in text for mark in ("**", "](", "https://x.org", "<em>", "`", "#"))


def test_records_carry_the_filters_and_shards_follow_years(fixture_config: Config):
    archive = load_archive(fixture_config)
    assert shard_names(archive) == ["2019-2020", "undated"]  # two small years share a shard
    summit = next(a for a in archive.articles if a.slug == "leaders-meet-at-the-summit")
    record = article_record(archive, summit)
    assert record.url == "/2020/leaders-meet-at-the-summit/"
    assert record.filters["People"] == ["Kim Jong Un", "Donald Trump"]
    assert record.filters["Year"] == ["2020"] and record.filters["Publication"] == ["Example Times"]
    assert "hotel" in record.fields()["content"]


def test_only_changed_shards_are_reindexed(
    fixture_config: Config, tmp_path: Path, year_shards: None
):
    site = tmp_path / "out"
    assert build_site(fixture_config, site).search == "3 of 3 search shards re-indexed"
    assert build_site(fixture_config, site).search == ""  # nothing changed: the no-op build
    letter = fixture_config.path("content_dir") / "2019" / "letter.md"
    letter.write_text(letter.read_text() + "\nOne more line.\n", encoding="utf-8")
    assert build_site(fixture_config, site).search == "1 of 3 search shards re-indexed"
    assert (site / "pagefind" / "2020" / "pagefind.js").is_file()
    assert not (site / "pagefind" / "2019" / "pagefind.js").exists()  # merged shards: data only


def test_a_failed_shard_fails_the_build_and_keeps_the_old_site(
    fixture_config: Config, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, year_shards: None
):
    site = tmp_path / "out"
    build_site(fixture_config, site)
    before = sorted(p.relative_to(site) for p in site.rglob("*"))
    letter = fixture_config.path("content_dir") / "2019" / "letter.md"
    letter.write_text(letter.read_text() + "\nChanged.\n", encoding="utf-8")

    def broken(*args: object) -> None:
        raise IndexerError("out of memory")

    monkeypatch.setattr(PagefindIndexer, "build", broken)
    with pytest.raises(BuildError) as failure:
        build_site(fixture_config, site)
    assert [str(p) for p in failure.value.problems] == [
        "search: search index for 2019 could not be built: out of memory"
    ]
    assert sorted(p.relative_to(site) for p in site.rglob("*")) == before


def test_no_search_builds_no_index_and_no_search_page(fixture_site: Path, tmp_path: Path):
    from clippings.config import load_config

    config = load_config(fixture_site / "config.yaml", {"search": False})
    site = tmp_path / "out"
    result = build_site(config, site)
    assert result.search == ""
    assert not (site / "pagefind").exists() and not (site / "search").exists()
    assert 'href="search/"' not in (site / "index.html").read_text()


def test_live_refresh_swaps_in_only_the_changed_shard(
    fixture_config: Config, tmp_path: Path, year_shards: None
):
    site = tmp_path / "out"
    build_site(fixture_config, site)
    untouched = (site / "pagefind" / "2020" / "pagefind-entry.json").stat().st_ino
    cache = fixture_config.root / ".clippings-cache"
    assert (
        refresh_live_index(shard_records(load_archive(fixture_config)), "en", cache, site)[1] == []
    )
    letter = fixture_config.path("content_dir") / "2019" / "letter.md"
    letter.write_text(letter.read_text() + "\nServe edit.\n", encoding="utf-8")
    records = shard_records(load_archive(fixture_config))
    assert refresh_live_index(records, "en", cache, site)[1] == ["2019"]
    assert (site / "pagefind" / "2020" / "pagefind-entry.json").stat().st_ino == untouched
    assert sorted(p.name for p in (site / "pagefind").iterdir()) == ["2019", "2020", "undated"]


def test_a_renamed_term_reindexes_every_shard_naming_it_and_equals_a_clean_index(
    fixture_config: Config, tmp_path: Path, year_shards: None
):
    """A record's key covers the names of its terms, not only its article: a canonical name
    changed in the authority file changes the records of unchanged articles in other shards."""
    from tests.conftest import site_tree

    site = tmp_path / "out"
    build_site(fixture_config, site)
    authority = fixture_config.path("authority")
    authority.write_text(authority.read_text().replace("Kim Jong Un:", "Kim Jong-un Renamed:"))
    cache = fixture_config.root / ".clippings-cache"
    index, swapped = refresh_live_index(
        shard_records(load_archive(fixture_config)), "en", cache, site
    )
    assert sorted(index.rebuilt) == sorted(swapped) == ["2019", "2020"]  # not "undated"
    shutil.rmtree(cache)
    build_site(fixture_config, tmp_path / "clean")
    assert site_tree(site / "pagefind") == site_tree(tmp_path / "clean" / "pagefind")


def test_a_records_key_changes_with_everything_the_record_is_made_of(fixture_config: Config):
    archive = load_archive(fixture_config)
    summit = next(a for a in archive.articles if a.slug == "leaders-meet-at-the-summit")
    terms, publisher = archive.article_terms[summit.path], archive.publishers.get(summit.path)
    record = record_of(summit, terms, publisher)
    same = record_of(dataclasses.replace(summit), terms, publisher)  # another object, equal
    assert same.key == record.key and same.fields() == record.fields()
    variants = [
        record_of(dataclasses.replace(summit, **{name: value}), terms, publisher)
        for name, value in [
            ("title", "Other"),
            ("body", summit.body + "x"),
            ("dek", "A dek."),
            ("captions", ("Another caption.",)),
            ("date", dt.date(2020, 6, 13)),
            ("slug", "other"),
        ]
    ]
    variants.append(record_of(summit, {**terms, "people": terms["people"][:1]}, publisher))
    unknown = dataclasses.replace(summit, publication="Other Times")  # no publisher term
    variants.append(record_of(unknown, terms, None))
    variants.append(Record(summit, record.names, "Another Times"))
    for variant in variants:
        assert variant.fields() != record.fields() and variant.key != record.key


def test_only_an_edited_articles_text_is_hashed_again(
    fixture_config: Config, monkeypatch: pytest.MonkeyPatch, year_shards: None
):
    """`serve` keeps the objects of unchanged articles: their digests are remembered, so finding
    the changed shard hashes one body, not the archive's."""
    archive = load_archive(fixture_config)
    records = shard_records(archive)
    hashes = {shard: shard_hash(members, "en") for shard, members in records.items()}
    edited = records["2019"][0]
    records["2019"][0] = Record(
        dataclasses.replace(edited.article, body=edited.article.body + "More."),
        edited.names,
        edited.publisher,
    )
    calls = []
    sha256 = hashlib.sha256
    monkeypatch.setattr(hashlib, "sha256", lambda data=b"": calls.append(data) or sha256(data))
    again = {shard: shard_hash(members, "en") for shard, members in records.items()}
    assert len(calls) == len(records) + 1  # one per shard, and the edited article
    assert {shard for shard in records if again[shard] != hashes[shard]} == {"2019"}


def test_a_live_shard_changed_by_hand_is_swapped_back(
    fixture_config: Config, tmp_path: Path, year_shards: None
):
    """Unchanged shards are compared by names, sizes and the bytes of the files Pagefind does not
    name by their content, so a damaged entry file or a stray file is still seen."""
    from tests.conftest import site_tree

    site = tmp_path / "out"
    build_site(fixture_config, site)
    built = site_tree(site / "pagefind")
    entry = site / "pagefind" / "2019" / "pagefind-entry.json"
    entry.write_bytes(entry.read_bytes().replace(b'"en"', b'"fr"'))  # the same size
    (site / "pagefind" / "undated" / "fragment" / "stray.pf_fragment").write_bytes(b"x")
    records = shard_records(load_archive(fixture_config))
    cache = fixture_config.root / ".clippings-cache"
    assert sorted(refresh_live_index(records, "en", cache, site)[1]) == ["2019", "undated"]
    assert site_tree(site / "pagefind") == built


def test_a_year_over_the_limit_is_split_into_quarters(
    fixture_config: Config, monkeypatch: pytest.MonkeyPatch
):
    monkeypatch.setattr("clippings.search.SHARD_TARGET", 1)
    archive = load_archive(fixture_config)
    assert shard_names(archive) == ["2020-q2", "2020-q1", "2019", "undated"]


def shards(dates: list[str | None]) -> dict[str, list[str | None]]:
    newest_first = sorted(dates, key=lambda d: d or "", reverse=True)
    return shards_by_date(newest_first, lambda date: date)


def test_years_are_packed_oldest_first_so_new_articles_change_only_the_newest_shard(
    monkeypatch: pytest.MonkeyPatch,
):
    monkeypatch.setattr("clippings.search.SHARD_TARGET", 3)
    monkeypatch.setattr("clippings.search.RECENT_YEARS", 10)  # one tier

    archive = ["2001-05-01", "2001-06-01", "2002-01-01", "2003-02-01", "2003-03-01", None]
    before = shards(archive)
    assert list(before) == ["2003", "2001-2002", "undated"]
    assert before["2001-2002"] == ["2002-01-01", "2001-06-01", "2001-05-01"]
    after = shards([*archive, "2003-04-01", "2004-01-01"])
    assert list(after) == ["2004", "2003", "2001-2002", "undated"]
    assert after["2001-2002"] == before["2001-2002"]


def test_recent_years_get_small_shards_and_older_years_settled_ones(
    monkeypatch: pytest.MonkeyPatch,
):
    monkeypatch.setattr("clippings.search.SHARD_TARGET", 2)
    monkeypatch.setattr("clippings.search.SETTLED_TARGET", 4)
    monkeypatch.setattr("clippings.search.RECENT_YEARS", 2)
    archive = [f"{year}-0{month}-01" for year in range(2001, 2007) for month in (1, 2)]
    before = shards(archive)
    assert {name: len(members) for name, members in before.items()} == {
        "2006": 2,
        "2005": 2,  # the two newest years: small shards, whatever their size
        "2003-2004": 4,
        "2001-2002": 4,  # older years: settled shards, packed from the oldest
    }
    # A new year moves 2005 out of the recent tier into a settled shard of its own (2003-2004 is
    # full); the oldest settled shard, and the layout of any archive with this content, stay.
    after = shards([*archive, "2007-01-01"])
    assert list(after) == ["2007", "2006", "2005", "2003-2004", "2001-2002"]
    assert after["2001-2002"] == before["2001-2002"]
    # A settled year over the settled target is split into quarters, packed the same way.
    big_year = [f"2001-{month:02}-01" for month in range(1, 13)]
    assert list(shards([*big_year, "2006-01-01"])) == [
        "2006",
        "2001-q4",
        "2001-q3",
        "2001-q2",
        "2001-q1",
    ]


def test_two_clean_builds_give_identical_search_bundles(fixture_config: Config, tmp_path: Path):
    """Pagefind writes filter values in a random (hash-map) order; `make_deterministic` sorts
    them, so a fresh index has the same bytes and file names every time."""
    from tests.conftest import site_tree

    cache = fixture_config.root / ".clippings-cache"
    trees = []
    for attempt in range(3):  # the order is random: once might agree by chance
        shutil.rmtree(cache, ignore_errors=True)
        build_site(fixture_config, tmp_path / str(attempt))
        trees.append(site_tree(tmp_path / str(attempt) / "pagefind"))
    assert any(name.startswith("undated/filter/") for name in trees[0])
    assert trees[0] == trees[1] == trees[2]


def test_a_bundle_with_an_unwritten_file_is_incomplete(fixture_config: Config, tmp_path: Path):
    from clippings.indexer import static_assets
    from clippings.pagefind_bundle import is_complete
    from clippings.search import _index_shard

    records = [r for rs in shard_records(load_archive(fixture_config)).values() for r in rs]
    assets = static_assets("en")
    assert {"pagefind.js", "pagefind-ui.js", "pagefind-highlight.js"} <= assets.keys()
    bundle = tmp_path / "bundle"
    _index_shard("all", records, "en", bundle)
    assert is_complete(bundle, assets)
    (bundle / "pagefind.js").write_bytes(b"")  # what Pagefind left once in thirty
    assert not is_complete(bundle, assets)
    _index_shard("all", records, "en", bundle)
    script = bundle / "pagefind-ui.js"
    script.write_bytes(script.read_bytes()[:-4096])  # cut short, as a CI run once served it
    assert not is_complete(bundle, assets)
    _index_shard("all", records, "en", bundle)
    meta = next(bundle.glob("*.pf_meta"))
    meta.write_bytes(meta.read_bytes()[:-9])  # cut short: no gzip trailer
    assert not is_complete(bundle, assets)


def test_a_pagefind_service_that_never_answers_is_an_error_not_a_hang(tmp_path: Path, monkeypatch):
    from clippings import indexer

    silent = tmp_path / "pagefind"
    silent.write_text("#!/bin/sh\nexec sleep 60\n")
    silent.chmod(0o755)
    monkeypatch.setattr(indexer, "_executable", lambda: silent)
    monkeypatch.setattr(indexer, "_REPLY_SECONDS", 0.5)
    started = time.monotonic()
    with pytest.raises(IndexerError, match="did not answer"), PagefindIndexer() as service:
        service.build([], "en", tmp_path / "bundle")
    assert time.monotonic() - started < 10
