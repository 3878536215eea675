"""ImgEdit: protocol card only; ``bench run imgedit`` is not available yet (judgekit loads its
data with ``judgekit.datasets.imgedit``)."""

from __future__ import annotations

from .card import Part, ProtocolCard

CARD = ProtocolCard(
    name="imgedit",
    title="ImgEdit (single-turn)",
    task="image editing",
    repository="PKU-YuanGroup/ImgEdit (Benchmark/Basic)",
    official_judge="the paper names GPT-4.1; the code calls the undated alias gpt-4o",
    official_prompt="the repository's per-edit-type judge prompts",
    aggregation="1-5 scores per edit (instruction compliance, quality, preservation), averaged per edit type",
    data="Benchmark/Basic/basic_edit.json",
    images="RESULT_FOLDER/<key>.png",
    license="see the repository",
    runnable=False,
    parts=(Part("1-5 judge scores per edit type", "not", "planned; the loader exists (judgekit.datasets.imgedit)"),),
    known_issues=("paper says GPT-4.1, code calls undated gpt-4o (PKU-YuanGroup/ImgEdit #34); gpt-4o-2024-08-06 and "
                  "-11-20 give different results (#16)",),
)
