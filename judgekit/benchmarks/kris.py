"""KRIS-Bench: protocol card only; ``bench run kris`` is not available yet."""

from __future__ import annotations

from .card import Part, ProtocolCard

CARD = ProtocolCard(
    name="kris",
    title="KRIS-Bench",
    task="image editing",
    repository="KRIS-Bench",
    official_judge="GPT-4o",
    official_prompt="the repository's evaluation prompts",
    aggregation="per sample: consistency, quality, instruction following, knowledge plausibility; category means",
    data="KRIS_Bench/<category>/annotation.json",
    images="one edited image per annotation entry",
    license="see the repository",
    runnable=False,
    parts=(Part("four judge dimensions", "not", "planned"),),
)
