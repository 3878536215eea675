"""Human labels: one rating a row, from JSONL, CSV or JSON, in whatever column names a file has.

A row names its item by ``sample_id`` or by (``prompt_id``, ``model``), may name its ``rater``
and ``dimension``, and carries one of ``score`` (Likert or any number), ``label`` (pass/fail) or,
for pairwise data, ``winner`` (with ``model_a`` and ``model_b``). A ``score`` cell holding a list
(``[5, 4, 5]``) is several ratings by anonymous raters, numbered by position.

>>> labels = load_human_labels(
...     [{"item_id": "p1", "t2i_model": "sdxl", "worker_id": "w1", "answer": 4}],
...     columns="prompt_id=item_id,model=t2i_model,rater=worker_id,score=answer",
...     scale=(1, 5),
... )
>>> labels.rows[0].prompt_id, labels.rows[0].value
('p1', 4.0)
"""

from __future__ import annotations

import csv
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from ..errors import ConfigError, DataError
from ..io import Records, read_records

CANONICAL = ("sample_id", "prompt_id", "model", "rater", "dimension", "score", "label", "winner", "model_a", "model_b")
_VALUE_KINDS = ("score", "label", "winner")
_TRUE = {"1", "true", "yes", "pass", "passed", "y", "t"}
_FALSE = {"0", "false", "no", "fail", "failed", "n", "f"}


@dataclass
class LabelRow:
    value: float  # score; 1/0 for a label; for a winner: 1 model_a, 0 model_b, 0.5 tie
    sample_id: str | None = None
    prompt_id: str | None = None
    model: str | None = None
    rater: str | None = None
    dimension: str | None = None
    model_a: str | None = None
    model_b: str | None = None
    where: str = ""  # "file:line", for error messages


@dataclass
class HumanLabels:
    rows: list[LabelRow]
    value_type: str  # "score" | "label" | "winner": what each row carries
    scale: tuple[float, float] | None = None
    source: str = "<records>"
    skipped: list[str] = field(default_factory=list)  # rows without a value, with where/why

    @property
    def has_raters(self) -> bool:
        return any(r.rater is not None for r in self.rows)

    def dimensions(self) -> list[str | None]:
        return list(dict.fromkeys(r.dimension for r in self.rows))

    def levels(self, dimension: str | None = None) -> np.ndarray:
        """The discrete levels of the human scale: the declared integer range, else the
        observed values (of ``dimension`` alone when given: dimensions may differ in levels)."""
        if self.value_type == "label":
            return np.array([0.0, 1.0])
        if self.scale is not None and all(float(x).is_integer() for x in self.scale):
            return np.arange(self.scale[0], self.scale[1] + 1, dtype=float)
        vals = [r.value for r in self.rows if dimension is None or r.dimension == dimension]
        return np.unique(vals or [r.value for r in self.rows])


def parse_columns(spec: str | Mapping[str, str] | None) -> dict[str, str]:
    """``"prompt_id=item_id,model=t2i_model"`` -> ``{"prompt_id": "item_id", ...}``."""
    if spec is None:
        return {}
    if isinstance(spec, Mapping):
        pairs = dict(spec)
    else:
        pairs = {}
        for part in filter(None, (p.strip() for p in spec.split(","))):
            if "=" not in part:
                raise DataError(f"column mapping {part!r} is not NAME=COLUMN (e.g. rater=worker_id)")
            k, v = (s.strip() for s in part.split("=", 1))
            pairs[k] = v
    bad = set(pairs) - set(CANONICAL)
    if bad:
        raise DataError(f"unknown label field(s) {sorted(bad)} in column mapping; known: {', '.join(CANONICAL)}")
    return pairs


def _text(v: Any) -> str | None:
    if v is None or (isinstance(v, str) and not v.strip()):
        return None
    return str(v).strip()


def _number(v: Any, where: str, what: str) -> float:
    try:
        x = float(v)
    except (TypeError, ValueError):
        raise DataError(f"{where}: {what} {v!r} is not a number") from None
    if not np.isfinite(x):
        raise DataError(f"{where}: {what} {v!r} is not a finite number")
    return x


