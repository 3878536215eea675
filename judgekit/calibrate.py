"""Judge vs human labels: join, agreement with CIs, the human ceiling and baselines side by side.

>>> import judgekit as jk                                                        # doctest: +SKIP
>>> report = jk.calibrate("results.jsonl", "labels.jsonl",                       # doctest: +SKIP
...                       baselines=["clip.jsonl:clipscore"], human_scale=(1, 5))
>>> print(report.table()); report.save("report.json")                           # doctest: +SKIP

Every row is accounted for: scorer rows without a human label, labelled items without a score,
failed judgments and empty label cells are counted under ``unmatched`` (with examples), never
dropped silently. All scorers are compared on the same items (those every scorer scored).
"""

from __future__ import annotations

import json
import math
import sys
import types
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from .errors import ConfigError, DataError
from .human_labels import HumanLabels, load_human_labels, read_records
from .stats.agreement import STATISTICS, Estimate, Scale, agreement, human_ceiling

MIN_ITEMS = 10
_EXAMPLES = 5


# --- scores to calibrate ---------------------------------------------------------------------------


@dataclass
class ScoreRow:
    value: float | None  # None: failed or missing (``why`` says which)
    sample_id: str | None
    prompt_id: str | None
    model: str | None
    why: str = ""


@dataclass
class Scores:
    name: str
    column: str
    rows: list[ScoreRow]


def split_source(spec: str) -> tuple[str, str | None]:
    """``"file.jsonl:clip"`` -> ``("file.jsonl", "clip")``; a path that exists as written wins
    (so a colon inside a file name still works)."""
    if Path(spec).exists() or ":" not in spec:
        return spec, None
    path, col = spec.rsplit(":", 1)
    return path, (col or None)


def _is_results(rec: Mapping) -> bool:
    return "status" in rec and "scores" in rec and "sample_id" in rec


def _lookup(rec: Mapping, column: str):
    if column in rec:
        return rec[column], True
    if column.startswith("groups."):  # a rubric group's score (VIEScore SC / PQ), issue 12
        groups = rec.get("groups")
        if isinstance(groups, Mapping) and column[7:] in groups:
            return groups[column[7:]], True
        return None, False
    scores = rec.get("scores")
    key = column[7:] if column.startswith("scores.") else column
    if isinstance(scores, Mapping) and key in scores:
        return scores[key], True
    return None, False


def load_scores(
    source: Any, column: str | None = None, name: str | None = None, dimension: str | None = None
) -> Scores:
    """Per-sample scores from a judgekit results file (``overall``, or ``scores[dimension]``),
    any JSONL/CSV/JSON file or records with a chosen ``column``, or ``"FILE:COLUMN"``."""
    if isinstance(source, Scores):
        return source if name is None else Scores(name, source.column, source.rows)
    if isinstance(source, str):
        source, col2 = split_source(source)
        column = column or col2
    if hasattr(source, "records") and not isinstance(source, (str, Path)):
        source = source.records  # a judgekit Results object
    recs, where = read_records(source)
    if not recs:
        raise DataError(f"{where}: no score rows")
    first = recs[0][1]
    results_file = _is_results(first)
    if column is None:
        if results_file:
            has_dim = dimension and any(dimension in (r.get("scores") or {}) for _, r in recs)
            has_group = dimension and any(dimension in (r.get("groups") or {}) for _, r in recs)
            column = dimension if has_dim else f"groups.{dimension}" if has_group else "overall"
        elif "score" in first:
            column = "score"
        else:
            raise ConfigError(f"{where}: say which column holds the score (e.g. FILE:COLUMN); columns are {sorted(first)}")
    if not any(_lookup(r, column)[1] for _, r in recs):
        raise ConfigError(f"{where}: no column {column!r}; columns are {sorted(first)}")
    rows = []
    for loc, rec in recs:
        sid = rec.get("sample_id", rec.get("id"))
        pid, model = rec.get("prompt_id"), rec.get("model")
        key = dict(
            sample_id=None if sid is None else str(sid),
            prompt_id=None if pid in (None, "") else str(pid),
            model=None if model in (None, "") else str(model),
        )
        if results_file and rec.get("status") == "failed":
            rows.append(ScoreRow(None, **key, why=f"failed: {rec.get('error') or 'no reason recorded'}"))
            continue
        raw, _ = _lookup(rec, column)
        try:
            val = float(raw) if raw not in (None, "") else None
        except (TypeError, ValueError):
            raise DataError(f"{loc}: {column} {raw!r} is not a number") from None
        if val is not None and not math.isfinite(val):
            val = None
        rows.append(ScoreRow(val, **key, why="" if val is not None else f"no {column} value"))
    label = name or (Path(str(where)).stem + ("" if column in ("overall", "score") else f":{column}"))
    return Scores(label, column, rows)


