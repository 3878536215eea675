"""The Fréchet distance between two Gaussians, computed through symmetric eigendecompositions.

    d^2 = |mu1 - mu2|^2 + tr S1 + tr S2 - 2 tr sqrt(S1 S2)

``sqrtm(S1 @ S2)`` (pytorch-fid, clean-fid) takes a general Schur decomposition of a
non-symmetric matrix. S1 S2 is similar to R S2 R with R = sqrt(S1) (symmetric, PSD), so
tr sqrt(S1 S2) = sum sqrt(eigvalsh(R S2 R)): two symmetric eigenproblems, several times faster,
and with a fixed reference set R is computed once and cached (``ReferenceStats``).
Pure numpy/float64; no torch needed.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from ..errors import InputError


def psd_sqrt(sigma: np.ndarray) -> np.ndarray:
    """Symmetric square root of a symmetric positive semi-definite matrix (negative rounding
    noise in the eigenvalues clipped to 0)."""
    s = np.asarray(sigma, dtype=np.float64)
    w, v = np.linalg.eigh((s + s.T) * 0.5)
    return (v * np.sqrt(np.clip(w, 0.0, None))) @ v.T


def trace_sqrt_product(
    sigma1: np.ndarray, sigma2: np.ndarray, *, sqrt_sigma1: np.ndarray | None = None
) -> float:
    """tr sqrt(S1 S2) via eigvalsh(sqrt(S1) S2 sqrt(S1))."""
    r = psd_sqrt(sigma1) if sqrt_sigma1 is None else sqrt_sigma1
    m = r @ np.asarray(sigma2, dtype=np.float64) @ r
    w = np.linalg.eigvalsh((m + m.T) * 0.5)
    return float(np.sqrt(np.clip(w, 0.0, None)).sum())


def _check(mu: np.ndarray, sigma: np.ndarray, what: str) -> tuple[np.ndarray, np.ndarray]:
    mu = np.atleast_1d(np.asarray(mu, dtype=np.float64))
    sigma = np.atleast_2d(np.asarray(sigma, dtype=np.float64))
    if mu.ndim != 1 or sigma.shape != (mu.shape[0], mu.shape[0]):
        raise InputError(f"{what}: mu must be (d,) and sigma (d, d); got {mu.shape} and {sigma.shape}")
    return mu, sigma


def frechet_distance(
    mu1: np.ndarray,
    sigma1: np.ndarray,
    mu2: np.ndarray,
    sigma2: np.ndarray,
    *,
    sqrt_sigma1: np.ndarray | None = None,
) -> float:
    """Squared Fréchet distance between N(mu1, sigma1) and N(mu2, sigma2).

    >>> import numpy as np
    >>> round(frechet_distance(np.zeros(2), np.eye(2), np.ones(2), np.eye(2)), 12)
    2.0
    """
    mu1, sigma1 = _check(mu1, sigma1, "first")
    mu2, sigma2 = _check(mu2, sigma2, "second")
    if mu1.shape != mu2.shape:
        raise InputError(f"feature dimensions differ: {mu1.shape[0]} vs {mu2.shape[0]}")
    diff = mu1 - mu2
    tr = trace_sqrt_product(sigma1, sigma2, sqrt_sigma1=sqrt_sigma1)
    scale = float(diff @ diff + np.trace(sigma1) + np.trace(sigma2))
    d = scale - 2.0 * tr
    # The true value is >= 0; a negative result within rounding of the terms' size is 0.
    return 0.0 if d < 0 and -d <= 1e-10 * max(scale, 1.0) else float(d)


@dataclass
class ReferenceStats:
    """Statistics of a fixed reference set with sqrt(sigma) cached, for comparing many sets
    (models, checkpoints, groups) against it: each comparison then costs one eigvalsh.

    >>> import numpy as np
    >>> ref = ReferenceStats(np.zeros(3), np.eye(3), n=100)
    >>> ref.distance(np.zeros(3), np.eye(3))
    0.0
    """

    mu: np.ndarray
    sigma: np.ndarray
    n: int | None = None
    _sqrt: np.ndarray | None = field(default=None, repr=False)

    @property
    def sqrt_sigma(self) -> np.ndarray:
        if self._sqrt is None:
            self._sqrt = psd_sqrt(self.sigma)
        return self._sqrt

    def distance(self, mu: np.ndarray, sigma: np.ndarray) -> float:
        return frechet_distance(self.mu, self.sigma, mu, sigma, sqrt_sigma1=self.sqrt_sigma)
