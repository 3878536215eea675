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

from typing import Any, Literal

from ..errors import RubricError, SampleError, VerdictParseError
from ..images import load_image_part
from ..prompts import render_messages
from ..rubric import Rubric
from ..summaries import ORDERS  # the two judging orders, shared with the summary
from ..types import ChatRequest, ChatResponse, Result, Sample
from ..verdict import check_reasoning, parse_json_object
from ._common import MethodOptions, parse_options, sample_variables
from .base import CallOutcome, JudgeCall, rubric_provenance

MERGE_RULES = ("tie", "inconsistent")
#: What the judge's label means in each order, in model terms.
_TO_MODEL = {"AB": {"A": "model_a", "B": "model_b", "tie": "tie"}, "BA": {"A": "model_b", "B": "model_a", "tie": "tie"}}
_SCORE_A = {"model_a": 1.0, "model_b": 0.0, "tie": 0.5}


def verdict_schema() -> dict[str, Any]:
    """``{"reasoning": str, "winner": "A" | "B" | "tie"}``, reasoning first."""
    return {
        "type": "object",
        "properties": {
            "reasoning": {"type": "string", "minLength": 1,
                          "description": "the comparison of the two images on this criterion"},
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
        check_reasoning(obj["reasoning"])
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


class PairwiseOptions(MethodOptions):
    merge: Literal["tie", "inconsistent"] = "tie"  # what a disagreement between the two orders becomes
    primary: str | None = None  # the dimension whose winner is ``winner`` (default: the first)


class PairwiseMethod:
    kind = "pairwise"
    #: What a pairwise template is given besides the sample's text inputs.
    template_variables = frozenset({"inputs", "dimension", "criteria", "dimensions", "image"})

    def __init__(self, rubric: Rubric, parse_retries: int = 2, replay: bool = False, **options: Any):
        if not rubric.dimensions:
            raise RubricError(f"{rubric.source}: field 'dimensions': a pairwise rubric needs at least one")
        opts = parse_options(PairwiseOptions, rubric, options)
        self.merge = opts.merge
        names = [d.name for d in rubric.dimensions]
        self.primary = opts.primary or names[0]
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
        return Result.for_sample(
            sample,
            self.rubric.name,
            model=None,  # a pair has two models: model_a and model_b below
            status="ok" if ok else "failed",
            scores=scores,
            overall=None,
            reasoning=reasoning,
            error="; ".join(errors) or None,
            details=details,
            model_a=sample.model_a,
            model_b=sample.model_b,
            winner=winners[self.primary] if ok else None,
            winners=winners,
        )


def _parse(resp: ChatResponse) -> dict[str, str]:
    return parse_pairwise_verdict(resp.text)
