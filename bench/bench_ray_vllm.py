"""judgekit's ``ray-vllm:`` (``--replicas`` engines on a local Ray) against one in-process
``vllm:`` engine, on the tiny test VLM (tests/tiny_vlm.py) or a model you pass, and where the
time goes: start-up (Ray, then the engines inside each Ray Data job) against steady state (the
engines judging).

The requests are a rubric's real ones (viescore-t2i on generated images). The steady-state rate of
``ray-vllm:`` is the requests over the busiest replica's engine time (each reply carries its
batch's engine time and its replica's engine start-up time); the in-process rate is the requests
over one ``generate`` call's time. Both ratios are printed against the in-process engine measured
in the same process.

    python bench/bench_ray_vllm.py [--model DIR] [--samples 96] [--replicas 2]
    python bench/bench_ray_vllm.py --model /models/Qwen2.5-VL-7B-Instruct --gpu --replicas 8
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from collections import defaultdict
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
os.environ.setdefault("VLLM_CPU_KVCACHE_SPACE", "1")
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("VLLM_NO_USAGE_STATS", "1")

import judgekit as jk  # noqa: E402
from judgekit.methods import make_method  # noqa: E402
from tests.fixtures_spine import make_manifest  # noqa: E402

TINY = {"dtype": "float32", "max_model_len": 4096, "enforce_eager": True, "limit_mm_per_prompt": {"image": 2}}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--model", help="model directory (default: build the tiny test VLM)")
    ap.add_argument("--samples", type=int, default=96)
    ap.add_argument("--replicas", type=int, default=2)
    ap.add_argument("--batch-size", type=int, default=32, help="requests per engine call in a replica")
    ap.add_argument("--gpu", action="store_true", help="one GPU per replica, engine defaults instead of the tiny ones")
    args = ap.parse_args()
    try:
        import ray
    except ImportError:
        print("ray is not installed (pip install 'judgekit[ray]'): nothing to measure")
        return

    from judgekit.backends import make_backend

    with tempfile.TemporaryDirectory() as d:
        tmp = Path(d)
        if args.model:
            model, opts = args.model, {}
        else:
            from tests.tiny_vlm import build

            model, opts = str(build(tmp / "tiny")), dict(TINY)
        method = make_method(jk.load_rubric("viescore-t2i"))
        requests = [c.request for s in jk.load_samples(make_manifest(tmp, args.samples)) for c in method.plan(s)]
        n = len(requests)

        t = time.perf_counter()
        engine = make_backend(f"vllm:{model}", **opts, max_batch_size=n)
        v_start = time.perf_counter() - t
        engine.generate_sync(requests[:8])  # warm
        t = time.perf_counter()
        ref = engine.generate_sync(requests)
        v_run = time.perf_counter() - t
        engine.close()

        t = time.perf_counter()
        ray.init(num_cpus=None if args.gpu else 2, include_dashboard=False, log_to_driver=False)
        ray_up = time.perf_counter() - t
        ropts = {**opts, "replicas": args.replicas, "batch_size": args.batch_size}
        if args.gpu:
            ropts["tensor_parallel"] = 1
        rb = make_backend(f"ray-vllm:{model}", **ropts)
        t = time.perf_counter()
        out = rb.generate_sync(requests)
        job = time.perf_counter() - t
        ray.shutdown()
        assert all(r.error is None for r in out), next(r.error for r in out if r.error)
        same = sum(a.text == b.text for a, b in zip(out, ref))
        busy: dict[int, set] = defaultdict(set)
        starts = {}
        for r in out:
            pid = r.raw["replica_pid"]
            busy[pid].add((r.raw["batch_size"], r.latency_s))  # one entry per engine call
            starts[pid] = r.raw["engine_start_s"]
        engine_time = max(sum(lat for _, lat in calls) for calls in busy.values())
        v_rate, r_rate = n / v_run, n / engine_time

        print(f"model {model}; {n} requests ({args.samples} samples x 3); {os.cpu_count()} CPUs; "
              f"{len(busy)} replicas judged; replies equal to vllm:'s: {same}/{n}")
        print(f"[vllm:]     engine start {v_start:.1f} s; {n} requests in one call {v_run:.2f} s = {v_rate:.1f} requests/s")
        print(f"[ray-vllm:] ray.init {ray_up:.1f} s; job {job:.1f} s, of which engine start in the replicas "
              f"{max(starts.values()):.1f} s (max), busiest replica's engine time {engine_time:.2f} s = "
              f"{r_rate:.1f} requests/s steady; the rest of the job ({job - max(starts.values()) - engine_time:.1f} s) "
              f"is Ray: actor/worker start-up, scheduling, moving rows")
        print(f"ratio ray-vllm/vllm: steady state {r_rate / v_rate:.2f}x; whole job incl. start-up "
              f"{(v_start + v_run) / (ray_up + job):.2f}x (>1: ray-vllm faster)")


if __name__ == "__main__":
    main()
