"""``judgekit metrics``: the classical baselines from image files, on GPU or CPU.

    judgekit metrics fid  --real REAL_DIR|ref.npz --fake GEN_DIR|manifest.jsonl [--group-by model]
    judgekit metrics kid  --real REAL_DIR --fake GEN_DIR
    judgekit metrics clip --data manifest.jsonl --weights CLIP_DIR [--scale 2.5|100|logit] --out clip.jsonl
    judgekit metrics ssim|psnr|lpips --data manifest.jsonl --out scores.jsonl   (pairs image + reference)

Per-image metrics write one JSONL line per sample with ``sample_id`` and ``score`` (what
``judgekit calibrate --baseline FILE`` reads); a sample that cannot be scored gets
``"status": "failed"`` and the reason, never a silent gap. Set metrics print one JSON object.
"""

from __future__ import annotations

import argparse
import json
import math
import sys
from typing import Any

from ..errors import ConfigError

PER_IMAGE = ("ssim", "psnr", "lpips", "clip")


def _common(p: argparse.ArgumentParser) -> None:
    p.add_argument("--device", help="cuda or cpu (default: cuda when available)")
    p.add_argument("--batch-size", type=int, default=32, metavar="N")
    p.add_argument(
        "--workers", type=int, metavar="N", help="image-loading worker processes (default: cores - 1, max 8)"
    )
    p.add_argument("--no-progress", action="store_true", help="no progress bar")
    p.add_argument("--out", metavar="PATH", help="write results here (default: stdout)")


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "metrics",
        help="classical baselines: FID, KID, CLIP score, SSIM, PSNR, LPIPS",
        description="Classical metrics as baseline comparators, with local weights only (nothing is downloaded). "
        "See docs/metrics.md.",
    )
    ms = p.add_subparsers(dest="metric", metavar="METRIC", required=True)
    for name, desc in (("fid", "Fréchet Inception Distance"), ("kid", "Kernel Inception Distance")):
        q = ms.add_parser(name, help=desc, description=f"{desc} between a real and a generated image set.")
        q.add_argument(
            "--real",
            required=True,
            metavar="DIR|MANIFEST|STATS.npz",
            help="reference images (a folder or manifest)"
            + (", or pytorch-fid statistics (.npz)" if name == "fid" else ""),
        )
        q.add_argument(
            "--fake",
            required=True,
            metavar="DIR|MANIFEST",
            help="generated images (a folder or a .jsonl manifest)",
        )
        q.add_argument(
            "--weights",
            metavar="PATH",
            help="TF-Inception weights (weights-inception-2015-12-05-6726825d.pth); default: "
            "$JUDGEKIT_INCEPTION_WEIGHTS or the torch hub cache",
        )
        q.add_argument(
            "--weights-sha256",
            metavar="HEX",
            help="expected SHA-256 of --weights when it is not the official file (e.g. your own conversion)",
        )
        q.add_argument(
            "--mode",
            choices=["tf-legacy", "clean"],
            default="tf-legacy",
            help="resize to 299: tf-legacy (torch-fidelity/TF FID, default) or clean (clean-fid)",
        )
        if name == "fid":
            q.add_argument(
                "--group-by",
                metavar="FIELD",
                help="with a manifest --fake: one FID per value of FIELD (model, prompt_id, a meta key)",
            )
            q.add_argument(
                "--save-stats",
                metavar="PATH.npz",
                help="also save the real set's statistics (pytorch-fid format)",
            )
        else:
            q.add_argument("--subsets", type=int, default=100)
            q.add_argument("--subset-size", type=int, default=1000)
            q.add_argument("--seed", type=int, default=2020)
        _common(q)
        q.set_defaults(func=_run_set, batch_size=50)
    for name, desc in (
        ("ssim", "SSIM of each image against its reference (Gaussian sigma 1.5, population covariance)"),
        ("psnr", "PSNR in dB of each image against its reference"),
        ("lpips", "LPIPS v0.1 distance of each image to its reference"),
        ("clip", "CLIP score of each image with its prompt"),
    ):
        q = ms.add_parser(name, help=desc, description=desc + ".")
        q.add_argument(
            "--data",
            required=True,
            metavar="MANIFEST.jsonl",
            help="samples with 'id', 'image'" + (" and 'prompt'" if name == "clip" else " and 'reference'"),
        )
        if name in ("ssim", "psnr"):
            q.add_argument(
                "--data-range",
                type=float,
                default=255.0,
                help="the value range L of the pixels (255: files are read as 8-bit RGB)",
            )
        if name == "ssim":
            q.add_argument(
                "--preset",
                choices=["wang", "skimage"],
                default="wang",
                help="wang: 11-tap Gaussian, population covariance (default); skimage: scikit-image's defaults",
            )
        if name == "lpips":
            q.add_argument("--net", choices=["alex", "vgg"], default="alex")
            q.add_argument(
                "--weights",
                metavar="PATH",
                help="torchvision backbone weights (alexnet-owt-7be5be79.pth / vgg16-397923af.pth)",
            )
        if name == "clip":
            q.add_argument(
                "--weights",
                required=True,
                metavar="DIR",
                help="a local CLIP model directory (transformers save_pretrained)",
            )
            q.add_argument(
                "--scale",
                default="2.5",
                help="2.5 (CLIPScore, default), 100 (torchmetrics) or logit (PickScore-style)",
            )
        _common(q)
        q.set_defaults(func=_run_per_image)
    from .metrics_diversity import register_into  # diversity, prdc, nearest (docs/diversity.md)

    register_into(ms)


