"""judgekit's ``ray-vllm:`` (``--replicas`` engines held by long-lived Ray actors on a local Ray)
against one in-process ``vllm:`` engine, on the tiny test VLM (tests/tiny_vlm.py) or a model you
pass: start-up (Ray, then the engines, once per run) apart from steady state (the engines judging).

The requests are a rubric's real ones (viescore-t2i on generated images), handed to the backend
one at a time as the runner does, so the backend batches them over its replicas. Steady state per
replica: the requests a replica answered over the engine time of its batches (each reply carries
its batch's engine time and its replica), against the in-process engine's requests over one
``generate`` call's time. The whole-run ratio counts everything: start-ups included. All ratios
are against the in-process engine measured in the same process. On a CPU machine the replicas
share the same cores, so per-replica rates fall as replicas are added; on a GPU node each
replica has its own GPU.

    python bench/bench_ray_vllm.py [--model DIR] [--samples 667] [--replicas 2]
    python bench/bench_ray_vllm.py --model /models/Qwen2.5-VL-7B-Instruct --gpu --replicas 8
"""

from __future__ import annotations

import argparse
import asyncio
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
    ap.add_argument("--samples", type=int, default=667, help="samples (x 3 requests each: 2,001 by default)")
    ap.add_argument("--replicas", type=int, default=2)
    ap.add_argument("--batch-size", type=int, default=256, help="requests per engine call in a replica")
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
        engine.start()
        engine.generate_sync(requests[:8])  # warm (counted with the start-up)
        v_start = time.perf_counter() - t
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
        rb.start()  # every replica's engine, started side by side, once for the run
        r_start = time.perf_counter() - t

        async def one_at_a_time():
            return await asyncio.gather(*(rb.generate([r]) for r in requests))

        t = time.perf_counter()
        out = [r[0] for r in asyncio.run(one_at_a_time())]
        r_run = time.perf_counter() - t
        engines = rb.engines_started
        asyncio.run(rb.aclose())
        ray.shutdown()
        assert all(r.error is None for r in out), next(r.error for r in out if r.error)
        same = sum(a.text == b.text for a, b in zip(out, ref))
        calls: dict[int, set] = defaultdict(set)
        answered: dict[int, int] = defaultdict(int)
        for r in out:
            calls[r.raw["replica"]].add((r.raw["replica_pid"], r.raw["batch_size"], r.latency_s))  # one per engine call
            answered[r.raw["replica"]] += 1
        v_rate = n / v_run
        print(f"model {model}; {n} requests ({args.samples} samples x 3); {os.cpu_count()} CPUs; "
              f"replies equal to vllm:'s: {same}/{n}; engines started: {engines} for {args.replicas} replicas")
        print(f"[vllm:]     engine start {v_start:.1f} s; {n} requests in one call {v_run:.2f} s = {v_rate:.1f} requests/s")
        print(f"[ray-vllm:] ray.init {ray_up:.1f} s; engines start {r_start:.1f} s (all replicas, once); "
              f"{n} requests {r_run:.2f} s = {n / r_run:.1f} requests/s over all replicas")
        for k in sorted(calls):
            busy = sum(lat for _, _, lat in calls[k])
            rate = answered[k] / busy
            print(f"  replica {k}: {answered[k]} requests in {len(calls[k])} engine calls, engine time {busy:.2f} s "
                  f"= {rate:.1f} requests/s steady = {rate / v_rate:.2f}x the in-process engine")
        print(f"ratio ray-vllm/vllm: all replicas together, steady {(n / r_run) / v_rate:.2f}x; whole run incl. "
              f"start-up {(v_start + v_run) / (ray_up + r_start + r_run):.2f}x (>1: ray-vllm faster)")

if __name__ == "__main__":
    main()
