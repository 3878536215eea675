"""The OpenAI Batch API's line formats, which ``vllm run-batch`` reads and writes too.

A request line: ``{"custom_id", "method": "POST", "url": "/v1/chat/completions", "body"}``,
the body being exactly what the live request would post. An output line: ``{"id",
"custom_id", "response": {"status_code", "request_id", "body"} | null, "error": {"code",
"message"} | null}``. judgekit's ``custom_id`` is the request's response-cache key, so an output
line lands in the cache entry the live run would have filled.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from ..errors import DataError
from ..io import iter_jsonl
from ..types import ChatResponse

CHAT_URL = "/v1/chat/completions"


def request_line(custom_id: str, body: dict[str, Any]) -> str:
    """One line of a batch request file (ends with a newline)."""
    # ASCII escapes (the default): a third faster than ensure_ascii=False on base64 images.
    return json.dumps({"custom_id": custom_id, "method": "POST", "url": CHAT_URL, "body": body},
                      separators=(",", ":")) + "\n"


def output_response(line: dict[str, Any]) -> ChatResponse:
    """The ``ChatResponse`` of one output line; ``error`` set for a failed request. A reply
    carries ``usage["batch"] = 1``: it is billed at the batch price."""
    from openai.types.chat import ChatCompletion

    from .openai import completion_response

    err = line.get("error")
    resp = line.get("response") or {}
    status = resp.get("status_code")
    if err or status != 200:
        why = (err or {}).get("message") if isinstance(err, dict) else None
        if why is None:
            body = resp.get("body") or {}
            why = (body.get("error") or {}).get("message") if isinstance(body, dict) else None
        return ChatResponse(error=f"batch request failed (HTTP {status}): {why or 'no reason given'}")
    try:
        completion = ChatCompletion.model_validate(resp.get("body") or {})
    except Exception as exc:  # pydantic's ValidationError: a body that is not a chat completion
        return ChatResponse(error=f"batch output is not a chat completion: {' '.join(str(exc).split())[:200]}")
    out = completion_response(completion, 0.0)
    if out.error is None:
        out.usage["batch"] = 1
    return out


def read_output_lines(path: str | Path) -> Iterator[tuple[str, ChatResponse]]:
    """``(custom_id, response)`` of each line of a batch output or error file, streamed."""
    # The one JSON-lines reader (missing file, bad JSON, non-object lines), streamed.
    for where, line in iter_jsonl(path, "batch output file"):
        if not isinstance(line.get("custom_id"), str):
            raise DataError(f"{where}: not a batch output line (no custom_id)")
        yield line["custom_id"], output_response(line)


#: The OpenAI Batch API's limits on one input file: requests and bytes.
MAX_REQUESTS = 50_000
MAX_BYTES = 200 * 1024 * 1024


class BatchFileWriter:
    """A ``Ledger`` divert target that streams request lines into batch files, a new part
    whenever the next line would pass ``max_requests`` or ``max_bytes`` (images make lines
    large). A request repeated in the run (same cache key) is written once. ``name(i)`` gives
    the path of part ``i`` (0-based); ``parts`` lists ``(path, custom_ids, bytes)``."""

    def __init__(self, backend: Any, name: Any, max_requests: int = MAX_REQUESTS, max_bytes: int = MAX_BYTES):
        body = getattr(backend, "request_body", None)
        if not callable(body):
            from ..errors import ConfigError

            raise ConfigError(f"batch files need an openai: backend (one that posts chat completions), not {backend.spec}")
        self._body, self._name = body, name
        self.max_requests, self.max_bytes = max_requests, max_bytes
        self.parts: list[tuple[Path, list[str], int]] = []
        self._seen: set[str] = set()
        self._fh: Any = None

    def __call__(self, key: str, request: Any) -> None:
        if key in self._seen:
            return
        self._seen.add(key)
        data = request_line(key, self._body(request)).encode("utf-8")
        if len(data) > self.max_bytes:
            raise DataError(f"one batch request is {len(data)} bytes, over the batch file limit of {self.max_bytes}")
        last = self.parts[-1] if self.parts else None
        if last is None or len(last[1]) >= self.max_requests or last[2] + len(data) > self.max_bytes:
            self._open_next()
        path, keys, size = self.parts[-1]
        self._fh.write(data)
        keys.append(key)
        self.parts[-1] = (path, keys, size + len(data))

    def _open_next(self) -> None:
        if self._fh is not None:
            self._fh.close()
        path = Path(self._name(len(self.parts)))
        path.parent.mkdir(parents=True, exist_ok=True)
        self._fh = path.open("wb")
        self.parts.append((path, [], 0))

    @property
    def requests(self) -> int:
        return sum(len(k) for _, k, _ in self.parts)

    def close(self) -> None:
        if self._fh is not None:
            self._fh.close()
            self._fh = None
