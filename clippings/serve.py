"""`python build.py serve`: build, serve over HTTP, watch the sources, rebuild and reload open pages.

A request waits for a rebuild in progress (the server's lock), so a page is never served half
built; the downloads made from every article, brought up to date once the saves pause, are
swapped in by one rename each while pages are served. Open pages hold a Server-Sent Events stream;
after a rebuild each page hears which URLs changed and reloads only if it is one of them (a changed
stylesheet is swapped in place). The small client script is added to HTML responses here, never
written into the site folder. A failed rebuild leaves the last good site and shows an overlay.
"""

from __future__ import annotations

import collections
import contextlib
import errno
import gc
import html
import http.server
import json
import mimetypes
import queue
import re
import signal
import socket
import sys
import threading
import time
import webbrowser
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, unquote, urljoin, urlsplit

from watchdog.events import FileSystemEvent, FileSystemEventHandler
from watchdog.observers import Observer

from clippings.cache import CACHE_DIR
from clippings.errors import BuildError, Problem
from clippings.files import ignored_name, os_problem
from clippings.incremental import Outcome, Prerendered, Rebuilder
from clippings.search import refresh_live_index, shard_records

EVENTS_PATH = "__clippings__/events"
_PORT_ATTEMPTS = 20
_QUIET_SECONDS = 0.025  # editors write several events per save: wait for a short silence
# ... shorter once the last event ends a write (the file closed, or moved into place): a later
# event of the same save, if any, only costs one more rebuild.
_SETTLED_SECONDS = 0.003
_MAX_WAIT_SECONDS = 0.25
_KEEPALIVE_SECONDS = 10.0
SEARCH_DELAY = 0.5  # seconds after a rebuild before re-indexing search, so reloads go first
# Seconds without a save before the downloads made from every article are made again (seconds
# of work at 10,000 articles, which a save arriving meanwhile would wait for).
DOWNLOADS_DELAY = 2.0

_CLIENT = """<script>/* clippings serve: live reload (not part of the built site) */
(function () {
  "use strict";
  var events = new EventSource(%(events)s);
  var here = location.pathname.replace(/index\\.html$/, "");
  function overlay(problems) {
    var box = document.getElementById("clippings-overlay");
    if (!problems) { if (box) box.remove(); return; }
    if (!box) {
      box = document.createElement("div");
      box.id = "clippings-overlay";
      box.setAttribute("role", "alert");
      box.style.cssText = "position:fixed;inset:0;z-index:2147483647;overflow:auto;margin:0;" +
        "padding:2em;background:#141414;color:#fdd;font:14px/1.5 monospace;white-space:pre-wrap";
      document.body.appendChild(box);
    }
    box.textContent = "Build failed; showing the last good build.\\n\\n" + problems.join("\\n");
  }
  events.addEventListener("problems", function (e) { overlay(JSON.parse(e.data).problems); });
  events.addEventListener("reload", function (e) {
    var changed = JSON.parse(e.data).urls;
    overlay(null);
    if (changed === null || changed.indexOf(here) >= 0) { location.reload(); return; }
    document.querySelectorAll('link[rel="stylesheet"]').forEach(function (link) {
      var url = new URL(link.href);
      if (changed.indexOf(url.pathname) >= 0) {
        url.searchParams.set("reload", Date.now());
        link.href = url.href;
      }
    });
  });
})();
</script>
"""


_BASE_TAG = re.compile(rb"<base\s[^>]*>", re.IGNORECASE)


def with_base(page: bytes, base_path: str) -> bytes:
    """The 404 page is served at any depth: a <base> at the served root makes its relative
    links and stylesheet resolve (replacing the one the build made from base_url, if any)."""
    tag = f'<base href="{html.escape(base_path)}">'.encode()
    page = _BASE_TAG.sub(b"", page)
    return page.replace(b"<head>", b"<head>\n" + tag, 1)


def normalize_base_path(base_path: str) -> str:
    """`repo`, `/repo` and `/repo/` all mean `/repo/`; the default is `/`."""
    inner = base_path.strip("/")
    return f"/{inner}/" if inner else "/"


