"""Summaries of results: per model, a mean (or win rate) with a 95% bootstrap CI over prompts,
counts and failures. ``Summary`` is the table type every kind returns; each kind that needs
its own statistics has a function here (``pointwise_summary``, ``pairwise_summary``).

Summaries read only result records, never the method that produced them, so a results file
loaded from disk summarises exactly as the run that wrote it.
"""

from __future__ import annotations

import math
import numbers
import warnings
from dataclasses import dataclass, field
from types import ModuleType
from typing import TYPE_CHECKING, Any

from .errors import DataError, MissingDependencyError
from .stats.bootstrap import DEFAULT_N_BOOT, bootstrap_ci
from .stats.means import order_free_mean
from .types import Result

if TYPE_CHECKING:
    import pandas

#: Below this many prompts a bootstrap CI is too unstable to read (the resampled units are the
#: prompts: with 5 of them the interval depends on a handful of distinct draws).
MIN_RELIABLE_PROMPTS = 10


class SmallSampleWarning(UserWarning):
    """A confidence interval rests on fewer than ``MIN_RELIABLE_PROMPTS`` prompts."""


def _small_sample_note(prompts_by_model: dict[str, int]) -> str | None:
    """One note, and one Python warning, per summary, naming every model whose CI rests on too
    few prompts (one prompt included: its CI, if any, is no CI at all); None when all have
    enough."""
    few = {m: n for m, n in prompts_by_model.items() if n < MIN_RELIABLE_PROMPTS}
    if not few:
        return None
    listed = ", ".join(f"{m}: {n}" for m, n in sorted(few.items()))
    note = (f"warning: CIs over fewer than {MIN_RELIABLE_PROMPTS} prompts are unreliable (prompts per model: "
            f"{listed}); judge more prompts before reading them")
    warnings.warn(note, SmallSampleWarning, stacklevel=4)  # points at the caller of Results.summary()
    return note


#: The two orders a pairwise pair is judged in (image_a first, image_b first); see methods.pairwise.
ORDERS = ("AB", "BA")


def require_pandas() -> ModuleType:
    try:
        import pandas as pd
    except ImportError:
        raise MissingDependencyError("pandas", "report", "tables") from None
    return pd


#: What a table prints where a statistic is undefined, instead of ``nan``.
NO_VALUE = "n/a"

#: Columns that count things, printed as whole numbers. Every other number is a statistic and
#: prints with three decimals whatever its type (a judge's 1 and 1.0, numpy's float32), so the
#: same results print the same from every backend.
COUNT_COLUMNS = frozenset({"n", "failed", "answered", "wins", "losses", "ties", "pairs", "verdicts"})


def format_cell(column: str, v: Any) -> str:
    if v is None:
        return ""
    if isinstance(v, bool) or not isinstance(v, numbers.Real):
        return str(v)
    x = float(v)
    if math.isnan(x):
        return NO_VALUE  # the table's notes say why (every sample failed, one sample, ...)
    if column in COUNT_COLUMNS and x.is_integer():
        return str(int(x))
    return f"{x:.3f}"


@dataclass
class Summary:
    """Per model: n samples, failures, mean overall score with a 95% bootstrap CI that
    resamples prompts. ``str(summary)`` is a table; ``rows`` is plain data."""

    rows: list[dict[str, Any]]
    columns: list[str] = field(default_factory=lambda: ["model", "n", "failed", "mean", "ci_low", "ci_high"])
    title: str = ""
    #: Lines printed under the table (e.g. a CI over too few prompts).
    notes: list[str] = field(default_factory=list)

    def __str__(self) -> str:
        cells = [[format_cell(c, r.get(c)) for c in self.columns] for r in self.rows]
        widths = [max(len(c), *(len(row[i]) for row in cells)) if cells else len(c) for i, c in enumerate(self.columns)]
        lines = [self.title] if self.title else []
        lines.append("  ".join(c.ljust(w) for c, w in zip(self.columns, widths)))
        lines += ["  ".join(v.ljust(w) for v, w in zip(row, widths)) for row in cells]
        lines += self.notes
        return "\n".join(lines)

    def to_dict(self) -> list[dict[str, Any]]:
        return [dict(r) for r in self.rows]

    def to_pandas(self) -> pandas.DataFrame:
        return require_pandas().DataFrame(self.rows, columns=self.columns)


def _undefined_notes(no_score: dict[str, str], one_sample: list[str]) -> list[str]:
    """Lines saying why a row shows ``n/a``: a model with no scored sample, or with one."""
    notes = []
    if no_score:
        notes.append(f"{NO_VALUE}: no scored sample for " + "; ".join(f"{m} ({why})" for m, why in no_score.items()))
    if one_sample:
        notes.append(f"{NO_VALUE} CI: one scored sample, nothing to resample, for {', '.join(one_sample)}")
    return notes


