"""Battles files: reading and writing the pairwise-outcome tables of ``stats.battles``
(CSV with ``model_a,model_b,winner[,prompt_id]``, JSON lines or a JSON list, or judgekit pairwise
results), and GenAI-Bench's per-model human ratings. The statistics themselves do no file I/O."""

from __future__ import annotations

import csv
import json
from collections.abc import Sequence
from pathlib import Path

from ..errors import DataError
from ..io import iter_records, read_json
from ..stats.battles import Battles


def read_battles(
    path: str | Path,
    *,
    models: Sequence[str] | None = None,
    inconsistent: str = "tie",
    dimension: str | None = None,
) -> Battles:
    """Read a battles file (``.csv``, or JSON lines / a JSON list) or judgekit pairwise results.

    CSV needs the header ``model_a,model_b,winner`` (``prompt_id`` optional); JSON lines the
    same keys. Errors name the file and the record.
    """
    p = Path(path)
    if not p.is_file():
        raise DataError(f"{p}: no such file")
    if p.suffix.lower() == ".csv":
        with p.open(newline="", encoding="utf-8") as fh:
            reader = csv.DictReader(fh)
            cols = set(reader.fieldnames or ())
            need = {"model_a", "model_b", "winner"} - cols
            if need:
                raise DataError(f"{p}: CSV header lacks {sorted(need)}; has {sorted(cols)}")
            rows = list(reader)
        return Battles.from_records(rows, models=models, inconsistent=inconsistent, dimension=dimension, source=str(p))
    return Battles.from_records(
        (rec for _, rec in iter_records(p, "battles file")), models=models, inconsistent=inconsistent,
        dimension=dimension, source=str(p),
    )


def write_battles(battles: Battles, path: str | Path) -> None:
    """Write JSON lines (or CSV for a ``.csv`` path) that ``read_battles`` reads back."""
    p = Path(path)
    recs = battles.to_records()
    if p.suffix.lower() == ".csv":
        with p.open("w", newline="", encoding="utf-8") as fh:
            w = csv.DictWriter(fh, fieldnames=["model_a", "model_b", "winner", "prompt_id"])
            w.writeheader()
            w.writerows(recs)
    else:
        p.write_text("".join(json.dumps(r) + "\n" for r in recs), encoding="utf-8")


def read_genai_bench(path: str | Path) -> dict[str, dict[str, list[float]]]:
    """GenAI-Bench human ratings ``{id: {"models": {model: [ratings]}}}`` -> ``{id: {model: [ratings]}}``
    (the input shape of ``battles_from_scores``)."""
    p = Path(path)
    raw = read_json(p, "GenAI-Bench ratings file", expect=dict)
    out: dict[str, dict[str, list[float]]] = {}
    for key, item in raw.items():
        models = item.get("models") if isinstance(item, dict) else None
        if not isinstance(models, dict):
            raise DataError(f"{p}: prompt {key!r} has no 'models' mapping")
        out[str(item.get("id", key))] = {m: list(v) for m, v in models.items()}
    return out
