"""``Results.summary(over="seeds")``: per model, what the seeds do to the score.

From result records (the seed comes from the record's ``seed`` field or ``meta["seed"]``; the
records of one model and prompt are its seeds), per model: mean of N, best of N and worst of N
per prompt averaged over prompts, the per-prompt SD and range across seeds, the variance
components (prompt / seed / residual, as fractions that sum to 1), how many seeds a target CI
width needs, and against every other model a paired power calculation and the best-of-N vs
best-of-N win rate. Pairwise results give the best-of-N vs best-of-N win rate. The numbers are
computed by ``judgekit.stats.seeds``; this module only gathers the records and formats.

>>> res = jk.load_results("results.jsonl")                   # doctest: +SKIP
>>> s = res.summary(over="seeds"); print(s); s.to_dict()      # doctest: +SKIP
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from .errors import DataError
from .stats import seeds as S

CI_KEYS = ("value", "ci_low", "ci_high")


def record_seed(r: Any) -> Any:
    """The seed of a result record: a first-class ``seed`` field, else ``meta["seed"]``."""
    extra = getattr(r, "model_extra", None) or {}
    s = getattr(r, "seed", None)
    if s is None:
        s = extra.get("seed")
    if s is None:
        s = (r.meta or {}).get("seed")
    return s


def _clean(v: Any) -> Any:
    if isinstance(v, float):
        return None if not math.isfinite(v) else v
    if isinstance(v, dict):
        return {k: _clean(x) for k, x in v.items()}
    if isinstance(v, list):
        return [_clean(x) for x in v]
    return v


@dataclass
class SeedSummary:
    """``models``: one entry per model (see docs/seeds.md); ``str()`` is a table followed by the
    "how many seeds" lines; ``to_dict()`` is the JSON of ``judgekit summary --over-seeds``."""

    models: dict[str, dict[str, Any]]
    kind: str = "pointwise"
    notes: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return _clean(self.models)

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), indent=2)

    def __str__(self) -> str:
        if self.kind == "pairwise":
            lines = ["best-of-N vs best-of-N win rate (pairwise results, ties 1/2, 95% CI over prompts)"]
            for m, e in self.models.items():
                for o, w in e.get("best_of_n_win_rate", {}).items():
                    lines.append(f"  {m} vs {o}: {_ci(w)} over {w['n_prompts']} prompts")
            return "\n".join(lines + self.notes)
        cols = [
            "model",
            "prompts",
            "seeds",
            "mean_of_n",
            "best_of_n",
            "worst_of_n",
            "sd",
            "prompt%",
            "seed%",
            "resid%",
        ]
        rows = []
        for m, e in self.models.items():
            vc = e["variance_components"]
            sp = e["seeds_per_prompt"]
            seeds = str(sp["min"]) if sp["min"] == sp["max"] else f"{sp['min']}-{sp['max']}"
            rows.append([m, str(e["n_prompts"]), seeds, _ci(e["mean_of_n"]), _ci(e["best_of_n"]),
                         _ci(e["worst_of_n"]), _num(e["per_prompt_sd"]["value"]),
                         *(_pct(vc[k]) for k in ("prompt", "seed", "residual"))])  # fmt: skip
        widths = [max(len(c), *(len(r[i]) for r in rows)) for i, c in enumerate(cols)]
        out = ["  ".join(c.ljust(w) for c, w in zip(cols, widths, strict=True))]
        out += ["  ".join(v.ljust(w) for v, w in zip(r, widths, strict=True)) for r in rows]
        out.append("")
        out.append("How many seeds (from the variance components):")
        for m, e in self.models.items():
            n = e["seeds_needed"]
            if n["seeds"] is None:
                out.append(f"  {m}: a 95% CI of width {n['ci_width']:.3g} is out of reach with {n['n_prompts']} prompts "
                           f"at any number of seeds; it needs at least {n['min_prompts']} prompts")  # fmt: skip
            else:
                out.append(f"  {m}: {n['seeds']} seed(s) per prompt for a 95% CI of width {n['ci_width']:.3g} "
                           f"with {n['n_prompts']} prompts (now {_num(n['current_width'])}); or "
                           f"{n['prompts_at_current_seeds']} prompts at {n['current_seeds']} seeds")  # fmt: skip
            for o, c in e.get("vs", {}).items():
                p = c["power"]
                seeds = p["seeds_for_power"] if p["seeds_for_power"] is not None else "no number of"
                out.append(f"    vs {o}: difference {_num(c['difference'])}; power {p['power_now']:.2f} to detect "
                           f"{_num(p['delta'])} now; {seeds} seeds/prompt or {p['prompts_for_power']} prompts for "
                           f"{p['target_power']:.0%}; best-of-N win rate {_ci(c['best_of_n_win_rate'])}")  # fmt: skip
        return "\n".join(out + self.notes)


def _num(v: Any) -> str:
    return "n/a" if v is None or (isinstance(v, float) and not math.isfinite(v)) else f"{v:.3g}"


def _ci(d: dict[str, Any]) -> str:
    if d.get("ci_low") is None or not math.isfinite(d["ci_low"]):
        return _num(d.get("value"))
    return f"{d['value']:.3f} [{d['ci_low']:.3f}, {d['ci_high']:.3f}]"


def _pct(d: dict[str, Any]) -> str:
    v = d.get("value")
    return "n/a" if v is None or not math.isfinite(v) else f"{100 * v:.0f}"


def _ci_of(stats: dict[str, dict[str, float]], key: str) -> dict[str, float]:
    return {k: stats[key][k] for k in CI_KEYS}


def _gather(records: list[Any]) -> tuple[dict[str, dict[Any, list[Any]]], dict[str, int]]:
    """model -> prompt -> ok records (in order); failures per model. A repeated (model, prompt,
    seed) is an error: it would count one image twice."""
    by: dict[str, dict[Any, list[Any]]] = {}
    failed: dict[str, int] = {}
    seen: set[tuple[Any, Any, Any]] = set()
    for r in records:
        model = r.model or "(none)"
        failed.setdefault(model, 0)
        if r.status != "ok" or r.overall is None:
            failed[model] += 1
            continue
        prompt = r.prompt_id or (r.meta or {}).get("prompt") or r.sample_id
        s = record_seed(r)
        if s is not None:
            if (model, prompt, s) in seen:
                raise DataError(
                    f"model {model!r}, prompt {prompt!r}: seed {s!r} appears twice (sample {r.sample_id!r})"
                )
            seen.add((model, prompt, s))
        by.setdefault(model, {}).setdefault(prompt, []).append(r)
    return by, failed


def _tables(prompts: dict[Any, list[Any]]) -> tuple[list[Any], list[np.ndarray], list[np.ndarray]]:
    """Per prompt: overall scores (n x 1) and dimension scores (n x D, NaN where missing)."""
    dims = sorted({k for rs in prompts.values() for r in rs for k, v in r.scores.items() if v is not None})
    ids, overall, per_dim = [], [], []
    for p, rs in prompts.items():
        ids.append(p)
        overall.append(np.array([[float(r.overall)] for r in rs]))
        per_dim.append(np.array([[np.nan if r.scores.get(d) is None else float(r.scores[d]) for d in dims]
                                 for r in rs]))  # fmt: skip
    return ids, overall, per_dim if len(dims) > 1 else overall


def seed_summary(
    records: list[Any],
    *,
    n_boot: int = 2000,
    seed: int = 0,
    level: float = 0.95,
    resample: str = "prompts",
    ci_width: float | None = None,
    detect: float | None = None,
    power: float = 0.8,
    alpha: float = 0.05,
) -> SeedSummary:
    """See the module docstring. ``ci_width``: target width of the model mean's CI (default:
    half the current one); ``detect``: the difference the power calculation is for (default:
    the observed difference of each pair of models)."""
    records = list(records)
    if records and records[0].provenance.get("kind") == "pairwise":
        return _pairwise(records, n_boot=n_boot, seed=seed, level=level)
    by, failed = _gather(records)
    if not by:
        raise DataError("no scored samples: nothing to summarise over seeds")
    single = [m for m, ps in by.items() if max(len(rs) for rs in ps.values()) < 2]
    if single:
        raise DataError(
            f"model(s) {', '.join(map(repr, single))} have one seed per prompt: the spread across seeds "
            "(best/worst of N, the seed variance) cannot be estimated from one image per prompt; score at "
            "least 2 seeds per prompt (records with the same model and prompt_id, each with its own seed)"
        )
    lone = [m for m, ps in by.items() if len(ps) < 2]
    if lone:
        raise DataError(
            f"model(s) {', '.join(map(repr, lone))} have one prompt: the prompt variance and every CI here "
            "resample prompts, so they need at least 2 prompts per model"
        )
    tables = {m: _tables(ps) for m, ps in by.items()}
    models: dict[str, dict[str, Any]] = {}
    for m, (ids, overall, per_dim) in tables.items():
        st = S.bootstrap_of_n(overall, n_boot=n_boot, level=level, seed=seed, resample=resample)
        vc = st if per_dim is overall else S.bootstrap_of_n(per_dim, n_boot=n_boot, level=level, seed=seed,
                                                           resample=resample)  # fmt: skip
        n_seeds = [g.shape[0] for g in overall]
        cur_seeds = int(np.median(n_seeds))
        pv, wv = st["prompt_var"]["value"], st["within_var"]["value"]
        cur_se = S.mean_se(pv, wv, len(ids), float(np.mean(n_seeds)))
        cur_width = 2 * S._z(level) * cur_se
        target = ci_width if ci_width is not None else cur_width / 2
        need = S.seeds_needed(pv, wv, len(ids), target, level) if target > 0 else {
            "ci_width": target, "n_prompts": len(ids), "seeds": 1, "min_prompts": 1}  # fmt: skip
        need.update(current_width=cur_width, current_seeds=cur_seeds,
                    prompts_at_current_seeds=S.prompts_needed(pv, wv, cur_seeds, target, level) if target > 0 else 2)  # fmt: skip
        components: dict[str, Any] = {}
        for k in ("prompt", "seed", "residual"):
            components[k] = {**_ci_of(vc, f"{k}_frac"), "variance": _ci_of(vc, f"{k}_var")}
        components["dimensions"] = int(per_dim[0].shape[1])
        models[m] = {
            "n_prompts": len(ids),
            "n_samples": int(sum(n_seeds)),
            "failed": failed.get(m, 0),
            "seeds_per_prompt": {
                "min": int(min(n_seeds)),
                "max": int(max(n_seeds)),
                "mean": float(np.mean(n_seeds)),
            },
            "mean_of_n": _ci_of(st, "mean_of_n"),
            "best_of_n": _ci_of(st, "best_of_n"),
            "worst_of_n": _ci_of(st, "worst_of_n"),
            "per_prompt_sd": _ci_of(st, "sd"),
            "per_prompt_range": _ci_of(st, "range"),
            "variance_components": components,
            "seeds_needed": need,
        }
    notes = []
    for a in tables:
        models[a]["vs"] = {}
        for b in tables:
            if a == b:
                continue
            common = [p for p in tables[a][0] if p in set(tables[b][0])]
            if len(common) < 2:
                continue
            ga = [tables[a][1][tables[a][0].index(p)] for p in common]
            gb = [tables[b][1][tables[b][0].index(p)] for p in common]
            comp = S.paired_components(ga, gb)
            delta = detect if detect is not None else comp["difference"]
            pair_seeds = int(np.median([g.shape[0] for g in [*ga, *gb]]))
            plan = S.power_plan(comp, len(common), pair_seeds, delta, alpha=alpha, power=power)
            win = S.best_of_n_win_rate([g.max() for g in ga], [g.max() for g in gb], n_boot=n_boot, level=level,
                                       seed=seed)  # fmt: skip
            models[a]["vs"][b] = {"n_prompts": len(common), "difference": comp["difference"],
                                  "components": comp, "power": plan, "best_of_n_win_rate": win}  # fmt: skip
    if resample != "prompts":
        notes.append(f"(CIs: {resample} bootstrap)")
    return SeedSummary(models, "pointwise", notes)


def _pairwise(records: list[Any], *, n_boot: int, seed: int, level: float) -> SeedSummary:
    """Best-of-N vs best-of-N from pairwise records carrying ``seed_a`` / ``seed_b`` (fields or
    meta): per prompt, each side's best image is the one with the highest win share against the
    other side's images, and the verdict between those two decides the prompt."""
    # pairwise results name the winner model_a / model_b / tie / inconsistent (counted as a tie,
    # as pairwise_summary does)
    score = {"model_a": 1.0, "model_b": 0.0, "tie": 0.5, "inconsistent": 0.5}
    grid: dict[tuple[str, str], dict[Any, dict[tuple[Any, Any], float]]] = {}
    missing = 0
    for r in records:
        extra = r.model_extra or {}
        meta = r.meta or {}
        a, b, w = extra.get("model_a"), extra.get("model_b"), extra.get("winner")
        if r.status != "ok" or w not in score or not a or not b:
            continue
        sa = extra.get("seed_a", meta.get("seed_a"))
        sb = extra.get("seed_b", meta.get("seed_b"))
        if sa is None or sb is None:
            missing += 1
            continue
        s = score[w]
        if a > b:  # one orientation per model pair
            a, b, sa, sb, s = b, a, sb, sa, 1 - s
        grid.setdefault((a, b), {}).setdefault(r.prompt_id or r.sample_id, {})[(sa, sb)] = s
    if not grid:
        why = f" ({missing} records lack seed_a/seed_b)" if missing else ""
        raise DataError("pairwise results: best-of-N needs judged pairs with 'seed_a' and 'seed_b' (in the "
                        f"manifest, kept in meta), several per prompt{why}")  # fmt: skip
    models: dict[str, dict[str, Any]] = {}
    notes = []
    for (a, b), prompts in grid.items():
        outcomes, unjudged = [], 0
        for cells in prompts.values():
            ba, bb = S.best_image_by_wins([(x, y, s) for (x, y), s in cells.items()])
            if (ba, bb) in cells:
                outcomes.append(cells[(ba, bb)])
            else:
                unjudged += 1
        if len(prompts) and all(
            len({x for x, _ in c}) < 2 or len({y for _, y in c}) < 2 for c in prompts.values()
        ):
            raise DataError(f"pairwise results {a} vs {b}: one seed per prompt on a side, so best of N is "
                            "the only image; judge several seeds of each model per prompt")  # fmt: skip
        if not outcomes:
            continue
        win = S.bootstrap_mean(outcomes, n_boot=n_boot, level=level, seed=seed)
        lose = {**win, "value": 1 - win["value"], "ci_low": 1 - win["ci_high"], "ci_high": 1 - win["ci_low"]}
        models.setdefault(a, {"best_of_n_win_rate": {}})["best_of_n_win_rate"][b] = win
        models.setdefault(b, {"best_of_n_win_rate": {}})["best_of_n_win_rate"][a] = lose
        if unjudged:
            notes.append(
                f"{a} vs {b}: {unjudged} prompts skipped (their two best images were never judged together)"
            )
    return SeedSummary(models, "pairwise", notes)
