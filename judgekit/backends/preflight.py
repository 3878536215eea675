"""Running a backend's optional ``preflight()`` once, before the first request it must answer.

A backend may define ``async preflight()``: one cheap check (an HTTP backend asks the server
whether it is there and serves the model; an engine starts) that raises a ``JudgekitError``
with the reason, so a run that cannot succeed stops with one clear line instead of retrying
every sample. Callers (the runner, question generation) hold a ``ReadyGate`` and await
``gate.wait()`` on each cache miss: a fully cached rerun never contacts the server or starts
an engine, and the check runs once however many samples miss at the same moment.
"""

from __future__ import annotations

import asyncio
from typing import Any

from ..errors import JudgekitError


class ReadyGate:
    def __init__(self, backend: Any):
        self._check = getattr(backend, "preflight", None)
        self._done = self._check is None
        self._lock: asyncio.Lock | None = None
        #: The check's error once it failed: every later ``wait`` raises it again, and the
        #: caller can tell "the backend is unusable" apart from a per-sample failure.
        self.error: JudgekitError | None = None

    async def wait(self) -> None:
        if self._done:
            return
        if self.error is not None:
            raise self.error
        if self._lock is None:
            self._lock = asyncio.Lock()
        async with self._lock:
            if self._done:
                return
            if self.error is not None:
                raise self.error
            assert self._check is not None  # _done is True when there is no check
            try:
                await self._check()
            except JudgekitError as exc:
                self.error = exc
                raise
            self._done = True
