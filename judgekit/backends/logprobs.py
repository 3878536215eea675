"""Token probabilities of short answers (``Yes``/``No``), the same way on every backend.

VQAScore and the yes/no question methods need P("Yes") at the first generated position. Any
backend that returns top logprobs serves it: vLLM, transformers, and OpenAI-compatible servers.

Ask with an UNCONSTRAINED one-token request: under a JSON grammar the engines report logprobs
after the grammar mask (disallowed tokens read as -inf, or -9999 from a vLLM server), so the
answer tokens would look impossible.

Example (``backend`` is any judgekit backend; this runs inside an event loop)::

    req = answer_probability_request(messages)
    (resp,) = await backend.generate([req])
    token_probabilities(resp)          # {"Yes": 0.71, "No": 0.27}
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence

from ..errors import BackendError
from ..types import ChatRequest, ChatResponse, Message


def answer_probability_request(
    messages: Sequence[Message], top_logprobs: int = 20, seed: int | None = 0
) -> ChatRequest:
    """One unconstrained, greedy, one-token request that returns the top logprobs of the
    first position (20 is the most OpenAI-compatible servers allow)."""
    return ChatRequest(
        messages=tuple(messages),
        json_schema=None,
        max_tokens=1,
        temperature=0.0,
        seed=seed,
        logprobs=True,
        top_logprobs=top_logprobs,
    )


def _normalise(token: str) -> str:
    """The spelling an answer token is compared by: lower case, without one leading space (or
    the byte-level BPE space marker ``Ġ`` / SentencePiece ``▁``, for servers that return raw
    token strings)."""
    t = token
    for mark in (" ", "Ġ", "▁"):
        if t.startswith(mark):
            t = t[len(mark):]
            break
    return t.lower()


def token_probabilities(
    response: ChatResponse, answers: Iterable[str] = ("Yes", "No")
) -> dict[str, float]:
    """P(answer) at the first generated position, summing its case and leading-space variants
    found among the top logprobs (a variant outside the top list counts as 0).

    Raises BackendError when the response carries no logprobs (the backend or server does not
    return them, or the request did not ask) or when the request failed.

    >>> from judgekit.types import TokenLogprob
    >>> r = ChatResponse(text="Yes", logprobs=[TokenLogprob("Yes", -0.5,
    ...     [("Yes", -0.5), (" yes", -2.0), ("No", -1.5)])])
    >>> {k: round(v, 3) for k, v in token_probabilities(r).items()}
    {'Yes': 0.742, 'No': 0.223}
    """
    if response.error:
        raise BackendError(f"cannot read token probabilities of a failed request: {response.error}")
    if not response.logprobs:
        raise BackendError(
            "the backend returned no logprobs: ask with answer_probability_request(...) and use a "
            "backend that reports top logprobs (vllm:, hf:, or an OpenAI-compatible server that "
            "supports `logprobs`/`top_logprobs`)"
        )
    first = response.logprobs[0]
    top = first.top or [(first.token, first.logprob)]
    if first.token not in {t for t, _ in top}:
        top = [*top, (first.token, first.logprob)]
    wanted = {a: a.lower() for a in answers}
    out = {a: 0.0 for a in wanted}
    seen: set[str] = set()
    for tok, lp in top:
        if tok in seen or lp is None or not math.isfinite(lp):
            continue  # duplicates, and tokens a grammar masked out
        seen.add(tok)
        norm = _normalise(tok)
        for a, form in wanted.items():
            if norm == form:
                out[a] += math.exp(lp)
    return out


__all__ = ["answer_probability_request", "token_probabilities"]
