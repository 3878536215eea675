"""Bootstrap confidence intervals that resample groups (prompts), not single items: several
images of one prompt are not independent evidence."""

from __future__ import annotations

from collections.abc import Callable, Sequence

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
