"""The human ceiling: each rater against the mean of the other raters, with the statistics any
scorer gets, so a judge's agreement can be read against how well people agree with each other."""

from __future__ import annotations

from typing import Any

import numpy as np
from numpy.typing import ArrayLike

from .agreement import (
    CORRELATION_LIKE,
    STATISTICS,
    HumanScale,
    fisher_z_mean,
    item_statistics,
    krippendorff_alpha,
    pair_groups,
)
from .bootstrap import percentile_interval, resample_blocks
from .estimates import Estimate
from .means import order_free_row_means


def human_ceiling(
    ratings: ArrayLike,
    groups: ArrayLike,
    scale: HumanScale,
    *,
    scorer: ArrayLike | None = None,
    scorer_range: tuple[float, float] | None = None,
    n_boot: int = 1000,
    seed: int = 0,
    level: float = 0.95,
) -> dict[str, Any] | None:
    """Each rater against the mean of the other raters, with the same statistics.

    Returns ``None`` when there are fewer than two raters. Correlation-like statistics are
    averaged over raters through Fisher's z, pairwise accuracy arithmetically; Krippendorff's
    alpha is the humans' own alpha (no scorer added). The per-rater values are kept too.

    With ``scorer`` the same computation puts the scorer in each rater's place (same items, same
    reference: the mean of the other raters), so the result compares with the ceiling exactly;
    alpha is left out there.
    """
    r = np.asarray(ratings, float)
    if r.ndim != 2 or r.shape[1] < 2 or (np.isfinite(r).sum(1) >= 2).sum() == 0:
        return None
    g = np.asarray(groups)
    pg = pair_groups(g)
    sc = None if scorer is None else np.asarray(scorer, float)
    rng_s = scale.range if sc is None else (scorer_range or (float(sc.min()), float(sc.max())))
    stat_names = STATISTICS if sc is None else tuple(k for k in STATISTICS if not k.startswith("krippendorff"))

    # Each item's mean of the other raters, once (a bootstrap draws whole items, so it only
    # indexes these), summed order-free so equal ratings in other columns tie exactly.
    others_mean = [order_free_row_means(np.delete(r, j, axis=1)) for j in range(r.shape[1])]

    def one_pass(
        rows: np.ndarray, pair_g: np.ndarray, same_item: np.ndarray | None
    ) -> tuple[dict[str, float], list[dict[str, float]]]:
        rr = r[rows]
        per_rater: list[dict[str, float]] = []
        for j in range(rr.shape[1]):
            x = rr[:, j]
            others = np.delete(rr, j, axis=1)
            cnt = np.isfinite(others).sum(1)
            ok = np.isfinite(x) & (cnt >= 1)
            if ok.sum() < 2:
                continue
            y = others_mean[j][rows][ok]
            si = None if same_item is None else same_item[ok]
            xs = x[ok] if sc is None else sc[rows][ok]
            st = item_statistics(xs, y, None, pair_g[ok], scale, rng_s, si)
            st["_n"], st["_rater"] = int(ok.sum()), j
            per_rater.append(st)
        agg: dict[str, float] = {}
        for k in stat_names:
            vals = [p[k] for p in per_rater]
            if k in CORRELATION_LIKE:
                agg[k] = fisher_z_mean(vals)
            else:
                agg[k] = float(np.mean(vals)) if vals and np.isfinite(vals).all() else float("nan")
        if sc is None:
            agg["krippendorff_alpha"] = krippendorff_alpha(rr.T, "interval")
            agg["krippendorff_alpha_ordinal"] = krippendorff_alpha(rr.T, "ordinal", scale.levels)
        return agg, per_rater

    all_rows = np.arange(r.shape[0])
    point, per_rater = one_pass(all_rows, pg, None)
    reps = np.full((n_boot, len(stat_names)), np.nan)
    for b, (rows, block) in enumerate(resample_blocks(g, r.shape[0], n_boot, seed)):
        agg, _ = one_pass(rows, block if pg is g else np.zeros_like(block), rows)
        reps[b] = [agg[k] for k in stat_names]
    out: dict[str, Any] = {
        k: Estimate.from_interval(point[k], percentile_interval(reps[:, i], level), r.shape[0], replicates=reps[:, i])
        for i, k in enumerate(stat_names)
    }
    keep = (*stat_names, "_n", "_rater")
    out["per_rater"] = [{k: p[k] for k in keep if k in p} for p in per_rater]
    return out
