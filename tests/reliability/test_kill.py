"""Atomic builds: a build killed with SIGKILL at any point leaves the old or the new complete site.

A child `python build.py` builds a generated archive of a few hundred articles (about 1–2 s); it is
killed at points found by watching its progress on disk (staging folder created, half written,
nearly complete, just after the swap) and at fractions of a full build's duration. After every kill
the site folder must be byte for byte one of the two reference builds, and the next build (the next
kill point's, then a final one) must succeed from whatever the killed one left behind.
"""

from __future__ import annotations

import dataclasses
import hashlib
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from clippings.build import build_site
from clippings.config import load_config
from clippings.content import read_article
from clippings.errors import BuildError
from tests.conftest import REPO, SHARED, reaped
from tests.reliability.report import FIGURES

ARTICLES = 200
POLL_SECONDS = 0.002
WAIT_LIMIT = 60.0  # a kill point not reached by then means the build hung: fail, don't loop
Tree = dict[str, str]

Watch = Callable[[Path], bool]  # site folder -> has the build reached this point?
# A named kill point: given the child's start time, a test of whether to kill it now.
KillPoint = tuple[str, Callable[[float], Callable[[], bool]]]


def staging(site: Path) -> Path:
    return site.with_name(f".{site.name}.staging")


def progress_points(old_inode: Callable[[], int]) -> dict[str, Watch]:
    return {
        "staging folder created": lambda site: staging(site).is_dir(),
        "article pages written": lambda site: (staging(site) / "people").is_dir(),
        "every page written, assets next": lambda site: (staging(site) / "archive.json").exists(),
        "just after the swap": lambda site: site.stat().st_ino != old_inode(),
    }


TIME_FRACTIONS = (0.3, 0.6, 0.9)
FIGURES.expected["kill"] = 4 + len(TIME_FRACTIONS)
FIGURES.expected["concurrent"] = 2


def tree(site: Path) -> Tree:
    return {
        p.relative_to(site).as_posix(): hashlib.sha1(p.read_bytes()).hexdigest()
        for p in sorted(site.rglob("*"))
        if p.is_file()
    }


