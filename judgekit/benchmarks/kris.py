"""KRIS-Bench: protocol card only; ``bench run kris`` is not available yet.

Why: its repository (mercurystraw/Kris_Bench) ships five per-sample scoring scripts that write
``results/<model>/<category>/metrics.json`` but no script that aggregates them into the paper's
table, and its README names the four metrics without saying how they are combined. The paper's
table reports 0-100 scores per knowledge type and an overall (GPT-4o 80.09) without a formula
judgekit could read; a third-party port (lmms-eval's ``kris_bench`` task) maps 1-5 to 0-100 as
25 x (score - 1) and cites a ``summarize.py`` that the official repository does not contain.
Which samples, dimensions and categories are averaged in which order, and whether the
knowledge-plausibility score enters the overall, change the number; reproducing one guess as
"official" would be the kind of silent protocol drift the bench command exists to avoid."""

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
                "tasks) knowledge plausibility; the repository has no script that aggregates them and neither its README "
                "nor the paper text judgekit could read gives the formula of the 0-100 table",
    data="KRIS_Bench/<category>/annotation.json (ori_img, instruction, explain)",
    images="results/<model>/<category>/<image_id>.jpg",
    license="see the repository",
    runnable=False,
    parts=(Part("four judge dimensions per sample", "not", "planned"),
           Part("aggregation", "not", "no official aggregation script or documented formula to follow; the 25 x (score - 1) "
                "mapping and category groups of lmms-eval's kris_bench port cite a summarize.py absent from the official "
                "repository (checked at commit 2114fec), so judgekit does not present them as the official aggregation")),
    known_issues=(
        "the score parser falls back to the first standalone digit 1-5 anywhere in the reply, so an unparseable "
        "reply still gets a score (metrics_common.py, DEFAULT_PATTERNS)",
        "metrics_common.py picks its explanation-aware instruction prompt when the category contains "
        "'abnormality_correction', but the category is named 'anomaly_correction', so that prompt is never used",
    ),
)
