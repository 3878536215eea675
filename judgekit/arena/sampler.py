"""Which battles to judge next: the pairs whose outcome tells the most about the ratings that are
still too uncertain, on the prompts that have been used least.

The sampler works from the Bradley-Terry fit's Fisher information. A battle between i and j whose
predicted outcome is p = P(i beats j) adds ``w = (ln(base) / scale)^2 * p (1 - p)`` times
``(e_i - e_j)(e_i - e_j)^T`` to the information; the anchor's rating is fixed, so its row and column
are dropped and the inverse of the rest is the ratings' covariance S. One more battle on pair
(i, j) lowers model k's variance by ``w (S d)_k^2 / (1 + w d^T S d)`` with d = e_i - e_j (a
rank-one update). The expected information of a candidate is how much of the *excess* variance
(above the target's) it removes, summed over models: pairs close in rating (p near 1/2) between
models with wide intervals come first, and a model already within the target draws nothing.
A batch is chosen greedily, updating S after each pick, so it spreads over pairs by itself.

The Fisher variance ignores that battles on one prompt are correlated and that ties carry less
noise than wins; the bootstrap over prompts (the stopping rule) sees both. ``inflation`` is,
per model, the ratio of the bootstrap variance to the Fisher variance at the last bootstrap, and
scales the targets so that the sampler aims at what the stopping rule measures.

Each pick then goes to the prompt with the fewest battles so far (at random among equals) where both models
have an image and the pair has not met (ties broken at random), so no prompt dominates and a
bootstrap over prompts has many of them to resample.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
from scipy import stats as sps

#: Prior precision per model on the rating scale (a standard deviation of 1000 points): keeps the
#: information matrix invertible for a model with no battle yet, and is negligible after one.
PRIOR_PRECISION = 1.0 / 1000.0**2
#: Exponent on each model's relative predicted variance in the gain (0: total excess variance).
WIDEST_FIRST = 8.0


@dataclass
class Candidates:
    """What can still be judged: ``has_image[m, p]`` (model m has an image for prompt p),
    ``met[k, p]`` (pair k, in ``np.triu_indices(M, 1)`` order, has a battle on prompt p, judged or
    planned), ``load[p]`` (battles on prompt p so far)."""

    models: list[str]
    prompts: list[str]
    has_image: np.ndarray
    met: np.ndarray
    load: np.ndarray
    pair_i: np.ndarray = field(init=False)
    pair_j: np.ndarray = field(init=False)

    def __post_init__(self) -> None:
        self.pair_i, self.pair_j = np.triu_indices(len(self.models), 1)

    @classmethod
    def build(cls, models: Sequence[str], images: set[tuple[str, str]], taken: Sequence[tuple[str, str, str]]) -> Candidates:
        """From the (model, prompt_id) pairs that have an image and the (prompt, model, model)
        battles already planned."""
        ms = sorted(models)
        prompts = sorted({p for m, p in images if m in set(ms)})
        mi = {m: i for i, m in enumerate(ms)}
        pi = {p: i for i, p in enumerate(prompts)}
        has = np.zeros((len(ms), len(prompts)), dtype=bool)
        for m, p in images:
            if m in mi:
                has[mi[m], pi[p]] = True
        n = len(ms)
        met = np.zeros((n * (n - 1) // 2, len(prompts)), dtype=bool)
        load = np.zeros(len(prompts))
        for p, a, b in taken:
            if p in pi:
                load[pi[p]] += 1
                if a in mi and b in mi:
                    met[pair_index(mi[a], mi[b], n), pi[p]] = True
        return cls(ms, prompts, has, met, load)

    def capacity(self) -> np.ndarray:
        """Prompts still open to each pair."""
        both = self.has_image[self.pair_i] & self.has_image[self.pair_j]
        return (both & ~self.met).sum(axis=1)


def pair_index(i: int, j: int, n: int) -> int:
    """Position of pair {i, j} in ``np.triu_indices(n, 1)`` order."""
    i, j = min(i, j), max(i, j)
    return i * n - i * (i + 1) // 2 + (j - i - 1)


def z_value(level: float) -> float:
    return float(sps.norm.ppf(0.5 + level / 2))


def covariance(ratings: np.ndarray, n_pair: np.ndarray, anchor: int, active: np.ndarray, c: float) -> np.ndarray:
    """Fisher covariance of the ratings of the active models (anchor fixed: its row and column are
    zero). ``n_pair[i, j]``: battles between i and j (symmetric)."""
    m = ratings.size
    p = 1.0 / (1.0 + np.exp(-c * (ratings[:, None] - ratings[None, :])))
    w = c * c * p * (1 - p) * n_pair * np.outer(active, active)
    info = np.diag(w.sum(axis=1)) - w
    keep = np.flatnonzero(active & (np.arange(m) != anchor))
    sub = info[np.ix_(keep, keep)] + PRIOR_PRECISION * np.eye(keep.size)
    cov = np.zeros((m, m))
    cov[np.ix_(keep, keep)] = np.linalg.inv(sub)
    return cov


@dataclass
class BatchPlan:
    battles: list[tuple[int, int, int]]  # (model i, model j, prompt index)
    predicted_width: np.ndarray  # current Fisher-predicted CI width of each model (inflated)
    predicted_remaining: int  # battles the greedy run needed to bring every width under target
    capped: bool = False  # the greedy run stopped at max_batch before the target (needs more)


def plan_batch(
    cands: Candidates,
    ratings: np.ndarray,
    n_pair: np.ndarray,
    anchor: int,
    active: np.ndarray,
    *,
    target_width: float,
    inflation: np.ndarray,
    level: float = 0.95,
    batch_size: int | None = None,
    min_batch: int | None = None,
    max_batch: int = 2000,
    fraction: float = 0.5,
    rng: np.random.Generator,
    base: float = 10.0,
    scale: float = 400.0,
) -> BatchPlan:
    """The next batch: greedy expected-information picks (module docstring), each placed on the
    least-used open prompt. Without ``batch_size`` the batch is ``fraction`` of the battles the
    greedy run predicts are still needed, within [``min_batch``, ``max_batch``], so batches shrink as
    the target nears and the run stops close to the first moment the target holds.
    """
    c = math.log(base) / scale
    z = z_value(level)
    cov = covariance(ratings, n_pair, anchor, active, c)
    var = np.diag(cov).copy()
    width = 2 * z * np.sqrt(np.maximum(var, 0) * inflation)
    target_var = (target_width / (2 * z)) ** 2 / inflation
    open_ = cands.capacity().astype(float)
    pi, pj = cands.pair_i, cands.pair_j
    usable = active[pi] & active[pj]
    p = 1.0 / (1.0 + np.exp(-c * (ratings[pi] - ratings[pj])))
    wk = c * c * p * (1 - p)
    n_models = ratings.size
    limit = batch_size if batch_size is not None else max_batch
    min_batch = min_batch if min_batch is not None else 2 * n_models
    picks: list[int] = []
    capped = False
    while True:
        if len(picks) >= limit:
            capped = batch_size is None
            break
        avail = usable & (open_ > 0)
        if not avail.any():
            break
        excess = np.maximum(var - target_var, 0.0)
        if not excess.any():
            if batch_size is None and len(picks) >= min_batch:
                break  # the greedy run reached the target: it needs len(picks) battles
            # Below the smallest batch worth a bootstrap check, or asked for a fixed batch, or the
            # bootstrap disagrees with the Fisher prediction: keep reducing variance where it is largest.
            excess = var
            if batch_size is None:
                limit = min(limit, max(min_batch, len(picks) + 1))
        sd = cov[:, pi] - cov[:, pj]  # (M, K): S d for every pair
        cols = np.arange(pi.size)
        dsd = sd[pi, cols] - sd[pj, cols]
        q = wk * sd * sd / (1.0 + wk * dsd)
        # Widest first: a model's share of the gain grows steeply with its predicted width, so
        # the batch goes to the models that hold the stopping rule back (a minimax allocation,
        # which needs fewer battles than spreading variance reduction evenly).
        wide = (var * inflation) / max(float((var * inflation).max()), 1e-300)
        gain = (np.minimum(q, excess[:, None]) * (wide**WIDEST_FIRST)[:, None]).sum(axis=0)
        gain = np.where(avail, gain * (1 + 1e-9 * rng.random(gain.size)), -1.0)
        k = int(np.argmax(gain))
        u = sd[:, k].copy()
        cov -= wk[k] * np.outer(u, u) / (1.0 + wk[k] * dsd[k])
        var = np.diag(cov).copy()
        open_[k] -= 1
        picks.append(k)
    predicted = len(picks)
    if batch_size is None:
        if not capped:  # a capped run needs all of it and more
            picks = picks[: int(min(max(math.ceil(fraction * predicted), min_batch), max_batch))]
    return BatchPlan(_place(cands, picks, rng), width, predicted, capped)


def _place(cands: Candidates, picks: list[int], rng: np.random.Generator) -> list[tuple[int, int, int]]:
    """Put each picked pair on a random one of its least-used open prompts; marks ``met`` and ``load``."""
    out = []
    for k in picks:
        i, j = int(cands.pair_i[k]), int(cands.pair_j[k])
        open_p = cands.has_image[i] & cands.has_image[j] & ~cands.met[k]
        if not open_p.any():  # pragma: no cover - capacity was checked by the caller
            continue
        least = cands.load[open_p].min()
        choice = np.flatnonzero(open_p & (cands.load == least))
        p = int(choice[rng.integers(choice.size)])
        cands.met[k, p] = True
        cands.load[p] += 1
        out.append((i, j, p))
    return out