# --- the join -----------------------------------------------------------------------------------


@dataclass
class Joined:
    """Matched items: one score column per scorer, the raters' ratings, groups and models."""

    keys: list[tuple]
    scores: dict[str, np.ndarray]
    ratings: np.ndarray  # items x raters, NaN = not rated
    raters: list[str]
    groups: np.ndarray
    models: np.ndarray | None
    on: str
    unmatched: dict[str, Any]
    unlabeled: dict[str, list[ScoreRow]] = field(default_factory=dict)


def _key_mode(labels: HumanLabels, scorers: list[Scores], on: str | None) -> str:
    if on is not None:
        if on not in ("sample_id", "prompt_id,model"):
            raise ConfigError("join 'on' must be 'sample_id' or 'prompt_id,model'")
        return on
    human_sid = all(r.sample_id for r in labels.rows)
    if human_sid and all(all(r.sample_id for r in s.rows) for s in scorers):
        return "sample_id"
    if all(r.prompt_id and r.model for r in labels.rows) and all(
        all(r.prompt_id and r.model for r in s.rows) for s in scorers
    ):
        return "prompt_id,model"
    raise DataError(
        "cannot join: the human labels and every score file must both carry sample_id, or both "
        "prompt_id and model (map the label columns with --human-columns)"
    )


def _key(row, on: str) -> tuple:
    return (row.sample_id,) if on == "sample_id" else (row.prompt_id, row.model)


