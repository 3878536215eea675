"""Agreement between a scorer (a judge, a metric, one human) and human ratings.

Plain statistics on aligned arrays (each returns NaN when undefined, e.g. for constant scores,
instead of raising), and :func:`agreement` / :func:`human_ceiling`, which compute the whole set
with bootstrap CIs that resample prompts.

>>> round(spearman([1, 2, 3, 4], [1, 3, 2, 4]), 3)
0.8
>>> quadratic_weighted_kappa([1, 2, 3], [1, 2, 3], levels=[1, 2, 3])
1.0
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike

from ..errors import ConfigError
from .bootstrap import percentile_interval, resample_blocks
from .estimates import Estimate
from .means import order_free_mean, order_free_row_means

#: The item-level statistics, in report order (names as in the JSON report).
STATISTICS = (
    "pearson",
    "spearman",
    "kendall_tau_b",
    "kendall_tau_c",
    "qwk",
    "krippendorff_alpha",
    "krippendorff_alpha_ordinal",
    "pairwise_accuracy",
)
#: Statistics on the correlation scale, averaged through Fisher's z.
CORRELATION_LIKE = frozenset(STATISTICS) - {"pairwise_accuracy"}


# --- correlations --------------------------------------------------------------------------------


def pearson(x: ArrayLike, y: ArrayLike) -> float:
    xa, ya = np.asarray(x, float), np.asarray(y, float)
    if xa.size < 2:
        return float("nan")
    xc, yc = xa - xa.mean(), ya - ya.mean()
    den = np.sqrt((xc * xc).sum() * (yc * yc).sum())
    # A relative threshold: float noise on a constant column must not look like variance.
    if den <= 1e-12 * max(1.0, np.abs(xa).max() * np.abs(ya).max() * xa.size):
        return float("nan")
    return float(np.clip((xc * yc).sum() / den, -1.0, 1.0))


def average_ranks(x: ArrayLike) -> np.ndarray:
    """Ranks 1..n with ties sharing their average rank (as ``scipy.stats.rankdata``)."""
    _, inv, counts = np.unique(np.asarray(x, float), return_inverse=True, return_counts=True)
    ends = np.cumsum(counts)
    return (ends - (counts - 1) / 2)[inv.ravel()]


def spearman(x: ArrayLike, y: ArrayLike) -> float:
    """Pearson of average ranks (the tie-corrected Spearman rho)."""
    return pearson(average_ranks(x), average_ranks(y))


def _kendall_s(x: np.ndarray, y: np.ndarray) -> float:
    """Concordant minus discordant pairs, in O(n k) for k distinct values of the coarser
    variable (a Likert scale has few), without forming the n^2 pairs."""
    ux, xi = np.unique(x, return_inverse=True)
    uy, yi = np.unique(y, return_inverse=True)
    if uy.size > ux.size:  # S is symmetric: let y be the variable with fewer levels
        xi, yi, ux, uy = yi, xi, uy, ux
    xi, yi = xi.ravel(), yi.ravel()
    order = np.lexsort((yi, xi))
    xs, ys = xi[order], yi[order]
    n, k = xs.size, uy.size
    onehot = np.zeros((n + 1, k))
    onehot[np.arange(1, n + 1), ys] = 1.0
    before = np.cumsum(onehot, axis=0)  # before[j] = level counts among the first j items
    start = np.searchsorted(xs, xs, side="left")  # items before i's x-tie block have smaller x
    counts = np.cumsum(before[start], axis=1)  # counts[i, l] = earlier items with level <= l
    idx = np.arange(n)
    less = np.where(ys > 0, counts[idx, np.maximum(ys - 1, 0)], 0.0)
    greater = start - counts[idx, ys]
    return float((less - greater).sum())


def _tie_pairs(v: np.ndarray) -> float:
    _, c = np.unique(v, return_counts=True)
    return float((c * (c - 1) / 2).sum())


def kendall_tau_b(x: ArrayLike, y: ArrayLike) -> float:
    """Kendall's tau-b: ties corrected on both sides; the usual choice on equal scales."""
    xa, ya = np.asarray(x, float), np.asarray(y, float)
    if xa.size < 2 or np.ptp(xa) == 0 or np.ptp(ya) == 0:
        return float("nan")
    n0 = xa.size * (xa.size - 1) / 2
    return float(_kendall_s(xa, ya) / np.sqrt((n0 - _tie_pairs(xa)) * (n0 - _tie_pairs(ya))))