# --- output ------------------------------------------------------------------------------------


class _Writer:
    def __init__(self, out: str | None):
        self.fh = open(out, "w", encoding="utf-8") if out else sys.stdout  # noqa: SIM115
        self.close_it = bool(out)

    def write(self, obj: dict[str, Any]) -> None:
        self.fh.write(json.dumps(obj, ensure_ascii=False) + "\n")

    def close(self) -> None:
        if self.close_it:
            self.fh.close()
        else:
            self.fh.flush()


def _progress(args: argparse.Namespace, label: str) -> bool | str:
    return False if args.no_progress or not sys.stderr.isatty() else label


# --- set metrics -------------------------------------------------------------------------------


def _run_set(args: argparse.Namespace) -> int:
    from .. import metrics as jm
    from ..metrics._deps import resolve_device
    from ..metrics._sets import make_extractor
    from ..metrics.extractors import INCEPTION_SHA256

    device = resolve_device(args.device)
    sha = args.weights_sha256 or INCEPTION_SHA256
    needs_images = not all(str(x).endswith(".npz") for x in (args.real, args.fake))
    # built first, so a missing or wrong weights file fails before any image is read
    ext = (
        make_extractor(weights=args.weights, mode=args.mode, device=device, sha256=sha)
        if needs_images
        else None
    )
    common = dict(feature_extractor=ext, weights=args.weights, mode=args.mode, device=device, sha256=sha)
    load = dict(
        batch_size=args.batch_size, num_workers=args.workers, progress=_progress(args, "images") is not False
    )
    if args.metric == "kid":
        if str(args.real).endswith(".npz"):
            raise ConfigError(
                f"{args.real}: KID resamples features, so it needs the real images, not statistics"
            )
        r = jm.kid(args.real, args.fake, subsets=args.subsets, subset_size=args.subset_size, seed=args.seed,
                   **common, **load)  # fmt: skip
        rows = [{"metric": "kid", **r.to_dict()}]
    elif args.group_by:
        if not str(args.fake).endswith(".jsonl"):
            raise ConfigError("--group-by needs --fake to be a .jsonl manifest")
        per = jm.fid_per_group(args.real, args.fake, group_by=args.group_by, **common, **load)
        rows = [{"metric": "fid", args.group_by: k, **v.to_dict()} for k, v in per.items()]
    else:
        m = jm.FID(**common)
        from ..metrics._fid import _add_side

        _add_side(m, args.real, True, **load)
        _add_side(m, args.fake, False, **load)
        rows = [{"metric": "fid", **m.compute().to_dict()}]
        if args.save_stats and m.real.n >= 2:
            m.real_stats().save(args.save_stats)
    provenance = {"device": device, "weights": str(args.weights or "default search"), "real": str(args.real),
                  "fake": str(args.fake)}  # fmt: skip
    w = _Writer(args.out)
    for r in rows:
        w.write({**r, **provenance})
    w.close()
    for r in rows:
        value = r.get("value", r.get("mean"))
        extra = f" ± {r['std']:.6g}" if "std" in r else ""
        n = f"n_real={r.get('n_real')} n_fake={r.get('n_fake')}"
        group = f"[{args.group_by}={r[args.group_by]}] " if getattr(args, "group_by", None) else ""
        print(f"{group}{args.metric.upper()} = {value:.6g}{extra} ({n}, mode={args.mode})", file=sys.stderr)
    return 0


# --- per-image metrics -------------------------------------------------------------------------


