"""Improved precision and recall (Kynkäänniemi et al. 2019) and density and coverage (Naeem et
al. 2020) of a generated feature set against a real one, from k-nearest-neighbour balls.

* precision: the share of fake samples inside at least one real sample's k-NN ball;
* recall: the share of real samples inside at least one fake sample's k-NN ball;
* density: how many real balls contain each fake sample, averaged, divided by k (1 on average
  for identical distributions; above 1 when fakes crowd into dense real regions);
* coverage: the share of real samples whose ball contains at least one fake sample.

A ball's radius is the Euclidean distance to the k-th nearest *other* sample of its own set,
and a point on the boundary counts as inside (the closed ball of the papers' definitions; the
``prdc`` package uses an open ball, which differs only on exact ties).

Distances are computed in torch, in float64, in column blocks, so 50,000 x 50,000 sets never
hold the full distance matrix.

>>> import numpy as np
>>> x = np.random.default_rng(0).normal(size=(200, 8))
>>> r = prdc(x, x, k=5, device="cpu")
>>> r["precision"], r["recall"], r["coverage"]
(1.0, 1.0, 1.0)
"""

from __future__ import annotations

from typing import Any

from ..errors import DataError, InputError
from . import _deps
from ._sets import FeatureSetMetric
from .extractors import INCEPTION_SHA256

_BLOCK_ELEMENTS = 1 << 24  # float64 distances per block: 128 MiB


def _tensor(x: Any, name: str, device: str) -> Any:
    torch = _deps.torch()
    t = torch.as_tensor(x.detach().cpu().numpy() if hasattr(x, "detach") else x)
    if t.ndim != 2:
        raise InputError(f"{name}: expected an (n, d) array; got shape {tuple(t.shape)}")
    t = t.to(device, torch.float64)
    if not torch.isfinite(t).all():
        raise InputError(f"{name}: contains NaN or infinite values")
    return t


def _block(n_rows: int) -> int:
    return max(1, _BLOCK_ELEMENTS // max(n_rows, 1))


def knn_radii(x: Any, k: int) -> Any:
    """Distance of each row of ``x`` to its k-th nearest other row (self, at distance 0, is
    the first of the k + 1 smallest)."""
    torch = _deps.torch()
    n = x.shape[0]
    out = torch.empty(n, dtype=x.dtype, device=x.device)
    step = _block(n)
    for s in range(0, n, step):
        d = torch.cdist(x[s : s + step], x)
        out[s : s + step] = d.topk(k + 1, dim=1, largest=False).values[:, k]
    return out


def prdc(real_features: Any, fake_features: Any, k: int = 5, *, device: str | None = None) -> dict[str, Any]:
    """Precision, recall, density and coverage of ``fake_features`` against ``real_features``
    (``(n, d)`` arrays, numpy or torch), with k-NN balls of size ``k``. Returns a dict with
    those four floats plus ``k``, ``n_real`` and ``n_fake``."""
    torch = _deps.torch()
    dev = _deps.resolve_device(device)
    real, fake = _tensor(real_features, "real_features", dev), _tensor(fake_features, "fake_features", dev)
    if real.shape[1] != fake.shape[1]:
        raise InputError(f"real features are {real.shape[1]}-d but fake features {fake.shape[1]}-d")
    if not isinstance(k, int) or k < 1:
        raise InputError(f"k must be a positive integer; got {k!r}")
    for name, t in (("real", real), ("fake", fake)):
        if t.shape[0] <= k:
            raise InputError(f"{name} set has {t.shape[0]} samples; k={k} needs more than k")
    with torch.inference_mode():
        r_real, r_fake = knn_radii(real, k), knn_radii(fake, k)
        n_real, n_fake = real.shape[0], fake.shape[0]
        real_in_fake_ball = torch.zeros(n_real, dtype=torch.bool, device=dev)
        nearest_fake = torch.full((n_real,), float("inf"), dtype=torch.float64, device=dev)
        fake_in_real = torch.zeros(n_fake, dtype=torch.float64, device=dev)  # balls containing each fake
        step = _block(n_real)
        for s in range(0, n_fake, step):
            d = torch.cdist(real, fake[s : s + step])  # n_real x block
            inside_real = d <= r_real[:, None]
            fake_in_real[s : s + step] = inside_real.sum(0)
            real_in_fake_ball |= (d <= r_fake[None, s : s + step]).any(1)
            nearest_fake = torch.minimum(nearest_fake, d.min(1).values)
        return {
            "precision": float((fake_in_real > 0).double().mean()),
            "recall": float(real_in_fake_ball.double().mean()),
            "density": float(fake_in_real.mean() / k),
            "coverage": float((nearest_fake <= r_real).double().mean()),
            "k": k,
            "n_real": int(n_real),
            "n_fake": int(n_fake),
        }


class PRDC(FeatureSetMetric):
    """Accumulating PRDC: ``update(uint8_batch, real=True|False)``, ``update_features``,
    ``add_images(folder_or_manifest, real)``; ``compute()`` keeps every feature (the k-NN balls
    need them all), on the CPU."""

    name = "PRDC"

    def __init__(
        self,
        k: int = 5,
        *,
        feature_extractor: Any = None,
        weights: Any = None,
        mode: str = "tf-legacy",
        device: str | None = None,
        sha256: str | None = INCEPTION_SHA256,
    ):
        super().__init__(feature_extractor, weights, mode, device, sha256)
        self.k, self.device = k, device
        self.min_images_per_set = k + 1
        self._feats: dict[bool, list[Any]] = {True: [], False: []}

    def update_features(self, features: Any, real: bool) -> None:
        self._feats[bool(real)].append(_tensor(features, "features", "cpu"))

    def compute(self) -> dict[str, Any]:
        torch = _deps.torch()
        if not self._feats[True] or not self._feats[False]:
            raise DataError(
                "PRDC needs both real and generated features (update with real=True and real=False)"
            )
        out = prdc(torch.cat(self._feats[True]), torch.cat(self._feats[False]), self.k, device=self.device)
        ext = self._extractor
        if ext is not None:
            out["extractor"] = ext.name
        return out

    def reset(self) -> None:
        self._feats = {True: [], False: []}
