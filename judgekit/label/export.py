"""The labels file: the store's answers as the JSONL that ``judgekit calibrate --human`` and
``judgekit leaderboard`` read as they are.

- likert: one record per (item, rater, dimension) with ``score`` 1-5;
- binary: the same with ``label`` ``pass``/``fail``;
- pairwise: one record per (item, rater) in the battles format, ``winner`` in the manifest's
  orientation (``model_a``/``model_b``/``tie``), the rubric's other dimensions under
  ``winners`` (what ``judgekit leaderboard --dimension`` reads), and the layout the rater saw:
  ``shown`` (``ab``: image_a on the left), ``left_model``, ``right_model`` and the side pressed.

Every record carries ``rater``, the item (``sample_id`` and the manifest fields that join it
with judge results), ``shown_at``/``labelled_at`` (ISO 8601 UTC) and ``seconds`` between them.
The SQLite store is the source of truth; the file is rewritten from it (atomically: a reader
never sees half a file) shortly after each change, at start-up and at shutdown.
"""

from __future__ import annotations

import datetime as _dt
import json
import logging
import os
import tempfile
import threading
from pathlib import Path
from typing import Any

from .campaign import Campaign

log = logging.getLogger(__name__)


def iso(t: float) -> str:
    return _dt.datetime.fromtimestamp(t, _dt.timezone.utc).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def label_records(c: Campaign) -> list[dict[str, Any]]:
    answers = c.store.answers()
    mode = c.settings.mode
    out: list[dict[str, Any]] = []
    if mode != "pairwise":
        for a in answers:
            it = c.items.get(a.item)
            rec: dict[str, Any] = {"sample_id": a.item}
            if it is not None:
                rec.update({"prompt_id": it.prompt_id, "model": it.model, "prompt": it.prompt, **it.written})
            rec["rater"] = a.rater
            if a.dimension:
                rec["dimension"] = a.dimension
            rec["score" if mode == "likert" else "label"] = a.value
            rec.update(_times(a.shown_at, a.labelled_at), mode=mode)
            out.append({k: v for k, v in rec.items() if v is not None})
        return out
    primary = c.dims[0]
    grouped: dict[tuple[str, str], list] = {}
    for a in answers:
        grouped.setdefault((a.item, a.rater), []).append(a)
    for (item, rater), group in grouped.items():
        by_dim = {a.dimension: a for a in group}
        first = by_dim.get(primary) or group[0]  # the page asks the primary question first
        it = c.items.get(item)
        rec = {"sample_id": item}
        if it is not None:
            rec.update({"prompt_id": it.prompt_id, "prompt": it.prompt, "model_a": it.model_a, "model_b": it.model_b,
                        **it.written})
        rec.update({"rater": rater, "winner": first.value})
        if c.dims != [""]:
            rec["dimension"] = first.dimension
            rec["winners"] = {d: by_dim[d].value for d in c.dims if d in by_dim}
        left_is_a = first.shown == "ab"
        if it is not None:
            rec["left_model"], rec["right_model"] = (it.model_a, it.model_b) if left_is_a else (it.model_b, it.model_a)
        rec.update({"shown": first.shown, "chosen": first.choice})
        if c.dims != [""]:
            rec["chosen_by_dimension"] = {d: by_dim[d].choice for d in c.dims if d in by_dim}
        rec.update(_times(min(a.shown_at for a in group), max(a.labelled_at for a in group)), mode=mode)
        out.append({k: v for k, v in rec.items() if v is not None})
    return out


def _times(shown_at: float, labelled_at: float) -> dict[str, Any]:
    return {"shown_at": iso(shown_at), "labelled_at": iso(labelled_at), "seconds": round(labelled_at - shown_at, 3)}


def write_jsonl_atomic(path: str | Path, records: list[dict[str, Any]]) -> None:
    """Write to a temporary file beside ``path``, fsync, then rename over it."""
    p = Path(path)
    p.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{p.name}.", suffix=".tmp", dir=p.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            for r in records:
                fh.write(json.dumps(r, ensure_ascii=False) + "\n")
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, p)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def export(c: Campaign, path: str | Path) -> int:
    recs = label_records(c)
    write_jsonl_atomic(path, recs)
    return len(recs)


class Exporter:
    """Rewrites the labels file in a background thread after changes, at most every ``delay``
    seconds (answers arrive faster than a long file is worth rewriting), and on ``flush``."""

    def __init__(self, campaign: Campaign, path: str | Path, delay: float = 0.25):
        self.c, self.path, self.delay = campaign, Path(path), delay
        self._dirty = threading.Event()
        self._stop = threading.Event()
        self._write_lock = threading.Lock()
        self._thread = threading.Thread(target=self._loop, name="judgekit-label-export", daemon=True)

    def start(self) -> Exporter:
        self.flush()
        self._thread.start()
        return self

    def changed(self) -> None:
        self._dirty.set()

    def flush(self) -> int:
        with self._write_lock:
            self._dirty.clear()
            return export(self.c, self.path)

    def _loop(self) -> None:
        while not self._stop.is_set():
            if not self._dirty.wait(timeout=0.5):
                continue
            self._stop.wait(self.delay)  # coalesce a burst of answers into one write
            try:
                self.flush()
            except Exception:  # the store keeps every answer; a failed rewrite is retried on the next change
                log.exception("could not write %s", self.path)

    def close(self) -> None:
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(timeout=5)
        self.flush()
