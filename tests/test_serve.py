"""`serve`: path safety, base path, pretty URLs, script injection, busy ports and a clean stop."""

from __future__ import annotations

import dataclasses
import http.client
import os
import re
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from watchdog.events import (
    FileClosedEvent,
    FileClosedNoWriteEvent,
    FileModifiedEvent,
    FileSystemEvent,
)

from clippings import serve
from clippings.build import build_site
from clippings.incremental import Rebuilder
from clippings.output import build_lock
from clippings.serve import EVENTS_PATH, LiveSite, make_server, normalize_base_path
from tests.conftest import REPO, reaped, site_tree


@pytest.fixture
def served(fixture_site: Path) -> Iterator[tuple[LiveSite, int]]:
    """The fixture site built and served under /repo/ on a free port, in this process."""
    live = LiveSite(Rebuilder(fixture_site / "config.yaml"), "/repo/")
    live.rebuild(None, report=lambda line: None)
    server, _ = make_server(live, "127.0.0.1", 0)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05})
    thread.start()
    try:
        yield live, server.server_address[1]
    finally:
        live.stopping.set()
        server.shutdown()
        server.server_close()
        thread.join()


def _get(port: int, path: str) -> tuple[int, dict[str, str], bytes]:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    connection.putrequest("GET", path, skip_accept_encoding=True)  # send the path exactly as given
    connection.endheaders()
    response = connection.getresponse()
    body = response.read()
    connection.close()
    return response.status, dict(response.getheaders()), body


@pytest.mark.parametrize(
    "path",
    [
        "/repo/../config.yaml",
        "/repo/%2e%2e/config.yaml",
        "/repo/%2E%2E/%2e%2e/etc/passwd",
        "/repo/..%2fconfig.yaml",
        "/repo/..%5cconfig.yaml",
        "/repo/%5c..%5cconfig.yaml",
        "/repo/2019\\..\\..\\config.yaml",
    ],
)
def test_paths_outside_the_site_are_refused(served: tuple[LiveSite, int], path: str) -> None:
    _, port = served
    status, _, body = _get(port, path)
    assert status in (400, 404)
    assert b"title:" not in body and b"root:" not in body


def test_base_path_is_served_as_github_pages_does(served: tuple[LiveSite, int]) -> None:
    _, port = served
    status, headers, _ = _get(port, "/repo")
    assert (status, headers["Location"]) == (301, "/repo/")
    assert _get(port, "/repo/")[0] == 200
    assert _get(port, "/")[0] == 404
    assert _get(port, "/index.html")[0] == 404


def test_pretty_urls(served: tuple[LiveSite, int]) -> None:
    _, port = served
    status, headers, _ = _get(port, "/repo/2019")
    assert (status, headers["Location"]) == (301, "/repo/2019/")
    status, _, body = _get(port, "/repo/2019/")
    assert status == 200 and b"<h1>Articles from 2019</h1>" in body
    status, _, missing = _get(port, "/repo/no-such-page/")
    assert status == 404 and b"Page not found" in missing
    # At any depth, its links resolve against serve's base path (not the fixture's base_url).
    status, _, deep = _get(port, "/repo/a/b/c/")
    assert status == 404 and deep.count(b"<base ") == 1 and b'<base href="/repo/">' in deep


def test_script_is_injected_only_in_served_html(served: tuple[LiveSite, int]) -> None:
    live, port = served
    _, headers, page = _get(port, "/repo/2019/")
    assert EVENTS_PATH.encode() in page and headers["Content-Type"].startswith("text/html")
    _, _, stylesheet = _get(port, "/repo/static/style.css")
    assert EVENTS_PATH.encode() not in stylesheet
    built = site_tree(live.site_dir, search=False)  # (search is indexed in the background)
    assert built and not [path for path, data in built.items() if EVENTS_PATH.encode() in data]


