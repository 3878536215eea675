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
import sys

from .metrics_output import JsonlWriter as _Writer
from .metrics_output import add_common_options as _common
from .metrics_output import progress_label as _progress


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


# --- set metrics -------------------------------------------------------------------------------


def _run_set(args: argparse.Namespace) -> int:
    from ..metrics.manifest import score_set

    rows = score_set(
        args.metric, args.real, args.fake, weights=args.weights, weights_sha256=args.weights_sha256, mode=args.mode,
        device=args.device, batch_size=args.batch_size, num_workers=args.workers,
        progress=_progress(args, "images") is not False, group_by=getattr(args, "group_by", None),
        save_stats=getattr(args, "save_stats", None), subsets=getattr(args, "subsets", 100),
        subset_size=getattr(args, "subset_size", 1000), seed=getattr(args, "seed", 2020),
    )
    w = _Writer(args.out)
    for r in rows:
        w.write(r)
    w.close()
    for r in rows:
        value = r.get("value", r.get("mean"))
        extra = f" ± {r['std']:.6g}" if "std" in r else ""
        n = f"n_real={r.get('n_real')} n_fake={r.get('n_fake')}"
        group = f"[{args.group_by}={r[args.group_by]}] " if getattr(args, "group_by", None) else ""
        print(f"{group}{args.metric.upper()} = {value:.6g}{extra} ({n}, mode={args.mode})", file=sys.stderr)
    if getattr(args, "save_stats", None):
        print(f"real-set statistics saved to {args.save_stats}", file=sys.stderr)
    return 0


# --- per-image metrics -------------------------------------------------------------------------


def _run_per_image(args: argparse.Namespace) -> int:
    from ..metrics.manifest import score_manifest

    w = _Writer(args.out)
    try:
        res = score_manifest(
            args.metric, args.data, w.write, weights=getattr(args, "weights", None), device=args.device,
            batch_size=args.batch_size, num_workers=args.workers, progress=_progress(args, args.metric),
            data_range=getattr(args, "data_range", 255.0), preset=getattr(args, "preset", "wang"),
            net=getattr(args, "net", "alex"), scale=getattr(args, "scale", "2.5"),
        )
    finally:
        w.close()
    mean = f"{res.mean:.6g}" if res.mean is not None else "n/a"
    print(f"{args.metric}: mean {mean} over {res.n_ok} samples; {res.n_failed} failed", file=sys.stderr)
    if res.n_failed and not res.n_ok:
        from . import EXIT_ALL_FAILED

        print(f"judgekit: no sample could be scored (see the reasons in {args.out or 'the output'})", file=sys.stderr)
        return EXIT_ALL_FAILED
    return 0
