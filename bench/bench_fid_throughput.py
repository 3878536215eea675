"""Feature-extraction throughput (images/s) of our FID pipeline against torchmetrics'
``FrechetInceptionDistance.update`` on the same images and device, measured in one process.

Both use a TF-Inception with the same weights: the real file when ``--weights`` is given,
otherwise a seeded random-weight file (the FID values are then meaningless, the timings are not).
torchmetrics runs with ``antialias=False`` so that both resize alike (TF1 bilinear).

* files:  ours = ``FID.add_images(folder)`` (decode + resize in worker processes);
          torchmetrics = a PIL loop in the main process + ``update`` per batch (its usual use).
* memory: a uint8 tensor already in memory, ``update`` on both sides (model + resize only).

    .venv/bin/python bench/bench_fid_throughput.py [--device cuda] [--n 64] [--size 256] [--batch 32]
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import torch
from PIL import Image

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # the tests' fixtures


def make_images(folder: Path, n: int, size: int) -> np.ndarray:
    rs = np.random.RandomState(0)
    arr = rs.randint(0, 256, (n, size, size, 3), dtype=np.uint8)
    folder.mkdir(parents=True, exist_ok=True)
    for i, a in enumerate(arr):
        Image.fromarray(a).save(folder / f"{i:05d}.png")
    return arr


def sync(device: str) -> None:
    if device.startswith("cuda"):
        torch.cuda.synchronize()


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    ap.add_argument("--n", type=int, default=64)
    ap.add_argument("--size", type=int, default=256)
    ap.add_argument("--batch", type=int, default=32)
    ap.add_argument("--workers", type=int, default=None)
    ap.add_argument("--weights", help="the real TF-Inception file (default: random weights)")
    ap.add_argument("--repeats", type=int, default=2)
    args = ap.parse_args()

    from torchmetrics.image.fid import FrechetInceptionDistance

    from judgekit.metrics import FID
    from judgekit.metrics.extractors import INCEPTION_SHA256
    from judgekit.metrics.loading import default_workers
    from tests.fixtures_metrics import write_random_inception_weights

    tmp = Path(tempfile.mkdtemp(prefix="bench-fid-"))
    if args.weights:
        weights, sha = args.weights, INCEPTION_SHA256
    else:
        weights = str(tmp / "random-inception.pth")
        sha = write_random_inception_weights(weights, seed=0)
    arr = make_images(tmp / "imgs", args.n, args.size)
    files = sorted((tmp / "imgs").glob("*.png"))
    workers = default_workers() if args.workers is None else args.workers
    dev = args.device
    print(f"device={dev} n={args.n} size={args.size} batch={args.batch} workers={workers} "
          f"cpus={os.cpu_count()} torch={torch.__version__} weights={'real' if args.weights else 'random'}")  # fmt: skip

    ours = FID(weights=weights, sha256=sha, device=dev)
    theirs = FrechetInceptionDistance(
        feature=2048, feature_extractor_weights_path=weights, antialias=False
    ).to(dev)
    torch.backends.cudnn.allow_tf32 = False  # same numerics on both sides
    torch.backends.cuda.matmul.allow_tf32 = False

    # warm-up (cuDNN autotuning, lazy init)
    warm = torch.from_numpy(arr[: min(4, args.n)]).permute(0, 3, 1, 2).contiguous()
    ours.update(warm.to(dev), real=True)
    theirs.update(warm.to(dev), real=True)
    sync(dev)

    def run_ours_files() -> None:
        ours.add_images(files, real=False, batch_size=args.batch, num_workers=workers)

    def run_theirs_files() -> None:
        for i in range(0, len(files), args.batch):
            batch = [np.asarray(Image.open(f).convert("RGB")) for f in files[i : i + args.batch]]
            t = torch.from_numpy(np.stack(batch)).permute(0, 3, 1, 2).to(dev)
            theirs.update(t, real=False)

    mem = torch.from_numpy(arr).permute(0, 3, 1, 2).contiguous()

    def run_ours_mem() -> None:
        for i in range(0, len(mem), args.batch):
            ours.update(mem[i : i + args.batch].to(dev), real=False)

    def run_theirs_mem() -> None:
        for i in range(0, len(mem), args.batch):
            theirs.update(mem[i : i + args.batch].to(dev), real=False)

    # alternate the two sides and keep each one's best of ``--repeats`` runs, so a change in
    # machine load during the run does not favour whichever side ran last
    res: dict[str, float] = {}
    pairs = (("ours files", run_ours_files), ("torchmetrics files", run_theirs_files),
             ("ours memory", run_ours_mem), ("torchmetrics memory", run_theirs_mem))  # fmt: skip
    for _ in range(args.repeats):
        for name, fn in pairs:
            sync(dev)
            t = time.perf_counter()
            fn()
            sync(dev)
            res[name] = max(res.get(name, 0.0), args.n / (time.perf_counter() - t))
    for name, _ in pairs:
        print(f"{name:22s} {res[name]:9.1f} images/s (best of {args.repeats})")
    print(f"ratio files  (ours / torchmetrics): {res['ours files'] / res['torchmetrics files']:.2f}")
    print(f"ratio memory (ours / torchmetrics): {res['ours memory'] / res['torchmetrics memory']:.2f}")

    # the same images give the same features on both sides
    x = mem[:4].to(dev)
    with torch.inference_mode():
        a = ours.extractor(x).float().cpu()
        b = theirs.inception(x).float().cpu()
    print(
        f"max |feature difference| ours vs torchmetrics: {(a - b).abs().max().item():.3g} (scale {b.abs().max().item():.3g})"
    )


if __name__ == "__main__":
    main()
