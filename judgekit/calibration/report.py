"""``calibrate``: judge vs human labels, agreement with CIs, the human ceiling and baselines side
by side, as a ``CalibrationReport`` (printable table, JSON).

>>> import judgekit as jk                                                        # doctest: +SKIP
>>> report = jk.calibrate("results.jsonl", "labels.jsonl",                       # doctest: +SKIP
...                       baselines=["clip.jsonl:clipscore"], human_scale=(1, 5))
>>> print(report.table()); report.save("report.json")                           # doctest: +SKIP

Every row is accounted for: scorer rows without a human label, labelled items without a score,
failed judgments and empty label cells are counted under ``unmatched`` (with examples), never
dropped silently. All scorers are compared on the same items (those every scorer scored).
"""

from __future__ import annotations

import warnings
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from ..errors import ConfigError, DataError
from ..io import dumps_json
from ..stats.agreement import STATISTICS, HumanScale, agreement
from ..stats.ceiling import human_ceiling
from ..stats.estimates import Estimate
from ..stats.means import order_free_row_means
from ..summaries import MIN_RELIABLE_PROMPTS, SmallSampleWarning
from .join import MIN_ITEMS, Joined, join
from .labels import HumanLabels, load_human_labels
from .scores import Records, Scores, ScoreSource, load_scores

#: Human labels: loaded ``HumanLabels``, a label file, or label records.
HumanSource = HumanLabels | str | Path | Records
#: A baseline scorer: a source, or ``(source, column)``.
Baseline = ScoreSource | tuple[ScoreSource, str]
#: Baselines: a list (each named after its file), or ``{name: baseline}``.
Baselines = Mapping[str, Baseline] | Iterable[Baseline]


def fmt_number(x: float | None, digits: int = 3) -> str:
    return "n/a" if x is None or not np.isfinite(x) else f"{x:.{digits}f}"


@dataclass
class CalibrationReport:
    n: int
    unmatched: dict[str, Any]
    scorers: dict[str, dict[str, Estimate]]
    human_ceiling: dict[str, Estimate] | None
    system_level: dict[str, Estimate]
    warnings: list[str] = field(default_factory=list)
    meta: dict[str, Any] = field(default_factory=dict)
    ceiling_per_rater: list[dict[str, Any]] = field(default_factory=list)
    #: With ``matched=True``: each scorer put in each rater's place (vs the mean of the others).
    matched: dict[str, dict[str, Estimate]] = field(default_factory=dict)
    #: One entry per matched item: its key, the mean human rating and each scorer's score (the
    #: points of a judge-vs-human scatter and a reliability diagram).
    items: list[dict[str, Any]] = field(default_factory=list)

    def table(self, statistics: Iterable[str] | None = None, wide: bool = False) -> str:
        """A text table: (scorer, statistic, value, CI, n) rows, the human ceiling first;
        ``wide=True`` gives one row per scorer and one ``value [lo, hi]`` column per statistic."""
        stats = list(statistics or STATISTICS)
        level = int(round(100 * self.meta.get("level", 0.95)))
        blocks: list[tuple[str, dict[str, Estimate]]] = []
        if self.human_ceiling:
            blocks.append(("human ceiling", self.human_ceiling))
        for nm, est in self.scorers.items():
            blocks.append((nm, est))
            if nm in self.matched:
                blocks.append((f"{nm} (vs others)", self.matched[nm]))
        if wide:
            header = ["scorer", *stats]
            rows = [[nm, *(self._cell(est.get(s)) for s in stats)] for nm, est in blocks]
        else:
            header = ["scorer", "statistic", "value", f"{level}% CI", "n"]
            rows = []
            for nm, est in blocks:
                for s in stats:
                    if s in est:
                        e = est[s]
                        rows.append([nm, s, fmt_number(e.value), self._ci(e), str(e.n)])
            for nm, e in self.system_level.items():
                rows.append([nm, "system_spearman", fmt_number(e.value), self._ci(e), f"{e.n} models"])
        widths = [max(len(str(r[i])) for r in [header, *rows]) for i in range(len(header))]
        lines = ["  ".join(str(c).ljust(w) for c, w in zip(header, widths))]
        lines.append("  ".join("-" * w for w in widths))
        lines += ["  ".join(str(c).ljust(w) for c, w in zip(r, widths)).rstrip() for r in rows]
        if wide and self.system_level:
            lines.append("system level (Spearman of per-model means): " + "; ".join(
                f"{nm} {self._cell(e)}" for nm, e in self.system_level.items()))
        foot = [f"n = {self.n} matched items; CIs: bootstrap over prompts ({self.meta.get('n_boot')} draws, seed {self.meta.get('seed')})"]
        if not self.human_ceiling:
            foot.append(f"human ceiling: {self.meta.get('ceiling_note', 'not available')}")
        foot += [f"warning: {w}" for w in self.warnings]
        return "\n".join(lines + foot)

    @staticmethod
    def _ci(e: Estimate) -> str:
        return "n/a" if not np.isfinite(e.ci_low) else f"[{fmt_number(e.ci_low)}, {fmt_number(e.ci_high)}]"

    def _cell(self, e: Estimate | None) -> str:
        if e is None:
            return ""
        return "n/a" if not np.isfinite(e.value) else f"{fmt_number(e.value)} {self._ci(e)}"

    def __str__(self) -> str:
        return self.table()

    def to_dict(self) -> dict[str, Any]:
        ceiling: dict[str, Any] | None = None
        if self.human_ceiling:
            ceiling = {k: e.to_dict() for k, e in self.human_ceiling.items()}
            ceiling["per_rater"] = self.ceiling_per_rater
        return {
            "n": self.n,
            "unmatched": self.unmatched,
            "scorers": {nm: {k: e.to_dict() for k, e in est.items()} for nm, est in self.scorers.items()},
            "human_ceiling": ceiling,
            "system_level": {nm: e.to_dict() for nm, e in self.system_level.items()},
            **({"matched": {nm: {k: e.to_dict() for k, e in est.items()} for nm, est in self.matched.items()}}
               if self.matched else {}),
            "warnings": self.warnings,
            "meta": self.meta,
            "items": self.items,
        }

    def to_json(self) -> str:
        return dumps_json(self.to_dict())

    def save(self, path: str | Path) -> None:
        Path(path).write_text(self.to_json() + "\n", encoding="utf-8")