def kendall_tau_c(x: ArrayLike, y: ArrayLike) -> float:
    """Stuart's tau-c: for two scales with different numbers of levels (a 0-1 judge vs 1-5)."""
    xa, ya = np.asarray(x, float), np.asarray(y, float)
    if xa.size < 2 or np.ptp(xa) == 0 or np.ptp(ya) == 0:
        return float("nan")
    m = min(np.unique(xa).size, np.unique(ya).size)
    return float(2 * _kendall_s(xa, ya) / (xa.size**2 * (m - 1) / m))


def kendall_taus(x: ArrayLike, y: ArrayLike) -> tuple[float, float]:
    """``(tau_b, tau_c)`` from one count of concordant minus discordant pairs."""
    xa, ya = np.asarray(x, float), np.asarray(y, float)
    if xa.size < 2 or np.ptp(xa) == 0 or np.ptp(ya) == 0:
        return float("nan"), float("nan")
    big_s = _kendall_s(xa, ya)
    n0 = xa.size * (xa.size - 1) / 2
    m = min(np.unique(xa).size, np.unique(ya).size)
    tau_b = big_s / np.sqrt((n0 - _tie_pairs(xa)) * (n0 - _tie_pairs(ya)))
    return float(tau_b), float(2 * big_s / (xa.size**2 * (m - 1) / m))


def fisher_z_mean(values: ArrayLike, weights: ArrayLike | None = None) -> float:
    """Average correlations through Fisher's z (arctanh, weighted mean, tanh); NaNs skipped.

    >>> round(fisher_z_mean([0.5, 0.9]), 4)
    0.7661
    """
    r = np.asarray(values, float)
    w = np.ones_like(r) if weights is None else np.asarray(weights, float)
    ok = np.isfinite(r) & (w > 0)
    if not ok.any():
        return float("nan")
    z = np.arctanh(np.clip(r[ok], -0.999999, 0.999999))
    return float(np.tanh(np.average(z, weights=w[ok])))


# --- mapping onto the human scale, kappa, Krippendorff --------------------------------------------


def linear_map(values: ArrayLike, source: tuple[float, float], target: tuple[float, float]) -> np.ndarray:
    """Map ``source`` range linearly onto ``target`` (a constant source maps to the midpoint)."""
    v = np.asarray(values, float)
    (a, b), (c, d) = source, target
    if b == a:
        return np.full_like(v, (c + d) / 2)
    return c + (v - a) * (d - c) / (b - a)


def to_levels(values: ArrayLike, levels: ArrayLike) -> np.ndarray:
    """Round each value to the nearest of ``levels`` (halves go up)."""
    lv = np.sort(np.asarray(levels, float))
    v = np.asarray(values, float)
    mids = (lv[1:] + lv[:-1]) / 2
    return lv[np.searchsorted(mids, v, side="right")]


def quadratic_weighted_kappa(a: ArrayLike, b: ArrayLike, levels: ArrayLike) -> float:
    """Cohen's kappa with quadratic weights between two ratings already on ``levels``."""
    lv = np.sort(np.asarray(levels, float))
    k = lv.size
    ia, ib = np.searchsorted(lv, np.asarray(a, float)), np.searchsorted(lv, np.asarray(b, float))
    if ia.size == 0 or k < 2:
        return float("nan")
    obs = np.zeros((k, k))
    np.add.at(obs, (ia, ib), 1.0)
    exp = np.outer(obs.sum(1), obs.sum(0)) / ia.size
    w = (np.arange(k)[:, None] - np.arange(k)[None, :]) ** 2
    den = (w * exp).sum()
    return float(1 - (w * obs).sum() / den) if den > 0 else float("nan")


