"""Sampling variance across seeds (pure numpy): how much of a model's score is the prompt, how
much the seed, and how many seeds a comparison needs.

The unit is the prompt: a model drew ``n_p`` images (seeds) of prompt ``p``, each scored on one
or several dimensions. The model behind the numbers is the nested random-effects one

    y[p, s, d] = mu_d + a_p + b_ps + e_psd,   var(a) = prompt, var(b) = seed, var(e) = residual

(``e`` exists only with several dimensions: what one dimension's score says about a sample that
the sample's mean over dimensions does not). The components come from moment (ANOVA)
estimators that allow unequal seeds per prompt and are clipped at 0; every statistic gets a
percentile bootstrap CI that resamples prompts, which is the right unit because prompts are
the independent draws and seeds are nested in them. ``resample="prompts+seeds"`` also redraws
seeds within each drawn prompt (a two-stage bootstrap; wider, and it shrinks the within-prompt
spread by about (n-1)/n, so it is not the default).

>>> g = [np.array([[1.0], [3.0]]), np.array([[4.0], [6.0]])]
>>> s = of_n(g)
>>> s["mean_of_n"], s["best_of_n"], s["worst_of_n"]
(3.5, 4.5, 2.5)
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np

from ..errors import InputError

# --- building the per-prompt tables ------------------------------------------------------------


def seed_groups(values: Any, prompts: Sequence[Any]) -> tuple[list[Any], list[np.ndarray]]:
    """Rows of ``values`` (``(n,)`` or ``(n, n_dims)``, NaN = dimension missing) grouped by
    prompt, in first-seen order: ``(prompt ids, [(n_seeds_p, n_dims) arrays])``."""
    v = np.asarray(values, dtype=float)
    if v.ndim == 1:
        v = v[:, None]
    if v.shape[0] != len(prompts):
        raise InputError(f"{v.shape[0]} rows of scores but {len(prompts)} prompt ids")
    index: dict[Any, list[int]] = {}
    for i, p in enumerate(prompts):
        index.setdefault(p, []).append(i)
    return list(index), [v[ix] for ix in index.values()]


def check_seeds(groups: Sequence[np.ndarray], what: str = "this model") -> None:
    """Spread across seeds needs a prompt with at least two seeds; say so instead of NaNs."""
    if not groups:
        raise InputError(f"{what}: no scored samples")
    if max(g.shape[0] for g in groups) < 2:
        raise InputError(
            f"{what}: every prompt has one seed, so the spread across seeds (best/worst of N, the "
            "seed variance) cannot be estimated; generate at least 2 images (seeds) per prompt"
        )


# --- per-prompt sufficient statistics (so the bootstrap is a weighted sum) ---------------------


def _prompt_stats(groups: Sequence[np.ndarray]) -> dict[str, np.ndarray]:
    """Per prompt: seeds n, mean, within-prompt sum of squares, best, worst, SD, range of the
    sample score (mean over its dimensions), and the dimension residual parts."""
    cols: dict[str, list[float]] = {k: [] for k in ("n", "mean", "ss", "best", "worst", "sd", "range",
                                                     "res_ss", "res_df", "inv_d")}  # fmt: skip
    for g in groups:
        ok = ~np.isnan(g)
        d = ok.sum(1)
        if (d == 0).any():
            raise InputError("a sample has no score on any dimension")
        m = np.nanmean(g, axis=1)  # the sample's score
        n = m.size
        cols["n"].append(n)
        cols["mean"].append(m.mean())
        cols["ss"].append(((m - m.mean()) ** 2).sum())
        cols["best"].append(m.max())
        cols["worst"].append(m.min())
        cols["sd"].append(m.std(ddof=1) if n > 1 else np.nan)
        cols["range"].append(m.max() - m.min())
        cols["res_ss"].append(np.nansum((g - m[:, None]) ** 2))
        cols["res_df"].append(float((d - 1).sum()))
        cols["inv_d"].append(float((1.0 / d).sum()))
    return {k: np.asarray(v, dtype=float) for k, v in cols.items()}


def _center_dimensions(groups: Sequence[np.ndarray]) -> list[np.ndarray]:
    """Remove each dimension's overall mean: a dimension that is scored higher on average is
    not variance between prompts or seeds."""
    allrows = np.concatenate(groups)
    mu = np.nanmean(allrows, axis=0)
    return [g - mu for g in groups]


def _stats_from(ps: dict[str, np.ndarray], w: np.ndarray) -> dict[str, np.ndarray]:
    """Every statistic for each row of prompt weights ``w`` (``(B, P)``; 1s = the data)."""
    tot = w.sum(1)
    mean_of = lambda x: (w * x).sum(1) / tot  # noqa: E731
    valid_sd = ~np.isnan(ps["sd"])
    wsd = w * valid_sd
    out = {
        "mean_of_n": mean_of(ps["mean"]),
        "best_of_n": mean_of(ps["best"]),
        "worst_of_n": mean_of(ps["worst"]),
        "sd": (wsd * np.nan_to_num(ps["sd"])).sum(1) / np.where(wsd.sum(1) > 0, wsd.sum(1), np.nan),
        "range": mean_of(ps["range"]),
    }
    n_samples = (w * ps["n"]).sum(1)
    within_df = (w * (ps["n"] - 1)).sum(1)
    within = (w * ps["ss"]).sum(1) / np.where(within_df > 0, within_df, np.nan)
    res_df = (w * ps["res_df"]).sum(1)
    residual = np.where(res_df > 0, (w * ps["res_ss"]).sum(1) / np.where(res_df > 0, res_df, 1), 0.0)
    inv_d = (w * ps["inv_d"]).sum(1) / n_samples
    seed = np.clip(within - residual * inv_d, 0, None)
    m = ps["mean"]
    mbar = out["mean_of_n"]
    var_means = ((w * m**2).sum(1) - tot * mbar**2) / np.where(tot > 1, tot - 1, np.nan)
    inv_n = mean_of(1.0 / ps["n"])
    prompt = np.clip(var_means - within * inv_n, 0, None)
    total = prompt + seed + residual
    out.update(prompt_var=prompt, seed_var=seed, residual_var=residual, within_var=within)
    with np.errstate(invalid="ignore", divide="ignore"):
        for k in ("prompt", "seed", "residual"):
            out[f"{k}_frac"] = np.where(total > 0, out[f"{k}_var"] / total, np.nan)
    return out


def of_n(groups: Sequence[np.ndarray]) -> dict[str, float]:
    """Point estimates: mean/best/worst of N per prompt averaged over prompts, the mean per-prompt
    SD and range across seeds, and the variance components (``*_var``) and fractions."""
    ps = _prompt_stats(_center_dimensions(groups) if groups[0].shape[1] > 1 else groups)
    raw = _prompt_stats(groups)
    st = _stats_from(ps, np.ones((1, len(groups))))
    # means, best and worst on the original scale (centering moves them, not the variances)
    for k in ("mean_of_n", "best_of_n", "worst_of_n"):
        st[k] = _stats_from(raw, np.ones((1, len(groups))))[k]
    return {k: float(v[0]) for k, v in st.items()}


# --- bootstrap ---------------------------------------------------------------------------------


def _interval(reps: np.ndarray, level: float) -> tuple[float, float]:
    ok = reps[np.isfinite(reps)]
    if ok.size < 0.5 * reps.size or ok.size == 0:
        return (math.nan, math.nan)
    a = (1 - level) / 2
    return (float(np.quantile(ok, a)), float(np.quantile(ok, 1 - a)))


def bootstrap_of_n(
    groups: Sequence[np.ndarray],
    *,
    n_boot: int = 2000,
    level: float = 0.95,
    seed: int = 0,
    resample: str = "prompts",
) -> dict[str, dict[str, float]]:
    """Every statistic of ``of_n`` as ``{"value", "ci_low", "ci_high"}``."""
    if resample not in ("prompts", "prompts+seeds"):
        raise InputError(f"resample must be 'prompts' or 'prompts+seeds'; got {resample!r}")
    point = of_n(groups)
    rng = np.random.default_rng(seed)
    P = len(groups)
    if resample == "prompts":
        # a prompt drawn c times weighs c: all statistics are weighted sums over prompts
        w = rng.multinomial(P, np.full(P, 1.0 / P), size=n_boot).astype(float)
        ps = _prompt_stats(_center_dimensions(groups) if groups[0].shape[1] > 1 else groups)
        reps = _stats_from(ps, w)
        raw = _stats_from(_prompt_stats(groups), w)
        for k in ("mean_of_n", "best_of_n", "worst_of_n"):
            reps[k] = raw[k]
    else:
        acc: dict[str, list[float]] = {}
        for _ in range(n_boot):
            pick = rng.integers(0, P, P)
            drawn = [groups[i][rng.integers(0, groups[i].shape[0], groups[i].shape[0])] for i in pick]
            for k, v in of_n(drawn).items():
                acc.setdefault(k, []).append(v)
        reps = {k: np.asarray(v) for k, v in acc.items()}
    out = {}
    for k, v in point.items():
        lo, hi = _interval(np.asarray(reps[k], dtype=float), level)
        out[k] = {"value": v, "ci_low": lo, "ci_high": hi}
    return out


# --- how many seeds / prompts ------------------------------------------------------------------


def _z(level: float) -> float:
    from statistics import NormalDist

    return NormalDist().inv_cdf(0.5 + level / 2)


def mean_se(prompt_var: float, within_var: float, n_prompts: int, n_seeds: float) -> float:
    """Standard error of a model's mean over ``n_prompts`` prompts with ``n_seeds`` seeds each."""
    return math.sqrt((prompt_var + within_var / n_seeds) / n_prompts)


