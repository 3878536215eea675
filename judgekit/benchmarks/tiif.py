"""TIIF-Bench: protocol card only; ``bench run tiif`` is not available yet."""

from __future__ import annotations

from .card import Part, ProtocolCard

CARD = ProtocolCard(
    name="tiif",
    title="TIIF-Bench",
    task="text-to-image",
    repository="A113N-W3I/TIIF-Bench",
    official_judge="GPT-4o (a fixed dated version, temperature 0, as the maintainers now require) or Qwen2.5-VL-72B",
    official_prompt="the repository's evaluation script",
    aggregation="per prompt its yes/no evaluation questions (test and testmini sets)",
    data="data/*_eval_prompts/*.jsonl",
    images="one image per prompt",
    license="see the repository",
    runnable=False,
    parts=(Part("yes/no evaluation questions", "not", "planned"),),
    known_issues=("scores were not reproducible until temperature 0 and a pinned GPT-4o version were required "
                  "(A113N-W3I/TIIF-Bench #12)",),
)