def join(labels: HumanLabels, scorers: list[Scores], dimension: str | None = None, on: str | None = None) -> Joined:
    rows = [r for r in labels.rows if dimension is None or r.dimension == dimension]
    if not rows:
        raise DataError(f"{labels.source}: no labels for dimension {dimension!r}; have {labels.dimensions()}")
    mode = _key_mode(labels, scorers, on)
    items: dict[tuple, dict] = {}
    for r in rows:
        it = items.setdefault(_key(r, mode), {"ratings": [], "prompt": r.prompt_id, "model": r.model})
        it["ratings"].append((r.rater, r.value))
    unmatched: dict[str, Any] = {"human_rows_skipped": len(labels.skipped)}
    if labels.skipped:
        unmatched["human_rows_skipped_examples"] = labels.skipped[:_EXAMPLES]
    per_scorer: dict[str, dict[tuple, float]] = {}
    unlabeled: dict[str, list[ScoreRow]] = {}
    for sc in scorers:
        vals: dict[tuple, list[float]] = {}
        failed: dict[tuple, str] = {}
        only: list[ScoreRow] = []
        for row in sc.rows:
            k = _key(row, mode)
            if k not in items:
                only.append(row)
            elif row.value is None:
                failed[k] = row.why
            else:
                vals.setdefault(k, []).append(row.value)
        failed = {k: w for k, w in failed.items() if k not in vals}
        per_scorer[sc.name] = {k: float(np.mean(v)) for k, v in vals.items()}
        unlabeled[sc.name] = [r for r in only if r.value is not None]
        missing = [k for k in items if k not in vals and k not in failed]
        unmatched[sc.name] = {
            "scorer_rows_without_label": len(only),
            "labelled_items_without_score": len(missing),
            "failed_or_empty": len(failed),
            "averaged_duplicate_keys": sum(len(v) > 1 for v in vals.values()),
            "examples": {
                "without_label": [list(_key(r, mode)) for r in only[:_EXAMPLES]],
                "without_score": [list(k) for k in missing[:_EXAMPLES]],
                "failed": [[*k, w] for k, w in list(failed.items())[:_EXAMPLES]],
            },
        }
    common = [k for k in items if all(k in per_scorer[s.name] for s in scorers)]
    unmatched["labelled_items"] = len(items)
    unmatched["labelled_items_not_scored_by_every_scorer"] = len(items) - len(common)
    named = labels.has_raters and all(r.rater is not None for r in rows)
    if named:
        raters = sorted({r.rater for r in rows})
        col = {rt: j for j, rt in enumerate(raters)}
    else:  # anonymous ratings: the i-th rating of an item is "rater #i"
        raters = [f"#{j}" for j in range(max((len(items[k]["ratings"]) for k in items), default=0))]
    mat = np.full((len(common), len(raters)), np.nan)
    for i, k in enumerate(common):
        seen: dict[int, list[float]] = {}
        for j, (rt, v) in enumerate(items[k]["ratings"]):
            seen.setdefault(col[rt] if named else j, []).append(v)
        for j, v in seen.items():
            mat[i, j] = float(np.mean(v))  # a rater who rated an item twice counts once
    groups = np.array([str(items[k]["prompt"] or k[0]) for k in common], dtype=object)
    have_models = all(items[k]["model"] for k in common) and common
    models = np.array([items[k]["model"] for k in common], dtype=object) if have_models else None
    return Joined(
        keys=common,
        scores={s.name: np.array([per_scorer[s.name][k] for k in common]) for s in scorers},
        ratings=mat,
        raters=raters,
        groups=groups,
        models=models,
        on=mode,
        unmatched=unmatched,
        unlabeled=unlabeled,
    )


# --- the report ---------------------------------------------------------------------------------


def _fmt(x: float | None, digits: int = 3) -> str:
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
    ceiling_per_rater: list[dict] = field(default_factory=list)
    #: With ``matched=True``: each scorer put in each rater's place (vs the mean of the others).
    matched: dict[str, dict[str, Estimate]] = field(default_factory=dict)

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
                        rows.append([nm, s, _fmt(e.value), self._ci(e), str(e.n)])
            for nm, e in self.system_level.items():
                rows.append([nm, "system_spearman", _fmt(e.value), self._ci(e), f"{e.n} models"])
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
        return "n/a" if not np.isfinite(e.ci[0]) else f"[{_fmt(e.ci[0])}, {_fmt(e.ci[1])}]"

    def _cell(self, e: Estimate | None) -> str:
        if e is None:
            return ""
        return "n/a" if not np.isfinite(e.value) else f"{_fmt(e.value)} {self._ci(e)}"

    def __str__(self) -> str:
        return self.table()

    def to_dict(self) -> dict[str, Any]:
        ceiling = None
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
        }

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), indent=2, default=_json_default)

    def save(self, path: str | Path) -> None:
        Path(path).write_text(self.to_json() + "\n", encoding="utf-8")


def _json_default(o):
    if isinstance(o, np.generic):
        return o.item()
    if isinstance(o, float) and not math.isfinite(o):
        return None
    raise TypeError(f"not JSON-serializable: {type(o).__name__}")


def _clean(d: dict) -> dict:
    """Per-rater dicts for JSON: rounded, NaN -> None, private keys renamed."""
    out = {}
    for k, v in d.items():
        if k == "_n":
            out["n"] = int(v)
        elif k == "_rater":
            continue
        elif not k.startswith("_"):
            out[k] = None if not np.isfinite(v) else round(float(v), 6)
    return out


