"""What FID and KID share: an extractor, and turning "a set of images" (a folder, a manifest, a
list of files, a uint8 tensor) into feature batches, with every failure naming its file."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

from ..errors import DataError
from .extractors import INCEPTION_SHA256, FeatureExtractor, InceptionExtractor, ModuleExtractor
from .images import list_images, read_manifest
from .loading import load_items

MIN_RECOMMENDED = 2048  # below the feature dimension the covariance is singular


def make_extractor(
    feature_extractor: Any = None,
    *,
    weights: str | Path | None = None,
    mode: str = "tf-legacy",
    device: str | None = None,
    sha256: str | None = INCEPTION_SHA256,
) -> FeatureExtractor:
    if isinstance(feature_extractor, FeatureExtractor):
        return feature_extractor
    if feature_extractor is not None:
        return ModuleExtractor(feature_extractor, device=device)
    return InceptionExtractor(weights, mode=mode, device=device, sha256=sha256)


def image_paths(source: Any) -> tuple[list[Path], str]:
    """A folder, a ``.jsonl`` manifest (its ``image`` fields) or a list of files -> paths and a
    label for messages."""
    if isinstance(source, (str, Path)):
        p = Path(source)
        if p.is_dir():
            return list_images(p), str(p)
        if p.suffix == ".jsonl":
            return [manifest_image(it, p) for it in read_manifest(p)], str(p)
        raise DataError(f"{p}: expected a folder of images, a .jsonl manifest or a .npz statistics file")
    paths = [Path(x) for x in source]
    return paths, f"{len(paths)} files"


def manifest_image(item: Any, manifest: Path | str) -> Path:
    if item.image is None:
        raise DataError(f"{manifest}: sample {item.sample.id!r} has no 'image'")
    return item.image


def extract_paths(
    extractor: FeatureExtractor,
    paths: Sequence[Path],
    *,
    batch_size: int = 50,
    num_workers: int | None = None,
    progress: bool | str = False,
) -> Iterator[Any]:
    """Yield feature batches (torch, on the extractor's device) for ``paths`` in order. An
    unreadable or non-RGB file stops the run with a ``DataError`` naming it: a set metric
    silently computed on fewer images would be a different number."""
    for batch in load_items(
        [(p,) for p in paths],
        extractor.prepare,
        batch_size=batch_size,
        num_workers=num_workers,
        progress=progress,
    ):
        bad = [b.error for b in batch if b.error]
        if bad:
            raise DataError(
                bad[0] + (f" (and {len(bad) - 1} more in this batch)" if len(bad) > 1 else "")
            )
        try:
            yield from extractor.features_of([b.value for b in batch])
        except ValueError as exc:
            raise DataError(f"{paths[batch[0].index]} and the next {len(batch) - 1} files: {exc}") from exc


def count_warning(n: int, what: str) -> str | None:
    if n < MIN_RECOMMENDED:
        return (
            f"{what}: only {n} images (fewer than {MIN_RECOMMENDED}, the Inception feature dimension): the "
            "covariance is singular and FID is strongly biased upward; compare numbers only at equal N "
            "(the standard is 50,000 generated images against the reference statistics)"
        )
    return None


class FeatureSetMetric:
    """The part of FID and KID that is about images rather than statistics: a feature extractor
    built on first use (so a metric fed only features or saved statistics needs no weights), and
    feeding batches, folders, manifests or file lists through it. Subclasses keep the features
    their own way in ``update_features``."""

    #: ``add_images`` refuses a set smaller than this (KID cannot use a single image).
    min_images_per_set = 0
    name = "metric"

    def __init__(self, feature_extractor: Any, weights: Any, mode: str, device: str | None, sha256: str | None):
        self._extractor_args = (feature_extractor, weights, mode, device, sha256)
        self._extractor: FeatureExtractor | None = None
        self.mode = mode if feature_extractor is None else getattr(feature_extractor, "mode", None)

    @property
    def extractor(self) -> FeatureExtractor:
        if self._extractor is None:
            fe, weights, mode, device, sha256 = self._extractor_args
            self._extractor = make_extractor(fe, weights=weights, mode=mode, device=device, sha256=sha256)
        return self._extractor

    def update(self, images: Any, real: bool) -> None:
        """Add a uint8 ``B x 3 x H x W`` batch."""
        self.update_features(self.extractor(images), real)

    def update_features(self, features: Any, real: bool) -> None:
        raise NotImplementedError

    def add_images(
        self,
        source: Any,
        real: bool,
        *,
        batch_size: int = 50,
        num_workers: int | None = None,
        progress: bool | str = False,
    ) -> int:
        """Add a folder, manifest or list of files through worker processes; returns the count."""
        paths, label = image_paths(source)
        if len(paths) < self.min_images_per_set:
            raise DataError(f"{label}: {self.name} needs at least {self.min_images_per_set} images, found {len(paths)}")
        for feats in extract_paths(
            self.extractor, paths, batch_size=batch_size, num_workers=num_workers, progress=progress
        ):
            self.update_features(feats, real)
        return len(paths)
