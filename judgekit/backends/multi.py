"""``openai:MODEL`` over several OpenAI-compatible servers of the same model (``--base-url``
repeated, or ``--base-urls FILE``): one backend whose requests an ``EndpointPool`` spreads.

Every endpoint is the same judge, so the spec (``openai:MODEL``), the cache keys and the verdicts
are those of a one-server run; only ``describe()`` lists the servers. A request that fails on one
server in a transient way (refused or dropped connection, timeout, 5xx, 429) is sent again at
once to another one, and that server sits out a back-off period (pool.py); a request fails only
after ``max_attempts`` tries, and as one ``ChatResponse(error=...)`` like the one-server backend's.

Request bodies and the HTTP call are the one-server backend's (``OpenAIBackend._params``), so a
fix there applies here.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Sequence
from typing import Any, Literal

import openai
from openai.types.chat import ChatCompletion

from ..errors import BackendError, ConfigError
from ..types import ChatRequest, ChatResponse, ImagePart
from .openai import OpenAIBackend, _is_transient, _retry_after, completion_response, missing_v1_hint
from .pool import EndpointPool


class MultiEndpointBackend:
    max_batch_size = 1  # requests overlap, up to `concurrency` per endpoint

    def __init__(
        self,
        model: str,
        base_url: Sequence[str],
        api_key: str | None = None,
        concurrency: int = 16,
        timeout: float = 120.0,
        max_attempts: int | None = None,
        backoff_base: float = 1.0,
        backoff_max: float = 30.0,
        response_format: Literal["json_schema", "json_object", "none"] = "json_schema",
        extra_body: dict[str, Any] | None = None,
        cache_tag: str | None = None,
    ):
        urls = [base_url] if isinstance(base_url, str) else list(base_url)
        # One single-server backend per URL: it builds the request bodies and holds the client.
        self._servers = {u: OpenAIBackend(model, base_url=u, api_key=api_key, concurrency=concurrency, timeout=timeout,
                                          max_attempts=1, response_format=response_format, extra_body=extra_body,
                                          cache_tag=cache_tag)
                         for u in urls}
        self.pool = EndpointPool(urls, limit=concurrency, backoff=backoff_base, backoff_max=backoff_max)
        self.model, self.spec = model, f"openai:{model}"
        self.base_urls = urls
        self.response_format = response_format
        self.timeout = timeout
        # Enough tries to go round every server and then some: one dead server must never be
        # what fails a request.
        self.max_attempts = max_attempts if max_attempts is not None else max(6, 2 * len(urls))
        if self.max_attempts < 1:
            raise ConfigError(f"max_attempts must be at least 1, got {self.max_attempts}")
        #: Set at the first 401/403 from any server: the run stops (see OpenAIBackend._response).
        self._key_refused: BackendError | None = None
        #: Requests in flight over all endpoints: the runner sizes its window of samples on it.
        self.concurrency = concurrency * len(urls)

    def describe(self) -> dict[str, Any]:
        return {"spec": self.spec, "model": self.model, "base_urls": self.base_urls, "response_format": self.response_format}

    def cache_identity(self) -> dict[str, Any]:
        # The servers answer as one judge: the identity of any one of them, which holds no URL,
        # so the same request hits the cache whichever server answered it, and after a server
        # is dropped from (or added to) the list. Each reply names its server in raw["endpoint"].
        return next(iter(self._servers.values())).cache_identity()

    def run_info(self) -> dict[str, Any]:
        return {"endpoints": self.pool.counts()}

    async def _one(self, req: ChatRequest) -> ChatResponse:
        start = time.perf_counter()
        body: bytes | None = None
        last = "no attempt made"
        for _ in range(self.max_attempts):
            ep = await self.pool.acquire()
            if self._key_refused is not None:  # a server refused the key: stop, as one server does
                await self.pool.give_back(ep)
                raise self._key_refused
            server = self._servers[ep.url]
            client, _ = server._ensure()
            body = body or await _encoded_body(server, req)  # the same bytes whichever server takes it
            try:
                completion = await client.post("/chat/completions", content=body, options=_JSON,
                                               cast_to=ChatCompletion)
            except openai.OpenAIError as exc:
                transient = _is_transient(exc)
                await self.pool.release(ep, ok=False, unwell=transient, retry_after=_retry_after(exc))
                if isinstance(exc, openai.APIStatusError) and exc.status_code in (401, 403):
                    self._key_refused = self._key_refused or server._key_refusal(ep.url, exc)
                    raise self._key_refused from None
                last = server._scrub(_describe_error(exc, ep.url, self.timeout))
                if transient:
                    continue
                return ChatResponse(error=last, raw={"endpoint": ep.url})
            except BaseException:
                await self.pool.release(ep, ok=False)
                raise
            await self.pool.release(ep, ok=True)
            resp = completion_response(completion, time.perf_counter() - start)
            resp.raw = {**(resp.raw or {}), "endpoint": ep.url}  # the one server that answered
            return resp
        return ChatResponse(error=f"failed on every endpoint after {self.max_attempts} attempts; last: {last}")

    async def generate(self, requests: Sequence[ChatRequest]) -> list[ChatResponse]:
        return list(await asyncio.gather(*(self._one(r) for r in requests)))

    async def aclose(self) -> None:
        for server in self._servers.values():
            await server.aclose()


#: Request options for a body sent as ready JSON bytes.
_JSON: Any = {"headers": {"Content-Type": "application/json"}}

#: Image bytes in one request above which its body is encoded in a worker thread: base64 and
#: JSON over megabytes take milliseconds that would stall every other request's I/O.
OFF_LOOP_BYTES = 256 * 1024


async def _encoded_body(server: OpenAIBackend, req: ChatRequest) -> bytes:
    """The request's JSON body, built once per request (not per attempt or server); images are
    base64-encoded once per image (``image_data_uri``), off the event loop when they are large."""
    def encode() -> bytes:
        return json.dumps(server._params(req), ensure_ascii=False, separators=(",", ":")).encode()

    size = sum(len(p.data) for m in req.messages for p in m.content if isinstance(p, ImagePart))
    return await asyncio.to_thread(encode) if size > OFF_LOOP_BYTES else encode()


def _describe_error(exc: BaseException, url: str, timeout: float) -> str:
    if isinstance(exc, openai.APIStatusError):
        return f"HTTP {exc.status_code} from {url}: {exc.message}" + (missing_v1_hint(url) if exc.status_code == 404 else "")
    if isinstance(exc, openai.APITimeoutError):
        return f"{url} timed out ({timeout:g} s)"
    if isinstance(exc, openai.APIConnectionError):
        return f"connection to {url} failed: {exc}"
    return f"{type(exc).__name__} from {url}: {exc}"


__all__ = ["MultiEndpointBackend"]
