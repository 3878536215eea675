"""PSNR and MSE per image, in torch on CPU or GPU. ``data_range`` is required, never inferred:
inferring it from a batch makes the score depend on what else is in the batch.

PSNR = 10 log10(L^2 / MSE) with MSE over one image's pixels and channels (pooling the MSE of a
batch first gives a different number). Identical images give ``inf``.

>>> import torch
>>> a = torch.zeros(1, 3, 4, 4); b = torch.full((1, 3, 4, 4), 0.1)
>>> round(float(psnr(a, b, data_range=1.0)), 6)
20.0
"""

from __future__ import annotations

from typing import Any

from . import _deps
from ._perimage import PerImageMetric, check_pair


def mse(preds: Any, target: Any, *, dtype: Any = None) -> Any:
    """Mean squared error of each image pair: a ``(B,)`` float64 tensor."""
    torch = _deps.torch()
    p, t, _ = check_pair(preds, target, 1.0, dtype or torch.float64)
    return ((p - t) ** 2).reshape(p.shape[0], -1).mean(dim=1)


def psnr(preds: Any, target: Any, *, data_range: float, dtype: Any = None) -> Any:
    """PSNR in dB of each image pair: a ``(B,)`` float64 tensor."""
    torch = _deps.torch()
    p, t, rng = check_pair(preds, target, data_range, dtype or torch.float64)
    err = ((p - t) ** 2).reshape(p.shape[0], -1).mean(dim=1)
    return 10.0 * torch.log10(rng**2 / err)


class PSNR(PerImageMetric):
    def __init__(self, *, data_range: float):
        super().__init__()
        self.data_range = data_range

    def _score(self, preds: Any, target: Any) -> Any:
        return psnr(preds, target, data_range=self.data_range)


class MSE(PerImageMetric):
    def _score(self, preds: Any, target: Any) -> Any:
        return mse(preds, target)
