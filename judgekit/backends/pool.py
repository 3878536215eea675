"""A pool of interchangeable endpoints (several ``vllm serve`` replicas of one model): which one
takes the next request, and which are out after failing.

- Least outstanding requests: the next request goes to the healthy endpoint with the fewest
  requests in flight (ties go round-robin), so a slow replica gets less work, not the same share.
  Each endpoint has its own limit of requests in flight.
- Back-off: an endpoint whose request fails in a way that says "this server is unwell"
  (connection refused or dropped, timeout, 5xx, 429) is out for a back-off period that doubles
  with each consecutive failure (``Retry-After`` wins when the server sends one). When the period
  ends it gets one probe request at a time until a request succeeds, so a dead server costs one
  failed request per period, not a burst of them.
- When every endpoint is out, ``acquire`` waits for the first one to come back.

The pool counts, per endpoint, the requests it served and the failures: ``counts()`` goes into the
run's ``Results.run_info["endpoints"]`` and ``judgekit score`` prints it.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..errors import ConfigError


@dataclass
class Endpoint:
    url: str
    limit: int
    outstanding: int = 0
    served: int = 0
    failed: int = 0
    strikes: int = 0  # consecutive failures: the back-off grows with them, a success clears them
    down_until: float = 0.0
    taken_out: int = 0  # how many times it was put in back-off

    def capacity(self) -> int:
        # Coming back from a back-off: one probe at a time until a request gets through.
        return 1 if self.strikes else self.limit


class EndpointPool:
    def __init__(self, urls: Sequence[str], limit: int = 16, backoff: float = 1.0, backoff_max: float = 30.0,
                 clock: Callable[[], float] = time.monotonic):
        if not urls:
            raise ConfigError("an endpoint pool needs at least one base URL")
        if len(set(urls)) != len(urls):
            raise ConfigError(f"the same base URL is given twice: {[u for u in urls if list(urls).count(u) > 1][0]}")
        if limit < 1:
            raise ConfigError(f"concurrency must be at least 1 per endpoint, got {limit}")
        self.endpoints = [Endpoint(u, limit) for u in urls]
        self.backoff, self.backoff_max = backoff, backoff_max
        self.clock = clock
        self._turn = 0
        self._changed: asyncio.Condition | None = None
        self._loop: asyncio.AbstractEventLoop | None = None

    def _cond(self) -> asyncio.Condition:
        loop = asyncio.get_running_loop()
        if self._changed is None or self._loop is not loop:  # bound to a loop: remade for a new one
            self._changed, self._loop = asyncio.Condition(), loop
        return self._changed

    def pick(self) -> Endpoint | None:
        """The endpoint the next request should go to now, or None when none can take one."""
        now = self.clock()
        n = len(self.endpoints)
        best: Endpoint | None = None
        for k in range(n):  # start at a rotating offset: ties are shared out, not all on the first
            ep = self.endpoints[(self._turn + k) % n]
            if ep.down_until > now or ep.outstanding >= ep.capacity():
                continue
            if best is None or ep.outstanding < best.outstanding:
                best = ep
        if best is not None:
            self._turn = (self._turn + 1) % n
        return best

    async def acquire(self) -> Endpoint:
        cond = self._cond()
        async with cond:
            while True:
                ep = self.pick()
                if ep is not None:
                    ep.outstanding += 1
                    return ep
                # Nothing free: wait for a release, or for the first back-off to end.
                now = self.clock()
                ends = [e.down_until - now for e in self.endpoints if e.down_until > now]
                try:
                    await asyncio.wait_for(cond.wait(), timeout=min(ends) if ends else None)
                except asyncio.TimeoutError:
                    pass

    async def release(self, ep: Endpoint, ok: bool, unwell: bool = False, retry_after: float | None = None) -> None:
        """``ok``: the endpoint answered (whatever the answer); ``unwell``: it failed in a way that
        says to stop sending it work for a while."""
        cond = self._cond()
        async with cond:
            ep.outstanding -= 1
            if ok:
                ep.served += 1
                ep.strikes = 0
            else:
                ep.failed += 1
                if unwell:
                    ep.strikes += 1
                    period = min(self.backoff * 2 ** (ep.strikes - 1), self.backoff_max)
                    if retry_after is not None:
                        period = min(max(retry_after, 0.0), self.backoff_max)
                    ep.down_until = max(ep.down_until, self.clock() + period)
                    ep.taken_out += 1
            cond.notify_all()

    async def give_back(self, ep: Endpoint) -> None:
        """Release ``ep`` unused (the request was not sent): no count, no back-off."""
        cond = self._cond()
        async with cond:
            ep.outstanding -= 1
            cond.notify_all()

    def counts(self) -> list[dict[str, Any]]:
        return [{"url": e.url, "served": e.served, "failed": e.failed, "taken_out": e.taken_out} for e in self.endpoints]


def read_base_urls(flags: Sequence[str] | str | None, file: str | Path | None = None) -> str | list[str] | None:
    """The base URLs of ``--base-url`` (repeatable) and ``--base-urls FILE`` (one a line, ``#``
    comments): None for none, the URL for one, a list for several."""
    urls = [flags] if isinstance(flags, str) else list(flags or [])
    if file is not None:
        p = Path(file)
        if not p.is_file():
            raise ConfigError(f"--base-urls: {p} does not exist")
        for line in p.read_text(encoding="utf-8").splitlines():
            line = line.split("#", 1)[0].strip()
            if line:
                urls.append(line)
        if not urls:
            raise ConfigError(f"--base-urls: {p} lists no URL")
    if not urls:
        return None
    return urls[0] if len(urls) == 1 else urls


def format_endpoint_counts(run_info: dict[str, Any]) -> list[str]:
    """Lines for ``judgekit score``: one per endpoint of a multi-endpoint run."""
    rows = run_info.get("endpoints") or []
    return [f"endpoint {r['url']}: {r['served']} served, {r['failed']} failed"
            + (f", taken out {r['taken_out']}x" if r.get("taken_out") else "") for r in rows]


__all__ = ["Endpoint", "EndpointPool", "format_endpoint_counts", "read_base_urls"]