def krippendorff_alpha(ratings: ArrayLike, level: str = "interval", levels: ArrayLike | None = None) -> float:
    """Krippendorff's alpha of a ``(raters, units)`` matrix with NaN for a missing rating.

    ``level`` is ``"interval"`` (squared differences), ``"ordinal"`` (differences of cumulative
    frequencies; the values are taken as ranked categories) or ``"nominal"`` (any two different
    values disagree equally: pass/fail, A/B/tie). Units with fewer than two ratings carry no
    information and are skipped, as in the definition.

    >>> round(krippendorff_alpha([[0, 1, 0, 1], [0, 1, 1, 1]], "nominal"), 3)
    0.533
    """
    m = np.asarray(ratings, float)
    pairable = np.isfinite(m).sum(0) >= 2
    m = m[:, pairable]
    vals = m[np.isfinite(m)]
    if vals.size < 2:
        return float("nan")
    if level == "interval":
        mu = np.isfinite(m).sum(0)
        s1, s2 = np.nansum(m, 0), np.nansum(m * m, 0)
        d_within = (2 * (mu * s2 - s1**2) / (mu - 1)).sum()
        n = vals.size
        d_total = 2 * (n * (vals**2).sum() - vals.sum() ** 2) / (n - 1)
        return float(1 - d_within / d_total) if d_total > 0 else float("nan")
    if level not in ("ordinal", "nominal"):
        raise ConfigError(f"level must be 'interval', 'ordinal' or 'nominal', not {level!r}")
    # A value off the declared levels (the mean of a rater's two ratings of one item, 3.5 on a
    # 1-5 scale) is its own ordered category between its neighbours: left out of the domain it
    # would leave its unit with too few counted values and make alpha undefined.
    domain = np.unique(vals) if levels is None else np.union1d(np.asarray(levels, float), vals)
    # The coincidence matrix: how often value c meets value k within a unit, over all pairable units.
    counts = np.stack([(m == v).sum(0) for v in domain], axis=1).astype(float)  # units x values
    w = counts / (counts.sum(1) - 1)[:, None]
    coinc = counts.T @ w - np.diag(w.sum(0))
    n_c = coinc.sum(1)
    n = n_c.sum()
    if level == "nominal":
        delta2 = 1.0 - np.eye(domain.size)
    else:
        cum = np.cumsum(n_c)
        i, j = np.meshgrid(np.arange(domain.size), np.arange(domain.size), indexing="ij")
        lo, hi = np.minimum(i, j), np.maximum(i, j)
        between = cum[hi] - np.where(lo > 0, cum[lo - 1], 0.0)
        delta2 = (between - (n_c[i] + n_c[j]) / 2) ** 2
    d_o = (coinc * delta2).sum() / n
    d_e = (np.outer(n_c, n_c) * delta2).sum() / (n * (n - 1))
    return float(1 - d_o / d_e) if d_e > 0 else float("nan")


# --- pairwise accuracy with ties (Deutsch et al. 2023) ------------------------------------------


def within_group_pairs(groups: ArrayLike) -> tuple[np.ndarray, np.ndarray]:
    """All index pairs ``(i, j)``, ``i < j`` in input order, of items that share a group."""
    g = np.asarray(groups)
    order = np.argsort(g, kind="stable")
    gs = g[order]
    starts = np.flatnonzero(np.r_[True, gs[1:] != gs[:-1]])
    sizes = np.diff(np.r_[starts, gs.size])
    a_parts, b_parts = [], []
    for k in np.unique(sizes):
        if k < 2:
            continue
        ti, tj = np.triu_indices(k, 1)
        s = starts[sizes == k][:, None]
        a_parts.append((s + ti).ravel())
        b_parts.append((s + tj).ravel())
    if not a_parts:
        return np.array([], int), np.array([], int)
    return order[np.concatenate(a_parts)], order[np.concatenate(b_parts)]


