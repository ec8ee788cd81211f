"""The dev server survives everything a save can do, and every request a client can send.

A table of bad saves, each followed by the good save that fixes it: the failed rebuild keeps
the server up and shows `path:line: message`, and the next good save brings the served site
to what a clean build makes. Then the watcher thread itself, the build lock shared with CLI
builds, a site swapped in under the server, Ctrl-C with idle and half-open connections, and
malformed requests.
"""

from __future__ import annotations

import errno
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from clippings import incremental
from clippings.build import build_site
from clippings.config import load_config
from clippings.incremental import Rebuilder
from clippings.output import build_lock
from clippings.serve import LiveSite, Watcher, make_server
from tests.conftest import FIXTURE_SITE, REPO, reaped, site_tree, stop_process
from tests.reliability.report import FIGURES

pytestmark = pytest.mark.timeout(120)

LETTER = "content/2019/letter.md"
PROBLEM_LINE = re.compile(r"^[^\s:][^:]*(:\d+)?: \S")  # `path:line: message`, the line optional


def _record(case: str) -> None:
    FIGURES.trust.setdefault("dev server", []).append(case)


def _front(site: Path, old: str, new: str) -> list[Path]:
    letter = site / LETTER
    letter.write_text(letter.read_text(encoding="utf-8").replace(old, new, 1), encoding="utf-8")
    return [letter]


def _add_front(line: str) -> Callable[[Path], list[Path]]:
    return lambda site: _front(site, "title:", f"{line}\ntitle:")


def _file(relative: str, make: Callable[[Path], None]) -> Callable[[Path], list[Path]]:
    def save(site: Path) -> list[Path]:
        path = site / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        make(path)
        return [path]

    return save


def _raise_in(name: str, error: BaseException) -> Callable[..., object]:
    def patched(*args: object, **kwargs: object) -> object:
        raise error

    patched.__name__ = name
    return patched


# id -> (the bad save, what its first problem line contains; None: no problem at all)
BAD_SAVES: dict[str, tuple[Callable[[Path], list[Path]], str | None]] = {
    "slug-index-html": (_add_front("slug: index.html"), "content/2019/letter.md: "),
    "alias-over-feed": (_add_front("aliases: [feed.xml/]"), "content/2019/letter.md: "),
    "alias-over-overview": (_add_front("aliases: [people/]"), "content/2019/letter.md: "),
    "broken-yaml": (_add_front("people: [unclosed"), "content/2019/letter.md:"),
    "template-division-by-zero": (
        _file("templates/article.html", lambda p: p.write_text("{{ 1/0 }}")),
        "templates/article.html:1: template: division by zero",
    ),
    "template-fifo": (
        _file("templates/article.html", os.mkfifo),
        "templates/article.html: cannot read template: a FIFO",
    ),
    "static-fifo": (_file("static/odd.css", os.mkfifo), "static/odd.css: a FIFO"),
    "content-fifo": (_file("content/2019/odd.md", os.mkfifo), "content/2019/odd.md: a FIFO"),
    "static-symlink-out": (
        _file("static/passwd.txt", lambda p: p.symlink_to("/etc/passwd")),
        "static/passwd.txt: symlink points outside the project",
    ),
    "config-broken": (
        _file("config.yaml", lambda p: p.write_text("title: [\n")),
        "config.yaml:",
    ),
    "emacs-lock-in-templates": (
        _file("templates/.#article.html", lambda p: p.symlink_to("user@host.1:1")),
        None,
    ),
    "dangling-symlink-in-templates": (
        _file("templates/gone.html", lambda p: p.symlink_to("nowhere")),
        None,
    ),
    "vim-swap-and-probe-in-static": (
        _file("static/4913", lambda p: p.write_text("")),
        None,
    ),
    "backup-in-content": (_file("content/2019/letter.md~", lambda p: p.write_text("---")), None),
}
# Failures no save should cause, but a rebuild must survive: (module attribute, error, message)
CRASHES = {
    "bug-in-render": ("render_all", RuntimeError("a bug"), "rebuild failed (RuntimeError: a bug)"),
    "disk-full": (
        "replace_files",
        OSError(errno.ENOSPC, "No space left on device", "_served/index.html"),
        "_served/index.html: file system error: No space left on device",
    ),
    "memory": ("render_all", MemoryError(), "rebuild failed (MemoryError: )"),
}


