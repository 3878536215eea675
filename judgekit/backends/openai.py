"""Any OpenAI-compatible chat-completions server: OpenAI, ``vllm serve``, SGLang, LM Studio...

Requests fan out under a concurrency limit; transient failures (429 with ``Retry-After``
honoured, 5xx, timeouts, dropped connections) are retried with exponential backoff and jitter;
a request that still fails comes back as ``ChatResponse(error=...)`` so the run goes on. The
API key is only ever handed to the client: it is scrubbed from every error message and never
part of the spec, the cache key or the provenance.
"""

from __future__ import annotations

import asyncio
import base64
import functools
import inspect
import os
import random
import sys
import time
from collections.abc import Sequence
from typing import Any, Literal

import openai
from openai.types.chat import ChatCompletion
from tenacity import AsyncRetrying, RetryCallState, retry_if_exception, stop_after_attempt

from ..errors import BackendError, ConfigError
from ..types import ChatRequest, ChatResponse, ImagePart, Message, TokenLogprob
from .options import refuse_unknown

#: How long the pre-flight ``GET /models`` may take: a server that does not list its models in
#: this time is not going to answer judge calls either.
PREFLIGHT_TIMEOUT_S = 15.0

#: Where the openai client sends requests when neither base_url nor $OPENAI_BASE_URL is set.
OPENAI_DEFAULT_BASE_URL = "https://api.openai.com/v1"

#: A key shorter than this is not a secret worth hiding (placeholders such as "EMPTY", test
#: keys such as "o"), and masking it would garble every message holding those letters.
MIN_SECRET_LENGTH = 8


def scrub_secret(text: str, secret: str | None) -> str:
    """``text`` with every occurrence of the exact ``secret`` replaced by ``***``; a secret
    shorter than ``MIN_SECRET_LENGTH`` leaves the text as it is."""
    if not secret or len(secret) < MIN_SECRET_LENGTH:
        return text
    return text.replace(secret, "***")


_TRANSIENT = (openai.RateLimitError, openai.InternalServerError, openai.APITimeoutError, openai.APIConnectionError)


def _is_transient(exc: BaseException) -> bool:
    if isinstance(exc, _TRANSIENT):
        return True
    # Some servers answer 502/503/504 through a generic APIStatusError subclass.
    return isinstance(exc, openai.APIStatusError) and exc.status_code >= 500


def _retry_after(exc: BaseException | None) -> float | None:
    response = getattr(exc, "response", None)
    headers = getattr(response, "headers", None)
    if not headers:
        return None
    value = headers.get("retry-after-ms")
    if value:
        try:
            return float(value) / 1000.0
        except ValueError:
            pass
    value = headers.get("retry-after")
    try:
        return float(value) if value is not None else None
    except ValueError:
        return None  # an HTTP date: fall back to exponential backoff


def missing_v1_hint(url: str) -> str:
    """For a 404: when the base URL has no path (``http://host:8000``), the likely fix, since
    OpenAI-compatible servers (vLLM, SGLang, LM Studio, OpenAI) serve under ``/v1``."""
    from urllib.parse import urlsplit

    if urlsplit(url).path.rstrip("/"):
        return ""
    return f"; the base URL has no /v1 path, which OpenAI-compatible servers serve under: try --base-url {url.rstrip('/')}/v1"


def _connect_reason(exc: BaseException) -> str:
    """The OS's words for a failed connection ("Connection refused", "Name or service not
    known"), found down the chain of causes; the client's own text says only "Connection error"."""
    seen: BaseException | None = exc
    reason = ""
    while seen is not None:
        if isinstance(seen, OSError) and seen.errno:
            return os.strerror(seen.errno) if isinstance(seen.errno, int) and seen.errno > 0 else str(seen)
        if str(seen) and not reason.startswith("["):
            reason = " ".join(str(seen).split())
        seen = seen.__cause__ or seen.__context__
    return reason or type(exc).__name__


@functools.lru_cache(maxsize=128)
def image_data_uri(data: bytes, media_type: str) -> str:
    """An image as a ``data:`` URI, encoded once: a sample's dimensions, its retries and the
    servers it is tried on share one string. Keyed on the bytes object, whose hash Python keeps,
    so a hit on the same image costs no second pass over it."""
    return f"data:{media_type};base64,{base64.b64encode(data).decode()}"


def message_to_openai(m: Message) -> dict[str, Any]:
    if m.role != "user" or all(not isinstance(p, ImagePart) for p in m.content):
        return {"role": m.role, "content": m.text}
    parts = []
    for p in m.content:
        if isinstance(p, ImagePart):
            url = image_data_uri(p.data, p.media_type)
            parts.append({"type": "image_url", "image_url": {"url": url}})
        else:
            parts.append({"type": "text", "text": p.text})
    return {"role": m.role, "content": parts}


