"""Running a rubric over samples: plan calls, serve them from the cache or the backend,
parse and retry, combine, and write each result as soon as its sample is complete.

Memory stays flat whatever the manifest's length: at most ``window`` samples are in flight,
images are read only when their sample's requests are built, and finished results go to disk
at once (the file is rewritten in manifest order at the end).

    >>> import judgekit as jk                                            # doctest: +SKIP
    >>> res = jk.score("viescore-t2i", "manifest.jsonl", backend="openai:gpt-4o")  # doctest: +SKIP
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import os
import sys
import time
from collections.abc import Iterable
from pathlib import Path
from typing import Any, TextIO

from ._sync import same_signature
from ._version import __version__
from .backends import Backend, make_backend
from .backends.logprob_probe import LogprobCheck
from .backends.preflight import ReadyGate
from .cache import ResponseCache, backend_identity, request_key
from .errors import JudgekitError, SampleError, VerdictParseError
from .judge_card import JudgeWitness, build_card, card_path, record_judge, run_judge, write_card
from .manifest import iter_samples, load_samples
from .methods import CallOutcome, JudgeCall, Method, make_method
from .methods.repeats import check_repeats, judge_repeated, record_repeats, repeated_calls
from .methods.vqascore import answers_options
from .results import Results
from .rubric import Rubric, load_rubric
from .shards import Shard, parse_shard, select_shard
from .types import IMAGE_FIELDS, ChatRequest, ChatResponse, Result, Sample


def default_cache_path() -> Path:
    """``$JUDGEKIT_CACHE``, else ``$XDG_CACHE_HOME/judgekit/responses.sqlite``."""
    if os.environ.get("JUDGEKIT_CACHE"):
        return Path(os.environ["JUDGEKIT_CACHE"])
    root = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
    return root / "judgekit" / "responses.sqlite"


class _Dispatcher:
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


class _Progress:
    def __init__(self, total: int | None, enabled: bool | None):
        if enabled is None:
            enabled = sys.stderr.isatty()
        self.bar = None
        self.failed = 0
        if enabled:
            from tqdm import tqdm

            self.bar = tqdm(total=total, unit="sample", dynamic_ncols=True, file=sys.stderr)
            self.bar.set_postfix(failed=0, refresh=False)

    def update(self, failed: bool) -> None:
        self.failed += bool(failed)
        if self.bar is not None:
            if failed:  # a run going wrong shows while it runs, not only in the summary
                self.bar.set_postfix(failed=self.failed, refresh=False)
            self.bar.update(1)

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()


def sample_inputs(sample: Sample) -> dict[str, str]:
    """The prompt, instruction and image paths of a sample, as recorded in its result."""
    return {k: v for k in ("prompt", "instruction", *IMAGE_FIELDS) if (v := getattr(sample, k)) is not None}


class Run:
    """The state of one scoring run. Use ``score`` / ``score_async``; this is their engine."""

    def __init__(
        self,
        method: Method,
        backend: Backend,
        cache: ResponseCache,
        out: Path | None,
        window: int,
        progress: _Progress,
        provenance: dict[str, Any],
        pin_model: str | None = None,
        recheck: str | None = None,
        repeats: int = 1,
        aggregate: str = "mean",
    ):
        self.method, self.backend, self.cache = method, backend, cache
        self.out, self.window, self.progress = out, window, progress
        self.provenance = provenance
        self.dispatcher = _Dispatcher(backend)
        # The backend's pre-flight check, run on the first cache miss: a backend that cannot
        # answer at all (nothing listening, no such model) stops the run with its reason.
        self.gate = ReadyGate(backend)
        # Rubrics that read answer probabilities ask once whether the judge returns top_logprobs,
        # and stop the run with the alternatives when it does not (backends/logprob_probe.py).
        needs = getattr(method, "needs_logprobs", False) and not getattr(backend, "replays_answers", False)
        self.logprob_gate = ReadyGate(LogprobCheck(backend, method.kind)) if needs else None
        # Keyed on once per run: a backend's identity is fixed once it is built.
        self.identity = backend_identity(backend)
        self.fresh = {"from": "fresh", "endpoint": self.identity["endpoint"]}  # what a new answer records
        # A recheck (judgekit drift) reads nothing from the cache and stores its answers under
        # the identity plus its own label: beside the earlier answers, never over them.
        self.recheck = recheck
        self.store_identity = self.identity if recheck is None else {**self.identity, "recheck": recheck}
        self.repeats, self.aggregate = repeats, aggregate  # --repeats K: a self-ensemble per call
        # Who judges (judge_card.py): recorded on every result; replies must come from
        # `pin_model` when it is set (--pin-model), and an alias is told once on stderr.
        self.judge = run_judge(backend.describe() or {}, self.identity)
        self.pin_model = pin_model
        self.witness = JudgeWitness(self.judge, pin_model)
        self.results: dict[int, Result] = {}
        self._fh: TextIO | None = None
        self._flushed = 0.0

    async def _call(self, call: JudgeCall) -> CallOutcome:
        resp: ChatResponse | None = None
        reason = ""
        attempts = call.parse_retries + 1
        caching = self.cache.enabled
        source = self.fresh
        for attempt in range(attempts):
            key = request_key(self.store_identity, call.request, attempt) if caching else ""
            found = self.cache.lookup(key) if caching and self.recheck is None else None
            if found is not None:
                resp, stored = found
                source = {"from": "cache", "endpoint": stored["endpoint"]}
            else:
                await self.gate.wait()
                if self.logprob_gate is not None:
                    await self.logprob_gate.wait()
                resp, source = await self.dispatcher.submit(call.request), self.fresh
                if resp.error is not None:
                    return CallOutcome(call.key, None, resp, resp.error, attempt + 1, source)
                if caching:
                    self.cache.put(key, self.store_identity, resp)
            source = self.witness.identified(resp, source)
            refused = self.witness.refusal(source)
            if refused:  # another model answered: retrying would ask the same server again
                return CallOutcome(call.key, None, resp, refused, attempt + 1, source)
            try:
                return CallOutcome(call.key, call.parse(resp), resp, None, attempt + 1, source)
            except VerdictParseError as exc:
                reason = exc.reason
        return CallOutcome(call.key, None, resp, f"invalid reply after {attempts} attempts: {reason}", attempts, source)

    async def _judged(self, call: JudgeCall) -> tuple[CallOutcome, list[CallOutcome], dict[str | None, list[float]]]:
        if self.repeats == 1:
            o = await self._call(call)
            return o, [o], {}
        return await judge_repeated(self._call, call, self.repeats, self.aggregate)

    def _stopped(self) -> JudgekitError | None:
        """The error of a pre-flight check that failed (the backend cannot judge this run)."""
        return self.gate.error or (self.logprob_gate.error if self.logprob_gate is not None else None)

    def _failed(self, sample: Sample, error: str) -> Result:
        return Result.for_sample(sample, self.provenance.get("rubric", ""), status="failed", error=error)

    async def _sample(self, index: int, sample: Sample, slot: asyncio.Semaphore) -> None:
        try:
            try:
                # Inline, not in a thread: building requests is cheap (images are checked, not
                # decoded), and a thread hop per sample costs more than it saves.
                calls = self.method.plan(sample)
            except (SampleError, JudgekitError) as exc:
                calls = []
                result = self._failed(sample, str(exc))
            else:
                judged = await asyncio.gather(*(self._judged(c) for c in calls))
                result = self.method.combine(sample, {o.key: o for o, _, _ in judged})
                # Per call: answered now or replayed from the cache, and by which endpoint
                # (with --repeats, per repeat: "<call>#1" ... "<call>#K").
                result.details["sources"] = {
                    (o.key if len(reps) == 1 else f"{o.key}#{i + 1}"): r.source
                    for o, reps, _ in judged for i, r in enumerate(reps) if r.source}
                if self.repeats > 1:
                    record_repeats(self.method, sample, result, list(judged))
            result.provenance = self.provenance
            sent = (r.request.decoding() for c in calls for r in repeated_calls(c, self.repeats))
            setattr(result, "judge", record_judge(self.judge, sent, result.details.get("sources") or {},  # noqa: B010
                                                  self.pin_model))
            # What was judged, so a report can show it (an extra field of the record).
            setattr(result, "inputs", sample_inputs(sample))  # noqa: B010
            self.results[index] = result
            if self._fh is not None:
                self._fh.write(result.model_dump_json() + "\n")
                now = time.monotonic()
                if now - self._flushed > 0.5:  # visible on disk within half a second, without a syscall per line
                    self._fh.flush()
                    self._flushed = now
            self.progress.update(result.status == "failed")
        except Exception as exc:  # never lose a sample to an unexpected bug: record it
            if self._stopped() is not None:
                return  # the backend is unusable: run() raises its error, no sample is "failed"
            self.results[index] = self._failed(sample, f"internal error: {type(exc).__name__}: {exc}")
            self.progress.update(True)
        finally:
            slot.release()

    async def run(self, samples: Iterable[Sample]) -> Results:
        slot = asyncio.Semaphore(self.window)
        tasks = []
        if self.out is not None:
            self.out.parent.mkdir(parents=True, exist_ok=True)
            # Results stream here as samples finish; on resume the cache replays finished calls.
            self._fh = self.out.open("w", encoding="utf-8")
        try:
            for i, sample in enumerate(samples):
                await slot.acquire()
                if self._stopped() is not None:
                    break
                tasks.append(asyncio.create_task(self._sample(i, sample, slot)))
                tasks = [t for t in tasks if not t.done()]
            await asyncio.gather(*tasks)
            stopped = self._stopped()
            if stopped is not None:
                raise stopped
        finally:
            await self.dispatcher.aclose()
            if self._fh is not None:
                self._fh.close()
            self.progress.close()
        run_info = {"cache": self.cache.stats()}
        run_info.update(getattr(self.backend, "run_info", dict)())  # e.g. per-endpoint counts (backends/pool.py)
        results = Results([self.results[i] for i in sorted(self.results)], run_info)
        if self.out is not None:
            results.save(self.out)  # final file in manifest order
            # The judge card beside the results (judge_card.py): who answered, with counts.
            write_card(card_path(self.out), build_card(results.records, run_info, self.out.name))
        return results


def _samples_iter(samples: Any, max_samples: int | None, shard: Shard | None = None) -> tuple[Iterable[Sample], int | None]:
    if isinstance(samples, str | Path):
        it: Iterable[Sample] = iter_samples(samples)
        total = None
    else:
        lst = load_samples(samples)
        it, total = lst, len(lst)
    if shard is not None:  # --shard i/N: this part of the manifest only (shards.py)
        it = select_shard(it, shard) if total is None else list(select_shard(it, shard))
        total = None if total is None else len(it)  # type: ignore[arg-type]
    if max_samples is not None:
        import itertools

        it = itertools.islice(it, max_samples)
        total = min(total, max_samples) if total is not None else max_samples
    return it, total


async def score_async(
    rubric: str | Path | Rubric,
    samples: str | Path | Iterable[Sample | dict[str, Any]],
    backend: str | Backend | None = None,
    *,
    base_url: str | list[str] | None = None,
    api_key: str | None = None,
    concurrency: int = 16,
    cache: str | Path | bool | None = True,
    out: str | Path | None = None,
    max_samples: int | None = None,
    progress: bool | None = False,
    parse_retries: int = 2,
    backend_options: dict[str, Any] | None = None,
    method_options: dict[str, Any] | None = None,
    shard: str | Shard | None = None,
    pin_model: str | None = None,
    recheck: str | None = None,
    repeats: int = 1,
    aggregate: str = "mean",
    answers: str = "logprob",
) -> Results:
    """Score ``samples`` (a manifest path or a list of samples) with ``rubric``.

    ``backend`` is a spec (``openai:MODEL``, ``vllm:MODEL``, ``hf:MODEL``, ``replay:PATH``) or
    a backend object (then the caller closes it); ``None`` is the same default judge as the CLI's
    (the embedded vLLM judge, ``judgekit.backends.vllm.resolve_default_backend``), checked before
    anything starts. ``cache=True`` uses the default cache file,
    a path uses that file, ``False``/``None`` disables caching. ``out`` streams results to JSONL.
    ``shard="3/16"`` judges only that part of the samples (see ``judgekit.shards``).
    ``pin_model``: fail (per sample) every reply whose served model id differs (judge_card.py).
    ``recheck``: a label; read no cached answer, store fresh ones under the backend identity plus
    this label (never over earlier answers): what ``judgekit drift`` runs with.
    ``repeats=K`` judges each call K times (seeds 0..K-1) and combines the K scores by
    ``aggregate`` (mean, median or majority); pointwise rubrics only (methods/repeats.py).
    ``answers="text"``: rubrics that read answer probabilities (vqascore, probability answers)
    read yes/no from the reply's text instead, for judges without logprobs (records say
    ``scoring_mode: text``); by default such a run first checks that the judge returns them.
    """
    rubric = load_rubric(rubric)
    check_repeats(rubric, repeats, aggregate)
    method_options = {**(method_options or {}), **answers_options(rubric, answers)}
    if backend is None:
        from .backends.vllm import resolve_default_backend

        backend = resolve_default_backend()
    part = parse_shard(shard) if shard is not None else None
    owned = isinstance(backend, str)
    if isinstance(backend, str):  # (= owned; spelled out so the type checker narrows backend)
        settings = {"base_url": base_url, "api_key": api_key, "concurrency": concurrency}
        be = make_backend(str(backend), settings=settings, **(backend_options or {}))
    else:
        be = backend
    try:
        method = make_method(rubric, parse_retries=parse_retries, replay=bool(getattr(be, "replays_answers", False)),
                             **(method_options or {}))
    except BaseException:
        if owned:
            await be.aclose()
        raise
    store = ResponseCache(default_cache_path() if cache is True else (cache or None))
    it, total = _samples_iter(samples, max_samples, part)
    provenance = {
        **method.provenance(),
        "kind": rubric.kind,
        "backend": be.describe(),
        "decoding": {"temperature": 0.0, "seed": 0, "parse_retries": parse_retries},
        "judgekit_version": __version__,
        "created": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
    }
    if repeats > 1:
        provenance["repeats"], provenance["aggregate"] = repeats, aggregate
    if part is not None:
        provenance["shard"] = part.to_json()  # `judgekit merge` checks the parts against it
    # A backend over several servers takes more in flight than --concurrency (which is per server).
    window = max(2 * concurrency, 2 * int(getattr(be, "max_batch_size", 1)), 2 * int(getattr(be, "concurrency", 0)), 32)
    run = Run(method, be, store, Path(out) if out else None, window, _Progress(total, progress), provenance,
              pin_model=pin_model, recheck=recheck, repeats=repeats, aggregate=aggregate)
    try:
        return await run.run(it)
    finally:
        store.close()
        if owned:
            await be.aclose()


@same_signature(score_async)
def score(*args: Any, **kwargs: Any) -> Results:
    """Synchronous ``score_async`` (same parameters: ``help()`` and editors show them, through
    ``same_signature``). Works inside a running event loop (a Jupyter notebook) by running the
    scoring loop in a worker thread."""
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return asyncio.run(score_async(*args, **kwargs))
    with concurrent.futures.ThreadPoolExecutor(1) as pool:
        return pool.submit(asyncio.run, score_async(*args, **kwargs)).result()
