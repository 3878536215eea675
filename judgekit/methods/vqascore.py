"""VQAScore: the probability that the judge answers "yes" to "does this image show '{prompt}'?".

Read from the token log-probabilities at the first answer position. Two named variants, both
always recorded in ``scores``:

- ``p_yes``: the probability mass of every case/space variant of "yes" at that position
  ("Yes", " yes", "YES", ...), summed over the top-k candidates the backend returned;
- ``p_yes_normalized``: P(yes) / (P(yes) + P(no)), which discounts mass spent on other tokens.

``options.variant`` picks which one is ``overall`` (default ``p_yes``). A backend that returns
no logprobs (e.g. ``replay:``, or a server that ignores ``logprobs``) makes each sample fail with
that reason; it never falls back to a guessed probability.

Token probabilities are read with ``judgekit.backends.logprobs`` (shared with the engines), after skipping
a leading whitespace-only token; this works on ``ChatResponse.logprobs`` from any backend.

>>> from judgekit.types import TokenLogprob
>>> import math
>>> lp = [TokenLogprob("Yes", math.log(0.6), [("Yes", math.log(0.6)), ("yes", math.log(0.1)), ("No", math.log(0.2))])]
>>> p_yes, p_no = answer_probabilities(lp)
>>> round(p_yes, 3), round(p_no, 3)
(0.7, 0.2)
"""

from __future__ import annotations

from typing import Any, Literal

from ..backends.logprobs import answer_probability_request, token_probabilities
from ..errors import BackendError, SampleError, VerdictParseError
from ..images import load_image_part
from ..prompts import render_messages
from ..rubric import Rubric
from ..types import ChatRequest, ChatResponse, Result, Sample, TokenLogprob
from ._common import MethodOptions, parse_options
from .base import CallOutcome, JudgeCall, rubric_provenance

VARIANTS = ("p_yes", "p_yes_normalized")
NO_LOGPROBS = ("the backend returned no token logprobs; VQAScore and probability answers need a backend that "
               "does (vllm:, hf:, or an openai: server that returns top_logprobs)")


def first_answer_position(logprobs: list[TokenLogprob]) -> int:
    """Index of the first generated position whose token is not pure whitespace (some chat
    templates emit a leading space or newline token before the answer)."""
    for i, pos in enumerate(logprobs):
        if pos.token.strip():
            return i
    raise VerdictParseError("the reply has no answer token")


def answer_probabilities(logprobs: list[TokenLogprob] | None, yes: str = "yes", no: str = "no",
                         ) -> tuple[float, float]:
    """(P(yes), P(no)) at the first answer position, each summed over its case and
    leading-space variants among the top logprobs (``judgekit.backends.logprobs.token_probabilities``,
    the engines' shared reading). A reply without logprobs is a parse failure with the reason."""
    if not logprobs:
        raise VerdictParseError(NO_LOGPROBS)
    start = first_answer_position(logprobs)
    try:
        p = token_probabilities(ChatResponse(logprobs=logprobs[start:]), (yes, no))
    except BackendError as exc:
        raise VerdictParseError(str(exc)) from None
    return min(p[yes], 1.0), min(p[no], 1.0)


def normalized_yes(p_yes: float, p_no: float) -> float | None:
    """P(yes) / (P(yes) + P(no)); None when neither word is among the candidates."""
    total = p_yes + p_no
    return p_yes / total if total > 0 else None


def probability_request(messages, top_logprobs: int = 20) -> ChatRequest:
    """One unconstrained answer token with its top-k alternatives (a JSON grammar would mask
    the answer tokens' probabilities)."""
    return answer_probability_request(messages, top_logprobs=top_logprobs)


class VQAScoreOptions(MethodOptions):
    variant: Literal["p_yes", "p_yes_normalized"] = "p_yes"  # which probability is ``overall``
    top_logprobs: int = 20


class VQAScoreMethod:
    kind = "vqascore"
    #: What its template is given (the sample's inputs are not passed through).
    template_variables = frozenset({"prompt", "image"})

    def __init__(self, rubric: Rubric, parse_retries: int = 0, replay: bool = False, **options: Any):
        self.rubric = rubric
        opts = parse_options(VQAScoreOptions, rubric, options)
        self.variant, self.top_logprobs = opts.variant, opts.top_logprobs
        self.template = rubric.template if rubric.template != "pointwise.j2" else "vqascore.j2"
        self._provenance = rubric_provenance(rubric, [self.template], variant=self.variant)

    def provenance(self) -> dict[str, Any]:
        return self._provenance

    def plan(self, sample: Sample) -> list[JudgeCall]:
        if not sample.prompt:
            raise SampleError(f"sample {sample.id!r} has no 'prompt', which VQAScore needs")
        if not sample.image:
            raise SampleError(f"sample {sample.id!r} has no 'image', which VQAScore needs")
        image = load_image_part(sample.image, "image")
        msgs = render_messages(self.template, {"prompt": sample.prompt}, {"image": image}, self.rubric.base_dir)

        def parse(resp: ChatResponse) -> dict[str, Any]:
            p_yes, p_no = answer_probabilities(resp.logprobs)
            return {"p_yes": p_yes, "p_no": p_no, "p_yes_normalized": normalized_yes(p_yes, p_no)}

        # Retrying a reply without logprobs would only repeat it.
        return [JudgeCall("vqascore", probability_request(msgs, self.top_logprobs), parse, 0)]

    def combine(self, sample: Sample, outcomes: dict[str, CallOutcome]) -> Result:
        o = outcomes["vqascore"]
        if not o.ok:
            return Result.for_sample(sample, self.rubric.name, status="failed", error=o.error,
                          details={"raw_reply": o.response.text if o.response else None})
        v = o.value
        overall = v[self.variant]
        if overall is None:
            return Result.for_sample(sample, self.rubric.name, status="failed", scores={k: v[k] for k in VARIANTS},
                          error="neither yes nor no is among the top answer tokens; the normalized score is undefined",
                          details={"p_no": v["p_no"]})
        logprobs = o.response.logprobs if o.response else None
        assert logprobs, "a defined score was parsed from this reply's logprobs"
        return Result.for_sample(sample, self.rubric.name, status="ok", scores={k: v[k] for k in VARIANTS}, overall=overall,
                                 details={"p_no": v["p_no"], "answer_token": logprobs[first_answer_position(logprobs)].token})
