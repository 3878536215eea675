"""The backend protocol: async, batch-first (vLLM is natively batched; an HTTP backend fans a
batch out under its own concurrency limit)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Protocol, runtime_checkable

from ..types import ChatRequest, ChatResponse


@runtime_checkable
class Backend(Protocol):
    #: The spec the backend was built from (``openai:gpt-4o``); recorded in provenance. Never
    #: contains secrets.
    spec: str
    #: How many requests the runner should hand over in one ``generate`` call. 1 for HTTP
    #: backends (they overlap single requests); large for engines that batch internally.
    max_batch_size: int
    # Optional: ``async preflight()``, one cheap check that raises a JudgekitError with the reason
    # when the backend cannot answer at all; run once before the first request (preflight.py).
    # Optional: ``replays_answers = True`` for a backend that answers from recorded files keyed
    # by ``ChatRequest.meta`` (replay:); the runner then tells methods to read no image.

    async def generate(self, requests: Sequence[ChatRequest]) -> list[ChatResponse]:
        """One response per request, in order. Per-request failures come back as
        ``ChatResponse(error=...)``; only configuration errors raise."""
        ...

    async def aclose(self) -> None: ...

    def describe(self) -> dict[str, Any]:
        """Provenance: spec, model, engine options (no secrets)."""
        ...

    def cache_identity(self) -> dict[str, Any]:
        """Everything about this backend that can change an answer, as JSON-able data: the
        spec, ``endpoint`` (where answers come from: a model directory, a file), and whatever
        else shapes a reply (model, response format, engine arguments, model revision, engine
        version). Part of every response-cache key, so two backends share cached answers only
        when this is equal. Never a secret (no API key), nor settings that only change speed or
        resources (concurrency, timeouts, memory share), nor which of several equivalent servers
        answers: an HTTP backend leaves its URLs out and names the server of each reply in
        ``ChatResponse.raw["endpoint"]`` instead."""
        ...
