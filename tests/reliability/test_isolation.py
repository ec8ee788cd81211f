"""One bad file never stops the others (issue 13, class 2), and concurrent runs lose nothing
(class 7).

Import: whatever one file raises (a bug it triggers, a RecursionError, MemoryError) becomes that
file's `failed: path: message` line; the others import and the summary counts it. Build: an
exception loading one content file, or converting one article's Markdown, becomes that file's
problem, and every other file is still loaded and rendered so all problems show at once. Two
imports into one site record every file in `raw/imports.json`; a serve rebuild and a CLI build
of one project take turns (`output.build_lock`).
"""

from __future__ import annotations

import json
import multiprocessing
import os
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from clippings import content, render
from clippings.build import build_site
from clippings.config import load_config
from clippings.errors import BuildError
from clippings.importer import cli
from clippings.importer.extract import Extractor
from clippings.importer.writer import Record, sha256
from clippings.incremental import Rebuilder
from clippings.output import build_lock
from tests.conftest import REPO, write_article
from tests.importing import import_site, run_import, write_manifest
from tests.reliability.report import FIGURES

pytestmark = pytest.mark.timeout(120)  # each test may set its own
FIGURES.expected["bounds"] = FIGURES.expected.get("bounds", 0) + 4
BODY = "Talks End Without A Deal After Long Night\n" + "\n".join(
    f"Paragraph {i} says that the talks went on for a long time and ended without a deal."
    for i in range(3)
)

# What a bug triggered by one input may raise, and the words its failure line must hold.
EXCEPTIONS = {
    "ValueError": (ValueError("bad value"), "internal error (ValueError: bad value)"),
    "KeyError": (KeyError("people"), "internal error (KeyError: 'people')"),
    "IndexError": (IndexError("list index out of range"), "internal error (IndexError"),
    "AttributeError": (AttributeError("'NoneType' object"), "internal error (AttributeError"),
    "ZeroDivisionError": (ZeroDivisionError("division by zero"), "internal error (Zero"),
    "UnicodeError": (UnicodeEncodeError("utf-8", "\udc80", 0, 1, "surrogates"), "internal"),
    "RecursionError": (RecursionError("maximum recursion depth"), "nested too deeply to import"),
    "MemoryError": (MemoryError(), "too large to import in the memory available"),
    "OSError": (OSError(28, "No space left on device"), "No space left on device"),
    "multi-line message": (RuntimeError("one\ntwo"), "internal error (RuntimeError: one; two)"),
}