def _clean(d: dict[str, float]) -> dict[str, float | None]:
    """Per-rater dicts for JSON: rounded, NaN -> None, private keys renamed."""
    out: dict[str, float | None] = {}
    for k, v in d.items():
        if k == "_n":
            out["n"] = int(v)
        elif k == "_rater":
            continue
        elif not k.startswith("_"):
            out[k] = None if not np.isfinite(v) else round(float(v), 6)
    return out


def as_labels(
    human: HumanSource, columns: str | Mapping[str, str] | None, scale: tuple[float, float] | None
) -> HumanLabels:
    if isinstance(human, HumanLabels):
        return human
    return load_human_labels(human, columns=columns, scale=scale)


def as_scorers(
    judge: ScoreSource | None, judge_column: str | None, judge_name: str | None, baselines: Baselines | None,
    dimension: str | None,
) -> list[Scores]:
    scorers = [load_scores(judge, judge_column, judge_name, dimension)] if judge is not None else []
    items = baselines.items() if isinstance(baselines, Mapping) else [(None, b) for b in (baselines or [])]
    for nm, src in items:
        if isinstance(src, tuple):
            scorers.append(load_scores(src[0], src[1], nm))
        else:
            scorers.append(load_scores(src, None, nm))
    names = [s.name for s in scorers]
    dup = {n for n in names if names.count(n) > 1}
    if dup:
        raise ConfigError(f"two scorers share the name(s) {sorted(dup)}: name them (baselines={{'name': source}})")
    return scorers


def calibrate(
    judge: ScoreSource | None,
    human: HumanSource,
    baselines: Baselines | None = None,
    *,
    judge_column: str | None = None,
    judge_name: str = "judge",
    human_columns: str | Mapping[str, str] | None = None,
    human_scale: tuple[float, float] | None = None,
    dimension: str | None = None,
    on: str | None = None,
    judge_range: tuple[float, float] | None = None,
    n_boot: int = 1000,
    seed: int = 0,
    level: float = 0.95,
    matched: bool = False,
) -> CalibrationReport:
    """Agreement of the judge (and each baseline) with the human labels, with the human ceiling.

    ``judge`` and each baseline: a results file, ``"FILE:COLUMN"``, a ``Results`` object or a
    list of records. ``baselines`` may be a list (named after their files) or ``{name: source}``
    (``source`` may be ``(path, column)``). ``judge_range`` is the judge's score range used to
    map it onto the human scale for kappa and alpha (default: the range it used here).
    ``judge=None`` with no baselines reports the human ceiling alone. ``matched=True`` also
    puts each scorer in each rater's place (against the mean of the *other* raters, on that
    rater's items), which compares with the human ceiling exactly.
    """
    labels = as_labels(human, human_columns, human_scale)
    if labels.value_type == "winner":
        raise ConfigError("pairwise (winner) labels: use calibrate_pairwise (tie-aware pairwise accuracy) or judgekit.stats.ppi for win rates; calibrate needs scores or labels")
    if dimension is None and len([d for d in labels.dimensions() if d is not None]) > 1:
        raise ConfigError(f"the labels have several dimensions {labels.dimensions()}: choose one with dimension=")
    scorers = as_scorers(judge, judge_column, judge_name, baselines, dimension)
    # With no scorer at all the report holds the human ceiling alone (inter-rater agreement).
    j = join(labels, scorers, dimension, on)
    return build_report(j, labels, scorers, judge_range, n_boot, seed, level, dimension, matched)


