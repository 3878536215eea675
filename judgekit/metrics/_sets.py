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
        bad = [b for b in batch if b.error]
        if bad:
            raise DataError(
                bad[0].error + (f" (and {len(bad) - 1} more in this batch)" if len(bad) > 1 else "")
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
