"""T2I-CompBench++: protocol card only; ``bench run t2i-compbench`` is not available yet."""

from __future__ import annotations

from .card import Part, ProtocolCard

CARD = ProtocolCard(
    name="t2i-compbench",
    title="T2I-CompBench++",
    task="text-to-image",
    repository="Karine-Huang/T2I-CompBench",
    official_judge="BLIP-VQA (attributes), UniDet (spatial, numeracy), CLIPScore (non-spatial), 3-in-1; optional MLLM judge",
    official_prompt="the repository's MLLM evaluation scripts",
    aggregation="per category the mean of its metric",
    data="examples/dataset/*.txt (one category a file)",
    images="the repository's samples/ layout per category",
    license="see the repository",
    runnable=False,
    parts=(Part("MLLM-judge variant", "not", "planned"),
           Part("BLIP-VQA, UniDet, CLIPScore, 3-in-1", "not", "need weights judgekit does not ship")),
)