def _label(v: Any, where: str) -> float:
    if isinstance(v, bool):
        return float(v)
    s = str(v).strip().lower()
    if s in _TRUE:
        return 1.0
    if s in _FALSE:
        return 0.0
    raise DataError(f"{where}: label {v!r} is not pass/fail (use true/false, pass/fail, yes/no or 1/0)")


def _winner(v: Any, model_a: str | None, model_b: str | None, where: str) -> float:
    s = str(v).strip().lower()
    if s in {"a", "model_a", "1"} or (model_a and s == model_a.lower()):
        return 1.0
    if s in {"b", "model_b", "2"} or (model_b and s == model_b.lower()):
        return 0.0
    if s in {"tie", "draw", "both", "neither", "0.5"}:
        return 0.5
    raise DataError(f"{where}: winner {v!r} is not a, b, tie or one of the two model names")


def load_human_labels(
    source: str | Path | Records,
    columns: str | Mapping[str, str] | None = None,
    scale: tuple[float, float] | None = None,
    out_of_scale: str = "error",
) -> HumanLabels:
    """Load human labels; ``columns`` maps our field names onto the file's (``rater=worker_id``).

    Every label must lie inside ``scale`` when one is declared, else :class:`DataError` names
    the file, the line and the value (``out_of_scale="skip"`` keeps such ratings out instead and
    lists them, for known typos in published data). Rows whose value cell is empty are kept out
    and listed in ``skipped`` (reported, never silently dropped).
    """
    if out_of_scale not in ("error", "skip"):
        raise ConfigError("out_of_scale must be 'error' or 'skip'")
    mapping = parse_columns(columns)
    records, name = read_records(source)
    if not records:
        raise DataError(f"{name}: no label rows")
    columns_here = sorted({c for _, rec in records for c in rec})
    absent = {k: v for k, v in mapping.items() if not any(v in rec for _, rec in records)}
    if absent:
        wrong = ", ".join(f"{k}={v}" for k, v in absent.items())
        raise DataError(
            f"{name}: the column mapping names column(s) the file does not have ({wrong}); "
            f"its columns are: {', '.join(columns_here)}"
        )
    col = {k: mapping.get(k, k) for k in CANONICAL}
    if "sample_id" not in mapping and "sample_id" not in records[0][1] and "id" in records[0][1]:
        col["sample_id"] = "id"
    present = [k for k in _VALUE_KINDS if col[k] in records[0][1]]
    if not present:
        raise DataError(
            f"{name}: no value column: expected one of score, label, winner "
            f"(map one with e.g. --human-columns score=answer); its columns are: {', '.join(sorted(records[0][1]))}"
        )
    value_type = present[0]
    rows: list[LabelRow] = []
    skipped: list[str] = []
    for where, rec in records:
        get = {k: rec.get(col[k]) for k in CANONICAL}
        sid, pid, model = _text(get["sample_id"]), _text(get["prompt_id"]), _text(get["model"])
        if value_type == "winner":
            if pid is None and sid is None:
                raise DataError(f"{where}: a pairwise label needs prompt_id (or sample_id)")
        elif sid is None and (pid is None or model is None):
            raise DataError(f"{where}: a label needs sample_id, or both prompt_id and model")
        raw = get[value_type]
        base: dict[str, Any] = dict(sample_id=sid, prompt_id=pid, model=model, dimension=_text(get["dimension"]), where=where)
        if raw is None or (isinstance(raw, str) and not raw.strip()):
            skipped.append(f"{where}: empty {col[value_type]}")
            continue
        values: list[tuple[str | None, Any]]
        if isinstance(raw, list):  # several anonymous ratings in one cell
            values = [(f"#{i}", v) for i, v in enumerate(raw)]
        else:
            values = [(_text(get["rater"]), raw)]
        for rater, v in values:
            if value_type == "score":
                x = _number(v, where, "score")
                if scale is not None and not (scale[0] <= x <= scale[1]):
                    if out_of_scale == "skip":
                        item = sid or f"{pid}/{model}"
                        skipped.append(f"{where} ({item}): score {v!r} outside the scale {scale[0]:g}-{scale[1]:g}")
                        continue
                    raise DataError(f"{where}: score {v!r} is outside the declared scale {scale[0]:g}-{scale[1]:g}")
            elif value_type == "label":
                x = _label(v, where)
            else:
                x = _winner(v, _text(get["model_a"]), _text(get["model_b"]), where)
            rows.append(LabelRow(value=x, rater=rater, model_a=_text(get["model_a"]), model_b=_text(get["model_b"]), **base))
    return HumanLabels(rows=rows, value_type=value_type, scale=scale, source=name, skipped=skipped)


