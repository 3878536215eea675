"""A content-addressed SQLite store of judge replies.

The key is a SHA-256 over everything that determines a reply: the backend's identity
(``Backend.cache_identity()``: its spec, the model and its revision, response format, engine
arguments; never a secret), the full request (messages with image bytes by hash, JSON schema,
decoding parameters) and the attempt number of a retried call. Another engine setting, model or
response format therefore misses the cache instead of replaying another judge's answers; the URL
of an OpenAI-compatible server is not part of it, because several servers of one model answer as
one judge (drop a dead ``--base-url`` and resume: every finished call hits). A run killed at any
point and started again replays every reply it already had and sends only what is missing;
because retries are keyed by attempt, the replayed run makes the same decisions as the first one.
Each stored reply keeps the identity it was keyed on with the endpoint that really answered it
(``ChatResponse.raw["endpoint"]`` when the backend names one), so a hit can say where it came from.

Only successful transport results are stored (a reply that fails to parse is stored: it is what
the judge said, and a rerun replays the same decision; a timeout is not). ``judgekit score
--retry-failed`` (and ``questions generate --retry-failed``) asks again for the calls whose cached
reply never validated, replacing it, and keeps every valid one.
"""

from __future__ import annotations

import hashlib
import json
import sqlite3
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from .types import ChatRequest, ChatResponse


def backend_identity(backend: Any) -> dict[str, Any]:
    """What identifies ``backend``'s answers: its ``cache_identity()``; a third-party backend
    without one is identified by its ``describe()`` (which holds no secrets either)."""
    ident = getattr(backend, "cache_identity", None)
    if callable(ident):
        out = dict(ident())
    else:
        out = {**(backend.describe() or {}), "spec": backend.spec}
    out.setdefault("spec", backend.spec)
    out.setdefault("endpoint", backend.spec)
    return out


def answering_endpoint(identity: dict[str, Any], response: ChatResponse) -> str:
    """Where ``response`` came from: the server the backend names in ``raw["endpoint"]`` (one
    of several), else the identity's endpoint (a model directory, a file, the spec)."""
    named = (response.raw or {}).get("endpoint")
    return str(named) if named else str(identity.get("endpoint", identity.get("spec", "")))


def request_key(backend: dict[str, Any] | str, request: ChatRequest, attempt: int = 0) -> str:
    """``backend`` is ``backend_identity(...)`` (a bare spec string is accepted for callers
    that have nothing more to say)."""
    blob: dict[str, Any] = {"backend": backend, "request": request.fingerprint()}
    if attempt:
        blob["attempt"] = attempt
    # default=str: engine options may hold paths; their text is what identifies them.
    return hashlib.sha256(json.dumps(blob, sort_keys=True, ensure_ascii=False, default=str).encode()).hexdigest()


class ResponseCache:
    """``ResponseCache(path)``; ``None`` as path keeps nothing (every call goes to the judge)."""

    def __init__(self, path: str | Path | None):
        self.path = Path(path) if path else None
        self._db: sqlite3.Connection | None = None
        self._lock = threading.Lock()
        self.hits = self.misses = 0
        if self.path:
            self._db = _open(self.path)

    @property
    def enabled(self) -> bool:
        return self._db is not None

    def get(self, key: str, accept: Callable[[ChatResponse], bool] | None = None) -> ChatResponse | None:
        found = self.lookup(key, accept)
        return found[0] if found else None

    def lookup(self, key: str, accept: Callable[[ChatResponse], bool] | None = None
               ) -> tuple[ChatResponse, dict[str, Any]] | None:
        """The stored reply and where it came from (``{"endpoint", "created"}``), or None.
        ``accept``: a stored reply it rejects counts as a miss (``--retry-failed``: a reply
        that never validated is asked again, and the new one replaces it)."""
        if self._db is None:
            self.misses += 1
            return None
        with self._lock:
            row = self._db.execute("SELECT response, backend, created FROM responses WHERE key = ?", (key,)).fetchone()
        if row is None:
            self.misses += 1
            return None
        response = ChatResponse.from_json(json.loads(row[0]))
        if accept is not None and not accept(response):
            self.misses += 1
            return None
        self.hits += 1
        try:
            stored = json.loads(row[1])
        except (TypeError, ValueError):
            stored = {"spec": row[1]}
        endpoint = stored.get("endpoint", stored.get("spec")) if isinstance(stored, dict) else str(stored)
        return response, {"endpoint": endpoint, "created": row[2]}

    def put(self, key: str, backend: dict[str, Any] | str, response: ChatResponse) -> None:
        """Store a successful reply; ``backend`` (the identity it was keyed on) is kept beside
        it so a later hit can say which endpoint really answered."""
        if self._db is None or response.error is not None:
            return
        if not isinstance(backend, str):
            backend = json.dumps({**backend, "endpoint": answering_endpoint(backend, response)},
                                 sort_keys=True, ensure_ascii=False, default=str)
        payload = json.dumps(response.to_json(), ensure_ascii=False)
        with self._lock:
            self._db.execute(
                "INSERT OR REPLACE INTO responses VALUES (?, ?, ?, ?)", (key, backend, payload, time.time())
            )

    def stats(self) -> dict[str, Any]:
        return {"path": str(self.path) if self.path else None, "hits": self.hits, "misses": self.misses}

    def __enter__(self) -> ResponseCache:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        if self._db is not None:
            with self._lock:
                self._db.close()
            self._db = None


