"""What the report computes over the rows: prompt groups and where models disagree, the
per-model summary with 95% CIs, and the pairwise judge's position statistics.

Every interval is a percentile bootstrap that resamples prompts (several images of one prompt
are not independent evidence), as in ``Results.summary()``.
"""

from __future__ import annotations

import math
from collections import defaultdict
from typing import Any

import numpy as np

N_BOOT = 1000
#: Kinds the score table and plots leave out: pairwise has its win rates, attributes (no scores,
#: only choices) its bias section.
OWN_SECTION_KINDS = ("pairwise", "attributes")


def group_key(row: dict[str, Any]) -> str:
    return row.get("pid") or row.get("p") or row["id"]


def add_groups(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Group rows by (rubric, prompt); set each row's ``g`` (group index) and ``d`` (its
    group's disagreement) and return the groups.

    Disagreement of a pointwise-like group: the spread (max - min) of the models' mean overall
    scores on that prompt, None with fewer than two scored models. Of a pairwise row: 1 when
    the two orders named different winners on some dimension, else 0."""
    index: dict[tuple[str, str], int] = {}
    groups: list[dict[str, Any]] = []
    for i, row in enumerate(rows):
        key = (row["r"], group_key(row))
        if key not in index:
            index[key] = len(groups)
            groups.append({"r": row["r"], "key": key[1], "p": row.get("p") or "", "rows": []})
        g = groups[index[key]]
        g["rows"].append(i)
        if not g["p"] and row.get("p"):
            g["p"] = row["p"]
        row["g"] = index[key]
    for g in groups:
        g["rows"].sort(key=lambda i: rows[i]["m"])  # the same model order in every prompt's row
        members = [rows[i] for i in g["rows"]]
        if members[0]["k"] == "pairwise":
            for m in members:
                dims = (m.get("x") or {}).get("dims") or []
                m["d"] = 1.0 if any(d.get("c") is False for d in dims) else 0.0
            g["d"] = max(m["d"] for m in members)
            continue
        per_model: dict[str, list[float]] = defaultdict(list)
        for m in members:
            if m["st"] == "ok" and m.get("o") is not None:
                per_model[m["m"]].append(m["o"])
        means = [sum(v) / len(v) for v in per_model.values()]
        g["d"] = (max(means) - min(means)) if len(means) >= 2 else None
        for m in members:
            m["d"] = g["d"]
    return groups


def _ci(values: list[float], groups: list[str], n_boot: int, seed: int) -> tuple[float, float, float]:
    from ..stats.estimates import likert_mean

    if not values:
        return (math.nan, math.nan, math.nan)
    if len(values) < 2 or n_boot <= 0:
        return (float(np.mean(values)), math.nan, math.nan)
    e = likert_mean(values, groups, n_boot=n_boot, seed=seed)
    return (e.value, e.ci_low, e.ci_high)


def _nan_none(x: float) -> float | None:
    return None if x is None or not math.isfinite(x) else float(x)


def overall_is_only_dimension(rows: list[dict[str, Any]]) -> dict[str, bool]:
    """Per rubric: True when ``overall`` merely repeats a single dimension (a DSG or TIFA
    score), so tables and plots show it once."""
    out: dict[str, bool] = {}
    for row in rows:
        dims = [v for v in row["sc"].values() if v is not None]
        one = len(row["sc"]) == 1 and (row["o"] is None or dims == [row["o"]])
        out[row["r"]] = out.get(row["r"], True) and one
    return out


def score_summary(rows: list[dict[str, Any]], n_boot: int = N_BOOT, seed: int = 0) -> list[dict[str, Any]]:
    """Per rubric, model and dimension (``overall`` first) of the non-pairwise rows: n samples,
    failed, mean over the scored ones with ``ci_low``/``ci_high``."""
    cells: dict[tuple[str, str, str], dict[str, Any]] = {}
    same = overall_is_only_dimension(rows)
    # Every dimension any row of the rubric has: a sample that failed before any dimension was
    # judged has none of its own, yet it is one of each dimension's n (failed), as of overall's.
    rubric_dims: dict[str, dict[str, None]] = {}
    for row in rows:
        if row["k"] not in OWN_SECTION_KINDS:
            rubric_dims.setdefault(row["r"], {}).update(dict.fromkeys(row["sc"]))
    for row in rows:
        if row["k"] in OWN_SECTION_KINDS:
            continue
        dims = list(rubric_dims[row["r"]]) if same.get(row["r"]) else ["overall", *rubric_dims[row["r"]]]
        for dim in dims:
            c = cells.setdefault((row["r"], row["m"], dim), {"n": 0, "failed": 0, "v": [], "g": []})
            c["n"] += 1
            val = row["o"] if dim == "overall" else row["sc"].get(dim)
            if row["st"] != "ok" or val is None:
                c["failed"] += 1
            else:
                c["v"].append(val)
                c["g"].append(group_key(row))
    out = []
    for (rubric, model, dim), c in sorted(cells.items(), key=lambda kv: (kv[0][0], kv[0][1], kv[0][2] != "overall", kv[0][2])):
        mean, lo, hi = _ci(c["v"], c["g"], n_boot, seed)
        row = {"rubric": rubric, "model": model, "dimension": dim, "n": c["n"], "failed": c["failed"],
               "value": _nan_none(mean), "ci_low": _nan_none(lo), "ci_high": _nan_none(hi)}
        overall = cells.get((rubric, model, "overall"))
        if dim != "overall" and overall is not None and len(overall["v"]) != len(c["v"]):
            row["note"] = (f"{len(c['v'])} of {c['n']} samples scored on {dim}, {len(overall['v'])} on overall "
                           "(overall needs every dimension): the means are over different samples")
        out.append(row)
    return out


def pairwise_summary(records_by_rubric: dict[str, list], n_boot: int = N_BOOT, seed: int = 0,
                     ) -> tuple[list[dict[str, Any]], dict[str, str]]:
    """Win rates with CIs per pairwise rubric, from ``Results.summary()``, and per rubric the line
    ``judgekit summary`` prints above them (pairs, failed, inconsistent counted as ties, position
    consistency): the report shows the same counts, from the same function."""
    from ..results import Results

    out, titles = [], {}
    for rubric, recs in records_by_rubric.items():
        s = Results(recs).summary(n_boot=n_boot, seed=seed)
        titles[rubric] = s.title
        for r in s.rows:
            out.append({"rubric": rubric, "model": r["model"], "n": r["n"], "wins": r["wins"], "losses": r["losses"],
                        "ties": r["ties"], "value": _nan_none(r["win_rate"]), "ci_low": _nan_none(r["ci_low"]),
                        "ci_high": _nan_none(r["ci_high"])})
    return out, titles


def failure_table(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Failed samples counted by reason (``fk``, see ``records.failure_kind``) and model, the
    most frequent reason first."""
    by: dict[str, dict[str, Any]] = {}
    for row in rows:
        if row["st"] != "failed":
            continue
        e = by.setdefault(row["fk"], {"reason": row["fk"], "n": 0, "models": {}, "rubrics": set(), "example": row.get("e")})
        e["n"] += 1
        e["models"][row["m"]] = e["models"].get(row["m"], 0) + 1
        e["rubrics"].add(row["r"])
    out = sorted(by.values(), key=lambda e: (-e["n"], e["reason"]))
    for e in out:
        e["rubrics"] = sorted(e["rubrics"])
    return out


def position_summary(rows: list[dict[str, Any]], n_boot: int = N_BOOT, seed: int = 0) -> list[dict[str, Any]]:
    """Per pairwise rubric and dimension: position consistency (both orders name the same
    winner, ties included) over pairs with both verdicts, and the rate at which the first-shown
    image wins ((A + tie/2) over verdicts of both orders), each with a prompt-bootstrap CI."""
    acc: dict[tuple[str, str], dict[str, list]] = {}
    for row in rows:
        if row["k"] != "pairwise":
            continue
        for d in (row.get("x") or {}).get("dims") or []:
            a = acc.setdefault((row["r"], d["n"]), {"c": [], "cg": [], "f": [], "fg": []})
            for order in ("AB", "BA"):
                if order in d:
                    a["f"].append({"A": 1.0, "tie": 0.5, "B": 0.0}.get(d[order]["w"], 0.5))
                    a["fg"].append(group_key(row))
            if "AB" in d and "BA" in d and d.get("c") is not None:
                a["c"].append(1.0 if d["c"] else 0.0)
                a["cg"].append(group_key(row))
    out = []
    for (rubric, dim), a in sorted(acc.items()):
        c = _ci(a["c"], a["cg"], n_boot, seed)
        f = _ci(a["f"], a["fg"], n_boot, seed)
        out.append({"rubric": rubric, "dimension": dim, "pairs": len(a["c"]), "verdicts": len(a["f"]),
                    "consistency": {"value": _nan_none(c[0]), "ci_low": _nan_none(c[1]), "ci_high": _nan_none(c[2])},
                    "first_shown_win_rate": {"value": _nan_none(f[0]), "ci_low": _nan_none(f[1]), "ci_high": _nan_none(f[2])}})
    return out