def test_a_disk_filling_up_mid_write_leaves_no_partial_file(
    live: tuple[LiveSite, list[str], int], site: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    served, log, _ = live
    edited = _front(site, "title: A Letter", "title: The Letter")

    def half_then_full(path: Path, data: bytes) -> int:
        with open(path, "wb") as handle:
            handle.write(data[: len(data) // 2])
        raise OSError(errno.ENOSPC, "No space left on device", str(path))

    with monkeypatch.context() as patch:
        patch.setattr(Path, "write_bytes", half_then_full)
        served.rebuild({p.absolute() for p in edited}, log.append)
    assert served.problems and "No space left on device" in served.problems[0]
    assert not _half_written(site)
    served.rebuild(set(), log.append)
    assert served.problems is None
    _record("the disk filling up mid-write: overlay, no half-written file in the site")


@pytest.fixture
def site(fixture_site: Path) -> Path:
    return fixture_site


@pytest.fixture
def live(site: Path) -> Iterator[tuple[LiveSite, list[str], int]]:
    """The site served in this process: (live site, log lines, port)."""
    log: list[str] = []
    served = LiveSite(Rebuilder(site / "config.yaml", site / "_served"), "/")
    served.rebuild(None, log.append)
    server, _ = make_server(served, "127.0.0.1", 0)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05})
    thread.start()
    try:
        yield served, log, server.server_address[1]
    finally:
        served.stopping.set()
        server.shutdown()
        server.server_close()
        thread.join(timeout=10)


def _status(port: int, request: bytes) -> tuple[int, bytes]:
    """The status of the answer (an HTTP/0.9-style line without a version is answered with
    the error page alone, as the protocol has no status line)."""
    with socket.create_connection(("127.0.0.1", port), timeout=10) as client:
        client.sendall(request)
        data = b""
        while b"\r\n" not in data or (not data.startswith(b"HTTP/") and b"</html>" not in data):
            chunk = client.recv(65536)
            if not chunk:
                break
            data += chunk
    match = re.match(rb"HTTP/1\.[01] (\d{3})", data) or re.search(rb"Error code: (\d{3})", data)
    assert match, f"no answer, the connection was dropped: {data[:80]!r}"
    return int(match[1]), data


def _half_written(site: Path) -> list[str]:
    """Temporary files a failed write left in the served site (the search index aside: serve
    may be swapping a shard in meanwhile)."""
    names = site_tree(site / "_served", search=False)
    return [path for path in names if re.search(r"(^|/)\.[^/]*\.tmp$", path)]


def _clean(site: Path, out: Path) -> dict[str, bytes]:
    copy = out.parent / f"{out.name}-project"
    shutil.copytree(site, copy, ignore=shutil.ignore_patterns("_served", ".clippings-cache"))
    build_site(load_config(copy / "config.yaml"), out)
    return site_tree(out, search=False)


def _undo(site: Path, changed: list[Path]) -> list[Path]:
    """Put the fixture's version back (or remove what the bad save added)."""
    for path in changed:
        original = FIXTURE_SITE / path.relative_to(site)
        if path.is_symlink() or path.exists():
            path.unlink()
        if original.exists():
            shutil.copy(original, path)
    return changed


@pytest.mark.parametrize("case", BAD_SAVES)
def test_a_bad_save_keeps_the_server_up_and_the_next_good_save_rebuilds(
    live: tuple[LiveSite, list[str], int], site: Path, tmp_path: Path, case: str
) -> None:
    served, log, port = live
    save, expected = BAD_SAVES[case]
    changed = save(site)
    served.rebuild({p.absolute() for p in changed}, log.append)
    if expected is None:
        assert served.problems is None, served.problems
    else:
        assert served.problems, f"{case}: no overlay"
        assert all(PROBLEM_LINE.match(line) for line in served.problems), served.problems
        assert any(expected in line for line in served.problems), served.problems
    assert _status(port, b"GET / HTTP/1.0\r\n\r\n")[0] == 200
    served.rebuild({p.absolute() for p in _undo(site, changed)}, log.append)
    assert served.problems is None, served.problems
    edited = _front(site, "title: A Letter", "title: The Letter")
    served.rebuild({p.absolute() for p in edited}, log.append)
    assert served.problems is None
    assert site_tree(site / "_served", search=False) == _clean(site, tmp_path / "clean")
    _record(f"bad save `{case}`: server up, overlay `{expected or 'none needed'}…`, next save good")


@pytest.mark.parametrize("case", CRASHES)
def test_any_failure_of_a_rebuild_keeps_the_server_up(
    live: tuple[LiveSite, list[str], int],
    site: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    case: str,
) -> None:
    served, log, port = live
    name, error, expected = CRASHES[case]
    edited = _front(site, "title: A Letter", "title: The Letter")
    with monkeypatch.context() as patch:
        patch.setattr(incremental, name, _raise_in(name, error))
        served.rebuild({p.absolute() for p in edited}, log.append)
    assert served.problems and expected in served.problems[0], served.problems
    assert not _half_written(site)
    assert all(PROBLEM_LINE.match(line) for line in served.problems)
    assert _status(port, b"GET / HTTP/1.0\r\n\r\n")[0] == 200
    served.rebuild(set(), log.append)  # the next save, whatever it names
    assert served.problems is None
    assert site_tree(site / "_served", search=False) == _clean(site, tmp_path / "clean")
    _record(f"rebuild failure `{case}`: overlay `{expected}`, the next save rebuilds all")


@pytest.fixture
def watched(live: tuple[LiveSite, list[str], int]) -> Iterator[tuple[LiveSite, list[str]]]:
    """The live site with its watcher thread running, stopped however the test ends."""
    served, log, _ = live
    watcher = Watcher(served, log.append)
    watcher.start()
    try:
        yield served, log
    finally:
        served.stopping.set()
        watcher.stop()


def test_the_watcher_thread_survives_a_run_of_bad_saves(
    watched: tuple[LiveSite, list[str]], site: Path
) -> None:
    """The issue's examples, through the real watcher: each killed the rebuild thread."""
    served, log = watched
    for case in ("slug-index-html", "emacs-lock-in-templates", "dangling-symlink-in-templates"):
        changed = BAD_SAVES[case][0](site)
        time.sleep(0.5)
        _undo(site, changed)
        time.sleep(0.5)
    letter = site / LETTER
    letter.write_text(letter.read_text() + "\nThe Letter Arrives.\n")
    deadline = time.monotonic() + 20
    page = site / "_served" / "2019" / "a-letter-from-pyongyang" / "index.html"
    while not page.exists() or b"The Letter Arrives" not in page.read_bytes():
        assert time.monotonic() < deadline, log
        time.sleep(0.1)
    assert served.problems is None
    _record("the watcher thread after slug `index.html`, `.#article.html`, a dangling symlink")


def test_a_rebuild_waits_for_a_cli_build_of_the_same_site(
    live: tuple[LiveSite, list[str], int], site: Path
) -> None:
    served, log, _ = live
    edited = _front(site, "title: A Letter", "title: The Letter")
    with build_lock(site, (site / "_served").parent):  # what `python build.py` holds
        rebuild = threading.Thread(target=served.rebuild, args=(set(edited), log.append))
        rebuild.start()
        rebuild.join(timeout=1.0)
        assert rebuild.is_alive(), "the rebuild wrote while a CLI build held the lock"
    rebuild.join(timeout=30)
    assert not rebuild.is_alive() and served.problems is None
    _record("a rebuild waits while a CLI build holds the build lock")


@pytest.mark.parametrize("how", ["cli-build", "stale-copy", "deleted"])
def test_a_site_replaced_under_the_server_is_noticed_and_put_right(
    live: tuple[LiveSite, list[str], int], site: Path, tmp_path: Path, how: str
) -> None:
    served, log, _ = live
    folder = site / "_served"
    stream = served.subscribe()
    if how == "cli-build":
        build_site(load_config(site / "config.yaml"), folder)
    elif how == "stale-copy":
        stale = tmp_path / "stale"
        shutil.copytree(folder, stale)
        (stale / "index.html").write_text("stale")
        shutil.rmtree(folder)
        stale.rename(folder)
    else:
        shutil.rmtree(folder)
    assert served.rebuilder.site_replaced()
    served.rebuild(set(), log.append)  # what the watcher does when it notices
    assert served.problems is None
    assert not served.rebuilder.site_replaced()
    assert site_tree(folder, search=False) == _clean(site, tmp_path / "clean")
    events = []
    while not stream.empty():
        events.append(stream.get_nowait())
    assert ("reload", {"urls": None}) in events  # every open page reloads
    _record(f"site replaced under serve ({how}): noticed, put right, every page reloaded")


def test_the_watcher_notices_a_replaced_site_by_itself(
    watched: tuple[LiveSite, list[str]], site: Path
) -> None:
    _, log = watched
    shutil.rmtree(site / "_served")
    deadline = time.monotonic() + 10
    while not (site / "_served" / "index.html").exists():
        assert time.monotonic() < deadline, log
        time.sleep(0.1)


# -- stopping ---------------------------------------------------------------------------------


@pytest.mark.timeout(60)
@pytest.mark.parametrize("how", [signal.SIGINT, signal.SIGTERM], ids=["ctrl-c", "sigterm"])
def test_it_stops_within_2_s_with_idle_and_half_open_connections(
    site: Path, how: signal.Signals
) -> None:
    process = subprocess.Popen(
        [sys.executable, str(REPO / "build.py"), "serve", "--port", "0"],
        cwd=site,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONPATH": str(REPO)},
    )
    clients: list[socket.socket] = []
    with reaped(process):
        assert process.stderr is not None
        serving = ""
        for _, line in zip(range(100), process.stderr, strict=False):
            if line.startswith("Serving"):
                serving = line
                break
        port = int(re.search(r":(\d+)/", serving)[1])
        try:
            for request in (b"", b"", b"GET / HTTP/1.1\r\nHost: x\r\n", b"GE", b"GET /__clip"):
                client = socket.create_connection(("127.0.0.1", port), timeout=5)
                client.sendall(request)
                clients.append(client)
            events = socket.create_connection(("127.0.0.1", port), timeout=5)
            events.sendall(b"GET /__clippings__/events HTTP/1.0\r\n\r\n")
            events.recv(100)
            clients.append(events)
            time.sleep(0.3)  # every connection accepted and waiting in its thread
            started = time.monotonic()
            stop_process(process, how, seconds=10)
            seconds = time.monotonic() - started
        finally:
            for client in clients:
                client.close()
        rest = process.stderr.read()
    assert seconds < 2.0, f"took {seconds:.1f} s to stop"
    assert process.returncode == 0 and "Traceback" not in rest and rest.endswith("Stopped\n")
    _record(f"{how.name} with 2 idle, 3 half-open and 1 event-stream connections: stopped in < 2 s")


# -- malformed requests -----------------------------------------------------------------------

MALFORMED = {
    "overlong-segment": b"GET /" + b"a" * 300 + b" HTTP/1.0\r\n\r\n",
    "overlong-path": b"GET /" + b"a/" * 3000 + b" HTTP/1.0\r\n\r\n",
    "overlong-segment-in-folder": b"GET /2019/" + b"x" * 5000 + b"/ HTTP/1.0\r\n\r\n",
    "unclosed-ipv6-host": b"GET //[ HTTP/1.0\r\n\r\n",
    "lone-percent": b"GET /% HTTP/1.0\r\n\r\n",
    "bad-percent-hex": b"GET /%zz%g0 HTTP/1.0\r\n\r\n",
    "percent-non-utf8": b"GET /%ff%fe%c3 HTTP/1.0\r\n\r\n",
    "percent-nul": b"GET /%00 HTTP/1.0\r\n\r\n",
    "encoded-dotdot": b"GET /%2e%2e/%2e%2e/etc/passwd HTTP/1.0\r\n\r\n",
    "raw-latin1-bytes": b"GET /\xff\xfe HTTP/1.0\r\n\r\n",
    "surrogate-escape": b"GET /%ed%a0%80 HTTP/1.0\r\n\r\n",
    "huge-header": b"GET / HTTP/1.0\r\nX-Big: " + b"a" * 70000 + b"\r\n\r\n",
    "many-headers": b"GET / HTTP/1.0\r\n" + b"X-A: b\r\n" * 150 + b"\r\n",
    "huge-request-line": b"GET /" + b"a" * 70000 + b" HTTP/1.0\r\n\r\n",
    "garbage-request-line": b"GARBAGE\r\n\r\n",
    "bad-query-since": b"GET /__clippings__/events?since=%C2%B2 HTTP/1.0\r\n\r\n",
    "huge-query-since": b"GET /__clippings__/events?since=" + b"9" * 5000 + b" HTTP/1.0\r\n\r\n",
    "bad-query-encoding": b"GET /?a=%ff&&&==%zz HTTP/1.0\r\n\r\n",
}
# Requests that are well formed enough to be answered as usual.
ANSWERED = {"bad-query-since", "huge-query-since", "bad-query-encoding"}


@pytest.mark.parametrize("case", MALFORMED)
def test_a_malformed_request_gets_a_4xx_answer_and_no_traceback(
    live: tuple[LiveSite, list[str], int], capsys: pytest.CaptureFixture[str], case: str
) -> None:
    port = live[2]
    status, _ = _status(port, MALFORMED[case])
    if case in ANSWERED:
        assert status == 200
    else:
        assert 400 <= status < 500, status
    assert _status(port, b"GET / HTTP/1.0\r\n\r\n")[0] == 200  # still serving
    captured = capsys.readouterr()
    assert "Traceback" not in captured.err and "failed" not in captured.err, captured.err
    _record(f"request `{case}`: answered {status}, no traceback")
