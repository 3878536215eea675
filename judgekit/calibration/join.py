"""Joining scorers with human labels on the items every one of them covers; every row that
does not join is counted under ``unmatched`` with examples, never dropped silently."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ..errors import ConfigError, DataError
from ..stats.means import order_free_mean
from .labels import HumanLabels, LabelRow
from .scores import ScoreRow, Scores

MIN_ITEMS = 10
_EXAMPLES = 5
#: An item's identity: ``(sample_id,)``, or ``(prompt_id, model)`` (see ``_key_mode``).
ItemKey = tuple[str | None, ...]


@dataclass
class Joined:
    """Matched items: one score column per scorer, the raters' ratings, groups and models."""

    keys: list[ItemKey]
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


def _key(row: LabelRow | ScoreRow, on: str) -> ItemKey:
    return (row.sample_id,) if on == "sample_id" else (row.prompt_id, row.model)


def _fill_item_identity(items: dict[ItemKey, dict[str, Any]], scorers: list[Scores], mode: str) -> None:
    """Labels keyed by ``sample_id`` alone do not say which prompt and model an item belongs
    to; the judge's results do. Without them the bootstrap would resample images as if each were
    its own prompt, pairwise accuracy would compare images of different prompts, and the
    system-level (per-model) agreement could not be computed. So take ``prompt_id`` and
    ``model`` from the first scorer row of the same item that carries them."""
    if mode != "sample_id":
        return
    for sc in scorers:
        for row in sc.rows:
            it = items.get(_key(row, mode))
            if it is None:
                continue
            if it["prompt"] is None and row.prompt_id:
                it["prompt"] = row.prompt_id
            if it["model"] is None and row.model:
                it["model"] = row.model


def join(labels: HumanLabels, scorers: list[Scores], dimension: str | None = None, on: str | None = None) -> Joined:
    rows = [r for r in labels.rows if dimension is None or r.dimension == dimension]
    if not rows:
        have = [d for d in labels.dimensions() if d is not None]
        if not have:
            raise DataError(
                f"{labels.source}: the labels have no dimension column, so dimension {dimension!r} matches none of them "
                "(leave --dimension out, or map a column with --human-columns dimension=COLUMN)"
            )
        raise DataError(f"{labels.source}: no labels for dimension {dimension!r}; the labels' dimensions are {', '.join(have)}")
    mode = _key_mode(labels, scorers, on)
    items: dict[ItemKey, dict[str, Any]] = {}
    for r in rows:
        it = items.setdefault(_key(r, mode), {"ratings": [], "prompt": r.prompt_id, "model": r.model})
        it["ratings"].append((r.rater, r.value))
    _fill_item_identity(items, scorers, mode)
    unmatched: dict[str, Any] = {"human_rows_skipped": len(labels.skipped)}
    if labels.skipped:
        unmatched["human_rows_skipped_examples"] = labels.skipped[:_EXAMPLES]
    per_scorer: dict[str, dict[ItemKey, float]] = {}
    unlabeled: dict[str, list[ScoreRow]] = {}
    for sc in scorers:
        vals: dict[ItemKey, list[float]] = {}
        failed: dict[ItemKey, str] = {}
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
        per_scorer[sc.name] = {k: order_free_mean(v) for k, v in vals.items()}
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
    # Sorted: the items' order (and with it the bootstrap's draws) must not depend on the order
    # of the label rows or rater files.
    common = sorted((k for k in items if all(k in per_scorer[s.name] for s in scorers)),
                    key=lambda k: tuple("" if x is None else x for x in k))
    unmatched["labelled_items"] = len(items)
    unmatched["labelled_items_not_scored_by_every_scorer"] = len(items) - len(common)
    named = labels.has_raters and all(r.rater is not None for r in rows)
    if named:
        raters = sorted({r.rater for r in rows if r.rater is not None})  # all named (checked above)
        col = {rt: j for j, rt in enumerate(raters)}
    else:  # anonymous ratings: the i-th rating of an item is "rater #i"
        raters = [f"#{j}" for j in range(max((len(items[k]["ratings"]) for k in items), default=0))]
    mat = np.full((len(common), len(raters)), np.nan)
    repeated: list[str] = []
    for i, k in enumerate(common):
        seen: dict[int, list[float]] = {}
        for j, (rt, v) in enumerate(items[k]["ratings"]):
            seen.setdefault(col[rt] if named else j, []).append(v)
        for j, v in seen.items():
            if len(v) > 1:
                repeated.append(f"{raters[j]} rated {'/'.join(x for x in k if x)} {len(v)} times ({', '.join(f'{x:g}' for x in v)})")
            mat[i, j] = order_free_mean(v)  # a rater who rated an item twice counts once, with the mean
    if repeated:
        unmatched["repeated_rater_item_pairs"] = len(repeated)
        unmatched["repeated_rater_item_examples"] = repeated[:_EXAMPLES]
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
