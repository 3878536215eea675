"""The OpenAI Batch API calls judgekit makes (any OpenAI-compatible server that serves them):
upload a request file (``/v1/files``, purpose ``batch``), create a batch over
``/v1/chat/completions`` with the 24h window, retrieve, cancel, list, and stream its output and
error files to disk. Errors come back as ``BackendError`` with the server's words, the API key
scrubbed."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import openai

from ..errors import BackendError
from .batch_files import CHAT_URL
from .openai import OPENAI_DEFAULT_BASE_URL

COMPLETION_WINDOW = "24h"


class BatchApi:
    def __init__(self, backend: Any):
        if not callable(getattr(backend, "client", None)):
            raise BackendError(f"--batch needs an openai: backend (the OpenAI Batch API), not {backend.spec}")
        self.backend = backend
        self.endpoint = (backend.base_url or OPENAI_DEFAULT_BASE_URL).rstrip("/")

    def _fail(self, what: str, exc: openai.OpenAIError) -> BackendError:
        scrub = getattr(self.backend, "_scrub", lambda t: t)
        return BackendError(scrub(f"Batch API at {self.endpoint}: {what} failed: {' '.join(str(exc).split())}"))

    async def upload(self, path: Path) -> str:
        try:
            with path.open("rb") as fh:
                f = await self.backend.client().files.create(file=(path.name, fh), purpose="batch")
        except openai.OpenAIError as exc:
            raise self._fail(f"uploading {path.name}", exc) from exc
        return str(f.id)

    async def create(self, input_file_id: str) -> Any:
        try:
            return await self.backend.client().batches.create(
                input_file_id=input_file_id, endpoint=CHAT_URL, completion_window=COMPLETION_WINDOW,
                metadata={"created_by": "judgekit"})
        except openai.OpenAIError as exc:
            raise self._fail("creating a batch", exc) from exc

    async def retrieve(self, batch_id: str) -> Any:
        try:
            return await self.backend.client().batches.retrieve(batch_id)
        except openai.OpenAIError as exc:
            raise self._fail(f"reading batch {batch_id}", exc) from exc

    async def cancel(self, batch_id: str) -> Any:
        try:
            return await self.backend.client().batches.cancel(batch_id)
        except openai.OpenAIError as exc:
            raise self._fail(f"cancelling batch {batch_id}", exc) from exc

    async def find(self, input_file_id: str) -> Any | None:
        """The provider's batch over ``input_file_id``, if one was created (a run killed between
        creating it and recording its id)."""
        try:
            async for b in self.backend.client().batches.list(limit=100):
                if b.input_file_id == input_file_id:
                    return b
        except openai.OpenAIError as exc:
            raise self._fail("listing batches", exc) from exc
        return None

    async def download(self, file_id: str, path: Path) -> None:
        """Stream a file's content to ``path`` (output files of image batches are large)."""
        try:
            async with self.backend.client().files.with_streaming_response.content(file_id) as resp:
                await resp.stream_to_file(path)
        except openai.OpenAIError as exc:
            raise self._fail(f"downloading {file_id}", exc) from exc
