"""The bootstrap: resampling groups (prompts), not single items, because several images of one
prompt are not independent evidence; and the one rule for undefined replicates.

Every interval in judgekit is made here: ``resample_blocks`` draws the replicates (results,
agreement, calibration), ``grouped_mean_replicates`` draws means of group resamples without
materialising them (ratings), and ``percentile_interval`` turns replicates into an interval with
the NaN rule: undefined replicates are ignored, and when more than half are undefined the
interval itself is undefined (an interval from the few defined ones would be misleadingly narrow).
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator, Sequence
from typing import Any

import numpy as np
from numpy.typing import ArrayLike

from ..errors import DataError

#: Bootstrap draws when the caller does not say: ``Results.summary()``, ``judgekit score`` and
#: ``judgekit summary`` all use it, so one file shows one interval wherever it is summarised.
DEFAULT_N_BOOT = 1000

#: Group labels (prompt ids), one per item: a list or a 1-d array. Not ``ArrayLike``: a group
#: list must have a length and be iterable item by item.
Groups = Sequence[Any] | np.ndarray


def one_blas_thread() -> Any:
    """Bootstrap loops make thousands of tiny BLAS calls (inside L-BFGS-B and small products);
    multi-threaded OpenBLAS only adds spin-waiting to those, and on a busy machine it made them
    ten times slower. Limit BLAS to one thread while they run, when threadpoolctl is present."""
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:  # pragma: no cover - a core dependency
        return contextlib.nullcontext()
    return threadpool_limits(limits=1, user_api="blas")


def group_indices(groups: Groups) -> list[np.ndarray]:
    """Row indices of each distinct group, in first-seen order."""
    index: dict[Any, list[int]] = {}
    for i, g in enumerate(groups):
        index.setdefault(g, []).append(i)
    return [np.asarray(ix) for ix in index.values()]


def bootstrap_ci(
    values: ArrayLike,
    statistic: Callable[[np.ndarray], float] = np.mean,
    groups: Groups | None = None,
    n_boot: int = 1000,
    level: float = 0.95,
    seed: int = 0,
) -> tuple[float, float]:
    """Percentile bootstrap CI of ``statistic(values)``, resampling whole groups when given.

    >>> lo, hi = bootstrap_ci([1, 2, 3, 4, 5], seed=0)
    >>> lo < 3 < hi
    True
    """
    x = np.asarray(values, dtype=float)
    if x.size == 0:
        return (float("nan"), float("nan"))
    if statistic is np.mean:
        # The mean's replicates without materialising resamples (``estimates.likert_mean`` and
        # every summary come here, so one run shows one interval for one mean).
        with one_blas_thread():
            reps = grouped_mean_replicates(x, group_codes(groups, x.size), n_boot, np.random.default_rng(seed))
        return percentile_interval(reps, level)
    stats = np.array([statistic(x[rows]) for rows, _ in resample_blocks(groups, x.size, n_boot, seed)], dtype=float)
    return percentile_interval(stats, level)


# --- helpers for statistics of several aligned arrays (agreement, calibration) -------------------


def resample_blocks(
    groups: Groups | None, n: int, n_boot: int = 1000, seed: int = 0
) -> Iterator[tuple[np.ndarray, np.ndarray]]:
    """Yield ``(rows, block_of_row)`` for each bootstrap replicate, resampling whole groups.

    ``rows`` indexes the original data; ``block_of_row`` numbers the drawn copy each row came
    from, so a prompt drawn twice counts as two distinct prompts (pairs are never formed between
    the two copies of one item). The same ``seed`` gives the same draws for every scorer, which
    makes comparisons between scorers paired.

    >>> reps = list(resample_blocks(["a", "a", "b"], 3, n_boot=2, seed=0))
    >>> len(reps), all(len(r) == len(b) for r, b in reps)
    (2, True)
    """
    blocks = group_indices(groups) if groups is not None else [np.array([i]) for i in range(n)]
    rng = np.random.default_rng(seed)
    flat = np.concatenate(blocks) if blocks else np.array([], dtype=int)
    sizes = np.array([len(b) for b in blocks])
    starts = np.cumsum(np.r_[0, sizes[:-1]]) if blocks else sizes
    for _ in range(n_boot):
        pick = rng.integers(0, len(blocks), len(blocks))
        lens = sizes[pick]
        # Vectorized concatenation of the drawn blocks: position p of the draw reads
        # flat[p + (start of its block - start of its slot in the draw)].
        shift = np.repeat(starts[pick] - np.cumsum(np.r_[0, lens[:-1]]), lens)
        rows = flat[np.arange(lens.sum()) + shift]
        yield rows, np.repeat(np.arange(len(pick)), lens)


def percentile_interval(replicates: ArrayLike, level: float = 0.95) -> tuple[float, float]:
    """Percentile interval of bootstrap replicates, ignoring undefined (NaN) ones.

    Returns NaNs when more than half of the replicates are undefined: an interval made of the
    few defined ones would be misleadingly narrow.
    """
    lo, hi = percentile_intervals(np.asarray(replicates, dtype=float).reshape(-1, 1), level)
    return float(lo[0]), float(hi[0])


def percentile_intervals(replicates: ArrayLike, level: float = 0.95) -> tuple[np.ndarray, np.ndarray]:
    """``percentile_interval`` of each column of a (replicates, k) array, same NaN rule."""
    r = np.asarray(replicates, dtype=float)
    alpha = (1 - level) / 2
    finite = np.isfinite(r)
    lo = np.full(r.shape[1], np.nan)
    hi = np.full(r.shape[1], np.nan)
    for j in range(r.shape[1]):
        ok = r[finite[:, j], j]
        if ok.size and ok.size >= 0.5 * r.shape[0]:
            lo[j], hi[j] = np.quantile(ok, alpha), np.quantile(ok, 1 - alpha)
    return lo, hi


def group_codes(groups: Groups | None, n: int) -> np.ndarray:
    """Integer code of each item's group (each item its own group when ``groups`` is None)."""
    if groups is None:
        return np.arange(n)
    if len(groups) != n:
        raise DataError(f"groups has {len(groups)} entries for {n} values")
    return np.unique(np.asarray([str(g) for g in groups], dtype=object), return_inverse=True)[1]


def grouped_mean_replicates(x: np.ndarray, codes: np.ndarray, n_boot: int, rng: np.random.Generator) -> np.ndarray:
    """Means of ``n_boot`` resamples of whole groups: each resample draws G groups with
    replacement, i.e. multinomial weights over groups, so a resampled mean is
    sum(w * group sums) / sum(w * group sizes) -- no per-round concatenation."""
    sums = np.bincount(codes, weights=x)
    sizes = np.bincount(codes).astype(float)
    g = sums.size
    out = np.empty(n_boot)
    step = max(1, 2_000_000 // max(g, 1))  # bound the weight matrix at ~16 MB
    p = np.full(g, 1.0 / g)
    for s in range(0, n_boot, step):
        w = rng.multinomial(g, p, size=min(step, n_boot - s)).astype(float)
        out[s : s + w.shape[0]] = (w @ sums) / (w @ sizes)
    return out
