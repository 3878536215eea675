"""Pointwise rubric judging: each dimension scored on the rubric's scale (one call per
dimension by default, or all dimensions in one call), combined by the rubric's rule."""

from __future__ import annotations

from typing import Any

from ..errors import RubricError
from ..prompts import render_messages
from ..rubric import Dimension, Rubric
from ..types import ChatRequest, ChatResponse, Result, Sample
from ..verdict import all_dimensions_schema, dimension_schema, parse_all_dimensions, parse_verdict
from ._common import MethodOptions, parse_options, sample_images, sample_variables
from .base import CallOutcome, JudgeCall, rubric_provenance

_ALL = "__all__"


class PointwiseOptions(MethodOptions):
    """A pointwise rubric has no options of its own: everything is in its fields."""


class PointwiseMethod:
    kind = "pointwise"
    #: Subclasses that add options (see docs/extending.md) name their own options model here.
    options_model: type[MethodOptions] = PointwiseOptions
    #: What a pointwise template is given besides the sample's text inputs (``rubrics validate``
    #: refuses a template that uses anything else).
    template_variables = frozenset({"inputs", "dimension", "criteria", "dimensions", "per_call", "scale", "labels", "image"})

    def __init__(self, rubric: Rubric, parse_retries: int = 2, replay: bool = False, **options: Any):
        self.options = parse_options(self.options_model, rubric, options)
        if not rubric.dimensions:
            raise RubricError(f"{rubric.source}: field 'dimensions': a pointwise rubric needs at least one")
        self.rubric = rubric
        self.parse_retries = parse_retries
        self._provenance = rubric_provenance(rubric, (d.template or rubric.template for d in rubric.dimensions))

    def provenance(self) -> dict[str, Any]:
        return self._provenance

    def _variables(self, sample: Sample, dim: Dimension | None, inputs: list[str]) -> dict[str, Any]:
        scale = self.rubric.scale
        return {
            **sample_variables(sample, inputs),
            "inputs": inputs,
            "dimension": dim.name if dim else "",
            "criteria": dim.criteria if dim else "",
            "dimensions": [{"name": d.name, "criteria": d.criteria} for d in self.rubric.dimensions],
            "per_call": self.rubric.per_call,
            "scale": {"min": scale.min, "max": scale.max, "integer": scale.integer},
            "labels": sorted(scale.labels.items()),
        }

    def plan(self, sample: Sample) -> list[JudgeCall]:
        r = self.rubric
        images_cache: dict[tuple[str, ...], dict] = {}

        def images_for(inputs: list[str]) -> dict:
            key = tuple(inputs)
            if key not in images_cache:
                images_cache[key] = sample_images(sample, inputs)
            return images_cache[key]

        if r.per_call == "all":
            # One call sees what any dimension needs (the rubric's inputs first).
            inputs = list(dict.fromkeys([*r.inputs, *(i for d in r.dimensions for i in (d.inputs or []))]))
            msgs = render_messages(r.template, self._variables(sample, None, inputs), images_for(inputs), r.base_dir)
            req = ChatRequest(msgs, all_dimensions_schema(r), "verdicts", max_tokens=r.max_tokens * len(r.dimensions))
            return [JudgeCall(_ALL, req, lambda resp: parse_all_dimensions(resp.text, r), self.parse_retries)]

        calls = []
        for dim in r.dimensions:
            inputs = dim.inputs or r.inputs
            msgs = render_messages(
                dim.template or r.template, self._variables(sample, dim, inputs), images_for(inputs), r.base_dir
            )
            req = ChatRequest(msgs, dimension_schema(r.scale), "verdict", max_tokens=r.max_tokens)
            calls.append(JudgeCall(dim.name, req, self._parser(), self.parse_retries))
        return calls

    def _parser(self):
        scale = self.rubric.scale

        def parse(resp: ChatResponse):
            return parse_verdict(resp.text, scale)

        return parse

    def combine(self, sample: Sample, outcomes: dict[str, CallOutcome]) -> Result:
        r = self.rubric
        scores: dict[str, float | None] = {}
        reasoning: dict[str, str] = {}
        errors: list[str] = []
        raw: dict[str, str] = {}
        if _ALL in outcomes:
            o = outcomes[_ALL]
            verdicts = o.value or {}
            if not o.ok:
                errors.append(f"all dimensions: {o.error}")
                if o.response is not None:
                    raw[_ALL] = o.response.text
            for d in r.dimensions:
                v = verdicts.get(d.name)
                scores[d.name] = v.score if v else None
                if v:
                    reasoning[d.name] = v.reasoning
        else:
            for d in r.dimensions:
                o = outcomes[d.name]
                if o.ok:
                    scores[d.name], reasoning[d.name] = o.value.score, o.value.reasoning
                else:
                    scores[d.name] = None
                    errors.append(f"{d.name}: {o.error}")
                    if o.response is not None:
                        raw[d.name] = o.response.text
        ok = not errors
        details: dict[str, Any] = {}
        if raw:
            details["raw_replies"] = raw
        attempts = {k: o.attempts for k, o in outcomes.items() if o.attempts > 1}
        if attempts:
            details["attempts"] = attempts
        # Group scores (VIEScore's SC and PQ: the min of each group) ride along as an extra
        # field, so calibration can target `--dimension SC` on judgekit's own results too.
        group_extra = {"groups": r.group_scores(scores)} if r.groups() else {}
        return Result.for_sample(
            sample,
            r.name,
            **group_extra,
            status="ok" if ok else "failed",
            scores=scores,
            overall=r.combine_scores(scores) if ok else None,
            reasoning=reasoning,
            error="; ".join(errors) or None,
            details=details,
        )
