"""T2I-CompBench++: protocol card only; ``bench run t2i-compbench`` is not available yet.

Why: its MLLM variant (``MLLM_eval/ShareGPT4V-CoT_eval/Share_eval.py``) is a two-turn
conversation, a description first and then the scoring question with that description in
context, which judgekit's runner (independent calls per sample) does not express yet; and its
attribute categories split the prompt into noun chunks with spaCy's en_core_web_sm, which
judgekit does not depend on."""

from __future__ import annotations

from .card import Part, ProtocolCard

CARD = ProtocolCard(
    name="t2i-compbench",
    title="T2I-CompBench++",
    task="text-to-image",
    repository="Karine-Huang/T2I-CompBench",
    official_judge="detectors and scorers per category (BLIP-VQA, UniDet, CLIP, 3-in-1); MLLM variant: "
                   "Lin-Chen/ShareGPT4V-7B with a chain-of-thought description first (MiniGPT-4 scripts too)",
    official_prompt="MLLM_eval/ShareGPT4V-CoT_eval/Share_eval.py (a description turn, then a 1-4 or 1-5 rubric "
                    "per noun chunk or per prompt)",
    aggregation="MLLM variant: per image 100 x the product of the mapped levels (1-4 -> 10/20/75/100 for colour, "
                "shape, texture; 1-5 -> 20..100 otherwise); the category score is the mean over images",
    data="examples/dataset/<category>_val.txt (one prompt a line)",
    images="<category folder>/samples/<prompt>_<NNNNNN>.png (the prompt is read back from the file name)",
    license="MIT",
    runnable=False,
    parts=(Part("MLLM-judge variant", "not", "two-turn conversation and spaCy noun chunks: see the module's reason"),
           Part("BLIP-VQA, UniDet, CLIPScore, 3-in-1", "not", "need weights judgekit does not ship")),
    known_issues=(
        "the MLLM judge samples (temperature 0.2, top_p 0.7), so two runs differ",
        "a reply that is not valid JSON is skipped inside the product, so the image keeps the full 100 for it",
    ),
)
