"""A synchronous client of Pagefind's indexing service (the binary shipped by `pagefind[extended]`).

Pagefind's own Python API polls for each reply with a 0.1 s sleep, so it indexes at most ten
records a second: 10,000 articles would take over a quarter of an hour. This client speaks the
same protocol (base64 JSON messages ended by a comma, over stdin and stdout) and sends records in
batches, reading the replies of a batch together.
"""

from __future__ import annotations

import base64
import json
import subprocess
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
        while True:
            while b"," not in self._pending:
                chunk = self._process.stdout.read1(65536)
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
