"""judgekit on ``ray-vllm:`` (2 replicas on a local Ray) against one in-process ``vllm:`` engine,
on the tiny test VLM (tests/tiny_vlm.py) or a model you pass, and where the time goes.

Each backend judges a small and a large manifest; because each Ray Data job starts its engines,
time(n) = start-up + n x per-sample, so the two sizes separate the start-up from the steady state.
The ratio that matters at scale is the steady-state one.

    python bench/bench_ray_vllm.py [--model DIR] [--small 8] [--large 32] [--replicas 2]
    python bench/bench_ray_vllm.py --model /models/Qwen2.5-VL-7B-Instruct --gpu   # 1 GPU per replica
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
os.environ.setdefault("VLLM_CPU_KVCACHE_SPACE", "1")
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("VLLM_NO_USAGE_STATS", "1")

import judgekit as jk  # noqa: E402
from tests.fixtures_spine import make_manifest  # noqa: E402

TINY = {"dtype": "float32", "max_model_len": 4096, "enforce_eager": True, "limit_mm_per_prompt": {"image": 2}}


def timed(fn):
    t = time.perf_counter()
    out = fn()
    return time.perf_counter() - t, out


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--model", help="model directory (default: build the tiny test VLM)")
    ap.add_argument("--small", type=int, default=8)
    ap.add_argument("--large", type=int, default=32)
    ap.add_argument("--replicas", type=int, default=2)
    ap.add_argument("--gpu", action="store_true", help="one GPU per replica, engine defaults instead of the tiny ones")
    args = ap.parse_args()
    import ray

    from judgekit.backends import make_backend

    with tempfile.TemporaryDirectory() as d:
        tmp = Path(d)
        if args.model:
            model, opts = args.model, {}
        else:
            from tests.tiny_vlm import build

            model, opts = str(build(tmp / "tiny")), dict(TINY)
        small, large = make_manifest(tmp / "s", args.small), make_manifest(tmp / "l", args.large)
        n_calls = 3  # viescore-t2i: three dimensions per sample

        start_vllm, engine = timed(lambda: make_backend(f"vllm:{model}", **opts))
        v_small, _ = timed(lambda: jk.score("viescore-t2i", str(small), backend=engine, cache=False))
        v_large, _ = timed(lambda: jk.score("viescore-t2i", str(large), backend=engine, cache=False))
        engine.close()
        v_rate = (args.large - args.small) / (v_large - v_small)

        ray_up, _ = timed(lambda: ray.init(num_cpus=None if args.gpu else 2, include_dashboard=False, log_to_driver=False))
        ropts = {**opts, "replicas": args.replicas, "batch_size": 16}
        if args.gpu:
            ropts["tensor_parallel"] = 1
        rb = make_backend(f"ray-vllm:{model}", **ropts)
        r_small, _ = timed(lambda: jk.score("viescore-t2i", str(small), backend=rb, cache=False))
        r_large, res = timed(lambda: jk.score("viescore-t2i", str(large), backend=rb, cache=False))
        ray.shutdown()
        assert not res.failures, res.failures[0].error
        r_rate = (args.large - args.small) / (r_large - r_small)
        r_start = r_small - args.small / r_rate

        print(f"model {model}; {args.small} and {args.large} samples x {n_calls} calls; {os.cpu_count()} CPUs")
        print(f"[vllm:]     engine start {start_vllm:.1f} s; run {args.small}: {v_small:.1f} s, run {args.large}: "
              f"{v_large:.1f} s; steady {v_rate:.2f} samples/s")
        print(f"[ray-vllm:] ray.init {ray_up:.1f} s; run {args.small}: {r_small:.1f} s, run {args.large}: {r_large:.1f} s; "
              f"start-up per job ~{r_start:.1f} s (engines start inside each job); steady {r_rate:.2f} samples/s")
        print(f"ratio ray-vllm/vllm: steady state {r_rate / v_rate:.2f}x; whole {args.large}-sample run "
              f"{(start_vllm + v_large) / (ray_up + r_large):.2f}x (>1: ray-vllm faster)")


if __name__ == "__main__":
    main()
