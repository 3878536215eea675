"""Judging a batch of battles through the normal runner: the board's pairwise rubric, both orders,
the response cache, retries and the backend's concurrency, exactly as ``judgekit score`` does.

A judge is any ``async (battles) -> judged battles`` callable; ``RunnerJudge`` is the real one.
(The benchmark drives the same loop with an in-process simulated judge instead.)
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from typing import Any

from ..backends import Backend, make_backend
from ..runner import score_async
from ..types import Result, Sample
from ..usage import Ledger, PriceTable
from ..usage.dryrun import DryRunCount
from .board import Board
from .store import JudgedBattle, PlannedBattle

Judge = Callable[[Sequence[PlannedBattle]], Awaitable[list[JudgedBattle]]]

#: Provenance fields that identify the judge (the rest, such as the creation time, do not).
_IDENTITY = ("rubric", "rubric_version", "rubric_hash", "template_hash", "merge", "primary", "kind", "backend",
             "decoding", "judgekit_version", "judge")


def battle_sample(b: PlannedBattle) -> Sample:
    return Sample(id=f"battle-{b.id}", prompt=b.prompt, prompt_id=b.prompt_id, image_a=b.image_a, image_b=b.image_b,
                  model_a=b.model_a, model_b=b.model_b)


def judged_from_result(battle_id: int, r: Result | None) -> JudgedBattle:
    if r is None:
        return JudgedBattle(battle_id, None, error="no result came back for this battle")
    identity = {k: r.provenance[k] for k in _IDENTITY if k in r.provenance}
    if r.status != "ok":
        return JudgedBattle(battle_id, None, judge=identity, error=r.error or "failed")
    primary = r.provenance.get("primary") or next(iter(r.details.get("verdicts", {})), None)
    verdicts = r.details.get("verdicts", {}).get(primary, {})
    winner = getattr(r, "winner", None)
    return JudgedBattle(battle_id, winner, verdicts.get("AB"), verdicts.get("BA"), identity, **_usage(r))


def _usage(r: Result) -> dict[str, Any]:
    """The battle's usage and cost from its record's ``details["usage"]`` (the runner's). Its cost
    is what its calls cost when answered: by this run, or (replayed from the board's cache) by a run
    killed before it stored the battle, which recorded none of it."""
    used = r.details.get("usage")
    if not isinstance(used, dict):
        return {}
    if "cost_usd" not in used:  # no price table
        return {"usage": used}
    parts = (used.get("cost_usd"), used.get("cost_when_first_answered_usd"))
    cost = None if any(c is None for c in parts) else float(sum(parts))  # type: ignore[arg-type]
    return {"usage": used, "cost_usd": cost}


class RunnerJudge:
    """The board's judge: its rubric and backend, one backend object for the whole run."""

    def __init__(self, board: Board, backend: Backend | None = None, api_key: str | None = None,
                 prices: PriceTable | None = None):
        s = board.settings
        self.board = board
        self.prices = prices
        self.owned = backend is None
        settings = {"base_url": s.base_url, "api_key": api_key, "concurrency": s.concurrency}
        self.backend = backend or make_backend(s.backend, settings=settings, **s.engine_options)

    async def __call__(self, battles: Sequence[PlannedBattle]) -> list[JudgedBattle]:
        s = self.board.settings
        cache: Any = self.board.cache_path or False
        results = await score_async(
            s.rubric, [battle_sample(b) for b in battles], backend=self.backend, cache=cache,
            concurrency=s.concurrency, parse_retries=s.parse_retries, method_options=dict(s.rubric_options),
            ledger=Ledger(self.model, self.prices),  # prices each battle's replies (no budget inside a batch)
        )
        by_id = {r.sample_id: r for r in results}
        return [judged_from_result(b.id, by_id.get(f"battle-{b.id}")) for b in battles]

    @property
    def model(self) -> str:
        """The model id the price table is looked up with."""
        return str(getattr(self.backend, "model", self.backend.spec))

    async def estimate_cost(self, battles: Sequence[PlannedBattle]) -> float | None:
        """At most what judging ``battles`` costs, before any reply is known: the dry run's
        estimate (every request rendered, none sent; estimated prompt tokens and every reply at
        ``max_tokens``), or None without a price for the model."""
        if self.prices is None or not battles:
            return None
        s = self.board.settings
        count = DryRunCount(self.model)
        cache: Any = self.board.cache_path or False
        await score_async(
            s.rubric, [battle_sample(b) for b in battles], backend=self.backend, cache=cache,
            concurrency=s.concurrency, parse_retries=s.parse_retries, method_options=dict(s.rubric_options),
            ledger=Ledger(self.model, self.prices, divert=count),
        )
        est = count.to_json(self.prices).get("cost_usd")
        return None if est is None else float(est["live_at_most"])

    async def aclose(self) -> None:
        if self.owned:
            await self.backend.aclose()
