"""Human-evaluation statistics: Likert means, pass rates, win rates, Elo and Bradley-Terry.

Every estimate comes with a confidence interval. Bootstrap intervals resample prompts (groups),
not images, by default: several images or battles of one prompt are not independent evidence.

Ratings use the Elo scale: P(a beats b) = 1 / (1 + base ** ((R_b - R_a) / scale)), with
``base=10, scale=400``; a rating is ``scale * theta + init``.

>>> from judgekit.stats.battles import Battles
>>> b = Battles.from_records([{"model_a": "x", "model_b": "y", "winner": w} for w in
...                           ["model_a", "model_a", "model_b", "tie"]])
>>> round(float(bradley_terry(b).ratings[0]), 1)   # x won 2.5 of 4: 3:5 odds in its favour
1044.4
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np
from scipy import optimize
from scipy.sparse import csgraph, csr_matrix
from scipy.stats import norm

from ..errors import ConfigError, DataError
from .battles import BattleCounts, Battles


def _one_blas_thread():
    """Bootstrap loops make thousands of tiny BLAS calls (inside L-BFGS-B and small products);
    multi-threaded OpenBLAS only adds spin-waiting to those, and on a busy machine it made them
    ten times slower. Limit BLAS to one thread while they run, when threadpoolctl is present."""
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:  # pragma: no cover - it comes with scikit-learn
        return contextlib.nullcontext()
    return threadpool_limits(limits=1, user_api="blas")


# --- plain estimates: Likert mean, pass rate ----------------------------------------------------


@dataclass(frozen=True)
class Estimate:
    """A point estimate with its confidence interval and how the interval was made."""

    value: float
    lo: float
    hi: float
    n: int
    level: float
    method: str  # "bootstrap-prompt", "bootstrap-item" or "wilson"

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def _percentile(stats: np.ndarray, level: float, axis: int = 0) -> tuple[np.ndarray, np.ndarray]:
    alpha = (1.0 - level) / 2.0
    return np.quantile(stats, alpha, axis=axis), np.quantile(stats, 1.0 - alpha, axis=axis)


def _group_codes(groups: Sequence | None, n: int) -> np.ndarray:
    if groups is None:
        return np.arange(n)
    if len(groups) != n:
        raise DataError(f"groups has {len(groups)} entries for {n} values")
    return np.unique(np.asarray([str(g) for g in groups], dtype=object), return_inverse=True)[1]


def _grouped_mean_boot(x: np.ndarray, codes: np.ndarray, n_boot: int, rng: np.random.Generator) -> np.ndarray:
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


def likert_mean(
    scores: Sequence[float],
    groups: Sequence | None = None,
    *,
    n_boot: int = 1000,
    level: float = 0.95,
    seed: int = 0,
) -> Estimate:
    """Mean rating with a percentile-bootstrap CI resampling ``groups`` (prompt ids) when given,
    single ratings otherwise.

    >>> e = likert_mean([5, 4, 4, 2, 3, 5], groups=["p1", "p1", "p2", "p2", "p3", "p3"])
    >>> round(e.value, 3), e.method
    (3.833, 'bootstrap-prompt')
    """
    x = np.asarray(scores, dtype=float)
    if x.size == 0:
        raise DataError("likert_mean: no scores")
    if not np.isfinite(x).all():
        raise DataError("likert_mean: scores must be finite numbers (drop failed samples first)")
    codes = _group_codes(groups, x.size)
    with _one_blas_thread():
        boot = _grouped_mean_boot(x, codes, n_boot, np.random.default_rng(seed))
    lo, hi = _percentile(boot, level)
    method = "bootstrap-prompt" if groups is not None else "bootstrap-item"
    return Estimate(float(x.mean()), float(lo), float(hi), int(x.size), level, method)


def wilson_interval(k: int, n: int, level: float = 0.95) -> tuple[float, float]:
    """Wilson score interval for k successes in n independent trials.

    >>> [round(v, 4) for v in wilson_interval(8, 10)]
    [0.4902, 0.9433]
    """
    if n <= 0:
        raise DataError("wilson_interval: n must be positive")
    z = float(norm.ppf(1.0 - (1.0 - level) / 2.0))
    p = k / n
    denom = 1.0 + z * z / n
    centre = (p + z * z / (2 * n)) / denom
    half = z * np.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / denom
    return float(max(0.0, centre - half)), float(min(1.0, centre + half))


def pass_rate(
    passed: Sequence[bool | int | float],
    groups: Sequence | None = None,
    *,
    method: str = "bootstrap",
    n_boot: int = 1000,
    level: float = 0.95,
    seed: int = 0,
) -> Estimate:
    """Share of items that pass, with a CI named by ``method``: ``bootstrap`` (resamples
    ``groups`` when given) or ``wilson`` (treats every item as independent, so it refuses
    ``groups``: with several images per prompt use the bootstrap).

    >>> pass_rate([1, 1, 0, 1, 1, 1, 1, 0, 1, 1], method="wilson").lo.__round__(4)
    0.4902
    """
    x = np.asarray(passed, dtype=float)
    if x.size == 0:
        raise DataError("pass_rate: no items")
    if not np.isin(x, (0.0, 1.0)).all():
        raise DataError("pass_rate: every item must be pass (1/True) or fail (0/False)")
    if method == "wilson":
        if groups is not None:
            raise ConfigError("pass_rate: the Wilson interval assumes independent items; use method='bootstrap' with groups")
        lo, hi = wilson_interval(int(x.sum()), x.size, level)
        return Estimate(float(x.mean()), lo, hi, int(x.size), level, "wilson")
    if method != "bootstrap":
        raise ConfigError(f"pass_rate: method must be 'bootstrap' or 'wilson', not {method!r}")
    e = likert_mean(x, groups, n_boot=n_boot, level=level, seed=seed)
    return e


# --- win rates --------------------------------------------------------------------------------


def _score_matrices(counts: BattleCounts, n_models: int) -> tuple[np.ndarray, np.ndarray]:
    """(C, M) matrices mapping cell counts to each model's score (W + T/2) and battles."""
    c = counts.cell_outcome.size
    s_lo = np.choose(counts.cell_outcome, [1.0, 0.0, 0.5])
    score = np.zeros((c, n_models))
    games = np.zeros((c, n_models))
    cols = np.arange(c)
    score[cols, counts.cell_lo] += s_lo
    score[cols, counts.cell_hi] += 1.0 - s_lo
    games[cols, counts.cell_lo] = 1.0
    games[cols, counts.cell_hi] = 1.0
    return score, games


