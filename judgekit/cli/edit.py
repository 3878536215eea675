"""``judgekit edit``: editing benchmarks into manifests, and GEdit-style summaries of results.

    judgekit edit manifest gedit gedit_bench.jsonl --results outputs/ --out manifest.jsonl
    judgekit edit manifest imgedit basic_edit.json --origin-root images/ --results outputs/ --out m.jsonl
    judgekit edit manifest imagenhub results/ImagenHub_Text-Guided_IE --out m.jsonl
    judgekit edit summary judge.jsonl [--subset intersection] [--out summary.json]
    judgekit edit metrics manifest.jsonl --metrics psnr,ssim,lpips --lpips-backbone alexnet.pth --out m.jsonl
"""

from __future__ import annotations

import argparse
import sys


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "edit",
        help="image editing: benchmark manifests (GEdit-Bench, ImgEdit, ImagenHub) and GEdit-style summaries",
        description="Image-editing workflows. `manifest` turns a benchmark's metadata and a model's edits into a "
        "judgekit manifest; `summary` reports SC, PQ and O = sqrt(SC x PQ) per model, language and task type with "
        "bootstrap CIs and failure counts. See docs/editing.md.",
    )
    esub = p.add_subparsers(dest="edit_command", metavar="WHAT", required=True)

    m = esub.add_parser("manifest", help="write a manifest from an editing benchmark's files")
    m.add_argument("benchmark", choices=["gedit", "imgedit", "imagenhub"])
    m.add_argument("path", help="gedit: the dataset's Parquet/Arrow file or folder, or rows as JSON/JSONL; imgedit: basic_edit.json; "
                   "imagenhub: a task folder")
    m.add_argument("--results", help="gedit: RESULTS holding MODEL/fullset/TASK/LANG/KEY.png; imgedit: a folder of model folders")
    m.add_argument("--origin-root", help="imgedit: the original-images root")
    m.add_argument("--model", action="append", help="only these models (repeatable)")
    m.add_argument("--subset", choices=["fullset", "intersection"], default="fullset", help="gedit: the subset")
    m.add_argument("--out", required=True, help="manifest to write (JSONL)")
    m.set_defaults(func=run_manifest)

    x = esub.add_parser("metrics", help="reference-based metrics of edits (unedited-region PSNR/SSIM/LPIPS, CLIP direction)")
    x.add_argument("manifest", help="editing manifest (source_image, image; optional mask, reference_image, captions)")
    x.add_argument("--metrics", default="psnr,ssim", help="comma list of psnr, ssim, lpips, clip_direction (default psnr,ssim)")
    x.add_argument("--lpips-backbone", help="lpips: the torchvision AlexNet weights file (local; nothing is downloaded)")
    x.add_argument("--clip-model", help="clip_direction: a local CLIP model directory")
    x.add_argument("--device", help="cpu, cuda, ... (default: cuda when available)")
    x.add_argument("--out", required=True, help="records to write (JSONL; read by calibrate --baseline FILE:COLUMN)")
    x.set_defaults(func=run_metrics)

    s = esub.add_parser("summary", help="GEdit-style SC / PQ / O table of editing results")
    s.add_argument("results", help="a results file whose records carry groups.SC and groups.PQ")
    s.add_argument("--subset", choices=["intersection"], help="only records with meta.intersection true")
    s.add_argument("--bootstrap", type=int, default=1000, metavar="N", help="bootstrap draws (default 1000)")
    s.add_argument("--seed", type=int, default=0)
    s.add_argument("--level", type=float, default=0.95)
    s.add_argument("--out", help="also write the summary as JSON")
    s.set_defaults(func=run_summary)


def run_manifest(args: argparse.Namespace) -> int:
    from ..editing import write_manifest
    from ..errors import ConfigError, DataError

    if args.benchmark == "gedit":
        from ..datasets.gedit import load_gedit

        samples = load_gedit(args.path, args.results, args.model, args.subset)
    elif args.benchmark == "imgedit":
        from ..datasets.imgedit import load_imgedit

        if not args.origin_root:
            raise ConfigError("imgedit needs --origin-root (the folder the 'id' paths are relative to)")
        samples = load_imgedit(args.path, args.origin_root, args.results)
        if args.model:
            samples = [s for s in samples if s.model in args.model]
    else:
        from ..datasets.imagenhub_tasks import load_imagenhub_task

        samples = load_imagenhub_task(args.path, args.model)
    samples = list(samples)
    if not samples:  # an empty manifest would only fail later, as "no samples to judge"
        only = f" of model(s) {args.model}" if args.model else ""
        raise DataError(f"{args.path}: no {args.benchmark} samples{only} found; nothing written to {args.out}")
    n = write_manifest(samples, args.out)
    print(f"wrote {n} samples to {args.out}", file=sys.stderr)
    return 0


def run_summary(args: argparse.Namespace) -> int:
    from ..editing import summarize_edits

    s = summarize_edits(args.results, subset=args.subset, n_boot=args.bootstrap, seed=args.seed, level=args.level)
    print(s.table())
    if args.out:
        s.save(args.out)
        print(f"summary written to {args.out}", file=sys.stderr)
    return 0


def run_metrics(args: argparse.Namespace) -> int:
    from ..editing.metrics import edit_metrics, save_records
    from ..manifest import load_samples

    samples = load_samples(args.manifest)
    recs = edit_metrics(samples, [m.strip() for m in args.metrics.split(",") if m.strip()],
                        lpips_weights=args.lpips_backbone, clip_model=args.clip_model, device=args.device)
    save_records(recs, args.out)
    bad = sum(1 for r in recs if r.get("errors"))
    print(f"measured {len(recs)} samples ({bad} with a value missing, reasons in 'errors') into {args.out}", file=sys.stderr)
    return 0
