"""Distribution statistics of categorical attributes (pure numpy), for bias measurement: the share
of each category, the normalised entropy, the KL divergence from uniform (or from a target
distribution), and the max/min ratio between groups, each with a bias-corrected percentile
bootstrap CI that resamples prompts (see ``bias_corrected_interval``); and a paired bootstrap comparing two models on the prompts both answered.

Answers outside ``categories`` ("unclear", "no person") are counted but left out of the
distribution: a share of "unclear" is not a group.

>>> s = attribute_stats(["a", "a", "b", "unclear"], ["p1", "p1", "p2", "p2"], ["a", "b"], n_boot=50)
>>> s["n_valid"], round(s["proportions"]["a"]["value"], 3), s["counts"]["unclear"]
(3, 0.667, 1)
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
from scipy.stats import norm

from ..errors import InputError


def _as_target(categories: Sequence[str], target: Mapping[str, float] | None) -> np.ndarray:
    if target is None:
        return np.full(len(categories), 1.0 / len(categories))
    unknown = sorted(set(target) - set(categories))
    if unknown:
        raise InputError(f"target names {unknown}, which are not among the categories {list(categories)}")
    q = np.array([float(target.get(c, 0.0)) for c in categories])
    if (q < 0).any() or q.sum() <= 0:
        raise InputError("a target distribution needs non-negative shares with a positive sum")
    return q / q.sum()


def measures(counts: np.ndarray, target: np.ndarray) -> dict[str, np.ndarray]:
    """For count rows ``(..., K)``: proportions, normalised entropy (H / log K), KL(p || target)
    in nats, and the max/min share ratio over the groups the target gives a positive share (all of
    them for uniform; inf when one of them never appears)."""
    c = np.asarray(counts, dtype=float)
    n = c.sum(-1, keepdims=True)
    with np.errstate(invalid="ignore", divide="ignore"):
        p = c / n
        logp = np.where(p > 0, np.log(np.where(p > 0, p, 1.0)), 0.0)
        k = c.shape[-1]
        ent = -(p * logp).sum(-1) / math.log(k) if k > 1 else np.full(c.shape[:-1], np.nan)
        logq = np.log(np.where(target > 0, target, 1.0))
        kl = np.where((p > 0) & (target <= 0), np.inf, p * (logp - logq)).sum(-1)
        ent = np.where(ent <= 0, 0.0, ent)  # -0.0 from a single group
        grp = p[..., target > 0]  # the groups the reference expects
        ratio = grp.max(-1) / grp.min(-1)
    empty = n[..., 0] == 0
    ent, kl, ratio = (np.where(empty, np.nan, arr) for arr in (ent, kl, ratio))
    return {"proportions": p, "normalized_entropy": ent, "kl_divergence": kl, "max_min_ratio": ratio}


def _count_matrix(
    labels: Sequence[str], groups: Sequence[Any], categories: Sequence[str]
) -> tuple[list[Any], np.ndarray]:
    index = {c: i for i, c in enumerate(categories)}
    order: dict[Any, int] = {}
    rows: list[np.ndarray] = []
    for lab, g in zip(labels, groups, strict=True):
        if g not in order:
            order[g] = len(rows)
            rows.append(np.zeros(len(categories)))
        if lab in index:
            rows[order[g]][index[lab]] += 1
    return list(order), (np.array(rows) if rows else np.zeros((0, len(categories))))


#: How every interval here is made (printed by ``judgekit bias report`` and the HTML report).
INTERVAL_METHOD = "bias-corrected percentile bootstrap over prompts"


def _quantile(ok: np.ndarray, q: float) -> float:
    with np.errstate(invalid="ignore"):  # interpolating between infinite ratios gives NaN
        x = float(np.quantile(ok, q))
    return float(np.quantile(ok, q, method="lower" if q < 0.5 else "higher")) if math.isnan(x) else x


def bias_corrected_interval(
    reps: np.ndarray, estimate: float, level: float
) -> tuple[float | None, float | None, str]:
    """Efron's bias-corrected (BC) percentile interval: ``(low, high, note)``.

    Entropy, KL and ratios of shares are non-linear in the counts, so resampled values sit off
    the estimate (entropy lower, KL higher), and a plain percentile interval can miss its own
    estimate entirely (KL 0.157 [0.277, 1.008]). BC reads the percentiles at
    ``Phi(2 z0 +- z)``, where ``z0 = Phi^-1(share of replicates below the estimate)`` (ties count
    half), which moves the interval back over the estimate. When the estimate lies beyond the
    ``level`` mass of its own replicates (``|z0| >= z``) no correction is reliable: no interval,
    and the note says why. A reported interval always contains its estimate.
    """
    ok = reps[~np.isnan(reps)]  # an infinite ratio (a group absent from a draw) stays: the bound is unbounded
    if ok.size == 0 or ok.size < 0.5 * reps.size or not np.isfinite(estimate):
        return None, None, ""
    # A replicate that redraws the sample's own counts equals the estimate up to float noise:
    # such ties count half, whatever the last bit says.
    tie = np.isclose(ok, estimate, rtol=1e-12, atol=1e-12)
    below = (np.count_nonzero((ok < estimate) & ~tie) + 0.5 * np.count_nonzero(tie)) / ok.size
    z = float(norm.ppf(0.5 + level / 2))
    z0 = float(norm.ppf(below)) if 0 < below < 1 else math.copysign(math.inf, below - 0.5)
    if abs(z0) >= z:
        side = "above" if z0 < 0 else "below"
        return None, None, (f"no interval: {100 * (1 - below if z0 < 0 else below):.1f}% of the bootstrap replicates "
                            f"lie {side} the estimate (too few prompts or too skewed for a bias-corrected CI)")
    lo, hi = _quantile(ok, float(norm.cdf(2 * z0 - z))), _quantile(ok, float(norm.cdf(2 * z0 + z)))
    # A bound on a replicate that ties the estimate may differ from it in the last bits.
    lo = min(lo, estimate) if math.isclose(lo, estimate, rel_tol=1e-12, abs_tol=1e-12) else lo
    hi = max(hi, estimate) if math.isclose(hi, estimate, rel_tol=1e-12, abs_tol=1e-12) else hi
    if not lo <= estimate <= hi:  # only the quantiles' discreteness can do this
        return None, None, "no interval: the bias-corrected percentiles do not cover the estimate"
    return lo, hi, ""


def _entry(value: float | np.ndarray, reps: np.ndarray, level: float) -> dict[str, Any]:
    v = float(value)
    lo, hi, note = bias_corrected_interval(reps, v, level)
    out: dict[str, Any] = {"value": None if math.isnan(v) else v, "ci_low": lo, "ci_high": hi}
    if note:
        out["note"] = note
    return out


def attribute_stats(
    labels: Sequence[str],
    groups: Sequence[Any],
    categories: Sequence[str],
    *,
    target: Mapping[str, float] | None = None,
    n_boot: int = 2000,
    level: float = 0.95,
    seed: int = 0,
) -> dict[str, Any]:
    """Statistics of one attribute over images grouped by ``groups`` (prompts: the bootstrap
    unit). ``counts`` includes every answer; the rest uses the answers in ``categories``."""
    if len(labels) != len(groups):
        raise InputError(f"{len(labels)} labels but {len(groups)} group ids")
    q = _as_target(categories, target)
    _, mat = _count_matrix(labels, groups, categories)
    total = mat.sum(0)
    point = measures(total, q)
    rng = np.random.default_rng(seed)
    P = mat.shape[0]
    # one unit (prompt) gives no CI: resampling it would only return the point estimate
    w = rng.multinomial(P, np.full(P, 1.0 / P), size=n_boot) if P > 1 else np.full((1, P), np.nan)
    reps = measures(w @ mat, q)
    counts: dict[str, int] = {}
    for lab in labels:
        counts[lab] = counts.get(lab, 0) + 1
    return {
        "n": len(labels),
        "n_valid": int(total.sum()),
        "n_prompts": P,
        "counts": counts,
        "proportions": {
            c: _entry(point["proportions"][i], reps["proportions"][:, i], level)
            for i, c in enumerate(categories)
        },  # fmt: skip
        **{
            k: _entry(point[k], reps[k], level)
            for k in ("normalized_entropy", "kl_divergence", "max_min_ratio")
        },
        "reference": "uniform"
        if target is None
        else {c: float(v) for c, v in zip(categories, q, strict=True)},
    }


def paired_comparison(
    labels_a: Sequence[str], groups_a: Sequence[Any], labels_b: Sequence[str], groups_b: Sequence[Any],
    categories: Sequence[str], *, target: Mapping[str, float] | None = None, n_boot: int = 2000,
    level: float = 0.95, seed: int = 0,
) -> dict[str, Any]:  # fmt: skip
    """A minus B on the prompts both have, with one bootstrap draw of prompts shared by both
    models (paired): differences of normalised entropy, KL and each category's share."""
    q = _as_target(categories, target)
    ga, ma = _count_matrix(labels_a, groups_a, categories)
    gb, mb = _count_matrix(labels_b, groups_b, categories)
    common = [g for g in ga if g in set(gb)]
    if len(common) < 2:
        raise InputError("a paired comparison needs at least 2 prompts answered for both models")
    ia = {g: i for i, g in enumerate(ga)}
    ib = {g: i for i, g in enumerate(gb)}
    A = ma[[ia[g] for g in common]]
    B = mb[[ib[g] for g in common]]
    rng = np.random.default_rng(seed)
    P = len(common)
    w = rng.multinomial(P, np.full(P, 1.0 / P), size=n_boot)
    pa, pb = measures(A.sum(0), q), measures(B.sum(0), q)
    ra, rb = measures(w @ A, q), measures(w @ B, q)
    out: dict[str, Any] = {"n_prompts": P}
    for k in ("normalized_entropy", "kl_divergence"):
        out[k] = _entry(pa[k] - pb[k], ra[k] - rb[k], level)
    out["proportions"] = {c: _entry(pa["proportions"][i] - pb["proportions"][i],
                                    ra["proportions"][:, i] - rb["proportions"][:, i], level)
                          for i, c in enumerate(categories)}  # fmt: skip
    return out
