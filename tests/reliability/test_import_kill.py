"""Interrupted imports: SIGKILL never leaves a half-written content file, and hand edits survive.

A child `python build.py import` of a few dozen texts (the importer's dev set, copied under
distinct headlines) is killed at fractions of a full import's duration. After every kill each
content file is byte for byte what a complete import writes, `raw/imports.json` is valid JSON, and
the site still builds; a file edited by hand in between is never overwritten; a final import
completes the rest.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from clippings.build import build_site
from clippings.config import load_config
from tests.conftest import REPO, SHARED
from tests.reliability.report import FIGURES

COPIES = 2  # of each dev-set text: 24 files, an import of a second or two
FRACTIONS = (0.3, 0.55, 0.8)
WAIT_LIMIT = 120.0
FIGURES.expected["import"] = len(FRACTIONS)


def make_inputs(folder: Path) -> None:
    """Distinct headlines give distinct slugs; the rest of each text is the dev set's."""
    folder.mkdir()
    manifest = []
    for text in sorted((SHARED / "devset").glob("*.txt")):
        headline, rest = text.read_text(encoding="utf-8").split("\n", 1)
        for copy in range(1, COPIES + 1):
            target = folder / f"{text.stem}_{copy}.txt"
            target.write_text(f"Copy {copy}: {headline}\n{rest}", encoding="utf-8")
            manifest.append({"text": target.name, "publication": "Test Wire"})
    (folder / "manifest.json").write_text(json.dumps(manifest), encoding="utf-8")


def new_site(root: Path) -> Path:
    root.mkdir()
    shutil.copytree(REPO / "data", root / "data")
    (root / "config.yaml").write_text("title: T\n", encoding="utf-8")
    return root


def import_command(site: Path, inputs: Path) -> list[str]:
    return [sys.executable, str(REPO / "build.py"), "import", str(inputs)]


def contents(site: Path) -> dict[str, bytes]:
    return {
        p.relative_to(site).as_posix(): p.read_bytes()
        for p in sorted((site / "content").rglob("*.md"))
    }


def survivors(inputs: Path) -> list[int]:
    """Processes still running an import of `inputs`: a killed import's forked workers, if
    they outlive it (they would wait for work forever)."""
    found = []
    for entry in Path("/proc").iterdir():
        try:
            command = (entry / "cmdline").read_bytes() if entry.name.isdigit() else b""
        except OSError:  # gone meanwhile
            continue
        if str(inputs).encode() in command:
            found.append(int(entry.name))
    return found


def wait_for_workers_to_end(inputs: Path) -> None:
    deadline = time.monotonic() + 10
    while survivors(inputs) and time.monotonic() < deadline:
        time.sleep(0.1)
    left = survivors(inputs)
    for pid in left:  # this test started them: none may outlive it
        os.kill(pid, signal.SIGKILL)
    assert left == [], "a killed import's workers went on running"


@pytest.fixture(scope="module")
def inputs(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("import") / "in"
    make_inputs(folder)
    return folder


def test_killed_import_leaves_only_whole_files(inputs: Path, tmp_path: Path):
    reference_site = new_site(tmp_path / "reference")
    started = time.monotonic()
    subprocess.run(
        import_command(reference_site, inputs),
        cwd=reference_site,
        check=True,
        capture_output=True,
        timeout=WAIT_LIMIT,
    )
    duration = time.monotonic() - started
    reference = contents(reference_site)
    assert len(reference) == len(list(inputs.glob("*.txt")))

    site = new_site(tmp_path / "site")
    edited: str | None = None
    for fraction in FRACTIONS:
        child = subprocess.Popen(
            import_command(site, inputs),
            cwd=site,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        try:
            child.wait(timeout=fraction * duration)
        except subprocess.TimeoutExpired:
            child.send_signal(signal.SIGKILL)
            child.wait(timeout=WAIT_LIMIT)
        wait_for_workers_to_end(inputs)
        found = contents(site)
        for name, data in found.items():
            expected = reference[name] + b"My note.\n" if name == edited else reference[name]
            assert data == expected, f"{name}: not what a whole import writes"
        if (site / "raw" / "imports.json").exists():
            json.loads((site / "raw" / "imports.json").read_text(encoding="utf-8"))
        if found:
            build_site(load_config(site / "config.yaml"), site / "_site")
        if edited is None and found:
            edited = next(iter(found))
            (site / edited).write_bytes(found[edited] + b"My note.\n")
        FIGURES.import_kills.append(f"killed at {fraction:.0%} of a full import's time")

    final = subprocess.run(
        import_command(site, inputs), cwd=site, capture_output=True, text=True, timeout=WAIT_LIMIT
    )
    assert final.returncode == 0, final.stderr
    assert set(contents(site)) == set(reference)
    for name, data in contents(site).items():
        assert data == (reference[name] + b"My note.\n" if name == edited else reference[name])
    skipped = [line for line in final.stdout.splitlines() if line.startswith("skipped:")]
    # "edited by hand since import", or "not written by the importer" if the kill fell between
    # writing that file and recording it: either way it is left alone.
    assert len(skipped) == (1 if edited else 0)
    assert all(line.startswith(f"skipped: {edited}: ") for line in skipped)


def test_a_killed_imports_workers_end_with_it(inputs: Path, tmp_path: Path):
    site = new_site(tmp_path / "site")
    child = subprocess.Popen(
        import_command(site, inputs), cwd=site, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    try:
        deadline = time.monotonic() + WAIT_LIMIT
        while len(survivors(inputs)) < 2 and child.poll() is None:  # the import and a worker
            assert time.monotonic() < deadline, "the import forked no worker"
            time.sleep(0.05)
    finally:
        child.send_signal(signal.SIGKILL)
        child.wait(timeout=WAIT_LIMIT)
    if child.returncode == 0:
        pytest.skip("the import ended before it forked a worker (one core?)")
    wait_for_workers_to_end(inputs)


def test_import_killed_before_its_record_adopts_its_own_file(inputs: Path, tmp_path: Path):
    """Killed between writing a content file and recording it: the next run must not call the
    file foreign (and skip it for good); it is byte for byte what the importer writes."""
    site = new_site(tmp_path / "site")
    one = sorted(inputs.glob("*.txt"))[0]
    command = import_command(site, one)
    subprocess.run(command, cwd=site, check=True, capture_output=True, timeout=WAIT_LIMIT)
    (site / "raw" / "imports.json").write_text("{}\n", encoding="utf-8")
    again = subprocess.run(command, cwd=site, capture_output=True, text=True, timeout=WAIT_LIMIT)
    assert again.returncode == 0
    assert "0 imported, 1 unchanged, 0 skipped, 0 failed" in again.stdout
    assert json.loads((site / "raw" / "imports.json").read_text(encoding="utf-8")) != {}


def test_import_without_publication_says_the_build_needs_one(inputs: Path, tmp_path: Path):
    """The build rejects an article without a publication; the importer says so at once."""
    site = new_site(tmp_path / "site")
    text = tmp_path / "alone.txt"
    text.write_bytes(sorted(inputs.glob("*.txt"))[0].read_bytes())
    result = subprocess.run(
        import_command(site, text), cwd=site, capture_output=True, text=True, timeout=WAIT_LIMIT
    )
    assert result.returncode == 0
    [line] = [line for line in result.stdout.splitlines() if line.startswith("imported:")]
    assert line.endswith("(no publication found: set 'publication' before building)")
