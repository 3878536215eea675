"""The judge's own noise, from K repeated judgments of each sample: how often the K scores
agree, the mean within-sample standard deviation, and the intra-class correlation.

The K repeats of a sample are exchangeable (repeat 2 is not a different rater from repeat 1),
so the ICC is the one-way random-effects form of Shrout & Fleiss (1979):

- ``ICC(1,1)``: the reliability of one judgment, (MSB - MSW) / (MSB + (k-1) MSW);
- ``ICC(1,k)``: the reliability of the mean of the k judgments (the self-ensemble's score),
  (MSB - MSW) / MSB;

MSB and MSW being the between- and within-sample mean squares of a one-way ANOVA. Their
intervals are the exact ones from the F distribution (F = MSB / MSW with n-1 and n(k-1)
degrees of freedom), which always contain the estimate.

>>> r = repeat_agreement([[3, 3, 3], [4, 4, 5], [1, 2, 1], [5, 5, 5]])
>>> r["n"], r["k"], round(r["share_agreeing"], 2)
(4, 3, 0.5)
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
from numpy.typing import ArrayLike
from scipy.stats import f as f_dist

from ..errors import DataError


def aggregate_scores(scores: ArrayLike, how: str) -> float:
    """One sample's score from its K repeats: ``mean``, ``median``, or ``majority`` (the most
    frequent score; a tie between several goes to the one nearest the median, then the lower)."""
    x = np.asarray(scores, dtype=float)
    if x.size == 0:
        raise DataError("no repeat to aggregate")
    if how == "mean":
        return float(x.mean())
    if how == "median":
        return float(np.median(x))
    if how == "majority":
        values, counts = np.unique(x, return_counts=True)
        modes = values[counts == counts.max()]
        med = float(np.median(x))
        return float(min(modes, key=lambda v: (abs(v - med), v)))
    raise DataError(f"aggregate must be mean, median or majority, got {how!r}")


def repeat_agreement(matrix: ArrayLike, level: float = 0.95) -> dict[str, Any]:
    """Agreement of an (n samples x k repeats) matrix of scores (rows with a missing score are
    left out). ``share_agreeing``: share of samples whose k scores are all equal;
    ``mean_within_sd``: mean over samples of the SD of the k scores (ddof=1); ``icc_1_1`` and
    ``icc_1_k`` with their F intervals (NaN when the scores do not vary at all, or n < 2)."""
    m = np.asarray(matrix, dtype=float)
    if m.ndim != 2:
        raise DataError("repeat scores must be a samples x repeats table")
    m = m[np.all(np.isfinite(m), axis=1)] if m.size else m
    n, k = (m.shape if m.size else (0, m.shape[1] if m.ndim == 2 else 0))
    nan = float("nan")
    out: dict[str, Any] = {"n": int(n), "k": int(k), "share_agreeing": nan, "mean_within_sd": nan,
                           "icc_1_1": nan, "icc_1_1_ci": [nan, nan], "icc_1_k": nan, "icc_1_k_ci": [nan, nan]}
    if n == 0 or k < 2:
        return out
    out["share_agreeing"] = float(np.mean(np.all(m == m[:, :1], axis=1)))
    out["mean_within_sd"] = float(np.mean(np.std(m, axis=1, ddof=1)))
    if n < 2:
        return out
    row_means = m.mean(axis=1)
    msb = k * float(np.sum((row_means - m.mean()) ** 2)) / (n - 1)
    msw = float(np.sum((m - row_means[:, None]) ** 2)) / (n * (k - 1))
    if msb == 0 and msw == 0:
        return out  # no variation at all: reliability is undefined, not 1
    out["icc_1_1"] = (msb - msw) / (msb + (k - 1) * msw)
    out["icc_1_k"] = (msb - msw) / msb if msb > 0 else nan
    if msw > 0:
        fobs = msb / msw
        df1, df2 = n - 1, n * (k - 1)
        a = (1 - level) / 2
        f_lo = fobs / float(f_dist.ppf(1 - a, df1, df2))
        f_hi = fobs * float(f_dist.ppf(1 - a, df2, df1))
        out["icc_1_1_ci"] = [(f_lo - 1) / (f_lo + k - 1), (f_hi - 1) / (f_hi + k - 1)]
        out["icc_1_k_ci"] = [1 - 1 / f_lo if f_lo > 0 else -math.inf, 1 - 1 / f_hi if f_hi > 0 else -math.inf]
    else:  # every sample's repeats agree exactly, samples differ: perfectly reliable
        out["icc_1_1_ci"] = [1.0, 1.0]
        out["icc_1_k_ci"] = [1.0, 1.0]
    return out


def repeats_for_power(diff_var: float, judge_sd: float, n_prompts: int, delta: float, *, alpha: float = 0.05,
                      power: float = 0.8, max_repeats: int = 64) -> int | None:
    """Repeats per call for a paired comparison of two models to reach ``power`` against a true
    difference ``delta``: the judge's noise (``judge_sd``, the mean within-sample SD of a
    ``--repeats`` run) enters the seeds power calculation (``stats.seeds.paired_power``) as the
    within-prompt variance of each model, averaged over K repeats; ``diff_var`` is the variance
    of the true per-prompt differences. None when no K up to ``max_repeats`` is enough (more
    prompts are needed, not more repeats).

    >>> repeats_for_power(0.05, 0.6, 200, 0.1)
    4
    """
    from .seeds import paired_power

    var = judge_sd ** 2
    return next((k for k in range(1, max_repeats + 1)
                 if paired_power(diff_var, var, var, n_prompts, k, delta, alpha) >= power), None)