def pairwise_accuracy_from_diffs(d_scorer: ArrayLike, d_human: ArrayLike) -> tuple[float, float]:
    """``(acc_eq, epsilon)`` over pairs, with the scorer's tie threshold chosen to maximize it.

    A pair counts when both sides call it a tie (human difference 0, scorer ``|d| <= epsilon``)
    or both order it the same way. Trying every observed ``|d|`` as epsilon is exact because
    acc_eq only changes there. The tuned epsilon makes the statistic optimistic on the data it
    was tuned on; the bootstrap re-tunes it in every replicate, so the CI carries that choice.
    """
    ds, dh = np.asarray(d_scorer, float), np.asarray(d_human, float)
    if ds.size == 0:
        return float("nan"), float("nan")
    sh = np.sign(dh)
    absd = np.abs(ds)
    order = np.argsort(absd, kind="stable")
    absd, sh, ss = absd[order], sh[order], np.sign(ds[order])
    human_tie = sh == 0
    concordant = (~human_tie) & (ss == sh)
    # Tying the first k pairs: gain the human ties among them, lose their concordant pairs.
    gain = np.r_[0, np.cumsum(human_tie)]
    loss = np.r_[0, np.cumsum(concordant)]
    # Valid cut points: k = 0 (eps below every |d|) or after the last of a run of equal |d|.
    ends = np.r_[np.flatnonzero(absd[1:] != absd[:-1]) + 1, absd.size]
    cuts = np.r_[0, ends] if absd[0] > 0 else ends
    score = gain[cuts] + concordant.sum() - loss[cuts]
    best = int(np.argmax(score))
    k = cuts[best]
    eps = 0.0 if k == 0 else float(absd[k - 1])
    return float(score[best] / ds.size), eps


def pairwise_accuracy(scorer: ArrayLike, human: ArrayLike, groups: ArrayLike | None = None) -> tuple[float, float]:
    """Pairwise accuracy with ties over pairs of items in the same group (all pairs if none)."""
    s, h = np.asarray(scorer, float), np.asarray(human, float)
    a, b = within_group_pairs(np.zeros(s.size) if groups is None else groups)
    return pairwise_accuracy_from_diffs(s[a] - s[b], h[a] - h[b])


def system_level(
    scorer: ArrayLike,
    human: ArrayLike,
    models: ArrayLike,
    statistic: Callable[[ArrayLike, ArrayLike], float] = spearman,
) -> float:
    """Rank agreement of per-model means (how well the scorer orders the models)."""
    m = np.asarray(models)
    names = list(dict.fromkeys(m.tolist()))
    # Order-free means: two models with equal means must tie exactly, whatever the item order.
    sm = [order_free_mean(np.asarray(scorer, float)[m == k]) for k in names]
    hm = [order_free_mean(np.asarray(human, float)[m == k]) for k in names]
    return statistic(sm, hm)


# --- the whole set, with bootstrap CIs ------------------------------------------------------------


@dataclass
class HumanScale:
    """The human scale: its discrete levels (for kappa and ordinal alpha)."""

    levels: np.ndarray

    @property
    def range(self) -> tuple[float, float]:
        return float(self.levels.min()), float(self.levels.max())


