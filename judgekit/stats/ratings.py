"""Ratings from battles: Elo and Bradley-Terry.

Ratings use the Elo scale: P(a beats b) = 1 / (1 + base ** ((R_b - R_a) / scale)), with
``base=10, scale=400``; a rating is ``scale * theta + init``.

>>> from judgekit.stats.battles import Battles
>>> b = Battles.from_records([{"model_a": "x", "model_b": "y", "winner": w} for w in
...                           ["model_a", "model_a", "model_b", "tie"]])
>>> round(float(bradley_terry(b).ratings[0]), 1)   # x won 2.5 of 4: 3:5 odds in its favour
1044.4
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from scipy import optimize
from scipy.sparse import csgraph, csr_matrix

from ..errors import ConfigError, DataError
from .battles import BattleCounts, Battles

# --- ratings ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Ratings:
    models: tuple[str, ...]
    ratings: np.ndarray
    method: str
    options: dict[str, Any] = field(default_factory=dict)

    def as_dict(self) -> dict[str, float]:
        return {m: float(r) for m, r in zip(self.models, self.ratings, strict=True)}


def _elo_scalar(
    a: np.ndarray, b: np.ndarray, s: np.ndarray, n: int, k: float, base: float, scale: float, init: float
) -> np.ndarray:
    r = [float(init)] * n
    for i, j, si in zip(a.tolist(), b.tolist(), s.tolist(), strict=True):
        ea = 1.0 / (1.0 + base ** ((r[j] - r[i]) / scale))
        d = k * (si - ea)
        r[i] += d
        r[j] -= d
    return np.asarray(r)


def _elo_lanes(
    a: np.ndarray, b: np.ndarray, s: np.ndarray, live: np.ndarray, n: int, k: float, base: float, scale: float,
    init: float,
) -> np.ndarray:
    """Online Elo over L independent battle sequences at once (arrays of shape (L, T)); steps
    where ``live`` is False change nothing (padding of shorter sequences)."""
    lanes, steps = a.shape
    r = np.full((lanes, n), float(init))
    rows = np.arange(lanes)
    for t in range(steps):
        i, j = a[:, t], b[:, t]
        ea = 1.0 / (1.0 + base ** ((r[rows, j] - r[rows, i]) / scale))
        d = np.where(live[:, t], k * (s[:, t] - ea), 0.0)
        r[rows, i] += d
        r[rows, j] -= d
    return r


def elo(
    battles: Battles,
    *,
    k: float = 4.0,
    base: float = 10.0,
    scale: float = 400.0,
    init: float = 1000.0,
    n_orders: int | None = None,
    seed: int = 0,
) -> Ratings:
    """Online Elo: for each battle in turn, E_a = 1 / (1 + base^((R_b - R_a)/scale)) and
    R_a += k (S_a - E_a), R_b -= k (S_a - E_a); every model starts at ``init``.

    The result depends on the order of the battles (the last ones weigh most). With
    ``n_orders=N`` the ratings are the mean over N random shuffles of the battles (seeded),
    which removes that dependence; ``None`` uses the order given.
    """
    _check_elo(k, base, scale)
    opts = {"k": k, "base": base, "scale": scale, "init": init, "n_orders": n_orders, "seed": seed}
    n = battles.n_models
    if not n_orders:
        return Ratings(battles.models, _elo_scalar(battles.a, battles.b, battles.score, n, k, base, scale, init), "elo", opts)
    rng = np.random.default_rng(seed)
    total = np.zeros(n)
    for start in range(0, n_orders, 64):
        lanes = min(64, n_orders - start)
        perm = np.argsort(rng.random((lanes, len(battles))), axis=1)
        r = _elo_lanes(battles.a[perm], battles.b[perm], battles.score[perm], np.ones(perm.shape, bool), n, k, base, scale, init)
        total += r.sum(axis=0)
    return Ratings(battles.models, total / n_orders, "elo", opts)


def _check_elo(k: float, base: float, scale: float) -> None:
    if not (k > 0 and base > 1 and scale > 0):
        raise ConfigError(f"Elo needs k > 0, base > 1 and scale > 0 (got k={k}, base={base}, scale={scale})")


def identifiability_problems(
    models: Sequence[str], lo: np.ndarray, hi: np.ndarray, n_pair: np.ndarray, s_pair: np.ndarray
) -> str | None:
    """Why the Bradley-Terry MLE does not exist, or None when it does.

    The MLE exists iff every model can be reached from every other through "beat" edges
    (a tie is a half win both ways): a model that never wins (never loses) would be pushed to
    -inf (+inf), and so would a group of models that never lose to the rest."""
    m = len(models)
    beats = np.zeros((m, m), dtype=bool)
    beats[lo[s_pair > 0], hi[s_pair > 0]] = True
    beats[hi[n_pair - s_pair > 0], lo[n_pair - s_pair > 0]] = True
    k, label = csgraph.connected_components(csr_matrix(beats), directed=True, connection="strong")
    if k == 1:
        return None
    never_win = [models[i] for i in range(m) if not beats[i].any()]
    never_lose = [models[i] for i in range(m) if not beats[:, i].any()]
    parts = []
    if never_win:
        parts.append(f"never win: {never_win}")
    if never_lose:
        parts.append(f"never lose: {never_lose}")
    if not parts:
        comps = [[models[i] for i in range(m) if label[i] == c] for c in range(k)]
        parts.append(f"the models split into groups that never beat each other both ways: {comps}")
    return "; ".join(parts)


def _bt_fit(
    lo: np.ndarray, hi: np.ndarray, n_pair: np.ndarray, s_pair: np.ndarray, n_models: int, c: float, prior: float,
    x0: np.ndarray | None,
) -> np.ndarray:
    """theta maximizing sum_p [S log sig(c d) + (N - S) log sig(-c d)] - prior/2 |theta|^2,
    d = theta_lo - theta_hi, with mean(theta) = 0 (the likelihood only sees differences, so a
    quadratic on sum(theta) pins the free shift without moving the optimum)."""
    total = max(float(n_pair.sum()), 1.0)

    def f(theta: np.ndarray) -> tuple[float, np.ndarray]:
        x = c * (theta[lo] - theta[hi])
        nll = np.dot(s_pair, np.logaddexp(0.0, -x)) + np.dot(n_pair - s_pair, np.logaddexp(0.0, x))
        g = -(s_pair - n_pair * _sigmoid(x)) * c
        grad = np.bincount(lo, g, n_models) - np.bincount(hi, g, n_models)
        sm = theta.sum()
        val = nll + 0.5 * prior * theta.dot(theta) + 0.5 * sm * sm
        grad = grad + prior * theta + sm
        return val / total, grad / total

    start = np.zeros(n_models) if x0 is None else x0
    res = optimize.minimize(f, start, jac=True, method="L-BFGS-B", options={"gtol": 1e-10, "ftol": 1e-15, "maxiter": 2000})
    theta = res.x
    return theta - theta.mean()


def _sigmoid(x: np.ndarray) -> np.ndarray:
    return 0.5 * (1.0 + np.tanh(0.5 * x))


def _bt_to_ratings(theta: np.ndarray, models: list[str], scale: float, init: float, anchor: str | None) -> np.ndarray:
    shift = theta[models.index(anchor)] if anchor is not None else 0.0
    return scale * (theta - shift) + init


def bradley_terry(
    battles: Battles,
    *,
    base: float = 10.0,
    scale: float = 400.0,
    init: float = 1000.0,
    anchor: str | None = None,
    prior: float = 0.0,
    start: Mapping[str, float] | None = None,
) -> Ratings:
    """Bradley-Terry ratings by maximum likelihood (L-BFGS on counts per pair; ties are half
    a win for each side): P(a beats b) = 1 / (1 + base^((R_b - R_a)/scale)).

    Ratings average ``init`` or, with ``anchor="model"``, that model is at ``init``.
    ``prior`` > 0 adds a Gaussian prior (an L2 penalty prior/2 * |theta|^2, theta = (R - init) /
    scale) that keeps ratings finite when the MLE does not exist; with ``prior=0`` (exact MLE) a
    model that never wins or never loses is a ``DataError`` naming it.
    ``start`` warm-starts the optimizer from earlier ratings (``Ratings.as_dict()`` of a fit on
    fewer battles; a model it lacks starts at their mean): the optimum is the same, reached in fewer steps.
    """
    counts = BattleCounts(battles)
    x0 = start_theta(start, counts.models, scale, init)
    return _bt_from_counts(counts, base=base, scale=scale, init=init, anchor=anchor, prior=prior, x0=x0)


def start_theta(start: Mapping[str, float] | None, models: Sequence[str], scale: float, init: float) -> np.ndarray | None:
    """Optimizer start (centred theta) from ratings by model; None without any."""
    if not start:
        return None
    known = [(start[m] - init) / scale for m in models if m in start]
    if not known:
        return None
    fill = float(np.mean(known))
    theta = np.array([(start[m] - init) / scale if m in start else fill for m in models], dtype=float)
    return theta - theta.mean()


def _bt_from_counts(
    counts: BattleCounts, *, base: float, scale: float, init: float, anchor: str | None, prior: float,
    x0: np.ndarray | None = None,
) -> Ratings:
    models = counts.models
    _check_elo(1.0, base, scale)
    if prior < 0:
        raise ConfigError(f"prior must be >= 0, got {prior}")
    if anchor is not None and anchor not in models:
        raise ConfigError(f"anchor {anchor!r} is not one of the models {list(models)}")
    n_pair, s_pair = counts.pair_totals(counts.total)
    if prior == 0:
        why = identifiability_problems(models, counts.pair_lo, counts.pair_hi, n_pair, s_pair)
        if why:
            raise DataError(
                f"Bradley-Terry ratings do not exist for these battles (they would be infinite): {why}. "
                "Add battles, drop those models, or regularize with prior > 0 (e.g. 0.01; CLI --prior)"
            )
    theta = _bt_fit(counts.pair_lo, counts.pair_hi, n_pair, s_pair, len(models), np.log(base), prior, x0)
    opts = {"base": base, "scale": scale, "init": init, "anchor": anchor, "prior": prior}
    return Ratings(models, _bt_to_ratings(theta, list(models), scale, init, anchor), "bt", {**opts, "theta": theta})