def seeds_needed(
    prompt_var: float, within_var: float, n_prompts: int, ci_width: float, level: float = 0.95
) -> dict[str, Any]:
    """Seeds per prompt for a CI of the model mean no wider than ``ci_width`` with
    ``n_prompts`` prompts; when the prompt variance alone is too wide, ``seeds`` is None and
    ``min_prompts`` says how many prompts it takes even with infinitely many seeds."""
    if not ci_width > 0:
        raise InputError(f"ci_width must be positive; got {ci_width!r}")
    half_se = ci_width / (2 * _z(level))  # the SE that gives this width
    room = n_prompts * half_se**2 - prompt_var
    min_prompts = math.ceil(prompt_var / half_se**2) if prompt_var > 0 else 1
    seeds = None if room <= 0 else max(1, math.ceil(within_var / room)) if within_var > 0 else 1
    return {"ci_width": ci_width, "n_prompts": n_prompts, "seeds": seeds, "min_prompts": min_prompts}


def prompts_needed(
    prompt_var: float, within_var: float, n_seeds: int, ci_width: float, level: float = 0.95
) -> int:
    """Prompts for a CI of the mean no wider than ``ci_width`` at ``n_seeds`` seeds each."""
    half_se = ci_width / (2 * _z(level))
    return max(2, math.ceil((prompt_var + within_var / n_seeds) / half_se**2))


