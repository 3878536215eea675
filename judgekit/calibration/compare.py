"""Comparing several judges (rubrics, models) on the same human labels: a ranking by one
statistic with CIs, and a paired bootstrap of the top two."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np

from ..errors import ConfigError
from ..stats.agreement import STATISTICS
from ..stats.bootstrap import percentile_interval
from .join import join
from .report import Baselines, CalibrationReport, HumanSource, as_labels, as_scorers, build_report, fmt_number


@dataclass
class Comparison:
    statistic: str
    ranking: list[dict[str, Any]]
    top_two: dict[str, Any] | None
    report: CalibrationReport

    def table(self) -> str:
        lines = [f"ranked by {self.statistic} (n = {self.report.n} items scored by every judge)"]
        w = max(len(r["name"]) for r in self.ranking)
        for i, r in enumerate(self.ranking, 1):
            lines.append(f"{i:>2}. {r['name'].ljust(w)}  {fmt_number(r['value'])}  [{fmt_number(r['ci_low'])}, {fmt_number(r['ci_high'])}]")
        if self.top_two:
            t = self.top_two
            lines.append(
                f"{t['first']} - {t['second']}: {fmt_number(t['difference'])} "
                f"[{fmt_number(t['ci_low'])}, {fmt_number(t['ci_high'])}], paired bootstrap p = {fmt_number(t['p_value'])}"
            )
        return "\n".join(lines)

    def to_dict(self) -> dict[str, Any]:
        return {"statistic": self.statistic, "ranking": self.ranking, "top_two": self.top_two, "report": self.report.to_dict()}


def compare_judges(
    judges: Baselines,
    human: HumanSource,
    *,
    statistic: str = "spearman",
    human_columns: str | Mapping[str, str] | None = None,
    human_scale: tuple[float, float] | None = None,
    dimension: str | None = None,
    n_boot: int = 1000,
    seed: int = 0,
    level: float = 0.95,
) -> Comparison:
    """Rank several judges (rubric variants, judge models) by ``statistic`` against the same
    labels, on the items every judge scored, with a paired bootstrap test of the top two."""
    if statistic not in STATISTICS:
        raise ConfigError(f"unknown statistic {statistic!r}; expected one of {STATISTICS}")
    labels = as_labels(human, human_columns, human_scale)
    scorers = as_scorers(None, None, None, judges, dimension)
    if len(scorers) < 2:
        raise ConfigError("comparison needs at least two judges")
    j = join(labels, scorers, dimension)
    rep = build_report(j, labels, scorers, None, n_boot, seed, level, dimension)
    # Same groups, same n, same seed: every judge saw the same bootstrap draws (paired).
    reps = {nm: est[statistic].replicates for nm, est in rep.scorers.items()}
    ranking: list[dict[str, Any]] = sorted(
        ({"name": nm, **{k: v for k, v in est[statistic].to_dict().items() if k in ("value", "ci_low", "ci_high", "n")}}
         for nm, est in rep.scorers.items()),
        key=lambda r: -np.inf if r["value"] is None else r["value"],
        reverse=True,
    )
    top = None
    a, b = ranking[0]["name"], ranking[1]["name"]
    rep_a, rep_b = reps[a], reps[b]
    assert rep_a is not None and rep_b is not None  # agreement() keeps every statistic's draws
    diff = rep_a - rep_b
    ok = diff[np.isfinite(diff)]
    lo, hi = percentile_interval(diff, level)  # the one NaN rule, as for every other interval
    if np.isfinite(lo) and ranking[0]["value"] is not None and ranking[1]["value"] is not None:
        p = min(1.0, 2 * min((ok <= 0).mean(), (ok >= 0).mean()))
        top = {"first": a, "second": b, "difference": ranking[0]["value"] - ranking[1]["value"],
               "ci_low": lo, "ci_high": hi, "p_value": float(p)}
    return Comparison(statistic, ranking, top, rep)
