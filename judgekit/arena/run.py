"""The arena loop: judge what is pending, refit, check, plan the next batch, repeat.

Each round refits Bradley-Terry (warm-started from the last fit) and predicts every model's CI
width from the Fisher information (``sampler``). When the prediction comes near the target (or
every few rounds) the bootstrap over prompts, the same one ``judgekit leaderboard`` runs, decides:
the run stops when every scheduled model's CI is within the target, or when ``max_battles`` have
been judged, or when the next battle could take the board's spend over ``budget_usd``, or when
no battle is left to judge, or when every battle of a batch failed (a judge that fails everything
will not do better on the next batch).

The cost budget is the board's, over all its runs: each battle's cost (its replies priced by
``judgekit.usage``) is stored with it. A batch is cut to the battles that fit in what is left,
each estimated at the costliest battle the board has recorded, or before any at the dry run's
at-most estimate (``RunnerJudge.estimate_cost``); the batch in flight is always finished. (A
``judge=`` callable counts against a budget only with the ``cost_usd`` of the battles it returns,
and is estimated before the first only if it has an ``estimate_cost`` method.)

Every round leaves a snapshot of the ratings (and the CIs when the bootstrap ran) for the
rating-over-battles plot.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import math
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ..errors import ConfigError
from ..stats.battles import Battles
from ..stats.leaderboard import Leaderboard
from ..usage import Ledger, PriceTable
from .board import Board
from .judge import Judge, RunnerJudge
from .sampler import BatchPlan, Candidates, covariance, pair_index, plan_batch, z_value
from .store import PlannedBattle

#: Run the bootstrap once the Fisher-predicted width is within this factor of the target...
CHECK_MARGIN = 1.25
#: ... or when this many rounds passed without one (the prediction may be off).
CHECK_EVERY = 4
#: The most battles one round plans (the first rounds of a big board are capped here).
MAX_BATCH = 2000
#: The first round knows no rating, so it plans at most this many battles per pair.
FIRST_PER_PAIR = 4
#: Battles of a planned batch the dry run renders to estimate a battle's cost before any is known.
ESTIMATE_SAMPLE = 8


@dataclass
class ArenaRun:
    """What one ``arena run`` did."""

    judged: int  # battles judged by this run (both orders each)
    failed: int
    batches: int
    stopped: str  # "target" | "budget" (max battles) | "cost" (budget_usd) | "exhausted" | "failing" (a whole batch failed)
    widths: dict[str, float]  # each scheduled model's CI width at the last check (the anchor's is 0)
    target: float
    leaderboard: Leaderboard | None
    seconds: float
    log: list[dict[str, Any]] = field(default_factory=list)
    #: Models that share no open prompt with any other and have no battle: they cannot be placed,
    #: so the stopping rule leaves them out (add their images on the board's prompts).
    unplaceable: list[str] = field(default_factory=list)
    #: USD this run's battles cost (None: no price table); the board's total over all runs; the budget.
    spent_usd: float | None = None
    board_spent_usd: float | None = None
    budget_usd: float | None = None

    @property
    def judgments(self) -> int:
        """Judge calls the battles took (two orders each, per rubric dimension: counted for one)."""
        return 2 * self.judged


def ci_widths(lb: Leaderboard, models: list[str], anchor: str, min_battles: int) -> dict[str, float]:
    """Full CI width of each of ``models`` but the anchor; a model with fewer than ``min_battles``
    battles (or no interval) counts as infinitely wide."""
    rows = {r.model: r for r in lb.rows}
    out = {}
    for m in models:
        if m == anchor:
            continue
        r = rows.get(m)
        ok = r is not None and r.n >= min_battles and np.isfinite(r.ci_low) and np.isfinite(r.ci_high)
        out[m] = float(r.ci_high - r.ci_low) if ok and r is not None else float("inf")
    return out


def pair_counts(battles: Battles | None, models: list[str]) -> np.ndarray:
    index = {m: i for i, m in enumerate(models)}
    n = np.zeros((len(models), len(models)))
    if battles is None:
        return n
    a = np.array([index.get(battles.models[i], -1) for i in battles.a])
    b = np.array([index.get(battles.models[i], -1) for i in battles.b])
    keep = (a >= 0) & (b >= 0)
    np.add.at(n, (a[keep], b[keep]), 1.0)
    return n + n.T


async def run_arena_async(
    board: Board,
    *,
    target_ci: float | None = None,
    max_battles: int | None = None,
    batch_size: int | None = None,
    judge: Judge | None = None,
    api_key: str | None = None,
    on_round: Callable[[dict[str, Any]], None] | None = None,
    budget_usd: float | None = None,
    prices: PriceTable | None = None,
) -> ArenaRun:
    """Judge battles on ``board`` until every scheduled model's CI is at most ``target_ci`` wide
    (default: the board's), or ``max_battles`` battles have been judged by this run, or the next
    battle could take the board's total spend over ``budget_usd`` (USD over all its runs; needs a
    price table: ``prices``, else the board's own). ``judge`` defaults to the board's rubric and
    backend through the runner (``RunnerJudge``)."""
    t0 = time.monotonic()
    s = board.settings
    target = float(target_ci if target_ci is not None else s.target_ci)
    if target <= 0:
        raise ConfigError(f"--target-ci must be > 0, got {target}")
    if max_battles is not None and max_battles < 0:
        raise ConfigError(f"--max-battles must be >= 0, got {max_battles}")
    store = board.store
    models = store.models()
    if s.anchor not in models:
        raise ConfigError(f"the anchor {s.anchor!r} has no images on the board yet: `judgekit arena add` its manifest first")
    if len(models) < 2:
        raise ConfigError(f"the board has {len(models)} model(s): add at least two before running")
    if prices is None:
        prices = board.price_table()
    own_judge = judge is None
    j: Judge = judge if judge is not None else RunnerJudge(board, api_key=api_key, prices=prices)
    run = ArenaRun(0, 0, 0, "target", {}, target, None, 0.0, budget_usd=budget_usd)
    run.spent_usd = 0.0 if prices is not None else None
    try:
        if budget_usd is not None:
            model = j.model if isinstance(j, RunnerJudge) else getattr(j, "model", None)
            if model is not None:  # the ledger's own checks: a table, a price for the model, a budget > 0
                Ledger(model, prices, max_cost=budget_usd)
            elif budget_usd <= 0:
                raise ConfigError(f"--budget-usd must be more than 0, got {budget_usd:g}")
        await _loop(board, j, run, models, target, max_battles, batch_size, on_round)
    finally:
        if own_judge and isinstance(j, RunnerJudge):
            await j.aclose()
    run.seconds = time.monotonic() - t0
    if prices is not None or budget_usd is not None:
        run.board_spent_usd = board.store.spent_usd()
    return run


async def _judge_pending(board: Board, judge: Judge, run: ArenaRun) -> bool:
    """Judge the pending battles; False when there were some and every one failed."""
    pending = board.store.pending()
    if not pending:
        return True
    judged = await judge(pending)
    board.store.complete(judged)
    if run.spent_usd is not None:
        run.spent_usd += sum(jb.cost_usd or 0.0 for jb in judged)
    failed = sum(jb.winner is None for jb in judged)
    run.judged += len(judged)
    run.failed += failed
    return failed < len(judged)


async def _loop(
    board: Board, judge: Judge, run: ArenaRun, models: list[str], target: float, max_battles: int | None,
    batch_size: int | None, on_round: Callable[[dict[str, Any]], None] | None,
) -> None:
    s, store = board.settings, board.store
    await _judge_pending(board, judge, run)  # a killed run's batch first
    cands = Candidates.build(models, set(store.images()), store.taken())
    battled = {m for _, a, b, _ in store.outcomes() for m in (a, b)}
    open_pairs = cands.capacity()
    run.unplaceable = [m for k, m in enumerate(models) if m not in battled and m != s.anchor
                       and not open_pairs[(cands.pair_i == k) | (cands.pair_j == k)].any()]
    scored = [m for m in models if m not in run.unplaceable]
    anchor = models.index(s.anchor)
    active = np.array([m in scored for m in models])
    inflation = np.ones(len(models))
    z = z_value(s.level)
    c = np.log(10.0) / 400.0
    start: dict[str, float] | None = None
    since_check = CHECK_EVERY
    while True:
        battles = board.battles()
        lb = board.leaderboard(n_boot=0, start=start) if battles is not None else None
        start = {r.model: r.rating for r in lb.rows} if lb is not None else None
        known = [start[m] for m in models if start and m in start]
        fill = float(np.mean(known)) if known else s.anchor_rating
        r = np.array([start.get(m, fill) if start else fill for m in models])
        n_pair = pair_counts(battles, models)
        fisher_var = np.diag(covariance(r, n_pair, anchor, active, c))
        predicted = 2 * z * np.sqrt(fisher_var * inflation)
        batch_no = store.next_batch_number()
        entry: dict[str, Any] = {"batch": batch_no, "battles": len(battles) if battles is not None else 0,
                                 "predicted_max_width": float(predicted.max())}
        ci = None
        if lb is not None and (predicted.max() <= CHECK_MARGIN * target or since_check >= CHECK_EVERY):
            since_check = 0
            lb = board.leaderboard(start=start)
            assert lb is not None  # the point fit above existed
            run.leaderboard = lb
            run.widths = ci_widths(lb, scored, s.anchor, s.min_battles)
            ci = {row.model: [row.ci_low, row.ci_high] for row in lb.rows}
            for i, m in enumerate(models):
                w = run.widths.get(m, 0.0)
                if np.isfinite(w) and fisher_var[i] > 0 and w > 0:
                    inflation[i] = float(np.clip((w / (2 * z)) ** 2 / fisher_var[i], 0.25, 10.0))
            entry["max_width"] = max(run.widths.values(), default=0.0)
        else:
            since_check += 1
        if start is not None and battles is not None:
            store.snapshot(batch_no - 1, len(battles), start, ci)
        converged = bool(run.widths) and max(run.widths.values()) <= target and ci is not None
        budget = None if max_battles is None else max_battles - run.judged
        stop = "target" if converged else "budget" if budget is not None and budget <= 0 else None
        left = per_battle = None
        if stop is None and run.budget_usd is not None:
            left = run.budget_usd - store.spent_usd()
            per_battle = store.costliest_battle()
            fits = None if not per_battle else math.floor(left / per_battle)
            if left <= 0 or (fits is not None and fits < 1):
                stop = "cost"
            elif fits is not None:
                budget = fits if budget is None else min(budget, fits)
        if stop is None:
            rng = np.random.default_rng([s.seed, batch_no])
            cap = MAX_BATCH if budget is None else max(1, min(MAX_BATCH, budget))
            if battles is None:  # nothing known yet: a first look (a few battles a pair), then aim
                cap = min(cap, FIRST_PER_PAIR * len(models) * (len(models) - 1) // 2)
            size = None if batch_size is None else min(batch_size, cap)
            plan = plan_batch(cands, r, n_pair, anchor, active, target_width=target, inflation=inflation,
                              level=s.level, batch_size=size, max_batch=cap, min_batch=min(2 * len(models), cap), rng=rng)
            if left is not None and not per_battle and plan.battles:  # no battle's cost known yet
                await _fit_first_estimate(board, judge, cands, plan, left)
                if not plan.battles:
                    stop = "cost"
            entry["planned"] = len(plan.battles)
            if not plan.battles and stop is None:
                stop = "exhausted"
        run.log.append(entry)
        if on_round is not None:
            on_round(entry)
        if stop is not None:
            run.stopped = stop
            if ci is None and battles is not None:  # report CIs that match the final data
                run.leaderboard = board.leaderboard(start=start)
                if run.leaderboard is not None:
                    run.widths = ci_widths(run.leaderboard, scored, s.anchor, s.min_battles)
            return
        store.plan(batch_no, [(cands.prompts[p], models[i], models[jj]) for i, jj, p in plan.battles])
        run.batches += 1
        if not await _judge_pending(board, judge, run):
            # A judge that failed every battle of a batch will not do better on the next one.
            run.stopped = "failing"
            return


async def _fit_first_estimate(board: Board, judge: Judge, cands: Candidates, plan: BatchPlan, left: float) -> None:
    """Cut ``plan`` to the battles whose dry-run estimate (``judge.estimate_cost`` on the first
    few, at most, every reply at max_tokens) fits in ``left`` USD; a judge that cannot estimate
    keeps the plan. The battles cut go back to the candidates."""
    estimate = getattr(judge, "estimate_cost", None)
    if estimate is None:
        return
    images, prompts = board.store.images(), board.store.prompts()
    sample = []
    for k, (i, j, p) in enumerate(plan.battles[:ESTIMATE_SAMPLE]):
        a, b = sorted((cands.models[i], cands.models[j]))
        pid = cands.prompts[p]
        sample.append(PlannedBattle(-1 - k, pid, prompts.get(pid), a, b, images[(a, pid)], images[(b, pid)]))
    cost = await estimate(sample)
    if not cost:
        return
    fits = max(0, math.floor(left / (cost / len(sample))))
    for i, j, p in plan.battles[fits:]:
        cands.met[pair_index(i, j, len(cands.models)), p] = False
        cands.load[p] -= 1
    del plan.battles[fits:]


def run_arena(board: Board, **kwargs: Any) -> ArenaRun:
    """``run_arena_async`` from synchronous code (also inside a running event loop)."""
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return asyncio.run(run_arena_async(board, **kwargs))
    with concurrent.futures.ThreadPoolExecutor(1) as pool:
        return pool.submit(asyncio.run, run_arena_async(board, **kwargs)).result()
