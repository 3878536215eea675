"""Fréchet Inception Distance: ``fid(real, fake)`` and the accumulating ``FID`` class.

Features from torch-fidelity's TF-Inception (or any extractor), streaming float64 mean and
covariance, the Fréchet distance through symmetric eigendecompositions with the reference set's
sqrt(sigma) cached, and N always reported (with a warning below 2,048).

>>> import judgekit.metrics as jm                                            # doctest: +SKIP
>>> r = jm.fid("real_dir/", "generated_dir/", weights="weights-inception-2015-12-05-6726825d.pth")  # doctest: +SKIP
>>> r.value, r.n_real, r.n_fake                                              # doctest: +SKIP
"""

from __future__ import annotations

import warnings
from collections import defaultdict
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from ..errors import DataError
from . import _deps
from ._sets import FeatureSetMetric, count_warning, extract_paths, image_paths, manifest_image
from .extractors import INCEPTION_SHA256
from .frechet import ReferenceStats
from .gaussian import FeatureStats, StatsAccumulator
from .images import read_manifest


@dataclass
class FIDResult:
    value: float
    n_real: int | None  # None: statistics from a file that does not record N
    n_fake: int | None
    extractor: str | None = None
    mode: str | None = None
    warning: str | None = None

    def __float__(self) -> float:
        return float(self.value)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


class FID(FeatureSetMetric):
    """Accumulate real and generated features, then ``compute()``; the real side may instead be
    fixed statistics (``set_reference``), whose sqrt(sigma) is computed once.

    >>> m = FID(feature_extractor=my_module)                                  # doctest: +SKIP
    >>> m.update(real_uint8_batch, real=True); m.update(fake_uint8_batch, real=False)  # doctest: +SKIP
    >>> m.compute().value                                                     # doctest: +SKIP
    """

    def __init__(
        self,
        feature_extractor: Any = None,
        *,
        weights: str | Path | None = None,
        mode: str = "tf-legacy",
        device: str | None = None,
        sha256: str | None = INCEPTION_SHA256,
    ):
        super().__init__(feature_extractor, weights, mode, device, sha256)
        self.real = StatsAccumulator()
        self.fake = StatsAccumulator()
        self._reference: ReferenceStats | None = None

    def update_features(self, features: Any, real: bool) -> None:
        (self.real if real else self.fake).update(features)
        if real:
            self._reference = None

    def set_reference(self, stats: FeatureStats | str | Path) -> None:
        """Use fixed statistics (a ``FeatureStats`` or a pytorch-fid ``.npz``) as the real side."""
        if not isinstance(stats, FeatureStats):
            dim = self._extractor.dim if self._extractor is not None else None
            stats = FeatureStats.load(stats, dim=dim)
        self._reference = ReferenceStats(stats.mu, stats.sigma, stats.n)
        self.real = StatsAccumulator()

    def reference(self) -> ReferenceStats:
        if self._reference is None:
            s = self._stats(self.real, "real")
            self._reference = ReferenceStats(s.mu, s.sigma, s.n)
        return self._reference

    def _stats(self, acc: StatsAccumulator, side: str) -> FeatureStats:
        if acc.n < 2:
            raise DataError(f"FID needs at least 2 {side} images; got {acc.n}")
        return acc.stats(mode=self.mode, extractor=self._extractor.name if self._extractor else None)

    def add_source(self, source: Any, real: bool, **load: Any) -> None:
        """Add a whole side: a statistics file, FeatureStats, uint8 tensor, folder, manifest or
        list of files (``load``: batch_size, num_workers, progress)."""
        _add_side(self, source, real, **load)

    def real_stats(self) -> FeatureStats:
        return self._stats(self.real, "real")

    def fake_stats(self) -> FeatureStats:
        return self._stats(self.fake, "generated")

    def compute(self) -> FIDResult:
        ref = self.reference()
        fake = self.fake_stats()
        if fake.dim != ref.mu.shape[0]:
            raise DataError(f"reference statistics are {ref.mu.shape[0]}-d but the features are {fake.dim}-d")
        return _result(ref, fake, self)

    def reset(self, real: bool = False) -> None:
        """Forget the generated features (and the real ones too with ``real=True``)."""
        self.fake = StatsAccumulator()
        if real:
            self.real, self._reference = StatsAccumulator(), None


def _result(ref: ReferenceStats, fake: FeatureStats, m: FID, label: str = "generated") -> FIDResult:
    # a statistics file without ``n`` (pytorch-fid's) leaves N unknown: nothing to warn about
    warning = (count_warning(fake.n, label) if fake.n is not None else None) or (
        count_warning(ref.n, "real") if ref.n is not None else None
    )
    if warning:
        warnings.warn(warning, stacklevel=3)
    ext = m._extractor.name if m._extractor is not None else None
    return FIDResult(ref.distance(fake.mu, fake.sigma), ref.n, fake.n, ext, m.mode, warning)


