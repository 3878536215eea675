"""Means that do not depend on the order of their inputs.

Floating-point addition is not associative: 0.7071 + 1 + 0.7071 and 1 + 0.7071 + 0.7071 can
differ in the last bit. When means are ranked afterwards (Spearman, Kendall, pairwise accuracy,
per-model orderings), such a difference breaks what should be an exact tie, and the statistic
then depends on the order of rater files or rows. Summing the values in sorted order makes equal
multisets give bit-identical means.

>>> order_free_mean([0.5 ** 0.5, 1.0, 0.5 ** 0.5]) == order_free_mean([1.0, 0.5 ** 0.5, 0.5 ** 0.5])
True
"""

from __future__ import annotations

import math

import numpy as np
from numpy.typing import ArrayLike

from ..errors import InputError


def order_free_mean(values: ArrayLike) -> float:
    """The mean of the finite values, correctly rounded (``math.fsum`` is exact, so the result
    is the same for any order); NaN when there are none."""
    v = np.asarray(values, float).ravel()
    v = v[np.isfinite(v)]
    return math.fsum(v.tolist()) / v.size if v.size else float("nan")


def order_free_row_means(matrix: ArrayLike) -> np.ndarray:
    """Mean of each row over its finite entries (NaN = missing), summed in sorted order so that
    two rows holding the same values in different columns get bit-identical means; NaN for a
    row with no value (without numpy's empty-slice warning)."""
    m = np.asarray(matrix, float)
    if m.ndim != 2:
        raise InputError(f"order_free_row_means expects a 2-d array, got {m.ndim} dimension(s)")
    finite = np.isfinite(m)
    counts = finite.sum(1)
    ordered = np.sort(np.where(finite, m, np.inf), axis=1)  # missing entries last
    sums = np.where(np.isfinite(ordered), ordered, 0.0).sum(1)
    out = np.full(m.shape[0], np.nan)
    np.divide(sums, counts, out=out, where=counts > 0)
    return out
