"""The Vendi score (Friedman & Dieng 2023): the exponential of the Shannon entropy of the
eigenvalues of ``K / n``, for a similarity kernel ``K`` with ``K[i, i] = 1``. It reads as "the
effective number of distinct items": n identical images score 1, n mutually orthogonal feature
vectors score n.

Pure numpy in float64 (a per-prompt set is a handful of images; a distribution-level set of
n images with d-dimensional features goes through the d x d dual matrix when n > d, whose
non-zero eigenvalues are the same).

>>> import numpy as np
>>> round(vendi_score(np.eye(4)), 6)
4.0
>>> round(vendi_score(np.ones((3, 8))), 6)
1.0
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ..errors import InputError

KERNELS = ("cosine", "rbf", "precomputed")


def as_matrix(features: Any, name: str = "features") -> np.ndarray:
    """A numpy/torch ``(n, d)`` array -> float64 numpy, refusing other shapes and NaNs."""
    if hasattr(features, "detach"):
        features = features.detach().cpu().numpy()
    x = np.asarray(features, dtype=np.float64)
    if x.ndim != 2:
        raise InputError(f"{name}: expected an (n, d) array; got shape {x.shape}")
    if not np.isfinite(x).all():
        raise InputError(f"{name}: contains NaN or infinite values")
    return x


def _unit_rows(x: np.ndarray) -> np.ndarray:
    norms = np.linalg.norm(x, axis=1, keepdims=True)
    if (norms == 0).any():
        raise InputError("a feature vector is all zeros: its cosine similarity is undefined")
    return x / norms


def entropy_exp(eigenvalues: np.ndarray, q: float = 1.0) -> float:
    """exp(Rényi entropy of order q) of a probability vector given as eigenvalues; tiny
    negative eigenvalues from rounding are zero."""
    p = np.clip(np.asarray(eigenvalues, dtype=np.float64), 0.0, None)
    p = p / p.sum()
    p = p[p > 0]
    if q == 1:
        return float(np.exp(-(p * np.log(p)).sum()))
    if q == float("inf"):
        return float(1.0 / p.max())
    return float(np.exp(np.log((p**q).sum()) / (1 - q)))


def vendi_from_kernel(kernel: np.ndarray, q: float = 1.0) -> float:
    """Vendi score of a symmetric similarity matrix with unit diagonal."""
    k = np.asarray(kernel, dtype=np.float64)
    if k.ndim != 2 or k.shape[0] != k.shape[1] or k.shape[0] == 0:
        raise InputError(f"kernel: expected a non-empty square matrix; got shape {k.shape}")
    if not np.allclose(np.diag(k), 1.0, atol=1e-6):
        raise InputError("kernel: the Vendi score needs a similarity with K[i, i] = 1 (normalise it first)")
    return entropy_exp(np.linalg.eigvalsh((k + k.T) / 2 / k.shape[0]), q)


def vendi_score(
    features: Any, kernel: str = "cosine", *, q: float = 1.0, bandwidth: float | None = None
) -> float:
    """Vendi score of an ``(n, d)`` feature array (numpy or torch).

    ``kernel``: ``"cosine"`` (rows normalised, ``K = X X^T``; the usual choice for CLIP and
    Inception features), ``"rbf"`` (``exp(-|x - y|^2 / (2 bandwidth^2))``, the bandwidth
    defaulting to the median pairwise distance), or ``"precomputed"`` (``features`` is K).
    ``q`` is the order of the entropy (1: Shannon, the paper's default).
    """
    if kernel not in KERNELS:
        raise InputError(f"unknown Vendi kernel {kernel!r}; choose one of {KERNELS}")
    if kernel == "precomputed":
        return vendi_from_kernel(as_matrix(features, "kernel"), q)
    x = as_matrix(features)
    n = x.shape[0]
    if n == 0:
        raise InputError("features: no rows")
    if kernel == "cosine":
        u = _unit_rows(x)
        # n > d: X^T X / n has the same non-zero eigenvalues as X X^T / n and is only d x d
        gram = u.T @ u if n > u.shape[1] else u @ u.T
        return entropy_exp(np.linalg.eigvalsh(gram / n), q)
    sq = (x * x).sum(1)
    d2 = np.clip(sq[:, None] + sq[None, :] - 2 * x @ x.T, 0.0, None)
    np.fill_diagonal(d2, 0.0)
    if bandwidth is None:
        off = np.sqrt(d2[np.triu_indices(n, 1)])
        bandwidth = float(np.median(off)) if off.size else 1.0
        bandwidth = bandwidth or 1.0  # all points equal: any bandwidth gives K = 1
    if not bandwidth > 0:
        raise InputError(f"bandwidth must be positive; got {bandwidth!r}")
    return vendi_from_kernel(np.exp(-d2 / (2 * bandwidth**2)), q)


class VendiScore:
    """Accumulating Vendi score: ``update(features)`` batch by batch, ``compute()`` over all."""

    def __init__(self, kernel: str = "cosine", *, q: float = 1.0, bandwidth: float | None = None):
        if kernel not in ("cosine", "rbf"):
            raise InputError(
                f"VendiScore accumulates features: kernel must be 'cosine' or 'rbf'; got {kernel!r}"
            )
        self.kernel, self.q, self.bandwidth = kernel, q, bandwidth
        self._parts: list[np.ndarray] = []

    def update(self, features: Any) -> None:
        self._parts.append(as_matrix(features))

    @property
    def n(self) -> int:
        return sum(p.shape[0] for p in self._parts)

    def compute(self) -> float:
        if not self._parts:
            raise InputError("no features were added")
        return vendi_score(np.concatenate(self._parts), self.kernel, q=self.q, bandwidth=self.bandwidth)

    def reset(self) -> None:
        self._parts = []
