"""Battles from other human-label shapes: per-image scores of several models on one prompt
(``battles_from_scores``) and per-prompt rankings with ties (``battles_from_rankings``, the
ImageReward test format)."""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any

import numpy as np

from ..errors import DataError
from .battles import Battles
from .means import order_free_mean


def battles_from_scores(
    scores: Mapping[str, Mapping[str, float | Sequence[float]]],
    *,
    aggregate: str = "mean",
    tie_margin: float = 0.0,
) -> Battles:
    """Battles from per-image scores of several models on the same prompt.

    ``scores[prompt_id][model]`` is a score or a list of raters' scores. Every pair of models
    scored on a prompt is one battle per prompt (``aggregate="mean"``: the higher mean rating
    wins, means within ``tie_margin`` tie) or one battle per rater (``aggregate="per_rater"``:
    the k-th rating of each model is taken as the same rater's, so every model of the prompt
    must have the same number of ratings). Pairs are formed in the mapping's model order.

    >>> b = battles_from_scores({"p1": {"m1": [5, 4], "m2": [3, 4], "m3": [4.5, 4.5]}})
    >>> [(r["model_a"], r["model_b"], r["winner"]) for r in b.to_records()]
    [('m1', 'm2', 'model_a'), ('m1', 'm3', 'tie'), ('m2', 'm3', 'model_b')]
    """
    if aggregate not in ("mean", "per_rater"):
        raise DataError(f"aggregate must be 'mean' or 'per_rater', not {aggregate!r}")
    ma: list[str] = []
    mb: list[str] = []
    sc: list[float] = []
    pid: list[str] = []
    for prompt, by_model in scores.items():
        vals: dict[str, np.ndarray] = {}
        for m, v in by_model.items():
            arr = np.atleast_1d(np.asarray(v, dtype=float))
            if arr.size == 0 or not np.isfinite(arr).all():
                raise DataError(f"prompt {prompt!r}, model {m!r}: scores must be finite numbers, got {v!r}")
            vals[m] = arr
        if aggregate == "per_rater" and len({v.size for v in vals.values()}) > 1:
            sizes = {m: v.size for m, v in vals.items()}
            raise DataError(f"prompt {prompt!r}: per_rater needs the same number of ratings for every model, got {sizes}")
        for m1, m2 in itertools.combinations(vals, 2):
            # Order-free means: the same ratings in another rater order must tie, not win by a last bit.
            pairs = ([(order_free_mean(vals[m1]), order_free_mean(vals[m2]))] if aggregate == "mean"
                     else zip(vals[m1], vals[m2], strict=True))
            for x, y in pairs:
                ma.append(m1)
                mb.append(m2)
                sc.append(0.5 if abs(x - y) <= tie_margin else float(x > y))
                pid.append(str(prompt))
    if not ma:
        raise DataError("no battles: every prompt needs scores of at least two models")
    return Battles.from_arrays(ma, mb, sc, pid)


def battles_from_rankings(
    items: Iterable[Mapping[str, Any]],
    *,
    names: str | Callable[[Mapping[str, Any], int], str] = "generations",
    ties: str = "tie",
) -> Battles:
    """Battles from per-prompt rankings (1 = best, equal ranks tie), e.g. ImageReward's test split.

    Each item has ``id``, ``ranking`` and the ranked things' names under ``names`` (a key
    holding a list, such as ``generations`` or ``models``, or a function ``(item, k) -> name``).
    Every pair of ranked things of a prompt is one battle; equal ranks are a tie, or the pair is
    left out with ``ties="drop"`` (counted in ``skipped``).

    >>> b = battles_from_rankings([{"id": "p", "models": ["x", "y", "z"], "ranking": [2, 1, 2]}], names="models")
    >>> [(r["model_a"], r["model_b"], r["winner"]) for r in b.to_records()]
    [('x', 'y', 'model_b'), ('x', 'z', 'tie'), ('y', 'z', 'model_a')]
    """
    if ties not in ("tie", "drop"):
        raise DataError(f"ties must be 'tie' or 'drop', not {ties!r}")
    ma: list[str] = []
    mb: list[str] = []
    sc: list[float] = []
    pid: list[str] = []
    dropped = 0
    for n, item in enumerate(items):
        prompt = str(item.get("id", n))
        ranking = item.get("ranking")
        if not isinstance(ranking, list) or not all(isinstance(r, (int, float)) and not isinstance(r, bool) for r in ranking):
            raise DataError(f"item {prompt!r}: 'ranking' must be a list of numbers, got {ranking!r}")
        if callable(names):
            labels = [names(item, k) for k in range(len(ranking))]
        else:
            if names not in item:
                raise DataError(f"item {prompt!r}: no {names!r} list naming the ranked items")
            labels = [str(x) for x in item[names]]
        if len(labels) != len(ranking):
            raise DataError(f"item {prompt!r}: {len(labels)} names but {len(ranking)} ranks")
        if len(set(labels)) != len(labels):
            raise DataError(f"item {prompt!r}: the ranked names are not distinct")
        for i, j in itertools.combinations(range(len(ranking)), 2):
            if ranking[i] == ranking[j] and ties == "drop":
                dropped += 1
                continue
            ma.append(labels[i])
            mb.append(labels[j])
            sc.append(0.5 if ranking[i] == ranking[j] else float(ranking[i] < ranking[j]))
            pid.append(prompt)
    if not ma:
        raise DataError("no battles: every item needs at least two ranked things")
    return Battles.from_arrays(ma, mb, sc, pid, skipped={"tie": dropped} if dropped else None)
