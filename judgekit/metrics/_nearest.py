"""Memorization check: each generated image's nearest neighbour in a reference (e.g. training)
set, in a feature space (CLIP or Inception), by exact search.

Exact means every reference vector is compared with every query: batches of queries are
multiplied against blocks of the reference in torch (a GPU when there is one) and a running
top-k is kept, so 100,000 reference vectors x 10,000 queries never hold the whole similarity
matrix (bench/bench_nearest.py times it). ``metric="cosine"`` reports a similarity (higher =
closer, flagged when >= threshold); ``metric="l2"`` a Euclidean distance (flagged when <=
threshold).

>>> import numpy as np
>>> ref = np.eye(3)
>>> r = nearest_neighbours([[0.9, 0.1, 0.0]], ref, device="cpu")
>>> int(r.index[0, 0]), round(float(r.value[0, 0]), 4)
(0, 0.9939)
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ..errors import InputError
from . import _deps

METRICS = ("cosine", "l2")
DEFAULT_THRESHOLD = {"cosine": 0.95}


@dataclass
class Neighbours:
    """``index`` and ``value`` are ``(n_queries, k)`` CPU tensors, nearest first; ``value`` is a
    cosine similarity or an L2 distance per ``metric``."""

    index: Any
    value: Any
    metric: str

    def flagged(self, threshold: float) -> Any:
        """Bool ``(n_queries,)``: the nearest neighbour is closer than ``threshold``."""
        first = self.value[:, 0]
        return first >= threshold if self.metric == "cosine" else first <= threshold


def _prepare(x: Any, name: str, device: str, dtype: Any) -> Any:
    torch = _deps.torch()
    t = torch.as_tensor(x.detach() if hasattr(x, "detach") else x)
    if t.ndim != 2:
        raise InputError(f"{name}: expected an (n, d) array; got shape {tuple(t.shape)}")
    t = t.to(device, dtype)
    if not torch.isfinite(t).all():
        raise InputError(f"{name}: contains NaN or infinite values")
    return t


def _normalise(t: Any, name: str) -> Any:
    norms = t.norm(dim=1, keepdim=True)
    if (norms == 0).any():
        raise InputError(f"{name}: a feature vector is all zeros; its cosine similarity is undefined")
    return t / norms


def nearest_neighbours(
    queries: Any,
    reference: Any,
    *,
    k: int = 1,
    metric: str = "cosine",
    device: str | None = None,
    dtype: str = "float32",
    query_batch: int = 4096,
    reference_block: int = 65536,
) -> Neighbours:
    """The ``k`` nearest reference rows of every query row (exact).

    ``dtype="float64"`` for bit-faithful comparisons (tests); float32 is the default for speed
    (a cosine similarity is then exact to about 1e-6). TF32 is switched off while searching.
    """
    torch = _deps.torch()
    from .extractors import no_tf32

    if metric not in METRICS:
        raise InputError(f"unknown metric {metric!r}; choose one of {METRICS}")
    dev = _deps.resolve_device(device)
    dt = {"float32": torch.float32, "float64": torch.float64}[dtype]
    ref = _prepare(reference, "reference", dev, dt)
    q_all = _prepare(queries, "queries", "cpu", dt)
    if ref.shape[0] < k:
        raise InputError(f"reference has {ref.shape[0]} rows; k={k} needs at least k")
    if q_all.shape[1] != ref.shape[1]:
        raise InputError(f"queries are {q_all.shape[1]}-d but the reference is {ref.shape[1]}-d")
    if metric == "cosine":
        ref = _normalise(ref, "reference")
    else:
        ref_sq = (ref * ref).sum(1)
    largest = metric == "cosine"
    idx_out, val_out = [], []
    with torch.inference_mode(), no_tf32():
        for s in range(0, q_all.shape[0], query_batch):
            q = q_all[s : s + query_batch].to(dev)
            if metric == "cosine":
                q = _normalise(q, "queries")
            best_v = best_i = None
            for b in range(0, ref.shape[0], reference_block):
                r = ref[b : b + reference_block]
                if metric == "cosine":
                    scores = q @ r.T
                else:  # squared distance; the square root is taken once, on the k survivors
                    scores = (
                        (q * q).sum(1, keepdim=True) + ref_sq[None, b : b + reference_block] - 2 * q @ r.T
                    )
                    scores = scores.clamp_min_(0)
                v, i = scores.topk(min(k, r.shape[0]), dim=1, largest=largest)
                i = i + b
                if best_v is not None:
                    v, j = torch.cat([best_v, v], 1).topk(k, dim=1, largest=largest)
                    i = torch.cat([best_i, i], 1).gather(1, j)
                best_v, best_i = v, i
            assert best_v is not None and best_i is not None  # every query block saw a reference block
            if metric == "l2":
                best_v = best_v.sqrt()
            idx_out.append(best_i.cpu())
            val_out.append(best_v.cpu())
    if not idx_out:
        return Neighbours(torch.empty(0, k, dtype=torch.long), torch.empty(0, k, dtype=dt), metric)
    return Neighbours(torch.cat(idx_out), torch.cat(val_out), metric)


def memorization(
    queries: Any,
    reference: Any,
    *,
    threshold: float | None = None,
    metric: str = "cosine",
    device: str | None = None,
    dtype: str = "float32",
) -> list[dict[str, Any]]:
    """One dict per query: ``nearest`` (reference row), ``similarity`` or ``distance``, and
    ``flagged`` (closer than ``threshold``; default 0.95 cosine similarity, required for L2)."""
    if threshold is None:
        if metric not in DEFAULT_THRESHOLD:
            raise InputError(f"metric {metric!r} has no default threshold; pass threshold=")
        threshold = DEFAULT_THRESHOLD[metric]
    nn = nearest_neighbours(queries, reference, k=1, metric=metric, device=device, dtype=dtype)
    key = "similarity" if metric == "cosine" else "distance"
    flags = nn.flagged(threshold).tolist()
    return [
        {"nearest": int(i), key: float(v), "flagged": bool(f)}
        for i, v, f in zip(nn.index[:, 0].tolist(), nn.value[:, 0].tolist(), flags, strict=True)
    ]


class NearestNeighbour:
    """Accumulating search: ``add_reference(features)`` in batches, then ``query(features)``
    (or ``update(features)`` + ``compute()`` for the queries) against everything added."""

    def __init__(self, *, metric: str = "cosine", threshold: float | None = None, device: str | None = None,
                 dtype: str = "float32"):  # fmt: skip
        if metric not in METRICS:
            raise InputError(f"unknown metric {metric!r}; choose one of {METRICS}")
        self.metric, self.threshold, self.device, self.dtype = metric, threshold, device, dtype
        self._ref: list[Any] = []
        self._queries: list[Any] = []

    def add_reference(self, features: Any) -> None:
        self._ref.append(_prepare(features, "reference", "cpu", _deps.torch().float64))

    def update(self, features: Any) -> None:
        self._queries.append(_prepare(features, "queries", "cpu", _deps.torch().float64))

    def reference(self) -> Any:
        if not self._ref:
            raise InputError("no reference features were added")
        return _deps.torch().cat(self._ref)

    def query(self, features: Any) -> list[dict[str, Any]]:
        return memorization(features, self.reference(), threshold=self.threshold, metric=self.metric,
                            device=self.device, dtype=self.dtype)  # fmt: skip

    def compute(self) -> list[dict[str, Any]]:
        if not self._queries:
            raise InputError("no query features were added")
        return self.query(_deps.torch().cat(self._queries))

    def reset(self) -> None:
        self._ref, self._queries = [], []