#: The columns of the responses table, in order: a table of that name with others is not ours.
_COLUMNS = ["key", "backend", "response", "created"]


def _open(path: Path) -> sqlite3.Connection:
    """The cache database at ``path``, created when missing. A file that is not a judgekit
    cache (another file type, another program's database, a directory) is a ``DataError``
    naming it, as ``cache info`` says: never a traceback, and nothing written into it."""
    from .errors import DataError

    if path.is_dir():
        raise DataError(f"{path}: is a directory, not a judgekit response cache file")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise DataError(f"{path}: cannot create the cache's folder ({exc.strerror or exc})") from None
    db = None
    try:
        db = sqlite3.connect(str(path), check_same_thread=False, isolation_level=None)
        columns = [row[1] for row in db.execute("PRAGMA table_info(responses)").fetchall()]
        if columns and columns != _COLUMNS:
            raise DataError(f"{path}: not a judgekit response cache (its table 'responses' has columns {columns})")
        # WAL + NORMAL: every committed write survives a killed process, at a small cost.
        db.execute("PRAGMA journal_mode=WAL")
        db.execute("PRAGMA synchronous=NORMAL")
        db.execute("CREATE TABLE IF NOT EXISTS responses (key TEXT PRIMARY KEY, backend TEXT, "
                   "response TEXT NOT NULL, created REAL)")
    except sqlite3.DatabaseError as exc:  # not SQLite, or a file SQLite cannot open or write
        if db is not None:
            db.close()
        raise DataError(f"{path}: not a judgekit response cache ({exc})") from None
    except DataError:
        if db is not None:
            db.close()
        raise
    return db


#: The backend spec of a stored reply: the column holds the backend's identity as JSON (older
#: caches hold the bare spec), so counts and deletions go by spec either way.
_SPEC = "COALESCE(CASE WHEN json_valid(backend) THEN json_extract(backend, '$.spec') END, backend)"


def cache_info(path: str | Path) -> dict[str, Any]:
    """What a cache file holds, read-only (a missing file is reported, not created): entries,
    bytes on disk (database and its write-ahead log), entries per backend spec, and the
    creation times of the oldest and newest entry."""
    p = Path(path)
    info: dict[str, Any] = {"path": str(p), "exists": p.is_file(), "entries": 0, "bytes": 0,
                            "backends": {}, "oldest": None, "newest": None}
    if not info["exists"]:
        return info
    info["bytes"] = sum(f.stat().st_size for f in _files(p))
    db = sqlite3.connect(f"file:{p}?mode=ro", uri=True)
    try:
        if not db.execute("SELECT name FROM sqlite_master WHERE type='table' AND name='responses'").fetchone():
            return info
        rows = db.execute(f"SELECT {_SPEC} AS spec, COUNT(*), MIN(created), MAX(created) FROM responses GROUP BY spec")
        for backend, n, lo, hi in rows.fetchall():
            info["backends"][backend or "?"] = n
            info["entries"] += n
            info["oldest"] = lo if info["oldest"] is None else min(info["oldest"], lo)
            info["newest"] = hi if info["newest"] is None else max(info["newest"], hi)
    except sqlite3.DatabaseError as exc:
        from .errors import DataError

        raise DataError(f"{p}: not a judgekit response cache ({exc})") from exc
    finally:
        db.close()
    return info


def clear_cache(path: str | Path, backend: str | None = None) -> dict[str, Any]:
    """Delete the cached replies (only ``backend``'s when given) and give the space back.
    Returns ``cache_info`` as it was before, plus ``removed`` (entries) and ``freed`` (bytes)."""
    before = cache_info(path)
    if not before["exists"]:
        return {**before, "removed": 0, "freed": 0}
    with ResponseCache(path) as cache:
        db = cache._db
        assert db is not None
        if backend is None:
            removed = db.execute("DELETE FROM responses").rowcount
        else:
            removed = db.execute(f"DELETE FROM responses WHERE {_SPEC} = ?", (backend,)).rowcount
        db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        db.execute("VACUUM")
    after = sum(f.stat().st_size for f in _files(Path(path)))
    return {**before, "removed": removed, "freed": max(0, before["bytes"] - after)}


def _files(p: Path) -> list[Path]:
    return [f for f in (p, p.with_name(p.name + "-wal"), p.with_name(p.name + "-shm")) if f.is_file()]
