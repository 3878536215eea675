"""Judgments needed to bring every model's 95% CI within a target (default 15 Elo) on a simulated
world of 12 models: the arena's adaptive sampler vs fixed plans (``random:K`` pairs per prompt,
and all pairs) and a GenArena-like sampler, averaged over seeds; and the time of one refit at
100,000 battles.

    PYTHONPATH=. python bench/bench_arena.py [--target 15] [--seeds 5] [--quick]

The world is tests/arena_world.py (known Bradley-Terry strengths over 600 Elo points, per-image
prompt effects, a judge with position bias, ties and noise). For speed the judge is called in
process (``sim_judge``), not over HTTP; the arena itself is the real one: board, SQLite store,
sampler, warm-started refits and the bootstrap-over-prompts stopping rule.

Fixed plans judge prompts in order, K uniformly drawn distinct pairs each (what ``plan_pairs``
"random:K" does; "all" is every pair), and are stopped by the *same* rule (every model's bootstrap
CI over prompts within the target, anchor fixed, same prior and draws), checked at the best
moment found by a search over the number of prompts, which favours the fixed plans (an online
run must check as it goes, as the adaptive one does). "genarena-like" follows GenArena's documented
adaptive mode (uniform over pairs in rounds of 100 battles per pair, checked after each round;
written here from its description, not its code). Judgments are judge calls: two per battle.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from judgekit.arena import Board, ci_widths, run_arena  # noqa: E402
from judgekit.stats.agreement import spearman  # noqa: E402
from judgekit.stats.battles import Battles  # noqa: E402
from judgekit.stats.leaderboard import leaderboard  # noqa: E402
from tests.arena_world import World, make_world, sim_judge  # noqa: E402

ANCHOR = "m03"
N_BOOT, PRIOR, MIN_BATTLES = 200, 0.01, 10  # the board defaults (ArenaSettings)


def board_for(world: World, folder: str) -> Board:
    b = Board.init(folder, rubric="pairwise-t2i", backend="openai:simulated", anchor=ANCHOR, cache=None, seed=world.seed)
    for name in world.models:  # images are never read by the in-process judge: register them directly
        b.store.add_model(name, "simulated", [(p, None, f"/simulated/{name}/{p}.png", f"{name}-{p}") for p in world.prompts])
    return b


def adaptive(world: World, target: float) -> tuple[int, float, float]:
    with tempfile.TemporaryDirectory() as d:
        board = board_for(world, d + "/board")
        run = run_arena(board, target_ci=target, judge=sim_judge(world))
        assert run.stopped == "target", run.stopped
        lb = run.leaderboard
        assert lb is not None
        rating = {r.model: r.rating for r in lb.rows}
        rho = spearman([rating[m] for m in world.models], world.strength)
        board.close()
        return run.judged, rho, run.seconds


def fixed_order(world: World, k: int | None, seed: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(i, j, prompt) of every battle of the plan, prompt after prompt."""
    m = len(world.models)
    pi, pj = np.triu_indices(m, 1)
    n_pairs = pi.size
    rng = np.random.default_rng(seed + 7)
    n_prompts = len(world.prompts)
    if k is None or k >= n_pairs:
        pick = np.tile(np.arange(n_pairs), (n_prompts, 1))
    else:
        pick = np.argsort(rng.random((n_prompts, n_pairs)), axis=1)[:, :k]
    prompts = np.repeat(np.arange(n_prompts), pick.shape[1])
    return pi[pick.ravel()], pj[pick.ravel()], prompts


def converged(world: World, i: np.ndarray, j: np.ndarray, p: np.ndarray, target: float) -> bool:
    _, _, score = world.battle(i, j, p)
    names = np.array(world.models, dtype=object)
    b = Battles.from_arrays(names[i], names[j], score, np.array(world.prompts, dtype=object)[p], models=world.models)
    lb = leaderboard(b, n_boot=N_BOOT, seed=world.seed, anchor=ANCHOR, init=1000.0, prior=PRIOR)
    return max(ci_widths(lb, world.models, ANCHOR, MIN_BATTLES).values()) <= target


