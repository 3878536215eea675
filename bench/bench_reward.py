"""``jk.Reward`` throughput on in-memory images, on the tiny random-weight VLM in vLLM.

Same engine, same N images (numpy arrays in memory), the same verdict requests, three ways:

  loop    one ``LLM.chat`` call per image: the per-image reward loop of training code
  raw     one batched ``LLM.chat`` call with every request (the engine's best case)
  reward  ``jk.Reward(...)(images)``: samples built from the arrays (PNG encoding and hashing
          included), planned, batched through the runner, parsed, NaN for failures

Goals: reward at least 5x the loop's images/s; at most 1.1x the raw batched call's time.

    python bench/bench_reward.py [--n 256] [--repeats 5] [--max-tokens 48]
"""

from __future__ import annotations

import argparse
import math
import os
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
os.environ.setdefault("VLLM_CPU_KVCACHE_SPACE", "1")
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("VLLM_NO_USAGE_STATS", "1")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--n", type=int, default=256)
    ap.add_argument("--repeats", type=int, default=5, help="turns of raw and reward (the loop runs once)")
    ap.add_argument("--max-tokens", type=int, default=48, help="verdict length cap (the rubric's is 384)")
    ap.add_argument("--model", help="a model directory (default: build the tiny test VLM)")
    args = ap.parse_args()

    import numpy as np

    import judgekit as jk
    from judgekit.backends.local_model import to_chat_messages
    from judgekit.backends.vllm import VLLMBackend
    from judgekit.methods import make_method
    from tests.tiny_vlm import build

    rng = np.random.default_rng(0)
    images = [rng.integers(0, 256, (64, 64, 3), dtype=np.uint8) for _ in range(args.n)]
    rubric = jk.load_rubric("aesthetics-simple").model_copy(update={"max_tokens": args.max_tokens})
    # The requests the reward sends, built the same way, for the loop and the raw call.
    method = make_method(rubric, parse_retries=0)
    reqs = [c.request for i, im in enumerate(images) for c in method.plan(jk.Sample(id=str(i), image=im))]

    with tempfile.TemporaryDirectory() as tmp:
        model = args.model or str(build(Path(tmp) / "tiny-vlm"))
        backend = VLLMBackend(model, dtype="float32", max_model_len=2048, enforce_eager=True,
                              limit_mm_per_prompt={"image": 1})
        convs = [to_chat_messages(r) for r in reqs]
        params = [backend._sampling_params(r) for r in reqs]
        llm = backend.llm
        llm.chat(convs[:2], params[:2], use_tqdm=False)  # warm-up
        reward = jk.Reward(rubric, backend=backend, parse_retries=0)

        def loop():
            return [llm.chat([c], p, use_tqdm=False)[0].outputs[0].text for c, p in zip(convs, params)]

        def raw():
            return [o.outputs[0].text for o in llm.chat(convs, params, use_tqdm=False)]

        def judged():
            return reward(images)

        texts = raw()
        scores = judged()
        failed = int(np.isnan(scores).sum())
        times: dict[str, list[float]] = {"loop": [], "raw": [], "reward": []}
        t0 = time.perf_counter()
        loop()  # once: 10x slower than the others, its best-of would not change the verdict
        times["loop"].append(time.perf_counter() - t0)
        for _ in range(args.repeats):  # taking turns: a burst of load elsewhere hits both alike
            for name, fn in (("raw", raw), ("reward", judged)):
                t0 = time.perf_counter()
                fn()
                times[name].append(time.perf_counter() - t0)
        reward.close()
        backend.close()
    t = {k: min(v) for k, v in times.items()}
    n = args.n
    print(f"tiny VLM on the CPU vLLM build, N={n} in-memory 64x64 images, rubric aesthetics-simple "
          f"(max_tokens {args.max_tokens}); raw and reward best of {args.repeats}, loop once")
    print(f"  reward scores: {n - failed} numbers, {failed} NaN (random weights: malformed verdicts fail)")
    for name in ("loop", "raw", "reward"):
        print(f"  {name:7s} {t[name]:8.2f} s   {n / t[name]:7.1f} images/s")
    print(f"speedup reward vs per-image loop: {t['loop'] / t['reward']:.2f}x (goal >= 5x)")
    print(f"overhead reward vs raw batched LLM.chat: {t['reward'] / t['raw']:.3f}x (goal <= 1.1x)")
    assert len(texts) == len(reqs) and not math.isnan(t["reward"])


if __name__ == "__main__":  # vLLM spawns workers that re-import this file
    main()