# The tags whose URL a page load waits for: a stylesheet, an icon, a script, an image.
_SUBRESOURCE_TAG = re.compile(
    rb"<(?:link\b[^>]*\brel=\"(?:stylesheet|icon)\"|script\b|img\b)[^>]*>", re.IGNORECASE
)
_LOCAL_URL = re.compile(rb'(\b(?:href|src)=")([^":?#]+)(")')  # relative: no scheme or query
_ASSET_CACHE = "max-age=31536000, immutable"


def asset_version(path: Path) -> str | None:
    """A token that changes whenever the file does (its modification time and size)."""
    try:
        stat = path.stat()
    except OSError:
        return None
    return f"{stat.st_mtime_ns:x}-{stat.st_size:x}"


def versioned_subresources(
    page: bytes, page_url: str, base_path: str, site_file: Callable[[str], Path | None]
) -> bytes:
    """Each stylesheet, script and image the page loads from the site gets `?v=` and its
    version: the browser keeps it (see `_ASSET_CACHE`) and reloads a page without fetching
    it again, yet a changed file has a new URL. Chromium spends ~25 ms a page on fetching
    them again otherwise, even unchanged (a sixth of the save-to-reload time)."""

    def version_url(attribute: re.Match[bytes]) -> bytes:
        url = urljoin(page_url, unquote(attribute[2].decode("utf-8", "replace")))
        if url.startswith("//") or not url.startswith(base_path):
            return attribute[0]
        try:
            target = site_file(url[len(base_path) :])
        except (OSError, ValueError):  # `%00`, a name too long: a link to nothing, left as it is
            return attribute[0]
        version = asset_version(target) if target else None
        if version is None:
            return attribute[0]
        return attribute[1] + attribute[2] + b"?v=" + version.encode() + attribute[3]

    def version_tag(tag: re.Match[bytes]) -> bytes:
        return _LOCAL_URL.sub(version_url, tag[0], count=1)

    return _SUBRESOURCE_TAG.sub(version_tag, page)


def inject_client(html: bytes, events_url: str) -> bytes:
    """Add the live-reload script before `</body>` (or at the end)."""
    script = (_CLIENT % {"events": json.dumps(events_url)}).encode("utf-8")
    index = html.rfind(b"</body>")
    if index < 0:
        return html + script
    return html[:index] + script + html[index:]


def rebuild_problems(error: Exception, site_dir: Path, what: str = "rebuild") -> list[Problem]:
    """Any failure of a rebuild as `path:line: message` lines for the log and the overlay."""
    if isinstance(error, BuildError):
        return error.problems
    if isinstance(error, OSError):
        return [os_problem(error, site_dir)]
    message = f"{what} failed ({type(error).__name__}: {error}); the next save tries again"
    return [Problem(str(site_dir), None, message)]


class _Later:
    """Work done in a background thread once `delay()` seconds have passed since it was last
    asked for, so open pages fetch their reloaded page before it takes the CPU and the GIL, and
    a run of saves asks for it once; asked for again while it runs, it runs once more."""

    def __init__(
        self,
        work: Callable[[Callable[[str], None]], None],
        stopping: threading.Event,
        delay: Callable[[], float],
    ) -> None:
        self._work = work
        self._stopping = stopping
        self._delay = delay
        self._lock = threading.Lock()
        self._running = False
        self._wanted = False
        self._asked = 0.0  # time.monotonic() of the last ask

    def ask(self, report: Callable[[str], None]) -> None:
        with self._lock:
            self._wanted = True
            self._asked = time.monotonic()
            if self._running:
                return
            self._running = True
        threading.Thread(target=self._loop, args=(report,), daemon=True).start()

    def _loop(self, report: Callable[[str], None]) -> None:
        while True:
            with self._lock:
                wait = self._asked + self._delay() - time.monotonic()
            if wait > 0 and not self._stopping.wait(wait):
                continue  # asked again meanwhile, perhaps: wait for its own delay
            with self._lock:
                wanted, self._wanted = self._wanted, False
                if not wanted or self._stopping.is_set():
                    self._running = False
                    return
            try:
                self._work(report)
            except Exception as error:  # a bug, not a bad file: say so; the next ask runs it again
                report(f"background work failed ({type(error).__name__}: {error})")


