"""Then against now: the figures of a drift check, from two sets of records of the same samples.

Per dimension (and ``overall``): exact agreement, the mean shift now - then with a paired
bootstrap CI (the per-sample differences resampled by prompt), and Spearman's rank correlation;
for pairwise results the winner agreement and the flip rate (a decisive winner reversed).
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from typing import Any

import numpy as np

from ..stats.agreement import spearman
from ..stats.bootstrap import bootstrap_ci
from ..types import Result

#: Two scores closer than this are the same score (floats written and read back).
SAME = 1e-9
#: Outcomes of a pairwise record that name a winner.
DECISIVE = ("model_a", "model_b")


def _nan_none(x: float) -> float | None:
    return None if isinstance(x, float) and not math.isfinite(x) else x


def score_pairs(then: Iterable[Result], now: Iterable[Result]) -> dict[str, list[tuple[str, float, float]]]:
    """Per dimension, ``(group, then, now)`` for every sample ok in both runs with both scores."""
    earlier = {r.sample_id: r for r in then if r.status == "ok"}
    out: dict[str, list[tuple[str, float, float]]] = {}
    for r in sorted((r for r in now if r.status == "ok" and r.sample_id in earlier), key=lambda r: r.sample_id):
        e = earlier[r.sample_id]
        group = r.prompt_id or r.sample_id
        values = {**{d: (e.scores.get(d), r.scores.get(d)) for d in e.scores}, "overall": (e.overall, r.overall)}
        for dim, (a, b) in values.items():
            if a is not None and b is not None:
                out.setdefault(dim, []).append((group, float(a), float(b)))
    return out


def dimension_figures(pairs: list[tuple[str, float, float]], n_boot: int = 2000, seed: int = 0) -> dict[str, Any]:
    groups = [g for g, _, _ in pairs]
    a = np.array([x for _, x, _ in pairs])
    b = np.array([y for _, _, y in pairs])
    d = b - a
    lo, hi = bootstrap_ci(d, groups=groups, n_boot=n_boot, seed=seed) if len(d) > 1 else (float("nan"),) * 2
    return {
        "n": len(d),
        "mean_then": float(a.mean()),
        "mean_now": float(b.mean()),
        "exact_agreement": float(np.mean(np.abs(d) <= SAME)),
        "mean_shift": float(d.mean()),
        "ci_low": _nan_none(float(lo)),
        "ci_high": _nan_none(float(hi)),
        "spearman": _nan_none(float(spearman(a, b))) if len(d) > 1 else None,
    }


def pairwise_figures(then: Iterable[Result], now: Iterable[Result]) -> dict[str, Any] | None:
    """Winner agreement and flip rate over the pairs ok in both runs; None for other kinds."""
    earlier = {r.sample_id: (r.model_extra or {}).get("winner") for r in then if r.status == "ok"}
    pairs = [(earlier[r.sample_id], (r.model_extra or {}).get("winner")) for r in now
             if r.status == "ok" and earlier.get(r.sample_id) is not None]
    pairs = [(w0, w1) for w0, w1 in pairs if w1 is not None]
    if not pairs:
        return None
    same = sum(w0 == w1 for w0, w1 in pairs)
    flips = sum(w0 in DECISIVE and w1 in DECISIVE and w0 != w1 for w0, w1 in pairs)
    return {"pairs": len(pairs), "winner_agreement": same / len(pairs), "flip_rate": flips / len(pairs), "flips": flips}
