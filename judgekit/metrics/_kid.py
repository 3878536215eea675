"""Kernel Inception Distance: the unbiased MMD^2 estimate with the cubic polynomial kernel
k(x, y) = (x.y / d + 1)^3, averaged over random subsets (mean and population std).

Subsets are drawn as torch-fidelity draws them (``numpy.random.RandomState(seed).choice``
without replacement, real then generated, per subset), so for equal features and seed the
values agree with torch-fidelity.
"""

from __future__ import annotations

import warnings
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np

from ..errors import DataError, InputError
from . import _deps
from ._sets import FeatureSetMetric
from .extractors import INCEPTION_SHA256


@dataclass
class KIDResult:
    mean: float
    std: float
    subsets: int
    subset_size: int
    n_real: int
    n_fake: int
    extractor: str | None = None
    mode: str | None = None
    warning: str | None = None

    def __float__(self) -> float:
        return float(self.mean)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def _mmd2_unbiased(x: Any, y: Any, degree: int, gamma: float, coef: float) -> float:
    m = x.shape[0]
    kxx = (x @ x.T * gamma + coef) ** degree
    kyy = (y @ y.T * gamma + coef) ** degree
    kxy = (x @ y.T * gamma + coef) ** degree
    sxx = kxx.sum() - kxx.diagonal().sum()
    syy = kyy.sum() - kyy.diagonal().sum()
    return float((sxx + syy) / (m * (m - 1)) - 2 * kxy.sum() / (m * m))


def kid_from_features(
    real: Any,
    fake: Any,
    *,
    subsets: int = 100,
    subset_size: int = 1000,
    degree: int = 3,
    gamma: float | None = None,
    coef: float = 1.0,
    seed: int = 2020,
) -> KIDResult:
    """KID from two ``(n, d)`` feature arrays (numpy or torch; computed in float64 on their device).

    A ``subset_size`` larger than a set is reduced to the smaller set's size (with a warning kept
    in the result), so small sets still give a number, recorded with the size actually used.
    """
    torch = _deps.torch()
    fr = torch.as_tensor(real).to(torch.float64)
    ff = torch.as_tensor(fake).to(fr.device, torch.float64)
    if fr.ndim != 2 or ff.ndim != 2 or fr.shape[1] != ff.shape[1]:
        raise InputError(f"features must be (n, d) with equal d; got {tuple(fr.shape)} and {tuple(ff.shape)}")
    n_r, n_f = fr.shape[0], ff.shape[0]
    if min(n_r, n_f) < 2:
        raise DataError(f"KID needs at least 2 images per side; got {n_r} real and {n_f} generated")
    warning = None
    size = subset_size
    if size > min(n_r, n_f):
        size = min(n_r, n_f)
        warning = f"subset_size {subset_size} exceeds the smaller set ({size}); used {size}"
        warnings.warn(warning, stacklevel=2)
    g = 1.0 / fr.shape[1] if gamma is None else gamma
    rng = np.random.RandomState(seed)
    vals = np.empty(subsets)
    for i in range(subsets):
        ir = torch.as_tensor(rng.choice(n_r, size, replace=False), device=fr.device)
        jf = torch.as_tensor(rng.choice(n_f, size, replace=False), device=ff.device)
        vals[i] = _mmd2_unbiased(fr[ir], ff[jf], degree, g, coef)
    return KIDResult(float(vals.mean()), float(vals.std()), subsets, size, n_r, n_f, warning=warning)


class KID(FeatureSetMetric):
    min_images_per_set = 2
    name = "KID"

    """Accumulate real and generated features (kept in memory: KID resamples them), then
    ``compute()``."""

    def __init__(
        self,
        feature_extractor: Any = None,
        *,
        weights: str | Path | None = None,
        mode: str = "tf-legacy",
        device: str | None = None,
        sha256: str | None = INCEPTION_SHA256,
        subsets: int = 100,
        subset_size: int = 1000,
        seed: int = 2020,
    ):
        super().__init__(feature_extractor, weights, mode, device, sha256)
        self.subsets, self.subset_size, self.seed = subsets, subset_size, seed
        self._real: list[Any] = []
        self._fake: list[Any] = []

    def update_features(self, features: Any, real: bool) -> None:
        torch = _deps.torch()
        f = torch.as_tensor(features).detach().to(torch.float64)
        (self._real if real else self._fake).append(f.reshape(f.shape[0], -1) if f.ndim > 1 else f[None])

    def features(self, real: bool) -> Any:
        torch = _deps.torch()
        parts = self._real if real else self._fake
        if not parts:
            raise DataError(f"KID has no {'real' if real else 'generated'} images")
        return torch.cat(parts)

    def compute(self) -> KIDResult:
        r = kid_from_features(
            self.features(True),
            self.features(False),
            subsets=self.subsets,
            subset_size=self.subset_size,
            seed=self.seed,
        )
        r.extractor = self._extractor.name if self._extractor is not None else None
        r.mode = self.mode
        return r

    def reset(self, real: bool = False) -> None:
        self._fake = []
        if real:
            self._real = []


def kid(
    real: Any,
    fake: Any,
    *,
    feature_extractor: Any = None,
    weights: str | Path | None = None,
    mode: str = "tf-legacy",
    device: str | None = None,
    subsets: int = 100,
    subset_size: int = 1000,
    seed: int = 2020,
    batch_size: int = 50,
    num_workers: int | None = None,
    progress: bool = False,
    sha256: str | None = INCEPTION_SHA256,
) -> KIDResult:
    """KID between two image sets (folders, manifests, lists of files, or uint8 tensors)."""
    m = KID(
        feature_extractor,
        weights=weights,
        mode=mode,
        device=device,
        sha256=sha256,
        subsets=subsets,
        subset_size=subset_size,
        seed=seed,
    )
    m.extractor  # noqa: B018  (missing or wrong weights fail before any image is read)
    for source, real_side in ((real, True), (fake, False)):
        if hasattr(source, "dtype") and hasattr(source, "shape"):
            for i in range(0, source.shape[0], batch_size):
                m.update(source[i : i + batch_size], real_side)
        else:
            m.add_images(
                source,
                real_side,
                batch_size=batch_size,
                num_workers=num_workers,
                progress=("real" if real_side else "generated") if progress else False,
            )
    return m.compute()
