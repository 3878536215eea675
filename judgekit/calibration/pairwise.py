"""``calibrate`` on human pairwise labels (A better / B better / tie, e.g. the label app's export):
the judge's tie-aware pairwise accuracy (``stats.pair_accuracy``) next to the human-to-human
figure, each with a bootstrap CI over prompts.

The judge is either pairwise (a pairwise results file, or any records with ``model_a``,
``model_b`` and ``winner``) or pointwise (per-image scores, e.g. a VIEScore results file or a metric
file, then compared through its score difference with an optimised tie threshold). Baselines are
pointwise scorers treated the same way. A pair item is (prompt, the two models) whatever their
order; every label row, judge record and score row that does not join is counted.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from ..errors import ConfigError, DataError
from ..io import Records, dumps_json, read_records
from ..stats.estimates import Estimate
from ..stats.pair_accuracy import human_pair_agreement, pair_accuracy
from .labels import HumanLabels
from .scores import Scores, ScoreSource, load_scores, split_source

#: A pair item: (prompt id, lower model name, higher model name).
PairKey = tuple[str, str, str]
_WINNER = {"model_a": 1.0, "model_b": -1.0, "tie": 0.0, "inconsistent": 0.0, "tie (bothbad)": 0.0}


@dataclass
class PairwiseCalibration:
    n_labels: int
    n_items: int
    prompts: int
    scorers: dict[str, Estimate]
    kinds: dict[str, str]  # scorer -> "pairwise" | "pointwise"
    human: Estimate | None
    unmatched: dict[str, Any]
    warnings: list[str] = field(default_factory=list)
    meta: dict[str, Any] = field(default_factory=dict)

    def table(self) -> str:
        level = int(round(100 * self.meta.get("level", 0.95)))
        head = ["scorer", "kind", "tie-aware accuracy", f"{level}% CI", "tie threshold", "n"]
        rows = []
        if self.human is not None:
            rows.append(["human vs human", "pairwise", _f(self.human.value), _ci(self.human), "", f"{self.human.n} label pairs"])
        for name, e in self.scorers.items():
            eps = e.extra.get("epsilon")
            rows.append([name, self.kinds[name], _f(e.value), _ci(e), "" if eps is None else f"|d| <= {eps:g}", f"{e.n} labels"])
        widths = [max(len(str(r[i])) for r in [head, *rows]) for i in range(len(head))]
        lines = ["  ".join(str(c).ljust(w) for c, w in zip(head, widths)).rstrip(), "  ".join("-" * w for w in widths)]
        lines += ["  ".join(str(c).ljust(w) for c, w in zip(r, widths)).rstrip() for r in rows]
        lines.append(f"{self.n_labels} human pairwise labels on {self.n_items} pairs, {self.prompts} prompts; "
                     f"accuracy with ties (Deutsch et al. 2023): A / B / tie must match; a pointwise scorer ties "
                     f"when its score difference is within the threshold that maximizes its accuracy; "
                     f"CIs: bootstrap over prompts ({self.meta.get('n_boot')} draws)")
        if self.human is None:
            lines.append("human vs human: not available (no pair has two labels)")
        lines += [f"warning: {w}" for w in self.warnings]
        return "\n".join(lines)

    def __str__(self) -> str:
        return self.table()

    def to_dict(self) -> dict[str, Any]:
        return {
            "kind": "pairwise", "n_labels": self.n_labels, "n_items": self.n_items, "prompts": self.prompts,
            "human_ceiling": None if self.human is None else {"tie_accuracy": self.human.to_dict()},
            "scorers": {n: {"tie_accuracy": e.to_dict(), "kind": self.kinds[n]} for n, e in self.scorers.items()},
            "unmatched": self.unmatched, "warnings": self.warnings, "meta": self.meta,
        }

    def to_json(self) -> str:
        return dumps_json(self.to_dict())

    def save(self, path: str | Path) -> None:
        Path(path).write_text(self.to_json() + "\n", encoding="utf-8")


def _f(x: float) -> str:
    return "n/a" if not np.isfinite(x) else f"{x:.3f}"


def _ci(e: Estimate) -> str:
    return "n/a" if not np.isfinite(e.ci_low) else f"[{_f(e.ci_low)}, {_f(e.ci_high)}]"


def pair_key(prompt_id: Any, a: Any, b: Any) -> tuple[PairKey, float]:
    """The item key and the sign that turns an outcome for ``a`` into one for the lower-named model."""
    a, b = str(a), str(b)
    return ((str(prompt_id), a, b), 1.0) if a < b else ((str(prompt_id), b, a), -1.0)


def _pairwise_records(source: ScoreSource) -> tuple[list[tuple[str, dict[str, Any]]], str] | None:
    """The records of a pairwise judge, or None when ``source`` is a pointwise one."""
    if isinstance(source, Scores):
        return None
    records: str | Path | Records
    if isinstance(source, str):
        path, col = split_source(source)
        if col is not None:
            return None
        records = path
    elif hasattr(source, "records") and not isinstance(source, Path):
        records = [r.model_dump() if hasattr(r, "model_dump") else r for r in source.records]
    else:
        records = source
    recs, where = read_records(records)
    if recs and any("model_a" in r and ("winner" in r or "winners" in r) for _, r in recs):
        return recs, where
    return None


def judge_outcomes(recs: list[tuple[str, dict[str, Any]]], dimension: str | None) -> tuple[dict[PairKey, float], dict[str, int]]:
    """A pairwise judge's outcome per item (mean over duplicates, then its sign), and what was skipped."""
    vals: dict[PairKey, list[float]] = {}
    skipped = {"failed": 0, "no_prompt_id": 0}
    for where, r in recs:
        if r.get("status") == "failed":
            skipped["failed"] += 1
            continue
        if r.get("prompt_id") in (None, ""):
            skipped["no_prompt_id"] += 1
            continue
        w = (r.get("winners") or {}).get(dimension) if dimension else r.get("winner")
        if w in (r.get("model_a"), r.get("model_b")) and w not in _WINNER:
            w = "model_a" if w == r.get("model_a") else "model_b"
        if w not in _WINNER:
            raise DataError(f"{where}: winner {w!r} is not model_a, model_b, tie or inconsistent")
        key, sign = pair_key(r["prompt_id"], r["model_a"], r["model_b"])
        vals.setdefault(key, []).append(sign * _WINNER[w])
    return {k: float(np.sign(np.mean(v))) for k, v in vals.items()}, skipped