# --- the human-label sets that ship in calibration/ ------------------------------------------------

#: TIFA's model names -> the DSG Likert file's ``t2i_model`` names (same 5 models, same images).
TIFA_TO_DSG_MODEL = {
    "mini_dalle": "mini-dalle",
    "stable_diffusion_v1_1": "sd1dot1",
    "stable_diffusion_v1_5": "sd1dot5",
    "stable_diffusion_v2_1": "sd2dot1",
    "vq_diffusion": "vq-diffusion",
}
BUILTIN = {
    "dsg-tifa160-likert": ("dsg", "tifa160-likert-anns.csv"),
    "tifa160": ("tifa", "human_annotations_with_scores.json"),
    "genai-bench-527": ("genai_bench", "genai_image_527_human_ratings.json"),
}


def builtin_path(name: str) -> Path:
    from ..resources import data_path

    if name not in BUILTIN:
        raise DataError(f"unknown built-in label set {name!r}; have {sorted(BUILTIN)}")
    return data_path("calibration", *BUILTIN[name])


def builtin_labels(name: str) -> HumanLabels:
    """The shipped label sets, keyed by (prompt_id, model):

    - ``dsg-tifa160-likert``: 5 named raters, ``prompt_id`` = DSG ``item_id`` (``tifa160_N``),
      models ``mini-dalle``, ``sd1dot1``, ``sd1dot5``, ``sd2dot1``, ``vq-diffusion``;
    - ``tifa160``: TIFA's 2 anonymous ratings of the same images, keyed like the DSG file
      (``sample_id`` keeps TIFA's own ``<text_id>_<model>`` key);
    - ``genai-bench-527``: 3 anonymous ratings, ``prompt_id`` ``00001``..., 6 models.
    """
    path = builtin_path(name)
    if name == "dsg-tifa160-likert":
        return load_human_labels(path, "prompt_id=item_id,model=t2i_model,rater=worker_id,score=answer", (1, 5))
    data = json.loads(path.read_text(encoding="utf-8"))
    recs: list[dict[str, Any]] = []
    if name == "tifa160":
        to_item = tifa_text_to_dsg_item()
        for key, v in data.items():
            model = key[len(v["text_id"]) + 1 :]
            recs.append({"sample_id": key, "prompt_id": to_item[v["text_id"]],
                         "model": TIFA_TO_DSG_MODEL[model], "score": v["human_scores"]})
    else:
        for pid, v in data.items():
            for model, ratings in v["models"].items():
                recs.append({"prompt_id": pid, "model": model, "score": ratings})
    # GenAI-Bench has two typos (41 and 33 among 1-5 ratings): they are listed in ``skipped``.
    labels = load_human_labels(recs, scale=(1, 5), out_of_scale="skip" if name == "genai-bench-527" else "error")
    labels.source = str(path)
    return labels


def tifa_text_to_dsg_item() -> dict[str, str]:
    """TIFA ``text_id`` (``coco_669925``) -> DSG ``item_id`` (``tifa160_0``), read from the DSG
    file's ``source_id`` column."""
    with builtin_path("dsg-tifa160-likert").open(newline="", encoding="utf-8") as fh:
        return {r["source_id"]: r["item_id"] for r in csv.DictReader(fh)}
