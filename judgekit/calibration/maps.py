"""Maps from a judge's score to the human scale, fitted on human labels and checked on held-out
folds: isotonic regression (monotone, non-parametric, predicts the mean human rating) and an
ordinal proportional-odds model (predicts a distribution over the human levels; with two levels
it is logistic, i.e. Platt, scaling).

>>> m = fit_isotonic([0.1, 0.4, 0.5, 0.9], [1, 2, 4, 5])
>>> m.apply([0.1, 0.45, 0.9]).round(2).tolist()
[1.0, 3.0, 5.0]
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

import numpy as np
from numpy.typing import ArrayLike
from pydantic import BaseModel

from ..errors import DataError, InputError
from ..io import write_json
from ..stats.bootstrap import Groups, group_indices
from ..stats.means import order_free_row_means
from ..types import Result

#: What ``apply_calibration`` takes and gives back: ``Result`` objects or their plain dicts.
ResultLike = TypeVar("ResultLike", Result, dict[str, Any])

METHODS = ("isotonic", "ordinal")


def expit(x: ArrayLike) -> np.ndarray:
    """The logistic function, overflow-free (scipy.optimize is imported only when fitting)."""
    return 0.5 * (1.0 + np.tanh(0.5 * np.asarray(x, float)))


# --- isotonic (pool adjacent violators) ----------------------------------------------------------


def _pav(y: np.ndarray, w: np.ndarray) -> np.ndarray:
    """Weighted least-squares non-decreasing fit of ``y`` (already ordered by x)."""
    vals: list[float] = []
    wts: list[float] = []
    sizes: list[int] = []
    for yi, wi in zip(y, w):
        vals.append(yi)
        wts.append(wi)
        sizes.append(1)
        while len(vals) > 1 and vals[-2] > vals[-1]:  # merge the violating blocks
            v2, w2, s2 = vals.pop(), wts.pop(), sizes.pop()
            wsum = wts[-1] + w2
            vals[-1] = (vals[-1] * wts[-1] + v2 * w2) / wsum
            wts[-1], sizes[-1] = wsum, sizes[-1] + s2
    return np.repeat(vals, sizes)


@dataclass
class CalibrationMap:
    """A fitted map. ``apply(scores)`` gives values on the human scale; for ordinal maps
    ``proba(scores)`` gives the probability of each human level."""

    method: str  # "isotonic" | "ordinal"
    params: dict[str, Any]
    levels: list[float]
    column: str = "overall"
    cv: dict[str, Any] = field(default_factory=dict)

    def apply(self, scores: ArrayLike) -> np.ndarray:
        x = np.asarray(scores, float)
        if self.method == "isotonic":
            return np.interp(x, self.params["x"], self.params["y"])
        return self.proba(x) @ np.asarray(self.levels, float)

    def proba(self, scores: ArrayLike) -> np.ndarray:
        if self.method != "ordinal":
            raise InputError("only an ordinal map gives probabilities of each level")
        x = (np.asarray(scores, float) - self.params["center"]) / self.params["scale"]
        cum = expit(np.asarray(self.params["thresholds"])[None, :] - self.params["slope"] * x[:, None])
        cum = np.hstack([np.zeros((x.size, 1)), cum, np.ones((x.size, 1))])
        return np.diff(cum, axis=1)

    def to_dict(self) -> dict[str, Any]:
        return {"method": self.method, "column": self.column, "levels": self.levels, "params": self.params, "cv": self.cv}

    def save(self, path: str | Path) -> None:
        write_json(path, self.to_dict())

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> CalibrationMap:
        method = d.get("method", d.get("kind"))  # "kind" in files written by judgekit 0.1
        if method not in METHODS:
            raise DataError(f"not a calibration map: method {method!r} is not one of {METHODS}")
        return cls(method, d["params"], [float(v) for v in d["levels"]], d.get("column", "overall"), d.get("cv", {}))


def load_map(path: str | Path) -> CalibrationMap:
    try:
        return CalibrationMap.from_dict(json.loads(Path(path).read_text(encoding="utf-8")))
    except (OSError, json.JSONDecodeError, KeyError) as exc:
        raise DataError(f"{path}: cannot read calibration map ({exc})") from None


def fit_isotonic(
    scores: ArrayLike, human: ArrayLike, levels: ArrayLike | None = None, column: str = "overall"
) -> CalibrationMap:
    """Non-decreasing map from score to the mean human rating; clipped outside the seen range."""
    x, y = np.asarray(scores, float), np.asarray(human, float)
    order = np.lexsort((y, x))
    ux, inv = np.unique(x[order], return_inverse=True)
    w = np.bincount(inv).astype(float)
    ymean = np.bincount(inv, weights=y[order]) / w
    fitted = _pav(ymean, w)
    lv = sorted({float(v) for v in (np.unique(y) if levels is None else np.asarray(levels, float).ravel())})
    return CalibrationMap("isotonic", {"x": ux.tolist(), "y": fitted.tolist()}, lv, column)


def fit_ordinal(
    scores: ArrayLike, ratings: ArrayLike, levels: ArrayLike, column: str = "overall", ridge: float = 1e-3
) -> CalibrationMap:
    """Proportional odds: ``P(rating <= level_k | s) = sigmoid(t_k - b * s)``, by maximum
    likelihood on individual ratings (one row per rating, so rater spread is modelled).

    A small ridge penalty keeps the fit finite when a level is perfectly separated."""
    from scipy.optimize import minimize

    x, r = np.asarray(scores, float), np.asarray(ratings, float)
    lv = np.sort(np.asarray(levels, float))
    k = np.searchsorted(lv, r)
    if lv.size < 2 or (k >= lv.size).any() or not np.isin(r, lv).all():
        raise DataError("ordinal map: every rating must be one of the declared levels")
    center, scale = float(x.mean()), float(x.std() or 1.0)
    z = (x - center) / scale
    n_t = lv.size - 1

    def unpack(p: np.ndarray) -> tuple[float, np.ndarray]:
        return p[0], p[1] + np.r_[0.0, np.cumsum(np.exp(p[2 : 1 + n_t]))]

    def nll(p: np.ndarray) -> float:
        b, t = unpack(p)
        cum = np.hstack([np.zeros((z.size, 1)), expit(t[None, :] - b * z[:, None]), np.ones((z.size, 1))])
        pr = cum[np.arange(z.size), k + 1] - cum[np.arange(z.size), k]
        return -np.log(np.clip(pr, 1e-12, None)).sum() + ridge * (p @ p)

    # Start from the marginal frequencies of the levels (no slope).
    freq = np.cumsum(np.bincount(k, minlength=lv.size)[:-1] + 0.5) / (k.size + lv.size * 0.5)
    t0 = np.log(freq / (1 - np.clip(freq, None, 0.999)))
    t0 = np.maximum.accumulate(t0 + np.arange(n_t) * 1e-3)
    p0 = np.r_[1.0, t0[0], np.log(np.maximum(np.diff(t0), 1e-3))]
    fit = minimize(nll, p0, method="L-BFGS-B")
    b, t = unpack(fit.x)
    params = {"slope": float(b), "thresholds": t.tolist(), "center": center, "scale": scale}
    return CalibrationMap("ordinal", params, lv.tolist(), column)


# --- held-out evaluation --------------------------------------------------------------------------


def expected_calibration_error(p: ArrayLike, y: ArrayLike, bins: int = 10) -> float:
    """ECE of probabilities ``p`` for 0/1 outcomes ``y``, equal-width bins, weighted by size."""
    pa, ya = np.asarray(p, float), np.asarray(y, float)
    idx = np.minimum((pa * bins).astype(int), bins - 1)
    err = 0.0
    for b in range(bins):
        m = idx == b
        if m.any():
            err += m.mean() * abs(pa[m].mean() - ya[m].mean())
    return float(err)


def _folds(groups: Groups, k: int, seed: int) -> list[np.ndarray]:
    blocks = group_indices(groups)
    order = np.random.default_rng(seed).permutation(len(blocks))
    return [np.concatenate([blocks[i] for i in order[f::k]]) for f in range(k) if order[f::k].size]


def fit_map(
    method: str,
    scores: ArrayLike,
    ratings: ArrayLike,
    groups: Groups,
    levels: ArrayLike,
    *,
    column: str = "overall",
    folds: int = 5,
    seed: int = 0,
) -> CalibrationMap:
    """Fit the ``method`` map on all items and report its error on held-out folds (grouped by prompt).

    ``ratings`` is ``(items, raters)`` with NaN for missing. Held-out metrics: MAE of the
    mapped score against the item's mean rating, next to the MAE of a plain linear rescale; for
    binary labels also Brier score and ECE of the predicted pass probability.
    """
    if method not in METHODS:
        raise DataError(f"unknown calibration map {method!r}; expected one of {METHODS}")
    s, r = np.asarray(scores, float), np.asarray(ratings, float)
    if r.ndim == 1:
        r = r[:, None]
    h = order_free_row_means(r)
    lv = np.sort(np.asarray(levels, float))
    binary = lv.size == 2

    def fit(rows: np.ndarray) -> CalibrationMap:
        if method == "isotonic":
            return fit_isotonic(s[rows], h[rows], lv, column)
        rr = r[rows]
        ok = np.isfinite(rr)
        return fit_ordinal(np.repeat(s[rows], ok.sum(1)), rr[ok], lv, column)

    from ..stats.agreement import linear_map

    pred = np.full(s.size, np.nan)
    parts = _folds(groups, folds, seed) if len(set(groups)) >= folds else []
    for test in parts:
        train = np.setdiff1d(np.arange(s.size), test)
        pred[test] = fit(train).apply(s[test])
    m = fit(np.arange(s.size))
    cv: dict[str, Any] = {"folds": len(parts), "n": int(s.size)}
    if parts:
        lin = linear_map(s, (s.min(), s.max()), (lv[0], lv[-1]))
        cv["mae"] = float(np.mean(np.abs(pred - h)))
        cv["mae_linear_rescale"] = float(np.mean(np.abs(lin - h)))
        if binary:  # the predicted value is P(pass) once the levels are 0/1
            p = (pred - lv[0]) / (lv[1] - lv[0])
            cv["brier"] = float(np.mean((p - (h - lv[0]) / (lv[1] - lv[0])) ** 2))
            cv["ece"] = expected_calibration_error(p, (h - lv[0]) / (lv[1] - lv[0]) >= 0.5)
    else:
        cv["note"] = f"fewer than {folds} prompts: no held-out error"
    m.cv = cv
    return m


def apply_calibration(
    results: Iterable[ResultLike], calibration_map: CalibrationMap | str | Path
) -> list[ResultLike]:
    """Results with the mapped column (``overall`` or a dimension) on the human scale.

    The original value is kept under ``details["uncalibrated"]`` and the map under
    ``provenance["calibration_map"]``; failed results pass through unchanged. Accepts
    ``Result`` objects (returns copies) or plain dicts.
    """
    cmap = calibration_map if isinstance(calibration_map, CalibrationMap) else load_map(calibration_map)
    out: list[ResultLike] = []
    for res in results:
        d = res.model_dump() if isinstance(res, BaseModel) else dict(res)
        col = cmap.column
        old = d.get("overall") if col == "overall" else (d.get("scores") or {}).get(col)
        if d.get("status", "ok") == "ok" and old is not None:
            new = float(cmap.apply([old])[0])
            if col == "overall":
                d["overall"] = new
            else:
                d["scores"] = {**d["scores"], col: new}
            d["details"] = {**(d.get("details") or {}), "uncalibrated": {col: old}}
            d["provenance"] = {**(d.get("provenance") or {}), "calibration_map": {"method": cmap.method, "column": col}}
        out.append(type(res).model_validate(d) if isinstance(res, BaseModel) else d)
    return out
