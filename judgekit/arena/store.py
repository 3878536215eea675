"""The board's SQLite store: models, their images, battles and the rating history.

A battle is one (prompt, pair of models), judged in both orders; it is written as ``pending``
(in one transaction with the rest of its batch) before anything is sent to the judge, and
completed with both orders' verdicts, the merged winner and the judge's identity when the
batch comes back. ``UNIQUE(prompt_id, model_a, model_b)`` makes judging a battle twice
impossible; a run killed mid-batch leaves its battles pending, and the next run judges those
first (the board's response cache replays every call that was already answered).

``model_a`` is always the lower model name of the two: the orientation carries no meaning
because both orders are judged.
"""

from __future__ import annotations

import hashlib
import json
import sqlite3
import time
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..errors import DataError

SCHEMA = """
CREATE TABLE IF NOT EXISTS models (
    name TEXT PRIMARY KEY,
    added REAL NOT NULL,
    removed REAL,               -- set by `arena remove`: kept for the others' history, no longer scheduled
    source TEXT NOT NULL        -- the manifest it came from
);
CREATE TABLE IF NOT EXISTS images (
    model TEXT NOT NULL REFERENCES models(name),
    prompt_id TEXT NOT NULL,
    prompt TEXT,
    image TEXT NOT NULL,        -- absolute path
    sample_id TEXT NOT NULL,
    PRIMARY KEY (model, prompt_id)
);
CREATE INDEX IF NOT EXISTS images_by_prompt ON images (prompt_id);
CREATE TABLE IF NOT EXISTS judges (
    id INTEGER PRIMARY KEY,
    key TEXT UNIQUE NOT NULL,   -- sha256 of the identity
    identity TEXT NOT NULL      -- JSON: rubric name and hashes, backend and served model, decoding
);
CREATE TABLE IF NOT EXISTS battles (
    id INTEGER PRIMARY KEY,
    prompt_id TEXT NOT NULL,
    model_a TEXT NOT NULL,
    model_b TEXT NOT NULL,
    prompt TEXT,
    batch INTEGER NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('pending', 'ok', 'failed')),
    winner TEXT CHECK (winner IN ('model_a', 'model_b', 'tie', 'inconsistent')),
    verdict_ab TEXT,            -- JSON verdict with image_a shown first
    verdict_ba TEXT,            -- JSON verdict with image_b shown first
    judge INTEGER REFERENCES judges(id),
    error TEXT,
    planned REAL NOT NULL,
    judged REAL,
    usage TEXT,                 -- JSON: requests and tokens of its judge calls (the runner's per-sample usage)
    cost_usd REAL,              -- what those calls cost under the price table of the run that judged it; NULL: unpriced
    UNIQUE (prompt_id, model_a, model_b),
    CHECK (model_a < model_b)
);
CREATE TABLE IF NOT EXISTS snapshots (
    batch INTEGER PRIMARY KEY,
    battles INTEGER NOT NULL,   -- ok battles the fit saw
    ratings TEXT NOT NULL,      -- JSON {model: rating}
    ci TEXT,                    -- JSON {model: [lo, hi]} when the bootstrap ran after this batch
    created REAL NOT NULL
);
"""


@dataclass(frozen=True)
class PlannedBattle:
    """A battle to judge: the pair's images on one prompt."""

    id: int
    prompt_id: str
    prompt: str | None
    model_a: str
    model_b: str
    image_a: str
    image_b: str


@dataclass(frozen=True)
class JudgedBattle:
    """What the judge made of a planned battle. ``winner`` is None when it failed (``error``)."""

    id: int
    winner: str | None
    verdict_ab: dict[str, Any] | None = None
    verdict_ba: dict[str, Any] | None = None
    judge: dict[str, Any] | None = None
    error: str | None = None
    #: Requests and tokens of the battle's judge calls (``SampleUsage.to_json``); None: not counted.
    usage: dict[str, Any] | None = None
    #: USD of those calls (answered now, or replayed from the board's cache: paid by the killed
    #: run that asked them); None when unpriced.
    cost_usd: float | None = None