def paired_components(groups_a: Sequence[np.ndarray], groups_b: Sequence[np.ndarray]) -> dict[str, float]:
    """Variance of the per-prompt difference of two models' true means (``diff_var``) and each
    model's within-prompt (seed) variance, from the prompts both scored (aligned lists)."""
    if len(groups_a) != len(groups_b) or len(groups_a) < 2:
        raise InputError("a paired comparison needs the same >= 2 prompts for both models")
    ma = np.array([np.nanmean(g, axis=1).mean() for g in groups_a])
    mb = np.array([np.nanmean(g, axis=1).mean() for g in groups_b])
    wa, wb = of_n(groups_a)["within_var"], of_n(groups_b)["within_var"]
    wa, wb = (0.0 if math.isnan(x) else x for x in (wa, wb))
    na = np.array([g.shape[0] for g in groups_a])
    nb = np.array([g.shape[0] for g in groups_b])
    d = ma - mb
    diff_var = max(0.0, float(d.var(ddof=1) - np.mean(wa / na + wb / nb)))
    return {"diff_var": diff_var, "within_a": wa, "within_b": wb, "difference": float(d.mean())}


def paired_power(
    diff_var: float, within_a: float, within_b: float, n_prompts: int, n_seeds: float, delta: float,
    alpha: float = 0.05,
) -> float:  # fmt: skip
    """Power of the two-sided paired z-test on per-prompt mean differences to detect a true
    difference ``delta`` with ``n_prompts`` prompts and ``n_seeds`` seeds per prompt and model."""
    from statistics import NormalDist

    nd = NormalDist()
    se = math.sqrt((diff_var + (within_a + within_b) / n_seeds) / n_prompts)
    if se == 0:
        return 1.0 if delta != 0 else alpha
    z = nd.inv_cdf(1 - alpha / 2)
    t = abs(delta) / se
    return nd.cdf(t - z) + nd.cdf(-t - z)


