"""A synchronous client of Pagefind's indexing service (the binary shipped by `pagefind[extended]`).

Pagefind's own Python API polls for each reply with a 0.1 s sleep, so it indexes at most ten
records a second: 10,000 articles would take over a quarter of an hour. This client speaks the
same protocol (base64 JSON messages ended by a comma, over stdin and stdout) and sends records in
batches, reading the replies of a batch together.
"""

from __future__ import annotations

import base64
import contextlib
import functools
import json
import os
import re
import select
import subprocess
import tempfile
from pathlib import Path
from typing import Any

_BATCH = 200  # replies of a batch (~150 bytes each) fit the pipe, so neither side ever blocks


class IndexerError(Exception):
    """Pagefind refused a request or stopped; the message is Pagefind's own."""


def _executable() -> Path:
    try:
        from pagefind.service import get_executable
    except ImportError:
        raise IndexerError("Pagefind is not installed: pip install 'pagefind[extended]'") from None
    binary = get_executable()
    if binary is None:
        raise IndexerError("Pagefind's binary was not found: pip install 'pagefind[extended]'")
    return binary


_EXIT_SECONDS = 120
_REPLY_SECONDS = 300  # writing a settled shard of 5,000 articles takes seconds
# The files of a bundle that do not depend on its records: `pagefind-ui.js`, `wasm.en.pagefind`.
ASSET = re.compile(r"^(pagefind[^/]*\.(js|css)|wasm\.[^/]*)$")
_REFERENCE_PAGE = "<html><body><main><h1>Reference</h1><p>A page.</p></main></body></html>"


@functools.cache
def static_assets(language: str) -> dict[str, bytes]:
    """The files Pagefind writes the same into every bundle (its scripts, styles and WASM), as its
    command line writes them for a one-page site: that run waits for its writes, unlike the
    service (see `pagefind_bundle.is_complete`). Made twice and compared, once per process."""
    runs = []
    for _ in range(2):
        with tempfile.TemporaryDirectory(prefix="clippings-pagefind-") as scratch:
            site, output = Path(scratch, "site"), Path(scratch, "bundle")
            site.mkdir()
            (site / "index.html").write_text(_REFERENCE_PAGE, encoding="utf-8")
            command = [str(_executable()), "--site", str(site), "--output-path", str(output)]
            command += ["--force-language", language, "--silent"]
            try:
                subprocess.run(command, capture_output=True, check=True, timeout=_EXIT_SECONDS)
            except (OSError, subprocess.SubprocessError) as error:
                raise IndexerError(f"Pagefind's command line failed: {error}") from None
            runs.append(
                {
                    path.name: path.read_bytes()
                    for path in output.iterdir()
                    if ASSET.match(path.name)
                }
            )
    if runs[0] != runs[1] or not runs[0]:
        raise IndexerError("Pagefind wrote its scripts differently in two runs")
    return runs[0]


class PagefindIndexer:
    """One Pagefind service process; builds one index at a time from custom records."""

    def __init__(self) -> None:
        self._process = subprocess.Popen(
            [str(_executable()), "--service"],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
        )
        self._next_id = 0
        self._pending = b""

    def __enter__(self) -> PagefindIndexer:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        """End the service and wait for it. Killed while writing, it would leave a bundle with a
        cut-off file: a CI run on a loaded machine once served an empty `pagefind-entry.json`,
        which the old kill after 5 s would explain. So a slow exit is waited for, and only a
        hung service is killed, as an error (the shard is then not stored)."""
        if self._process.stdin:
            with contextlib.suppress(BrokenPipeError):  # it stopped, or was killed as hung
                self._process.stdin.close()
        try:
            self._process.wait(timeout=_EXIT_SECONDS)
        except subprocess.TimeoutExpired:
            self._process.kill()
            self._process.wait()
            raise IndexerError(
                f"the Pagefind service did not stop within {_EXIT_SECONDS} s"
            ) from None

    def build(
        self,
        records: list[dict[str, Any]],
        language: str,
        output: Path,
    ) -> None:
        """Index `records` (AddRecord fields: url, content, meta, filters) and write the bundle."""
        index_id = self._call({"type": "NewIndex", "config": {"force_language": language}})[
            "index_id"
        ]
        for start in range(0, len(records), _BATCH):
            batch = records[start : start + _BATCH]
            ids = [
                self._send({"type": "AddRecord", "index_id": index_id, "language": language, **r})
                for r in batch
            ]
            self._flush()
            for message_id in ids:
                self._receive(message_id)
        self._call({"type": "WriteFiles", "index_id": index_id, "output_path": str(output)})
        self._call({"type": "DeleteIndex", "index_id": index_id})  # frees the index's memory

    def _call(self, payload: dict[str, Any]) -> dict[str, Any]:
        message_id = self._send(payload)
        self._flush()
        return self._receive(message_id)

    def _send(self, payload: dict[str, Any]) -> int:
        self._next_id += 1
        message = json.dumps({"message_id": self._next_id, "payload": payload})
        assert self._process.stdin is not None
        try:
            self._process.stdin.write(base64.b64encode(message.encode("utf-8")) + b",")
        except BrokenPipeError:
            raise IndexerError("the Pagefind service stopped") from None
        return self._next_id

    def _flush(self) -> None:
        assert self._process.stdin is not None
        try:
            self._process.stdin.flush()
        except BrokenPipeError:
            raise IndexerError("the Pagefind service stopped") from None

    def _receive(self, message_id: int) -> dict[str, Any]:
        """Read replies until the one for `message_id`; the service answers in order."""
        assert self._process.stdout is not None
        descriptor = self._process.stdout.fileno()  # read unbuffered: select sees every byte
        while True:
            while b"," not in self._pending:
                if not select.select([descriptor], [], [], _REPLY_SECONDS)[0]:
                    self._process.kill()  # hung: a build must not wait on it forever
                    raise IndexerError(f"the Pagefind service did not answer in {_REPLY_SECONDS} s")
                chunk = os.read(descriptor, 65536)
                if not chunk:
                    code = self._process.poll()
                    raise IndexerError(f"the Pagefind service stopped (exit status {code})")
                self._pending += chunk
            raw, self._pending = self._pending.split(b",", 1)
            reply = json.loads(base64.b64decode(raw))
            payload = reply.get("payload") or {}
            if payload.get("type") == "Error":
                raise IndexerError(payload.get("message", "unknown error"))
            if reply.get("message_id") == message_id:
                return payload