def item_statistics(
    s: np.ndarray,
    h: np.ndarray,
    alpha_rows: np.ndarray | None,
    groups: np.ndarray,
    scale: HumanScale,
    s_range: tuple[float, float],
    same_item: np.ndarray | None = None,
) -> dict[str, float]:
    """All item-level statistics of scorer ``s`` against human values ``h`` (one pass)."""
    out = {
        "pearson": pearson(s, h),
        "spearman": spearman(s, h),
    }
    out["kendall_tau_b"], out["kendall_tau_c"] = kendall_taus(s, h)
    mapped = linear_map(s, s_range, scale.range)
    s_lv, h_lv = to_levels(mapped, scale.levels), to_levels(h, scale.levels)
    out["qwk"] = quadratic_weighted_kappa(s_lv, h_lv, scale.levels)
    if alpha_rows is None:  # the scorer joins the human raters as one more rater
        out["krippendorff_alpha"] = out["krippendorff_alpha_ordinal"] = float("nan")
    else:
        out["krippendorff_alpha"] = krippendorff_alpha(np.vstack([alpha_rows, mapped]), "interval")
        out["krippendorff_alpha_ordinal"] = krippendorff_alpha(
            np.vstack([alpha_rows, s_lv]), "ordinal", scale.levels
        )
    a, b = within_group_pairs(groups)
    if same_item is not None:  # never pair an item with its own bootstrap copy
        keep = same_item[a] != same_item[b]
        a, b = a[keep], b[keep]
    acc, eps = pairwise_accuracy_from_diffs(s[a] - s[b], h[a] - h[b])
    out["pairwise_accuracy"], out["_epsilon"] = acc, eps
    return out


def pair_groups(groups: np.ndarray) -> np.ndarray:
    """Pairs are formed within prompts; with one item per prompt, across all items."""
    _, counts = np.unique(groups, return_counts=True)
    return groups if (counts > 1).any() else np.zeros_like(groups)


def _undefined_note(s: np.ndarray, h: np.ndarray) -> str:
    if np.ptp(s) == 0:
        return "undefined: the scorer gives every item the same score"
    if np.ptp(h) == 0:
        return "undefined: the human ratings are constant"
    return "undefined on these data"


def agreement(
    scorer: ArrayLike,
    ratings: ArrayLike,
    groups: ArrayLike,
    scale: HumanScale,
    *,
    models: ArrayLike | None = None,
    scorer_range: tuple[float, float] | None = None,
    n_boot: int = 1000,
    seed: int = 0,
    level: float = 0.95,
) -> dict[str, Estimate]:
    """Item-level agreement of ``scorer`` (n,) with the mean of ``ratings`` (n, raters; NaN =
    missing), plus ``system_level`` when ``models`` is given. CIs resample ``groups``."""
    s = np.asarray(scorer, float)
    r = np.asarray(ratings, float)
    h = order_free_row_means(r)  # equal ratings in other rater columns tie exactly
    g = np.asarray(groups)
    pg = pair_groups(g)
    rng_s = scorer_range or (float(s.min()), float(s.max()))
    alpha_rows = r.T if r.shape[1] >= 1 else None
    point = item_statistics(s, h, alpha_rows, pg, scale, rng_s)
    names = list(STATISTICS)
    reps = np.full((n_boot, len(names) + 1), np.nan)
    mods = None if models is None else np.asarray(models)
    for b, (rows, block) in enumerate(resample_blocks(g, s.size, n_boot, seed)):
        pair_g = block if pg is g else np.zeros_like(block)
        boot_alpha = None if alpha_rows is None else alpha_rows[:, rows]
        st = item_statistics(s[rows], h[rows], boot_alpha, pair_g, scale, rng_s, rows)
        reps[b, : len(names)] = [st[k] for k in names]
        if mods is not None:
            reps[b, -1] = system_level(s[rows], h[rows], mods[rows])
    out: dict[str, Estimate] = {}
    for i, k in enumerate(names):
        note = "" if np.isfinite(point[k]) else _undefined_note(s, h)
        est = Estimate.from_interval(point[k], percentile_interval(reps[:, i], level), s.size, note=note,
                                     replicates=reps[:, i])
        if k == "pairwise_accuracy":
            est.extra = {"epsilon": point["_epsilon"], "pairs": int(within_group_pairs(pg)[0].size)}
        out[k] = est
    if mods is not None:
        v = system_level(s, h, mods)
        n_models = len(set(mods.tolist()))
        out["system_spearman"] = Estimate.from_interval(
            v, percentile_interval(reps[:, -1], level), n_models,
            note="" if np.isfinite(v) else "undefined: fewer than 2 models or constant model means",
        )
    return out