def _as_labels(human, columns, scale) -> HumanLabels:
    if isinstance(human, HumanLabels):
        return human
    return load_human_labels(human, columns=columns, scale=scale)


def _as_scorers(judge, judge_column, judge_name, baselines, dimension) -> list[Scores]:
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
    judge,
    human,
    baselines: Iterable | Mapping | None = None,
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
    labels = _as_labels(human, human_columns, human_scale)
    if labels.kind == "winner":
        raise ConfigError("pairwise (winner) labels: use judgekit.stats.ppi for win rates; calibrate needs scores or labels")
    if dimension is None and len([d for d in labels.dimensions() if d is not None]) > 1:
        raise ConfigError(f"the labels have several dimensions {labels.dimensions()}: choose one with dimension=")
    scorers = _as_scorers(judge, judge_column, judge_name, baselines, dimension)
    # With no scorer at all the report holds the human ceiling alone (inter-rater agreement).
    j = join(labels, scorers, dimension, on)
    return _report(j, labels, scorers, judge_range, n_boot, seed, level, dimension, matched)


def _report(j: Joined, labels: HumanLabels, scorers, judge_range, n_boot, seed, level, dimension,
            matched: bool = False) -> CalibrationReport:
    n = len(j.keys)
    warnings_: list[str] = []
    scale = Scale(labels.levels(dimension))
    meta = {
        "human": labels.source, "human_kind": labels.kind, "human_levels": scale.levels.tolist(),
        "raters": len(j.raters), "join_on": j.on, "dimension": dimension,
        "n_boot": n_boot, "seed": seed, "level": level, "prompts": int(len(set(j.groups.tolist()))),
        "scorers": {s.name: s.column for s in scorers},
    }
    if n == 0:
        raise DataError(
            f"no item matched between the human labels ({labels.source}) and the scores "
            f"(joined on {j.on}); see the unmatched counts: {json.dumps(j.unmatched, default=str)[:600]}"
        )
    if n < MIN_ITEMS:
        warnings_.append(f"only {n} matched items: confidence intervals are unreliable below {MIN_ITEMS}")
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
    per_rater: list[dict] = []
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
    if matched and ceiling is not None:
        for s in scorers:
            rng = judge_range if (judge_range and s is scorers[0]) else None
            est = human_ceiling(j.ratings, j.groups, scale, scorer=j.scores[s.name], scorer_range=rng,
                                n_boot=n_boot, seed=seed, level=level)
            est.pop("per_rater")
            report.matched[s.name] = est
    return report


# --- rubric / judge comparison ----------------------------------------------------------------------


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
            lines.append(f"{i:>2}. {r['name'].ljust(w)}  {_fmt(r['value'])}  [{_fmt(r['ci'][0])}, {_fmt(r['ci'][1])}]")
        if self.top_two:
            t = self.top_two
            lines.append(
                f"{t['first']} - {t['second']}: {_fmt(t['difference'])} "
                f"[{_fmt(t['ci'][0])}, {_fmt(t['ci'][1])}], paired bootstrap p = {_fmt(t['p_value'])}"
            )
        return "\n".join(lines)

    def to_dict(self) -> dict[str, Any]:
        return {"statistic": self.statistic, "ranking": self.ranking, "top_two": self.top_two, "report": self.report.to_dict()}


