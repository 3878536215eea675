"""A content-addressed SQLite store of judge replies.

The key is a SHA-256 over everything that determines a reply: the backend spec, the full
request (messages with image bytes by hash, JSON schema, decoding parameters) and the attempt
number of a retried call. A run killed at any point and started again replays every reply it
already had and sends only what is missing; because retries are keyed by attempt, the replayed
run makes the same decisions as the first one.

Only successful transport results are stored (a reply that fails to parse is stored: it is what
the judge said; a timeout is not).
"""

from __future__ import annotations

import hashlib
import json
import sqlite3
import threading
import time
from pathlib import Path
from typing import Any

from .types import ChatRequest, ChatResponse


def request_key(backend_spec: str, request: ChatRequest, attempt: int = 0) -> str:
    blob: dict[str, Any] = {"backend": backend_spec, "request": request.fingerprint()}
    if attempt:
        blob["attempt"] = attempt
    return hashlib.sha256(json.dumps(blob, sort_keys=True, ensure_ascii=False).encode()).hexdigest()


class ResponseCache:
    """``ResponseCache(path)``; ``None`` as path keeps nothing (every call goes to the judge)."""

    def __init__(self, path: str | Path | None):
        self.path = Path(path) if path else None
        self._db: sqlite3.Connection | None = None
        self._lock = threading.Lock()
        self.hits = self.misses = 0
        if self.path:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self._db = sqlite3.connect(str(self.path), check_same_thread=False, isolation_level=None)
            # WAL + NORMAL: every committed write survives a killed process, at a small cost.
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.execute("PRAGMA synchronous=NORMAL")
            self._db.execute(
                "CREATE TABLE IF NOT EXISTS responses (key TEXT PRIMARY KEY, backend TEXT, "
                "response TEXT NOT NULL, created REAL)"
            )

    @property
    def enabled(self) -> bool:
        return self._db is not None

    def get(self, key: str) -> ChatResponse | None:
        if self._db is None:
            self.misses += 1
            return None
        with self._lock:
            row = self._db.execute("SELECT response FROM responses WHERE key = ?", (key,)).fetchone()
        if row is None:
            self.misses += 1
            return None
        self.hits += 1
        return ChatResponse.from_json(json.loads(row[0]))

    def put(self, key: str, backend: str, response: ChatResponse) -> None:
        if self._db is None or response.error is not None:
            return
        payload = json.dumps(response.to_json(), ensure_ascii=False)
        with self._lock:
            self._db.execute(
                "INSERT OR REPLACE INTO responses VALUES (?, ?, ?, ?)", (key, backend, payload, time.time())
            )

    def stats(self) -> dict[str, Any]:
        return {"path": str(self.path) if self.path else None, "hits": self.hits, "misses": self.misses}

    def close(self) -> None:
        if self._db is not None:
            with self._lock:
                self._db.close()
            self._db = None