#: Keywords that some servers' strict structured outputs refuse (HTTP 400 "... is not permitted")
#: while vLLM and llguidance honour them. The schema is sent whole; after one such refusal the
#: backend sends schemas without these for the rest of the run (the verdict parser enforces
#: them anyway: an empty reasoning is still refused when the reply is parsed).
_NOT_IN_STRICT_MODE = frozenset({"minLength", "maxLength"})


def strict_subset(schema: Any) -> Any:
    """``schema`` without the keywords strict mode may refuse (recursively; a copy)."""
    if isinstance(schema, dict):
        return {k: strict_subset(v) for k, v in schema.items() if k not in _NOT_IN_STRICT_MODE}
    if isinstance(schema, list):
        return [strict_subset(v) for v in schema]
    return schema


def completion_response(completion: ChatCompletion, latency: float) -> ChatResponse:
    """A chat completion as judgekit's ``ChatResponse`` (text, logprobs, usage)."""
    if not completion.choices:
        return ChatResponse(error="server returned no choices", latency_s=latency)
    choice = completion.choices[0]
    logprobs = None
    if choice.logprobs is not None and choice.logprobs.content is not None:
        logprobs = [TokenLogprob(t.token, t.logprob, [(x.token, x.logprob) for x in (t.top_logprobs or [])])
                    for t in choice.logprobs.content]
    usage = completion.usage.model_dump(include={"prompt_tokens", "completion_tokens"}) if completion.usage else {}
    details = completion.usage.prompt_tokens_details if completion.usage else None
    if details is not None and details.cached_tokens is not None:  # the provider's prompt cache (cheaper)
        usage["cached_tokens"] = details.cached_tokens
    raw: dict[str, Any] = {"id": completion.id, "finish_reason": choice.finish_reason}
    refusal = getattr(choice.message, "refusal", None)
    if refusal and not choice.message.content:
        raw["refusal"] = refusal  # kept as the reply's text too, so the result shows what the judge said
    return ChatResponse(text=choice.message.content or refusal or "", logprobs=logprobs,
                        usage={k: v for k, v in usage.items() if v is not None}, latency_s=latency,
                        raw=raw,
                        # Who answered: an alias (gpt-4o) is served as a dated snapshot (judge_card.py).
                        served={k: v for k, v in (("served_model", completion.model),
                                                  ("system_fingerprint", completion.system_fingerprint)) if v})


