"""Accuracy of a judge on human pairwise labels with ties (A better, B better, tie), the way
Deutsch et al. (2023, "Ties Matter") define it, with bootstrap CIs over prompts.

Each human label is one row: a pair item and the rater's outcome ``h`` in {+1 (first model
better), 0 (tie), -1}. The judge gives each pair item a value ``d``:

- a *pairwise* judge gives its own outcome (+1, 0, -1; "inconsistent" across orders is a tie), and
  its tie-aware accuracy is the share of label rows where ``sign(d) == h``;
- a *pointwise* judge gives the difference of its two scores, and a tie needs a threshold: the
  judge ties when ``|d| <= epsilon``, with epsilon chosen to maximize the accuracy
  (``agreement.pairwise_accuracy_from_diffs``, the acc_eq with tie calibration). The choice is
  optimistic on the data it is tuned on; the bootstrap re-tunes it in every draw.

The human figure next to it is the same accuracy for a human predicting another human: over every
ordered pair of two different raters' labels of one item, the share that agree (three ways).
All three estimate "agrees with one human label", so they sit side by side.

>>> tie_aware_accuracy([1, 0, -1, 1], [1, 0, 1, 0])
0.5
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike

from ..errors import InputError
from .agreement import pairwise_accuracy_from_diffs
from .bootstrap import Groups, percentile_interval, resample_blocks
from .estimates import Estimate


def tie_aware_accuracy(judge: ArrayLike, human: ArrayLike) -> float:
    """Share of rows where the judge's outcome (sign of ``judge``) equals the human's (sign of
    ``human``), ties included: Deutsch et al.'s acc_eq for a judge that gives its own ties."""
    j, h = np.sign(np.asarray(judge, float)), np.sign(np.asarray(human, float))
    if j.shape != h.shape:
        raise InputError(f"judge and human outcomes differ in length: {j.size} vs {h.size}")
    return float((j == h).mean()) if j.size else float("nan")


def human_agreement(items: ArrayLike, human: ArrayLike) -> tuple[float, int]:
    """(share of agreeing ordered pairs of two labels of the same item, number of such pairs).

    Labels of one item are counted per outcome: an item with counts n_c has sum n_c (n_c - 1)
    agreeing ordered pairs out of n (n - 1)."""
    it = np.asarray(items)
    h = np.sign(np.asarray(human, float))
    if it.size == 0:
        return float("nan"), 0
    _, item_code = np.unique(it, return_inverse=True)
    out_code = (h + 1).astype(int)  # 0, 1, 2
    cells = np.bincount(item_code * 3 + out_code, minlength=3 * (item_code.max() + 1)).reshape(-1, 3)
    n = cells.sum(axis=1)
    pairs = float((n * (n - 1)).sum())
    agree = float((cells * (cells - 1)).sum())
    return (agree / pairs if pairs else float("nan")), int(pairs)


def pair_accuracy(
    judge: ArrayLike,
    human: ArrayLike,
    groups: Groups,
    *,
    tune_epsilon: bool,
    n_boot: int = 1000,
    level: float = 0.95,
    seed: int = 0,
) -> Estimate:
    """Tie-aware accuracy of ``judge`` on ``human`` label rows (see the module docstring), with
    a percentile-bootstrap CI resampling ``groups`` (prompts). ``tune_epsilon=True`` for a
    pointwise judge's score differences: the estimate's ``extra["epsilon"]`` is the chosen tie
    threshold; ``False`` for a pairwise judge's own outcomes."""
    d, h = np.asarray(judge, float), np.asarray(human, float)
    if d.shape != h.shape or len(groups) != d.size:
        raise InputError(f"judge ({d.size}), human ({h.size}) and groups ({len(groups)}) must have one entry per label")
    if not np.isin(np.sign(h), (-1.0, 0.0, 1.0)).all() or not np.isfinite(d).all():
        raise InputError("judge values must be finite and human outcomes +1, 0 or -1")

    def stat(rows: np.ndarray) -> tuple[float, float]:
        if tune_epsilon:
            return pairwise_accuracy_from_diffs(d[rows], h[rows])
        return tie_aware_accuracy(d[rows], h[rows]), float("nan")

    value, eps = stat(np.arange(d.size))
    reps = np.array([stat(rows)[0] for rows, _ in resample_blocks(groups, d.size, n_boot, seed)], dtype=float)
    extra = {"epsilon": eps} if tune_epsilon else {}
    return Estimate.from_interval(value, percentile_interval(reps, level), d.size, level=level, method="bootstrap-prompt",
                                  extra=extra, replicates=reps)


def human_pair_agreement(
    items: ArrayLike, human: ArrayLike, groups: Groups, *, n_boot: int = 1000, level: float = 0.95, seed: int = 0
) -> Estimate | None:
    """``human_agreement`` with a bootstrap CI over prompts (a prompt drawn twice counts twice; its
    copies never pair with each other); None when no item has two labels. ``n`` counts the ordered
    label pairs."""
    it, h = np.asarray(items), np.asarray(human, float)
    if len(groups) != it.size or h.size != it.size:
        raise InputError("items, human outcomes and groups must have one entry per label")
    value, n_pairs = human_agreement(it, h)
    if n_pairs == 0:
        return None
    _, item_code = np.unique(it, return_inverse=True)
    reps = np.empty(n_boot)
    for b, (rows, block) in enumerate(resample_blocks(groups, it.size, n_boot, seed)):
        reps[b] = human_agreement(block * (item_code.max() + 1) + item_code[rows], h[rows])[0]
    return Estimate.from_interval(value, percentile_interval(reps, level), n_pairs, level=level,
                                  method="bootstrap-prompt", replicates=reps)