class _SharedLock:
    """The project's build lock (`Rebuilder.build_lock`, which a CLI build takes), held while any
    of serve's threads needs it. A CLI build waits for them all, but a rebuild does not wait for
    the search re-index running in the background (Pagefind: seconds at 10,000 articles, and a
    stuck one once kept every later save from showing); the server's own lock orders the steps
    where the two meet (the snapshot of the archive, each swap of a shard)."""

    def __init__(self, take: Callable[[], contextlib.AbstractContextManager[None]]) -> None:
        self._take = take
        self._mutex = threading.Lock()
        self._holders = 0
        self._held = contextlib.ExitStack()

    @contextlib.contextmanager
    def held(self) -> Iterator[None]:
        with self._mutex:
            if self._holders == 0:
                self._held.enter_context(self._take())
            self._holders += 1
        try:
            yield
        finally:
            with self._mutex:
                self._holders -= 1
                if self._holders == 0:
                    self._held.close()


class LiveSite:
    """The site being served: its rebuilder, the build lock, the last problems, the open pages."""

    def __init__(self, rebuilder: Rebuilder, base_path: str = "/") -> None:
        self.rebuilder = rebuilder
        self.base_path = normalize_base_path(base_path)
        # Reentrant: a request that ends in 404 while holding it takes it again in _not_found.
        self.lock = threading.RLock()
        self.problems: list[str] | None = None
        self.stopping = threading.Event()
        self._streams: set[queue.Queue[tuple[str, dict[str, Any]]]] = set()
        self._streams_lock = threading.Lock()
        self._project_lock = _SharedLock(rebuilder.build_lock)
        self._building = threading.Lock()  # one user of the rebuilder at a time
        self._search = _Later(self._refresh_search_index, self.stopping, lambda: SEARCH_DELAY)
        self._downloads = _Later(self._catch_up, self.stopping, lambda: DOWNLOADS_DELAY)
        # Builds are numbered; a page is served with its number, so a stream opened after a
        # rebuild that the page missed still hears about it.
        self.generation = 0
        self._history: collections.deque[tuple[int, list[str]]] = collections.deque(maxlen=100)

    @property
    def site_dir(self) -> Path:
        return self.rebuilder.site_dir

    def site_file(self, relative: str) -> Path | None:
        """The site's file (or folder) at a path below the base path; None if it is outside."""
        root = self.site_dir.resolve()
        target = (root / relative).resolve()
        return target if target.is_relative_to(root) else None

    def url_of(self, path: str) -> str:
        """URL path that serves a site file: `a/b/index.html` is `<base>a/b/`."""
        if path == "index.html" or path.endswith("/index.html"):
            path = path[: -len("index.html")]
        return self.base_path + path

    def rebuild(
        self,
        changed: set[Path] | None = None,
        report: Callable[[str], None] = print,
        defer_downloads: bool = False,
    ) -> None:
        """Rebuild, then tell open pages what changed (or what went wrong). With
        `defer_downloads` (the watcher's edits), the downloads made from every article (seconds
        at 10,000 articles) are brought up to date just after, in the background, so the edited
        page reloads first."""
        outcome = self._build_and_tell(
            changed, report, "Rebuilt", defer_downloads=defer_downloads, requests_wait=True
        )
        if outcome is None:
            return
        if outcome.deferred:
            self._downloads.ask(report)
        config = self.rebuilder.config
        if config is not None and config.search:
            self._search.ask(report)

    def _catch_up(self, report: Callable[[str], None]) -> None:
        """The downloads a rebuild left for later (see `rebuild`), rendered without holding the
        rebuilder, so a save meanwhile rebuilds at once; a download whose inputs that save
        changed is left for the next catch-up. Pages are served meanwhile: only downloads are
        replaced, each with one rename, and pages hear of them as of a rebuild."""
        with self._project_lock.held():
            with self._building:
                work, renderer = self.rebuilder.deferred_downloads()
            try:
                ready = {page.path: (print_, renderer.render(page)) for page, print_ in work}
            except Exception:  # a save changed the model under it, or a bug: render under the lock
                ready = None
            outcome = self._build_and_tell(
                set(),
                report,
                "Downloads brought up to date",
                defer_downloads=ready is not None,
                requests_wait=False,
                prerendered=ready,
            )
        if outcome is not None and outcome.deferred:
            self._downloads.ask(report)

    def _build_and_tell(
        self,
        changed: set[Path] | None,
        report: Callable[[str], None],
        done: str,
        *,
        defer_downloads: bool,
        requests_wait: bool,
        prerendered: Prerendered | None = None,
    ) -> Outcome | None:
        # The project's lock, the rebuilder's, then the one requests take: in that order always.
        requests = self.lock if requests_wait else contextlib.nullcontext()
        try:
            with self._project_lock.held(), self._building, requests:
                model = self.rebuilder.archive
                outcome = self.rebuilder.build(changed, defer_downloads, prerendered)
                model_replaced = self.rebuilder.archive is not model
        except Exception as error:  # anything a save can cause: the server stays up
            self.problems = [str(problem) for problem in rebuild_problems(error, self.site_dir)]
            for line in self.problems:
                report(line)
            self._broadcast("problems", {"problems": self.problems})
            return None
        self.problems = None
        for warning in outcome.warnings if changed is None else ():
            report(str(warning))
        urls = [self.url_of(path) for path in outcome.written + outcome.removed]
        with self._streams_lock:
            self.generation += 1
            self._history.append((self.generation, urls))
        # A site swapped in by another build may differ anywhere: every page reloads.
        self._broadcast("reload", {"urls": None if outcome.site_replaced else urls})
        report(
            f"{done} in {outcome.seconds * 1000:.0f} ms: {len(outcome.written)} files written, "
            f"{len(outcome.removed)} removed ({outcome.rendered} pages rendered"
            + (f"; {outcome.deferred} downloads checked later)" if outcome.deferred else ")")
        )
        if model_replaced:  # the model is long-lived: keep the collector off it per edit
            gc.unfreeze()  # the previous model's cycles become collectable again (~0.3 s at
            gc.collect()  # 10,000 articles: after the reload went out, and not for an edit
            gc.freeze()  # the model took in place)
        return outcome

    def _refresh_search_index(self, report: Callable[[str], None]) -> None:
        """Re-index the changed search shards (after the reload went out)."""
        try:  # indexing writes the build cache's search folder: a CLI build waits
            with self._project_lock.held():
                with self._building:  # a snapshot between rebuilds: they update the archive
                    config, archive = self.rebuilder.config, self.rebuilder.archive
                    if not (config and config.search and archive and archive.articles):
                        return
                    records = shard_records(archive)
                cache = config.root / CACHE_DIR
                _, shards = refresh_live_index(
                    records, config.language, cache, self.site_dir, self.lock
                )
        except Exception as error:  # a failed refresh leaves the last index; serve goes on
            for problem in rebuild_problems(error, self.site_dir, "search refresh"):
                report(str(problem))
            return
        if shards:
            report(f"Search index updated: {', '.join(shards)}")

    def events_url(self) -> str:
        """Where a page served now listens; it carries the build number the page came from."""
        return f"{self.base_path}{EVENTS_PATH}?since={self.generation}"

    def subscribe(self, since: int | None = None) -> queue.Queue[tuple[str, dict[str, Any]]]:
        """A stream of events, starting with whatever changed after build `since`."""
        stream: queue.Queue[tuple[str, dict[str, Any]]] = queue.Queue()
        with self._streams_lock:
            self._streams.add(stream)
            if since is not None and since < self.generation:
                missed = [urls for number, urls in self._history if number > since]
                complete = self._history and self._history[0][0] <= since + 1
                flat = [url for urls in missed for url in urls] if complete else None
                stream.put(("reload", {"urls": flat}))
        if self.problems is not None:
            stream.put(("problems", {"problems": self.problems}))
        return stream

    def unsubscribe(self, stream: queue.Queue[tuple[str, dict[str, Any]]]) -> None:
        with self._streams_lock:
            self._streams.discard(stream)

    def _broadcast(self, event: str, data: dict[str, Any]) -> None:
        with self._streams_lock:
            for stream in self._streams:
                stream.put((event, data))