def win_rates(
    battles: Battles, *, n_boot: int = 1000, level: float = 0.95, seed: int = 0
) -> dict[str, Estimate]:
    """Each model's win rate (W + T/2) / N over all its battles, with a bootstrap CI that
    resamples prompts (the battles' groups)."""
    counts = BattleCounts(battles)
    score, games = _score_matrices(counts, battles.n_models)
    value = (counts.total @ score) / (counts.total @ games)
    rng = np.random.default_rng(seed)
    with _one_blas_thread():
        boot = np.concatenate([(c @ score) / np.maximum(c @ games, 1e-300) for c in counts.resample(n_boot, rng)])
    boot[:, ~np.isfinite(value)] = np.nan
    lo, hi = _percentile(boot, level)
    n = (counts.total @ games).astype(int)
    return {
        m: Estimate(float(value[i]), float(lo[i]), float(hi[i]), int(n[i]), level, "bootstrap-prompt")
        for i, m in enumerate(battles.models)
    }


def head_to_head(battles: Battles) -> tuple[tuple[str, ...], np.ndarray, np.ndarray]:
    """``(models, rate, n)``: ``rate[i, j]`` is model i's win rate (W + T/2) / N against model j
    (NaN where they never met), ``n[i, j]`` the number of battles between them."""
    m = battles.n_models
    n = np.zeros((m, m))
    s = np.zeros((m, m))
    np.add.at(n, (battles.a, battles.b), 1.0)
    np.add.at(s, (battles.a, battles.b), battles.score)
    n_sym = n + n.T
    s_sym = s + (n.T - s.T)  # i's score against j counts battles listed either way round
    with np.errstate(invalid="ignore", divide="ignore"):
        rate = np.where(n_sym > 0, s_sym / n_sym, np.nan)
    return battles.models, rate, n_sym.astype(int)


# --- ratings ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Ratings:
    models: tuple[str, ...]
    ratings: np.ndarray
    method: str
    options: dict[str, Any] = field(default_factory=dict)

    def as_dict(self) -> dict[str, float]:
        return {m: float(r) for m, r in zip(self.models, self.ratings, strict=True)}


def _elo_scalar(a, b, s, n, k, base, scale, init) -> np.ndarray:
    r = [float(init)] * n
    for i, j, si in zip(a.tolist(), b.tolist(), s.tolist(), strict=True):
        ea = 1.0 / (1.0 + base ** ((r[j] - r[i]) / scale))
        d = k * (si - ea)
        r[i] += d
        r[j] -= d
    return np.asarray(r)


def _elo_lanes(a: np.ndarray, b: np.ndarray, s: np.ndarray, live: np.ndarray, n, k, base, scale, init) -> np.ndarray:
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


def identifiability_problems(models: Sequence[str], lo, hi, n_pair, s_pair) -> str | None:
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


