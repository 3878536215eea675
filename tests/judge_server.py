"""A real OpenAI-compatible HTTP server on 127.0.0.1 with scripted replies, for tests and
benchmarks.

It speaks HTTP/1.1 with keep-alive over a plain asyncio socket server (no framework), so a test
controls the bytes on the wire: a 429 with ``Retry-After``, a 500, a reply that never comes
(timeout), or a connection closed mid-request (dropped connection).

    with JudgeServer() as srv:
        srv.script = lambda body, n: Reply(content='{"reasoning": "ok", "score": 7}')
        client = openai.OpenAI(base_url=srv.url, api_key="test")

By default every request gets a reply that conforms to its JSON schema (integers in range,
first enum value), deterministically derived from the request, and a top-logprobs list for
``Yes``/``No`` when logprobs are asked for.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any


@dataclass
class Reply:
    content: str | None = None  # None: generate from the schema
    status: int = 200
    headers: dict[str, str] = field(default_factory=dict)
    delay: float = 0.0  # seconds before answering (longer than the client timeout = a timeout)
    drop: bool = False  # close the connection without answering
    error_body: str = '{"error": {"message": "scripted failure"}}'
    top_logprobs: list[tuple[str, float]] | None = None
    finish_reason: str = "stop"  # "length": the reply was cut off at max_tokens
    refusal: str | None = None  # set: the model refused (content null, refusal text), as OpenAI answers
    model: str | None = None  # the served model id the reply names (default: the requested one)
    system_fingerprint: str | None = None  # sent only when set, as servers without one do
    no_logprobs: bool = False  # ignore a request's `logprobs`, as many current API models do


def _digest(body: dict) -> int:
    return int(hashlib.sha256(json.dumps(body.get("messages"), sort_keys=True).encode()).hexdigest()[:8], 16)


def conforming_value(schema: dict, seed: int) -> Any:
    """A deterministic value that satisfies ``schema`` (the subset judgekit emits)."""
    if "enum" in schema:
        return schema["enum"][seed % len(schema["enum"])]
    t = schema.get("type")
    if t == "object":
        return {k: conforming_value(v, seed + i) for i, (k, v) in enumerate(schema.get("properties", {}).items())}
    if t == "array":
        return [conforming_value(schema.get("items", {}), seed)]
    if t == "integer":
        lo, hi = int(schema.get("minimum", 0)), int(schema.get("maximum", 10))
        return lo + seed % (hi - lo + 1)
    if t == "number":
        lo, hi = float(schema.get("minimum", 0)), float(schema.get("maximum", 1))
        return lo + (seed % 1000) / 999 * (hi - lo)
    if t == "boolean":
        return bool(seed % 2)
    return "scripted reasoning"


def default_reply(body: dict, n: int) -> Reply:
    return Reply()


class JudgeServer:
    def __init__(self, script: Callable[[dict, int], Reply] = default_reply, host: str = "127.0.0.1", port: int = 0):
        self.script = script
        self.host, self.port = host, port
        self.received: list[dict] = []  # every request body, in arrival order
        self.api_key: str | None = None  # when set, any other bearer token gets a 401
        self.list_models = True  # False: /models answers 404, as on servers without it
        #: When set (e.g. "/v1"), paths outside it answer 404 as a real server does; by default
        #: any path ending in /models or /chat/completions is served.
        self.path_prefix: str | None = None
        self.headers_seen: list[dict[str, str]] = []
        self.counted: list[tuple[int, int, int]] = []  # (text, image, completion) tokens of each reply
        self.cached_tokens = 0  # prompt tokens reported as served from a prompt cache
        self._count = 0
        # Chat requests being answered right now, and the most there ever were at once: what a
        # client's concurrency limit really allowed, whatever the timings.
        self.in_flight = 0
        self.max_in_flight = 0
        self._generation = 0
        self._lock = threading.Lock()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._server: asyncio.base_events.Server | None = None
        self._thread: threading.Thread | None = None
        self._ready = threading.Event()

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}/v1"

    # --- wire ---------------------------------------------------------------------------------

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while True:
                head = await reader.readuntil(b"\r\n\r\n")
                lines = head.decode("latin-1").split("\r\n")
                method, path, _ = lines[0].split(" ", 2)
                headers = {k.strip().lower(): v.strip() for k, _, v in (ln.partition(":") for ln in lines[1:] if ln)}
                body = await reader.readexactly(int(headers.get("content-length", 0)))
                chat = path.rstrip("/").endswith("/chat/completions")
                generation = self._generation  # a request left over from an earlier test is not counted
                if chat:
                    self.in_flight += 1  # only the server's own event loop touches these counters
                    self.max_in_flight = max(self.max_in_flight, self.in_flight)
                try:
                    status, out_headers, payload, drop, delay = self._respond(method, path, headers, body)
                    if delay:
                        await asyncio.sleep(delay)
                finally:
                    if chat and generation == self._generation:
                        self.in_flight -= 1
                if drop:
                    writer.transport.abort()
                    return
                reason = {200: "OK", 400: "Bad Request", 401: "Unauthorized", 404: "Not Found", 429: "Too Many Requests"}.get(status, "Error")
                hdr = f"HTTP/1.1 {status} {reason}\r\ncontent-type: application/json\r\ncontent-length: {len(payload)}\r\n"
                hdr += "".join(f"{k}: {v}\r\n" for k, v in out_headers.items())
                writer.write(hdr.encode() + b"\r\n" + payload)
                await writer.drain()
        except (asyncio.IncompleteReadError, ConnectionError, asyncio.LimitOverrunError, asyncio.CancelledError):
            pass
        finally:
            if not writer.transport.is_closing():
                writer.close()

    def _respond(self, method: str, path: str, headers: dict, raw: bytes):
        if path.rstrip("/").endswith("/health"):
            return 200, {}, b"{}", False, 0.0
        if self.path_prefix is not None and not path.startswith(self.path_prefix + "/"):
            return 404, {}, b'{"detail": "Not Found"}', False, 0.0
        if self.api_key is not None and headers.get("authorization") != f"Bearer {self.api_key}":
            return 401, {}, b'{"error": {"message": "Incorrect API key provided"}}', False, 0.0
        if path.rstrip("/").endswith("/models") and self.list_models:
            return 200, {}, json.dumps({"object": "list", "data": [{"id": "judge", "object": "model"}]}).encode(), False, 0.0
        if not path.rstrip("/").endswith("/chat/completions") or method != "POST":
            return 404, {}, b'{"error": {"message": "not found"}}', False, 0.0
        body = json.loads(raw or b"{}")
        with self._lock:
            n = self._count
            self._count += 1
            self.received.append(body)
            self.headers_seen.append(headers)
        reply = self.script(body, n)
        if reply.drop:
            return 0, {}, b"", True, reply.delay
        if reply.status != 200:
            return reply.status, reply.headers, reply.error_body.encode(), False, reply.delay
        return 200, reply.headers, json.dumps(self._completion(body, reply, n)).encode(), False, reply.delay

    def _completion(self, body: dict, reply: Reply, n: int) -> dict:
        content = reply.content
        if content is None:
            rf = body.get("response_format") or {}
            schema = (rf.get("json_schema") or {}).get("schema")
            content = json.dumps(conforming_value(schema, _digest(body))) if schema else "Yes"
        if reply.refusal is not None:
            content = None
        choice: dict[str, Any] = {
            "index": 0,
            "message": {"role": "assistant", "content": content, "refusal": reply.refusal},
            "finish_reason": reply.finish_reason,
            "logprobs": None,
        }
        if body.get("logprobs") and not reply.no_logprobs:
            top = reply.top_logprobs or [("Yes", -0.4), ("No", -1.2), (" yes", -3.0), ("no", -4.0), ("Maybe", -6.0)]
            k = body.get("top_logprobs") or 1
            first = {
                "token": top[0][0],
                "logprob": top[0][1],
                "bytes": None,
                "top_logprobs": [{"token": t, "logprob": lp, "bytes": None} for t, lp in top[:k]],
            }
            choice["logprobs"] = {"content": [first]}
        out = {
            "id": f"chatcmpl-{n}",
            "object": "chat.completion",
            "created": int(time.time()),
            "model": reply.model or body.get("model", "judge"),
            "choices": [choice],
            "usage": self._usage(body, content),
        }
        if reply.system_fingerprint:
            out["system_fingerprint"] = reply.system_fingerprint
        return out

    def _usage(self, body: dict, content: str) -> dict:
        """Tokens counted as tests/token_counting.py documents; ``cached_tokens`` of the prompt
        as the test sets it (a provider's prompt cache)."""
        from tests.token_counting import count_text, prompt_tokens

        text, images = prompt_tokens(body)
        prompt, completion = text + images, count_text(content or "")  # a refusal has no content
        self.counted.append((text, images, completion))
        return {"prompt_tokens": prompt, "completion_tokens": completion, "total_tokens": prompt + completion,
                "prompt_tokens_details": {"cached_tokens": min(self.cached_tokens, prompt)}}

    # --- lifecycle ----------------------------------------------------------------------------

    def _serve(self) -> None:
        self._loop = asyncio.new_event_loop()
        asyncio.set_event_loop(self._loop)

        async def start():
            self._server = await asyncio.start_server(self._handle, self.host, self.port, backlog=1024)
            self.port = self._server.sockets[0].getsockname()[1]

        self._loop.run_until_complete(start())
        self._ready.set()
        self._loop.run_forever()
        self._server.close()
        # Finish the connection handlers (idle keep-alive readers) before the loop goes away.
        pending = asyncio.all_tasks(self._loop)
        for task in pending:
            task.cancel()
        self._loop.run_until_complete(asyncio.gather(*pending, return_exceptions=True))
        self._loop.close()

    def start(self) -> JudgeServer:
        self._thread = threading.Thread(target=self._serve, daemon=True, name="judge-server")
        self._thread.start()
        if not self._ready.wait(10):
            raise RuntimeError("test judge server did not start")
        return self

    def stop(self) -> None:
        if self._loop is not None:
            self._loop.call_soon_threadsafe(self._loop.stop)
        if self._thread is not None:
            self._thread.join(5)

    def reset(self, script: Callable[[dict, int], Reply] = default_reply) -> None:
        with self._lock:
            self.script, self.received, self.headers_seen, self._count = script, [], [], 0
            self.counted, self.cached_tokens = [], 0
            self.in_flight = self.max_in_flight = 0
            self._generation += 1
            self.api_key, self.list_models, self.path_prefix = None, True, None

    def __enter__(self) -> JudgeServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


if __name__ == "__main__":  # a standalone server for benchmarks: python -m tests.judge_server PORT [DELAY]
    import sys

    delay = float(sys.argv[2]) if len(sys.argv) > 2 else 0.0
    srv = JudgeServer(lambda b, n: Reply(delay=delay), port=int(sys.argv[1]))
    srv.start()
    print(f"ready {srv.url}", flush=True)
    threading.Event().wait()
