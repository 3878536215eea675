"""Scores to calibrate: per-sample values from a judgekit results file, any metric file, or
records, each keyed by sample_id and (prompt_id, model). A failed judgment is kept as a row
without a value (and its reason), so the join can count it."""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..errors import ConfigError, DataError
from ..io import Records, read_records


@dataclass
class ScoreRow:
    value: float | None  # None: failed or missing (``why`` says which)
    sample_id: str | None
    prompt_id: str | None
    model: str | None
    why: str = ""


@dataclass
class Scores:
    name: str
    column: str
    rows: list[ScoreRow]


#: Where scores come from: a results or metric file (``"FILE:COLUMN"`` picks the column), a
#: ``Results`` object or other records, or ``Scores`` already loaded.
ScoreSource = str | Path | Scores | Records


def split_source(spec: str) -> tuple[str, str | None]:
    """``"file.jsonl:clip"`` -> ``("file.jsonl", "clip")``; a path that exists as written wins
    (so a colon inside a file name still works)."""
    if Path(spec).exists() or ":" not in spec:
        return spec, None
    path, col = spec.rsplit(":", 1)
    return path, (col or None)


def _is_results(rec: Mapping[str, Any]) -> bool:
    return "status" in rec and "scores" in rec and "sample_id" in rec


def _lookup(rec: Mapping[str, Any], column: str) -> tuple[Any, bool]:
    if column in rec:
        return rec[column], True
    if column.startswith("groups."):  # a rubric group's score (VIEScore SC / PQ)
        groups = rec.get("groups")
        if isinstance(groups, Mapping) and column[7:] in groups:
            return groups[column[7:]], True
        return None, False
    scores = rec.get("scores")
    key = column[7:] if column.startswith("scores.") else column
    if isinstance(scores, Mapping) and key in scores:
        return scores[key], True
    return None, False


def load_scores(
    source: ScoreSource, column: str | None = None, name: str | None = None, dimension: str | None = None
) -> Scores:
    """Per-sample scores from a judgekit results file (``overall``, or ``scores[dimension]``),
    any JSONL/CSV/JSON file or records with a chosen ``column``, or ``"FILE:COLUMN"``."""
    if isinstance(source, Scores):
        return source if name is None else Scores(name, source.column, source.rows)
    records: str | Path | Records
    if isinstance(source, str):
        records, col2 = split_source(source)
        column = column or col2
    elif hasattr(source, "records") and not isinstance(source, Path):
        records = source.records  # a judgekit Results object
    else:
        records = source
    recs, where = read_records(records)
    if not recs:
        raise DataError(f"{where}: no score rows")
    first = recs[0][1]
    results_file = _is_results(first)
    if column is None:
        if results_file:
            has_dim = dimension and any(dimension in (r.get("scores") or {}) for _, r in recs)
            has_group = dimension and any(dimension in (r.get("groups") or {}) for _, r in recs)
            column = dimension if has_dim else f"groups.{dimension}" if has_group else "overall"
        elif "score" in first:
            column = "score"
        else:
            raise ConfigError(f"{where}: say which column holds the score (e.g. FILE:COLUMN); columns are {sorted(first)}")
    assert column is not None
    if not any(_lookup(r, column)[1] for _, r in recs):
        raise ConfigError(f"{where}: no column {column!r}; columns are {sorted(first)}")
    rows = []
    for loc, rec in recs:
        sid = rec.get("sample_id", rec.get("id"))
        pid, model = rec.get("prompt_id"), rec.get("model")
        key = dict(
            sample_id=None if sid is None else str(sid),
            prompt_id=None if pid in (None, "") else str(pid),
            model=None if model in (None, "") else str(model),
        )
        if results_file and rec.get("status") == "failed":
            rows.append(ScoreRow(None, **key, why=f"failed: {rec.get('error') or 'no reason recorded'}"))
            continue
        raw, _ = _lookup(rec, column)
        try:
            val = float(raw) if raw not in (None, "") else None
        except (TypeError, ValueError):
            raise DataError(f"{loc}: {column} {raw!r} is not a number") from None
        if val is not None and not math.isfinite(val):
            val = None
        rows.append(ScoreRow(val, **key, why="" if val is not None else f"no {column} value"))
    label = name or (Path(str(where)).stem + ("" if column in ("overall", "score") else f":{column}"))
    return Scores(label, column, rows)