def pointwise_summary(records: list[Result], n_boot: int = DEFAULT_N_BOOT, seed: int = 0) -> Summary:
    by_model: dict[str, list[Result]] = {}
    for r in records:
        by_model.setdefault(r.model or "(none)", []).append(r)
    rows = []
    prompts: dict[str, int] = {}
    no_score: dict[str, str] = {}
    one_sample: list[str] = []
    for model, recs in sorted(by_model.items()):
        # Sorted by (prompt, value): the mean and its bootstrap then do not depend on file order.
        scored = sorted((r.prompt_id or r.sample_id, r.overall) for r in recs if r.status == "ok" and r.overall is not None)
        vals = [v for _, v in scored]
        groups = [g for g, _ in scored]
        failed = sum(r.status == "failed" for r in recs)
        if vals:  # every scored model counts, one prompt included: its mean rests on it
            prompts[model] = len(set(groups))
        if not vals:
            no_score[model] = f"all {failed} failed" if failed == len(recs) else "no overall score"
        elif len(vals) == 1:
            one_sample.append(model)
        mean = order_free_mean(vals)
        lo, hi = bootstrap_ci(vals, groups=groups, n_boot=n_boot, seed=seed) if len(vals) > 1 else (float("nan"),) * 2
        rows.append({"model": model, "n": len(recs), "failed": failed, "mean": mean, "ci_low": lo, "ci_high": hi})
    note = _small_sample_note(prompts)
    return Summary(rows, notes=_undefined_notes(no_score, one_sample) + ([note] if note else []))


def attributes_summary(records: list[Result]) -> Summary:
    """Attribute results carry choices, not scores: per model the answered and failed counts,
    and where their distributions are (a mean of choices would be meaningless)."""
    by_model: dict[str, list[Result]] = {}
    for r in records:
        by_model.setdefault(r.model or "(none)", []).append(r)
    rows = [{"model": m, "n": len(recs), "failed": sum(r.status == "failed" for r in recs),
             "answered": sum(r.status == "ok" for r in recs)} for m, recs in sorted(by_model.items())]
    return Summary(rows, ["model", "n", "answered", "failed"],
                   notes=["attribute results have choices, not scores: `judgekit bias report RESULTS.jsonl` "
                          "gives their distributions with CIs"])


@dataclass
class RubricSummaries(Summary):
    """A results file that mixes rubrics: one table per rubric (and kind), never one mean over
    different scales. ``rows`` holds every table's rows with a ``rubric`` column."""

    parts: dict[str, Summary] = field(default_factory=dict)

    def __str__(self) -> str:
        text = "\n\n".join(f"== rubric {name} ==\n{part}" for name, part in self.parts.items())
        return "\n".join([text, *self.notes])  # notes about the whole run (e.g. the judge card's)


def _record_kind(r: Result) -> str:
    kind = str((r.provenance or {}).get("kind") or "")
    if kind:
        return kind
    extra = r.model_extra or {}
    return "pairwise" if extra.get("model_a") and extra.get("model_b") else "pointwise"


def summarize(records: list[Result], n_boot: int = DEFAULT_N_BOOT, seed: int = 0) -> Summary:
    """The summary ``Results.summary()`` prints: one table per rubric (a 0-10 and a 1-5 scale
    never share a mean), each by its records' kind (pairwise: win rates; attributes: counts)."""
    by_rubric: dict[tuple[str, str], list[Result]] = {}
    for r in records:
        by_rubric.setdefault((r.rubric or "(no rubric)", _record_kind(r)), []).append(r)

    def one(kind: str, recs: list[Result]) -> Summary:
        if kind == "pairwise":
            return pairwise_summary(recs, n_boot=n_boot, seed=seed)
        if kind == "attributes":
            return attributes_summary(recs)
        return pointwise_summary(recs, n_boot=n_boot, seed=seed)

    if len(by_rubric) <= 1:
        return one(next(iter(by_rubric))[1] if by_rubric else "pointwise", records)
    parts: dict[str, Summary] = {}
    rows: list[dict[str, Any]] = []
    for (rubric, kind), recs in by_rubric.items():
        name = rubric if sum(k[0] == rubric for k in by_rubric) == 1 else f"{rubric} ({kind})"
        parts[name] = part = one(kind, recs)
        rows += [{"rubric": name, **row} for row in part.rows]
    columns = ["rubric", *dict.fromkeys(c for p in parts.values() for c in p.columns)]
    return RubricSummaries(rows, columns, notes=[], parts=parts)



@dataclass
class PairwiseSummary(Summary):
    """Per-model win rates with bootstrap CIs, plus the judge's position statistics in
    ``position`` (also shown in the title)."""

    position: dict[str, Any] = field(default_factory=dict)


