"""The labelling campaign's state in one SQLite file (WAL mode): raters, assignments, answers.

Every answer is committed before the server replies, with ``synchronous=FULL``, so a server that
is killed (even with SIGKILL) or a machine that loses power loses no answer a rater saw
accepted. WAL lets ``judgekit label --status`` read while the server writes. One connection
guarded by a lock serialises writers: the assignment check-then-insert and the answer insert
each run in one transaction, so two raters can never take the same slot or overwrite each
other (an answer's key includes its rater).

An undone answer is moved to ``undone`` (kept for the record, never exported).

Identity and blinding live here too: ``tokens`` (each rater's secret, and the operator's) and
``handles`` (the opaque name a rater's page uses for an item, so no item id, model name or
path ever reaches a rater). ``skips`` are per rater; ``problems`` are items the server itself
withdrew (for everyone) until the operator restores them.
"""

from __future__ import annotations

import json
import os
import secrets
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

SCHEMA_VERSION = "2"

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
CREATE TABLE IF NOT EXISTS tokens (
    token TEXT PRIMARY KEY, rater TEXT NOT NULL, role TEXT NOT NULL, created_at REAL NOT NULL,
    UNIQUE (role, rater));
CREATE TABLE IF NOT EXISTS handles (handle TEXT PRIMARY KEY, item TEXT NOT NULL, rater TEXT NOT NULL, UNIQUE (item, rater));
CREATE TABLE IF NOT EXISTS skips (
    item TEXT NOT NULL, rater TEXT NOT NULL, reason TEXT NOT NULL, skipped_at REAL NOT NULL, PRIMARY KEY (item, rater));
"""

#: Roles a token can have: a rater labels; the operator sees status and restores items.
RATER, OPERATOR = "rater", "operator"



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


def new_secret() -> str:
    """An unguessable token (128 bits from the OS's CSPRNG), URL-safe."""
    return secrets.token_urlsafe(16)


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
                cols = {r[1] for r in self._db.execute("PRAGMA table_info(assignments)")}
                if "shown" not in cols:  # a schema-1 database: pair layouts were not stored per assignment
                    self._db.execute("ALTER TABLE assignments ADD COLUMN shown TEXT")
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

    def set_meta(self, key: str, value: Any) -> None:
        with self.transaction() as db:
            db.execute("INSERT OR REPLACE INTO meta (key, value) VALUES (?, ?)", (key, json.dumps(value)))

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

    def layouts(self, item: str) -> dict[str, str]:
        """rater -> the pair layout ("ab"/"ba") recorded when the item was assigned to them."""
        return {r: s for r, s in self._rows("SELECT rater, shown FROM assignments WHERE item=? AND shown IS NOT NULL",
                                            (item,))}

    def skipped(self, rater: str | None = None) -> list[tuple[str, str, str]]:
        """(item, rater, reason) of the skips, of one rater or of all."""
        if rater is None:
            return [tuple(r) for r in self._rows("SELECT item, rater, reason FROM skips ORDER BY skipped_at")]
        return [tuple(r) for r in self._rows("SELECT item, rater, reason FROM skips WHERE rater=? ORDER BY skipped_at",
                                             (rater,))]

    # --- identity and handles ------------------------------------------------------------------

    def token_owner(self, token: str) -> tuple[str, str] | None:
        """(role, rater) of a token, or None for an unknown one."""
        rows = self._rows("SELECT role, rater FROM tokens WHERE token=?", (token,))
        return (rows[0][0], rows[0][1]) if rows else None

    def token_of(self, rater: str, role: str = RATER) -> str | None:
        rows = self._rows("SELECT token FROM tokens WHERE role=? AND rater=?", (role, rater))
        return rows[0][0] if rows else None

    def tokens(self, role: str = RATER) -> dict[str, str]:
        """rater -> token, in the order they were created."""
        return dict(self._rows("SELECT rater, token FROM tokens WHERE role=? ORDER BY created_at, rater", (role,)))

    def issue_token(self, rater: str, role: str = RATER, now: float | None = None) -> str:
        """The rater's token, created on first call; the same one ever after (links stay valid)."""
        with self.transaction() as db:
            row = db.execute("SELECT token FROM tokens WHERE role=? AND rater=?", (role, rater)).fetchone()
            if row:
                return str(row[0])
            token = new_secret()
            db.execute("INSERT INTO tokens VALUES (?, ?, ?, ?)", (token, rater, role, now or time.time()))
            if role == RATER:
                db.execute("INSERT OR IGNORE INTO raters (name, joined_at) VALUES (?, ?)", (rater, now or time.time()))
        return token

    def claim_name(self, rater: str, now: float | None = None) -> str | None:
        """A token for a new rater, or None when the name is taken (someone else may be using it)."""
        with self.transaction() as db:
            if db.execute("SELECT 1 FROM tokens WHERE role=? AND rater=?", (RATER, rater)).fetchone() or \
                    db.execute("SELECT 1 FROM raters WHERE name=?", (rater,)).fetchone():
                return None
            token = new_secret()
            db.execute("INSERT INTO tokens VALUES (?, ?, ?, ?)", (token, rater, RATER, now or time.time()))
            db.execute("INSERT INTO raters (name, joined_at) VALUES (?, ?)", (rater, now or time.time()))
        return token

    def handle(self, item: str, rater: str) -> str:
        """The opaque name of ``item`` for ``rater``'s page, created on first use."""
        with self.transaction() as db:
            row = db.execute("SELECT handle FROM handles WHERE item=? AND rater=?", (item, rater)).fetchone()
            if row:
                return str(row[0])
            h = new_secret()
            db.execute("INSERT INTO handles VALUES (?, ?, ?)", (h, item, rater))
        return h

    def handle_item(self, handle: str, rater: str) -> str | None:
        """The item behind a rater's handle (None for an unknown handle or another rater's)."""
        rows = self._rows("SELECT item FROM handles WHERE handle=? AND rater=?", (handle, rater))
        return rows[0][0] if rows else None

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

    def restore(self, items: list[str] | None = None) -> list[str]:
        """Put withdrawn items back into the campaign (``None``: all of them); returns those restored."""
        with self.transaction() as db:
            have = [r[0] for r in db.execute("SELECT item FROM problems ORDER BY item")]
            chosen = have if items is None else [i for i in have if i in set(items)]
            db.executemany("DELETE FROM problems WHERE item=?", [(i,) for i in chosen])
        return chosen

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


class ServerLock:
    """One server per campaign database: an exclusive ``flock`` on ``<db>.lock``, held while the
    server runs. The kernel drops it when the process dies (even by SIGKILL), so a crash never
    leaves a stale lock behind. Where ``fcntl`` does not exist (Windows) there is no check."""

    def __init__(self, db: str | Path):
        self.path = Path(str(db) + ".lock")
        self._fh: Any = None

    def acquire(self) -> ServerLock:
        try:
            import fcntl
        except ImportError:  # pragma: no cover  (not on POSIX)
            return self
        fh = self.path.open("a+")
        try:
            fcntl.flock(fh.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            fh.seek(0)
            pid = fh.read().strip() or "?"
            fh.close()
            raise ConfigError(f"another `judgekit label` server (pid {pid}) is serving the campaign in "
                              f"{str(self.path)[:-5]}; stop it first, or use another --out/--db") from None
        fh.seek(0)
        fh.truncate()
        fh.write(str(os.getpid()))
        fh.flush()
        self._fh = fh
        return self

    def release(self) -> None:
        if self._fh is not None:
            self._fh.close()  # closing drops the flock
            self._fh = None
