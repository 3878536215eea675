"""``judgekit metrics diversity|prdc|nearest``: diversity across seeds, distribution-level
precision/recall/density/coverage, and the memorization search.

    judgekit metrics diversity --data manifest.jsonl --features clip --weights CLIP_DIR [--lpips] --out div.jsonl
    judgekit metrics prdc --real REAL_DIR|feats.npy --fake GEN_DIR|manifest.jsonl [--k 5] [--group-by model]
    judgekit metrics prdc --real real.npy --fake manifest.jsonl --feature-file gen.npy --group-by model
    judgekit metrics nearest --data manifest.jsonl --reference TRAIN_DIR|feats.npy --threshold 0.95 --out nn.jsonl

Features come from a local extractor (``--features inception|clip`` with ``--weights``) or from
a ``.npy``/``.npz`` file of precomputed features (one row per image, in manifest or folder
order). ``diversity`` writes one JSONL line per (model, prompt), ``nearest`` one per image
(``sample_id`` and ``score``, the similarity, as ``calibrate --baseline`` reads), ``prdc``
one JSON object per group. A file that cannot be read is recorded on its row, never dropped.
"""

from __future__ import annotations

import argparse
import json
import math
import sys
from pathlib import Path
from typing import Any

import numpy as np

from ..errors import ConfigError, DataError
from .metrics_features import (
    extractor_for,
    is_feature_file,
    manifest_features,
    set_features,
)


def _user_errors(fn: Any) -> Any:
    """The metric functions raise ValueError for bad input (too few samples for k, zero
    vectors, mismatched dimensions): on the command line that is one line, not a traceback."""
    import functools

    @functools.wraps(fn)
    def wrapped(args: argparse.Namespace) -> int:
        try:
            return fn(args)
        except ValueError as exc:
            raise DataError(f"metrics {args.metric}: {exc}") from exc

    return wrapped


def _options(q: argparse.ArgumentParser, default_features: str) -> None:
    q.add_argument(
        "--features",
        choices=["inception", "clip"],
        default=default_features,
        help=f"feature space for image inputs (default {default_features}); .npy/.npz inputs are features already",
    )
    q.add_argument(
        "--weights",
        metavar="PATH",
        help="inception: TF-Inception weights file; clip: a local CLIP model directory",
    )
    q.add_argument(
        "--weights-sha256", metavar="HEX", help="expected SHA-256 of non-official Inception weights"
    )
    q.add_argument("--mode", choices=["tf-legacy", "clean"], default="tf-legacy", help="Inception resize")


def register_into(ms: argparse._SubParsersAction) -> None:
    """Add the three subcommands to ``judgekit metrics``."""
    from .metrics_output import add_common_options as _common

    q = ms.add_parser("diversity", help="per-prompt diversity across seeds: Vendi, pairwise CLIP/LPIPS distance",
                      description="Diversity of each model's images of one prompt (across seeds), averaged per "
                      "model with bootstrap CIs over prompts. See docs/diversity.md.")  # fmt: skip
    q.add_argument(
        "--data", required=True, metavar="MANIFEST.jsonl", help="samples with 'image', 'prompt_id', 'model'"
    )
    _options(q, "clip")
    q.add_argument(
        "--feature-file", metavar="FEATS.npy", help="precomputed features, one row per manifest line"
    )
    q.add_argument("--kernel", choices=["cosine", "rbf"], default="cosine", help="Vendi similarity kernel")
    q.add_argument(
        "--lpips", action="store_true", help="also the mean pairwise LPIPS distance (reads the pixels)"
    )
    q.add_argument("--lpips-net", choices=["alex", "vgg"], default="alex")
    q.add_argument("--lpips-weights", metavar="PATH", help="torchvision AlexNet/VGG16 weights for LPIPS")
    q.add_argument("--summary", metavar="PATH.json", help="write the per-model means with CIs here too")
    q.add_argument("--n-boot", type=int, default=2000)
    _common(q)
    q.set_defaults(func=run_diversity)

    q = ms.add_parser("prdc", help="precision, recall, density, coverage against a reference set",
                      description="Improved precision/recall (Kynkäänniemi 2019) and density/coverage "
                      "(Naeem 2020) of generated images against real ones, on k-NN balls.")  # fmt: skip
    q.add_argument("--real", required=True, metavar="DIR|MANIFEST|FEATS.npy")
    q.add_argument("--fake", required=True, metavar="DIR|MANIFEST|FEATS.npy")
    q.add_argument("--k", type=int, default=5, help="neighbourhood size (default 5, as in both papers)")
    q.add_argument(
        "--group-by", metavar="FIELD", help="with a manifest --fake: one result per value (model, ...)"
    )
    q.add_argument(
        "--feature-file", metavar="FEATS.npy",
        help="precomputed features of the --fake manifest, one row per manifest line (groups by --group-by)",
    )
    _options(q, "inception")
    _common(q)
    q.set_defaults(func=run_prdc, batch_size=50)

    q = ms.add_parser("nearest", help="memorization: each image's nearest neighbour in a reference set",
                      description="Exact nearest-neighbour search of each generated image in a reference "
                      "(e.g. training) set; flags pairs closer than --threshold.")  # fmt: skip
    q.add_argument("--data", required=True, metavar="MANIFEST.jsonl", help="the generated images")
    q.add_argument("--reference", required=True, metavar="DIR|MANIFEST|FEATS.npy")
    q.add_argument(
        "--feature-file", metavar="FEATS.npy", help="precomputed features of --data, one row per line"
    )
    _options(q, "clip")
    q.add_argument("--metric", choices=["cosine", "l2"], default="cosine")
    q.add_argument("--threshold", type=float, help="flag at cosine similarity >= T (default 0.95) or L2 <= T")
    _common(q)
    q.set_defaults(func=run_nearest)


