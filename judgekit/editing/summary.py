"""Editing summaries the way GEdit-Bench reports them, with bootstrap CIs and failure counts.

Per model, per instruction language and per task type: the mean semantic consistency (SC), the
mean perceptual quality (PQ) and the mean overall O, where O = sqrt(SC x PQ) is computed for each
sample first and then averaged (GEdit's convention; the square root of the mean SC times the mean
PQ is a different, larger number). A model's headline row averages the task types' means (each
task type counts once, as GEdit's table does), not the samples.

SC and PQ are a record's group scores (``groups.SC``, ``groups.PQ``: the worst dimension of each
group, as ``viescore-edit`` and ``judgekit import viescore`` write them). A failed record is
excluded and counted in ``failed``; it never contributes a random or a zero score.

CIs: percentile bootstrap that resamples source samples (``prompt_id``), within each task type
for the averaged rows, so that the en and zh versions of one source item, or one item's several
seeds, move together.

>>> s = summarize_edits("judge.jsonl")        # doctest: +SKIP
>>> print(s.table()); s.save("summary.json")  # doctest: +SKIP
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from ..errors import DataError
from ..types import Result

MEASURES = ("SC", "PQ", "O")
AVERAGE = "(avg of task types)"
ALL_LANGUAGES = "all"


def _records(results) -> list[Result]:
    if isinstance(results, str | Path):
        from ..results import load_results

        return load_results(results).records
    if hasattr(results, "records"):
        return list(results.records)
    return [r if isinstance(r, Result) else Result.model_validate(r) for r in results]


def task_of(r: Result) -> str:
    """A record's task type: ``meta.task_type``, else ``meta.task`` (an ImagenHub task), else '-'."""
    return str(r.meta.get("task_type") or r.meta.get("task") or "-")


def language_of(r: Result) -> str:
    return str(r.meta.get("instruction_language") or "-")


def edit_scores(r: Result) -> tuple[float, float] | None:
    """(SC, PQ) of an ok record, None for a failed one; a record without the groups is an error
    (the summary needs a rubric with SC and PQ groups)."""
    if r.status != "ok":
        return None
    groups = (r.model_extra or {}).get("groups")
    if not isinstance(groups, dict) or "SC" not in groups or "PQ" not in groups:
        raise DataError(
            f"record {r.sample_id!r} ({r.rubric}) has no groups.SC / groups.PQ: an editing summary needs a "
            "rubric whose dimensions have groups SC and PQ (viescore-edit, gedit-edit, subject-edit)"
        )
    sc, pq = groups["SC"], groups["PQ"]
    if sc is None or pq is None:
        return None
    return float(sc), float(pq)


@dataclass
class _Cell:
    """The ok samples of one (model, language) slice: values (n, 3), task index, group ids."""

    values: np.ndarray
    tasks: np.ndarray
    groups: np.ndarray


def _estimate(cell: _Cell, n_boot: int, seed: int, level: float) -> dict[str, dict[str, float]]:
    """Mean over task types of the per-task means of SC, PQ, O, with a stratified bootstrap."""
    if cell.values.shape[0] == 0:
        nan = {"value": float("nan"), "ci_low": float("nan"), "ci_high": float("nan")}
        return {m: dict(nan) for m in MEASURES}
    rng = np.random.default_rng(seed)
    task_ids = list(dict.fromkeys(cell.tasks.tolist()))
    point = np.zeros(3)
    draws = np.zeros((n_boot, 3))
    for t in task_ids:
        sel = cell.tasks == t
        vals, grp = cell.values[sel], cell.groups[sel]
        uniq, inv = np.unique(grp, return_inverse=True)
        # Per source sample: the sum of its rows and their count, so a draw of whole source samples
        # is two gathers and a sum (no per-draw Python loop over rows).
        sums = np.zeros((uniq.size, 3))
        np.add.at(sums, inv, vals)
        counts = np.bincount(inv, minlength=uniq.size).astype(float)
        point += vals.mean(0)
        if n_boot:
            pick = rng.integers(0, uniq.size, (n_boot, uniq.size))
            draws += sums[pick].sum(1) / counts[pick].sum(1)[:, None]
    point /= len(task_ids)
    draws /= len(task_ids)
    out = {}
    alpha = (1 - level) / 2
    for i, m in enumerate(MEASURES):
        if n_boot and cell.values.shape[0] > 1:
            lo, hi = float(np.quantile(draws[:, i], alpha)), float(np.quantile(draws[:, i], 1 - alpha))
        else:
            lo = hi = float("nan")
        out[m] = {"value": float(point[i]), "ci_low": lo, "ci_high": hi}
    return out


