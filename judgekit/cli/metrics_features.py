"""Where the feature rows of ``judgekit metrics diversity|prdc|nearest`` come from: a local
extractor (Inception or CLIP) over image files, loaded in worker processes, or a ``.npy``/``.npz``
file of precomputed features. Per-image failures are returned with their reason (per-image
outputs record them); set metrics turn any failure into one ``DataError``."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

import numpy as np

from ..errors import ConfigError, DataError

FEATURE_SUFFIXES = (".npy", ".npz")


def is_feature_file(x: Any) -> bool:
    return str(x).endswith(FEATURE_SUFFIXES)


def load_feature_file(path: str | Path) -> np.ndarray:
    """An ``(n, d)`` array from ``.npy``, or from ``.npz`` (key ``features``, or its only array)."""
    p = Path(path)
    if not p.is_file():
        raise DataError(f"{p}: feature file does not exist")
    try:
        data = np.load(p, allow_pickle=False)
        if isinstance(data, np.lib.npyio.NpzFile):
            keys = list(data.keys())
            key = "features" if "features" in keys else (keys[0] if len(keys) == 1 else None)
            if key is None:
                raise DataError(f"{p}: an .npz of features needs a 'features' array (found {keys})")
            data = data[key]
    except DataError:
        raise
    except Exception as exc:
        raise DataError(f"{p}: cannot read features ({exc})") from exc
    if data.ndim != 2:
        raise DataError(f"{p}: expected an (n, d) feature array, got shape {data.shape}")
    return np.asarray(data, dtype=np.float64)


def extractor_for(args: argparse.Namespace, device: str) -> Any:
    if args.features == "clip":
        if not args.weights:
            raise ConfigError("--features clip needs --weights DIR (a local CLIP model directory)")
        from transformers.utils import logging as hf_logging

        from ..metrics._clip_features import CLIPImageExtractor

        hf_logging.disable_progress_bar()
        return CLIPImageExtractor(args.weights, device=device)
    from ..metrics._sets import make_extractor
    from ..metrics.extractors import INCEPTION_SHA256

    return make_extractor(weights=args.weights, mode=args.mode, device=device,
                          sha256=args.weights_sha256 or INCEPTION_SHA256)  # fmt: skip


def features_per_item(
    ext: Any, paths: list[Path], args: argparse.Namespace
) -> tuple[list[Any], dict[int, str]]:
    """One feature row (numpy) per path, or None with the reason in ``errors[index]``."""
    from ..metrics.loading import load_items
    from .metrics_output import progress_label as _progress

    rows: list[Any] = [None] * len(paths)
    errors: dict[int, str] = {}
    for batch in load_items([(p,) for p in paths], ext.prepare, batch_size=args.batch_size,
                            num_workers=args.workers, progress=_progress(args, "images")):  # fmt: skip
        good = []
        for b in batch:
            if b.error:
                errors[b.index] = b.error
            else:
                good.append(b)
        if not good:
            continue
        try:
            feats = np.concatenate([f.cpu().numpy() for f in ext.features_of([b.value for b in good])])
        except ValueError as exc:
            for b in good:
                errors[b.index] = str(exc)
            continue
        for b, f in zip(good, feats, strict=True):
            rows[b.index] = f
    return rows, errors


def set_features(ext_factory: Any, source: str, args: argparse.Namespace) -> tuple[np.ndarray, list[Any]]:
    """Features of a whole set (a set metric refuses a bad file: a smaller set is another number)
    and the samples behind them (None for a folder or feature file)."""
    if is_feature_file(source):
        return load_feature_file(source), []
    from ..metrics._sets import image_paths, manifest_image
    from ..metrics.images import read_manifest

    items = read_manifest(source) if str(source).endswith(".jsonl") else []
    paths = [manifest_image(it, source) for it in items] if items else image_paths(source)[0]
    rows, errors = features_per_item(ext_factory(), paths, args)
    if errors:
        i = min(errors)
        raise DataError(errors[i] + (f" (and {len(errors) - 1} more)" if len(errors) > 1 else ""))
    return np.stack(rows), [it.sample for it in items]


def manifest_features(
    args: argparse.Namespace, ext_factory: Any
) -> tuple[list[Any], list[Any], dict[int, str]]:
    """The manifest's items, one feature row each (None when it failed), and the failures; the
    extractor is built only when the features are not in ``--feature-file``."""
    from ..metrics.images import read_manifest

    items = read_manifest(args.data)
    if args.feature_file:
        feats = load_feature_file(args.feature_file)
        if feats.shape[0] != len(items):
            raise DataError(
                f"{args.feature_file}: {feats.shape[0]} rows but {args.data} has {len(items)} samples"
            )
        return items, list(feats), {}
    todo = [i for i, it in enumerate(items) if it.image is not None]
    errors = {i: "sample has no 'image'" for i, it in enumerate(items) if it.image is None}
    rows: list[Any] = [None] * len(items)
    got, errs = features_per_item(ext_factory(), [Path(str(items[i].image)) for i in todo], args)
    for j, i in enumerate(todo):
        rows[i] = got[j]
        if j in errs:
            errors[i] = errs[j]
    return items, rows, errors
