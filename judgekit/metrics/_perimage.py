"""Shared pieces of the per-image metrics: input checks and the accumulating base class."""

from __future__ import annotations

from typing import Any

from ..errors import InputError
from . import _deps


def as_batch(x: Any, name: str, dtype: Any = None) -> Any:
    """A tensor (or array) of ``B x C x H x W``, ``C x H x W`` or ``H x W`` -> ``B x C x H x W``."""
    torch = _deps.torch()
    t = torch.as_tensor(x)
    if t.ndim == 2:
        t = t[None, None]
    elif t.ndim == 3:
        t = t[None]
    if t.ndim != 4:
        raise InputError(f"{name}: expected B x C x H x W (or C x H x W, H x W); got shape {tuple(t.shape)}")
    return t.to(dtype or torch.float64)


def check_pair(preds: Any, target: Any, data_range: float, dtype: Any = None) -> tuple[Any, Any, float]:
    if data_range is None or not float(data_range) > 0:
        raise InputError(
            f"data_range must be a positive number (255 for uint8, 1.0 for [0, 1]); got {data_range!r}"
        )
    p, t = as_batch(preds, "preds", dtype), as_batch(target, "target", dtype)
    if p.shape != t.shape:
        raise InputError(f"the images of a pair differ in shape: {tuple(p.shape)} vs {tuple(t.shape)}")
    return p, t.to(p.device), float(data_range)


class PerImageMetric:
    """Keeps every per-image score; ``compute()`` gives the mean, ``scores`` all of them."""

    def __init__(self) -> None:
        self._scores: list[Any] = []

    def _score(self, preds: Any, target: Any) -> Any:  # pragma: no cover - abstract
        raise NotImplementedError

    def update(self, preds: Any, target: Any) -> Any:
        s = self._score(preds, target).detach()
        self._scores.append(s.cpu())
        return s

    @property
    def scores(self) -> Any:
        torch = _deps.torch()
        return torch.cat(self._scores) if self._scores else torch.empty(0, dtype=torch.float64)

    def compute(self) -> float:
        s = self.scores
        if s.numel() == 0:
            raise InputError("no images were added")
        return float(s.mean())

    def reset(self) -> None:
        self._scores = []
