"""Structural similarity (Wang et al. 2004) in torch, on CPU or GPU, one score per image.

Default: an 11-tap Gaussian window with sigma 1.5, K1 = 0.01, K2 = 0.03, population covariance,
C = (K L)^2 with ``data_range`` L (required, never inferred), averaged over the region where the
window fits (the "valid" region: what scikit-image averages after cropping its border; torchmetrics
instead pads and averages everything, a slightly different number). Colour channels are averaged.

``preset="skimage"`` reproduces ``skimage.metrics.structural_similarity`` called with its
defaults (7 x 7 uniform window, sample covariance).

>>> import torch
>>> x = torch.rand(1, 3, 32, 32, dtype=torch.float64)
>>> float(ssim(x, x, data_range=1.0))
1.0
"""

from __future__ import annotations

from typing import Any

from ..errors import ConfigError, InputError
from . import _deps
from ._perimage import PerImageMetric, check_pair

PRESETS: dict[str, dict[str, Any]] = {
    "wang": {"gaussian": True, "sigma": 1.5, "win_size": None, "sample_covariance": False},
    "skimage": {"gaussian": False, "sigma": 1.5, "win_size": 7, "sample_covariance": True},
}


def _window_1d(gaussian: bool, sigma: float, win_size: int | None, dtype: Any, device: Any) -> Any:
    torch = _deps.torch()
    if gaussian:
        radius = int(3.5 * sigma + 0.5)  # scipy.ndimage.gaussian_filter's truncate=3.5, as scikit-image
        if win_size is not None and win_size != 2 * radius + 1:
            raise InputError(
                f"a Gaussian window with sigma {sigma} has {2 * radius + 1} taps, not {win_size}"
            )
        x = torch.arange(-radius, radius + 1, dtype=dtype, device=device)
        w = torch.exp(-0.5 * (x / sigma) ** 2)
        return w / w.sum()
    if win_size is None or win_size < 3 or win_size % 2 == 0:
        raise InputError(f"win_size must be an odd number >= 3; got {win_size}")
    return torch.full((win_size,), 1.0 / win_size, dtype=dtype, device=device)


def ssim(
    preds: Any,
    target: Any,
    *,
    data_range: float,
    preset: str = "wang",
    gaussian: bool | None = None,
    sigma: float | None = None,
    win_size: int | None = None,
    sample_covariance: bool | None = None,
    k1: float = 0.01,
    k2: float = 0.03,
    dtype: Any = None,
) -> Any:
    """SSIM of each image pair: a ``(B,)`` float64 tensor. Inputs ``B x C x H x W`` (or ``C x H x W``,
    ``H x W``), any real dtype, on any device."""
    torch = _deps.torch()
    F = torch.nn.functional
    if preset not in PRESETS:
        raise ConfigError(f"unknown SSIM preset {preset!r}; choose one of {sorted(PRESETS)}")
    opts = dict(PRESETS[preset])
    for k, v in (
        ("gaussian", gaussian),
        ("sigma", sigma),
        ("win_size", win_size),
        ("sample_covariance", sample_covariance),
    ):
        if v is not None:
            opts[k] = v
    p, t, rng = check_pair(preds, target, data_range, dtype or torch.float64)
    w = _window_1d(opts["gaussian"], opts["sigma"], opts["win_size"], p.dtype, p.device)
    n = w.numel()
    if min(p.shape[-2:]) < n:
        raise InputError(f"images of {tuple(p.shape[-2:])} pixels are smaller than the {n} x {n} SSIM window")
    b, c = p.shape[:2]
    # the five local moments of every channel in one grouped, separable "valid" convolution
    stack = torch.cat([p, t, p * p, t * t, p * t], dim=1)
    k = stack.shape[1]
    out = F.conv2d(stack, w.view(1, 1, 1, n).expand(k, 1, 1, n), groups=k)
    out = F.conv2d(out, w.view(1, 1, n, 1).expand(k, 1, n, 1), groups=k)
    ux, uy, uxx, uyy, uxy = out.split(c, dim=1)
    cov_norm = n * n / (n * n - 1) if opts["sample_covariance"] else 1.0
    vx = cov_norm * (uxx - ux * ux)
    vy = cov_norm * (uyy - uy * uy)
    vxy = cov_norm * (uxy - ux * uy)
    c1, c2 = (k1 * rng) ** 2, (k2 * rng) ** 2
    s = ((2 * ux * uy + c1) * (2 * vxy + c2)) / ((ux * ux + uy * uy + c1) * (vx + vy + c2))
    return s.reshape(b, -1).mean(dim=1)


class SSIM(PerImageMetric):
    """Accumulating SSIM: ``update(preds, target)`` per batch, ``compute()`` the mean,
    ``scores`` every image's value."""

    def __init__(self, *, data_range: float, **options: Any):
        super().__init__()
        if data_range is None:
            raise InputError("data_range is required")
        self.data_range, self.options = data_range, options

    def _score(self, preds: Any, target: Any) -> Any:
        return ssim(preds, target, data_range=self.data_range, **self.options)


__all__ = ["ssim", "SSIM", "PRESETS"]