def _bt_fit(lo, hi, n_pair, s_pair, n_models: int, c: float, prior: float, x0: np.ndarray | None) -> np.ndarray:
    """theta maximizing sum_p [S log sig(c d) + (N - S) log sig(-c d)] - prior/2 |theta|^2,
    d = theta_lo - theta_hi, with mean(theta) = 0 (the likelihood only sees differences, so a
    quadratic on sum(theta) pins the free shift without moving the optimum)."""
    total = max(float(n_pair.sum()), 1.0)

    def f(theta):
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


def _bt_to_ratings(theta: np.ndarray, models, scale: float, init: float, anchor: str | None) -> np.ndarray:
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
) -> Ratings:
    """Bradley-Terry ratings by maximum likelihood (L-BFGS on counts per pair; ties are half
    a win for each side): P(a beats b) = 1 / (1 + base^((R_b - R_a)/scale)).

    Ratings average ``init`` or, with ``anchor="model"``, that model is at ``init``.
    ``prior`` > 0 adds a Gaussian prior (an L2 penalty prior/2 * |theta|^2, theta = (R - init) /
    scale) that keeps ratings finite when the MLE does not exist; with ``prior=0`` (exact MLE) a
    model that never wins or never loses is a ``DataError`` naming it.
    """
    return _bt_from_counts(BattleCounts(battles), base=base, scale=scale, init=init, anchor=anchor, prior=prior)


def _bt_from_counts(counts: BattleCounts, *, base, scale, init, anchor, prior, x0=None) -> Ratings:
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


# --- leaderboards with bootstrap CIs ------------------------------------------------------------


@dataclass
class LeaderboardRow:
    rank: int
    model: str
    rating: float
    lo: float
    hi: float
    wins: int
    losses: int
    ties: int
    n: int


@dataclass
class Leaderboard:
    rows: list[LeaderboardRow]
    method: str
    level: float
    n_boot: int
    resample: str
    seed: int
    options: dict[str, Any]
    warnings: list[str] = field(default_factory=list)
    skipped: dict[str, int] = field(default_factory=dict)
    degenerate_rounds: int = 0  # bootstrap resamples in which the unregularized MLE was infinite

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["options"] = {k: v for k, v in self.options.items() if k != "theta"}
        return d

    def format(self) -> str:
        pct = f"{100 * self.level:g}% CI"
        head = f"{'rank':>4}  {'model':<28} {'rating':>8}  {pct:>19}  {'W/L/T':>17}  {'n':>6}"
        lines = [head]
        for r in self.rows:
            ci = "" if not np.isfinite(r.lo) else f"[{r.lo:8.1f}, {r.hi:8.1f}]"
            wlt = f"{r.wins}/{r.losses}/{r.ties}"
            lines.append(f"{r.rank:>4}  {r.model:<28} {r.rating:8.1f}  {ci:>19}  {wlt:>17}  {r.n:>6}")
        return "\n".join(lines)


def leaderboard(
    battles: Battles,
    *,
    method: str = "bt",
    n_boot: int = 1000,
    level: float = 0.95,
    seed: int = 0,
    resample: str = "prompt",
    **options: Any,
) -> Leaderboard:
    """Ratings (``method="bt"`` or ``"elo"``) with percentile-bootstrap CIs, and each model's
    wins/losses/ties. ``resample="prompt"`` resamples whole prompts (battle groups),
    ``"battle"`` single battles. Options go to ``bradley_terry`` or ``elo``.

    Each Bradley-Terry round is fitted on aggregated pair counts, warm-started from the
    full-data fit. Each Elo round replays its resampled battles in a fresh random order.
    """
    if method not in ("bt", "elo"):
        raise ConfigError(f"method must be 'bt' or 'elo', not {method!r}")
    if resample not in ("prompt", "battle"):
        raise ConfigError(f"resample must be 'prompt' or 'battle', not {resample!r}")
    if not 0 < level < 1:
        raise ConfigError(f"level must be in (0, 1), got {level}")
    if n_boot < 0:
        raise ConfigError(f"n_boot must be >= 0, got {n_boot}")
    if resample == "battle":
        battles = Battles(
            battles.models, battles.a, battles.b, battles.score, np.arange(len(battles)),
            tuple(f"#{i}" for i in range(len(battles))), battles.skipped,
        )
    with _one_blas_thread():
        return _leaderboard(battles, method, n_boot, level, seed, resample, options)