def test_a_page_loads_its_stylesheet_by_version_so_the_browser_can_keep_it(
    served: tuple[LiveSite, int],
) -> None:
    live, port = served
    _, _, page = _get(port, "/repo/2019/")
    found = re.search(rb'<link rel="stylesheet" href="\.\./static/style\.css\?v=([^"]+)">', page)
    assert found, page[:600]
    status, headers, _ = _get(port, "/repo/static/style.css?v=" + found[1].decode())
    assert status == 200 and "immutable" in headers["Cache-Control"]
    # Any other version (an old page's) may be stale: it is not kept.
    assert _get(port, "/repo/static/style.css?v=0-0")[1]["Cache-Control"] == "no-store"
    assert _get(port, "/repo/static/style.css")[1]["Cache-Control"] == "no-store"
    stylesheet = live.site_dir / "static/style.css"
    stylesheet.write_bytes(stylesheet.read_bytes() + b"\nh1 { color: red }\n")
    changed = re.search(rb'style\.css\?v=([^"]+)"', _get(port, "/repo/2019/")[2])
    assert changed and changed[1] != found[1]
    assert _get(port, "/repo/2019/")[1]["Cache-Control"] == "no-store"  # pages: always asked


def test_only_the_sites_own_subresources_get_a_version(tmp_path: Path) -> None:
    (tmp_path / "static").mkdir()
    (tmp_path / "static/a.css").write_text("p {}")
    page = (
        b'<link rel="stylesheet" href="../static/a.css"><link rel="alternate" href="../static/a.css">'
        b'<script src="https://example.org/static/a.css"></script><img src="//example.org/a.css">'
        b'<img src="../static/missing.png"><img src="../../../static/a.css"><a href="../static/a.css">'
        b'<img src="a%00.png"><img src="' + b"n" * 5000 + b'.png">'
    )

    def site_file(relative: str) -> Path | None:
        return (tmp_path / relative).resolve()  # as `LiveSite.site_file`: raises on a NUL

    out = serve.versioned_subresources(page, "/repo/2019/", "/repo/", site_file)
    version = serve.asset_version(tmp_path / "static/a.css")
    assert version and out == page.replace(
        b'stylesheet" href="../static/a.css"',
        b'stylesheet" href="../static/a.css?v=' + version.encode() + b'"',
    )


@pytest.mark.parametrize(
    ("event", "quiet"),
    [
        (FileModifiedEvent, serve._QUIET_SECONDS),  # more of the same save may follow
        (FileClosedEvent, serve._SETTLED_SECONDS),  # the write is done
    ],
)
def test_the_watcher_waits_less_once_a_write_is_done(
    served: tuple[LiveSite, int], event: type[FileSystemEvent], quiet: float
) -> None:
    live, _ = served
    watcher = serve.Watcher(live, lambda line: None)
    letter = live.rebuilder.config.root / "content/2019/letter.md"
    watcher.on_any_event(FileModifiedEvent(str(letter)))
    watcher.on_any_event(event(str(letter)))
    assert watcher.quiet_seconds == quiet
    watcher.on_any_event(FileClosedEvent(str(letter.parent / ".letter.md.swp")))  # not ours
    watcher.on_any_event(FileClosedNoWriteEvent(str(letter)))  # read, not written
    assert watcher.quiet_seconds == quiet


def test_event_stream_reports_build_problems(served: tuple[LiveSite, int]) -> None:
    live, port = served
    letter = live.rebuilder.config.root / "content/2019/letter.md"
    letter.write_text("---\ntitle: [broken\n---\n", encoding="utf-8")
    live.rebuild({letter.resolve()}, report=lambda line: None)
    assert live.problems and live.problems[0].startswith("content/2019/letter.md:3: YAML")
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    connection.request("GET", "/repo/" + EVENTS_PATH)
    response = connection.getresponse()
    assert response.headers.get_content_type() == "text/event-stream"
    lines = [response.fp.readline() for _ in range(4)]
    connection.close()
    assert b"event: problems\n" in lines
    assert _get(port, "/repo/2019/")[0] == 200  # the last good site is still served


def test_base_path_spellings() -> None:
    assert normalize_base_path("repo") == normalize_base_path("/repo") == "/repo/"
    assert normalize_base_path("") == normalize_base_path("/") == "/"


def test_serve_moves_off_a_busy_port_and_stops_cleanly_on_ctrl_c(fixture_site: Path) -> None:
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        process = subprocess.Popen(
            [sys.executable, str(REPO / "build.py"), "serve", "--port", str(port)],
            cwd=fixture_site,
            stderr=subprocess.PIPE,
            text=True,
            env={**os.environ, "PYTHONPATH": str(REPO)},
        )
        with reaped(process):
            assert process.stderr is not None
            lines = []
            for line in process.stderr:
                lines.append(line)
                if line.startswith("Serving"):
                    break
            process.send_signal(signal.SIGINT)
            rest = process.communicate(timeout=20)[1]
    # The next free port is usually port + 1, but another process may hold that one too.
    moved = [re.fullmatch(rf"Port {port} is busy; using (\d+) instead\n", line) for line in lines]
    new_port = int(next(match for match in moved if match).group(1))
    assert new_port > port
    assert f":{new_port}/" in lines[-1]
    assert process.returncode == 0
    assert "Traceback" not in rest and rest.endswith("Stopped\n")