def fixed(world: World, k: int | None, target: float) -> int:
    """Battles of the shortest prefix (whole prompts) of the plan that meets the target."""
    i, j, p = fixed_order(world, k, world.seed)
    per_prompt = len(i) // len(world.prompts)
    lo, hi = 0, max(1, 200 // per_prompt)
    while not converged(world, i[: hi * per_prompt], j[: hi * per_prompt], p[: hi * per_prompt], target):
        lo, hi = hi, int(hi * 1.5) + 1
        if hi * per_prompt > len(i):
            raise SystemExit(f"plan {k}: the world's {len(world.prompts)} prompts are not enough; raise --prompts")
    while hi - lo > max(1, lo // 50):  # to 2%
        mid = (lo + hi) // 2
        if converged(world, i[: mid * per_prompt], j[: mid * per_prompt], p[: mid * per_prompt], target):
            hi = mid
        else:
            lo = mid
    return hi * per_prompt


def genarena_like(world: World, target: float, per_round: int = 100) -> int:
    """A reimplementation, from its documented behaviour, of GenArena's adaptive mode: every pair
    gets ``per_round`` battles on randomly drawn prompts it has not met on, round after round,
    until the widest CI meets the target (checked after each round, as GenArena does)."""
    m = len(world.models)
    pi, pj = np.triu_indices(m, 1)
    rng = np.random.default_rng(world.seed + 11)
    order = np.argsort(rng.random((pi.size, len(world.prompts))), axis=1)  # each pair's prompt order
    rounds = 1
    while True:
        take = order[:, : rounds * per_round]
        i, j, p = np.repeat(pi, take.shape[1]), np.repeat(pj, take.shape[1]), take.ravel()
        if converged(world, i, j, p, target):
            return int(i.size)
        rounds += 1
        if rounds * per_round > len(world.prompts):
            raise SystemExit("genarena-like: not enough prompts; raise --prompts")


def refit_time(world: World, n: int = 100_000) -> tuple[float, float]:
    """(seconds of one warm-started point refit, seconds of one bootstrap check) at ``n`` battles."""
    i, j, p = fixed_order(world, 4, world.seed)
    i, j, p = i[:n], j[:n], p[:n]
    _, _, score = world.battle(i, j, p)
    names = np.array(world.models, dtype=object)
    b = Battles.from_arrays(names[i], names[j], score, np.array(world.prompts, dtype=object)[p], models=world.models)
    first = leaderboard(b, n_boot=0, anchor=ANCHOR, init=1000.0, prior=PRIOR)
    start = {r.model: r.rating + 5.0 for r in first.rows}  # a nearby earlier fit
    t = time.perf_counter()
    leaderboard(b, n_boot=0, anchor=ANCHOR, init=1000.0, prior=PRIOR, start=start)
    point = time.perf_counter() - t
    t = time.perf_counter()
    leaderboard(b, n_boot=N_BOOT, anchor=ANCHOR, init=1000.0, prior=PRIOR, start=start)
    return point, time.perf_counter() - t


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--target", type=float, default=15.0, help="full width of every model's 95%% CI (Elo)")
    ap.add_argument("--seeds", type=int, default=5)
    ap.add_argument("--prompts", type=int, default=120_000, help="prompts in the world (random:1 needs one per battle)")
    ap.add_argument("--plans", default="1,4,16,all", help="fixed plans: K of random:K, or all")
    ap.add_argument("--spread", type=float, default=600.0, help="Elo points between the weakest and the strongest model")
    ap.add_argument("--quick", action="store_true", help="target 40, 2 seeds: a smoke run")
    args = ap.parse_args()
    if args.quick:
        args.target, args.seeds, args.prompts = 40.0, 2, 30_000
    plans: list[int | None] = [None if x == "all" else int(x) for x in args.plans.split(",")]
    print(f"target: every model's 95% CI <= {args.target:g} Elo; 12 models over {args.spread:g} Elo, anchor {ANCHOR}; {args.seeds} seeds; "
          f"judgments = 2 per battle (both orders)")
    rows: dict[str, list[int]] = {"adaptive": []}
    rho_all = []
    for seed in range(args.seeds):
        world = make_world(12, args.prompts, seed=seed, spread=args.spread)
        n, rho, secs = adaptive(world, args.target)
        rows["adaptive"].append(n)
        rho_all.append(rho)
        line = [f"seed {seed}: adaptive {2 * n} judgments (Spearman {rho:.3f}, {secs:.0f} s)"]
        for k in plans:
            name = "all pairs" if k is None else f"random:{k}"
            nk = fixed(world, k, args.target)
            rows.setdefault(name, []).append(nk)
            line.append(f"{name} {2 * nk}")
        ng = genarena_like(world, args.target)
        rows.setdefault("genarena-like", []).append(ng)
        line.append(f"genarena-like {2 * ng}")
        print("; ".join(line), flush=True)
    mean = {k: float(np.mean(v)) for k, v in rows.items()}
    best = min((k for k in mean if k not in ("adaptive", "genarena-like")), key=lambda k: mean[k])
    print("\nmean judgments to the target:")
    for k, v in mean.items():
        print(f"  {k:<11} {2 * v:>10.0f}   (sd {2 * np.std(rows[k]):.0f})")
    print(f"adaptive / best fixed plan ({best}): {mean['adaptive'] / mean[best]:.2f}x   (goal <= 0.5x)")
    print(f"adaptive / genarena-like (uniform over pairs, rounds of 100 per pair): "
          f"{mean['adaptive'] / mean['genarena-like']:.2f}x")
    print(f"adaptive Spearman with the true strengths: min {min(rho_all):.3f}")
    point, boot = refit_time(make_world(12, 30_000, seed=0))
    print(f"refit at 100,000 battles: warm-started point fit {1000 * point:.1f} ms; bootstrap check "
          f"({N_BOOT} draws) {boot:.2f} s")


if __name__ == "__main__":
    main()
