"""Mean and covariance of feature sets: streaming float64 accumulation, and ``.npz`` files with
``mu`` and ``sigma`` that pytorch-fid and clean-fid read and write too.

The accumulator merges batches with Chan et al.'s pairwise update (batch mean and centred
scatter matrix, then a rank-1 correction), so the covariance never comes from the difference of
two large raw sums. It runs on whatever device the features are on, in float64.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from ..errors import DataError, InputError
from . import _deps


@dataclass
class FeatureStats:
    """``mu`` (d,), ``sigma`` (d, d) with divisor n - 1, and the number of samples behind them
    (``None`` when a stats file does not say)."""

    mu: np.ndarray
    sigma: np.ndarray
    n: int | None = None
    mode: str | None = None
    extractor: str | None = None

    @property
    def dim(self) -> int:
        return int(self.mu.shape[0])

    def save(self, path: str | Path) -> Path:
        """Write ``mu``/``sigma`` (float64) plus ``n``, ``mode``, ``extractor`` when known;
        pytorch-fid reads only ``mu`` and ``sigma``."""
        p = Path(path)
        extra: dict[str, Any] = {}
        if self.n is not None:
            extra["n"] = np.int64(self.n)
        if self.mode:
            extra["mode"] = np.str_(self.mode)
        if self.extractor:
            extra["extractor"] = np.str_(self.extractor)
        with p.open("wb") as fh:  # a file handle keeps numpy from appending ".npz"
            np.savez_compressed(fh, mu=self.mu, sigma=self.sigma, **extra)
        return p

    @classmethod
    def load(cls, path: str | Path, *, dim: int | None = None) -> FeatureStats:
        """Read a stats file; every problem is a ``DataError`` naming the file."""
        p = Path(path)
        if not p.is_file():
            raise DataError(f"{p}: statistics file not found")
        try:
            with np.load(p, allow_pickle=False) as f:
                keys = set(f.files)
                if not {"mu", "sigma"} <= keys:
                    raise DataError(
                        f"{p}: a statistics file needs arrays 'mu' and 'sigma' (pytorch-fid format); "
                        f"found {sorted(keys)}"
                    )
                mu = np.asarray(f["mu"], dtype=np.float64)
                sigma = np.asarray(f["sigma"], dtype=np.float64)
                n = int(f["n"]) if "n" in keys else None
                mode = str(f["mode"]) if "mode" in keys else None
                extractor = str(f["extractor"]) if "extractor" in keys else None
        except DataError:
            raise
        except Exception as exc:
            raise DataError(f"{p}: cannot read statistics ({exc})") from exc
        if mu.ndim != 1 or sigma.shape != (mu.shape[0], mu.shape[0]):
            raise DataError(
                f"{p}: 'mu' must have shape (d,) and 'sigma' (d, d); got {mu.shape} and {sigma.shape}"
            )
        if dim is not None and mu.shape[0] != dim:
            raise DataError(f"{p}: statistics of {mu.shape[0]}-d features, but the extractor gives {dim}-d")
        if not (np.isfinite(mu).all() and np.isfinite(sigma).all()):
            raise DataError(f"{p}: 'mu' or 'sigma' contains NaN or infinity")
        return cls(mu, sigma, n, mode, extractor)

    @classmethod
    def from_features(cls, features: Any, **kw: Any) -> FeatureStats:
        """From an (n, d) array of features (numpy or torch)."""
        f = (
            features.detach().cpu().double().numpy()
            if hasattr(features, "detach")
            else np.asarray(features, np.float64)
        )
        if f.ndim != 2 or f.shape[0] < 2:
            raise InputError(f"need an (n, d) feature array with n >= 2; got shape {f.shape}")
        return cls(f.mean(axis=0), np.cov(f, rowvar=False), int(f.shape[0]), **kw)


class StatsAccumulator:
    """Streaming float64 mean and covariance of feature batches.

    >>> import torch
    >>> acc = StatsAccumulator()
    >>> acc.update(torch.arange(6.).reshape(3, 2)); acc.update(torch.ones(1, 2))
    >>> acc.n
    4
    """

    def __init__(self) -> None:
        self.n = 0
        self._mean: Any = None  # torch float64 (d,)
        self._m2: Any = None  # centred scatter matrix (d, d)

    def update(self, features: Any) -> None:
        torch = _deps.torch()
        f = torch.as_tensor(features).detach().to(torch.float64)
        if f.ndim == 1:
            f = f.unsqueeze(0)
        if f.ndim != 2:
            raise InputError(f"features must be (batch, d); got shape {tuple(f.shape)}")
        nb = f.shape[0]
        if nb == 0:
            return
        mb = f.mean(dim=0)
        c = f - mb
        m2b = c.T @ c
        if self._mean is None:
            self.n, self._mean, self._m2 = nb, mb, m2b
            return
        if mb.shape != self._mean.shape:
            raise InputError(f"feature dimension changed from {self._mean.shape[0]} to {mb.shape[0]}")
        mb, m2b = mb.to(self._mean.device), m2b.to(self._mean.device)
        n = self.n + nb
        delta = mb - self._mean
        self._mean = self._mean + delta * (nb / n)
        self._m2 = self._m2 + m2b + torch.outer(delta, delta) * (self.n * nb / n)
        self.n = n

    def stats(self, **kw: Any) -> FeatureStats:
        if self.n < 2:
            raise InputError(f"a covariance needs at least 2 samples; got {self.n}")
        mu = self._mean.cpu().numpy()
        sigma = (self._m2 / (self.n - 1)).cpu().numpy()
        return FeatureStats(mu, (sigma + sigma.T) * 0.5, self.n, **kw)