def test_a_page_that_missed_a_rebuild_hears_about_it_on_connecting(
    served: tuple[LiveSite, int],
) -> None:
    live, _ = served
    served_with = live.generation  # the number a page served now carries
    letter = live.rebuilder.config.root / "content/2019/letter.md"
    letter.write_text(letter.read_text(encoding="utf-8") + "\nLate news.\n", encoding="utf-8")
    live.rebuild({letter.resolve()}, report=lambda line: None)
    event, data = live.subscribe(served_with).get(timeout=5)
    assert event == "reload" and "/repo/2019/a-letter-from-pyongyang/" in data["urls"]
    assert live.subscribe(live.generation).empty()


def test_downloads_made_from_every_article_are_brought_up_to_date_after_the_reload(
    served: tuple[LiveSite, int], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A body edit renders its page and sends the reload first; the downloads made from every
    article (seconds at 10,000 articles) follow in the background, and the site then equals a
    clean build."""
    live, _ = served
    lines: list[str] = []
    site = live.site_dir
    before = (site / "archive.json").read_bytes()
    letter = live.rebuilder.config.root / "content/2019/letter.md"
    letter.write_text(letter.read_text(encoding="utf-8") + "\nLate news.\n", encoding="utf-8")
    monkeypatch.setattr(serve, "DOWNLOADS_DELAY", 2.0)  # time enough to look before the catch-up
    live.rebuild({letter.resolve()}, report=lines.append, defer_downloads=True)  # as watched
    assert "Late news." in (site / "2019/a-letter-from-pyongyang/index.html").read_text()
    assert (site / "archive.json").read_bytes() == before
    deadline = time.monotonic() + 60
    while not any(line.startswith("Downloads brought up to date") for line in lines):
        assert time.monotonic() < deadline, lines
        time.sleep(0.05)
    assert lines[0].startswith("Rebuilt in ")
    clean = tmp_path / "clean"
    build_site(dataclasses.replace(live.rebuilder.config, cache=False), clean)
    assert site_tree(site, search=False) == site_tree(clean, search=False)


def test_a_rebuild_does_not_wait_for_a_search_refresh_but_a_cli_build_does(
    served: tuple[LiveSite, int],
) -> None:
    """While Pagefind indexes in the background (here: the lock held as a refresh holds it), a
    save still rebuilds; a CLI build of the project waits until both are done."""
    live, _ = served
    letter = live.rebuilder.config.root / "content/2019/letter.md"
    letter.write_text(letter.read_text(encoding="utf-8") + "\nLater news.\n", encoding="utf-8")
    cli_done = threading.Event()

    def cli_build() -> None:
        with build_lock(live.rebuilder.config.root):
            cli_done.set()

    with live._project_lock.held():  # a search refresh under way
        rebuild = threading.Thread(target=live.rebuild, args=({letter.resolve()}, lambda _: None))
        rebuild.start()
        rebuild.join(timeout=30)
        assert not rebuild.is_alive(), "the rebuild waited for the search refresh"
        cli = threading.Thread(target=cli_build)
        cli.start()
        assert not cli_done.wait(0.5), "a CLI build ran during serve's work"
    assert cli_done.wait(30)
    cli.join()
    page = live.site_dir / "2019/a-letter-from-pyongyang/index.html"
    assert "Later news." in page.read_text(encoding="utf-8")


def test_background_work_runs_once_after_a_run_of_asks_pauses() -> None:
    """Five saves 0.1 s apart ask for the downloads' catch-up once, a delay after the last."""
    runs: list[float] = []
    stopping = threading.Event()
    later = serve._Later(lambda report: runs.append(time.monotonic()), stopping, lambda: 0.3)
    try:
        for _ in range(5):
            later.ask(lambda line: None)
            last_ask = time.monotonic()
            time.sleep(0.1)
        deadline = time.monotonic() + 10
        while not runs and time.monotonic() < deadline:
            time.sleep(0.02)
        time.sleep(0.5)  # a second run would have come by now
    finally:
        stopping.set()
    assert len(runs) == 1
    assert runs[0] >= last_ask + 0.3