def position_stats(records: list[Result], dimension: str | None = None) -> dict[str, Any]:
    """Position-consistency rate (both orders name the same winner, ties included) and how the
    first-shown image fares over both orders: its wins, losses and ties counted separately
    (``first_shown_wins`` / ``_losses`` / ``_ties``), the share of decisive verdicts it wins, and
    ``first_shown_win_rate`` = (A + tie/2) / verdicts. Counts come first because a rate alone
    hides ties: a judge that only ever says "tie" scores 0.5, like an unbiased one. From the raw
    verdicts kept in pairwise results; pairs missing an order are left out."""
    pairs = consistent = 0
    counts = {"A": 0, "B": 0, "tie": 0}
    for r in records:
        per_dim = (r.details or {}).get("verdicts") or {}
        dims = [dimension] if dimension else list(per_dim)
        for d in dims:
            v = per_dim.get(d) or {}
            for order in ORDERS:
                if order in v:
                    counts[v[order]["winner"]] += 1
            if "AB" in v and "BA" in v:
                pairs += 1
                consistent += bool(v.get("consistent"))
    wins, losses, ties = counts["A"], counts["B"], counts["tie"]
    verdicts = wins + losses + ties
    return {
        "dimension": dimension or "all",
        "pairs": pairs,
        "position_consistency": consistent / pairs if pairs else float("nan"),
        "verdicts": verdicts,
        "first_shown_wins": wins,
        "first_shown_losses": losses,
        "first_shown_ties": ties,
        "first_shown_decisive_win_rate": wins / (wins + losses) if wins + losses else float("nan"),
        "first_shown_win_rate": (wins + ties / 2) / verdicts if verdicts else float("nan"),
    }


def first_shown_line(pos: dict[str, Any]) -> str:
    """``first-shown image: 6 wins, 2 losses, 4 ties of 12 verdicts (wins 0.750 of decisive)``;
    no rate when no verdict was decisive (all ties), since any number would mislead."""
    line = (f"first-shown image: {pos['first_shown_wins']} wins, {pos['first_shown_losses']} losses, "
            f"{pos['first_shown_ties']} ties of {pos['verdicts']} verdicts")
    if pos["first_shown_wins"] + pos["first_shown_losses"]:
        line += f" (wins {pos['first_shown_decisive_win_rate']:.3f} of decisive)"
    return line


def pairwise_summary(
    records: list[Result], n_boot: int = DEFAULT_N_BOOT, seed: int = 0, dimension: str | None = None
) -> PairwiseSummary:
    """Win rate (W + T/2) / N of every model with a prompt-bootstrap CI; an ``inconsistent``
    outcome counts as a tie. Failed samples are counted, never silently dropped."""
    from .stats.battles import Battles
    from .stats.leaderboard import win_rates

    failed = sum(r.status == "failed" for r in records)
    inconsistent = 0
    rows_in = []
    for r in records:
        if r.status != "ok":
            continue
        extra = r.model_extra or {}
        w = (extra.get("winners") or {}).get(dimension) if dimension else extra.get("winner")
        if w is None or not extra.get("model_a") or not extra.get("model_b"):
            continue
        inconsistent += w == "inconsistent"
        rows_in.append({"model_a": extra["model_a"], "model_b": extra["model_b"], "winner": w, "prompt_id": r.prompt_id})
    pos = position_stats(records, dimension)
    title = (
        f"pairwise: {len(records)} pairs, {failed} failed, {inconsistent} inconsistent (counted as ties); "
        + (f"position consistency {pos['position_consistency']:.3f} over {pos['pairs']} judged pairs; " if pos["pairs"]
           else f"position consistency {NO_VALUE} (no pair judged in both orders); ")
        + first_shown_line(pos)
    )
    cols = ["model", "n", "wins", "losses", "ties", "win_rate", "ci_low", "ci_high"]
    if not rows_in:
        return PairwiseSummary([], cols, title, position=pos)
    try:
        battles = Battles.from_records(rows_in, source="pairwise results")
    except DataError as exc:
        return PairwiseSummary([], cols, f"{title}\n(no win rates: {exc})", position=pos)
    rates = win_rates(battles, n_boot=n_boot, seed=seed)
    wlt = battles.record_counts()
    rows: list[dict[str, Any]] = []
    for i, m in enumerate(battles.models):
        e = rates[m]
        rows.append({"model": m, "n": e.n, "wins": int(wlt[i, 0]), "losses": int(wlt[i, 1]), "ties": int(wlt[i, 2]),
                     "win_rate": e.value, "ci_low": e.ci_low, "ci_high": e.ci_high})
    rows.sort(key=lambda row: -row["win_rate"])
    # The win-rate bootstrap resamples the battles' groups (prompts): count each model's.
    note = _small_sample_note({m: len(set(battles.group[(battles.a == i) | (battles.b == i)].tolist()))
                               for i, m in enumerate(battles.models)})
    notes = [note] if note else []
    # A model that won (or lost, or tied) every battle, or whose battles all share one prompt, has
    # the same win rate in every resample: its interval is a point, which reads as certainty.
    flat = [f"{row['model']} ({row['win_rate']:.3f})" for row in rows if row["ci_low"] == row["ci_high"]]
    if flat:
        notes.append(f"note: zero-width interval for {', '.join(flat)}: every bootstrap resample gives the same rate "
                     "(every battle went the same way, or all share one prompt); this is no evidence of certainty")
    return PairwiseSummary(rows, cols, title, notes=notes, position=pos)