def power_plan(
    comp: dict[str, float], n_prompts: int, n_seeds: int, delta: float, *, alpha: float = 0.05,
    power: float = 0.8, max_seeds: int = 1000,
) -> dict[str, Any]:  # fmt: skip
    """Power now, seeds per prompt for ``power`` at the current prompts (None past ``max_seeds``
    or when the prompt part alone is too large), and prompts for it at the current seeds."""
    args = (comp["diff_var"], comp["within_a"], comp["within_b"])
    now = paired_power(*args, n_prompts, n_seeds, delta, alpha)
    seeds = next((s for s in range(1, max_seeds + 1) if paired_power(*args, n_prompts, s, delta, alpha) >= power),
                 None)  # fmt: skip
    prompts = None
    if delta != 0:  # the smallest P with enough power: double until enough, then bisect

        def enough(p: int) -> bool:
            return paired_power(*args, p, n_seeds, delta, alpha) >= power

        hi = 2
        while not enough(hi) and hi < 10_000_000:
            hi *= 2
        lo = hi // 2
        while hi - lo > 1:
            mid = (lo + hi) // 2
            lo, hi = (lo, mid) if enough(mid) else (mid, hi)
        prompts = hi if enough(hi) else None
    return {"delta": delta, "alpha": alpha, "target_power": power, "power_now": now,
            "seeds_for_power": seeds, "prompts_for_power": prompts}  # fmt: skip


# --- best of N vs best of N --------------------------------------------------------------------


def best_of_n_win_rate(
    best_a: Sequence[float],
    best_b: Sequence[float],
    *,
    n_boot: int = 2000,
    level: float = 0.95,
    seed: int = 0,
) -> dict[str, float]:
    """Share of prompts where A's best-of-N beats B's best-of-N (ties count 1/2), with a
    bootstrap CI over prompts. Inputs are aligned per prompt."""
    a, b = np.asarray(best_a, float), np.asarray(best_b, float)
    if a.shape != b.shape or a.size == 0:
        raise InputError("best-of-N win rate needs the same non-empty list of prompts for both models")
    x = np.where(a > b, 1.0, np.where(a == b, 0.5, 0.0))
    return bootstrap_mean(x, n_boot=n_boot, level=level, seed=seed)


def bootstrap_mean(x: Any, *, n_boot: int = 2000, level: float = 0.95, seed: int = 0) -> dict[str, float]:
    x = np.asarray(x, float)
    rng = np.random.default_rng(seed)
    reps = x[rng.integers(0, x.size, (n_boot, x.size))].mean(1) if x.size > 1 else np.full(1, np.nan)
    lo, hi = _interval(reps, level)
    return {"value": float(x.mean()), "ci_low": lo, "ci_high": hi, "n_prompts": int(x.size)}


def best_image_by_wins(outcomes: Sequence[tuple[Any, Any, float]]) -> tuple[Any, Any]:
    """From one prompt's judged pairs ``(seed_a, seed_b, score_of_a)`` (1 win, 0.5 tie, 0 loss),
    the seed of each side with the highest win share against the other side (ties: lowest
    seed): the best of N when only pairwise judgments exist."""
    share_a: dict[Any, list[float]] = {}
    share_b: dict[Any, list[float]] = {}
    for sa, sb, s in outcomes:
        share_a.setdefault(sa, []).append(s)
        share_b.setdefault(sb, []).append(1 - s)

    def best(d: dict[Any, list[float]]) -> Any:
        return sorted(d, key=lambda k: (-float(np.mean(d[k])), str(k)))[0]

    return best(share_a), best(share_b)
