"""Throughput of judgekit over 1, 2 and 4 OpenAI-compatible endpoints (``--base-url`` repeated),
as ratios against the one-endpoint run measured in the same process.

Each endpoint is a scripted server (tests/judge_server.py, its own process) that answers every
request in 100 ms; judgekit keeps at most 16 requests in flight per endpoint (``concurrency=16``),
so the ideal is 160 requests/s per endpoint.                     goal: >= 3.5x at 4 endpoints

On a small machine the client's own CPU per request caps the rate before the endpoints do (the
servers share the same cores): the bare ``AsyncOpenAI`` loop against a zero-latency server
measures that cap, as bench_openai_overhead.py does, so the two can be told apart.

    python bench/bench_endpoints.py [--seconds 4]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

import judgekit as jk  # noqa: E402
from bench.bench_openai_overhead import bare_loop, make_manifest, request_bodies, start_server  # noqa: E402

PER_ENDPOINT = 16
DELAY = 0.1


def judgekit_rate(urls: list[str], manifest: Path, n: int) -> tuple[float, list[dict], float]:
    """Requests/s, the per-endpoint counts, and the client's CPU seconds per request (this
    process only: the servers run in their own processes)."""
    t, cpu = time.perf_counter(), time.process_time()
    res = jk.score("aesthetics-simple", str(manifest), backend="openai:judge", base_url=urls,
                   concurrency=PER_ENDPOINT, cache=False, max_samples=n)
    elapsed, cpu = time.perf_counter() - t, time.process_time() - cpu
    assert len(res) == n and not res.failures, res.failures[0].error if res.failures else len(res)
    return n / elapsed, res.run_info.get("endpoints", []), cpu / n


async def bare_spread(urls: list[str], bodies: list[dict]) -> float:
    """The bare client's best over several endpoints: one AsyncOpenAI per endpoint, 16 in flight
    each, requests dealt round-robin. What the machine allows judgekit to reach."""
    import openai

    clients = [openai.AsyncOpenAI(base_url=u, api_key="x", max_retries=0) for u in urls]
    sems = [asyncio.Semaphore(PER_ENDPOINT) for _ in urls]

    async def one(i, body):
        k = i % len(urls)
        async with sems[k]:
            await clients[k].chat.completions.create(**body)

    t = time.perf_counter()
    await asyncio.gather(*(one(i, b) for i, b in enumerate(bodies)))
    elapsed = time.perf_counter() - t
    for c in clients:
        await c.close()
    return len(bodies) / elapsed


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--seconds", type=float, default=4.0, help="ideal duration of each run (sets its size)")
    args = ap.parse_args()
    procs = []
    try:
        servers = []
        for _ in range(4):
            proc, url = start_server(DELAY)
            procs.append(proc)
            servers.append(url)
        zero_proc, zero_url = start_server(0.0)
        procs.append(zero_proc)
        with tempfile.TemporaryDirectory() as d:
            n_max = int(4 * PER_ENDPOINT / DELAY * args.seconds)
            manifest = make_manifest(Path(d), n_max)
            bodies = request_bodies(manifest, "aesthetics-simple")
            asyncio.run(bare_loop(zero_url, bodies[:64], 64))  # warm up
            judgekit_rate(servers[:1], manifest, 64)
            # The machine's cap: the bare client with no server latency at all.
            cap_n = min(len(bodies), 2000)
            cap = cap_n / asyncio.run(bare_loop(zero_url, bodies[:cap_n], 4 * PER_ENDPOINT))
            print(f"[client cap] bare AsyncOpenAI, zero-latency server, 64 in flight: {cap:.0f} requests/s "
                  f"({os.cpu_count()} CPUs on this machine, shared with the servers)")
            rates = {}
            for k in (1, 2, 4):
                n = int(k * PER_ENDPOINT / DELAY * args.seconds)
                rate, counts, cpu = judgekit_rate(servers[:k], manifest, n)
                rates[k] = rate
                ideal = k * PER_ENDPOINT / DELAY
                spread = ", ".join(str(c["served"]) for c in counts) or str(n)
                print(f"[{k} endpoint{'s' if k > 1 else ''}] {n} requests: {rate:.0f} requests/s = {rate / ideal:.2f} "
                      f"of the ideal {ideal:.0f}/s, {rate / rates[1]:.2f}x one endpoint; client CPU {1000 * cpu:.2f} ms/request; "
                      f"served per endpoint: {spread}")
            n4 = int(4 * PER_ENDPOINT / DELAY * args.seconds)
            bare4 = asyncio.run(bare_spread(servers, bodies[:n4]))
            print(f"[bare, 4 endpoints] AsyncOpenAI dealing {n4} requests round-robin: {bare4:.0f} requests/s "
                  f"= {bare4 / 640:.2f} of the ideal; judgekit/bare at 4 endpoints = {rates[4] / bare4:.2f}")
            print(f"ratio 4 endpoints / 1 = {rates[4] / rates[1]:.2f}  (goal >= 3.5; on this machine the bare "
                  f"client at 4 endpoints reaches {bare4 / rates[1]:.2f}x judgekit's one-endpoint rate)")
    finally:
        for p in procs:
            p.kill()


if __name__ == "__main__":
    os.environ.setdefault("PYTHONPATH", str(REPO))
    main()
