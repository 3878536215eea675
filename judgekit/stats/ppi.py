"""Prediction-powered inference (PPI++, Angelopoulos, Duchi & Zrnic 2023) for means.

With ``n`` items that carry a human label ``y`` and a judge prediction ``yhat``, and ``N`` more
items with a judge prediction only, the estimate

    theta = mean(lam * yhat_unlabeled) + mean(y - lam * yhat)

is unbiased for the human mean for any fixed ``lam``; the judge's bias cancels through the
rectifier ``mean(y - lam * yhat)``. ``lam`` is tuned to minimise the variance,
``lam = Cov(y, yhat) / ((1 + n/N) Var(yhat))`` clipped to [0, 1] (0 gives the human-only
estimate back, so a useless judge costs little). The CI is the normal interval with the two
independent variance terms added. Pass rates (0/1 labels) and win rates (1/0.5/0 per prompt)
are means too.

>>> import numpy as np
>>> rng = np.random.default_rng(0)
>>> truth = rng.normal(3, 1, 2000); judge = truth + rng.normal(0.5, 0.3, 2000)
>>> est = ppi_mean(truth[:200], judge[:200], judge[200:])
>>> est.ci_low < 3 < est.ci_high and est.lam > 0.5
True
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import ArrayLike
from scipy.stats import norm

from ..errors import InputError


@dataclass
class MeanEstimate:
    method: str  # "ppi++", "human_only", "judge_only"
    value: float
    ci_low: float
    ci_high: float
    se: float
    n: int  # human labels used
    N: int = 0  # judge-only items used
    lam: float | None = None
    #: Why there is no interval (a zero-variance sample), or that the estimate was bounded.
    note: str = ""

    def to_dict(self) -> dict[str, Any]:
        r = lambda x: None if x is None or not np.isfinite(x) else round(float(x), 6)  # noqa: E731
        d = {"method": self.method, "value": r(self.value), "ci_low": r(self.ci_low), "ci_high": r(self.ci_high),
             "se": r(self.se), "n": self.n, "N": self.N}
        if self.lam is not None:
            d["lambda"] = r(self.lam)
        if self.note:
            d["note"] = self.note
        return d


def bounded(est: MeanEstimate, bounds: tuple[float, float]) -> MeanEstimate:
    """``est`` for a parameter known to lie in ``bounds`` (a proportion in [0, 1], a mean on a
    1-5 scale): the estimate and its interval are intersected with the bounds. The true value
    lies inside them, so the intersection keeps the interval's coverage and cannot make the
    estimate worse; a normal interval past 1 (0.833 [0.622, 1.044]) says nothing the bounds do
    not. A zero standard error (every labelled unit agrees, e.g. 6 prompts all won) gives no
    interval at all, and the note says so, instead of a zero-width "CI" that claims certainty.
    """
    lo_b, hi_b = bounds
    if not np.isfinite(est.value):
        return est
    value = float(min(max(est.value, lo_b), hi_b))
    notes = []
    if value != est.value:
        notes.append(f"estimate {est.value:.3f} bounded to [{lo_b:g}, {hi_b:g}]")
    if not (np.isfinite(est.se) and est.se > 0):
        notes.append(f"degenerate: zero variance over {est.n or est.N} units, no interval")
        lo, hi = float("nan"), float("nan")
    else:
        lo, hi = max(est.ci_low, lo_b), min(est.ci_high, hi_b)
        if value < lo or value > hi:  # the bounded estimate always lies in the bounded interval
            lo, hi = min(lo, value), max(hi, value)
    return MeanEstimate(est.method, value, lo, hi, est.se, est.n, est.N, est.lam, "; ".join(notes))


def _interval(value: float, se: float, level: float) -> tuple[float, float]:
    z = norm.ppf(0.5 + level / 2)
    return (float(value - z * se), float(value + z * se))


def tuned_lambda(y: ArrayLike, yhat: ArrayLike, yhat_unlabeled: ArrayLike) -> float:
    """The variance-minimising ``lam`` for the mean, clipped to [0, 1]."""
    ya, yh, yu = (np.asarray(a, float) for a in (y, yhat, yhat_unlabeled))
    n, big_n = ya.size, yu.size
    cov = np.mean((ya - ya.mean()) * (yh - yh.mean()))
    var = np.var(np.r_[yh, yu], ddof=1)  # the judge's variance, estimated from every prediction
    if not np.isfinite(var) or var <= 0:
        return 0.0
    return float(np.clip(cov / ((1 + n / big_n) * var), 0.0, 1.0))


def ppi_mean(
    y: ArrayLike, yhat: ArrayLike, yhat_unlabeled: ArrayLike, level: float = 0.95, lam: float | None = None
) -> MeanEstimate:
    """PPI++ estimate of the mean of ``y`` with a ``level`` CI (``lam=None`` tunes it)."""
    ya, yh, yu = (np.asarray(a, float) for a in (y, yhat, yhat_unlabeled))
    if ya.size != yh.size:
        raise InputError("y and yhat must be aligned (the judge's predictions on the labelled items)")
    if ya.size < 2 or yu.size < 1:
        raise InputError("PPI needs at least 2 labelled items and 1 unlabelled item")
    lam_used = tuned_lambda(ya, yh, yu) if lam is None else float(lam)
    value = float(np.mean(lam_used * yu) + np.mean(ya - lam_used * yh))
    se = math.sqrt(np.var(lam_used * yu) / yu.size + np.var(ya - lam_used * yh) / ya.size)
    return MeanEstimate("ppi++", value, *_interval(value, se, level), se, int(ya.size), int(yu.size), lam_used)


def human_only_mean(y: ArrayLike, level: float = 0.95) -> MeanEstimate:
    """The classical estimate from the human labels alone (normal interval)."""
    ya = np.asarray(y, float)
    se = float(np.std(ya) / math.sqrt(ya.size)) if ya.size else float("nan")
    v = float(np.mean(ya)) if ya.size else float("nan")
    return MeanEstimate("human_only", v, *_interval(v, se, level), se, int(ya.size))


def judge_only_mean(yhat_all: ArrayLike, level: float = 0.95) -> MeanEstimate:
    """The judge's own mean over every item. Its CI only reflects sampling noise: it is not a
    CI for the human mean, because nothing corrects the judge's bias."""
    yh = np.asarray(yhat_all, float)
    se = float(np.std(yh) / math.sqrt(yh.size)) if yh.size else float("nan")
    v = float(np.mean(yh)) if yh.size else float("nan")
    return MeanEstimate("judge_only", v, *_interval(v, se, level), se, 0, int(yh.size))


