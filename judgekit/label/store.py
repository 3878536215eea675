"""The labelling campaign's state in one SQLite file (WAL mode): raters, assignments, answers.

Every answer is committed before the server replies, with ``synchronous=FULL``, so a server that
is killed (even with SIGKILL) or a machine that loses power loses no answer a rater saw
accepted. WAL lets ``judgekit label --status`` read while the server writes. One connection
guarded by a lock serialises writers: the assignment check-then-insert and the answer insert
each run in one transaction, so two raters can never take the same slot or overwrite each
other (an answer's key includes its rater).

An undone answer is moved to ``undone`` (kept for the record, never exported).
"""

from __future__ import annotations

import json
import sqlite3
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..errors import ConfigError, DataError
from .assign import Assignment

SCHEMA_VERSION = "1"

_SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS raters (name TEXT PRIMARY KEY, joined_at REAL NOT NULL);
CREATE TABLE IF NOT EXISTS assignments (
    item TEXT NOT NULL, rater TEXT NOT NULL, assigned_at REAL NOT NULL, completed_at REAL,
    PRIMARY KEY (item, rater));
CREATE TABLE IF NOT EXISTS answers (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    item TEXT NOT NULL, dimension TEXT NOT NULL, rater TEXT NOT NULL,
    value TEXT NOT NULL,        -- JSON: 1..5, "pass"/"fail", or the winner model_a/model_b/tie
    choice TEXT NOT NULL,       -- what the rater pressed (for pairwise: left/right/tie)
    shown TEXT NOT NULL,        -- pairwise: "ab" or "ba" (which manifest image was on the left)
    shown_at REAL NOT NULL, labelled_at REAL NOT NULL,
    UNIQUE (item, dimension, rater));
CREATE TABLE IF NOT EXISTS undone (
    seq INTEGER, item TEXT, dimension TEXT, rater TEXT, value TEXT, choice TEXT, shown TEXT,
    shown_at REAL, labelled_at REAL, undone_at REAL);
CREATE TABLE IF NOT EXISTS served (
    item TEXT NOT NULL, dimension TEXT NOT NULL, rater TEXT NOT NULL, shown_at REAL NOT NULL,
    PRIMARY KEY (item, dimension, rater));
