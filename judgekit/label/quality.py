"""Checks of how raters work, for the operator: gold answers, answers given too fast, and
straight-lining (the same answer again and again).

- **gold**: items with a known answer (``--gold FILE``), given to every rater; per rater the
  share of gold answers that match, with a 95% Wilson interval;
- **fast**: answers given less than ``min_seconds`` after the question was first shown;
- **straight-lining**: the longest run of identical consecutive answers and the share of the
  most common answer; flagged from :data:`MIN_ANSWERS` answers when the run reaches
  :data:`RUN_FLAG` or the share :data:`SHARE_FLAG`.

The gold file is JSONL, one line per item (and question): ``{"id": ITEM, "score": 4}`` for
Likert, ``{"id": ITEM, "label": "pass"}`` for pass/fail, ``{"id": ITEM, "winner": "model_a"}``
for pairs (the manifest's orientation), with ``"dimension"`` where the rubric has several.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from ..errors import DataError
from ..stats.estimates import wilson_interval
from .store import Answer

MIN_ANSWERS = 10
RUN_FLAG = 10
SHARE_FLAG = 0.9
_FIELD = {"likert": "score", "binary": "label", "pairwise": "winner"}


def load_gold(path: str | Path, mode: str, dimensions: Sequence[str]) -> dict[str, dict[str, Any]]:
    """item -> {dimension: known answer} from a gold JSONL file (see the module doc)."""
    import json

    key = _FIELD[mode]
    out: dict[str, dict[str, Any]] = {}
    p = Path(path)
    try:
        lines = p.read_text(encoding="utf-8-sig").splitlines()
    except OSError as exc:
        raise DataError(f"--gold {p}: cannot read it ({exc.strerror or exc})") from None
    for no, line in enumerate(lines, 1):
        if not line.strip():
            continue
        try:
            d = json.loads(line)
        except ValueError:
            raise DataError(f"--gold {p}:{no}: not a JSON object") from None
        if not isinstance(d, dict) or "id" not in d or key not in d:
            raise DataError(f"--gold {p}:{no}: needs \"id\" and \"{key}\" (for --mode {mode})")
        dim = str(d.get("dimension", dimensions[0] if len(dimensions) == 1 else ""))
        if dim not in dimensions:
            raise DataError(f"--gold {p}:{no}: dimension {dim!r} is not a question of this campaign {list(dimensions)}")
        value = d[key]
        ok = {"likert": lambda v: isinstance(v, int) and not isinstance(v, bool) and 1 <= v <= 5,
              "binary": lambda v: v in ("pass", "fail"),
              "pairwise": lambda v: v in ("model_a", "model_b", "tie")}[mode]
        if not ok(value):
            raise DataError(f"--gold {p}:{no}: {key} {value!r} is not an answer raters can give in --mode {mode}")
        out.setdefault(str(d["id"]), {})[dim] = value
    if not out:
        raise DataError(f"--gold {p}: no gold answers in the file")
    return out


def longest_run(values: Sequence[Any]) -> int:
    best = run = 0
    prev: Any = object()
    for v in values:
        run = run + 1 if v == prev else 1
        prev = v
        best = max(best, run)
    return best


def rater_checks(answers: Sequence[Answer], gold: dict[str, dict[str, Any]], min_seconds: float) -> dict[str, Any]:
    """The checks of one rater's answers (in the order given: the store's answer order)."""
    values = [a.value if a.value is not None else a.choice for a in answers]
    seconds = sorted(a.labelled_at - a.shown_at for a in answers)
    fast = [a for a in answers if a.labelled_at - a.shown_at < min_seconds]
    run = longest_run(values)
    share = max(Counter(map(str, values)).values()) / len(values) if values else None
    out: dict[str, Any] = {
        "fast": len(fast), "median_seconds": round(seconds[len(seconds) // 2], 3) if seconds else None,
        "longest_run": run, "modal_share": None if share is None else round(share, 4),
        "straight_lining": len(values) >= MIN_ANSWERS and (run >= RUN_FLAG or (share or 0) >= SHARE_FLAG),
    }
    checked = [(a, gold[a.item][a.dimension]) for a in answers if a.dimension in gold.get(a.item, {})]
    if gold:
        k = sum(1 for a, want in checked if a.value == want)
        n = len(checked)
        lo, hi = wilson_interval(k, n) if n else (None, None)
        out["gold"] = {"statistic": "gold_agreement", "correct": k, "n": n, "value": k / n if n else None,
                       "ci_low": lo, "ci_high": hi, "method": "wilson"}
    return out
