"""Verdicts: the JSON schema the judge must follow, and turning a reply into a validated value.

The schema lists ``reasoning`` before ``score`` so that constrained decoding makes the judge
reason first. Parsing is strict: a reply is repaired only by steps that cannot change its
meaning (strip a markdown code fence, take the one JSON object embedded in prose), and a score
outside the rubric's scale is a failure, never clamped.
"""

from __future__ import annotations

import json
import math
import re
from typing import Any

from .errors import VerdictParseError
from .rubric import Rubric, Scale
from .types import ChatResponse, Verdict

_FENCE = re.compile(r"^\s*```[A-Za-z0-9_-]*\s*\n(.*?)\n?\s*```\s*$", re.DOTALL)


def _embedded_objects(text: str) -> list[Any]:
    """Every top-level JSON object that decodes at a ``{`` in ``text``, left to right."""
    decoder = json.JSONDecoder()
    found, i = [], text.find("{")
    while i != -1:
        try:
            obj, end = decoder.raw_decode(text, i)
        except json.JSONDecodeError:
            i = text.find("{", i + 1)
            continue
        found.append(obj)
        i = text.find("{", end)
    return found


def parse_json_object(text: str) -> dict[str, Any]:
    """The JSON object in a reply, after lossless repair only.

    >>> parse_json_object('```json\\n{"score": 3}\\n```')
    {'score': 3}
    """
    if text is None or not text.strip():
        raise VerdictParseError("empty reply", text)
    candidates = [text]
    fenced = _FENCE.match(text)
    if fenced:
        candidates.append(fenced.group(1))
    for cand in candidates:
        try:
            obj = json.loads(cand)
        except json.JSONDecodeError:
            continue
        if isinstance(obj, dict):
            return obj
        raise VerdictParseError(f"reply is JSON but not an object ({type(obj).__name__})", text)
    objects = [o for o in _embedded_objects(text) if isinstance(o, dict)]
    if len(objects) == 1:
        return objects[0]
    if len(objects) > 1:
        raise VerdictParseError(f"reply holds {len(objects)} JSON objects; expected exactly one", text)
    raise VerdictParseError("reply holds no JSON object", text)


def explain_invalid(response: ChatResponse | None, reason: str, max_tokens: int) -> str:
    """Why ``response`` is no verdict, saying so when the server itself told: a refusal (its
    text kept), or a reply cut off at the token limit (then the parse ``reason`` is a symptom)."""
    raw = (response.raw if response is not None else None) or {}
    if raw.get("refusal"):
        return f"the judge refused: {' '.join(str(raw['refusal']).split())}"
    if raw.get("finish_reason") == "length":
        return (f"the reply was cut off at the token limit (max_tokens {max_tokens}) before the verdict was "
                f"complete ({reason}); raise max_tokens in the rubric")
    return reason


def score_schema(scale: Scale, description: str = "") -> dict[str, Any]:
    s: dict[str, Any] = {"type": "integer" if scale.integer else "number"}
    s["minimum"], s["maximum"] = (int(scale.min), int(scale.max)) if scale.integer else (scale.min, scale.max)
    if description:
        s["description"] = description
    return s


def dimension_schema(scale: Scale) -> dict[str, Any]:
    """``{"reasoning": str, "score": number}``, reasoning first, nothing else allowed."""
    return {
        "type": "object",
        "properties": {
            # Reasoning before the score is the method: an empty one is not a verdict.
            "reasoning": {"type": "string", "minLength": 1, "description": "what in the image supports the score"},
            "score": score_schema(scale, f"from {scale.min:g} (worst) to {scale.max:g} (best)"),
        },
        "required": ["reasoning", "score"],
        "additionalProperties": False,
    }


def all_dimensions_schema(rubric: Rubric) -> dict[str, Any]:
    """One object per dimension, in rubric order, for rubrics judged in a single call."""
    props = {d.name: dimension_schema(rubric.scale) for d in rubric.dimensions}
    return {"type": "object", "properties": props, "required": list(props), "additionalProperties": False}


def validate_score(value: Any, scale: Scale) -> float:
    # bool is an int in Python; a judge answering `true` has not given a score.
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise VerdictParseError(f"score must be a number, got {value!r}")
    if not math.isfinite(value):
        raise VerdictParseError(f"score must be finite, got {value!r}")
    if scale.integer and float(value) != int(value):
        raise VerdictParseError(f"score must be a whole number on this scale, got {value!r}")
    if not scale.min <= value <= scale.max:
        raise VerdictParseError(f"score {value!r} is outside the scale [{scale.min:g}, {scale.max:g}]")
    return float(value)


def check_reasoning(value: Any) -> str:
    """The verdict's reasoning, which must be a non-blank string: the judge reasons before it
    scores, so a bare score is not a verdict (and is retried like any invalid reply)."""
    if not isinstance(value, str):
        raise VerdictParseError("reasoning must be a string")
    if not value.strip():
        raise VerdictParseError("reasoning is empty; a verdict must give its reasoning before the score")
    return value


def validate_verdict(obj: Any, scale: Scale) -> Verdict:
    if not isinstance(obj, dict):
        raise VerdictParseError(f"expected an object with reasoning and score, got {type(obj).__name__}")
    missing = [k for k in ("reasoning", "score") if k not in obj]
    if missing:
        raise VerdictParseError(f"verdict lacks {missing}")
    check_reasoning(obj["reasoning"])
    return Verdict(reasoning=obj["reasoning"], score=validate_score(obj["score"], scale))


def parse_verdict(text: str, scale: Scale) -> Verdict:
    """Reply text -> validated Verdict, or ``VerdictParseError`` carrying the raw text."""
    try:
        return validate_verdict(parse_json_object(text), scale)
    except VerdictParseError as exc:
        raise VerdictParseError(exc.reason, text) from None


def parse_all_dimensions(text: str, rubric: Rubric) -> dict[str, Verdict]:
    try:
        obj = parse_json_object(text)
        missing = [d.name for d in rubric.dimensions if d.name not in obj]
        if missing:
            raise VerdictParseError(f"reply lacks dimensions {missing}")
        return {d.name: validate_verdict(obj[d.name], rubric.scale) for d in rubric.dimensions}
    except VerdictParseError as exc:
        raise VerdictParseError(exc.reason, text) from None
