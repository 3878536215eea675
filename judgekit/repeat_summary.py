"""The judge's repeat agreement in a run made with ``--repeats K``: per dimension, from the K
scores each record keeps in ``details["repeats"]`` (``judgekit.stats.repeats`` computes).

A difference between two models smaller than the judge's own noise is not a difference: the
summary and the report show these figures beside the score CIs.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from typing import Any

from .stats.repeats import repeat_agreement
from .types import Result


def repeat_rows(records: Iterable[Result], level: float = 0.95) -> list[dict[str, Any]]:
    """One row per dimension: ``dimension``, ``n``, ``k``, ``share_agreeing``, ``mean_within_sd``,
    ``icc_1_1`` (+ ``_ci``), ``icc_1_k`` (+ ``_ci``). Empty for a run without repeats. Records
    are taken in sample-id order, so the figures do not depend on the order of the file."""
    table: dict[str, list[list[float]]] = {}
    for r in sorted(records, key=lambda r: r.sample_id):
        if r.status != "ok":
            continue
        for dim, vals in ((r.details or {}).get("repeats") or {}).items():
            if vals and all(v is not None for v in vals):
                table.setdefault(dim, []).append([float(v) for v in vals])
    rows = []
    for dim, m in sorted(table.items()):
        k = max(len(v) for v in m)
        rows.append({"dimension": dim, **repeat_agreement([v for v in m if len(v) == k], level=level)})
    return rows


def _f(x: float) -> str:
    return "n/a" if x is None or (isinstance(x, float) and math.isnan(x)) else f"{x:.3f}"


def repeat_lines(rows: list[dict[str, Any]]) -> list[str]:
    """The summary's lines for ``repeat_rows`` (none without repeats)."""
    if not rows:
        return []
    lines = [f"judge repeat agreement (K={rows[0]['k']} judgments per sample; ICC one-way random effects, 95% F interval):"]
    for r in rows:
        lo11, hi11 = r["icc_1_1_ci"]
        lo1k, hi1k = r["icc_1_k_ci"]
        lines.append(f"  {r['dimension']}: n {r['n']}, all K agree {_f(r['share_agreeing'])}, mean within-sample SD "
                     f"{_f(r['mean_within_sd'])}, ICC(1,1) {_f(r['icc_1_1'])} [{_f(lo11)}, {_f(hi11)}], "
                     f"ICC(1,k) {_f(r['icc_1_k'])} [{_f(lo1k)}, {_f(hi1k)}]")
    return lines
