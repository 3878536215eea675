"""judgekit's ``vllm:`` backend against plain ``vllm.LLM.chat`` on the tiny random-weight VLM.

Same engine, same N verdict requests (an image each, JSON schema, greedy), three ways:

  loop    one ``LLM.chat`` call per request: the per-item loop of research code
  raw     one batched ``LLM.chat`` call with every request (the engine's best case)
  judgekit  ``VLLMBackend.generate`` on the whole batch (PNG decoding, checks, logprobs
          mapping and the worker thread included)

Goals: judgekit at least 5x faster than the loop; at most 1.1x the raw batched call. Also the
peak resident memory of this process and of the engine's processes.

    python bench/bench_vllm_batching.py [--n 64] [--repeats 5]
"""

from __future__ import annotations

import argparse
import asyncio
import io
import os
import sys
import tempfile
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
os.environ.setdefault("VLLM_CPU_KVCACHE_SPACE", "1")
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("VLLM_NO_USAGE_STATS", "1")


class PeakRSS:
    """Samples the resident memory of this process and of its children (the engine)."""

    def __init__(self, every: float = 0.05):
        import psutil

        self.me = psutil.Process()
        self.every, self.peak_self, self.peak_tree = every, 0, 0
        self._stop = threading.Event()
        self._t = threading.Thread(target=self._run, daemon=True)
        self._t.start()

    def _run(self):
        while not self._stop.is_set():
            try:
                own = self.me.memory_info().rss
                kids = sum(c.memory_info().rss for c in self.me.children(recursive=True))
                self.peak_self = max(self.peak_self, own)
                self.peak_tree = max(self.peak_tree, own + kids)
            except Exception:  # noqa: BLE001 - a child may exit between listing and reading
                pass
            time.sleep(self.every)

    def stop(self):
        self._stop.set()
        self._t.join()


def requests(n: int):
    import numpy as np
    from PIL import Image

    from judgekit.types import ChatRequest, ImagePart, Message, TextPart

    schema = {"type": "object", "properties": {"reasoning": {"type": "string"},
                                               "score": {"type": "integer", "minimum": 0, "maximum": 10}},
              "required": ["reasoning", "score"], "additionalProperties": False}
    rng = np.random.default_rng(0)
    out = []
    for i in range(n):
        buf = io.BytesIO()
        Image.fromarray(rng.integers(0, 256, (64, 64, 3), dtype=np.uint8)).save(buf, "PNG")
        out.append(ChatRequest(
            messages=(Message("system", (TextPart("You judge images. Reply with JSON."),)),
                      Message("user", (ImagePart(buf.getvalue()),
                                       TextPart(f"Prompt {i}: a red cat on a table. Rate it 0-10.")))),
            json_schema=schema, max_tokens=64))
    return out


def best_interleaved(fns: dict, repeats: int) -> dict[str, float]:
    """Best time of each way, the ways taking turns so that a burst of load elsewhere on the
    machine hits all of them alike."""
    times: dict[str, list[float]] = {name: [] for name in fns}
    for _ in range(repeats):
        for name, fn in fns.items():
            t0 = time.perf_counter()
            fn()
            times[name].append(time.perf_counter() - t0)
    return {name: min(ts) for name, ts in times.items()}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--n", type=int, default=64)
    ap.add_argument("--repeats", type=int, default=5)
    ap.add_argument("--model", help="a model directory (default: build the tiny test VLM)")
    args = ap.parse_args()

    from judgekit.backends.local_model import to_chat_messages
    from judgekit.backends.vllm import VLLMBackend
    from tests.tiny_vlm import build

    mem = PeakRSS()
    with tempfile.TemporaryDirectory() as tmp:
        model = args.model or str(build(Path(tmp) / "tiny-vlm"))
        t0 = time.perf_counter()
        backend = VLLMBackend(model, dtype="float32", max_model_len=1024, enforce_eager=True,
                              limit_mm_per_prompt={"image": 1})
        startup = time.perf_counter() - t0
        reqs = requests(args.n)
        convs = [to_chat_messages(r) for r in reqs]
        params = [backend._sampling_params(r) for r in reqs]
        llm = backend.llm
        llm.chat(convs[:2], params[:2], use_tqdm=False)  # warm-up

        def loop():
            return [llm.chat([c], p, use_tqdm=False)[0].outputs[0].text for c, p in zip(convs, params)]

        def raw():
            return [o.outputs[0].text for o in llm.chat(convs, params, use_tqdm=False)]

        loop_ = asyncio.new_event_loop()  # one event loop for the run, as in judgekit's runner

        def judgekit():
            return [r.text for r in loop_.run_until_complete(backend.generate(reqs))]

        outputs = {"loop": loop(), "raw": raw(), "judgekit": judgekit()}
        assert outputs["loop"] == outputs["raw"] == outputs["judgekit"], "the three ways disagree"
        t = best_interleaved({"loop": loop, "raw": raw, "judgekit": judgekit}, args.repeats)
        backend.close()
        loop_.close()
    mem.stop()

    n = args.n
    print(f"vLLM {backend.describe()['vllm_version']}, tiny VLM, N={n} verdict requests, "
          f"best of {args.repeats}; engine start-up {startup:.1f} s")
    for name in ("loop", "raw", "judgekit"):
        print(f"  {name:9s} {t[name]:7.3f} s   {n / t[name]:7.1f} req/s")
    print(f"speedup judgekit vs one-at-a-time loop: {t['loop'] / t['judgekit']:.2f}x (goal >= 5x)")
    print(f"overhead judgekit vs raw batched chat:  {t['judgekit'] / t['raw']:.3f}x (goal <= 1.1x)")
    print(f"peak RSS: this process {mem.peak_self / 2**20:.0f} MiB, with engine processes "
          f"{mem.peak_tree / 2**20:.0f} MiB")


if __name__ == "__main__":  # vLLM spawns workers that re-import this file
    main()
