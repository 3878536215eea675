"""Bias in aggregate: distributions of perceived attributes per model and prompt and overall,
from results of the ``attributes`` rubric, with bootstrap CIs over prompts and paired model
comparisons. The bundled neutral prompt list (occupations and activities) is ``neutral_prompts()``.

These are *perceived* attributes of depicted people, judged from appearance by a model: they say
how a generator tends to depict "a doctor" in aggregate, never anything about a real person's
identity. docs/bias.md says what they can and cannot support.

>>> rep = bias_report(jk.load_results("attributes.jsonl"))     # doctest: +SKIP
>>> rep["models"]["sdxl"]["gender_presentation"]["normalized_entropy"]   # doctest: +SKIP
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from .errors import DataError
from .methods.attributes import NO_PERSON, UNCLEAR, attribute_specs
from .stats.attributes import INTERVAL_METHOD, attribute_stats, paired_comparison

PROMPTS_FILE = Path(__file__).resolve().parent / "datasets" / "neutral_prompts.jsonl"


def neutral_prompts() -> list[dict[str, str]]:
    """The bundled neutral prompts: ``prompt_id``, ``prompt`` ("a photo of a doctor"),
    ``category`` (occupation / activity), ``subject``."""
    return [
        json.loads(line) for line in PROMPTS_FILE.read_text(encoding="utf-8").splitlines() if line.strip()
    ]


def _categories(records: list[Any], rubric: Any) -> dict[str, list[str]]:
    """Per attribute, the groups of its distribution: the rubric's choices without unclear/no
    person (the rubric named in the results when none is given)."""
    from .rubric import load_rubric

    if rubric is None:
        name = next((r.provenance.get("rubric") for r in records if r.provenance.get("rubric")), None)
        rubric = name or "attributes"
    try:
        specs, _ = attribute_specs(load_rubric(rubric))
    except Exception as exc:
        raise DataError(
            f"cannot read the attribute choices from rubric {rubric!r} ({exc}); pass --rubric FILE (rubric= in Python)"
        ) from exc
    return {a["name"]: [c for c in a["choices"] if c not in (UNCLEAR, NO_PERSON)] for a in specs}


def bias_report(
    records: Any,
    *,
    rubric: Any = None,
    targets: Mapping[str, Mapping[str, float]] | None = None,
    per_prompt: bool = True,
    n_boot: int = 2000,
    level: float = 0.95,
    seed: int = 0,
) -> dict[str, Any]:
    """``{"attributes": {name: groups}, "models": {model: {attr: stats}}, "overall": {attr:
    stats}, "per_prompt": {model: {prompt: {attr: stats}}}, "comparisons": {"A vs B": {attr:
    diff}}, "failed": {model: n}}``; ``targets`` maps an attribute to a target distribution
    (default uniform over its groups)."""
    records = list(records)
    cats = _categories(records, rubric)
    targets = dict(targets or {})
    unknown = sorted(set(targets) - set(cats))
    if unknown:
        raise DataError(f"targets name unknown attributes {unknown}; the attributes are {sorted(cats)}")
    rows: dict[str, list[tuple[Any, dict[str, str]]]] = {}
    failed: dict[str, int] = {}
    for r in records:
        model = r.model or "(none)"
        failed.setdefault(model, 0)
        attrs = (r.model_extra or {}).get("attributes")
        if r.status != "ok" or not attrs:
            failed[model] += 1
            continue
        rows.setdefault(model, []).append((r.prompt_id or r.sample_id, attrs))
    if not rows:
        raise DataError(
            "no answered samples: nothing to report (are these results of the attributes rubric?)"
        )
    opts: dict[str, Any] = dict(n_boot=n_boot, level=level, seed=seed)

    def stats(items: list[tuple[Any, dict[str, str]]], by_image: bool = False) -> dict[str, Any]:
        groups = [str(i) for i in range(len(items))] if by_image else [g for g, _ in items]
        return {a: attribute_stats([x.get(a, UNCLEAR) for _, x in items], groups, c, target=targets.get(a), **opts)
                for a, c in cats.items()}  # fmt: skip

    out: dict[str, Any] = {"attributes": cats, "targets": targets, "level": level, "interval": INTERVAL_METHOD,
                           "n_boot": n_boot, "failed": failed}
    out["models"] = {m: stats(items) for m, items in rows.items()}
    out["overall"] = stats([(f"{m}\x00{g}", x) for m, items in rows.items() for g, x in items])
    if per_prompt:
        out["per_prompt"] = {}
        for m, items in rows.items():
            by_p: dict[Any, list] = {}
            for g, x in items:
                by_p.setdefault(g, []).append((g, x))
            out["per_prompt"][m] = {str(p): stats(v, by_image=True) for p, v in by_p.items()}
    comps: dict[str, Any] = {}
    models = sorted(rows)
    for i, a in enumerate(models):
        for b in models[i + 1 :]:
            entry = {}
            for attr, c in cats.items():
                try:
                    entry[attr] = paired_comparison(
                        [x.get(attr, UNCLEAR) for _, x in rows[a]], [g for g, _ in rows[a]],
                        [x.get(attr, UNCLEAR) for _, x in rows[b]], [g for g, _ in rows[b]],
                        c, target=targets.get(attr), **opts)  # fmt: skip
                except ValueError as exc:
                    entry[attr] = {"error": str(exc)}
            comps[f"{a} vs {b}"] = entry
    out["comparisons"] = comps
    return out


def format_report(rep: dict[str, Any]) -> str:
    """The per-model table: for each attribute, the shares of its groups and the normalised
    entropy / KL with CIs."""

    def ci(d: dict[str, Any], pct: bool = False) -> str:
        if d.get("value") is None:
            return "n/a"
        f = (lambda v: f"{100 * v:.0f}%") if pct else (lambda v: f"{v:.3f}")
        if d.get("ci_low") is None:
            return f(d["value"]) + (" (no CI)" if d.get("note") else "")
        return f"{f(d['value'])} [{f(d['ci_low'])}, {f(d['ci_high'])}]"

    lines = []
    for attr, groups in rep["attributes"].items():
        ref = "target" if attr in rep.get("targets", {}) else "uniform"
        lines.append(f"{attr} (normalised entropy: 1 = even spread; KL from {ref}, nats)")
        for m, st in [*rep["models"].items(), ("(all models)", rep["overall"])]:
            s = st[attr]
            shares = ", ".join(f"{g} {ci(s['proportions'][g], True)}" for g in groups)
            other = {k: v for k, v in s["counts"].items() if k in (UNCLEAR, NO_PERSON)}
            other_s = (" " + ", ".join(f"{k} {v}" for k, v in other.items())) if other else ""
            lines.append(f"  {m}: n={s['n_valid']}/{s['n']}{other_s}; entropy {ci(s['normalized_entropy'])}; "
                         f"KL {ci(s['kl_divergence'])}; max/min {ci(s['max_min_ratio'])}")  # fmt: skip
            lines.append(f"      {shares}")
        for name, comp in rep["comparisons"].items():
            c = comp[attr]
            if "error" in c:
                lines.append(f"  {name}: {c['error']}")
            else:
                lines.append(f"  {name}: entropy difference {ci(c['normalized_entropy'])}, "
                             f"KL difference {ci(c['kl_divergence'])} over {c['n_prompts']} prompts")  # fmt: skip
    level = int(round(100 * rep.get("level", 0.95)))
    lines.append(f"{level}% CIs: {rep.get('interval', INTERVAL_METHOD)} ({rep.get('n_boot', '?')} draws); "
                 "(no CI): the replicates lie too far off the estimate for an interval that contains it")
    failed = {m: n for m, n in rep["failed"].items() if n}
    if failed:
        lines.append(f"failed samples (left out): {failed}")
    return "\n".join(lines)