def compare_judges(
    judges: Mapping[str, Any] | Iterable,
    human,
    *,
    statistic: str = "spearman",
    human_columns=None,
    human_scale=None,
    dimension: str | None = None,
    n_boot: int = 1000,
    seed: int = 0,
    level: float = 0.95,
) -> Comparison:
    """Rank several judges (rubric variants, judge models) by ``statistic`` against the same
    labels, on the items every judge scored, with a paired bootstrap test of the top two."""
    if statistic not in STATISTICS:
        raise ConfigError(f"unknown statistic {statistic!r}; expected one of {STATISTICS}")
    labels = _as_labels(human, human_columns, human_scale)
    scorers = _as_scorers(None, None, None, judges, dimension)
    if len(scorers) < 2:
        raise ConfigError("comparison needs at least two judges")
    j = join(labels, scorers, dimension)
    rep = _report(j, labels, scorers, None, n_boot, seed, level, dimension)
    # Same groups, same n, same seed: every judge saw the same bootstrap draws (paired).
    reps = {nm: est[statistic].replicates for nm, est in rep.scorers.items()}
    ranking = sorted(
        ({"name": nm, **{k: v for k, v in est[statistic].to_dict().items() if k in ("value", "ci", "n")}}
         for nm, est in rep.scorers.items()),
        key=lambda r: -np.inf if r["value"] is None else r["value"],
        reverse=True,
    )
    top = None
    a, b = ranking[0]["name"], ranking[1]["name"]
    diff = reps[a] - reps[b]
    ok = diff[np.isfinite(diff)]
    if ok.size and ranking[0]["value"] is not None and ranking[1]["value"] is not None:
        alpha = (1 - level) / 2
        p = min(1.0, 2 * min((ok <= 0).mean(), (ok >= 0).mean()))
        top = {"first": a, "second": b, "difference": ranking[0]["value"] - ranking[1]["value"],
               "ci": [float(np.quantile(ok, alpha)), float(np.quantile(ok, 1 - alpha))], "p_value": float(p)}
    return Comparison(statistic, ranking, top, rep)


# --- the shipped TIFA160 study: metric baselines and the demo's comparison -------------------------

#: The 10 automatic metrics in TIFA's human-annotation file.
TIFA_METRICS = (
    "clipscore_vitb32", "tifa_mplug-large", "tifa_blip2-flant5xl", "tifa_ofa-large", "tifa_git-large",
    "tifa_vilt", "spice", "meteor", "rouge", "bleu",
)


def tifa_metric_scores(metric: str = "clipscore_vitb32", name: str | None = None) -> Scores:
    """One metric's per-image scores from TIFA's human-annotation file, keyed like the DSG
    Likert file: ``prompt_id`` = DSG ``item_id`` (``tifa160_N``), ``model`` = DSG model name;
    ``sample_id`` keeps TIFA's ``<text_id>_<model>``."""
    from .human_labels import TIFA_TO_DSG_MODEL, builtin_path, tifa_text_to_dsg_item

    data = json.loads(builtin_path("tifa160").read_text(encoding="utf-8"))
    if metric not in next(iter(data.values())):
        raise ConfigError(f"no metric {metric!r} in the TIFA file; have {TIFA_METRICS}")
    to_item = tifa_text_to_dsg_item()
    rows = []
    for key, v in data.items():
        model = TIFA_TO_DSG_MODEL[key[len(v["text_id"]) + 1 :]]
        val = v.get(metric)
        rows.append(ScoreRow(None if val is None else float(val), key, to_item[v["text_id"]], model,
                             "" if val is not None else f"no {metric}"))
    return Scores(name or metric, metric, rows)


def _dsg_keyed(results) -> list[dict]:
    """Result records with TIFA-style ids or model names rewritten to the DSG file's."""
    from .human_labels import TIFA_TO_DSG_MODEL, tifa_text_to_dsg_item

    if hasattr(results, "records"):
        results = results.records
    if isinstance(results, (str, Path)):
        results = [r for _, r in read_records(results)[0]]
    to_item = tifa_text_to_dsg_item()
    out = []
    for r in results:
        d = r.model_dump() if hasattr(r, "model_dump") else dict(r)
        d["prompt_id"] = to_item.get(str(d.get("prompt_id")), d.get("prompt_id"))
        d["model"] = TIFA_TO_DSG_MODEL.get(str(d.get("model")), d.get("model"))
        out.append(d)
    return out