class ArenaStore:
    """The SQLite file of one board. Writes are transactions; readers see whole batches."""

    def __init__(self, path: str | Path):
        self.path = Path(path)
        self.db = sqlite3.connect(str(self.path), isolation_level=None, check_same_thread=False)
        # WAL + FULL: a committed batch survives a killed process or a power cut.
        self.db.execute("PRAGMA journal_mode=WAL")
        self.db.execute("PRAGMA synchronous=FULL")
        self.db.execute("PRAGMA foreign_keys=ON")
        self.db.executescript(SCHEMA)
        self._add_missing_columns()

    def _add_missing_columns(self) -> None:
        """A board made before battles recorded their usage and cost gets the columns (NULL:
        not recorded)."""
        have = {row[1] for row in self.db.execute("PRAGMA table_info(battles)")}
        for name, kind in (("usage", "TEXT"), ("cost_usd", "REAL")):
            if name not in have:
                self.db.execute(f"ALTER TABLE battles ADD COLUMN {name} {kind}")

    def close(self) -> None:
        self.db.close()

    @contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        self.db.execute("BEGIN IMMEDIATE")
        try:
            yield self.db
        except BaseException:
            self.db.execute("ROLLBACK")
            raise
        self.db.execute("COMMIT")

    # --- models and images -----------------------------------------------------------------------

    def models(self, include_removed: bool = False) -> list[str]:
        sql = "SELECT name FROM models" + ("" if include_removed else " WHERE removed IS NULL") + " ORDER BY name"
        return [r[0] for r in self.db.execute(sql)]

    def model_info(self) -> list[dict[str, Any]]:
        rows = self.db.execute(
            "SELECT m.name, m.added, m.removed, m.source, COUNT(i.prompt_id) FROM models m "
            "LEFT JOIN images i ON i.model = m.name GROUP BY m.name ORDER BY m.name"
        )
        return [{"model": n, "added": a, "removed": r, "source": s, "images": k} for n, a, r, s, k in rows]

    def add_model(self, name: str, source: str, images: Sequence[tuple[str, str | None, str, str]]) -> None:
        """``images``: (prompt_id, prompt, absolute image path, sample id) of each prompt."""
        with self.transaction() as db:
            if db.execute("SELECT 1 FROM models WHERE name = ?", (name,)).fetchone():
                raise DataError(f"model {name!r} is already on the board (a removed model keeps its name)")
            db.execute("INSERT INTO models VALUES (?, ?, NULL, ?)", (name, time.time(), source))
            db.executemany("INSERT INTO images VALUES (?, ?, ?, ?, ?)", [(name, *row) for row in images])

    def remove_model(self, name: str) -> None:
        with self.transaction() as db:
            row = db.execute("SELECT removed FROM models WHERE name = ?", (name,)).fetchone()
            if row is None:
                raise DataError(f"model {name!r} is not on the board; it has {self.models(include_removed=True)}")
            if row[0] is not None:
                raise DataError(f"model {name!r} was already removed")
            db.execute("UPDATE models SET removed = ? WHERE name = ?", (time.time(), name))

    def prompts(self) -> dict[str, str | None]:
        """Every prompt id on the board with its text (the first model's that gave one)."""
        out: dict[str, str | None] = {}
        for pid, text in self.db.execute("SELECT prompt_id, prompt FROM images ORDER BY model, prompt_id"):
            if out.get(pid) is None:
                out[pid] = text
        return out

    def images(self) -> dict[tuple[str, str], str]:
        """(model, prompt_id) -> image path."""
        return {(m, p): img for m, p, img in self.db.execute("SELECT model, prompt_id, image FROM images")}

    # --- battles -------------------------------------------------------------------------------

    def next_batch_number(self) -> int:
        row = self.db.execute("SELECT MAX(batch) FROM battles").fetchone()
        return 0 if row[0] is None else int(row[0]) + 1

    def plan(self, batch: int, battles: Iterable[tuple[str, str, str]]) -> None:
        """Record ``(prompt_id, model_x, model_y)`` battles as pending, all or none (with the
        prompt's text, looked up per battle: a board holds far more images than a batch battles)."""
        now = time.time()
        rows = []
        for pid, x, y in battles:
            a, b = (x, y) if x < y else (y, x)
            rows.append((pid, a, b, pid, batch, now))
        with self.transaction() as db:
            db.executemany(
                "INSERT INTO battles (prompt_id, model_a, model_b, prompt, batch, status, planned) VALUES (?, ?, ?, "
                "(SELECT prompt FROM images WHERE prompt_id = ? AND prompt IS NOT NULL ORDER BY model LIMIT 1), "
                "?, 'pending', ?)", rows
            )

    def pending(self) -> list[PlannedBattle]:
        rows = self.db.execute(
            "SELECT b.id, b.prompt_id, b.prompt, b.model_a, b.model_b, ia.image, ib.image FROM battles b "
            "JOIN images ia ON ia.model = b.model_a AND ia.prompt_id = b.prompt_id "
            "JOIN images ib ON ib.model = b.model_b AND ib.prompt_id = b.prompt_id "
            "WHERE b.status = 'pending' ORDER BY b.id"
        )
        return [PlannedBattle(*r) for r in rows]

    def complete(self, judged: Iterable[JudgedBattle]) -> None:
        """Write the judged battles of a batch in one transaction (only pending ones change)."""
        now = time.time()
        with self.transaction() as db:
            for j in judged:
                judge_id = self._judge_id(db, j.judge) if j.judge else None
                status = "ok" if j.winner is not None else "failed"
                db.execute(
                    "UPDATE battles SET status = ?, winner = ?, verdict_ab = ?, verdict_ba = ?, judge = ?, error = ?, "
                    "judged = ?, usage = ?, cost_usd = ? WHERE id = ? AND status = 'pending'",
                    (status, j.winner, _dump(j.verdict_ab), _dump(j.verdict_ba), judge_id, j.error, now,
                     _dump(j.usage), j.cost_usd, j.id),
                )

    @staticmethod
    def _judge_id(db: sqlite3.Connection, identity: dict[str, Any]) -> int:
        text = json.dumps(identity, sort_keys=True, default=str)
        key = hashlib.sha256(text.encode()).hexdigest()
        db.execute("INSERT OR IGNORE INTO judges (key, identity) VALUES (?, ?)", (key, text))
        return int(db.execute("SELECT id FROM judges WHERE key = ?", (key,)).fetchone()[0])

    def judges(self) -> list[dict[str, Any]]:
        return [json.loads(t) for (t,) in self.db.execute("SELECT identity FROM judges ORDER BY id")]

    def outcomes(self) -> list[tuple[str, str, str, str]]:
        """(prompt_id, model_a, model_b, winner) of every judged battle, in the order judged."""
        return list(self.db.execute("SELECT prompt_id, model_a, model_b, winner FROM battles WHERE status = 'ok' ORDER BY id"))

    def taken(self) -> list[tuple[str, str, str]]:
        """(prompt_id, model_a, model_b) of every battle ever planned (ok, failed or pending):
        none of them is planned again."""
        return list(self.db.execute("SELECT prompt_id, model_a, model_b FROM battles"))

    def counts(self) -> dict[str, int]:
        rows = self.db.execute("SELECT status, COUNT(*) FROM battles GROUP BY status")
        out = {"ok": 0, "failed": 0, "pending": 0}
        out.update({s: int(n) for s, n in rows})
        return out

    def spend(self) -> dict[str, Any]:
        """What the judged battles (ok and failed) used: battles, requests, tokens, the USD recorded
        for them, and how many have no recorded cost (``unpriced``)."""
        out: dict[str, Any] = {"battles": 0, "requests": 0, "prompt_tokens": 0, "cached_tokens": 0,
                               "completion_tokens": 0, "cost_usd": 0.0, "unpriced": 0}
        for usage, cost in self.db.execute("SELECT usage, cost_usd FROM battles WHERE status != 'pending'"):
            out["battles"] += 1
            used = json.loads(usage) if usage else {}
            for k in ("requests", "prompt_tokens", "cached_tokens", "completion_tokens"):
                out[k] += int(used.get(k) or 0)
            if cost is None:
                out["unpriced"] += 1
            else:
                out["cost_usd"] += float(cost)
        return out

    def spent_usd(self) -> float:
        """USD recorded for every judged battle of the board, over all its runs."""
        return float(self.db.execute("SELECT COALESCE(SUM(cost_usd), 0) FROM battles WHERE status != 'pending'").fetchone()[0])

    def costliest_battle(self) -> float | None:
        """The highest cost recorded for one battle (None before any): the next battles' estimate."""
        row = self.db.execute("SELECT MAX(cost_usd) FROM battles WHERE status != 'pending'").fetchone()
        return None if row[0] is None else float(row[0])

    def failures(self, limit: int = 5) -> list[tuple[str, str, str, str]]:
        return list(self.db.execute(
            "SELECT prompt_id, model_a, model_b, error FROM battles WHERE status = 'failed' ORDER BY id LIMIT ?", (limit,)
        ))

    def battle_rows(self) -> list[dict[str, Any]]:
        """Every battle as a dict (for export and checks)."""
        cur = self.db.execute("SELECT * FROM battles ORDER BY id")
        names = [d[0] for d in cur.description]
        return [dict(zip(names, r)) for r in cur]

    # --- rating history ---------------------------------------------------------------------------

    def snapshot(self, batch: int, battles: int, ratings: dict[str, float], ci: dict[str, list[float]] | None) -> None:
        with self.transaction() as db:
            db.execute("INSERT OR REPLACE INTO snapshots VALUES (?, ?, ?, ?, ?)",
                       (batch, battles, json.dumps(ratings), None if ci is None else json.dumps(ci), time.time()))

    def history(self) -> list[dict[str, Any]]:
        rows = self.db.execute("SELECT batch, battles, ratings, ci FROM snapshots ORDER BY battles, batch")
        return [{"batch": b, "battles": n, "ratings": json.loads(r), "ci": None if c is None else json.loads(c)}
                for b, n, r, c in rows]


def _dump(obj: Any) -> str | None:
    return None if obj is None else json.dumps(obj, ensure_ascii=False)
