"""RISEBench: protocol card only; ``bench run risebench`` is not available yet."""

from __future__ import annotations

from .card import Part, ProtocolCard

CARD = ProtocolCard(
    name="risebench",
    title="RISEBench",
    task="image editing",
    repository="RISEBench (data/data_total.json)",
    official_judge="GPT-4.1-class judge for reasoning, appearance consistency and visual plausibility",
    official_prompt="the repository's judge prompts",
    aggregation="accuracy = share of samples fully correct on every dimension",
    data="data/data_total.json",
    images="one edited image per sample",
    license="see the repository",
    runnable=False,
    parts=(Part("judge dimensions and accuracy", "not", "planned"),),
    known_issues=("an evaluation script bug was fixed on 2026-04-23: numbers computed before differ (field notes)",),
)
