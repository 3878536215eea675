"""Per-prompt diversity across seeds: does a model draw different images for one prompt, or the
same one again?

For each (model, prompt) group of images: the mean pairwise CLIP-embedding cosine distance
(``1 - cos``), the mean pairwise LPIPS distance (perceptual, on the pixels) and the Vendi score
of the features. Per model, each is averaged over prompts with a percentile bootstrap CI that
resamples prompts (the prompt is the unit: seeds of one prompt are not independent evidence).

>>> import numpy as np
>>> f = np.random.default_rng(0).normal(size=(6, 16))
>>> rows = per_prompt_diversity(f, prompt_ids=["a"] * 3 + ["b"] * 3, models=["m"] * 6)
>>> [r["prompt_id"] for r in rows], rows[0]["n_images"]
(['a', 'b'], 3)
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from itertools import combinations
from typing import Any

import numpy as np

from ..errors import InputError
from ._vendi import _unit_rows, as_matrix, vendi_score

DIVERSITY_FIELDS = ("cosine_distance", "lpips_distance", "vendi")


def mean_pairwise_cosine_distance(features: Any) -> float:
    """Mean of ``1 - cos(x_i, x_j)`` over the n(n-1)/2 pairs i < j of an ``(n, d)`` array."""
    u = _unit_rows(as_matrix(features))
    n = u.shape[0]
    if n < 2:
        raise InputError(f"a pairwise distance needs at least 2 images; got {n}")
    sim = u @ u.T
    return float((1 - sim[np.triu_indices(n, 1)]).mean())


def pair_indices(n: int) -> list[tuple[int, int]]:
    return list(combinations(range(n), 2))


def mean_pairwise_lpips(
    images: Any,
    *,
    net: str = "alex",
    weights: Any = None,
    device: str | None = None,
    normalize: bool = False,
    batch_size: int = 32,
) -> float:
    """Mean LPIPS distance over all pairs of a ``B x 3 x H x W`` batch in [-1, 1] (or [0, 1]
    with ``normalize=True``; a uint8 batch is scaled from [0, 255])."""
    from . import _deps
    from ._lpips import LPIPS

    torch = _deps.torch()
    x = torch.as_tensor(images)
    if x.dtype == torch.uint8:
        x, normalize = x.float() / 255.0, True
    pairs = pair_indices(x.shape[0])
    if not pairs:
        raise InputError(f"a pairwise distance needs at least 2 images; got {x.shape[0]}")
    metric = LPIPS(net=net, weights=weights, device=device, normalize=normalize)
    a = torch.tensor([p[0] for p in pairs])
    b = torch.tensor([p[1] for p in pairs])
    for s in range(0, len(pairs), batch_size):
        metric.update(x[a[s : s + batch_size]], x[b[s : s + batch_size]])
    return metric.compute()


def _groups(prompt_ids: Sequence[Any], models: Sequence[Any] | None) -> dict[tuple[Any, Any], list[int]]:
    out: dict[tuple[Any, Any], list[int]] = {}
    models = models if models is not None else [None] * len(prompt_ids)
    if len(models) != len(prompt_ids):
        raise InputError(f"{len(prompt_ids)} prompt ids but {len(models)} models")
    for i, key in enumerate(zip(models, prompt_ids, strict=True)):
        out.setdefault(key, []).append(i)
    return out


def per_prompt_diversity(
    features: Any,
    prompt_ids: Sequence[Any],
    models: Sequence[Any] | None = None,
    *,
    kernel: str = "cosine",
) -> list[dict[str, Any]]:
    """One row per (model, prompt): ``n_images``, ``cosine_distance`` (mean pairwise cosine
    distance of ``features``) and ``vendi``. A group of one image gets ``None`` values and a
    ``note`` (diversity across seeds needs at least two), never a silent drop."""
    x = as_matrix(features)
    if x.shape[0] != len(prompt_ids):
        raise InputError(f"{x.shape[0]} feature rows but {len(prompt_ids)} prompt ids")
    rows = []
    for (model, pid), idx in _groups(prompt_ids, models).items():
        row: dict[str, Any] = {"model": model, "prompt_id": pid, "n_images": len(idx)}
        if len(idx) < 2:
            row.update(cosine_distance=None, vendi=None, note="one image: diversity needs at least 2 seeds")
        else:
            f = x[idx]
            row.update(cosine_distance=mean_pairwise_cosine_distance(f), vendi=vendi_score(f, kernel))
        rows.append(row)
    return rows


def _boot_mean(values: np.ndarray, n_boot: int, level: float, seed: int) -> dict[str, float | None]:
    if values.size == 0:
        return {"value": None, "ci_low": None, "ci_high": None}
    mean = float(values.mean())
    if values.size < 2:
        return {"value": mean, "ci_low": None, "ci_high": None}
    rng = np.random.default_rng(seed)
    reps = values[rng.integers(0, values.size, (n_boot, values.size))].mean(1)
    a = (1 - level) / 2
    return {"value": mean, "ci_low": float(np.quantile(reps, a)), "ci_high": float(np.quantile(reps, 1 - a))}


def diversity_summary(
    rows: Sequence[dict[str, Any]],
    fields: Sequence[str] = DIVERSITY_FIELDS,
    *,
    n_boot: int = 2000,
    level: float = 0.95,
    seed: int = 0,
) -> dict[str, dict[str, Any]]:
    """Per model: ``n_prompts`` and, for each field present, the mean over prompts with a
    bootstrap CI over prompts (``{"value", "ci_low", "ci_high"}``; None when undefined)."""
    by_model: dict[Any, list[dict[str, Any]]] = {}
    for r in rows:
        by_model.setdefault(r.get("model"), []).append(r)
    out: dict[str, dict[str, Any]] = {}
    for model, rs in by_model.items():
        entry: dict[str, Any] = {"n_prompts": len(rs)}
        for f in fields:
            vals = np.array([r[f] for r in rs if isinstance(r.get(f), (int, float)) and math.isfinite(r[f])])
            if any(f in r for r in rs):
                entry[f] = _boot_mean(vals, n_boot, level, seed) | {"n_prompts": int(vals.size)}
        out[str(model)] = entry
    return out


class Diversity:
    """Accumulating per-prompt diversity: ``update(features, prompt_ids, models)`` batch by
    batch; ``per_prompt()`` the rows, ``compute()`` the per-model summary with CIs."""

    def __init__(self, kernel: str = "cosine", *, n_boot: int = 2000, seed: int = 0):
        self.kernel, self.n_boot, self.seed = kernel, n_boot, seed
        self._feats: list[np.ndarray] = []
        self._prompts: list[Any] = []
        self._models: list[Any] = []

    def update(self, features: Any, prompt_ids: Sequence[Any], models: Sequence[Any] | None = None) -> None:
        f = as_matrix(features)
        if f.shape[0] != len(prompt_ids):
            raise InputError(f"{f.shape[0]} feature rows but {len(prompt_ids)} prompt ids")
        self._feats.append(f)
        self._prompts += list(prompt_ids)
        self._models += list(models) if models is not None else [None] * len(prompt_ids)

    def per_prompt(self) -> list[dict[str, Any]]:
        if not self._feats:
            raise InputError("no features were added")
        return per_prompt_diversity(
            np.concatenate(self._feats), self._prompts, self._models, kernel=self.kernel
        )

    def compute(self) -> dict[str, dict[str, Any]]:
        return diversity_summary(
            self.per_prompt(), ("cosine_distance", "vendi"), n_boot=self.n_boot, seed=self.seed
        )

    def reset(self) -> None:
        self._feats, self._prompts, self._models = [], [], []
