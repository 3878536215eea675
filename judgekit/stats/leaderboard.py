"""Leaderboards: win rates, the head-to-head matrix, and ratings with bootstrap CIs that resample
prompts (whole battle groups), ranked with ties sharing a rank.

>>> from judgekit.stats.battles import Battles
>>> b = Battles.from_records([{"model_a": "x", "model_b": "y", "winner": w, "prompt_id": f"p{i}"}
...                           for i, w in enumerate(["model_a", "model_a", "model_b", "tie"])])
>>> [r.model for r in leaderboard(b, n_boot=50).rows]
['x', 'y']
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np

from ..errors import ConfigError
from ..io import jsonable
from .battles import BattleCounts, Battles
from .bootstrap import one_blas_thread, percentile_intervals
from .estimates import Estimate
from .ratings import (
    _bt_fit,
    _bt_from_counts,
    _bt_to_ratings,
    _elo_lanes,
    elo,
    identifiability_problems,
    start_theta,
)

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
    with one_blas_thread():
        boot = np.concatenate([(c @ score) / np.maximum(c @ games, 1e-300) for c in counts.resample(n_boot, rng)])
    boot[:, ~np.isfinite(value)] = np.nan
    lo, hi = percentile_intervals(boot, level)
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


# --- leaderboards with bootstrap CIs ------------------------------------------------------------


@dataclass
class LeaderboardRow:
    rank: int
    model: str
    rating: float
    ci_low: float
    ci_high: float
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
        """Plain data for JSON: undefined intervals (``n_boot=0``) are ``None``, never NaN."""
        d = asdict(self)
        d["options"] = {k: v for k, v in self.options.items() if k != "theta"}
        return jsonable(d)

    def format(self) -> str:
        pct = f"{100 * self.level:g}% CI"
        head = f"{'rank':>4}  {'model':<28} {'rating':>8}  {pct:>19}  {'W/L/T':>17}  {'n':>6}"
        lines = [head]
        for r in self.rows:
            ci = "" if not np.isfinite(r.ci_low) else f"[{r.ci_low:8.1f}, {r.ci_high:8.1f}]"
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
    full-data fit (itself warm-started from ``start=`` earlier ratings by model, when given). Each Elo round replays its resampled battles in a fresh random order.
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
    with one_blas_thread():
        return _leaderboard(battles, method, n_boot, level, seed, resample, options)


def _leaderboard(
    battles: Battles, method: str, n_boot: int, level: float, seed: int, resample: str, options: dict[str, Any]
) -> Leaderboard:
    rng = np.random.default_rng(seed)
    degenerate = 0
    if method == "bt":
        allowed = {"base", "scale", "init", "anchor", "prior", "start"}
        _check_options(options, allowed, "bt")
        fit_opts = {"base": 10.0, "scale": 400.0, "init": 1000.0, "anchor": None, "prior": 0.0, **options}
        start = fit_opts.pop("start", None)  # where the optimizer begins, not a setting of the fit
        counts = BattleCounts(battles)
        x0 = start_theta(start, counts.models, fit_opts["scale"], fit_opts["init"])
        point = _bt_from_counts(counts, **fit_opts, x0=x0)
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
        lo, hi = percentile_intervals(boot, level)
    else:
        lo = hi = np.full(battles.n_models, np.nan)
    wlt = battles.record_counts()
    order = sorted(range(battles.n_models), key=lambda i: (-point.ratings[i], battles.models[i]))
    # Competition ranking: models with equal ratings (to print precision) share a rank.
    rounded = np.round(point.ratings, 6)
    rows = [
        LeaderboardRow(1 + int((rounded > rounded[i]).sum()), battles.models[i], float(point.ratings[i]),
                       float(lo[i]), float(hi[i]), int(wlt[i, 0]), int(wlt[i, 1]), int(wlt[i, 2]), int(wlt[i].sum()))
        for i in order
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