def score_differences(scores: Scores, items: list[PairKey]) -> dict[PairKey, float]:
    """score(lower model) - score(higher model) on the prompt, for items with both images scored."""
    by: dict[tuple[str | None, str | None], list[float]] = {}
    for row in scores.rows:
        if row.value is not None:
            by.setdefault((row.prompt_id, row.model), []).append(row.value)
    mean = {k: float(np.mean(v)) for k, v in by.items()}
    return {(p, a, b): mean[(p, a)] - mean[(p, b)] for p, a, b in items if (p, a) in mean and (p, b) in mean}


def calibrate_pairwise(
    judge: ScoreSource | None,
    labels: HumanLabels,
    baselines: Mapping[str, ScoreSource] | None = None,
    *,
    judge_name: str = "judge",
    judge_column: str | None = None,
    dimension: str | None = None,
    n_boot: int = 1000,
    seed: int = 0,
    level: float = 0.95,
) -> PairwiseCalibration:
    """Tie-aware pairwise accuracy of ``judge`` (and of each pointwise baseline) on pairwise
    human labels, next to the human-to-human agreement (module docstring)."""
    if labels.value_type != "winner":
        raise ConfigError("calibrate_pairwise needs pairwise labels (a winner column); use calibrate for scores")
    rows = [r for r in labels.rows if dimension is None or r.dimension == dimension]
    unusable = sum(not (r.prompt_id and r.model_a and r.model_b) for r in rows)
    if unusable:
        raise DataError(f"{labels.source}: {unusable} pairwise label(s) lack prompt_id, model_a or model_b")
    lab_keys, lab_h = [], []
    for r in rows:
        key, sign = pair_key(r.prompt_id, r.model_a, r.model_b)
        lab_keys.append(key)
        lab_h.append(sign * {1.0: 1.0, 0.0: -1.0, 0.5: 0.0}[r.value])
    if not lab_keys:
        raise DataError(f"{labels.source}: no pairwise labels for dimension {dimension!r}")
    items = list(dict.fromkeys(lab_keys))
    per_scorer: dict[str, dict[PairKey, float]] = {}
    kinds: dict[str, str] = {}
    unmatched: dict[str, Any] = {"human_rows_skipped": len(labels.skipped)}
    sources: dict[str, ScoreSource] = {}
    if judge is not None:
        sources[judge_name] = judge
    sources.update(baselines or {})
    for name, src in sources.items():
        recs = _pairwise_records(src) if name == judge_name and judge_column is None else None
        if recs is not None:
            per_scorer[name], skipped = judge_outcomes(recs[0], dimension)
            kinds[name] = "pairwise"
            unmatched[name] = {**skipped, "records_without_label": len(set(per_scorer[name]) - set(items))}
        else:
            sc = load_scores(src, judge_column if name == judge_name else None, name, dimension)
            per_scorer[name] = score_differences(sc, items)
            kinds[name] = "pointwise"
        unmatched.setdefault(name, {})["labelled_pairs_without_value"] = sum(k not in per_scorer[name] for k in items)
    common = [k for k in items if all(k in v for v in per_scorer.values())]
    if not common:
        raise DataError(f"no labelled pair (prompt, model, model) is covered by every scorer; see {unmatched}")
    keep = set(common)
    sel = [i for i, k in enumerate(lab_keys) if k in keep]
    keys = [lab_keys[i] for i in sel]
    h = np.array([lab_h[i] for i in sel])
    groups = [k[0] for k in keys]
    item_ids = np.array(["\x1f".join(k) for k in keys], dtype=object)
    estimates = {
        name: pair_accuracy([vals[k] for k in keys], h, groups, tune_epsilon=kinds[name] == "pointwise",
                            n_boot=n_boot, level=level, seed=seed)
        for name, vals in per_scorer.items()
    }
    human = human_pair_agreement(item_ids, h, groups, n_boot=n_boot, level=level, seed=seed)
    warnings = []
    if len(common) < 10:
        warnings.append(f"only {len(common)} labelled pairs: the CIs are unreliable")
    unmatched["labelled_pairs_not_covered_by_every_scorer"] = len(items) - len(common)
    meta = {"human": labels.source, "dimension": dimension, "n_boot": n_boot, "seed": seed, "level": level}
    return PairwiseCalibration(len(keys), len(common), len(set(groups)), estimates, kinds, human, unmatched, warnings, meta)
