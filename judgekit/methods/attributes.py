"""Perceived attributes of the people in an image, as constrained JSON choices (rubric kind
``attributes``, the built-in ``attributes`` rubric).

One call per image: the judge reasons first, then picks one choice per attribute (the JSON schema
makes each answer an ``enum``). Every attribute always offers ``unclear`` and ``no person``
(added when a rubric's choices lack them). The person count is the consistency anchor: when it
says ``no person`` every other attribute must too, and when it names people none may; a reply
that breaks this is a parse failure (retried, then recorded), never patched.

The answers land in the result as ``attributes`` (``{name: choice}``); ``scores`` stays empty.
Statistics over them: ``judgekit.bias`` and ``judgekit bias report``.
"""

from __future__ import annotations

from typing import Any

from ..errors import RubricError, VerdictParseError
from ..prompts import render_messages
from ..rubric import Rubric
from ..types import ChatRequest, ChatResponse, Result, Sample
from ..verdict import parse_json_object
from ._common import MethodOptions, parse_options, sample_images, sample_variables
from .base import CallOutcome, JudgeCall, rubric_provenance

UNCLEAR, NO_PERSON = "unclear", "no person"
_KEY = "attributes"


def attribute_specs(rubric: Rubric) -> tuple[list[dict[str, Any]], str]:
    """The rubric's ``options.attributes`` (name, question, choices with unclear/no person
    appended when missing) and the name of the person-count attribute."""
    raw = rubric.options.get("attributes")
    where = f"{rubric.source}: field 'options.attributes'"
    if not isinstance(raw, list) or not raw:
        raise RubricError(f"{where}: an attributes rubric needs a list of {{name, question, choices}}")
    specs, names = [], set()
    for i, a in enumerate(raw):
        if not isinstance(a, dict) or not {"name", "question", "choices"} <= set(a):
            raise RubricError(f"{where}[{i}]: needs 'name', 'question' and 'choices'")
        choices = [str(c) for c in a["choices"]]
        if len(set(choices)) != len(choices) or len(choices) < 1:
            raise RubricError(f"{where}[{i}] ({a['name']}): choices must be a non-empty list without repeats")
        for extra in (UNCLEAR, NO_PERSON):
            if extra not in choices:
                choices.append(extra)
        if a["name"] in names:
            raise RubricError(f"{where}: attribute {a['name']!r} appears twice")
        names.add(a["name"])
        specs.append({"name": str(a["name"]), "question": str(a["question"]), "choices": choices})
    count = str(rubric.options.get("count_attribute", specs[0]["name"]))
    if count not in names:
        raise RubricError(f"{rubric.source}: field 'options.count_attribute': {count!r} is not an attribute")
    return specs, count


def attributes_schema(specs: list[dict[str, Any]]) -> dict[str, Any]:
    props: dict[str, Any] = {
        "reasoning": {"type": "string", "description": "what in the image the answers rest on"}
    }
    for a in specs:
        props[a["name"]] = {"type": "string", "enum": a["choices"]}
    return {"type": "object", "properties": props, "required": list(props), "additionalProperties": False}


def parse_attributes(text: str, specs: list[dict[str, Any]], count: str) -> dict[str, Any]:
    try:
        obj = parse_json_object(text)
        if not isinstance(obj.get("reasoning"), str):
            raise VerdictParseError("reply lacks a 'reasoning' string")
        out = {}
        for a in specs:
            v = obj.get(a["name"])
            wanted = {c.lower(): c for c in a["choices"]}
            if not isinstance(v, str) or v.strip().lower() not in wanted:
                raise VerdictParseError(f"{a['name']}: {v!r} is not one of {a['choices']}")
            out[a["name"]] = wanted[v.strip().lower()]
        c = out[count]
        if c != UNCLEAR:
            bad = [k for k, v in out.items() if k != count and (v == NO_PERSON) != (c == NO_PERSON)]
            if bad:
                raise VerdictParseError(
                    f"{count} is {c!r} but {bad} say{'s' if len(bad) == 1 else ''} otherwise"
                )
        return {"attributes": out, "reasoning": obj["reasoning"]}
    except VerdictParseError as exc:
        raise VerdictParseError(exc.reason, text) from None


class AttributesOptions(MethodOptions):
    attributes: list[dict[str, Any]]  # name, question, choices (checked by attribute_specs)
    count_attribute: str | None = None


class AttributesMethod:
    kind = "attributes"

    def __init__(self, rubric: Rubric, parse_retries: int = 2, replay: bool = False, **options: Any):
        # Validated like every kind's options (a typo is a RubricError); the specs are read from
        # the rubric file, where they are written.
        parse_options(AttributesOptions, rubric, options)
        self.rubric = rubric
        self.parse_retries = parse_retries
        self.specs, self.count = attribute_specs(rubric)
        self._provenance = rubric_provenance(rubric, [rubric.template])

    def provenance(self) -> dict[str, Any]:
        return self._provenance

    def plan(self, sample: Sample) -> list[JudgeCall]:
        r = self.rubric
        variables = {**sample_variables(sample, r.inputs), "inputs": r.inputs, "attributes": self.specs}
        msgs = render_messages(r.template, variables, sample_images(sample, r.inputs), r.base_dir)
        req = ChatRequest(msgs, attributes_schema(self.specs), "attributes", max_tokens=r.max_tokens)

        def parse(resp: ChatResponse) -> dict[str, Any]:
            return parse_attributes(resp.text, self.specs, self.count)

        return [JudgeCall(_KEY, req, parse, self.parse_retries)]

    def combine(self, sample: Sample, outcomes: dict[str, CallOutcome]) -> Result:
        o = outcomes[_KEY]
        details: dict[str, Any] = {}
        if not o.ok and o.response is not None:
            details["raw_replies"] = {_KEY: o.response.text}
        if o.attempts > 1:
            details["attempts"] = {_KEY: o.attempts}
        return Result(
            sample_id=sample.id,
            prompt_id=sample.prompt_id,
            model=sample.model,
            rubric=self.rubric.name,
            status="ok" if o.ok else "failed",
            reasoning={_KEY: o.value["reasoning"]} if o.ok else {},
            error=None if o.ok else f"attributes: {o.error}",
            details=details,
            meta=sample.meta,
            attributes=o.value["attributes"] if o.ok else None,
        )
