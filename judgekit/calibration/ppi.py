"""Prediction-powered estimates (PPI++): per-model means and win rates on the human scale from a
few human labels and many judge scores, next to the human-only and judge-only estimates."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
from numpy.typing import ArrayLike

from ..errors import DataError
from ..stats.means import order_free_row_means
from .join import join
from .labels import HumanLabels
from .report import HumanSource, as_labels, fmt_number
from .scores import Scores, ScoreSource, load_scores

if TYPE_CHECKING:
    from .maps import CalibrationMap

#: ``human_win(prompt, model_a, model_b)``: the people's win indicator of a pair on a prompt
#: (1, 0.5, 0), or None where they did not judge it.
HumanWin = Callable[[Any, str, str], "float | None"]


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
                    ci = ("n/a" if e["ci_low"] is None else f"[{fmt_number(e['ci_low'])}, {fmt_number(e['ci_high'])}]")
                    if e.get("note"):
                        ci += f" ({e['note']})"
                    rows.append([what, e["method"], fmt_number(e["value"]), ci,
                                 str(e["n"]), str(e["N"]), fmt_number(e.get("lambda"), 2) if "lambda" in e else ""])
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
    judge: ScoreSource,
    human: HumanSource,
    *,
    judge_column: str | None = None,
    human_columns: str | Mapping[str, str] | None = None,
    human_scale: tuple[float, float] | None = None,
    dimension: str | None = None,
    calibration_map: CalibrationMap | str | Path | None = None,
    target_width: float | None = None,
    level: float = 0.95,
) -> PPIReport:
    """PPI++ estimates from human labels on some samples and judge scores on all of them.

    Judge scores are put on the human scale first: by ``calibration_map`` (a fitted
    :class:`~judgekit.calibration.maps.CalibrationMap` or its JSON file) or else by a linear
    rescale of the judge's range onto the human scale. PPI's CI is valid whatever the map; a
    better map only makes it narrower. ``target_width`` adds how many labels such a CI needs.
    """
    from ..stats.agreement import linear_map
    from ..stats.ppi import labels_needed, mean_estimates, win_indicators
    from .maps import CalibrationMap, load_map

    labels = as_labels(human, human_columns, human_scale)
    sc = load_scores(judge, judge_column, "judge", dimension)
    if labels.value_type == "winner":
        return _ppi_from_winner_labels(sc, labels, dimension, level)
    j = join(labels, [sc], dimension)
    if j.models is None:
        raise DataError("prediction-powered estimates are per model: the labels need a model (or prompt_id,model) key")
    y = order_free_row_means(j.ratings)
    lab_s = j.scores["judge"]
    unl = j.unlabeled["judge"]
    unl_s = np.array([r.value for r in unl], float)
    all_s = np.r_[lab_s, unl_s]
    levels = labels.levels()
    to_h: Callable[[ArrayLike], np.ndarray]
    if calibration_map is not None:
        cmap = calibration_map if isinstance(calibration_map, CalibrationMap) else load_map(calibration_map)
        to_h = cmap.apply
        how = f"{cmap.method} calibration map"
    else:
        src = (float(all_s.min()), float(all_s.max()))

        def rescale(v: ArrayLike) -> np.ndarray:
            return linear_map(v, src, (float(levels.min()), float(levels.max())))

        to_h = rescale

        how = f"linear rescale of [{src[0]:g}, {src[1]:g}] onto [{levels.min():g}, {levels.max():g}]"
    yhat, yhat_u = to_h(lab_s), to_h(unl_s) if unl_s.size else np.array([])
    unl_model = np.array([r.model for r in unl], dtype=object)
    means: dict[str, dict[str, Any]] = {}
    for m in dict.fromkeys(j.models.tolist()):
        sel, usel = j.models == m, unl_model == m
        if sel.sum() < 2 or usel.sum() < 1:
            means[m] = {"note": f"{int(sel.sum())} labelled and {int(usel.sum())} judge-only items: PPI needs at least 2 and 1"}
            continue
        scale = (float(levels.min()), float(levels.max()))  # a mean (or pass rate) lies on the human scale
        means[m] = {k: e.to_dict() for k, e in mean_estimates(y[sel], yhat[sel], yhat_u[usel], level, scale).items()}
    # Win rates: one unit per prompt where both models were judged (labelled when both were rated).
    judged: dict[tuple[Any, ...], float] = {}
    human_by: dict[tuple[Any, ...], float] = {}
    for i, _ in enumerate(j.keys):
        judged[(j.groups[i], j.models[i])] = yhat[i]
        human_by[(j.groups[i], j.models[i])] = y[i]
    for r, v in zip(unl, yhat_u):
        judged.setdefault((r.prompt_id or r.sample_id, r.model), v)
    def human_win(p: Any, a: str, b: str) -> float | None:
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


def _ppi_from_winner_labels(sc: Scores, labels: HumanLabels, dimension: str | None, level: float) -> PPIReport:
    """Win rates when people chose a winner per (prompt, model_a, model_b): the judge's verdict
    on a pair is which of its two pointwise scores is higher (equal: a tie)."""

    judged: dict[tuple[Any, ...], float] = {}
    for r in sc.rows:
        if r.value is not None and r.prompt_id and r.model:
            judged[(r.prompt_id, r.model)] = r.value
    if not judged:
        raise DataError("win rates from winner labels need judge scores keyed by prompt_id and model")
    human: dict[tuple[Any, ...], list[float]] = {}
    for lr in labels.rows:
        if dimension is not None and lr.dimension != dimension:
            continue
        if not (lr.model_a and lr.model_b):
            raise DataError(f"{lr.where}: a winner label needs model_a and model_b")
        a, b = sorted((lr.model_a, lr.model_b))
        human.setdefault((lr.prompt_id or lr.sample_id, a, b), []).append(lr.value if a == lr.model_a else 1 - lr.value)
    not_judged = sum(1 for (p, a, b) in human if (p, a) not in judged or (p, b) not in judged)

    def human_win(p: Any, a: str, b: str) -> float | None:
        return float(np.mean(human[(p, a, b)])) if (p, a, b) in human else None

    wins = _ppi_win_rates(judged, human_win, level, skip_empty=True)
    meta = {"human": labels.source, "human_kind": "winner", "level": level,
            "labelled_pairs_without_both_judge_scores": not_judged,
            "judge_to_human": "judge verdict = the higher of the two pointwise scores (equal: tie)"}
    return PPIReport({}, wins, None, meta)


def _ppi_win_rates(
    judged: dict[tuple[Any, ...], float], human_win: HumanWin, level: float, skip_empty: bool
) -> dict[str, dict[str, Any]]:
    """PPI win rate of each model pair: one unit per prompt where the judge scored both models,
    labelled where ``human_win(prompt, a, b)`` gives the people's win indicator (else None)."""
    from ..stats.ppi import mean_estimates, win_indicators

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
            wins[name] = {k: e.to_dict() for k, e in mean_estimates(lab_y, lab_yh, unl_yh, level, (0.0, 1.0)).items()}
    return wins
