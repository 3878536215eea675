"""``judgekit label --status``: progress of a campaign and the raters' agreement so far.

Agreement is Krippendorff's alpha (``stats.agreement.krippendorff_alpha``) over the items with
at least two ratings: ordinal for Likert answers, nominal for pass/fail and for pairwise winners (in the manifest's orientation, so two raters who saw the pair in different layouts but
picked the same image agree). Its 95% CI is a bootstrap that resamples prompts. Reads the
database only; safe while the server runs (WAL).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
from numpy.typing import ArrayLike

from ..stats.agreement import krippendorff_alpha
from ..stats.bootstrap import percentile_interval, resample_blocks
from .items import Item
from .quality import rater_checks
from .store import LabelStore

_CODES = {"pairwise": {"model_a": 0.0, "tie": 1.0, "model_b": 2.0}, "binary": {"fail": 0.0, "pass": 1.0}}


def nominal_alpha(ratings: ArrayLike) -> float:
    """Krippendorff's alpha for nominal data of a ``(raters, units)`` matrix, NaN = missing
    (``stats.agreement.krippendorff_alpha`` at the nominal level).

    >>> round(nominal_alpha([[0, 1, 0, 1], [0, 1, 1, 1]]), 3)
    0.533
    """
    return krippendorff_alpha(ratings, "nominal")


def alpha(matrix: np.ndarray, mode: str) -> float:
    if mode == "likert":
        return krippendorff_alpha(matrix, "ordinal", levels=[1, 2, 3, 4, 5])
    return nominal_alpha(matrix)


def agreement_so_far(
    values: dict[tuple[str, str], float], groups: dict[str, str], mode: str, n_boot: int = 1000, seed: int = 0,
    level: float = 0.95,
) -> dict[str, Any]:
    """Alpha with a bootstrap CI from ``{(item, rater): value}``; ``groups`` maps item -> prompt."""
    raters = sorted({r for _, r in values})
    per_item: dict[str, int] = {}
    for it, _ in values:
        per_item[it] = per_item.get(it, 0) + 1
    units = [it for it, n in per_item.items() if n >= 2]
    kind = "ordinal" if mode == "likert" else "nominal"
    out: dict[str, Any] = {"statistic": f"krippendorff_alpha_{kind}", "units": len(units), "raters": len(raters),
                           "value": None, "ci_low": None, "ci_high": None, "level": level}
    if not units:
        out["note"] = "no item has two ratings yet"
        return out
    ri = {r: i for i, r in enumerate(raters)}
    ui = {u: j for j, u in enumerate(units)}
    m = np.full((len(raters), len(units)), np.nan)
    for (it, r), v in values.items():
        if it in ui:
            m[ri[r], ui[it]] = v
    point = alpha(m, mode)
    reps = np.array([alpha(m[:, rows], mode) for rows, _ in
                     resample_blocks([groups.get(u, u) for u in units], len(units), n_boot, seed)])
    lo, hi = percentile_interval(reps, level) if n_boot else (float("nan"), float("nan"))
    out.update(value=_num(point), ci_low=_num(lo), ci_high=_num(hi))
    if out["value"] is None:
        out["note"] = "undefined: every rating so far is the same value"
    return out


def _num(x: float) -> float | None:
    return None if x is None or not np.isfinite(x) else round(float(x), 4)


def campaign_status(store: LabelStore, items: Sequence[Item] | None, n_boot: int = 1000, seed: int = 0,
                    gold: dict[str, dict[str, Any]] | None = None, min_seconds: float = 2.0,
                    everyone: Sequence[str] = ()) -> dict[str, Any]:
    """Progress, agreement and the raters' checks (gold, fast answers, straight-lining; see
    :mod:`.quality`) as a JSON-able dict (``items=None``: the manifest is not at hand).
    ``everyone``: the items every rater labels (overlap and gold), complete at K or more."""
    meta = store.meta()
    mode, k, dims = meta.get("mode"), int(meta.get("raters_per_item", 1)), meta.get("dimensions") or [""]
    answers = store.answers()
    assignments = store.assignments()
    done_by_item: dict[str, int] = {}
    for a in assignments:
        if a.done:
            done_by_item[a.item] = done_by_item.get(a.item, 0) + 1
    started = {a.item for a in assignments}
    static = {i.id: i.problem for i in items if i.problem} if items is not None else {}
    withdrawn = {it: why for it, why in store.problems().items() if it not in static}  # by the server: restorable
    problems = {**withdrawn, **static}
    if items is not None:
        ids = [i.id for i in items]
        groups = {i.id: i.group for i in items}
    else:
        ids = sorted(started)
        groups = {}
    labellable = [i for i in ids if i not in problems]
    complete = sum(1 for i in labellable if done_by_item.get(i, 0) >= k)
    partial = sum(1 for i in labellable if i in started and done_by_item.get(i, 0) < k)
    skips = store.skipped()
    per_rater: dict[str, dict[str, Any]] = {r: {"items": 0, "answers": 0, "skipped": 0} for r in store.raters()}
    blank = {"items": 0, "answers": 0, "skipped": 0}
    for a in assignments:
        if a.done:
            per_rater.setdefault(a.rater, dict(blank))["items"] += 1
    for ans in answers:
        per_rater.setdefault(ans.rater, dict(blank))["answers"] += 1
    for _, r, _ in skips:
        per_rater.setdefault(r, dict(blank))["skipped"] += 1
    for r, v in per_rater.items():
        v.update(rater_checks([a for a in answers if a.rater == r], gold or {}, min_seconds))
    codes = _CODES.get(mode or "", {})
    agreement = {}
    for d in dims:
        vals = {(a.item, a.rater): float(codes.get(a.value, a.value) if codes else a.value)
                for a in answers if a.dimension == d}
        agreement[d] = agreement_so_far(vals, groups, mode or "likert", n_boot, seed)
    known = set(ids) if items is not None else None
    return {
        "mode": mode, "rubric": meta.get("rubric"), "manifest": meta.get("manifest"), "raters_per_item": k,
        "dimensions": dims,
        "items": len(ids) if items is not None else None, "labellable": len(labellable) if items is not None else None,
        "items_complete": complete, "items_partial": partial,
        "items_not_started": len(labellable) - complete - partial if items is not None else None,
        "answers": len(answers), "answers_target": len(labellable) * k * len(dims) if items is not None else None,
        "undone": store.n_undone(),
        "raters": [{"rater": r, **v} for r, v in per_rater.items()],
        "agreement": agreement,
        "problems": [{"item": i, "reason": problems[i], "withdrawn": i in withdrawn} for i in sorted(problems)],
        "skips": [{"item": i, "rater": r, "reason": why} for i, r, why in skips],
        "everyone": list(everyone), "gold_items": len(gold or {}), "min_seconds": min_seconds,
        "answers_for_unknown_items": sum(1 for a in answers if known is not None and a.item not in known),
    }


def format_status(s: dict[str, Any]) -> str:
    lines = []
    rub = f", rubric {s['rubric']}" if s.get("rubric") else ""
    lines.append(f"{s['mode']} labels, {s['raters_per_item']} raters per item{rub}; manifest {s.get('manifest')}")
    if s["items"] is not None:
        bad = f" ({len(s['problems'])} cannot be labelled)" if s["problems"] else ""
        lines.append(f"items: {s['items']}{bad}: {s['items_complete']} complete, {s['items_partial']} in progress, "
                     f"{s['items_not_started']} not started")
        lines.append(f"answers: {s['answers']} of {s['answers_target']}" + (f" ({s['undone']} undone)" if s["undone"] else ""))
    else:
        lines.append(f"answers: {s['answers']} (manifest not found: totals unknown)")
    if s["raters"]:
        lines.append("raters: " + ", ".join(f"{r['rater']} {r['items']} items" for r in s["raters"]))
        for r in s["raters"]:
            notes = []
            if r.get("skipped"):
                notes.append(f"{r['skipped']} skipped")
            if r.get("fast"):
                notes.append(f"{r['fast']} answers under {s.get('min_seconds', 2):g} s")
            if r.get("straight_lining"):
                notes.append(f"straight-lining? longest run of one answer {r['longest_run']}, "
                             f"most common answer {r['modal_share']:.0%} of {r['answers']}")
            g = r.get("gold")
            if g and g["n"]:
                notes.append(f"gold {g['correct']}/{g['n']} = {g['value']:.3f} [{g['ci_low']:.3f}, {g['ci_high']:.3f}] (Wilson)")
            if notes:
                lines.append(f"  {r['rater']}: " + "; ".join(notes))
    lines.append("agreement so far (Krippendorff's alpha, 95% CI resampling prompts):")
    for d, a in s["agreement"].items():
        name = d or "(all)"
        kind = a["statistic"].rsplit("_", 1)[-1]
        if a["value"] is None:
            lines.append(f"  {name}: {a.get('note', 'undefined')} ({a['units']} items with 2+ ratings)")
            continue
        ci = "[n/a]" if a["ci_low"] is None else f"[{a['ci_low']:.3f}, {a['ci_high']:.3f}]"
        lines.append(f"  {name}: {a['value']:.3f} {ci} {kind}, on {a['units']} items with 2+ ratings from {a['raters']} raters")
    for p in s["problems"][:20]:
        tag = " (withdrawn by the server; `judgekit label --restore ITEM` puts it back)" if p.get("withdrawn") else ""
        lines.append(f"  cannot label {p['item']}: {p['reason']}{tag}")
    if len(s["problems"]) > 20:
        lines.append(f"  ... and {len(s['problems']) - 20} more")
    if s.get("answers_for_unknown_items"):
        lines.append(f"note: {s['answers_for_unknown_items']} answers are for items no longer in the manifest (still exported)")
    return "\n".join(lines)