class LiveHandler(http.server.BaseHTTPRequestHandler):
    """Serves the site as GitHub Pages does under the base path, plus the reload stream."""

    server_version = "Clippings"
    live: LiveSite  # set on a subclass by `make_server`
    timeout = 30  # seconds a client may stay silent (an event stream writes keepalives)

    def log_message(self, format: str, *args: Any) -> None:  # the rebuild lines are the log
        pass

    def do_HEAD(self) -> None:
        self._serve(with_body=False)

    def do_GET(self) -> None:
        self._serve(with_body=True)

    def _serve(self, with_body: bool) -> None:
        """Answer one request; a malformed one gets a 4xx answer, never a traceback."""
        try:
            self._answer(with_body)
        except (ConnectionError, TimeoutError):
            pass  # the client went away: nobody to answer
        except OSError as error:  # e.g. a path segment longer than a file name can be
            too_long = error.errno == errno.ENAMETOOLONG
            status, text = (414, b"URI too long\n") if too_long else (404, b"Not found\n")
            self._send(status, text, "text/plain; charset=utf-8", with_body)
        except (ValueError, UnicodeError):  # e.g. `//[` (an unclosed IPv6 host), NUL bytes
            self._send(400, b"Bad request\n", "text/plain; charset=utf-8", with_body)

    def _answer(self, with_body: bool) -> None:
        live = self.live
        raw = urlsplit(self.path).path
        path = unquote(raw)
        if "\\" in path or "\0" in path or ".." in path.split("/"):
            self._send(400, b"Bad request\n", "text/plain; charset=utf-8", with_body)
            return
        if path + "/" == live.base_path:
            self._redirect(live.base_path)
            return
        if not path.startswith(live.base_path):
            self._not_found(with_body)
            return
        relative = path[len(live.base_path) :]
        if relative == EVENTS_PATH:
            query = parse_qs(urlsplit(self.path).query).get("since", [""])[0]
            number = query.isascii() and query.isdigit() and len(query) < 19  # a build number
            self._stream_events(int(query) if number else None)
            return
        cache = "no-store"
        with live.lock:  # waits for a build in progress
            target = live.site_file(relative)
            if target is None:
                self._not_found(with_body)
                return
            if target.is_dir():
                if not raw.endswith("/"):
                    self._redirect(raw + "/")
                    return
                target = target / "index.html"
            kind = mimetypes.guess_type(target.name)[0] or "application/octet-stream"
            try:
                data = target.read_bytes() if target.is_file() else None
                if data is not None and kind == "text/html":
                    data = versioned_subresources(data, path, live.base_path, live.site_file)
                    data = inject_client(data, live.events_url())
                elif parse_qs(urlsplit(self.path).query).get("v") == [asset_version(target)]:
                    cache = _ASSET_CACHE  # the version its page asked for: it cannot change
            except OSError:
                data = None
        if data is None:
            self._not_found(with_body)
            return
        if kind.startswith("text/") or kind in ("application/json", "application/xml"):
            kind += "; charset=utf-8"
        self._send(200, data, kind, with_body, cache)

    def _send(
        self, status: int, data: bytes, kind: str, with_body: bool, cache: str = "no-store"
    ) -> None:
        self.send_response(status)
        self.send_header("Content-Type", kind)
        self.send_header("Content-Length", str(len(data)))
        self.send_header("Cache-Control", cache)
        self.end_headers()
        if with_body:
            self.wfile.write(data)

    def _redirect(self, location: str) -> None:
        self.send_response(301)
        self.send_header("Location", location)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def _not_found(self, with_body: bool) -> None:
        page = self.live.site_dir / "404.html"
        with self.live.lock:
            body = page.read_bytes() if page.is_file() else b"<h1>Not found</h1></body>"
            events_url = self.live.events_url()
        body = inject_client(with_base(body, self.live.base_path), events_url)
        self._send(404, body, "text/html; charset=utf-8", with_body)

    def _stream_events(self, since: int | None) -> None:
        self.send_response(200)
        self.send_header("Content-Type", "text/event-stream")
        self.send_header("Cache-Control", "no-store")
        self.end_headers()
        stream = self.live.subscribe(since)
        last_write = time.monotonic()
        try:
            self.wfile.write(b": connected\n\n")
            self.wfile.flush()
            while not self.live.stopping.is_set():
                try:
                    event, data = stream.get(timeout=0.5)
                except queue.Empty:
                    if time.monotonic() - last_write > _KEEPALIVE_SECONDS:
                        self.wfile.write(b": keepalive\n\n")
                        self.wfile.flush()
                        last_write = time.monotonic()
                    continue
                self.wfile.write(f"event: {event}\ndata: {json.dumps(data)}\n\n".encode())
                self.wfile.flush()
                last_write = time.monotonic()
        except OSError:  # the page went away
            pass
        finally:
            self.live.unsubscribe(stream)