def _leaderboard(battles, method, n_boot, level, seed, resample, options) -> Leaderboard:
    rng = np.random.default_rng(seed)
    degenerate = 0
    if method == "bt":
        allowed = {"base", "scale", "init", "anchor", "prior"}
        _check_options(options, allowed, "bt")
        fit_opts = {"base": 10.0, "scale": 400.0, "init": 1000.0, "anchor": None, "prior": 0.0, **options}
        counts = BattleCounts(battles)
        point = _bt_from_counts(counts, **fit_opts)
        boot = np.empty((n_boot, battles.n_models))
        row = 0
        for chunk in counts.resample(n_boot, rng):
            n_pair, s_pair = counts.pair_totals(chunk)
            for cn, cs in zip(n_pair, s_pair, strict=True):
                if fit_opts["prior"] == 0 and identifiability_problems(counts.models, counts.pair_lo, counts.pair_hi, cn, cs):
                    degenerate += 1
                theta = _bt_fit(counts.pair_lo, counts.pair_hi, cn, cs, battles.n_models, np.log(fit_opts["base"]),
                                fit_opts["prior"], point.options["theta"])
                boot[row] = _bt_to_ratings(theta, list(counts.models), fit_opts["scale"], fit_opts["init"], fit_opts["anchor"])
                row += 1
    else:
        allowed = {"k", "base", "scale", "init", "n_orders"}
        _check_options(options, allowed, "elo")
        # The point estimate averages shuffled orders (like the bootstrap rounds, which replay in
        # random order), so it does not hinge on the file's order and sits inside its own CI.
        fit_opts = {"k": 4.0, "base": 10.0, "scale": 400.0, "init": 1000.0, "n_orders": 100, **options}
        point = elo(battles, seed=seed, **fit_opts)
        boot = np.concatenate([r for r in _elo_boot(battles, n_boot, rng, fit_opts)]) if n_boot else np.empty((0, battles.n_models))
    if n_boot:
        lo, hi = _percentile(boot, level)
    else:
        lo = hi = np.full(battles.n_models, np.nan)
    wlt = battles.record_counts()
    order = sorted(range(battles.n_models), key=lambda i: (-point.ratings[i], battles.models[i]))
    rows = [
        LeaderboardRow(rank, battles.models[i], float(point.ratings[i]), float(lo[i]), float(hi[i]),
                       int(wlt[i, 0]), int(wlt[i, 1]), int(wlt[i, 2]), int(wlt[i].sum()))
        for rank, i in enumerate(order, start=1)
    ]
    warnings = [
        f"model {r.model!r} appears in only {r.n} battle(s): a misspelt name? Declare the models to catch it"
        for r in rows if r.n < 2
    ]
    if degenerate:
        warnings.append(
            f"{degenerate} of {n_boot} bootstrap resamples had a model that never won or never lost there; "
            "its rating in those rounds is as extreme as the optimizer went, which widens its CI (prior > 0 avoids it)"
        )
    return Leaderboard(rows, method, level, n_boot, resample, seed, {**fit_opts}, warnings, dict(battles.skipped), degenerate)


def _check_options(options: dict[str, Any], allowed: set[str], method: str) -> None:
    bad = sorted(set(options) - allowed)
    if bad:
        raise ConfigError(f"options {bad} do not apply to method {method!r}; allowed: {sorted(allowed)}")


def _elo_boot(battles: Battles, n_boot: int, rng: np.random.Generator, opts: dict[str, Any]) -> Iterator[np.ndarray]:
    """Elo ratings of ``n_boot`` group resamples, each replayed in a random order; lanes of
    unequal length are padded with no-op steps."""
    order = np.argsort(battles.group, kind="stable")
    starts = np.searchsorted(battles.group[order], np.arange(len(battles.groups) + 1))
    sizes = np.diff(starts)
    present = np.flatnonzero(sizes)
    k, base, scale, init = opts["k"], opts["base"], opts["scale"], opts["init"]
    for s in range(0, n_boot, 64):
        lanes = min(64, n_boot - s)
        picks = [present[rng.integers(0, present.size, present.size)] for _ in range(lanes)]
        idx = [order[_expand(starts[p], sizes[p])] for p in picks]
        idx = [ix[rng.permutation(ix.size)] for ix in idx]
        width = max(ix.size for ix in idx)
        pad = np.zeros((lanes, width), dtype=np.int64)
        live = np.zeros((lanes, width), dtype=bool)
        for li, ix in enumerate(idx):
            pad[li, : ix.size] = ix
            live[li, : ix.size] = True
        yield _elo_lanes(battles.a[pad], battles.b[pad], battles.score[pad], live, battles.n_models, k, base, scale, init)


def _expand(starts: np.ndarray, lengths: np.ndarray) -> np.ndarray:
    """Concatenation of ``arange(s, s + n)`` over pairs (s, n), without a Python loop."""
    total = int(lengths.sum())
    offsets = np.repeat(np.cumsum(lengths) - lengths, lengths)
    return np.repeat(starts, lengths) + (np.arange(total) - offsets)
