"""Bradley-Terry leaderboard with 1,000 bootstrap rounds on 100,000 battles among 20 models.

judgekit: battles aggregated into counts per (pair, outcome) cell, each round drawn directly as
cell counts (a multinomial over distinct prompt contents), an L-BFGS fit on ~190 pair totals
warm-started from the full-data fit.

Baseline, in the same process: what one writes first -- per round, resample prompts, build the
expanded battle rows (one row per battle, a tie as two half-weight rows), and fit an unpenalized
scikit-learn LogisticRegression. The baseline is timed on ``--baseline-rounds`` rounds and its
per-round time is extrapolated to the full count (said in the output).

    .venv/bin/python bench/bench_bradley_terry.py            # full size
    .venv/bin/python bench/bench_bradley_terry.py --quick    # 10,000 battles, 200 rounds
"""

from __future__ import annotations

import argparse
import time

import numpy as np
from sklearn.linear_model import LogisticRegression

from judgekit.stats.battles import Battles
from judgekit.stats.leaderboard import leaderboard
from judgekit.stats.ratings import bradley_terry


def make_battles(n_battles: int, n_models: int, per_prompt: int, seed: int) -> Battles:
    rng = np.random.default_rng(seed)
    theta = rng.normal(0, 0.3, n_models)
    a = rng.integers(0, n_models, n_battles)
    b = (a + rng.integers(1, n_models, n_battles)) % n_models
    p = 1 / (1 + 10 ** (theta[b] - theta[a]))
    tie = rng.random(n_battles) < 0.2
    s = np.where(tie, 0.5, (rng.random(n_battles) < (p - 0.1) / 0.8).astype(float))
    names = [f"model_{i:02d}" for i in range(n_models)]
    return Battles.from_arrays(
        [names[i] for i in a], [names[i] for i in b], s, [f"p{i // per_prompt}" for i in range(n_battles)]
    )


def baseline_fit(x: np.ndarray, y: np.ndarray, w: np.ndarray) -> np.ndarray:
    lr = LogisticRegression(C=np.inf, fit_intercept=False, tol=1e-6, max_iter=1000)
    lr.fit(x, y, sample_weight=w)
    return np.concatenate([[0.0], lr.coef_[0]])


def expanded(b: Battles, idx: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    a, bb, s = b.a[idx], b.b[idx], b.score[idx]
    x = np.zeros((idx.size, b.n_models))
    x[np.arange(idx.size), a] = 1.0
    x[np.arange(idx.size), bb] = -1.0
    tie = s == 0.5
    x = np.vstack([x, x[tie]])[:, 1:]  # model 0 is the reference
    y = np.concatenate([np.where(tie, 1.0, s), np.zeros(tie.sum())])
    w = np.concatenate([np.where(tie, 0.5, 1.0), np.full(tie.sum(), 0.5)])
    return x, y, w


def baseline(b: Battles, rounds: int, seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    members = [np.flatnonzero(b.group == g) for g in range(len(b.groups))]
    out = []
    for _ in range(rounds):
        pick = rng.integers(0, len(members), len(members))
        idx = np.concatenate([members[g] for g in pick])
        beta = baseline_fit(*expanded(b, idx))
        theta = beta / np.log(10)
        out.append(400 * (theta - theta.mean()) + 1000)
    return np.array(out)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--battles", type=int, default=100_000)
    ap.add_argument("--models", type=int, default=20)
    ap.add_argument("--per-prompt", type=int, default=5, help="battles per prompt (the bootstrap resamples prompts)")
    ap.add_argument("--rounds", type=int, default=1000)
    ap.add_argument("--baseline-rounds", type=int, default=10)
    ap.add_argument("--quick", action="store_true")
    args = ap.parse_args()
    if args.quick:
        args.battles, args.rounds, args.baseline_rounds = 10_000, 200, 5

    b = make_battles(args.battles, args.models, args.per_prompt, seed=0)
    print(f"{len(b):,} battles, {b.n_models} models, {len(b.groups):,} prompts, {args.rounds} bootstrap rounds")

    # the two fits agree on the full data (a check that both compute the same thing)
    ours_full = bradley_terry(b).ratings
    beta = baseline_fit(*expanded(b, np.arange(len(b))))
    theta = beta / np.log(10)
    print(f"full-data fit: max |judgekit - sklearn| = {np.abs(ours_full - (400 * (theta - theta.mean()) + 1000)).max():.2e} rating points")

    t0 = time.perf_counter()
    lb = leaderboard(b, n_boot=args.rounds, seed=0)
    t_ours = time.perf_counter() - t0

    t0 = time.perf_counter()
    base = baseline(b, args.baseline_rounds, seed=0)
    t_base_measured = time.perf_counter() - t0
    per_round = t_base_measured / args.baseline_rounds
    t_base = per_round * args.rounds

    widths_ours = np.array([r.ci_high - r.ci_low for r in lb.rows]).mean()
    print(f"judgekit : {t_ours:8.2f} s for {args.rounds} rounds ({1000 * t_ours / args.rounds:.2f} ms/round); mean CI width {widths_ours:.1f}")
    print(
        f"baseline : {t_base:8.2f} s for {args.rounds} rounds, extrapolated from {args.baseline_rounds} measured rounds "
        f"({t_base_measured:.2f} s, {1000 * per_round:.1f} ms/round); rating sd across its rounds {base.std(axis=0).mean():.1f}"
    )
    print(f"ratio (baseline / judgekit): {t_base / t_ours:.1f}x")


if __name__ == "__main__":
    main()