class LiveServer(http.server.ThreadingHTTPServer):
    """Joins every request thread on close, after shutting their connections down: a client
    that connected and sent nothing (or half a request) must not hold Ctrl-C up."""

    daemon_threads = False  # server_close() joins every request thread: a clean stop
    block_on_close = True
    # socketserver's default backlog of 5 drops connections when many pages (or tabs) load at
    # once; their retries then take seconds. 200 concurrent clients stalled without this.
    request_queue_size = 256

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        self._connections: set[socket.socket] = set()
        self._connections_lock = threading.Lock()
        super().__init__(*args, **kwargs)

    def process_request(self, request: Any, client_address: Any) -> None:
        with self._connections_lock:
            self._connections.add(request)
        super().process_request(request, client_address)

    def shutdown_request(self, request: Any) -> None:
        with self._connections_lock:
            self._connections.discard(request)
        super().shutdown_request(request)

    def server_close(self) -> None:
        with self._connections_lock:
            for connection in self._connections:
                with contextlib.suppress(OSError):
                    connection.shutdown(socket.SHUT_RDWR)  # wakes a thread blocked reading it
        super().server_close()

    def handle_error(self, request: Any, client_address: Any) -> None:
        """One line, not a traceback; a client that went away is not worth one."""
        error = sys.exc_info()[1]
        if not isinstance(error, ConnectionError | TimeoutError):
            _log(f"request from {client_address[0]} failed: {type(error).__name__}: {error}")


