"""Judging through provider batch jobs (``judgekit score --batch``): the run's unanswered
requests go into Batch API files, are submitted, polled and downloaded into the response cache,
and the run is then completed from the cache exactly as a live run would be (same keys, same
parsing, same combining).

Rounds: (1) re-attach to the jobs this cache database says are pending (a killed run's) and wait
for them; (2) collect what is still unanswered (a pass of the runner that diverts requests into
batch files instead of sending them: replies that failed to parse ask for their next attempt
here), submit, wait, download; repeat while anything is left, at most ``rounds`` times. Requests
a batch did not answer (expired, failed) are sent live at the end (``fallback="live"``) or go
into the next round (``fallback="batch"``); a request is never in two pending jobs at once.

A budget (``--max-cost`` / ``--max-tokens``, the run ledger's) is checked per batch file before
it is uploaded: the file's requests could use their estimated prompts plus ``max_tokens``
completion tokens each, at the batch price; a file that could take the run over what is left
(over what this run's downloaded replies cost and its pending jobs reserved) is not submitted,
nor any after it, and the run ends as a budget stop. Jobs of an earlier run that this one
re-attaches to were paid for by that run's budget, as cached answers are.
"""

from __future__ import annotations

import asyncio
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from .backends.batch_api import BatchApi
from .backends.batch_files import MAX_BYTES, MAX_REQUESTS, BatchFileWriter, read_output_lines
from .backends.batch_store import TERMINAL, BatchStore
from .cache import ResponseCache, backend_identity
from .errors import ConfigError
from .results import Results
from .runner import score_async
from .usage import Ledger


def _say(line: str) -> None:
    print(f"judgekit: {line}", file=sys.stderr, flush=True)


