"""KRIS-Bench: protocol card only; ``bench run kris`` is not available yet.

Why: its repository (mercurystraw/Kris_Bench) ships five per-sample scoring scripts that write
``results/<model>/<category>/metrics.json`` but no script that aggregates them into the paper's
table, so judgekit has no official aggregation to reproduce."""

from __future__ import annotations

from .card import Part, ProtocolCard

CARD = ProtocolCard(
    name="kris",
    title="KRIS-Bench",
    task="image editing",
    repository="mercurystraw/Kris_Bench",
    official_judge="the undated alias gpt-4o, no temperature set (the API default), max 1000 tokens",
    official_prompt="ReasonEdit/prompts.py, imported by metrics_common.py, metrics_knowledge.py, "
                    "metrics_multi_element.py, metrics_temporal_prediction.py, metrics_view_change.py",
    aggregation="per sample 1-5 scores for visual consistency, instruction following, visual quality and (knowledge "
                "tasks) knowledge plausibility; the repository has no script that aggregates them",
    data="KRIS_Bench/<category>/annotation.json (ori_img, instruction, explain)",
    images="results/<model>/<category>/<image_id>.jpg",
    license="see the repository",
    runnable=False,
    parts=(Part("four judge dimensions per sample", "not", "planned"),
           Part("aggregation", "not", "no official aggregation script to follow")),
    known_issues=(
        "the score parser falls back to the first standalone digit 1-5 anywhere in the reply, so an unparseable "
        "reply still gets a score (metrics_common.py, DEFAULT_PATTERNS)",
        "metrics_common.py picks its explanation-aware instruction prompt when the category contains "
        "'abnormality_correction', but the category is named 'anomaly_correction', so that prompt is never used",
    ),
)