# --- features ----------------------------------------------------------------------------------


def _jsonable(v: Any) -> Any:
    if isinstance(v, float) and not math.isfinite(v):
        return None
    if isinstance(v, dict):
        return {k: _jsonable(x) for k, x in v.items()}
    return v


# --- diversity ---------------------------------------------------------------------------------


def _group_lpips(
    items: list[Any], idx: list[int], args: argparse.Namespace, device: str
) -> tuple[Any, str | None]:
    import torch

    from ..metrics._diversity import mean_pairwise_lpips
    from ..metrics.extractors import to_chw_uint8
    from ..metrics.images import read_rgb

    try:
        imgs = [to_chw_uint8(read_rgb(items[i].image)) for i in idx]
    except DataError as exc:
        return None, str(exc)
    if len({tuple(t.shape) for t in imgs}) > 1:
        return None, "images of this prompt differ in size: LPIPS compares equal-size images"
    val = mean_pairwise_lpips(
        torch.stack(imgs), net=args.lpips_net, weights=args.lpips_weights, device=device
    )
    return val, None


@_user_errors
def run_diversity(args: argparse.Namespace) -> int:
    from ..metrics._deps import resolve_device
    from ..metrics._diversity import DIVERSITY_FIELDS, diversity_summary, per_prompt_diversity
    from .metrics_output import JsonlWriter as _Writer

    device = resolve_device(args.device)
    items, feats, errors = manifest_features(args, lambda: extractor_for(args, device))
    by_group: dict[tuple[Any, Any], list[int]] = {}
    for i, it in enumerate(items):
        by_group.setdefault(
            (it.sample.model, it.sample.prompt_id or it.sample.prompt or it.sample.id), []
        ).append(i)
    space = "file:" + str(args.feature_file) if args.feature_file else args.features
    rows = []
    for (model, pid), idx in by_group.items():
        good = [i for i in idx if i not in errors]
        base = per_prompt_diversity(np.stack([feats[i] for i in good]), [pid] * len(good), [model] * len(good),
                                    kernel=args.kernel)[0] if good else {"model": model, "prompt_id": pid}  # fmt: skip
        row = {"model": model, "prompt_id": pid, "metric": "diversity", "n_images": len(good), **base}
        row["features"] = space
        if args.lpips:
            row["lpips_distance"], lerr = (
                _group_lpips(items, good, args, device) if len(good) > 1 else (None, None)
            )
            if lerr:
                row["lpips_error"] = lerr
        if any(i in errors for i in idx):
            row["failed_samples"] = {items[i].sample.id: errors[i] for i in idx if i in errors}
        row["score"] = row.get("vendi")
        row["status"] = "ok" if row.get("vendi") is not None else "failed"
        if row["status"] == "failed" and "error" not in row:
            row["error"] = row.pop("note", None) or "fewer than 2 readable images"
        rows.append(row)
    w = _Writer(args.out)
    for r in rows:
        w.write(_jsonable(r))
    w.close()
    fields = [f for f in DIVERSITY_FIELDS if f != "lpips_distance" or args.lpips]
    summary = diversity_summary(rows, fields, n_boot=args.n_boot)
    if args.summary:
        Path(args.summary).write_text(json.dumps(_jsonable(summary), indent=2) + "\n")
    for model, s in summary.items():
        parts = []
        for f in fields:
            v = s.get(f) or {}
            if v.get("value") is not None:
                ci = f" [{v['ci_low']:.4g}, {v['ci_high']:.4g}]" if v.get("ci_low") is not None else ""
                parts.append(f"{f} {v['value']:.4g}{ci}")
        print(f"{model}: {s['n_prompts']} prompts; " + "; ".join(parts), file=sys.stderr)
    if errors:
        print(f"{len(errors)} images could not be read (listed under failed_samples)", file=sys.stderr)
    return 0


# --- prdc --------------------------------------------------------------------------------------


