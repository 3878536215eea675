"""Safety results: pass rate per model and category with a Wilson CI, and the flagged samples.

Input: the results of a binary per-category rubric (the built-in ``safety``, or a copy with other
categories), where each dimension scores 1 when its content is absent (pass) and 0 when present
(flagged), and ``overall`` is the minimum (safe on every category).

A pass rate counts images, one per sample; the Wilson interval treats them as independent. When
a model has several images per prompt, ``by_prompt=True`` adds a bootstrap CI over prompts too.

>>> rep = safety_report(jk.load_results("safety.jsonl"))           # doctest: +SKIP
>>> print(rep); rep.to_dict()["models"]["sdxl"]["overall"]          # doctest: +SKIP
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

from .errors import DataError

OVERALL = "overall"


def _wilson(k: int, n: int, level: float) -> tuple[float, float]:
    from .stats.estimates import wilson_interval

    return wilson_interval(k, n, level) if n > 0 else (math.nan, math.nan)


def _rate(k: int, n: int, level: float) -> dict[str, Any]:
    lo, hi = _wilson(k, n, level)
    return {"value": k / n if n else None, "ci_low": None if math.isnan(lo) else lo,
            "ci_high": None if math.isnan(hi) else hi, "passed": k, "n": n}  # fmt: skip


@dataclass
class SafetyReport:
    """``models[model][category]`` and ``models[model]["overall"]``: ``{"value", "ci_low",
    "ci_high", "passed", "n"}``; ``flagged``: one entry per sample flagged on any category;
    ``failed``: samples the judge could not score, per model."""

    categories: list[str]
    models: dict[str, dict[str, Any]]
    flagged: list[dict[str, Any]] = field(default_factory=list)
    failed: dict[str, int] = field(default_factory=dict)
    level: float = 0.95

    def to_dict(self) -> dict[str, Any]:
        return {"categories": self.categories, "level": self.level, "models": self.models,
                "flagged": self.flagged, "failed": self.failed}  # fmt: skip

    def __str__(self) -> str:
        cols = ["model", "n", "failed", OVERALL, *self.categories]
        rows = []
        for m, e in self.models.items():
            rows.append([m, str(e[OVERALL]["n"]), str(self.failed.get(m, 0)),
                         *(_fmt(e[c]) for c in [OVERALL, *self.categories])])  # fmt: skip
        widths = [max(len(c), *(len(r[i]) for r in rows)) for i, c in enumerate(cols)]
        pct = int(round(self.level * 100))
        out = [f"pass rate per model and category (1 = no such content; {pct}% Wilson CI)"]
        out.append("  ".join(c.ljust(w) for c, w in zip(cols, widths, strict=True)))
        out += ["  ".join(v.ljust(w) for v, w in zip(r, widths, strict=True)) for r in rows]
        out.append(f"\nflagged samples: {len(self.flagged)}")
        for f in self.flagged:
            why = "; ".join(f"{c}: {f['reasoning'].get(c, '')[:120]}" for c in f["categories"])
            out.append(f"  {f['sample_id']} ({f['model']}, prompt {f['prompt_id']}): {why}")
        return "\n".join(out)


def _fmt(r: dict[str, Any]) -> str:
    if r["value"] is None:
        return "n/a"
    return f"{r['value']:.3f} [{r['ci_low']:.3f}, {r['ci_high']:.3f}]"


def _require_binary(records: list[Any]) -> None:
    """Refuse results of another rubric up front, naming the rubric: its dimensions are not
    safety categories, and a per-sample "category ... scored 7" would say otherwise."""
    for r in records:
        off = next(((c, v) for c, v in r.scores.items() if v is not None and v not in (0, 1)), None)
        if off is not None:
            rubric = r.rubric or (r.provenance or {}).get("rubric") or "unknown"
            raise DataError(
                f"these are not results of a binary safety rubric: rubric {rubric!r} gave sample {r.sample_id!r} "
                f"{off[1]!r} on {off[0]!r} (a safety rubric scores each category 0 = flagged or 1 = pass); "
                "score with --rubric safety, or a copy of it, first"
            )


def safety_report(records: Any, *, level: float = 0.95) -> SafetyReport:
    """Pass rates and flagged samples from safety results (see the module docstring)."""
    records = list(records)
    if not records:
        raise DataError("no results to report on")
    cats: list[str] = []
    for r in records:
        for c in r.scores:
            if c not in cats:
                cats.append(c)
    _require_binary(records)
    counts: dict[str, dict[str, list[int]]] = {}
    failed: dict[str, int] = {}
    flagged = []
    for r in records:
        model = r.model or "(none)"
        failed.setdefault(model, 0)
        per = counts.setdefault(model, {c: [0, 0] for c in [OVERALL, *cats]})
        if r.status != "ok":
            failed[model] += 1
            continue
        bad = []
        for c, v in r.scores.items():
            if v is None:
                continue
            if v not in (0, 1):
                raise DataError(f"sample {r.sample_id!r}: category {c!r} scored {v!r}; a safety rubric scores 0 "
                                "(present, flagged) or 1 (absent, pass)")  # fmt: skip
            per[c][0] += int(v == 1)
            per[c][1] += 1
            if v == 0:
                bad.append(c)
        if r.scores and all(v is not None for v in r.scores.values()):
            per[OVERALL][0] += int(not bad)
            per[OVERALL][1] += 1
        if bad:
            flagged.append({"sample_id": r.sample_id, "model": r.model, "prompt_id": r.prompt_id,
                            "categories": bad, "reasoning": {c: r.reasoning.get(c, "") for c in bad}})  # fmt: skip
    models = {m: {c: _rate(k, n, level) for c, (k, n) in per.items()} for m, per in counts.items()}
    return SafetyReport(cats, models, flagged, failed, level)
