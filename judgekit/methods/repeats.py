"""A self-ensemble of one judge call: the call sent K times (``--repeats K``), the K verdicts
combined into one (``--aggregate mean|median|majority``), as EditScore averages several passes
of its judge. Works on calls whose value is a ``Verdict`` or a mapping of dimension ->
``Verdict`` (pointwise rubrics, one call per dimension or all dimensions in one call)."""

from __future__ import annotations

import asyncio
import dataclasses
from collections.abc import Awaitable, Callable
from typing import Any

from ..errors import ConfigError
from ..rubric import Rubric
from ..stats.repeats import aggregate_scores
from ..types import Result, Sample, Verdict
from .base import CallOutcome, JudgeCall, Method

AGGREGATES = ("mean", "median", "majority")


def check_repeats(rubric: Rubric, repeats: int, aggregate: str) -> None:
    """``--repeats`` / ``--aggregate`` as a usage error before anything runs."""
    if not isinstance(repeats, int) or repeats < 1:
        raise ConfigError(f"--repeats must be a whole number of at least 1, got {repeats!r}")
    if aggregate not in AGGREGATES:
        raise ConfigError(f"--aggregate must be mean, median or majority, got {aggregate!r}")
    if repeats > 1 and rubric.kind != "pointwise":
        raise ConfigError(f"--repeats applies to pointwise rubrics (scores on a scale); rubric {rubric.name!r} "
                          f"is of kind {rubric.kind!r}")


def repeated_calls(call: JudgeCall, k: int) -> list[JudgeCall]:
    """``call`` and k-1 copies, repeat i sent with seed base + i (engines that honour seeds
    sample again; on servers that ignore them these are k plain calls). The seed is part of
    the request, so each repeat has its own cache entry and repeat 1 is the K=1 call."""
    base = call.request.seed or 0
    return [call] + [dataclasses.replace(call, request=dataclasses.replace(call.request, seed=base + i))
                     for i in range(1, k)]


def _scores(value: Any) -> dict[str | None, Verdict]:
    if isinstance(value, Verdict):
        return {None: value}
    return {name: v for name, v in value.items() if isinstance(v, Verdict)}


def combine_repeats(key: str, outcomes: list[CallOutcome], how: str) -> tuple[CallOutcome, dict[str | None, list[float]]]:
    """The outcome the method sees (the aggregated verdict; the first failure when a repeat
    failed: an ensemble with a missing member is not the ensemble asked for) and the K scores
    per dimension (``None``: the call's own dimension)."""
    attempts = sum(o.attempts for o in outcomes)
    for i, o in enumerate(outcomes):
        if not o.ok:
            return CallOutcome(key, None, o.response, f"repeat {i + 1} of {len(outcomes)}: {o.error}", attempts,
                               o.source), {}
    per_dim = [_scores(o.value) for o in outcomes]
    scores = {d: [p[d].score for p in per_dim] for d in per_dim[0]}
    combined = {}
    for d, vals in scores.items():
        agg = aggregate_scores(vals, how)
        # The reasoning of the first repeat whose score is nearest the aggregate.
        nearest = min(range(len(vals)), key=lambda i: (abs(vals[i] - agg), i))
        combined[d] = Verdict(reasoning=per_dim[nearest][d].reasoning, score=agg)
    value: Any = combined[None] if None in combined else combined
    return CallOutcome(key, value, outcomes[0].response, None, attempts, outcomes[0].source), scores


async def judge_call(send: Callable[[JudgeCall], Awaitable[CallOutcome]], call: JudgeCall, k: int = 1,
                     how: str = "mean") -> tuple[CallOutcome, list[CallOutcome], dict[str | None, list[float]]]:
    """Send ``call`` through ``send`` (the runner's cached, retried call), k times with
    ``--repeats k``: the outcome the method sees (the aggregate), the k outcomes, and their
    scores per dimension (empty for k = 1)."""
    if k == 1:
        o = await send(call)
        return o, [o], {}
    outs = list(await asyncio.gather(*(send(c) for c in repeated_calls(call, k))))
    combined, scores = combine_repeats(call.key, outs, how)
    return combined, outs, scores


def record_calls(method: Method, sample: Sample, result: Result, judged: list[Any]) -> None:
    """Where each answer came from (``details["sources"]``: per call, or per repeat as
    ``<call>#1`` ... ``<call>#K``); with repeats also each repeat's scores (``details["repeats"]``:
    dimension -> K scores) and the overall of the first repeat alone (``overall_first_repeat``:
    the K=1 judge, to calibrate against)."""
    result.details["sources"] = {(o.key if len(reps) == 1 else f"{o.key}#{i + 1}"): r.source
                                 for o, reps, _ in judged for i, r in enumerate(reps) if r.source}
    if not any(len(reps) > 1 for _, reps, _ in judged):
        return
    scores: dict[str, list[float]] = {}
    for o, _, per_dim in judged:
        for d, vals in per_dim.items():
            scores[d if d is not None else o.key] = vals
    result.details["repeats"] = scores
    first = method.combine(sample, {reps[0].key: reps[0] for _, reps, _ in judged})
    setattr(result, "overall_first_repeat", first.overall)  # noqa: B010
