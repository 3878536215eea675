"""Handing a run's requests to its backend: one at a time for HTTP backends (which overlap them
under their own concurrency limit), gathered into batches for engines that batch. (Moved out of
runner.py as it was, so the runner stays one concept: planning, caching and recording.)"""

from __future__ import annotations

import asyncio

from ..errors import JudgekitError
from ..types import ChatRequest, ChatResponse
from .base import Backend


class Dispatcher:
    """Hands requests to the backend: one at a time for HTTP backends (which overlap them
    under their own concurrency limit), gathered into batches for engines that batch."""

    def __init__(self, backend: Backend):
        self.backend = backend
        self.max_batch = max(1, int(getattr(backend, "max_batch_size", 1)))
        self._queue: list[tuple[ChatRequest, asyncio.Future[ChatResponse]]] = []
        self._wakeup: asyncio.Event | None = None
        self._worker: asyncio.Task[None] | None = None

    async def submit(self, request: ChatRequest) -> ChatResponse:
        if self.max_batch == 1:
            try:
                return (await self.backend.generate([request]))[0]
            except JudgekitError:
                raise
            except Exception as exc:  # a backend bug must not take the run down
                return ChatResponse(error=f"backend raised {type(exc).__name__}: {exc}")
        fut = asyncio.get_running_loop().create_future()
        self._queue.append((request, fut))
        if self._worker is None:
            self._wakeup = asyncio.Event()
            self._worker = asyncio.create_task(self._drain())
        assert self._wakeup is not None  # created with the worker
        self._wakeup.set()
        return await fut

    async def _drain(self) -> None:
        assert self._wakeup is not None
        while True:
            await self._wakeup.wait()
            self._wakeup.clear()
            # Let samples whose requests are being built join this batch.
            await asyncio.sleep(0.01)
            while self._queue:
                batch, self._queue = self._queue[: self.max_batch], self._queue[self.max_batch :]
                try:
                    responses = await self.backend.generate([r for r, _ in batch])
                except JudgekitError as exc:  # the backend cannot go on: the run stops (Run._ask)
                    for _, fut in batch:
                        if not fut.done():
                            fut.set_exception(exc)
                    continue
                except Exception as exc:
                    responses = [ChatResponse(error=f"backend raised {type(exc).__name__}: {exc}")] * len(batch)
                for (_, fut), resp in zip(batch, responses):
                    if not fut.done():
                        fut.set_result(resp)

    async def aclose(self) -> None:
        if self._worker is not None:
            self._worker.cancel()
            try:
                await self._worker
            except asyncio.CancelledError:
                pass