class BatchDriver:
    def __init__(self, backend: Any, cache_path: str | Path, batch_size: int = MAX_REQUESTS, max_bytes: int = MAX_BYTES,
                 fallback: str = "live", poll_s: float = 30.0, rounds: int = 3, say: Callable[[str], None] = _say):
        if fallback not in ("live", "batch"):
            raise ConfigError(f"--batch-fallback must be live or batch, got {fallback!r}")
        if batch_size < 1 or max_bytes < 1:
            raise ConfigError("--batch-size and --batch-max-bytes must be at least 1")
        self.backend, self.api = backend, BatchApi(backend)
        self.cache_path = Path(cache_path)
        self.batch_size, self.max_bytes, self.fallback = batch_size, max_bytes, fallback
        self.poll_s, self.rounds, self.say = poll_s, rounds, say
        self.identity = backend_identity(backend)
        self.answered: set[str] = set()  # custom_ids downloaded by this run (charged to it)
        self.unanswered: set[str] = set()  # custom_ids a finished job did not answer
        self.submitted = 0
        self.mine: set[str] = set()  # batch ids this process created
        self.reserved: dict[str, tuple[int, float]] = {}  # input file id -> budget held for its job
        self.budget: Ledger | None = None  # the run ledger when it has a budget
        self.over_budget = False  # a batch file was held back: the run ends as a budget stop

    async def run(self, score: Callable[..., Any], ledger: Ledger) -> Results:
        """``score(out_allowed: bool, ledger)`` runs the runner over the samples."""
        store = BatchStore(self.cache_path)
        self.budget = ledger if ledger.budgeted else None
        try:
            for round_ in range(self.rounds + 1):
                await self._settle(store)
                if round_ == self.rounds or self.over_budget:
                    break
                if not await self._submit_round(store, score, ledger):
                    break
        finally:
            store.close()
        ledger.fresh_keys = self.answered
        if self.over_budget:
            # Complete the samples the batches answered, send nothing more (the runner would
            # start no sample at all under a stopped ledger), then end as a budget stop.
            ledger.divert = _Unanswered()
            done: Results = await score(True, ledger)
            ledger.divert, ledger.stopped = None, True
            return done
        if self.fallback == "batch":
            left = _Unanswered()
            ledger.divert = left  # nothing is sent live
            results: Results = await score(True, ledger)
            if left.n:
                self.say(f"{left.n} requests still unanswered after {self.rounds} batch rounds; rerun to submit them again")
            return results
        return await score(True, ledger)

    async def _submit_round(self, store: BatchStore, score: Callable[..., Any], ledger: Ledger) -> int:
        folder = self.cache_path.parent / "batches"
        stamp = time.strftime("%Y%m%dT%H%M%S")
        writer = BatchFileWriter(self.backend, lambda i: folder / f"{stamp}-{i + 1}.jsonl", self.batch_size, self.max_bytes)
        skip = self.unanswered if self.fallback == "live" else set()
        estimates: dict[str, tuple[int, float]] = {}  # what each request could use, when budgeted

        def collect(key: str, request: Any) -> None:
            if key not in skip:
                writer(key, request)
                if self.budget is not None:
                    estimates[key] = self.budget.estimate(request, request.max_tokens, batch=True)

        try:
            await score(False, Ledger(ledger.model, divert=collect))
        finally:
            writer.close()
        held_back: list[Path] = []
        for path, keys, size in writer.parts:
            if held_back or not self._affords(keys, estimates):
                held_back.append(path)
                continue
            file_id = await self.api.upload(path)
            store.uploaded(file_id, self.api.endpoint, keys)  # before the batch exists: see batch_store
            batch = await self.api.create(file_id)
            store.submitted(file_id, batch.id, batch.status)
            self.mine.add(batch.id)
            self.submitted += 1
            self.say(f"batch {batch.id} submitted: {len(keys)} requests, {size} bytes")
            if self.budget is not None:
                self.reserved[file_id] = self._reserve(keys, estimates)
            path.unlink()
        for path in held_back:
            path.unlink()
        self.unanswered -= {k for p, keys, _ in writer.parts if p not in held_back for k in keys}
        return writer.requests

    def _affords(self, keys: list[str], estimates: dict[str, tuple[int, float]]) -> bool:
        """May the batch of ``keys`` be submitted within the budget? A file that could exceed
        what is left stops the run's submissions (said once)."""
        if self.budget is None:
            return True
        tokens = sum(estimates[k][0] for k in keys)
        cost = sum(estimates[k][1] for k in keys)
        if self.budget.affords(tokens, cost):
            return True
        if not self.over_budget:
            self.over_budget = True
            usd = f"${cost:.4f} and " if self.budget.max_cost is not None else ""
            self.say(f"batch not submitted: its {len(keys)} requests could use up to {usd}{tokens} tokens, "
                     f"more than the {self.budget.left()} left of the budget")
        return False

    def _reserve(self, keys: list[str], estimates: dict[str, tuple[int, float]]) -> tuple[int, float]:
        assert self.budget is not None
        tokens = sum(estimates[k][0] for k in keys)
        cost = sum(estimates[k][1] for k in keys)
        self.budget.reserved_tokens += tokens
        self.budget.reserved_cost += cost
        self.budget.sent += len(keys)  # submitted: counted with the requests the run sent
        return tokens, cost

    async def _settle(self, store: BatchStore) -> None:
        """Wait for every pending job of this endpoint; download what each answered."""
        jobs = store.jobs(self.api.endpoint, pending_only=True)
        if not jobs:
            return
        for job in jobs:
            if job.batch_id is None:  # killed between upload and create: created or not?
                found = await self.api.find(job.input_file_id)
                batch = found if found is not None else await self.api.create(job.input_file_id)
                store.submitted(job.input_file_id, batch.id, batch.status)
                job.batch_id = batch.id
                self.say(f"batch {batch.id}: {'found' if found is not None else 'submitted'} ({job.requests} requests)")
            elif job.batch_id not in self.mine:  # a job of an earlier (killed) run of this command
                self.say(f"batch {job.batch_id}: re-attached ({job.requests} requests)")
        waiting = {j.batch_id: j for j in jobs}
        total = sum(j.requests for j in jobs)
        done: list[int] = []
        last = ""
        while waiting:
            states: dict[str, list[int]] = {}
            for bid, job in list(waiting.items()):
                batch = await self.api.retrieve(str(bid))
                store.set_status(str(bid), batch.status)
                if batch.status in TERMINAL:
                    await self._download(store, job.input_file_id, batch)
                    store.set_status(str(bid), batch.status, downloaded=True)
                    done.append(job.requests)
                    del waiting[bid]
                else:
                    states.setdefault(batch.status, []).append(job.requests)
            # Progress: every job of the round with its request count, as the provider states it.
            parts = [f"{len(n)} {s} ({sum(n)} requests)" for s, n in sorted(states.items())]
            line = f"batches: {len(jobs)} submitted ({total} requests): " + ", ".join(
                [*parts, f"{len(done)} done ({sum(done)} requests)"])
            if line != last:
                self.say(line)
                last = line
            if waiting:
                await asyncio.sleep(self.poll_s)

    async def _download(self, store: BatchStore, input_file_id: str, batch: Any) -> None:
        expected = set(store.custom_ids(input_file_id))
        got: set[str] = set()
        folder = self.cache_path.parent / "batches"
        folder.mkdir(parents=True, exist_ok=True)
        with ResponseCache(self.cache_path) as cache:
            for file_id in (batch.output_file_id, batch.error_file_id):
                if not file_id:
                    continue
                path = folder / f"{batch.id}-{file_id}.jsonl"
                await self.api.download(file_id, path)
                for custom_id, resp in read_output_lines(path):
                    if custom_id not in expected:
                        continue
                    if resp.error is None:
                        # The server that answered, as a live reply names it (the judge card's host).
                        resp.raw = {**(resp.raw or {}), "endpoint": (resp.raw or {}).get("endpoint") or self.api.endpoint}
                        cache.put(custom_id, self.identity, resp)
                        self.answered.add(custom_id)
                        got.add(custom_id)
                        if self.budget is not None and input_file_id in self.reserved:
                            self.budget.spend(resp, (resp.served or {}).get("served_model"))
                path.unlink()
        if self.budget is not None and input_file_id in self.reserved:  # the estimate gives way to the real spend
            tokens, cost = self.reserved.pop(input_file_id)
            self.budget.reserved_tokens -= tokens
            self.budget.reserved_cost -= cost
        missing = expected - got
        self.unanswered |= missing
        done = len(expected) - len(missing)
        note = f", {len(missing)} not answered (fallback: {self.fallback})" if missing else ""
        errors = getattr(getattr(batch, "errors", None), "data", None) or []
        why = f" ({errors[0].message})" if errors and getattr(errors[0], "message", None) else ""
        self.say(f"batch {batch.id} {batch.status}{why}: {done} of {len(expected)} requests answered{note}")


class _Unanswered:
    def __init__(self) -> None:
        self.n = 0

    def __call__(self, key: str, request: Any) -> None:
        self.n += 1


async def score_batch_async(driver: BatchDriver, ledger: Ledger, out: str | Path | None, **score_kwargs: Any) -> Results:
    """``score_async(**score_kwargs)`` through provider batch jobs (see the module docstring)."""

    async def score(final: bool, pass_ledger: Ledger) -> Results:
        kwargs = {**score_kwargs, "out": out if final else None, "ledger": pass_ledger}
        if not final:
            kwargs["progress"] = False  # a collecting pass judges nothing
        return await score_async(**kwargs)

    return await driver.run(score, ledger)