def compare_with_humans(
    results,
    human: str | Path | HumanLabels | None = None,
    baselines: Iterable[str] | Mapping[str, Any] = ("clipscore_vitb32",),
    *,
    judge_name: str = "judge",
    judge_column: str | None = None,
    n_boot: int = 1000,
    seed: int = 0,
) -> CalibrationReport:
    """Judge scores on the TIFA160 images against DSG's human Likert ratings (5 raters), next to
    TIFA's metric baselines and the human ceiling. ``print(report.table())`` shows it.

    ``results``: judgekit results (a file, a ``Results`` object or records) keyed by
    ``prompt_id`` + ``model``; ``prompt_id`` is DSG's ``tifa160_N`` (or TIFA's ``coco_...`` text
    id) and ``model`` DSG's (``mini-dalle``, ``sd1dot1``, ``sd1dot5``, ``sd2dot1``,
    ``vq-diffusion``) or TIFA's name. ``baselines``: names from :data:`TIFA_METRICS`, or
    ``{name: source}`` of other score files keyed the same way.
    """
    from .human_labels import builtin_labels

    labels = builtin_labels("dsg-tifa160-likert") if human is None else human
    if isinstance(baselines, Mapping):
        bl: dict[str, Any] = dict(baselines)
    else:
        bl = {("clip_score" if m == "clipscore_vitb32" else m): tifa_metric_scores(m) for m in baselines}
    return calibrate(
        _dsg_keyed(results), labels, bl, judge_column=judge_column, judge_name=judge_name,
        human_scale=(1, 5), on="prompt_id,model", n_boot=n_boot, seed=seed,
    )


def demo_comparison(results, out_dir: str | Path | None = None, n_boot: int = 1000, seed: int = 0) -> str:
    """The demo's hook: :func:`compare_with_humans` on the demo's results, the report written
    to ``out_dir/human_agreement.json`` when given, and the printable table returned."""
    rep = compare_with_humans(results, n_boot=n_boot, seed=seed, judge_name="dsg (mplug answers)")
    if out_dir is not None:
        rep.save(Path(out_dir) / "human_agreement.json")
    head = ("Agreement with people: DSG's 1-5 Likert ratings of the same images (5 raters; item level "
            "against their mean), next to CLIP score and the human ceiling (each rater vs the others)")
    return head + "\n" + rep.table(statistics=["pearson", "spearman", "kendall_tau_b", "pairwise_accuracy"], wide=True)


# --- prediction-powered estimates -------------------------------------------------------------------


@dataclass
class PPIReport:
    """Per-model means (pass rates for pass/fail labels) and pairwise win rates on the human
    scale: PPI++ next to the human-only and judge-only estimates."""

    means: dict[str, dict[str, Any]]
    win_rates: dict[str, dict[str, Any]]
    labels_needed: dict[str, Any] | None
    meta: dict[str, Any]

    def table(self) -> str:
        level = int(round(100 * self.meta.get("level", 0.95)))
        rows = [["what", "method", "value", f"{level}% CI", "n human", "N judge-only", "lambda"]]
        for block in (self.means, self.win_rates):
            for what, ests in block.items():
                if "note" in ests:
                    rows.append([what, "-", "n/a", ests["note"], "", "", ""])
                    continue
                for m in ("ppi", "human_only", "judge_only"):
                    e = ests[m]
                    rows.append([what, e["method"], _fmt(e["value"]), f"[{_fmt(e['ci'][0])}, {_fmt(e['ci'][1])}]",
                                 str(e["n"]), str(e["N"]), _fmt(e.get("lambda"), 2) if "lambda" in e else ""])
        widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
        lines = ["  ".join(c.ljust(w) for c, w in zip(r, widths)).rstrip() for r in rows]
        lines.insert(1, "  ".join("-" * w for w in widths))
        lines.append("judge_only: the judge's own mean, mapped to the human scale; its CI does not cover its bias")
        if self.labels_needed:
            ln = self.labels_needed
            lines.append(f"human labels for a CI of width {ln['target_width']:g} (per model mean, with "
                         f"{ln['judge_only_items']} judge-only items): PPI++ {ln['ppi']}, humans only {ln['human_only']}")
        return "\n".join(lines)

    def to_dict(self) -> dict[str, Any]:
        return {"means": self.means, "win_rates": self.win_rates, "labels_needed": self.labels_needed, "meta": self.meta}