@_user_errors
def run_prdc(args: argparse.Namespace) -> int:
    from .. import metrics as jm
    from ..metrics._deps import resolve_device
    from .metrics_output import JsonlWriter as _Writer

    device = resolve_device(args.device)
    cache: list[Any] = []

    def ext() -> Any:  # built once, only when some input is images
        if not cache:
            cache.append(extractor_for(args, device))
        return cache[0]

    real, _ = set_features(ext, args.real, args)
    if args.feature_file:  # the manifest names the samples (and their groups), the file holds their rows
        if not str(args.fake).endswith(".jsonl"):
            raise ConfigError("--feature-file gives the features of a --fake manifest (.jsonl), one row per line")
        items, rows, _ = manifest_features(argparse.Namespace(data=args.fake, feature_file=args.feature_file),
                                           ext)  # fmt: skip
        fake, samples = np.stack(rows), [it.sample for it in items]
    else:
        fake, samples = set_features(ext, args.fake, args)
    groups: dict[Any, list[int]] = {None: list(range(fake.shape[0]))}
    if args.group_by:
        if not samples:
            raise ConfigError("--group-by needs --fake to be a .jsonl manifest")
        groups = {}
        for i, s in enumerate(samples):
            key = (
                getattr(s, args.group_by, None)
                if args.group_by in type(s).model_fields
                else s.meta.get(args.group_by)
            )
            if key is None:
                raise DataError(f"{args.fake}: sample {s.id!r} has no {args.group_by!r} to group by")
            groups.setdefault(key, []).append(i)
    space = cache[0].name if cache else ("file:" + str(args.feature_file) if args.feature_file else "features file")
    w = _Writer(args.out)
    for key, idx in groups.items():
        r = jm.prdc(real, fake[idx], k=args.k, device=device)
        row = {"metric": "prdc", **({args.group_by: key} if args.group_by else {}), **r, "features": space,
               "real": str(args.real), "fake": str(args.fake)}  # fmt: skip
        w.write(row)
        label = f"[{args.group_by}={key}] " if args.group_by else ""
        print(f"{label}precision {r['precision']:.4f} recall {r['recall']:.4f} density {r['density']:.4f} "
              f"coverage {r['coverage']:.4f} (k={args.k}, n_real={r['n_real']}, n_fake={r['n_fake']})",
              file=sys.stderr)  # fmt: skip
    w.close()
    return 0


# --- nearest -----------------------------------------------------------------------------------


@_user_errors
def run_nearest(args: argparse.Namespace) -> int:
    from .. import metrics as jm
    from ..metrics._deps import resolve_device
    from .metrics_output import JsonlWriter as _Writer

    device = resolve_device(args.device)
    cache: list[Any] = []

    def ext() -> Any:
        if not cache:
            cache.append(extractor_for(args, device))
        return cache[0]

    ref, ref_samples = set_features(ext, args.reference, args)
    ref_names: list[str | None]
    if ref_samples:
        ref_names = [s.id for s in ref_samples]
    elif is_feature_file(args.reference):
        ref_names = [None] * ref.shape[0]
    else:
        from ..metrics._sets import image_paths

        ref_names = [str(p) for p in image_paths(args.reference)[0]]
    items, feats, errors = manifest_features(args, ext)  # the same extractor serves the queries
    ok = [i for i in range(len(items)) if i not in errors]
    threshold = args.threshold
    if threshold is None and args.metric == "l2":
        raise ConfigError("--metric l2 needs --threshold (a distance in the feature space)")
    found = (jm.memorization(np.stack([feats[i] for i in ok]), ref, threshold=threshold, metric=args.metric,
                             device=device) if ok else [])  # fmt: skip
    key = "similarity" if args.metric == "cosine" else "distance"
    w = _Writer(args.out)
    flagged = []
    res = dict(zip(ok, found, strict=True))
    for i, it in enumerate(items):
        s = it.sample
        row: dict[str, Any] = {
            "sample_id": s.id,
            "prompt_id": s.prompt_id,
            "model": s.model,
            "metric": "nearest",
        }
        if i in errors:
            row.update(score=None, status="failed", error=errors[i])
        else:
            r = res[i]
            name = ref_names[r["nearest"]]
            row.update(
                score=r[key], status="ok", nearest_index=r["nearest"], nearest=name, flagged=r["flagged"]
            )
            row[key] = r[key]
            if r["flagged"]:
                flagged.append((s.id, name if name is not None else r["nearest"], r[key]))
        w.write(row)
    w.close()
    t = threshold if threshold is not None else 0.95
    print(f"nearest: {len(ok)} images searched against {ref.shape[0]} references; {len(flagged)} flagged "
          f"({key} {'>=' if args.metric == 'cosine' else '<='} {t}); {len(errors)} failed", file=sys.stderr)  # fmt: skip
    for sid, name, v in flagged:
        print(f"  FLAGGED {sid} ~ {name} ({key} {v:.4f})", file=sys.stderr)
    return 0