def make_server(live: LiveSite, host: str, port: int) -> tuple[LiveServer, str | None]:
    """Bind `host:port`, moving to the next free port when it is busy; returns a note if it moved."""
    handler = type("BoundLiveHandler", (LiveHandler,), {"live": live})
    server_class = LiveServer
    if ":" in host:  # an IPv6 address such as ::1
        server_class = type("LiveServer6", (LiveServer,), {"address_family": socket.AF_INET6})
    last_error: OSError | None = None
    for candidate in range(port, port + _PORT_ATTEMPTS) if port else [0]:
        try:
            server = server_class((host, candidate), handler)
        except OSError as error:
            if error.errno != errno.EADDRINUSE:
                raise
            last_error = error
            continue
        moved = server.server_address[1]
        note = f"Port {port} is busy; using {moved} instead" if port and moved != port else None
        return server, note
    raise OSError(errno.EADDRINUSE, f"ports {port}-{port + _PORT_ATTEMPTS - 1} are all busy") from (
        last_error
    )


class Watcher(FileSystemEventHandler):
    """Collects changed source paths and rebuilds after a short quiet spell (debounce)."""

    def __init__(self, live: LiveSite, report: Callable[[str], None]) -> None:
        self.live = live
        self.report = report
        config, authority, *folders = live.rebuilder.watched_paths()
        self.files = {config, authority}
        self.folders = folders
        self.content = folders[0]
        self._changed: set[Path] = set()
        self._events = 0  # counts events, so a burst on one file still extends the quiet spell
        self._settled = False  # whether the last event ended a write
        self._watched: set[Path] = set()
        self._condition = threading.Condition()
        self._observer = Observer()
        self._thread = threading.Thread(target=self._run, name="clippings-rebuild")

    def start(self) -> None:
        parents = {path.parent for path in self.files}
        for parent in parents:
            if parent.is_dir():
                self._observer.schedule(self, str(parent), recursive=False)
        self._watched = set(parents)
        for folder in self.folders:
            self._watch(folder)
        self._observer.start()
        self._thread.start()

    def stop(self) -> None:
        if not self._thread.is_alive():
            return
        self._observer.stop()
        with self._condition:
            self._condition.notify_all()
        self._observer.join()
        self._thread.join()

    def _watch(self, folder: Path) -> None:
        if folder.is_dir() and folder not in self._watched:
            self._observer.schedule(self, str(folder), recursive=True)
            self._watched.add(folder)

    def on_any_event(self, event: FileSystemEvent) -> None:
        if event.event_type in ("opened", "closed_no_write"):
            return
        if event.is_directory and event.event_type in ("created", "moved"):
            created = Path(str(getattr(event, "dest_path", "") or event.src_path))
            if created in self.folders:  # templates/ or static/ made after start: watch it now
                self._watch(created)
        if event.is_directory and event.event_type == "modified":
            return
        paths = [event.src_path, getattr(event, "dest_path", "")]
        wanted = {Path(str(p)) for p in paths if p and self._wanted(Path(str(p)), event)}
        if wanted:
            with self._condition:
                self._changed |= wanted
                self._events += 1
                self._settled = event.event_type in ("closed", "moved", "deleted")
                self._condition.notify_all()

    def _wanted(self, path: Path, event: FileSystemEvent) -> bool:
        if path in self.files:
            return True
        if ignored_name(path.name):  # an editor's lock or swap file: not a site file
            return False
        if path.is_relative_to(self.content):  # .md files, and folders moved or deleted whole
            return path.suffix == ".md" or event.is_directory
        return any(path.is_relative_to(folder) for folder in self.folders)

    @property
    def quiet_seconds(self) -> float:
        """How long a silence ends the save now: short once the last event ended a write."""
        return _SETTLED_SECONDS if self._settled else _QUIET_SECONDS

    def _run(self) -> None:
        while not self.live.stopping.is_set():
            with self._condition:
                while not self._changed and not self.live.stopping.is_set():
                    self._condition.wait(0.5)
                    if not self._changed and self.live.rebuilder.site_replaced():
                        break  # a CLI build swapped the site in: check it against the sources
                first = time.monotonic()
                seen = -1
                while self._events != seen and time.monotonic() - first < _MAX_WAIT_SECONDS:
                    seen = self._events
                    self._condition.wait(self.quiet_seconds)
                changed, self._changed = self._changed, set()
            if not self.live.stopping.is_set() and (changed or self.live.rebuilder.site_replaced()):
                try:
                    self.live.rebuild(changed, self.report, defer_downloads=True)
                except Exception as error:  # a bug, not a bad file: the next save still rebuilds
                    self.report(f"rebuild failed ({type(error).__name__}: {error})")