def prediction_powered(
    judge,
    human,
    *,
    judge_column: str | None = None,
    human_columns=None,
    human_scale=None,
    dimension: str | None = None,
    calibration_map=None,
    target_width: float | None = None,
    level: float = 0.95,
) -> PPIReport:
    """PPI++ estimates from human labels on some samples and judge scores on all of them.

    Judge scores are put on the human scale first: by ``calibration_map`` (a fitted
    :class:`~judgekit.calibration_maps.CalibrationMap` or its JSON file) or else by a linear
    rescale of the judge's range onto the human scale. PPI's CI is valid whatever the map; a
    better map only makes it narrower. ``target_width`` adds how many labels such a CI needs.
    """
    from .calibration_maps import CalibrationMap, load_map
    from .stats.agreement import linear_map
    from .stats.ppi import labels_needed, mean_estimates, win_indicators

    labels = _as_labels(human, human_columns, human_scale)
    sc = load_scores(judge, judge_column, "judge", dimension)
    if labels.kind == "winner":
        return _ppi_from_winner_labels(sc, labels, dimension, level)
    j = join(labels, [sc], dimension)
    if j.models is None:
        raise DataError("prediction-powered estimates are per model: the labels need a model (or prompt_id,model) key")
    y = np.nanmean(j.ratings, axis=1)
    lab_s = j.scores["judge"]
    unl = j.unlabeled["judge"]
    unl_s = np.array([r.value for r in unl], float)
    all_s = np.r_[lab_s, unl_s]
    levels = labels.levels()
    if calibration_map is not None:
        cmap = calibration_map if isinstance(calibration_map, CalibrationMap) else load_map(calibration_map)
        to_h = cmap.apply
        how = f"{cmap.kind} calibration map"
    else:
        src = (float(all_s.min()), float(all_s.max()))

        def to_h(v):
            return linear_map(v, src, (float(levels.min()), float(levels.max())))

        how = f"linear rescale of [{src[0]:g}, {src[1]:g}] onto [{levels.min():g}, {levels.max():g}]"
    yhat, yhat_u = to_h(lab_s), to_h(unl_s) if unl_s.size else np.array([])
    unl_model = np.array([r.model for r in unl], dtype=object)
    means: dict[str, dict[str, Any]] = {}
    for m in dict.fromkeys(j.models.tolist()):
        sel, usel = j.models == m, unl_model == m
        if sel.sum() < 2 or usel.sum() < 1:
            means[m] = {"note": f"{int(sel.sum())} labelled and {int(usel.sum())} judge-only items: PPI needs at least 2 and 1"}
            continue
        means[m] = {k: e.to_dict() for k, e in mean_estimates(y[sel], yhat[sel], yhat_u[usel], level).items()}
    # Win rates: one unit per prompt where both models were judged (labelled when both were rated).
    judged: dict[tuple, float] = {}
    human_by: dict[tuple, float] = {}
    for i, _ in enumerate(j.keys):
        judged[(j.groups[i], j.models[i])] = yhat[i]
        human_by[(j.groups[i], j.models[i])] = y[i]
    for r, v in zip(unl, yhat_u):
        judged.setdefault((r.prompt_id or r.sample_id, r.model), v)
    def human_win(p, a, b):
        if (p, a) in human_by and (p, b) in human_by:
            return float(win_indicators([human_by[(p, a)]], [human_by[(p, b)]])[0])
        return None

    wins = _ppi_win_rates(judged, human_win, level, skip_empty=False)
    need = None
    if target_width is not None and unl_s.size and y.size > 2:
        per_model_big_n = max(1, int(round(unl_s.size / max(1, len(means)))))
        need = {"target_width": target_width, "judge_only_items": per_model_big_n,
                **labels_needed(y, yhat, target_width, per_model_big_n, level)}
    meta = {"human": labels.source, "n_labelled": int(y.size), "n_judge_only": int(unl_s.size), "judge_to_human": how,
            "level": level, "unmatched": j.unmatched}
    return PPIReport(means, wins, need, meta)


