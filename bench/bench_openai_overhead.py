"""judgekit's cost per judgment over an OpenAI-compatible server, as ratios against baselines
measured in the same run (absolute times drift on shared machines; ratios do not).

1. Overhead: judgekit (rubric -> prompts -> backend -> parse -> cache off -> results file)
   against a bare ``AsyncOpenAI`` loop sending the same requests at the same concurrency, both
   against a zero-latency local server.                                  goal: ratio <= 1.5
2. Throughput at concurrency 64 against a server that answers in 100 ms, as a fraction of the
   ideal 640 requests/s.                                                  goal: >= 0.9
3. Peak resident memory of a 100,000-sample manifest streamed through the runner (in a child
   process, with an in-process zero-latency backend so it finishes in seconds). goal: < 1 GB

    python bench/bench_openai_overhead.py [--n 2000] [--mem-samples 100000]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import resource
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

import judgekit as jk  # noqa: E402
from judgekit.backends.openai import message_to_openai  # noqa: E402
from judgekit.methods import make_method  # noqa: E402
from tests.fixtures_spine import write_png  # noqa: E402


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_server(delay: float) -> tuple[subprocess.Popen, str]:
    # The server runs in its own process so it does not share the client's GIL.
    port = free_port()
    proc = subprocess.Popen([sys.executable, "-m", "tests.judge_server", str(port), str(delay)], cwd=REPO, stdout=subprocess.PIPE, text=True)
    line = proc.stdout.readline()
    assert line.startswith("ready"), line
    return proc, f"http://127.0.0.1:{port}/v1"


def make_manifest(tmp: Path, n: int, n_images: int = 16) -> Path:
    for i in range(n_images):
        write_png(tmp / "img" / f"{i}.png", seed=i, size=64)
    with (tmp / "m.jsonl").open("w") as fh:
        for i in range(n):
            fh.write(json.dumps({"id": f"s{i}", "prompt": f"prompt {i}", "image": f"img/{i % n_images}.png", "model": "m"}) + "\n")
    return tmp / "m.jsonl"


async def bare_loop(url: str, bodies: list[dict], concurrency: int) -> float:
    import openai

    client = openai.AsyncOpenAI(base_url=url, api_key="x", max_retries=0)
    sem = asyncio.Semaphore(concurrency)

    async def one(body):
        async with sem:
            r = await client.chat.completions.create(**body)
            json.loads(r.choices[0].message.content)

    t = time.perf_counter()
    await asyncio.gather(*(one(b) for b in bodies))
    elapsed = time.perf_counter() - t
    await client.close()
    return elapsed


def request_bodies(manifest: Path, rubric: str) -> list[dict]:
    method = make_method(jk.load_rubric(rubric))
    bodies = []
    for s in jk.load_samples(manifest):
        for call in method.plan(s):
            r = call.request
            bodies.append(
                {
                    "model": "judge",
                    "messages": [message_to_openai(m) for m in r.messages],
                    "max_tokens": r.max_tokens,
                    "temperature": 0.0,
                    "seed": 0,
                    "response_format": {"type": "json_schema", "json_schema": {"name": "verdict", "schema": r.json_schema, "strict": True}},
                }
            )
    return bodies


def judgekit_run(url: str, manifest: Path, concurrency: int, out: Path) -> float:
    t = time.perf_counter()
    res = jk.score("aesthetics-simple", str(manifest), backend="openai:judge", base_url=url, concurrency=concurrency, cache=False, out=out)
    elapsed = time.perf_counter() - t
    assert not res.failures, res.failures[0].error
    return elapsed


def memory_child(n: int) -> None:
    """Runs in a child process: stream n samples through the runner with an instant backend."""
    from judgekit.types import ChatResponse

    class Instant:
        spec, max_batch_size, supports_logprobs = "instant:x", 64, False

        async def generate(self, reqs):
            return [ChatResponse(text='{"reasoning": "ok", "score": 3}') for _ in reqs]

        async def aclose(self):
            pass

        def describe(self):
            return {"spec": self.spec}

    with tempfile.TemporaryDirectory() as d:
        m = make_manifest(Path(d), n)
        t = time.perf_counter()
        res = jk.score("aesthetics-simple", str(m), backend=Instant(), cache=False, out=Path(d) / "r.jsonl")
        assert len(res) == n
        print(json.dumps({"seconds": time.perf_counter() - t, "maxrss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--n", type=int, default=2000, help="requests for the overhead comparison")
    ap.add_argument("--concurrency", type=int, default=16)
    ap.add_argument("--mem-samples", type=int, default=100_000)
    ap.add_argument("--memory-child", type=int, help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.memory_child:
        memory_child(args.memory_child)
        return

    with tempfile.TemporaryDirectory() as d:
        tmp = Path(d)
        manifest = make_manifest(tmp, args.n)
        bodies = request_bodies(manifest, "aesthetics-simple")

        proc, url = start_server(0.0)
        try:
            asyncio.run(bare_loop(url, bodies[:50], args.concurrency))  # warm both paths
            judgekit_run(url, make_manifest(tmp / "warm", 50), args.concurrency, tmp / "w.jsonl")
            bare, ours = [], []
            for _ in range(3):  # interleaved, best of 3
                bare.append(asyncio.run(bare_loop(url, bodies, args.concurrency)))
                ours.append(judgekit_run(url, manifest, args.concurrency, tmp / "r.jsonl"))
        finally:
            proc.kill()
        b, o = min(bare), min(ours)
        print(f"[overhead] {args.n} requests at concurrency {args.concurrency}, zero-latency server:")
        print(f"  bare AsyncOpenAI {b:.2f} s ({1e3 * b / args.n:.2f} ms/req), judgekit {o:.2f} s ({1e3 * o / args.n:.2f} ms/req)")
        print(f"  ratio judgekit/bare = {o / b:.2f}  (goal <= 1.5)")

        n_tp = 1280
        tp_manifest = make_manifest(tmp / "tp", n_tp)
        tp_bodies = request_bodies(tp_manifest, "aesthetics-simple")
        proc, url = start_server(0.1)
        try:
            bare_elapsed = asyncio.run(bare_loop(url, tp_bodies, 64))
            elapsed = judgekit_run(url, tp_manifest, 64, tmp / "tp.jsonl")
        finally:
            proc.kill()
        rate, bare_rate = n_tp / elapsed, n_tp / bare_elapsed
        print(f"[throughput] {n_tp} requests at concurrency 64, server answers in 100 ms:")
        print(f"  judgekit {rate:.0f} requests/s = {rate / 640:.2f} of the ideal 640/s  (goal >= 0.9)")
        # On a small machine the client's own CPU per request caps the rate before the server does:
        # the bare loop shows that cap, so the two lines separate judgekit's cost from the machine's.
        print(f"  bare AsyncOpenAI {bare_rate:.0f} requests/s = {bare_rate / 640:.2f} of the ideal; judgekit/bare = {rate / bare_rate:.2f}")

    out = subprocess.run(
        [sys.executable, __file__, "--memory-child", str(args.mem_samples)], capture_output=True, text=True, check=True, cwd=REPO
    )
    mem = json.loads(out.stdout.strip().splitlines()[-1])
    print(f"[memory] {args.mem_samples} samples streamed in {mem['seconds']:.1f} s; peak RSS {mem['maxrss_mb']:.0f} MB  (goal < 1024 MB)")


if __name__ == "__main__":
    os.environ.setdefault("PYTHONPATH", str(REPO))
    main()