def _log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def serve(
    rebuilder: Rebuilder,
    host: str = "127.0.0.1",
    port: int = 8000,
    base_path: str = "/",
    open_browser: bool = False,
) -> int:
    """Build, then serve and rebuild on changes until Ctrl-C (or SIGTERM)."""
    live = LiveSite(rebuilder, base_path)
    started = time.perf_counter()
    live.rebuild(None, _log)
    watcher = Watcher(live, _log)  # reads config.yaml: a broken one stops here, with its problems
    server, note = make_server(live, host, port)
    previous = signal.signal(signal.SIGTERM, _interrupt)
    try:  # from here on, Ctrl-C at any moment stops cleanly
        if note:
            _log(note)
        watcher.start()
        address = host if ":" not in host else f"[{host}]"
        url = f"http://{address}:{server.server_address[1]}{live.base_path}"
        seconds = time.perf_counter() - started
        _log(f"Serving {live.site_dir}/ at {url} (ready in {seconds:.1f} s; Ctrl-C to stop)")
        if open_browser:
            webbrowser.open(url)
        server.serve_forever(poll_interval=0.2)
    except KeyboardInterrupt:
        pass
    finally:
        signal.signal(signal.SIGTERM, previous)
        live.stopping.set()
        watcher.stop()
        server.server_close()
    _log("Stopped")
    return 0


def _interrupt(signum: int, frame: object) -> None:
    raise KeyboardInterrupt
