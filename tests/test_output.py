"""Write stage: staging and atomic swap, unchanged files kept, nothing outside the site."""

from __future__ import annotations

from pathlib import Path

import pytest

from clippings.build import build_site
from clippings.config import Config
from clippings.errors import BuildError
from clippings.output import SiteWriter, safe_relative


@pytest.mark.parametrize(
    "path", ["../x", "/etc/passwd", "a/../../b", "a\\b", "a\0b", "", ".", "a/./b"]
)
def test_paths_outside_site_are_refused(path: str):
    with pytest.raises(BuildError):
        safe_relative(path)


def test_swap_replaces_site_and_removes_stale_files(tmp_path: Path):
    site = tmp_path / "_site"
    first = SiteWriter(site)
    first.write("a/index.html", b"A")
    first.write("old.html", b"old")
    first.commit()
    second = SiteWriter(site)
    second.write("a/index.html", b"A")
    second.write("b.html", b"B")
    assert second.commit() == 1
    assert (second.written, second.unchanged) == (1, 1)
    assert sorted(p.name for p in site.rglob("*") if p.is_file()) == ["b.html", "index.html"]
    assert not (tmp_path / "._site.staging").exists()


def test_unchanged_file_keeps_its_inode(tmp_path: Path):
    site = tmp_path / "_site"
    for _ in range(2):
        writer = SiteWriter(site)
        writer.write("a.html", b"same")
        writer.commit()
        if _ == 0:
            inode = (site / "a.html").stat().st_ino
    assert (site / "a.html").stat().st_ino == inode


def test_failed_build_leaves_previous_site_untouched(
    fixture_site: Path, fixture_config: Config, tmp_path: Path
):
    site = tmp_path / "out"
    build_site(fixture_config, site)
    before = {p: p.read_bytes() for p in site.rglob("*") if p.is_file()}
    (fixture_site / "content" / "2020" / "broken.md").write_text("---\ntitle: [unclosed\n---\n")
    with pytest.raises(BuildError):
        build_site(fixture_config, site)
    assert {p: p.read_bytes() for p in site.rglob("*") if p.is_file()} == before
    assert not any(p.name.endswith(".staging") for p in tmp_path.iterdir())


def test_interrupted_swap_is_recovered(tmp_path: Path):
    site = tmp_path / "_site"
    previous = tmp_path / "._site.previous"
    previous.mkdir()
    (previous / "index.html").write_text("old")
    SiteWriter(site).abort()
    assert (site / "index.html").read_text() == "old"


def test_output_over_content_is_refused(fixture_site: Path, fixture_config: Config):
    with pytest.raises(BuildError, match="output folder would replace the project's content/"):
        build_site(fixture_config, fixture_site)