def mean_estimates(
    y: ArrayLike, yhat: ArrayLike, yhat_unlabeled: ArrayLike, level: float = 0.95,
    bounds: tuple[float, float] | None = None,
) -> dict[str, MeanEstimate]:
    """PPI++ next to the human-only and judge-only estimates; ``bounds`` (``(0, 1)`` for pass
    and win rates, the scale's ends for a Likert mean) keeps each estimate and interval inside
    the parameter's range and marks zero-variance samples (see :func:`bounded`)."""
    out = {
        "ppi": ppi_mean(y, yhat, yhat_unlabeled, level),
        "human_only": human_only_mean(y, level),
        "judge_only": judge_only_mean(np.r_[np.asarray(yhat, float), np.asarray(yhat_unlabeled, float)], level),
    }
    if bounds is not None:
        out = {k: bounded(e, bounds) for k, e in out.items()}
    return out


def win_indicators(score_a: ArrayLike, score_b: ArrayLike) -> np.ndarray:
    """Per prompt: 1 when A scores higher, 0 when lower, 0.5 for a tie (a win rate's unit)."""
    a, b = np.asarray(score_a, float), np.asarray(score_b, float)
    return np.where(a > b, 1.0, np.where(a < b, 0.0, 0.5))


def ci_width_for(n: int, big_n: int, var_y: float, var_yhat: float, cov: float, level: float = 0.95) -> float:
    """Expected PPI++ CI width with ``n`` labels and ``big_n`` judge-only items."""
    z = norm.ppf(0.5 + level / 2)
    lam = 0.0 if var_yhat <= 0 else float(np.clip(cov / ((1 + n / big_n) * var_yhat), 0, 1))
    var_rect = var_y - 2 * lam * cov + lam**2 * var_yhat
    return 2 * z * math.sqrt(max(var_rect, 0.0) / n + lam**2 * var_yhat / big_n)


def labels_needed(
    y: ArrayLike, yhat: ArrayLike, target_width: float, big_n: int, level: float = 0.95, max_n: int = 10_000_000
) -> dict[str, int | None]:
    """How many human labels a ``target_width`` CI needs, with PPI++ (judge scores on
    ``big_n`` other items) and with humans alone. Variances come from a pilot ``(y, yhat)``.
    ``None`` means the target is out of reach (for PPI: below what the judge-only term allows).
    """
    ya, yh = np.asarray(y, float), np.asarray(yhat, float)
    var_y, var_yh = float(np.var(ya, ddof=1)), float(np.var(yh, ddof=1))
    cov = float(np.cov(ya, yh)[0, 1])
    z = norm.ppf(0.5 + level / 2)
    human = math.ceil((2 * z) ** 2 * var_y / target_width**2)

    def width(n: int) -> float:
        return ci_width_for(n, big_n, var_y, var_yh, cov, level)

    if width(max_n) > target_width:
        return {"ppi": None, "human_only": human}
    lo, hi = 2, 2
    while width(hi) > target_width:
        lo, hi = hi, hi * 2
    while lo < hi:  # the width decreases in n: binary search for the first n that meets it
        mid = (lo + hi) // 2
        if width(mid) <= target_width:
            hi = mid
        else:
            lo = mid + 1
    return {"ppi": int(hi), "human_only": int(human)}
