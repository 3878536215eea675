"""Does the judge return usable ``top_logprobs``? Asked once per run, before the first call of a
rubric that reads answer probabilities (VQAScore, probability answers to questions).

Many current API models return no logprobs at all (t2v_metrics' README lists GPT-5 and later,
and Gemini outside Vertex AI), and a server may accept ``logprobs`` and silently ignore it. A
run that needs them must stop at once with the alternatives rather than fail every sample, and
must never fall back to something else without saying so: ``--answers text`` is that explicit
choice (yes/no read from the reply's text, recorded as ``scoring_mode: text``).

``LogprobCheck(backend, what)`` has the ``preflight()`` shape, so a ``ReadyGate`` runs it once
on the first cache miss (a fully cached rerun asks nothing).
"""

from __future__ import annotations

from typing import Any

from ..errors import ConfigError
from ..types import ChatResponse, Message, TextPart
from .logprobs import answer_probability_request

#: The probe: a text-only yes/no question, one token, the top 5 alternatives.
PROBE_TEXT = "Answer with one word, yes or no: is the number four even?"


def usable_logprobs(resp: ChatResponse) -> str | None:
    """Why ``resp`` has no usable top logprobs, or None when it has them."""
    if resp.error is not None:
        return f"the probe request failed ({resp.error})"
    if not resp.logprobs:
        return "the reply carries no logprobs"
    if not any(pos.top for pos in resp.logprobs):
        return "the reply carries logprobs but no top_logprobs alternatives"
    return None


class LogprobCheck:
    def __init__(self, backend: Any, what: str):
        self.backend, self.what = backend, what

    async def preflight(self) -> None:
        req = answer_probability_request((Message("user", (TextPart(PROBE_TEXT),)),), top_logprobs=5)
        (resp,) = await self.backend.generate([req])
        why = usable_logprobs(resp)
        if why is not None:
            raise ConfigError(
                f"{self.backend.spec} returns no usable top_logprobs ({why}), which {self.what} needs: use a backend "
                "that returns them (vllm:MODEL, hf:MODEL, or an OpenAI-compatible server that honours logprobs and "
                "top_logprobs), or pass --answers text to read yes/no from the reply's text (scores 0/1, recorded "
                "as scoring_mode: text)")