class OpenAIBackend:
    max_batch_size = 1  # requests overlap instead: see `concurrency`

    def __init__(
        self,
        model: str,
        base_url: str | None = None,
        api_key: str | None = None,
        concurrency: int = 16,
        timeout: float = 120.0,
        max_attempts: int = 6,
        backoff_base: float = 1.0,
        backoff_max: float = 60.0,
        response_format: Literal["json_schema", "json_object", "none"] = "json_schema",
        extra_body: dict[str, Any] | None = None,
        cache_tag: str | None = None,
        **unknown: Any,
    ):
        refuse_unknown(f"openai:{model}", unknown, _OPTIONS)
        if concurrency < 1:
            raise ConfigError(f"concurrency must be at least 1, got {concurrency}")
        if response_format not in ("json_schema", "json_object", "none"):
            raise ConfigError(f"response_format must be json_schema, json_object or none, got {response_format!r}")
        self.model = model
        self.spec = f"openai:{model}"
        self.base_url = base_url or os.environ.get("OPENAI_BASE_URL")
        self._api_key = api_key or os.environ.get("OPENAI_API_KEY") or "EMPTY"
        self.concurrency = concurrency
        self.timeout = timeout
        self.max_attempts = max_attempts
        self.backoff_base, self.backoff_max = backoff_base, backoff_max
        self.response_format = response_format
        self.extra_body = extra_body or {}
        self.cache_tag = cache_tag
        self._client: openai.AsyncOpenAI | None = None
        self._sem: asyncio.Semaphore | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._strict_subset = False  # set after a server refused a schema keyword (see strict_subset)
        #: Set at the first 401/403: no later request can succeed, so none is sent (see _response).
        self._key_refused: BackendError | None = None

    # The client and semaphore bind to the running loop, so they are made on first use, and
    # made again when the backend is reused from another loop (e.g. two `jk.score` calls).
    def _ensure(self) -> tuple[openai.AsyncOpenAI, asyncio.Semaphore]:
        loop = asyncio.get_running_loop()
        if self._client is None or self._loop is not loop:
            self._loop = loop
            self._client = openai.AsyncOpenAI(
                base_url=self.base_url, api_key=self._api_key, timeout=self.timeout, max_retries=0
            )
            self._sem = asyncio.Semaphore(self.concurrency)
        return self._client, self._sem  # type: ignore[return-value]

    def describe(self) -> dict[str, Any]:
        return {"spec": self.spec, "model": self.model, "base_url": self.base_url, "response_format": self.response_format}

    @property
    def endpoint(self) -> str:
        """The URL requests go to, as recorded with every reply (``raw["endpoint"]``)."""
        return (self.base_url or OPENAI_DEFAULT_BASE_URL).rstrip("/")

    def cache_identity(self) -> dict[str, Any]:
        # The model served, how JSON is asked for, and any server-specific body fields. Not the
        # URL: servers of one model with the same settings answer as one judge, so dropping a
        # dead one, adding one or moving one keeps the cache (several --base-url: multi.py). A
        # user whose servers differ under one model name says so with ``cache_tag``.
        # Concurrency, timeouts and retry settings change no answer; the API key is a secret.
        ident = {"spec": self.spec, "model": self.model, "response_format": self.response_format,
                 "extra_body": self.extra_body}
        if self.cache_tag is not None:
            ident["cache_tag"] = self.cache_tag
        return ident

    def _scrub(self, text: str) -> str:
        return scrub_secret(text, self._api_key)

    # --- pre-flight ------------------------------------------------------------------------

    async def preflight(self) -> None:
        """One cheap check before the first judge call: ``GET /models``, and when the model is
        not listed (or the server has no /models), one 1-token chat request. Connection
        refused, 401/403 and 404 (no such model) raise ``BackendError`` naming the URL and the
        reason; anything else (429, 5xx, a 400 about the tiny request) lets the run go on, where
        the per-request retries handle it."""
        client, _ = self._ensure()
        url = str(client.base_url).rstrip("/")
        if self.base_url is None:
            print(f"judgekit: {self.spec}: no --base-url and no $OPENAI_BASE_URL; using {url}", file=sys.stderr)
        listed: list[str] = []
        quick = min(self.timeout, PREFLIGHT_TIMEOUT_S)
        try:
            page = await client.with_options(timeout=quick).models.list()
            listed = [m.id for m in page.data]
        except openai.NotFoundError:
            pass  # a server without /models: the chat request below decides
        except openai.APIError as exc:
            self._refuse(url, exc, quick)
        if self.model in listed:
            return
        probe = {"model": self.model, "messages": [{"role": "user", "content": "Reply with OK."}],
                 "max_tokens": 1, "temperature": 0.0}
        try:
            await client.post("/chat/completions", body=probe, cast_to=ChatCompletion)
        except openai.APIError as exc:
            self._refuse(url, exc, self.timeout, listed)

    def _refuse(self, url: str, exc: openai.APIError, timeout: float, listed: list[str] | None = None) -> None:
        """Raise ``BackendError`` for the failures no retry can fix; return for the others."""
        if isinstance(exc, openai.APITimeoutError):
            why = f"no answer within {timeout:g} s"
        elif isinstance(exc, openai.APIConnectionError):
            why = f"cannot connect ({_connect_reason(exc)})"
        elif isinstance(exc, openai.APIStatusError) and exc.status_code in (401, 403):
            raise self._key_refusal(url, exc)
        elif isinstance(exc, openai.APIStatusError) and exc.status_code == 404:
            serves = f"; it serves: {', '.join(listed[:10])}" if listed else ""
            why = f"HTTP 404, model {self.model!r} not found ({' '.join(exc.message.split())}){serves}{missing_v1_hint(url)}"
        else:
            return
        raise BackendError(self._scrub(f"{self.spec} at {url}: {why}"))

    def _key_refusal(self, url: str, exc: openai.APIStatusError) -> BackendError:
        return BackendError(self._scrub(f"{self.spec} at {url}: HTTP {exc.status_code}, the server refused the "
                                        "API key (set $OPENAI_API_KEY)"))

    def _wait(self, state: RetryCallState) -> float:
        exc = state.outcome.exception() if state.outcome else None
        hinted = _retry_after(exc)
        if hinted is not None:
            return min(max(hinted, 0.0), self.backoff_max)
        exp = self.backoff_base * 2 ** (state.attempt_number - 1)
        return random.uniform(0, min(exp, self.backoff_max))  # full jitter: no thundering herd

    def _params(self, req: ChatRequest) -> dict[str, Any]:
        params: dict[str, Any] = {
            "model": self.model,
            "messages": [message_to_openai(m) for m in req.messages],
            "max_tokens": req.max_tokens,
            "temperature": req.temperature,
        }
        if req.seed is not None:
            params["seed"] = req.seed
        if req.logprobs:
            params["logprobs"] = True
            if req.top_logprobs:
                params["top_logprobs"] = req.top_logprobs
        if req.json_schema is not None and self.response_format == "json_schema":
            params["response_format"] = {
                "type": "json_schema",
                "json_schema": {"name": req.schema_name, "strict": True,
                                "schema": strict_subset(req.json_schema) if self._strict_subset else req.json_schema},
            }
        elif req.json_schema is not None and self.response_format == "json_object":
            params["response_format"] = {"type": "json_object"}
        params.update(self.extra_body)  # server-specific fields (e.g. vLLM's guided decoding knobs)
        return params

    def client(self) -> openai.AsyncOpenAI:
        """The client bound to the running loop (the Batch API driver shares it: batch_api.py)."""
        return self._ensure()[0]

    def request_body(self, req: ChatRequest) -> dict[str, Any]:
        """The JSON body this backend posts for ``req`` (a Batch API request line's ``body``)."""
        return self._params(req)

    async def _one(self, req: ChatRequest) -> ChatResponse:
        client, sem = self._ensure()
        params = self._params(req)
        start = time.perf_counter()
        refused = await self._post(client, sem, params)
        if isinstance(refused, openai.APIStatusError) and self._schema_refused(refused, req):
            self._strict_subset = True
            params = self._params(req)
            refused = await self._post(client, sem, params)
        return self._response(refused, start)

    def _schema_refused(self, exc: openai.APIStatusError, req: ChatRequest) -> bool:
        """A 400 naming a schema keyword this backend can drop, not yet dropped."""
        msg = str(exc.message)
        return (exc.status_code == 400 and not self._strict_subset and req.json_schema is not None
                and "not permitted" in msg and any(k in msg for k in _NOT_IN_STRICT_MODE))

    async def _post(self, client: Any, sem: asyncio.Semaphore, params: dict[str, Any]) -> Any:
        """The completion, or the exception that ended the (retried) attempts."""
        try:
            async with sem:
                if self._key_refused is not None:  # queued behind the request that was refused
                    raise self._key_refused
                async for attempt in AsyncRetrying(
                    stop=stop_after_attempt(self.max_attempts),
                    wait=self._wait,
                    retry=retry_if_exception(_is_transient),
                    reraise=True,
                ):
                    with attempt:
                        # The plain POST: `chat.completions.create` re-validates the whole nested
                        # message payload (base64 images included) against typed dicts on every
                        # call, which doubled the client's CPU per request in bench/.
                        return await client.post("/chat/completions", body=params, cast_to=ChatCompletion)
        except openai.OpenAIError as exc:
            return exc
        raise AssertionError("unreachable: the retry loop returns or raises")  # pragma: no cover

    def _response(self, completion: Any, start: float) -> ChatResponse:
        if isinstance(completion, openai.APIStatusError) and completion.status_code in (401, 403):
            # A refused key mid-run (expired, rotated, out of credit) fails every later request
            # alike: raise, so the run stops here as the pre-flight would have, instead of
            # recording each remaining sample as failed.
            if self._key_refused is None:
                self._key_refused = self._key_refusal(self.endpoint, completion)
            raise self._key_refused
        resp = self._outcome(completion, start)
        resp.raw = {**(resp.raw or {}), "endpoint": self.endpoint}  # which server answered (cache.py)
        return resp

    def _outcome(self, completion: Any, start: float) -> ChatResponse:
        exc = completion
        if isinstance(exc, openai.APIStatusError):
            hint = missing_v1_hint(self.endpoint) if exc.status_code == 404 else ""
            return ChatResponse(error=self._scrub(f"HTTP {exc.status_code} from server: {exc.message}{hint}"))
        if isinstance(exc, openai.APITimeoutError):
            return ChatResponse(error=f"timed out after {self.max_attempts} attempts ({self.timeout:g} s each)")
        if isinstance(exc, openai.APIConnectionError):
            return ChatResponse(error=self._scrub(f"connection failed after {self.max_attempts} attempts: {exc}"))
        if isinstance(exc, openai.OpenAIError):
            return ChatResponse(error=self._scrub(f"{type(exc).__name__}: {exc}"))
        return completion_response(completion, time.perf_counter() - start)

    async def generate(self, requests: Sequence[ChatRequest]) -> list[ChatResponse]:
        return list(await asyncio.gather(*(self._one(r) for r in requests)))

    async def aclose(self) -> None:
        client, self._client = self._client, None
        # A client made in another (finished) loop has nothing left to close in this one.
        if client is not None and self._loop is asyncio.get_running_loop():
            await client.close()


# The constructor's options, for the error on an unknown one.
_OPTIONS = tuple(p for p in inspect.signature(OpenAIBackend.__init__).parameters if p not in ("self", "model", "unknown"))