def _ppi_from_winner_labels(sc: Scores, labels: HumanLabels, dimension, level: float) -> PPIReport:
    """Win rates when people chose a winner per (prompt, model_a, model_b): the judge's verdict
    on a pair is which of its two pointwise scores is higher (equal: a tie)."""

    judged: dict[tuple, float] = {}
    for r in sc.rows:
        if r.value is not None and r.prompt_id and r.model:
            judged[(r.prompt_id, r.model)] = r.value
    if not judged:
        raise DataError("win rates from winner labels need judge scores keyed by prompt_id and model")
    human: dict[tuple, list[float]] = {}
    for r in labels.rows:
        if dimension is not None and r.dimension != dimension:
            continue
        if not (r.model_a and r.model_b):
            raise DataError(f"{r.where}: a winner label needs model_a and model_b")
        a, b = sorted((r.model_a, r.model_b))
        human.setdefault((r.prompt_id or r.sample_id, a, b), []).append(r.value if a == r.model_a else 1 - r.value)
    not_judged = sum(1 for (p, a, b) in human if (p, a) not in judged or (p, b) not in judged)

    def human_win(p, a, b):
        return float(np.mean(human[(p, a, b)])) if (p, a, b) in human else None

    wins = _ppi_win_rates(judged, human_win, level, skip_empty=True)
    meta = {"human": labels.source, "human_kind": "winner", "level": level,
            "labelled_pairs_without_both_judge_scores": not_judged,
            "judge_to_human": "judge verdict = the higher of the two pointwise scores (equal: tie)"}
    return PPIReport({}, wins, None, meta)


def _ppi_win_rates(judged: dict[tuple, float], human_win, level: float, skip_empty: bool) -> dict[str, dict[str, Any]]:
    """PPI win rate of each model pair: one unit per prompt where the judge scored both models,
    labelled where ``human_win(prompt, a, b)`` gives the people's win indicator (else None)."""
    from .stats.ppi import mean_estimates, win_indicators

    models = sorted({m for _, m in judged})
    prompts = sorted({p for p, _ in judged})
    wins: dict[str, dict[str, Any]] = {}
    for ai, a in enumerate(models):
        for b in models[ai + 1 :]:
            lab_y, lab_yh, unl_yh = [], [], []
            for p in prompts:
                if (p, a) not in judged or (p, b) not in judged:
                    continue
                w_hat = float(win_indicators([judged[(p, a)]], [judged[(p, b)]])[0])
                y = human_win(p, a, b)
                if y is None:
                    unl_yh.append(w_hat)
                else:
                    lab_y.append(y)
                    lab_yh.append(w_hat)
            if skip_empty and not lab_y and not unl_yh:
                continue
            name = f"{a} vs {b}"
            if len(lab_y) < 2 or not unl_yh:
                wins[name] = {"note": f"{len(lab_y)} labelled and {len(unl_yh)} judge-only prompts: PPI needs at least 2 and 1"}
                continue
            wins[name] = {k: e.to_dict() for k, e in mean_estimates(lab_y, lab_yh, unl_yh, level).items()}
    return wins


class _CallableModule(types.ModuleType):
    """``jk.calibrate(...)`` runs :func:`calibrate` while ``jk.calibrate.compare_with_humans``
    and ``from judgekit.calibrate import ...`` keep reaching this module's other names."""

    def __call__(self, *args, **kwargs) -> CalibrationReport:
        return calibrate(*args, **kwargs)


sys.modules[__name__].__class__ = _CallableModule
