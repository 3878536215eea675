"""Reading the optional inputs of a report: a leaderboard (``judgekit leaderboard --out``) and a
calibration report (``judgekit calibrate --out``), as files, dicts or the library's objects.

Both are normalized to plain data with CIs as ``value``/``ci_low``/``ci_high`` (accepting the
older ``rating``/``lo``/``hi`` and ``ci: [lo, hi]`` spellings), NaN as None.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

from ..errors import DataError
from ..io import read_json


def _load(obj: Any, what: str) -> dict[str, Any]:
    if obj is None:
        return {}
    if hasattr(obj, "to_dict"):
        obj = obj.to_dict()
    if isinstance(obj, str | Path):
        p = Path(obj)
        if not p.is_file():
            raise DataError(f"{what} file {p} does not exist")
        try:
            obj = read_json(p)
        except DataError as exc:
            raise DataError(f"{what} file {p} is not JSON: {exc}") from None
    if not isinstance(obj, dict):
        raise DataError(f"{what}: expected a JSON object, got {type(obj).__name__}")
    return obj


def _num(v: Any) -> float | None:
    if isinstance(v, bool) or not isinstance(v, int | float):
        return None
    return float(v) if math.isfinite(v) else None


def estimate(d: Any) -> dict[str, float | None]:
    """``{"value", "ci_low", "ci_high"}`` from any of the estimate layouts judgekit writes."""
    if not isinstance(d, dict):
        return {"value": _num(d), "ci_low": None, "ci_high": None}
    value = d.get("value", d.get("rating"))
    lo, hi = d.get("ci_low", d.get("lo")), d.get("ci_high", d.get("hi"))
    if isinstance(d.get("ci"), list | tuple) and len(d["ci"]) == 2:
        lo, hi = d["ci"]
    out = {"value": _num(value), "ci_low": _num(lo), "ci_high": _num(hi)}
    if isinstance(d.get("n"), int):
        out["n"] = d["n"]
    return out


def load_leaderboard(obj: Any) -> dict[str, Any] | None:
    """Rows (rank, model, rating CI, W/L/T, n) and, when present, the head-to-head matrix."""
    d = _load(obj, "leaderboard")
    if not d:
        return None
    if not isinstance(d.get("rows"), list) or not d["rows"]:
        raise DataError("leaderboard: no 'rows' (write it with `judgekit leaderboard FILE --out lb.json`)")
    rows = []
    for i, r in enumerate(d["rows"]):
        if not isinstance(r, dict) or "model" not in r:
            raise DataError(f"leaderboard: row {i} has no 'model'")
        rows.append({"rank": r.get("rank", i + 1), "model": str(r["model"]), **estimate(r),
                     **{k: r.get(k) for k in ("wins", "losses", "ties", "n")}})
    h2h = d.get("head_to_head")
    if isinstance(h2h, dict) and isinstance(h2h.get("models"), list):
        h2h = {"models": [str(m) for m in h2h["models"]], "n": h2h.get("n"),
               "win_rate": [[_num(v) for v in row] for row in h2h.get("win_rate") or []]}
    else:
        h2h = None
    return {"method": d.get("method"), "level": d.get("level", 0.95), "n_battles": d.get("n_battles"),
            "n_prompts": d.get("n_prompts"), "n_boot": d.get("n_boot"), "rows": rows, "head_to_head": h2h,
            "warnings": [str(w) for w in d.get("warnings") or []],
            "degenerate_rounds": d.get("degenerate_rounds") if isinstance(d.get("degenerate_rounds"), int) else None}


def _one_calibration(dim: str | None, d: dict[str, Any]) -> dict[str, Any]:
    if "scorers" not in d:
        raise DataError("calibration: no 'scorers' (write it with `judgekit calibrate ... --out cal.json`)")
    stats = []
    blocks = [("human ceiling", d.get("human_ceiling") or {})] + list((d.get("scorers") or {}).items())
    for scorer, est in blocks:
        for stat, e in est.items():
            if stat == "per_rater" or not isinstance(e, dict):
                continue
            stats.append({"scorer": scorer, "statistic": stat, **estimate(e)})
    for scorer, e in (d.get("system_level") or {}).items():
        stats.append({"scorer": scorer, "statistic": "system_spearman", **estimate(e)})
    meta = d.get("meta") or {}
    cmap = d.get("calibration_map")
    return {"dimension": dim or meta.get("dimension"), "n": d.get("n"), "stats": stats,
            "levels": meta.get("human_levels"), "scorers": list((d.get("scorers") or {}).keys()),
            "items": [it for it in d.get("items") or [] if isinstance(it, dict)],
            "map": cmap if isinstance(cmap, dict) else None, "warnings": [str(w) for w in d.get("warnings") or []],
            "note": meta.get("ceiling_note")}


def load_calibration(obj: Any) -> list[dict[str, Any]]:
    """One entry per calibrated dimension (a single-dimension report gives one)."""
    d = _load(obj, "calibration")
    if not d:
        return []
    if isinstance(d.get("dimensions"), dict):
        return [_one_calibration(dim, v) for dim, v in d["dimensions"].items() if isinstance(v, dict)]
    return [_one_calibration(None, d)]