class _PairPrepare:
    """Worker side for pair metrics: two RGB arrays -> two CHW uint8 tensors (picklable)."""

    def __call__(self, a: Any, b: Any) -> Any:
        from ..metrics.extractors import to_chw_uint8

        return to_chw_uint8(a), to_chw_uint8(b)


def _scorer(args: argparse.Namespace, device: str) -> tuple[Any, dict[str, Any]]:
    """The batch function (stacked inputs -> per-sample scores) and what to record with them."""
    from .. import metrics as jm

    if args.metric == "ssim":
        return (lambda a, b: jm.ssim(a.to(device), b.to(device), data_range=args.data_range, preset=args.preset),
                {"data_range": args.data_range, "preset": args.preset})  # fmt: skip
    if args.metric == "psnr":
        return (lambda a, b: jm.psnr(a.to(device), b.to(device), data_range=args.data_range),
                {"data_range": args.data_range})  # fmt: skip
    net = jm.LPIPS(net=args.net, weights=args.weights, device=device)

    def run(a: Any, b: Any) -> Any:
        return net.network(a.to(device).float() / 127.5 - 1, b.to(device).float() / 127.5 - 1)

    return run, {"net": args.net, "version": "0.1", "weights": str(net.network.weights)}


def _run_per_image(args: argparse.Namespace) -> int:
    from ..metrics._deps import resolve_device
    from ..metrics.images import read_manifest
    from ..metrics.loading import load_items, stack_same_shape

    device = resolve_device(args.device)
    items = read_manifest(args.data)
    need = "prompt" if args.metric == "clip" else "reference"
    if args.metric == "clip":
        from transformers.utils import logging as hf_logging

        from ..metrics._clip import CLIPScorer

        hf_logging.disable_progress_bar()
        scale: Any = args.scale if args.scale in ("logit", "clipscore", "torchmetrics") else float(args.scale)
        clip = CLIPScorer(args.weights, scale=scale, device=device)
        d = clip.describe()
        prepare, record = clip.prepare, {"clip_model": d.pop("model"), **d}
    else:
        score_fn, record = _scorer(args, device)
        prepare = _PairPrepare()
    w = _Writer(args.out)
    ok_scores: list[float] = []
    failed = 0

    def emit(it: Any, score: float | None, error: str | None, **extra: Any) -> None:
        nonlocal failed
        s = it.sample
        row = {"sample_id": s.id, "prompt_id": s.prompt_id, "model": s.model, "metric": args.metric}
        if error is None and score is not None and not math.isfinite(score):
            row.update(score=None, status="ok", note=f"{args.metric} is {score} (identical images)")
        else:
            row.update(score=score, status="ok" if error is None else "failed")
        if error is not None:
            row["error"] = error
            failed += 1
        elif score is not None and math.isfinite(score):
            ok_scores.append(score)
        w.write({**row, **extra, **{k: v for k, v in record.items() if k not in row}})

    todo, jobs = [], []
    for it in items:
        missing = "image" if it.image is None else (need if getattr(it.sample, need) is None else None)
        if missing:
            emit(it, None, f"sample has no {missing!r}")
        else:
            todo.append(it)
            jobs.append((it.image,) if args.metric == "clip" else (it.image, it.reference))
    try:
        for batch in load_items(jobs, prepare, batch_size=args.batch_size, num_workers=args.workers,
                                progress=_progress(args, args.metric)):  # fmt: skip
            good = []
            for b in batch:
                it = todo[b.index]
                if b.error:
                    emit(it, None, b.error)
                elif args.metric != "clip" and b.value[0].shape != b.value[1].shape:
                    emit(it, None, f"{it.image} is {tuple(b.value[0].shape[1:])} but its reference {it.reference} "
                         f"is {tuple(b.value[1].shape[1:])} (H, W): a pair must have one size")  # fmt: skip
                else:
                    good.append(b)
            if args.metric == "clip":
                if good:
                    import torch

                    cos, truncated = clip.cosine(torch.stack([b.value for b in good]),
                                                 [todo[b.index].sample.prompt for b in good])  # fmt: skip
                    for b, c, t in zip(good, clip.from_cosine(cos).tolist(), truncated, strict=True):
                        emit(todo[b.index], float(c), None, truncated=t)
                continue
            for idx, (a, r) in stack_same_shape([b.value for b in good]):
                for i, s in zip(idx, score_fn(a, r).tolist(), strict=True):
                    emit(todo[good[i].index], float(s), None)
    finally:
        w.close()
    n = len(ok_scores)
    mean = f"{sum(ok_scores) / n:.6g}" if n else "n/a"
    print(f"{args.metric}: mean {mean} over {n} samples; {failed} failed", file=sys.stderr)
    return 0
