"""Pairwise judging with position swapping (rubric kind ``pairwise``).

A pairwise sample carries ``image_a``/``image_b`` (and ``model_a``/``model_b``). Every
dimension is judged twice: once with image_a shown first (order ``AB``) and once with image_b
shown first (``BA``). Each verdict is ``{"reasoning": ..., "winner": "A" | "B" | "tie"}``, where
A is whichever image was shown first. The two verdicts, mapped back to the models, merge as:

    both orders name the same model  -> that model wins
    both orders say tie              -> tie
    anything else (disagreement)     -> "tie" (merge rule ``tie``, the default)
                                        or "inconsistent" (merge rule ``inconsistent``)

The merge rule is the rubric option ``merge`` (``--option merge=inconsistent`` on the CLI).
Results keep both raw verdicts in ``details``; ``winner`` is ``model_a | model_b | tie |
inconsistent`` for the primary dimension (rubric option ``primary``, default the first one) and
``winners`` holds every dimension's. ``scores[dim]`` is model_a's score (1, 0.5, 0; None when
inconsistent). ``pairwise_summary`` reports win rates, the position-consistency rate and how
often the first-shown image wins.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from ..errors import DataError, RubricError, VerdictParseError
from ..images import load_image_part
from ..prompts import render_messages
from ..results import Summary
from ..rubric import Rubric
from ..types import ChatRequest, ChatResponse, Result, Sample
from ..verdict import parse_json_object
from .base import CallOutcome, JudgeCall, SampleError, rubric_provenance
from .pointwise import sample_variables

ORDERS = ("AB", "BA")
MERGE_RULES = ("tie", "inconsistent")
#: What the judge's label means in each order, in model terms.
_TO_MODEL = {"AB": {"A": "model_a", "B": "model_b", "tie": "tie"}, "BA": {"A": "model_b", "B": "model_a", "tie": "tie"}}
_SCORE_A = {"model_a": 1.0, "model_b": 0.0, "tie": 0.5}


def verdict_schema() -> dict[str, Any]:
    """``{"reasoning": str, "winner": "A" | "B" | "tie"}``, reasoning first."""
    return {
        "type": "object",
        "properties": {
            "reasoning": {"type": "string", "description": "the comparison of the two images on this criterion"},
            "winner": {"type": "string", "enum": ["A", "B", "tie"], "description": "A: first image, B: second image"},
        },
        "required": ["reasoning", "winner"],
        "additionalProperties": False,
    }


def parse_pairwise_verdict(text: str) -> dict[str, str]:
    """Reply text -> ``{"reasoning", "winner"}`` with winner exactly ``A``, ``B`` or ``tie``
    (case-insensitive); anything else raises ``VerdictParseError`` with the raw text."""
    try:
        obj = parse_json_object(text)
        missing = [k for k in ("reasoning", "winner") if k not in obj]
        if missing:
            raise VerdictParseError(f"verdict lacks {missing}")
        if not isinstance(obj["reasoning"], str):
            raise VerdictParseError("reasoning must be a string")
        w = obj["winner"]
        label = {"a": "A", "b": "B", "tie": "tie"}.get(w.strip().lower()) if isinstance(w, str) else None
        if label is None:
            raise VerdictParseError(f"winner must be 'A', 'B' or 'tie', got {w!r}")
        return {"reasoning": obj["reasoning"], "winner": label}
    except VerdictParseError as exc:
        raise VerdictParseError(exc.reason, text) from None


def merge_verdicts(ab: str, ba: str, rule: str = "tie") -> str:
    """Merge the labels judged in order AB and in order BA into ``model_a``, ``model_b``,
    ``tie`` or (rule ``inconsistent``) ``inconsistent``.

    >>> merge_verdicts("A", "B")        # image_a won shown first and shown second
    'model_a'
    >>> merge_verdicts("A", "A"), merge_verdicts("A", "A", rule="inconsistent")
    ('tie', 'inconsistent')
    """
    if rule not in MERGE_RULES:
        raise RubricError(f"merge rule must be one of {MERGE_RULES}, not {rule!r}")
    first, second = _TO_MODEL["AB"][ab], _TO_MODEL["BA"][ba]
    if first == second:
        return first
    return "tie" if rule == "tie" else "inconsistent"


class PairwiseMethod:
    kind = "pairwise"

    def __init__(self, rubric: Rubric, parse_retries: int = 2, **options: Any):
        if not rubric.dimensions:
            raise RubricError(f"{rubric.source}: field 'dimensions': a pairwise rubric needs at least one")
        opts = {**rubric.options, **{k: v for k, v in options.items() if k in ("merge", "primary")}}
        unknown = sorted(set(rubric.options) - {"merge", "primary"})
        if unknown:
            raise RubricError(f"{rubric.source}: field 'options': {unknown} are not pairwise options (merge, primary)")
        self.merge = str(opts.get("merge", "tie"))
        if self.merge not in MERGE_RULES:
            raise RubricError(f"{rubric.source}: option 'merge': {self.merge!r} is not one of {list(MERGE_RULES)}")
        names = [d.name for d in rubric.dimensions]
        self.primary = str(opts.get("primary", names[0]))
        if self.primary not in names:
            raise RubricError(f"{rubric.source}: option 'primary': {self.primary!r} is not a dimension ({names})")
        for need in ("image_a", "image_b"):
            if need not in rubric.inputs:
                raise RubricError(f"{rubric.source}: field 'inputs': a pairwise rubric needs {need!r}")
        self.rubric = rubric
        self.parse_retries = parse_retries
        self._provenance = rubric_provenance(
            rubric, (d.template or rubric.template for d in rubric.dimensions), merge=self.merge, primary=self.primary
        )

    def provenance(self) -> dict[str, Any]:
        return self._provenance

    def plan(self, sample: Sample) -> list[JudgeCall]:
        r = self.rubric
        if not sample.image_a or not sample.image_b:
            raise SampleError(f"sample {sample.id!r} needs image_a and image_b for a pairwise rubric")
        part_a, part_b = load_image_part(sample.image_a, "image_a"), load_image_part(sample.image_b, "image_b")
        shown = {"AB": {"first": part_a, "second": part_b}, "BA": {"first": part_b, "second": part_a}}
        calls = []
        for dim in r.dimensions:
            inputs = dim.inputs or r.inputs
            variables = {
                **sample_variables(sample, inputs),
                "inputs": inputs,
                "dimension": dim.name,
                "criteria": dim.criteria,
                "dimensions": [{"name": d.name, "criteria": d.criteria} for d in r.dimensions],
            }
            for order in ORDERS:
                msgs = render_messages(dim.template or r.template, variables, shown[order], r.base_dir)
                req = ChatRequest(msgs, verdict_schema(), "pairwise_verdict", max_tokens=r.max_tokens)
                calls.append(JudgeCall(f"{order}:{dim.name}", req, _parse, self.parse_retries))
        return calls

    def combine(self, sample: Sample, outcomes: dict[str, CallOutcome]) -> Result:
        winners: dict[str, str | None] = {}
        scores: dict[str, float | None] = {}
        reasoning: dict[str, str] = {}
        verdicts: dict[str, dict[str, Any]] = {}
        errors: list[str] = []
        raw: dict[str, str] = {}
        for dim in self.rubric.dimensions:
            got: dict[str, str] = {}
            verdicts[dim.name] = {}
            for order in ORDERS:
                o = outcomes[f"{order}:{dim.name}"]
                if o.ok:
                    verdicts[dim.name][order] = o.value
                    reasoning[f"{dim.name}:{order}"] = o.value["reasoning"]
                    got[order] = o.value["winner"]
                else:
                    errors.append(f"{dim.name} ({order}): {o.error}")
                    if o.response is not None:
                        raw[f"{order}:{dim.name}"] = o.response.text
            if len(got) == 2:
                w = merge_verdicts(got["AB"], got["BA"], self.merge)
                verdicts[dim.name]["consistent"] = _TO_MODEL["AB"][got["AB"]] == _TO_MODEL["BA"][got["BA"]]
            else:
                w = None
            winners[dim.name] = w
            scores[dim.name] = _SCORE_A.get(w) if w else None
        details: dict[str, Any] = {"verdicts": verdicts, "merge": self.merge}
        if raw:
            details["raw_replies"] = raw
        attempts = {k: o.attempts for k, o in outcomes.items() if o.attempts > 1}
        if attempts:
            details["attempts"] = attempts
        ok = not errors
        return Result(
            sample_id=sample.id,
            prompt_id=sample.prompt_id,
            model=None,
            rubric=self.rubric.name,
            status="ok" if ok else "failed",
            scores=scores,
            overall=None,
            reasoning=reasoning,
            error="; ".join(errors) or None,
            details=details,
            meta=sample.meta,
            model_a=sample.model_a,
            model_b=sample.model_b,
            winner=winners[self.primary] if ok else None,
            winners=winners,
        )


def _parse(resp: ChatResponse) -> dict[str, str]:
    return parse_pairwise_verdict(resp.text)


# --- summary ------------------------------------------------------------------------------------


@dataclass
class PairwiseSummary(Summary):
    """Per-model win rates with bootstrap CIs, plus the judge's position statistics in
    ``position`` (also shown in the title)."""

    position: dict[str, Any] = field(default_factory=dict)


def position_stats(records: list[Result], dimension: str | None = None) -> dict[str, Any]:
    """Position-consistency rate (both orders name the same winner, ties included) and the
    rate at which the first-shown image wins ((A + tie/2) / verdicts, over both orders), from
    the raw verdicts kept in pairwise results. Pairs missing an order are left out."""
    pairs = consistent = 0
    first = verdicts = 0.0
    for r in records:
        per_dim = (r.details or {}).get("verdicts") or {}
        dims = [dimension] if dimension else list(per_dim)
        for d in dims:
            v = per_dim.get(d) or {}
            for order in ORDERS:
                if order in v:
                    verdicts += 1
                    first += {"A": 1.0, "tie": 0.5, "B": 0.0}[v[order]["winner"]]
            if "AB" in v and "BA" in v:
                pairs += 1
                consistent += bool(v.get("consistent"))
    return {
        "dimension": dimension or "all",
        "pairs": pairs,
        "position_consistency": consistent / pairs if pairs else float("nan"),
        "verdicts": int(verdicts),
        "first_shown_win_rate": first / verdicts if verdicts else float("nan"),
    }


def pairwise_summary(records: list[Result], n_boot: int = 1000, seed: int = 0, dimension: str | None = None) -> PairwiseSummary:
    """Win rate (W + T/2) / N of every model with a prompt-bootstrap CI; an ``inconsistent``
    outcome counts as a tie. Failed samples are counted, never silently dropped."""
    from ..stats.battles import Battles
    from ..stats.ratings import win_rates

    failed = sum(r.status == "failed" for r in records)
    inconsistent = 0
    rows_in = []
    for r in records:
        if r.status != "ok":
            continue
        extra = r.model_extra or {}
        w = (extra.get("winners") or {}).get(dimension) if dimension else extra.get("winner")
        if w is None or not extra.get("model_a") or not extra.get("model_b"):
            continue
        inconsistent += w == "inconsistent"
        rows_in.append({"model_a": extra["model_a"], "model_b": extra["model_b"], "winner": w, "prompt_id": r.prompt_id})
    pos = position_stats(records, dimension)
    title = (
        f"pairwise: {len(records)} pairs, {failed} failed, {inconsistent} inconsistent (counted as ties); "
        f"position consistency {pos['position_consistency']:.3f} over {pos['pairs']} judged pairs; "
        f"first-shown image wins {pos['first_shown_win_rate']:.3f} of {pos['verdicts']} verdicts"
    )
    cols = ["model", "n", "wins", "losses", "ties", "win_rate", "ci_low", "ci_high"]
    if not rows_in:
        return PairwiseSummary([], cols, title, pos)
    try:
        battles = Battles.from_records(rows_in, source="pairwise results")
    except DataError as exc:
        return PairwiseSummary([], cols, f"{title}\n(no win rates: {exc})", pos)
    rates = win_rates(battles, n_boot=n_boot, seed=seed)
    wlt = battles.record_counts()
    rows = []
    for i, m in enumerate(battles.models):
        e = rates[m]
        rows.append({"model": m, "n": e.n, "wins": int(wlt[i, 0]), "losses": int(wlt[i, 1]), "ties": int(wlt[i, 2]),
                     "win_rate": e.value, "ci_low": e.lo, "ci_high": e.hi})
    rows.sort(key=lambda row: -row["win_rate"])
    return PairwiseSummary(rows, cols, title, pos)