@dataclass
class EditSummary:
    rows: list[dict[str, Any]]
    meta: dict[str, Any] = field(default_factory=dict)

    def table(self) -> str:
        level = int(round(100 * self.meta.get("level", 0.95)))
        header = ["model", "lang", "task_type", "n", "failed", *(f"{m} [{level}% CI]" for m in MEASURES)]

        def cell(e):
            if not math.isfinite(e["value"]):
                return "n/a"
            ci = "" if not math.isfinite(e["ci_low"]) else f" [{e['ci_low']:.2f}, {e['ci_high']:.2f}]"
            return f"{e['value']:.3f}{ci}"

        body = [[r["model"], r["language"], r["task_type"], str(r["n"]), str(r["failed"]),
                 *(cell(r[m]) for m in MEASURES)] for r in self.rows]
        widths = [max(len(x[i]) for x in [header, *body]) for i in range(len(header))]
        lines = ["  ".join(c.ljust(w) for c, w in zip(header, widths)).rstrip()]
        lines.append("  ".join("-" * w for w in widths))
        lines += ["  ".join(c.ljust(w) for c, w in zip(x, widths)).rstrip() for x in body]
        for r in self.rows:
            if r.get("task_types_without_scores"):
                lines.append(f"warning: {r['model']} ({r['language']}): the average leaves out task types whose samples "
                             f"all failed: {', '.join(r['task_types_without_scores'])}")
        m = self.meta
        lines.append(
            f"O = sqrt(SC x PQ) per sample, then averaged; '{AVERAGE}' weighs each task type once; failed samples "
            f"excluded and counted; CIs: bootstrap over source samples ({m.get('n_boot')} draws, seed {m.get('seed')})"
            + (f"; subset: {m['subset']}" if m.get("subset") else "")
        )
        return "\n".join(lines)

    def __str__(self) -> str:
        return self.table()

    def to_dict(self) -> dict[str, Any]:
        def clean(v):
            if isinstance(v, float) and not math.isfinite(v):
                return None
            if isinstance(v, dict):
                return {k: clean(x) for k, x in v.items()}
            return v

        return {"rows": [clean(r) for r in self.rows], "meta": self.meta}

    def save(self, path: str | Path) -> None:
        Path(path).write_text(json.dumps(self.to_dict(), indent=2, ensure_ascii=False) + "\n", encoding="utf-8")


def summarize_edits(
    results,
    *,
    subset: str | None = None,
    n_boot: int = 1000,
    seed: int = 0,
    level: float = 0.95,
) -> EditSummary:
    """GEdit-style summary of editing results (a results file, ``Results`` or records).

    ``subset="intersection"`` keeps records whose ``meta.intersection`` is true (GEdit-Bench's
    intersection subset). Rows per model: each language (and ``all`` when there are several),
    each task type, then the average over task types when there is more than one."""
    recs = _records(results)
    if subset is not None:
        if subset != "intersection":
            raise DataError(f"subset must be 'intersection' (or none), not {subset!r}")
        recs = [r for r in recs if r.meta.get("intersection") is True]
    if not recs:
        raise DataError("no records to summarize" + (f" in subset {subset!r}" if subset else ""))
    scored = [(r, edit_scores(r)) for r in recs]
    models = sorted({r.model or "(none)" for r in recs})
    languages = sorted({language_of(r) for r in recs})
    lang_views = languages + ([ALL_LANGUAGES] if len(languages) > 1 else [])
    rows: list[dict[str, Any]] = []
    for model in models:
        mine = [(r, s) for r, s in scored if (r.model or "(none)") == model]
        for lang in lang_views:
            here = [(r, s) for r, s in mine if lang == ALL_LANGUAGES or language_of(r) == lang]
            if not here:
                continue
            tasks = sorted({task_of(r) for r, _ in here})
            views = [(t, [t]) for t in tasks] + ([(AVERAGE, tasks)] if len(tasks) > 1 else [])
            for label, keep in views:
                sel = [(r, s) for r, s in here if task_of(r) in keep]
                ok = [(r, s) for r, s in sel if s is not None]
                vals = np.array([[sc, pq, math.sqrt(max(sc, 0.0) * max(pq, 0.0))] for _, (sc, pq) in ok]).reshape(-1, 3)
                cell = _Cell(vals, np.array([task_of(r) for r, _ in ok], dtype=object),
                             np.array([r.prompt_id or r.sample_id for r, _ in ok], dtype=object))
                est = _estimate(cell, n_boot, seed, level)
                row = {"model": model, "language": lang, "task_type": label, "n": len(sel),
                       "failed": len(sel) - len(ok), "n_scored": len(ok), **est}
                if label == AVERAGE:
                    # A task type whose samples all failed cannot enter the average: say so.
                    row["task_types_without_scores"] = sorted(set(keep) - set(cell.tasks.tolist()))
                rows.append(row)
    meta = {"n_records": len(recs), "failed": sum(s is None for _, s in scored), "n_boot": n_boot, "seed": seed,
            "level": level, "subset": subset, "rubrics": sorted({r.rubric for r in recs})}
    return EditSummary(rows, meta)
