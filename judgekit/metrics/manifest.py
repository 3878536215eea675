"""Scoring the images a manifest (or a folder) names with the classical metrics: per-image
metrics (SSIM, PSNR, LPIPS against a reference; CLIP score against the prompt) as one row per
sample, and set metrics (FID, KID) as one row per set or per group. The CLI only parses flags
and prints; this is what it runs, so library users get the same rows.

A sample that cannot be scored (no image, no reference, an unreadable file, a size mismatch) is
a ``"status": "failed"`` row with the reason, never a silent gap.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, cast

from ..errors import ConfigError
from . import _deps

PER_IMAGE = ("ssim", "psnr", "lpips", "clip")
SET_METRICS = ("fid", "kid")

Row = dict[str, Any]


@dataclass
class ManifestScores:
    """What a per-image run produced, besides its rows: how many scored and failed."""

    n_ok: int
    n_failed: int
    mean: float | None


def score_set(
    metric: str,
    real: str,
    fake: str,
    *,
    weights: str | None = None,
    weights_sha256: str | None = None,
    mode: str = "tf-legacy",
    device: str | None = None,
    batch_size: int = 50,
    num_workers: int | None = None,
    progress: bool = False,
    group_by: str | None = None,
    save_stats: str | None = None,
    subsets: int = 100,
    subset_size: int = 1000,
    seed: int = 2020,
) -> list[Row]:
    """FID or KID of ``fake`` against ``real`` (folders, manifests, or FID statistics files):
    one row, or one row per value of ``group_by`` (FID with a manifest)."""
    from . import _fid, _kid
    from ._sets import make_extractor
    from .extractors import INCEPTION_SHA256

    if metric not in SET_METRICS:
        raise ConfigError(f"set metric must be one of {SET_METRICS}, not {metric!r}")
    if group_by and save_stats:  # checked first: before any weights or image is read
        raise ConfigError("saving the real set's statistics is not supported with group_by: "
                          "run once without it to save them")
    device = _deps.resolve_device(device)
    sha = weights_sha256 or INCEPTION_SHA256
    needs_images = not all(str(x).endswith(".npz") for x in (real, fake))
    # built first, so a missing or wrong weights file fails before any image is read
    ext = make_extractor(weights=weights, mode=mode, device=device, sha256=sha) if needs_images else None
    # keyword packs shared by FID and KID (values of several types, checked by those signatures)
    common: dict[str, Any] = dict(feature_extractor=ext, weights=weights, mode=mode, device=device, sha256=sha)
    load: dict[str, Any] = dict(batch_size=batch_size, num_workers=num_workers, progress=progress)
    if metric == "kid":
        if str(real).endswith(".npz"):
            raise ConfigError(f"{real}: KID resamples features, so it needs the real images, not statistics")
        r = _kid.kid(real, fake, subsets=subsets, subset_size=subset_size, seed=seed, **common, **load)
        rows = [{"metric": "kid", **r.to_dict()}]
    elif group_by:
        if not str(fake).endswith(".jsonl"):
            raise ConfigError("group_by needs the generated set to be a .jsonl manifest")
        per = _fid.fid_per_group(real, fake, group_by=group_by, **common, **load)
        rows = [{"metric": "fid", group_by: k, **v.to_dict()} for k, v in per.items()]
    else:
        m = _fid.FID(**common)
        m.add_source(real, real=True, **load)
        m.add_source(fake, real=False, **load)
        rows = [{"metric": "fid", **m.compute().to_dict()}]
        if save_stats:
            if m.real.n < 2:
                raise ConfigError(f"cannot save statistics of {real}: it has {m.real.n} image(s) (need at least 2)")
            m.real_stats().save(save_stats)
    provenance = {"device": device, "weights": str(weights or "default search"), "real": str(real), "fake": str(fake)}
    return [{**r, **provenance} for r in rows]


class _PairPrepare:
    """Worker side for pair metrics: two RGB arrays -> two CHW uint8 tensors (picklable)."""

    def __call__(self, a: Any, b: Any) -> Any:
        from .extractors import to_chw_uint8

        return to_chw_uint8(a), to_chw_uint8(b)


def _scorer(metric: str, device: str, data_range: float, preset: str, net: str, weights: str | None) -> tuple[Any, Row]:
    """The batch function (stacked inputs -> per-sample scores) and what to record with them."""
    from ._lpips import LPIPS
    from ._psnr import psnr
    from ._ssim import ssim

    if metric == "ssim":
        return (lambda a, b: ssim(a.to(device), b.to(device), data_range=data_range, preset=preset),
                {"data_range": data_range, "preset": preset})  # fmt: skip
    if metric == "psnr":
        return (lambda a, b: psnr(a.to(device), b.to(device), data_range=data_range), {"data_range": data_range})
    lp = LPIPS(net=net, weights=weights, device=device)

    def run(a: Any, b: Any) -> Any:
        return lp.network(a.to(device).float() / 127.5 - 1, b.to(device).float() / 127.5 - 1)

    return run, {"net": net, "version": "0.1", "weights": str(lp.network.weights)}


def score_manifest(
    metric: str,
    data: str,
    write: Callable[[Row], None],
    *,
    weights: str | None = None,
    device: str | None = None,
    batch_size: int = 32,
    num_workers: int | None = None,
    progress: bool | str = False,
    data_range: float = 255.0,
    preset: str = "wang",
    net: str = "alex",
    scale: str | float = 2.5,
) -> ManifestScores:
    """Score every sample of manifest ``data`` with a per-image metric, handing one row per
    sample to ``write`` as soon as it is scored (rows come in manifest order)."""
    from .images import read_manifest
    from .loading import load_items, stack_same_shape

    if metric not in PER_IMAGE:
        raise ConfigError(f"per-image metric must be one of {PER_IMAGE}, not {metric!r}")
    device = _deps.resolve_device(device)
    items = read_manifest(data)
    need = "prompt" if metric == "clip" else "reference"
    prepare: Callable[..., Any]
    if metric == "clip":
        from transformers.utils import logging as hf_logging

        from ._clip import CLIPScorer

        if weights is None:
            raise ConfigError("CLIP score needs local weights: a CLIP model directory (transformers save_pretrained)")
        hf_logging.disable_progress_bar()
        clip_scale: Any = scale if scale in ("logit", "clipscore", "torchmetrics") else float(scale)
        clip = CLIPScorer(weights, scale=clip_scale, device=device)
        d = clip.describe()
        prepare, record = clip.prepare, {"clip_model": d.pop("model"), **d}
    else:
        score_fn, record = _scorer(metric, device, data_range, preset, net, weights)
        prepare = _PairPrepare()
    # Rows are buffered by manifest position and released in order, so the output follows the
    # manifest even though failures are known before scores.
    pending: dict[int, Row] = {}
    released = 0
    ok_scores: list[float] = []
    failed = 0

    def emit(pos: int, it: Any, score: float | None, error: str | None, **extra: Any) -> None:
        nonlocal failed, released
        s = it.sample
        row: Row = {"sample_id": s.id, "prompt_id": s.prompt_id, "model": s.model, "metric": metric}
        if error is None and score is not None and not math.isfinite(score):
            row.update(score=None, status="ok", note=f"{metric} is {score} (identical images)")
        else:
            row.update(score=score, status="ok" if error is None else "failed")
        if error is not None:
            row["error"] = error
            failed += 1
        elif score is not None and math.isfinite(score):
            ok_scores.append(score)
        pending[pos] = {**row, **extra, **{k: v for k, v in record.items() if k not in row}}
        while released in pending:
            write(pending.pop(released))
            released += 1

    todo, jobs = [], []
    for pos, it in enumerate(items):
        missing = "image" if it.image is None else (need if getattr(it.sample, need) is None else None)
        if missing:
            emit(pos, it, None, f"sample has no {missing!r}")
        else:
            todo.append((pos, it))
            jobs.append((it.image,) if metric == "clip" else (it.image, it.reference))
    for batch in load_items(jobs, prepare, batch_size=batch_size, num_workers=num_workers, progress=progress):
        good = []
        for b in batch:
            pos, it = todo[b.index]
            if b.error:
                emit(pos, it, None, b.error)
            elif metric != "clip" and b.value[0].shape != b.value[1].shape:
                emit(pos, it, None, f"{it.image} is {tuple(b.value[0].shape[1:])} but its reference {it.reference} "
                     f"is {tuple(b.value[1].shape[1:])} (H, W): a pair must have one size")  # fmt: skip
            else:
                good.append(b)
        if metric == "clip":
            if good:
                import torch

                # never None: a sample without a prompt was emitted as failed above
                prompts = cast(list[str], [todo[b.index][1].sample.prompt for b in good])
                cos, truncated = clip.cosine(torch.stack([b.value for b in good]), prompts)
                for b, c, t in zip(good, clip.from_cosine(cos).tolist(), truncated, strict=True):
                    emit(*todo[b.index], float(c), None, truncated=t)
            continue
        for idx, (a, r) in stack_same_shape([b.value for b in good]):
            for i, sc in zip(idx, score_fn(a, r).tolist(), strict=True):
                emit(*todo[good[i].index], float(sc), None)
    if pending:  # cannot happen unless the loader lost an item: say so rather than drop rows
        warnings.warn(f"{len(pending)} rows were never released in order; writing them now", stacklevel=2)
        for pos in sorted(pending):
            write(pending.pop(pos))
    n = len(ok_scores)
    return ManifestScores(n, failed, sum(ok_scores) / n if n else None)
