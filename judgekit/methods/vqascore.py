"""VQAScore: the probability that the judge answers "yes" to "does this image show '{prompt}'?".

Read from the token log-probabilities at the first answer position. Two named variants, both
always recorded in ``scores``:

- ``p_yes``: the probability mass of every case/space variant of "yes" at that position
  ("Yes", " yes", "YES", ...), summed over the top-k candidates the backend returned;
- ``p_yes_normalized``: P(yes) / (P(yes) + P(no)), which discounts mass spent on other tokens.

``options.variant`` picks which one is ``overall`` (default ``p_yes``). A backend that returns
no logprobs (e.g. ``replay:``, or a server that ignores ``logprobs``) makes each sample fail with
that reason; it never falls back to a guessed probability. The runner asks once per run whether
the judge returns top logprobs and stops with the alternatives when it does not
(backends/logprob_probe.py).

``options.answers: text`` (``--answers text``) is the explicit alternative for judges without
logprobs: the reply's text is read as yes or no, ``scores`` is ``{"answer_yes": 1 or 0}`` and
``overall`` the same 0/1. Every record says which it was in ``scoring_mode`` (``logprob`` or
``text``); summaries never average the two together without saying so.

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
from ..errors import BackendError, ConfigError, SampleError, VerdictParseError
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


def text_answer(text: str) -> float:
    """1.0 for a reply whose first word is yes, 0.0 for no (case, quotes and punctuation aside);
    anything else is a parse failure, never a guess.

    >>> text_answer("Yes."), text_answer(" no, it shows a dog")
    (1.0, 0.0)
    """
    words = text.strip().split()
    first = words[0].strip(".,!:;\"'*`()").lower() if words else ""
    if first in ("yes", "no"):
        return 1.0 if first == "yes" else 0.0
    raise VerdictParseError(f"the reply is neither yes nor no: {text.strip()[:80]!r}", text)


def answers_options(rubric: Rubric, answers: str) -> dict[str, Any]:
    """The method options of ``--answers`` (none for the default ``logprob``)."""
    if answers not in ("logprob", "text"):
        raise ConfigError(f"--answers must be logprob or text, got {answers!r}")
    if answers == "logprob":
        return {}
    if rubric.kind not in ("vqascore", "questions"):
        raise ConfigError(f"--answers text applies to rubrics that read answer probabilities (vqascore, questions); "
                          f"rubric {rubric.name!r} is of kind {rubric.kind!r}")
    return {"answers": "text"}


def probability_request(messages, top_logprobs: int = 20) -> ChatRequest:
    """One unconstrained answer token with its top-k alternatives (a JSON grammar would mask
    the answer tokens' probabilities)."""
    return answer_probability_request(messages, top_logprobs=top_logprobs)


class VQAScoreOptions(MethodOptions):
    variant: Literal["p_yes", "p_yes_normalized"] = "p_yes"  # which probability is ``overall``
    top_logprobs: int = 20
    answers: Literal["logprob", "text"] = "logprob"  # text: yes/no read from the reply (--answers text)


class VQAScoreMethod:
    kind = "vqascore"
    #: What its template is given (the sample's inputs are not passed through).
    template_variables = frozenset({"prompt", "image"})

    def __init__(self, rubric: Rubric, parse_retries: int = 0, replay: bool = False, **options: Any):
        self.rubric = rubric
        opts = parse_options(VQAScoreOptions, rubric, options)
        self.variant, self.top_logprobs = opts.variant, opts.top_logprobs
        self.answers = opts.answers
        self.parse_retries = parse_retries
        self.template = rubric.template if rubric.template != "pointwise.j2" else "vqascore.j2"
        self._provenance = rubric_provenance(rubric, [self.template], variant=self.variant, scoring_mode=self.answers)

    def provenance(self) -> dict[str, Any]:
        return self._provenance

    @property
    def needs_logprobs(self) -> bool:
        """Whether the runner must check, before the first call, that the judge returns them."""
        return self.answers == "logprob"

    def plan(self, sample: Sample) -> list[JudgeCall]:
        if not sample.prompt:
            raise SampleError(f"sample {sample.id!r} has no 'prompt', which VQAScore needs")
        if not sample.image:
            raise SampleError(f"sample {sample.id!r} has no 'image', which VQAScore needs")
        image = load_image_part(sample.image, "image")
        msgs = render_messages(self.template, {"prompt": sample.prompt}, {"image": image}, self.rubric.base_dir)
        if self.answers == "text":
            # A few tokens, no logprobs: the word itself is the answer.
            req = ChatRequest(tuple(msgs), None, max_tokens=8)
            return [JudgeCall("vqascore", req, lambda resp: {"answer_yes": text_answer(resp.text)}, self.parse_retries)]

        def parse(resp: ChatResponse) -> dict[str, Any]:
            p_yes, p_no = answer_probabilities(resp.logprobs)
            return {"p_yes": p_yes, "p_no": p_no, "p_yes_normalized": normalized_yes(p_yes, p_no)}

        # Retrying a reply without logprobs would only repeat it.
        return [JudgeCall("vqascore", probability_request(msgs, self.top_logprobs), parse, 0)]

    def combine(self, sample: Sample, outcomes: dict[str, CallOutcome]) -> Result:
        o = outcomes["vqascore"]
        mode = {"scoring_mode": self.answers}
        if not o.ok:
            return Result.for_sample(sample, self.rubric.name, status="failed", error=o.error, **mode,
                          details={"raw_reply": o.response.text if o.response else None})
        v = o.value
        if self.answers == "text":
            return Result.for_sample(sample, self.rubric.name, status="ok", scores=dict(v), overall=v["answer_yes"],
                                     **mode, details={"raw_reply": o.response.text if o.response else None})
        overall = v[self.variant]
        if overall is None:
            return Result.for_sample(sample, self.rubric.name, status="failed", scores={k: v[k] for k in VARIANTS}, **mode,
                          error="neither yes nor no is among the top answer tokens; the normalized score is undefined",
                          details={"p_no": v["p_no"]})
        logprobs = o.response.logprobs if o.response else None
        assert logprobs, "a defined score was parsed from this reply's logprobs"
        return Result.for_sample(sample, self.rubric.name, status="ok", scores={k: v[k] for k in VARIANTS}, overall=overall, **mode,
                                 details={"p_no": v["p_no"], "answer_token": logprobs[first_answer_position(logprobs)].token})
