"""The dev server under load and hostile requests: `build.py serve` in a child process on 127.0.0.1.

200 concurrent clients for 10 s get only 200 responses, none stalled (a response that takes longer
than STALL_SECONDS counts as an error); path traversal in every spelling never returns a file from
outside the site; the reload channel keeps working after clients vanish mid-stream. All requests go
to 127.0.0.1 and every loop is bounded in count and time.
"""

from __future__ import annotations

import http.client
import os
import re
import shutil
import signal
import socket
import struct
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import FIXTURE_SITE, REPO, reaped, stop_process
from tests.reliability.report import FIGURES

CLIENTS = 200
LOAD_SECONDS = 10.0
STALL_SECONDS = 10.0
SECRET = "TOP-SECRET-d41d8cd9"
PAGES = ("/", "/2020/", "/people/", "/feed.xml", "/static/style.css", "/sitemap.xml")
FIGURES.expected["serve"] = 3


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Path, int, str]]:
    """A copy of the fixture site served by a child `build.py serve --port 0`."""
    site = tmp_path_factory.mktemp("serve") / "site"
    shutil.copytree(FIXTURE_SITE, site)
    (site / "secret.txt").write_text(SECRET, encoding="utf-8")
    process = subprocess.Popen(
        [sys.executable, str(REPO / "build.py"), "serve", "--port", "0"],
        cwd=site,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONPATH": str(REPO)},
    )
    assert process.stderr is not None
    with reaped(process):  # killed if anything below fails, or it does not stop in time
        serving = ""
        for _, line in zip(range(200), process.stderr, strict=False):  # bounded: 200 lines
            if line.startswith("Serving"):
                serving = line
                break
        match = re.search(r"at http://([^:/]+):(\d+)/", serving)
        assert match, f"no 'Serving' line: {serving!r}"
        threading.Thread(target=process.stderr.read, daemon=True).start()  # keep draining it
        yield site, int(match[2]), match[1]
        stop_process(process, signal.SIGTERM)


def get(port: int, path: str) -> tuple[int, bytes]:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=STALL_SECONDS)
    try:
        connection.putrequest("GET", path, skip_accept_encoding=True)  # the path exactly as given
        connection.endheaders()
        response = connection.getresponse()
        return response.status, response.read()
    finally:
        connection.close()


def test_listens_on_loopback_and_holds_200_clients(server: tuple[Path, int, str]):
    _, port, host = server
    assert host == "127.0.0.1"
    errors: list[str] = []
    served = [0] * CLIENTS
    deadline = time.monotonic() + LOAD_SECONDS

    def client(index: int) -> None:
        number = 0
        while time.monotonic() < deadline:
            path = PAGES[(index + number) % len(PAGES)]
            number += 1
            try:
                status, _ = get(port, path)
            except OSError as error:  # includes a stalled response (socket timeout)
                errors.append(f"{path}: {error!r}")
                continue
            if status != 200:
                errors.append(f"{path}: HTTP {status}")
            served[index] += 1

    threads = [threading.Thread(target=client, args=(i,)) for i in range(CLIENTS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=LOAD_SECONDS + 2 * STALL_SECONDS)
    assert not any(thread.is_alive() for thread in threads), "a client never returned"
    assert errors == []
    assert all(count > 0 for count in served), "a client was never served"
    FIGURES.serve["load"] = (
        f"{CLIENTS} concurrent clients for {LOAD_SECONDS:.0f} s: every request got 200, none stalled"
    )


TRAVERSALS = (
    "/../secret.txt",
    "/%2e%2e/secret.txt",
    "/%2E%2E/%2e%2e/secret.txt",
    "/..%2fsecret.txt",
    "/..%5csecret.txt",
    "/2020\\..\\..\\secret.txt",
    "//secret.txt",
    "/" + "%2e%2e/" * 8 + "etc/passwd",
    "/%00../secret.txt",
    "/index.html%00.txt",
    "/leak.txt",  # a symlink inside the site pointing at secret.txt
    "/leak-folder/secret.txt",  # a symlinked folder pointing at the project
)


def test_path_traversal_never_leaves_the_site(server: tuple[Path, int, str]):
    site, port, _ = server
    (site / "_site" / "leak.txt").symlink_to(site / "secret.txt")
    (site / "_site" / "leak-folder").symlink_to(site)
    statuses = {}
    for path in TRAVERSALS:
        status, body = get(port, path)
        assert SECRET.encode() not in body, path
        assert b"root:" not in body, path
        statuses[path] = status
    assert set(statuses.values()) <= {400, 403, 404}, statuses
    FIGURES.serve["traversal"] = (
        f"{len(TRAVERSALS)} traversal spellings (../, %2e%2e, backslashes, //, NUL, symlinks): "
        + "/".join(str(s) for s in sorted(set(statuses.values())))
        + ", never a file from outside the site"
    )


def vanish(port: int) -> None:
    """Open the event stream, read its first bytes, then reset the connection (no goodbye)."""
    with socket.create_connection(("127.0.0.1", port), timeout=STALL_SECONDS) as sock:
        sock.sendall(b"GET /__clippings__/events HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
        sock.recv(1024)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))


def test_reload_channel_survives_vanished_clients(server: tuple[Path, int, str]):
    site, port, _ = server
    for _ in range(50):
        vanish(port)
    with socket.create_connection(("127.0.0.1", port), timeout=STALL_SECONDS) as sock:
        sock.sendall(b"GET /__clippings__/events HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
        received = sock.recv(4096)
        assert b"text/event-stream" in received
        article = site / "content" / "2020" / "summit.md"
        article.write_text(article.read_text(encoding="utf-8") + "\nOne more line.\n")
        deadline = time.monotonic() + 30
        while b"event: reload" not in received and time.monotonic() < deadline:
            received += sock.recv(4096)
    assert b"event: reload" in received
    assert get(port, "/")[0] == 200
    FIGURES.serve["reload"] = (
        "50 event-stream clients reset mid-stream; a new client still got the reload after a save"
    )
