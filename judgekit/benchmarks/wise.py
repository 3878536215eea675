"""WISE and WISE_Verified: protocol card only; ``bench run wise`` is not available yet."""

from __future__ import annotations

from .card import Part, ProtocolCard

CARD = ProtocolCard(
    name="wise",
    title="WISE / WISE_Verified",
    task="text-to-image",
    repository="PKU-YuanGroup/WISE",
    official_judge="legacy: GPT-4o-2024-05-13; WISE_Verified: Qwen3.5-35B-A3B on vLLM, binary judgements",
    official_prompt="the repository's judging scripts",
    aggregation="legacy WiScore = 0.7 consistency + 0.2 realism + 0.1 aesthetics per item, then category means; "
                "Verified: binary judgements",
    data="data_verified/*.json (Verified) or the legacy category files",
    images="one image per prompt id",
    license="see the repository",
    runnable=False,
    parts=(Part("WISE_Verified binary judging", "not", "planned"),
           Part("legacy WiScore", "not", "planned, with the overall weighting bug flagged")),
    known_issues=("the legacy overall WiScore weighting bug fixed in ByteDance-Seed/Bagel PR #299: overall numbers "
                  "computed before that fix are not comparable",
                  "users report scores off the paper (WISE #12)"),
)