CREATE TABLE IF NOT EXISTS problems (item TEXT PRIMARY KEY, reason TEXT NOT NULL, reported_at REAL NOT NULL);
"""


@dataclass(frozen=True)
class Answer:
    seq: int
    item: str
    dimension: str  # "" when the campaign has no rubric dimensions
    rater: str
    value: Any
    choice: str
    shown: str
    shown_at: float
    labelled_at: float


class Conflict(DataError):
    """The write would break a rule (already answered, not assigned...): HTTP 409."""


class LabelStore:
    def __init__(self, path: str | Path, *, readonly: bool = False):
        self.path = Path(path)
        if readonly and not self.path.is_file():
            raise ConfigError(f"{self.path}: no labelling database (start `judgekit label` first, or pass --db)")
        self.path.parent.mkdir(parents=True, exist_ok=True)
        uri = f"file:{self.path}?mode=ro" if readonly else str(self.path)
        try:
            # isolation_level=None: transactions are explicit (BEGIN IMMEDIATE below).
            self._db = sqlite3.connect(uri, uri=readonly, check_same_thread=False, isolation_level=None, timeout=30)
            if not readonly:
                mode = self._db.execute("PRAGMA journal_mode=WAL").fetchone()[0]
                if mode.lower() != "wal":
                    raise ConfigError(f"{self.path}: SQLite refused WAL mode (got {mode!r}); use a local disk")
                self._db.execute("PRAGMA synchronous=FULL")
                self._db.executescript(_SCHEMA)
        except sqlite3.DatabaseError as exc:
            raise ConfigError(f"{self.path}: not a usable labelling database ({exc})") from None
        self._lock = threading.RLock()

    def close(self) -> None:
        with self._lock:
            self._db.close()

    @contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        """One write transaction; the lock makes the read-check-write inside it atomic."""
        with self._lock:
            self._db.execute("BEGIN IMMEDIATE")
            try:
                yield self._db
            except BaseException:
                self._db.execute("ROLLBACK")
                raise
            self._db.execute("COMMIT")

    # --- campaign settings -------------------------------------------------------------------

    def meta(self) -> dict[str, Any]:
        with self._lock:
            try:
                rows = self._db.execute("SELECT key, value FROM meta").fetchall()
            except sqlite3.OperationalError:  # a read-only open of a database never initialised
                return {}
        return {k: json.loads(v) for k, v in rows}

    def bind(self, settings: dict[str, Any], fixed: tuple[str, ...]) -> dict[str, Any]:
        """Record the campaign's settings on first use; later, keys in ``fixed`` must match
        (labels of different modes or rubrics must not mix in one file). Other keys update."""
        with self.transaction() as db:
            old = {k: json.loads(v) for k, v in db.execute("SELECT key, value FROM meta")}
            clash = [k for k in fixed if k in old and old[k] != settings.get(k)]
            if clash:
                diff = "; ".join(f"{k}: database has {old[k]!r}, now {settings.get(k)!r}" for k in clash)
                raise ConfigError(
                    f"{self.path} holds a campaign with other settings ({diff}); "
                    "use another --out/--db for a new campaign"
                )
            for k, v in {**settings, "schema": SCHEMA_VERSION}.items():
                db.execute("INSERT OR REPLACE INTO meta (key, value) VALUES (?, ?)", (k, json.dumps(v)))
        return {**old, **settings}

    # --- reads ------------------------------------------------------------------------------

    def _rows(self, sql: str, args: tuple = ()) -> list[tuple]:
        with self._lock:
            return self._db.execute(sql, args).fetchall()

    def raters(self) -> list[str]:
        return [r[0] for r in self._rows("SELECT name FROM raters ORDER BY joined_at, name")]

    def has_rater(self, name: str) -> bool:
        return bool(self._rows("SELECT 1 FROM raters WHERE name = ?", (name,)))

    def assignments(self) -> list[Assignment]:
        return [Assignment(*r) for r in self._rows("SELECT item, rater, assigned_at, completed_at FROM assignments")]

    def answers(self, rater: str | None = None, item: str | None = None) -> list[Answer]:
        sql = "SELECT seq, item, dimension, rater, value, choice, shown, shown_at, labelled_at FROM answers"
        cond, args = [], []
        if rater is not None:
            cond.append("rater = ?")
            args.append(rater)
        if item is not None:
            cond.append("item = ?")
            args.append(item)
        if cond:
            sql += " WHERE " + " AND ".join(cond)
        rows = self._rows(sql + " ORDER BY seq", tuple(args))
        return [Answer(r[0], r[1], r[2], r[3], json.loads(r[4]), *r[5:]) for r in rows]

    def count_done(self, rater: str) -> int:
        return int(self._rows("SELECT COUNT(*) FROM assignments WHERE rater=? AND completed_at IS NOT NULL", (rater,))[0][0])

    def count_answers(self) -> int:
        return int(self._rows("SELECT COUNT(*) FROM answers")[0][0])

    def n_undone(self) -> int:
        return int(self._rows("SELECT COUNT(*) FROM undone")[0][0])

    def problems(self) -> dict[str, str]:
        return dict(self._rows("SELECT item, reason FROM problems"))

    # --- writes (each one transaction) ----------------------------------------------------------

    def add_rater(self, name: str, now: float | None = None) -> None:
        with self.transaction() as db:
            db.execute("INSERT OR IGNORE INTO raters (name, joined_at) VALUES (?, ?)", (name, now or time.time()))

    def report_problem(self, item: str, reason: str, now: float | None = None) -> None:
        with self.transaction() as db:
            db.execute("INSERT OR REPLACE INTO problems VALUES (?, ?, ?)", (item, reason, now or time.time()))

    def mark_served(self, db: sqlite3.Connection, item: str, dimension: str, rater: str, now: float) -> float:
        """When the task was first shown to the rater (kept across reloads); inside a transaction."""
        db.execute("INSERT OR IGNORE INTO served VALUES (?, ?, ?, ?)", (item, dimension, rater, now))
        row = db.execute("SELECT shown_at FROM served WHERE item=? AND dimension=? AND rater=?",
                         (item, dimension, rater)).fetchone()
        return float(row[0])

    def insert_answer(self, db: sqlite3.Connection, ans: dict[str, Any]) -> int:
        try:
            cur = db.execute(
                "INSERT INTO answers (item, dimension, rater, value, choice, shown, shown_at, labelled_at) "
                "VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                (ans["item"], ans["dimension"], ans["rater"], json.dumps(ans["value"]), ans["choice"],
                 ans["shown"], ans["shown_at"], ans["labelled_at"]),
            )
        except sqlite3.IntegrityError:
            raise Conflict(f"{ans['rater']!r} already answered item {ans['item']!r}"
                           + (f" ({ans['dimension']})" if ans["dimension"] else "")) from None
        assert cur.lastrowid is not None  # set by the INSERT above
        return int(cur.lastrowid)

    def pop_last_answer(self, db: sqlite3.Connection, rater: str, now: float) -> Answer | None:
        row = db.execute(
            "SELECT seq, item, dimension, rater, value, choice, shown, shown_at, labelled_at FROM answers "
            "WHERE rater = ? ORDER BY seq DESC LIMIT 1", (rater,)).fetchone()
        if row is None:
            return None
        db.execute("INSERT INTO undone VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", (*row, now))
        db.execute("DELETE FROM answers WHERE seq = ?", (row[0],))
        return Answer(row[0], row[1], row[2], row[3], json.loads(row[4]), *row[5:])