def _no_match_message(j: Joined, labels: HumanLabels, scorers: list[Scores]) -> str:
    """One line saying why nothing joined: no shared key (with one example from each side), or
    shared items whose every score failed (with the first reason)."""
    if not scorers:
        return f"{labels.source}: no labelled item to report on"
    failed = [(s.name, j.unmatched[s.name]) for s in scorers if j.unmatched[s.name]["failed_or_empty"]]
    if failed:
        name, u = failed[0]
        first = u["examples"]["failed"][0]
        return (f"{u['failed_or_empty']} labelled item(s) matched {name}'s scores but every one of them failed or has no "
                f"score (first: {'/'.join(str(x) for x in first[:-1])}: {first[-1]}); nothing left to calibrate")
    s = scorers[0]
    u = j.unmatched[s.name]
    ex_score = u["examples"]["without_label"][:1]
    ex_label = u["examples"]["without_score"][:1]
    return (f"no item matched between the human labels ({labels.source}, {j.unmatched['labelled_items']} items) and "
            f"{s.name}'s scores (joined on {j.on}): e.g. a label keyed {ex_label[0] if ex_label else '-'} and a score "
            f"keyed {ex_score[0] if ex_score else '-'}; check the keys (--on, --human-columns)")


def build_report(
    j: Joined, labels: HumanLabels, scorers: list[Scores], judge_range: tuple[float, float] | None, n_boot: int,
    seed: int, level: float, dimension: str | None, matched: bool = False,
) -> CalibrationReport:
    n = len(j.keys)
    warnings_: list[str] = []
    scale = HumanScale(labels.levels(dimension))
    meta = {
        "human": labels.source, "human_value_type": labels.value_type, "human_levels": scale.levels.tolist(),
        "raters": len(j.raters), "join_on": j.on, "dimension": dimension,
        "n_boot": n_boot, "seed": seed, "level": level, "prompts": int(len(set(j.groups.tolist()))),
        "scorers": {s.name: s.column for s in scorers},
    }
    if n == 0:
        raise DataError(_no_match_message(j, labels, scorers))
    if j.unmatched.get("repeated_rater_item_pairs"):
        ex = "; ".join(j.unmatched["repeated_rater_item_examples"][:3])
        warnings_.append(f"{j.unmatched['repeated_rater_item_pairs']} (rater, item) pair(s) rated more than once, "
                         f"each averaged into one rating (e.g. {ex}); check the label file for duplicated rows")
    if n < MIN_ITEMS:
        warnings_.append(f"only {n} matched items: confidence intervals are unreliable below {MIN_ITEMS}")
    if meta["prompts"] < MIN_RELIABLE_PROMPTS:
        # The bootstrap resamples prompts: many items over few prompts still give few draws.
        note = (f"only {meta['prompts']} prompts: the bootstrap resamples prompts, so CIs over fewer than "
                f"{MIN_RELIABLE_PROMPTS} are unreliable; label items of more prompts before reading them")
        warnings_.append(note)
        warnings.warn(note, SmallSampleWarning, stacklevel=3)
    results: dict[str, dict[str, Estimate]] = {}
    system: dict[str, Estimate] = {}
    for s in scorers:
        vals = j.scores[s.name]
        rng = judge_range if (judge_range and s is scorers[0]) else None
        est = agreement(vals, j.ratings, j.groups, scale, models=j.models, scorer_range=rng,
                        n_boot=n_boot, seed=seed, level=level)
        if "system_spearman" in est:
            system[s.name] = est.pop("system_spearman")
        results[s.name] = est
        if dimension and dimension != "overall" and s.column == "overall":
            warnings_.append(f"{s.name}: no score for dimension {dimension!r}; its overall score is used")
        if np.ptp(vals) == 0:
            warnings_.append(f"{s.name}: every item has the same score ({vals[0]:g}); its correlations are undefined")
    ceiling = None
    per_rater: list[dict[str, Any]] = []
    rated = np.isfinite(j.ratings).sum(1)
    if len(j.raters) < 2 or (rated >= 2).sum() == 0:
        meta["ceiling_note"] = "one rater per item: no human ceiling"
    else:
        ceiling = human_ceiling(j.ratings, j.groups, scale, n_boot=n_boot, seed=seed, level=level)
        if ceiling is not None:
            per_rater = [{"rater": j.raters[p["_rater"]], **_clean(p)} for p in ceiling.pop("per_rater")]
            meta["ceiling_note"] = "each rater vs the mean of the other raters"
            if not all(r is not None for r in j.raters) or j.raters[0].startswith("#"):
                meta["ceiling_note"] += " (raters anonymous: the i-th rating of each item is 'rater #i')"
    report = CalibrationReport(n, j.unmatched, results, ceiling, system, warnings_, meta, per_rater)
    human_mean = order_free_row_means(j.ratings)
    report.items = [{"key": list(k), "human": float(human_mean[i]), "raters": int(rated[i]),
                     "scores": {nm: float(v[i]) for nm, v in j.scores.items()}} for i, k in enumerate(j.keys)]
    if matched and ceiling is not None:
        for s in scorers:
            rng = judge_range if (judge_range and s is scorers[0]) else None
            vs_others = human_ceiling(j.ratings, j.groups, scale, scorer=j.scores[s.name], scorer_range=rng,
                                      n_boot=n_boot, seed=seed, level=level)
            assert vs_others is not None  # the same ratings gave the ceiling above
            vs_others.pop("per_rater")
            report.matched[s.name] = vs_others
    return report
