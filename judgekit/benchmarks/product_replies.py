"""Several questions about one image, each its own judge call read by a benchmark's parser, and
the image's score the product of the answers: ``100 x prod(overall_i / 100)``.

This is T2I-CompBench++'s attribute protocol (colour, shape, texture): one question per noun
chunk of the prompt, each answer a level mapped to 10/20/75/100 %, the image scoring the product
(``Share_eval.py``). A sample lists its questions in ``meta["questions"]``: each a dict of
template fields laid over ``meta["fields"]``; everything else (the template, an earlier exchange
in ``meta["turns"]``, the images) is ``bench-reply``'s. Each question is asked on its own, with
only the earlier exchange before it, as the official script does.

A question whose reply never parses fails the image, with every reply kept: the official script
skips it inside the product (that chunk counting 100 %), which would raise the image's score.
"""

from __future__ import annotations

from typing import Any

from ..errors import SampleError
from ..kinds import register_kind
from ..methods.base import CallOutcome, JudgeCall
from ..types import Result, Sample
from .replies import ReplyMethod


def _key(i: int) -> str:
    return f"q{i + 1}"


class ProductReplyMethod(ReplyMethod):
    kind = "bench-product"

    def plan(self, sample: Sample) -> list[JudgeCall]:
        questions = sample.meta.get("questions") or []
        if not questions and not sample.meta.get("blocked"):
            raise SampleError(f"sample {sample.id!r} has no questions")
        calls = []
        for i, fields in enumerate(questions or [{}]):
            one = sample.model_copy(update={"meta": {**sample.meta, "fields": {**sample.meta.get("fields", {}), **fields}}})
            call = super().plan(one)[0]  # raises for a blocked sample or a missing image
            call.key = _key(i)
            calls.append(call)
        return calls

    def combine(self, sample: Sample, outcomes: dict[str, CallOutcome]) -> Result:
        questions = sample.meta.get("questions") or []
        answers: list[dict[str, Any]] = []
        for i, fields in enumerate(questions):
            o = outcomes[_key(i)]
            answers.append({**fields, **(o.value or {}), "reply": o.response.text if o.response else None,
                            **({"error": o.error} if o.error else {})})
        failed = [(i, outcomes[_key(i)].error) for i in range(len(questions)) if not outcomes[_key(i)].ok]
        if failed:
            i, error = failed[0]
            more = f" (and {len(failed) - 1} more)" if len(failed) > 1 else ""
            return Result.for_sample(sample, self.rubric.name, status="failed", error=f"question {i + 1}{more}: {error}",
                                     details={"answers": answers})
        product = 100.0
        for a in answers:
            product *= a["overall"] / 100.0
        return Result.for_sample(sample, self.rubric.name, status="ok", scores={"overall": product}, overall=product,
                                 details={"answers": answers})


register_kind("bench-product", ProductReplyMethod)