def _add_side(m: FID, source: Any, real: bool, **load: Any) -> None:
    """A stats file, FeatureStats, uint8 tensor, folder, manifest or list of files."""
    if _is_stats(source):
        if not real:
            dim = m._extractor.dim if m._extractor is not None else None
            stats = source if isinstance(source, FeatureStats) else FeatureStats.load(source, dim=dim)
            m.fake = _FixedStats(stats)  # type: ignore[assignment]
        else:
            m.set_reference(source)
        return
    if hasattr(source, "dtype") and hasattr(source, "shape"):
        torch = _deps.torch()
        t = torch.as_tensor(source)
        bs = load.get("batch_size", 50)
        for i in range(0, t.shape[0], bs):
            m.update(t[i : i + bs], real)
        return
    paths, label = image_paths(source)
    if len(paths) < 2:
        raise DataError(f"{label}: FID needs at least 2 images, found {len(paths)}")
    m.add_images(
        paths,
        real,
        progress=("real" if real else "generated") if load.get("progress") else False,
        batch_size=load.get("batch_size", 50),
        num_workers=load.get("num_workers"),
    )


class _FixedStats:
    """Generated-side statistics given directly (``StatsAccumulator`` look-alike)."""

    def __init__(self, stats: FeatureStats):
        self._s, self.n = stats, stats.n if stats.n is not None else 2

    def stats(self, **_: Any) -> FeatureStats:
        return self._s


def fid(
    real: Any,
    fake: Any,
    *,
    feature_extractor: Any = None,
    weights: str | Path | None = None,
    mode: str = "tf-legacy",
    device: str | None = None,
    batch_size: int = 50,
    num_workers: int | None = None,
    progress: bool = False,
    sha256: str | None = INCEPTION_SHA256,
) -> FIDResult:
    """FID between two image sets. Each side may be a folder, a ``.jsonl`` manifest, a list of
    files, a uint8 ``N x 3 x H x W`` tensor, a ``FeatureStats`` or a pytorch-fid ``.npz``."""
    m = FID(feature_extractor, weights=weights, mode=mode, device=device, sha256=sha256)
    if not (_is_stats(real) and _is_stats(fake)):
        m.extractor  # noqa: B018  (missing or wrong weights fail before any image is read)
    load = {"batch_size": batch_size, "num_workers": num_workers, "progress": progress}
    _add_side(m, real, True, **load)
    _add_side(m, fake, False, **load)
    return m.compute()


def _is_stats(source: Any) -> bool:
    return isinstance(source, FeatureStats) or (
        isinstance(source, (str, Path)) and str(source).endswith(".npz")
    )


def fid_per_group(
    real: Any,
    manifest: str | Path,
    *,
    group_by: str = "model",
    feature_extractor: Any = None,
    weights: str | Path | None = None,
    mode: str = "tf-legacy",
    device: str | None = None,
    batch_size: int = 50,
    num_workers: int | None = None,
    progress: bool = False,
    sha256: str | None = INCEPTION_SHA256,
) -> dict[str, FIDResult]:
    """FID of each group of a manifest (by ``model``, ``prompt_id``, or any ``meta`` key) against
    one reference, whose sqrt(sigma) is computed once. Each image is read once."""
    m = FID(feature_extractor, weights=weights, mode=mode, device=device, sha256=sha256)
    m.extractor  # noqa: B018
    load = {"batch_size": batch_size, "num_workers": num_workers, "progress": progress}
    _add_side(m, real, True, **load)
    items = read_manifest(manifest)
    paths = [manifest_image(it, manifest) for it in items]
    keys = []
    for it in items:
        s = it.sample
        key = getattr(s, group_by, None) if group_by in type(s).model_fields else s.meta.get(group_by)
        if key is None:
            raise DataError(f"{manifest}: sample {s.id!r} has no {group_by!r} to group by")
        keys.append(str(key))
    groups: dict[str, StatsAccumulator] = defaultdict(StatsAccumulator)
    pos = 0
    for feats in extract_paths(
        m.extractor,
        paths,
        batch_size=batch_size,
        num_workers=num_workers,
        progress="generated" if progress else False,
    ):
        for k in sorted(set(keys[pos : pos + len(feats)])):
            sel = [i for i in range(len(feats)) if keys[pos + i] == k]
            groups[k].update(feats[sel])
        pos += len(feats)
    ref = m.reference()
    out: dict[str, FIDResult] = {}
    for k in sorted(groups):
        out[k] = _result(
            ref, m._stats(groups[k], f"generated images of {group_by}={k}"), m, f"{group_by}={k}"
        )
    return out
