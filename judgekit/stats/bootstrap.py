"""Bootstrap confidence intervals that resample groups (prompts), not single items: several
images of one prompt are not independent evidence."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence

import numpy as np


def group_indices(groups: Sequence) -> list[np.ndarray]:
    """Row indices of each distinct group, in first-seen order."""
    index: dict = {}
    for i, g in enumerate(groups):
        index.setdefault(g, []).append(i)
    return [np.asarray(ix) for ix in index.values()]


def bootstrap_ci(
    values: Sequence[float],
    statistic: Callable[[np.ndarray], float] = np.mean,
    groups: Sequence | None = None,
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
    blocks = group_indices(groups) if groups is not None else [np.array([i]) for i in range(x.size)]
    rng = np.random.default_rng(seed)
    stats = np.empty(n_boot)
    for b in range(n_boot):
        pick = rng.integers(0, len(blocks), len(blocks))
        stats[b] = statistic(x[np.concatenate([blocks[i] for i in pick])])
    alpha = (1 - level) / 2
    return (float(np.quantile(stats, alpha)), float(np.quantile(stats, 1 - alpha)))


# --- helpers for statistics of several aligned arrays (agreement, calibration) -------------------


def resample_blocks(
    groups: Sequence | None, n: int, n_boot: int = 1000, seed: int = 0
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


def percentile_interval(replicates: np.ndarray, level: float = 0.95) -> tuple[float, float]:
    """Percentile interval of bootstrap replicates, ignoring undefined (NaN) ones.

    Returns NaNs when more than half of the replicates are undefined: an interval made of the
    few defined ones would be misleadingly narrow.
    """
    r = np.asarray(replicates, dtype=float)
    ok = r[np.isfinite(r)]
    if ok.size == 0 or ok.size < 0.5 * r.size:
        return (float("nan"), float("nan"))
    alpha = (1 - level) / 2
    return (float(np.quantile(ok, alpha)), float(np.quantile(ok, 1 - alpha)))