@pytest.fixture
def site(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    return import_site(tmp_path, monkeypatch)


def inputs(folder: Path, names: list[str]) -> list[str]:
    folder.mkdir(exist_ok=True)
    for name in names:
        (folder / f"{name}.txt").write_text(f"{name.title()} {BODY}", encoding="utf-8")
    return [str(folder / f"{name}.txt") for name in names]


@pytest.mark.timeout(120)
@pytest.mark.parametrize("kind", sorted(EXCEPTIONS))
def test_an_exception_in_one_file_fails_that_file_only(site, capsys, monkeypatch, kind, extractor):
    error, words = EXCEPTIONS[kind]
    extract = Extractor.extract

    def flaky(self, text, meta):
        if text.startswith("Bad"):
            raise error
        return extract(self, text, meta)

    monkeypatch.setattr(Extractor, "extract", flaky)
    monkeypatch.setattr(cli, "Extractor", lambda *args: extractor)  # spaCy loaded once
    files = inputs(site / "in", ["alpha", "bad", "omega"])
    assert run_import(*files, "--publication", "Wire") == 2  # one file per --publication
    assert run_import(str(site / "in"), "--manifest", str(write_manifest(site / "in"))) == 1
    out, err = capsys.readouterr()
    assert f"failed: {site / 'in' / 'bad.txt'}: " in err and words in err, err
    assert "2 imported, 0 unchanged, 0 skipped, 1 failed" in out
    assert "Traceback" not in out + err
    assert len(list((site / "content").rglob("*.md"))) == 2
    FIGURES.bounds["isolation-import"] = (
        f"{len(EXCEPTIONS)} kinds of exception (ValueError to MemoryError and OSError) raised "
        "while importing one of three files: that file's one `failed: path: message` line, the "
        "others imported, the summary counted it, no traceback"
    )


@pytest.mark.timeout(120)
def test_a_worker_process_that_dies_fails_its_file_only(site, capsys, monkeypatch, extractor):
    """Killed for memory or crashed in native code: the file it was extracting fails, every
    other file (those other workers held too) is imported, in order."""
    extract = Extractor.extract

    def crashing(self, text, meta):
        if text.startswith("Crash"):
            os._exit(9)  # as a worker killed by the kernel would go
        return extract(self, text, meta)

    monkeypatch.setattr(Extractor, "extract", crashing)
    monkeypatch.setattr(cli, "Extractor", lambda *args: extractor)
    names = ["alpha", "beta", "crash", "delta", "epsilon", "zeta"]
    files = inputs(site / "in", names)
    manifest = str(write_manifest(site / "in"))
    assert run_import(str(site / "in"), "--manifest", manifest, "--jobs", "2") == 1
    out, err = capsys.readouterr()
    assert err.strip() == (
        f"failed: {site / 'in' / 'crash.txt'}: the process importing it died (out of memory?); "
        "please report this file"
    )
    assert "5 imported, 0 unchanged, 0 skipped, 1 failed" in out
    imported = [
        line.split("/")[-1].split("-")[0] for line in out.splitlines() if "imported:" in line
    ]
    assert imported == ["alpha", "beta", "delta", "epsilon", "zeta"], out
    assert len(files) == 6 and len(list((site / "content").rglob("*.md"))) == 5


@pytest.mark.timeout(180)
def test_worker_processes_write_what_one_process_writes(tmp_path, monkeypatch, capsys):
    """The same files, bytes, record and messages in the same order, with one process or two
    (articles of the same title are numbered in input order)."""
    names = ["alpha", "beta", "gamma", "delta"]
    outputs = []
    for jobs in ("1", "2"):
        site = import_site(tmp_path / jobs, monkeypatch)
        folder = site / "in"
        inputs(folder, names)
        again = f"Alpha {BODY}\nThe talks resume next week, officials said on Friday."
        (folder / "zeta.txt").write_text(again, encoding="utf-8")  # alpha's title
        assert (
            run_import(str(folder), "--manifest", str(write_manifest(folder)), "--jobs", jobs) == 0
        )
        files = {
            path.relative_to(site).as_posix(): path.read_bytes()
            for path in sorted(site.rglob("*"))
            if path.is_file() and "in" not in path.relative_to(site).parts[:1]
        }
        outputs.append((files, capsys.readouterr().out))
    assert outputs[0] == outputs[1]
    assert "content/undated/alpha-talks-end-without-a-deal-after-long-night-2.md" in outputs[0][1]


@pytest.mark.timeout(60)
def test_a_damaged_import_record_is_a_message_not_a_traceback(site, capsys):
    (site / "raw").mkdir()
    for damaged in ("{", "[1, 2]", '{"content/a.md": 3}'):
        (site / "raw" / "imports.json").write_text(damaged, encoding="utf-8")
        assert run_import(*inputs(site / "in", ["alpha"]), "--publication", "Wire") == 2
        err = capsys.readouterr().err
        assert err.startswith("import: raw/imports.json: "), err


# --- the build ----------------------------------------------------------------------------------


def project(root: Path, names: list[str]) -> Path:
    (root / "config.yaml").write_text("title: T\nsearch: false\n", encoding="utf-8")
    for name in names:
        write_article(
            root / "content" / "2018",
            f"{name}.md",
            f"title: {name.title()}\ndate: 2018-03-26\npublication: Wire",
            f"{name.title()} body.\n",
        )
    return root


@pytest.mark.timeout(120)
@pytest.mark.parametrize("kind", sorted(set(EXCEPTIONS) - {"OSError"}))
@pytest.mark.parametrize("cache", [False, True])
def test_a_markdown_exception_is_that_articles_problem(tmp_path, monkeypatch, kind, cache):
    error, _ = EXCEPTIONS[kind]
    convert = render.MarkdownConverter.convert

    def flaky(self, text):
        if "Bad" in text:
            raise error
        return convert(self, text)

    monkeypatch.setattr(render.MarkdownConverter, "convert", flaky)
    root = project(tmp_path, ["alpha", "bad", "bad2", "omega"])
    config = load_config(root / "config.yaml", {"cache": cache, "jobs": 1})
    with pytest.raises(BuildError) as raised:
        build_site(config, root / "_site")
    problems = {problem.path: problem.message for problem in raised.value.problems}
    # Both bad articles are named (the build went on after the first), nothing else.
    assert set(problems) == {"content/2018/bad.md", "content/2018/bad2.md"}, problems
    assert all(message.startswith("Markdown ") for message in problems.values())
    assert not (root / "_site").exists()


@pytest.mark.timeout(120)
@pytest.mark.parametrize("kind", sorted(EXCEPTIONS))
@pytest.mark.parametrize("cache", [False, True])
def test_an_exception_loading_one_file_is_that_files_problem(tmp_path, monkeypatch, kind, cache):
    error, _ = EXCEPTIONS[kind]
    parse = content.parse_article

    def flaky(text, source, strict=False):
        if "bad" in source:
            raise error
        return parse(text, source, strict)

    monkeypatch.setattr(content, "parse_article", flaky)
    root = project(tmp_path, ["alpha", "bad", "omega", "zbad"])
    (root / "content" / "2018" / "broken.md").write_text("no front matter\n", encoding="utf-8")
    config = load_config(root / "config.yaml", {"cache": cache, "jobs": 1})
    with pytest.raises(BuildError) as raised:
        build_site(config, root / "_site")
    problems = {problem.path: problem.message for problem in raised.value.problems}
    assert set(problems) == {
        "content/2018/bad.md",
        "content/2018/zbad.md",
        "content/2018/broken.md",
    }
    assert problems["content/2018/bad.md"].startswith("cannot be loaded (")
    FIGURES.bounds["isolation-build"] = (
        "the same exceptions from one article's Markdown, or while loading one content file, "
        "with and without the build cache: a problem naming that file, every other file still "
        "loaded and rendered, so all problems show at once"
    )


# --- concurrent runs ------------------------------------------------------------------------------


def test_two_records_open_at_once_keep_each_others_entries(tmp_path):
    first, second = Record(tmp_path), Record(tmp_path)
    first.save("content/2018/a.md", "A")
    second.save("content/2018/b.md", "B")
    first.save("content/2018/c.md", "C")
    saved = json.loads((tmp_path / "imports.json").read_text(encoding="utf-8"))
    assert saved == {f"content/2018/{n.lower()}.md": sha256(n) for n in "ABC"}


def _save_many(folder: str, worker: int, count: int) -> None:
    record = Record(Path(folder))
    for number in range(count):
        record.save(f"content/{worker}/{number}.md", f"{worker}-{number}")


@pytest.mark.timeout(120)
def test_processes_saving_at_once_lose_no_entry(tmp_path):
    workers, count = 4, 40
    context = multiprocessing.get_context("fork")
    processes = [
        context.Process(target=_save_many, args=(str(tmp_path), worker, count))
        for worker in range(workers)
    ]
    for process in processes:
        process.start()
    for process in processes:
        process.join(timeout=100)
        assert process.exitcode == 0
    saved = json.loads((tmp_path / "imports.json").read_text(encoding="utf-8"))
    assert len(saved) == workers * count
    assert not [p for p in tmp_path.iterdir() if p.name != "imports.json"]  # no temp file left


@pytest.mark.timeout(300)
@pytest.mark.slow
def test_two_imports_at_once_record_every_file(site):
    """Two `build.py import` runs into one site at the same time: every content file written
    is in raw/imports.json, with the hash of its bytes."""
    runs = []
    for run in ("a", "b"):
        folder = site / f"in-{run}"
        inputs(folder, [f"{run}{number}" for number in range(6)])
        command = [sys.executable, str(REPO / "build.py"), "import", str(folder)]
        command += ["--manifest", str(write_manifest(folder))]
        runs.append(subprocess.Popen(command, cwd=site, stdout=subprocess.PIPE, text=True))
    outputs = [run.communicate(timeout=240)[0] for run in runs]
    assert [run.returncode for run in runs] == [0, 0], outputs
    written = sorted((site / "content").rglob("*.md"))
    assert len(written) == 12
    record = json.loads((site / "raw" / "imports.json").read_text(encoding="utf-8"))
    assert record == {
        path.relative_to(site).as_posix(): sha256(path.read_text(encoding="utf-8"))
        for path in written
    }
    FIGURES.bounds["concurrent-imports"] = (
        "two `build.py import` runs of 6 files each into one site at once: all 12 recorded in "
        "raw/imports.json with their hashes (and 4 processes recording 40 files each: 160)"
    )


@pytest.mark.timeout(120)
def test_a_serve_rebuild_waits_for_a_build_of_the_same_project(tmp_path):
    root = project(tmp_path, ["alpha"])
    rebuilder = Rebuilder(root / "config.yaml", root / "_site")
    finished = threading.Event()

    def rebuild() -> None:  # as serve rebuilds: under the lock a CLI build takes
        with rebuilder.build_lock():
            rebuilder.build(None)
        finished.set()

    with build_lock(root):  # a CLI build in progress holds this
        thread = threading.Thread(target=rebuild, daemon=True)
        thread.start()
        time.sleep(1.0)
        assert not finished.is_set()  # waiting, not writing into the site being swapped
    assert finished.wait(60)
    assert (root / "_site" / "2018" / "alpha" / "index.html").is_file()
    FIGURES.bounds["concurrent-serve"] = (
        "a serve rebuild started during a CLI build of the same project waited for it to end "
        "(two CLI builds: see Atomic builds)"
    )
