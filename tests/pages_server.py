"""A static server that behaves like GitHub Pages under a project prefix, for crawl tests.

Only `/<prefix>/...` is served; `/<prefix>` redirects to `/<prefix>/`; `dir/` serves
`dir/index.html` and `dir` redirects to `dir/`; anything else is a 404 with the site's 404.html.
"""

from __future__ import annotations

import http.server
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from functools import partial
from pathlib import Path
from urllib.parse import unquote, urlsplit


class PagesHandler(http.server.SimpleHTTPRequestHandler):
    def __init__(self, *args, prefix: str, directory: str, **kwargs) -> None:
        self.prefix = prefix
        super().__init__(*args, directory=directory, **kwargs)

    def log_message(self, format: str, *args) -> None:  # keep test output quiet
        pass

    def do_GET(self) -> None:
        path = urlsplit(self.path).path
        if path == self.prefix.rstrip("/"):
            self._redirect(self.prefix)
            return
        if not path.startswith(self.prefix):
            self._not_found()
            return
        local = Path(self.directory) / unquote(path[len(self.prefix) :])
        if local.is_dir() and not path.endswith("/"):
            self._redirect(path + "/")
            return
        if not (local / "index.html" if local.is_dir() else local).is_file():
            self._not_found()
            return
        self.path = "/" + path[len(self.prefix) :]
        super().do_GET()

    def _redirect(self, location: str) -> None:
        self.send_response(301)
        self.send_header("Location", location)
        self.end_headers()

    def _not_found(self) -> None:
        page = Path(self.directory) / "404.html"
        body = page.read_bytes() if page.is_file() else b"Not found"
        self.send_response(404)
        self.send_header("Content-Type", "text/html; charset=utf-8")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


@contextmanager
def pages_server(site_dir: Path, prefix: str = "/repo/") -> Iterator[str]:
    """Serve `site_dir` under `prefix` on a free loopback port; yields the site's base URL."""
    handler = partial(PagesHandler, prefix=prefix, directory=str(site_dir))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}{prefix}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join()
