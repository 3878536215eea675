"""The report's sections for the issue-13 methods, each shown only where the results hold it:

- ``safety``: results of the ``safety`` rubric -> pass rate per model and category with Wilson
  CIs and the flagged samples (with their deep-link ids), from ``judgekit.safety``;
- ``seeds``: results with several seeds per (model, prompt) -> mean / best / worst of N and the
  variance components with CIs, from ``judgekit.seed_summary`` (what ``summary --over-seeds``
  prints); one seed per prompt skips the section, it is not an error of the report;
- ``bias``: results of an ``attributes`` rubric -> per model and attribute the shares of each
  group with bootstrap CIs, from ``judgekit.bias``, plus a bar chart per attribute.

This module only gathers records and reshapes the library's outputs for the page: every number
comes from those functions. A method that cannot summarise its records (``DataError``) leaves a
note in its section instead of failing the whole report.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from ..errors import DataError
from ..types import Result
from .plots import PALETTE, _entry, _err, _layout

Files = Sequence[tuple[str, list[Result]]]

#: ``seed_summary`` and ``bias_report`` need bootstrap draws; a report made with ``n_boot=0``
#: (no CIs elsewhere) still gets theirs from this many.
MIN_BOOT = 200


def record_uids(files: Files, rows: list[dict[str, Any]]) -> list[list[str]]:
    """Per file, the deep-link id (``u``) of each record: ``build_rows`` made one row per record,
    files in order, so the rows line up with the flattened records."""
    out, i = [], 0
    for _, recs in files:
        out.append([rows[i + k]["u"] for k in range(len(recs))])
        i += len(recs)
    return out


def _rubric_name(r: Result) -> str:
    return str((r.provenance or {}).get("rubric") or r.rubric)


def _kind(r: Result) -> str:
    return str((r.provenance or {}).get("kind") or "pointwise")


def safety_sections(files: Files, uids: list[list[str]], level: float = 0.95) -> list[dict[str, Any]]:
    """One section per results file judged with the ``safety`` rubric."""
    from ..safety import OVERALL, safety_report

    out = []
    for (name, recs), file_uids in zip(files, uids, strict=True):
        mine = [(r, u) for r, u in zip(recs, file_uids, strict=True) if _rubric_name(r) == "safety"]
        if not mine:
            continue
        sec: dict[str, Any] = {"file": name, "rubric": "safety", "level": level, "rows": [], "flagged": []}
        try:
            rep = safety_report([r for r, _ in mine], level=level)
        except DataError as exc:
            out.append({**sec, "error": str(exc)})
            continue
        uid_of = {r.sample_id: u for r, u in mine}
        for model, per in rep.models.items():
            for cat in [OVERALL, *rep.categories]:
                sec["rows"].append({"model": model, "category": cat, **per[cat]})
        sec["failed"] = rep.failed
        for f in rep.flagged:
            sec["flagged"].append({"u": uid_of.get(f["sample_id"], f["sample_id"]), **f})
        out.append(sec)
    return out


def _seed_groups(recs: list[Result]) -> dict[str, list[Result]]:
    """Records of non-pairwise, non-attributes rubrics by rubric name."""
    by: dict[str, list[Result]] = {}
    for r in recs:
        if _kind(r) not in ("pairwise", "attributes"):
            by.setdefault(r.rubric, []).append(r)
    return by


def _several_seeds(recs: list[Result]) -> set[str]:
    """The models with two or more seeds on some prompt and at least two prompts (what
    ``seed_summary`` needs of every model it is given)."""
    from ..seed_summary import record_seed

    seeds: dict[str, dict[Any, set[Any]]] = {}
    for r in recs:
        s = record_seed(r)
        if s is None or r.status != "ok":
            continue
        seeds.setdefault(r.model or "(none)", {}).setdefault(r.prompt_id or r.sample_id, set()).add(s)
    return {m for m, ps in seeds.items() if len(ps) >= 2 and max(len(v) for v in ps.values()) >= 2}


def seed_sections(files: Files, n_boot: int = 1000, seed: int = 0) -> list[dict[str, Any]]:
    """Per results file and rubric whose records carry several seeds per prompt: the table of
    ``judgekit summary --over-seeds``. Models with one seed per prompt are named in ``skipped``."""
    from ..seed_summary import seed_summary

    out = []
    for name, recs in files:
        for rubric, mine in _seed_groups(recs).items():
            keep = _several_seeds(mine)
            if not keep:
                continue  # one seed per prompt: nothing to show, and no error
            sel = [r for r in mine if (r.model or "(none)") in keep]
            sec: dict[str, Any] = {"file": name, "rubric": rubric, "rows": [],
                                   "skipped": sorted({r.model or "(none)" for r in mine} - set(keep))}
            try:
                summ = seed_summary(sel, n_boot=n_boot if n_boot > 0 else MIN_BOOT, seed=seed).to_dict()
            except DataError as exc:
                out.append({**sec, "error": str(exc)})
                continue
            for model, e in summ.items():
                vc = e["variance_components"]
                sec["rows"].append({
                    "model": model, "n_prompts": e["n_prompts"], "n_samples": e["n_samples"],
                    "seeds_per_prompt": e["seeds_per_prompt"], "mean_of_n": e["mean_of_n"],
                    "best_of_n": e["best_of_n"], "worst_of_n": e["worst_of_n"], "per_prompt_sd": e["per_prompt_sd"],
                    "variance_components": {k: {c: vc[k][c] for c in ("value", "ci_low", "ci_high")}
                                            for k in ("prompt", "seed", "residual")},
                    "seeds_needed": e["seeds_needed"],
                })
            out.append(sec)
    return out


def bias_sections(files: Files, n_boot: int = 1000, seed: int = 0) -> list[dict[str, Any]]:
    """Per results file holding ``attributes`` results: per model and attribute the share of
    each group (unclear / no person left out, as in ``judgekit bias report``) and the spread
    measures, each ``{value, ci_low, ci_high}``."""
    from ..bias import bias_report

    out = []
    for name, recs in files:
        mine = [r for r in recs if _kind(r) == "attributes"]
        if not mine:
            continue
        sec: dict[str, Any] = {"file": name, "rubric": mine[0].rubric, "attributes": {}, "rows": []}
        try:
            rep = bias_report(mine, per_prompt=False, n_boot=n_boot if n_boot > 0 else MIN_BOOT, seed=seed)
        except DataError as exc:
            out.append({**sec, "error": str(exc)})
            continue
        sec["attributes"] = rep["attributes"]
        sec["failed"] = rep["failed"]
        sec["interval"] = rep["interval"]
        for model, per in rep["models"].items():
            for attr, groups in rep["attributes"].items():
                s = per[attr]
                sec["rows"].append({
                    "model": model, "attribute": attr, "n": s["n"], "n_valid": s["n_valid"],
                    "shares": [{"group": g, **s["proportions"][g]} for g in groups],
                    "other": {k: v for k, v in s["counts"].items() if k not in groups},
                    "normalized_entropy": s["normalized_entropy"], "kl_divergence": s["kl_divergence"],
                    "max_min_ratio": s["max_min_ratio"],
                })
        out.append(sec)
    return out


def bias_plots(sections: list[dict[str, Any]], colors: dict[str, str]) -> list[dict[str, Any]]:
    """Per section and attribute: grouped bars of each model's share of every group, with the
    bootstrap CI as error bars."""
    figs = []
    for si, sec in enumerate(sections):
        for ai, (attr, groups) in enumerate(sec["attributes"].items()):
            rows = [r for r in sec["rows"] if r["attribute"] == attr]
            data = []
            for mi, r in enumerate(rows):
                data.append({"type": "bar", "name": r["model"], "x": groups, "y": [s["value"] for s in r["shares"]],
                             "error_y": _err(r["shares"]),
                             "marker": {"color": colors.get(r["model"], PALETTE[mi % len(PALETTE)])},
                             "hovertemplate": r["model"] + " · %{x}: %{y:.3f}<extra></extra>"})
            t = f"{sec['rubric']}: perceived {attr.replace('_', ' ')}, share per model with 95% CI"
            figs.append(_entry(f"bias-{si}-{ai}", "Bias attributes", t, data,
                               _layout(t, barmode="group", yaxis={"title": {"text": "share"}, "rangemode": "tozero"},
                                       xaxis={"type": "category", "title": {"text": attr}}),
                               note="shares of the images whose answer names a group; unclear and no person are left "
                                    "out (see the table); bootstrap over prompts"))
    return figs
