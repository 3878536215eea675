"""Which provider batch jobs a run submitted, kept in the run's response-cache database (tables
``batch_jobs`` and ``batch_requests`` beside ``responses``), so a run killed while batches are
pending re-attaches to them when started again instead of submitting (and paying for) the same
requests twice.

A job is written in two steps around the one call that cannot be undone: ``uploaded`` (input file
id and its custom_ids) before ``POST /v1/batches``, then ``submitted`` with the batch id the
moment it is known. A job left ``uploaded`` (killed in between) is looked up among the
provider's batches by its input file id before anything is created again.
"""

from __future__ import annotations

import sqlite3
import time
from dataclasses import dataclass
from pathlib import Path

#: Batch states that will not change any more (the provider's words).
TERMINAL = frozenset({"completed", "failed", "expired", "cancelled"})


@dataclass
class BatchJob:
    input_file_id: str
    endpoint: str
    batch_id: str | None
    status: str
    requests: int
    created: float
    downloaded: bool = False


class BatchStore:
    def __init__(self, path: str | Path):
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._db = sqlite3.connect(str(self.path), isolation_level=None)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("CREATE TABLE IF NOT EXISTS batch_jobs (input_file_id TEXT PRIMARY KEY, endpoint TEXT, "
                         "batch_id TEXT, status TEXT, requests INTEGER, created REAL, downloaded INTEGER DEFAULT 0)")
        self._db.execute("CREATE TABLE IF NOT EXISTS batch_requests (input_file_id TEXT, custom_id TEXT, "
                         "PRIMARY KEY (input_file_id, custom_id))")

    def uploaded(self, input_file_id: str, endpoint: str, custom_ids: list[str]) -> None:
        with self._db:
            self._db.execute("BEGIN")
            self._db.execute("INSERT INTO batch_jobs VALUES (?, ?, NULL, 'uploaded', ?, ?, 0)",
                             (input_file_id, endpoint, len(custom_ids), time.time()))
            self._db.executemany("INSERT OR IGNORE INTO batch_requests VALUES (?, ?)",
                                 [(input_file_id, c) for c in custom_ids])

    def submitted(self, input_file_id: str, batch_id: str, status: str) -> None:
        self._db.execute("UPDATE batch_jobs SET batch_id = ?, status = ? WHERE input_file_id = ?",
                         (batch_id, status, input_file_id))

    def set_status(self, batch_id: str, status: str, downloaded: bool = False) -> None:
        """The provider's status; ``downloaded`` once its output and error files are in the cache."""
        self._db.execute("UPDATE batch_jobs SET status = ?, downloaded = ? WHERE batch_id = ?",
                         (status, int(downloaded), batch_id))

    def jobs(self, endpoint: str | None = None, pending_only: bool = False) -> list[BatchJob]:
        """The jobs (of ``endpoint``); ``pending_only``: those whose replies are not yet in the cache."""
        rows = self._db.execute("SELECT input_file_id, endpoint, batch_id, status, requests, created, downloaded "
                                "FROM batch_jobs ORDER BY created").fetchall()
        jobs = [BatchJob(*r) for r in rows if not (pending_only and r[6])]
        return [j for j in jobs if endpoint is None or j.endpoint == endpoint]

    def custom_ids(self, input_file_id: str) -> list[str]:
        rows = self._db.execute("SELECT custom_id FROM batch_requests WHERE input_file_id = ?", (input_file_id,))
        return [r[0] for r in rows.fetchall()]

    def close(self) -> None:
        self._db.close()