@pytest.fixture(scope="module")
def project(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A site of generated articles; its config title says which of two versions is built."""
    root = tmp_path_factory.mktemp("kill")
    subprocess.run(
        [
            sys.executable,
            str(SHARED / "bench" / "gen_corpus.py"),
            str(ARTICLES),
            "--out",
            str(root / "corpus"),
            "--layout",
            "generic",
        ],
        check=True,
        capture_output=True,
        timeout=WAIT_LIMIT,
    )
    site = root / "site"
    site.mkdir()
    (root / "corpus" / "generic" / "content").rename(site / "content")
    return site


def set_version(project: Path, version: str) -> None:
    (project / "config.yaml").write_text(f"title: Version {version}\n", encoding="utf-8")


def reference(project: Path, version: str) -> Tree:
    set_version(project, version)
    out = project.parent / f"reference-{version}"
    build_site(load_config(project / "config.yaml"), out)
    return tree(out)


def start_build(project: Path) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, str(REPO / "build.py"), "--quiet"],
        cwd=project,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


def kill_when(child: subprocess.Popen, reached: Callable[[], bool]) -> None:
    deadline = time.monotonic() + WAIT_LIMIT
    with reaped(child):  # killed however this ends, a failed assertion included
        while child.poll() is None and not reached():
            assert time.monotonic() < deadline, (
                "the build neither finished nor reached the kill point"
            )
            time.sleep(POLL_SECONDS)


def kill_points(site: Path, duration: float, old_inode: Callable[[], int]) -> list[KillPoint]:
    """Where to kill: progress seen on disk, then fixed fractions of a full build's duration."""
    points = [
        (name, lambda started, watch=watch: lambda: watch(site))
        for name, watch in progress_points(old_inode).items()
    ]
    for fraction in TIME_FRACTIONS:
        points.append(
            (
                f"{fraction:.0%} of a full build's time",
                lambda started, f=fraction: lambda: time.monotonic() >= started + f * duration,
            )
        )
    return points


def test_killed_builds_leave_old_or_new_site(project: Path):
    site = project / "_site"
    set_version(project, "A")
    build_site(load_config(project / "config.yaml"), site)
    references = {"A": tree(site)}
    started = time.monotonic()
    references["B"] = reference(project, "B")
    duration = time.monotonic() - started + 0.3  # + the child's interpreter start-up
    current = "A"
    inode = {"site": site.stat().st_ino}

    for name, make_reached in kill_points(site, duration, lambda: inode["site"]):
        set_version(project, "A" if current == "B" else "B")
        inode["site"] = site.stat().st_ino
        kill_when(start_build(project), make_reached(time.monotonic()))
        found = tree(site)
        assert found in references.values(), f"killed at '{name}': a mixed or missing site"
        current = "A" if found == references["A"] else "B"
        FIGURES.kill_points.append(f"killed at: {name}")

    target = "A" if current == "B" else "B"
    set_version(project, target)
    assert start_build(project).wait(timeout=WAIT_LIMIT) == 0
    assert tree(site) == references[target]
    assert [p.name for p in project.iterdir() if p.name.startswith("._site")] == []


QUICK_FRACTIONS = (0.5, 0.8, 0.9, 0.95)
FIGURES.expected["quick"] = 1 + len(QUICK_FRACTIONS)


def test_killed_quick_rebuilds_leave_whole_files_and_the_next_build_finishes(project: Path):
    """A body edit rebuilds without the staging folder (`body_edits.py`); killed part way, each
    file is still whole, old or new, and the next build puts the whole site right."""
    site = project / "_site"
    # Search off: a fresh Pagefind index names its filter files differently, so the references,
    # built without the cache, could not be compared with the site byte for byte.
    (project / "config.yaml").write_text("title: Version Q\nsearch: false\n", encoding="utf-8")
    config = load_config(project / "config.yaml")
    build_site(config, site)
    edited = sorted((project / "content").rglob("*.md"))[:2]
    versions = {"old": [p.read_text(encoding="utf-8") for p in edited]}
    versions["new"] = [text + "\nA paragraph added after the build.\n" for text in versions["old"]]
    references: dict[str, Tree] = {}
    for name, texts in versions.items():
        for path, text in zip(edited, texts, strict=True):
            path.write_text(text, encoding="utf-8")
        out = project.parent / f"quick-reference-{name}"
        build_site(dataclasses.replace(config, cache=False), out)
        references[name] = tree(out)
    assert references["old"] != references["new"]
    article, _ = read_article(edited[0], "first")
    article_page = site / article.path / "index.html"  # replaced by a rename: a new inode

    started = time.monotonic()
    for path, text in zip(edited, versions["old"], strict=True):
        path.write_text(text + "\nA timing edit.\n", encoding="utf-8")
    folder = site.stat().st_ino
    assert start_build(project).wait(timeout=WAIT_LIMIT) == 0
    duration = time.monotonic() - started
    assert site.stat().st_ino == folder  # a quick rebuild: a full build swaps in a new folder
    assert start_build(project).wait(timeout=WAIT_LIMIT) == 0  # settles on the "old" texts below

    points = [("first page replaced", None)] + [
        (f"{f:.0%} of its time", f) for f in QUICK_FRACTIONS
    ]
    current = "old"
    for path, text in zip(edited, versions[current], strict=True):
        path.write_text(text, encoding="utf-8")
    assert start_build(project).wait(timeout=WAIT_LIMIT) == 0
    assert tree(site) == references[current]
    for name, fraction in points:
        target = "new" if current == "old" else "old"
        for path, text in zip(edited, versions[target], strict=True):
            path.write_text(text, encoding="utf-8")
        inode = _inode(article_page)
        began = time.monotonic()
        if fraction is None:
            reached = lambda old=inode: _inode(article_page) != old  # noqa: E731
        else:
            reached = lambda f=fraction, t=began: time.monotonic() >= t + f * duration  # noqa: E731
        kill_when(start_build(project), reached)
        found = {p: h for p, h in tree(site).items() if not _temporary(Path(p).name)}
        assert found.keys() == references[target].keys(), f"killed at '{name}': files missing"
        for page, digest in found.items():
            versions_of_page = {references["old"][page], references["new"][page]}
            assert digest in versions_of_page, f"killed at '{name}': {page} is neither version"
        assert start_build(project).wait(timeout=WAIT_LIMIT) == 0
        assert tree(site) == references[target], f"after the kill at '{name}'"
        current = target
        FIGURES.quick_kills.append(f"quick rebuild killed at: {name}")


def _temporary(name: str) -> bool:
    """`output.write_atomically`'s temp file, which a kill may leave next to a page."""
    return name.startswith(".") and name.endswith(".tmp")


def _inode(path: Path) -> int:
    try:
        return path.stat().st_ino
    except OSError:
        return -1


FAILURES = {
    "content error (load)": ("content/2020/broken.md", "---\ntitle: [unclosed\n---\n"),
    "template error (render, mid-way)": ("templates/term.html", "{{ 1/0 }}\n"),
    "page path conflict (planning)": (
        "content/2020/clash.md",
        "---\ntitle: C\ndate: 2020-01-01\npublication: P\naliases: [feed.xml/]\n---\n",
    ),
}


FIGURES.expected["failed"] = len(FAILURES)


@pytest.mark.parametrize("failure", FAILURES, ids=list(FAILURES))
def test_failed_build_leaves_site_exactly_as_it_was(
    failure: str, fixture_site: Path, tmp_path: Path
):
    site = tmp_path / "build" / "out"
    build_site(load_config(fixture_site / "config.yaml"), site)
    before = tree(site)
    inode = site.stat().st_ino
    name, text = FAILURES[failure]
    (fixture_site / name).parent.mkdir(parents=True, exist_ok=True)
    (fixture_site / name).write_text(text, encoding="utf-8")
    with pytest.raises(BuildError):
        build_site(load_config(fixture_site / "config.yaml"), site)
    assert tree(site) == before
    assert site.stat().st_ino == inode
    assert [p.name for p in site.parent.iterdir()] == ["out"]  # no staging folder left
    FIGURES.failed_builds.append(failure)


def test_concurrent_builds_wait_for_each_other(project: Path):
    """Two builds of one site at once (a dev server's rebuild and a manual build) both succeed,
    one after the other, and leave one complete site."""
    set_version(project, "C")
    expected = reference(project, "C")
    builds = [start_build(project) for _ in range(2)]
    assert [build.wait(timeout=WAIT_LIMIT) for build in builds] == [0, 0]
    assert tree(project / "_site") == expected
    FIGURES.concurrent_builds = len(builds)
