"""OneIG-Bench: protocol card only; ``bench run oneig`` is not available yet."""

from __future__ import annotations

from .card import Part, ProtocolCard

CARD = ProtocolCard(
    name="oneig",
    title="OneIG-Bench",
    task="text-to-image",
    repository="OneIG-Bench (OneIG-Bench.csv, scripts/alignment/Q_D/*.json)",
    official_judge="Qwen2.5-VL-7B-Instruct (alignment questions); OCR for text; CSD + CLIP (style); DreamSim (diversity)",
    official_prompt="the benchmark's alignment scripts",
    aggregation="alignment: question graph with dependencies per image; text: OCR edit-distance scores; "
                "4 seeds per prompt",
    data="OneIG-Bench.csv and scripts/alignment/Q_D/*.json",
    images="4 images per prompt (the benchmark's grid layout)",
    license="see the benchmark's repository",
    runnable=False,
    parts=(
        Part("alignment (question graph)", "not", "planned: the Q_D files map onto judgekit's question graphs"),
        Part("text rendering (OCR edit distance)", "not", "planned"),
        Part("style (CSD + CLIP encoders)", "not", "needs encoder weights judgekit does not ship"),
        Part("diversity (DreamSim)", "not", "needs DreamSim weights judgekit does not ship"),
    ),
    known_issues=("missing images are replaced by black ones before scoring (field notes)",),
)
