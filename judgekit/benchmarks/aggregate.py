"""A benchmark's official aggregation with bootstrap CIs over prompts.

A benchmark reduces each prompt's results to one *unit* (a small dict of numbers and labels:
a prompt score, per-question answers, a category), then aggregates units into named statistics
on its own scale (the first one is its headline). The interval of each statistic resamples
whole prompts (``stats.bootstrap``): the several images, crops or questions of one prompt move
together. Units are ordered by prompt id first, so the numbers do not depend on file order.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np

from ..stats.bootstrap import percentile_interval
from ..types import Result

Unit = dict[str, Any]
Aggregate = Callable[[list[Unit]], dict[str, float]]


@dataclass(frozen=True)
class Statistic:
    name: str
    estimate: float
    lo: float
    hi: float

    def to_json(self) -> dict[str, Any]:
        return {"name": self.name, "estimate": _finite(self.estimate), "ci_low": _finite(self.lo), "ci_high": _finite(self.hi)}


def _finite(x: float) -> float | None:
    return None if x is None or not math.isfinite(x) else float(x)


def group_by_prompt(results: Iterable[Result]) -> dict[str, list[Result]]:
    """Successful results by prompt id, in prompt-id order (failed ones are counted elsewhere)."""
    groups: dict[str, list[Result]] = {}
    for r in results:
        if r.status == "ok":
            groups.setdefault(str(r.prompt_id or r.sample_id), []).append(r)
    return {k: sorted(groups[k], key=lambda r: r.sample_id) for k in sorted(groups)}


def mean(xs: Iterable[float]) -> float:
    v = list(xs)
    return sum(v) / len(v) if v else float("nan")


def bootstrap_statistics(units: list[Unit], aggregate: Aggregate, n_boot: int = 1000, seed: int = 0,
                         level: float = 0.95) -> list[Statistic]:
    """Every statistic ``aggregate`` names, each with a percentile interval over prompt resamples
    (a category absent from a resample is undefined there, by the NaN rule of ``stats.bootstrap``)."""
    estimates = aggregate(units)
    if not units:
        return [Statistic(k, v, float("nan"), float("nan")) for k, v in estimates.items()]
    rng = np.random.default_rng(seed)
    reps: dict[str, list[float]] = {k: [] for k in estimates}
    for _ in range(n_boot):
        pick = rng.integers(0, len(units), len(units))
        got: Mapping[str, float] = aggregate([units[i] for i in pick])
        for k in estimates:
            reps[k].append(got.get(k, float("nan")))
    out = []
    for k, v in estimates.items():
        lo, hi = percentile_interval(reps[k], level)
        out.append(Statistic(k, v, lo, hi))
    return out
