"""Memorization search at scale: 100,000 reference vectors x 10,000 queries, exact nearest
neighbour by cosine similarity. ``judgekit.metrics.nearest_neighbours`` (query batches x
reference blocks as torch matmuls with a running top-k) against the naive way in the same
process: one query at a time, a numpy matrix-vector product over the whole reference and an
argmax. The naive loop is timed on ``--naive-queries`` queries and scaled to all of them (it is
linear in the number of queries); both must find the same neighbours on those queries.

    .venv/bin/python bench/bench_nearest.py [--ref 100000 --queries 10000 --dim 512 --device cpu|cuda]
"""

from __future__ import annotations

import argparse
import time

import numpy as np
import torch

from judgekit.metrics import nearest_neighbours


def naive(queries: np.ndarray, ref_unit: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    idx, sim = np.empty(len(queries), np.int64), np.empty(len(queries), np.float32)
    for i, q in enumerate(queries):
        s = ref_unit @ (q / np.linalg.norm(q))
        idx[i] = int(np.argmax(s))
        sim[i] = s[idx[i]]
    return idx, sim


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--ref", type=int, default=100_000)
    ap.add_argument("--queries", type=int, default=10_000)
    ap.add_argument("--dim", type=int, default=512, help="512: CLIP ViT-B; 2048: Inception")
    ap.add_argument("--naive-queries", type=int, default=500)
    ap.add_argument("--device", default=None)
    ap.add_argument("--dtype", default="float32", choices=["float32", "float64"])
    args = ap.parse_args()
    rng = np.random.default_rng(0)
    ref = rng.standard_normal((args.ref, args.dim), dtype=np.float32)
    queries = rng.standard_normal((args.queries, args.dim), dtype=np.float32)
    queries[:50] = ref[rng.integers(0, args.ref, 50)] + 0.01  # a few near-copies, as memorized images
    device = args.device or ("cuda" if torch.cuda.is_available() else "cpu")
    print(f"reference {args.ref} x {args.dim}, {args.queries} queries, {args.dtype}, device {device}, "
          f"torch threads {torch.get_num_threads()}")  # fmt: skip

    nearest_neighbours(queries[:64], ref[:4096], device=device, dtype=args.dtype)  # warm-up
    if device.startswith("cuda"):
        torch.cuda.synchronize()
    t = time.perf_counter()
    res = nearest_neighbours(queries, ref, device=device, dtype=args.dtype)
    if device.startswith("cuda"):
        torch.cuda.synchronize()
    t_batched = time.perf_counter() - t

    ref_unit = ref / np.linalg.norm(ref, axis=1, keepdims=True)
    m = min(args.naive_queries, args.queries)
    t = time.perf_counter()
    n_idx, n_sim = naive(queries[:m], ref_unit)
    t_naive = (time.perf_counter() - t) * args.queries / m
    same = float((res.index[:m, 0].numpy() == n_idx).mean())
    err = float(np.abs(res.value[:m, 0].numpy() - n_sim).max())
    print(f"batched torch (judgekit): {t_batched:8.2f} s for {args.queries} queries "
          f"({args.queries / t_batched:,.0f} queries/s)")  # fmt: skip
    print(f"naive per-query numpy:    {t_naive:8.2f} s (timed on {m} queries, scaled)")
    print(f"ratio naive / batched:    {t_naive / t_batched:8.1f}x")
    print(f"agreement on {m} queries: same neighbour {same:.4f}, max |similarity diff| {err:.2e}")
    print(f"flagged at 0.95: {int(res.flagged(0.95).sum())} (50 near-copies planted)")


if __name__ == "__main__":
    main()
