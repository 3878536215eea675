"""Answering decomposed questions: batched per image with prefix caching vs one request at a time.

8 yes/no questions per image x 64 images through the in-process vLLM backend on the tiny
random-weight VLM the test suite builds (``tests/tiny_vlm.py``), answered by token probability
(one answer token each, as ``answer_mode: prob``) or, with ``--mode choice``, as constrained JSON.

- baseline: one request per question, sent one after another, prefix caching off;
- batched:  each image's 8 questions in one ``generate`` call (they share the image prefix),
            prefix caching on, images one after another;
- runner:   the whole run through ``judgekit.score`` (the runner gathers many images' questions
            into engine batches), prefix caching on.

Prints wall times and the ratios against the baseline measured in the same process. Random
weights: this measures plumbing and engine throughput, never answer quality.

    .venv/bin/python bench/bench_questions_batched.py [--images 64] [--questions 8] [--mode prob]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sys
import tempfile
import time
from pathlib import Path

for k, v in {"HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1", "VLLM_NO_USAGE_STATS": "1", "DO_NOT_TRACK": "1",
             "VLLM_CPU_KVCACHE_SPACE": "1"}.items():
    os.environ.setdefault(k, v)
ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

WORDS = ["red", "blue", "green", "cat", "dog", "book", "table", "teddy bear"]


def make_inputs(tmp: Path, n_images: int, n_questions: int):
    """Images, a DSG question file (n_questions per prompt, a small graph) and a manifest."""
    import numpy as np
    from PIL import Image

    from judgekit.datasets.questions import save_questions
    from judgekit.questions.graph import Question, QuestionGraph

    graphs, lines = [], []
    for i in range(n_images):
        qs = [Question(1, f"Is there a {WORDS[i % len(WORDS)]}?")]
        for j in range(2, n_questions + 1):
            qs.append(Question(j, f"Is the {WORDS[i % len(WORDS)]} {WORDS[(i + j) % len(WORDS)]} number {j}?", parents=(1,)))
        graphs.append(QuestionGraph(f"p{i}", f"prompt {i}", qs))
        arr = np.random.default_rng(i).integers(0, 256, (64, 64, 3), dtype=np.uint8)
        img = tmp / f"img{i}.png"
        Image.fromarray(arr, "RGB").save(img)
        lines.append({"id": f"s{i}", "prompt": f"prompt {i}", "prompt_id": f"p{i}", "image": str(img), "model": "tiny"})
    save_questions(graphs, tmp / "questions.csv")
    (tmp / "manifest.jsonl").write_text("".join(json.dumps(x) + "\n" for x in lines))
    return tmp / "questions.csv", tmp / "manifest.jsonl"


def plan_all(questions: Path, manifest: Path, mode: str):
    from judgekit.manifest import load_samples
    from judgekit.methods import make_method
    from judgekit.rubric import load_rubric

    method = make_method(load_rubric("dsg"), questions=str(questions), answer_mode=mode)
    return [[c.request for c in method.plan(s)] for s in load_samples(manifest)]


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--images", type=int, default=64)
    ap.add_argument("--questions", type=int, default=8)
    ap.add_argument("--mode", choices=["prob", "choice"], default="prob")
    ap.add_argument("--model-dir", help="an existing tiny VLM directory (built into a temp dir otherwise)")
    args = ap.parse_args()

    from judgekit.backends.vllm import VLLMBackend
    from judgekit.runner import score_async
    from tests.tiny_vlm import build

    tmp = Path(tempfile.mkdtemp(prefix="jk-bench-q-"))
    model_dir = Path(args.model_dir) if args.model_dir else build(tmp / "tiny-vlm")
    questions, manifest = make_inputs(tmp, args.images, args.questions)
    per_image = plan_all(questions, manifest, args.mode)
    n = sum(len(r) for r in per_image)
    engine = dict(dtype="float32", max_model_len=1024, enforce_eager=True, limit_mm_per_prompt={"image": 1})
    print(f"{args.images} images x {args.questions} questions = {n} requests, mode={args.mode}, tiny VLM at {model_dir}")

    base = VLLMBackend(str(model_dir), enable_prefix_caching=False, **engine)
    base.generate_sync(per_image[0][:1])  # warm-up
    t0 = time.perf_counter()
    seq = [base.generate_sync([r])[0] for reqs in per_image for r in reqs]
    t_seq = time.perf_counter() - t0
    base.close()
    errors = sum(r.error is not None for r in seq)

    fast = VLLMBackend(str(model_dir), enable_prefix_caching=True, **engine)
    fast.generate_sync(per_image[0][:1])
    t0 = time.perf_counter()
    batched = [resp for reqs in per_image for resp in fast.generate_sync(reqs)]
    t_img = time.perf_counter() - t0
    errors += sum(r.error is not None for r in batched)
    same = sum(a.text == b.text for a, b in zip(seq, batched))

    t0 = time.perf_counter()
    res = asyncio.run(score_async("dsg", manifest, fast, cache=False,
                                  method_options={"questions": str(questions), "answer_mode": args.mode}))
    t_run = time.perf_counter() - t0
    fast.close()
    failed = len(res.failures)

    print(f"baseline  one request per question, sequential, no prefix cache: {t_seq:7.2f} s  ({n / t_seq:6.1f} req/s)")
    print(f"batched   per image ({args.questions} per call), prefix cache:         {t_img:7.2f} s  ({n / t_img:6.1f} req/s)")
    print(f"runner    judgekit.score, engine batches, prefix cache:            {t_run:7.2f} s  ({n / t_run:6.1f} req/s)")
    print(f"ratio baseline/batched-per-image = {t_seq / t_img:.2f}x; baseline/runner = {t_seq / t_run:.2f}x")
    print(f"identical answers batched vs sequential: {same}/{n}; request errors: {errors}; failed samples: {failed}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
