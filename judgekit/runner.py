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
import functools
import os
import sys
import time
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path
from typing import Any

from ._sync import same_signature
from ._version import __version__
from .backends import Backend, make_backend
from .backends.dispatch import Dispatcher
from .backends.logprob_probe import LogprobCheck
from .backends.preflight import ReadyGate
from .cache import ResponseCache, answering_endpoint, backend_identity, request_key
from .errors import ConfigError, JudgekitError, SampleError, VerdictParseError
from .images import DEFAULT_MAX_IMAGE_PIXELS, check_pixel_limit
from .images import max_image_pixels as image_pixel_limit
from .judge_card import JudgeWitness, build_card, card_path, run_judge, write_card
from .manifest import load_samples, refuse_overwriting_input
from .memory_images import InMemoryImage
from .methods import CallOutcome, JudgeCall, Method, make_method
from .methods.repeats import check_repeats, judge_call, record_calls, repeated_calls
from .methods.vqascore import answers_options
from .result_spool import ResultSpool
from .results import Results
from .rubric import Rubric, load_rubric
from .shards import Shard, parse_shard, select_shard
from .tables import is_dataset_object, open_samples
from .types import IMAGE_FIELDS, ChatRequest, ChatResponse, ImagePart, Result, Sample
from .usage import BUDGET_REACHED, DEFERRED, SEND, Ledger, SampleUsage
from .verdict import explain_invalid


def default_cache_path() -> Path:
    """``$JUDGEKIT_CACHE``, else ``$XDG_CACHE_HOME/judgekit/responses.sqlite``."""
    if os.environ.get("JUDGEKIT_CACHE"):
        return Path(os.environ["JUDGEKIT_CACHE"])
    root = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
    return root / "judgekit" / "responses.sqlite"


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


def sample_inputs(sample: Sample) -> dict[str, Any]:
    """What a result records of its sample's inputs; an image in memory by its hash, not a path."""
    return {k: v.reference() if isinstance(v, InMemoryImage) else v
            for k in ("prompt", "instruction", *IMAGE_FIELDS) if (v := getattr(sample, k)) is not None}


def resized_images(calls: Iterable[JudgeCall]) -> dict[str, dict[str, list[int]]]:
    """The images of a sample that were downscaled for the judge: input name -> {"from": [w, h],
    "to": [w, h]} (``judgekit.images``), recorded in the result's details."""
    out: dict[str, dict[str, list[int]]] = {}
    for call in calls:
        for message in call.request.messages:
            for part in message.content:
                if isinstance(part, ImagePart) and part.resized is not None:
                    out[part.label or "image"] = {"from": list(part.resized[0]), "to": list(part.resized[1])}
    return out


def _parses(call: JudgeCall) -> Callable[[ChatResponse], bool]:
    """For ``--retry-failed``: whether a cached reply is a valid answer to ``call``."""
    def valid(response: ChatResponse) -> bool:
        try:
            call.parse(response)
        except VerdictParseError:
            return False
        return True

    return valid


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
        retry_failed: bool = False,
        pin_model: str | None = None,
        recheck: str | None = None,
        repeats: int = 1,
        aggregate: str = "mean",
    ):
        self.method, self.backend, self.cache = method, backend, cache
        #: Ask again for calls whose cached reply never validated (``--retry-failed``); by default
        #: the cache replays them, so a rerun makes the same decisions as the first run.
        self.retry_failed = retry_failed
        self.out, self.window, self.progress = out, window, progress
        self.provenance = provenance
        self.dispatcher = Dispatcher(backend)
        # The backend's pre-flight check, run on the first cache miss: a backend that cannot
        # answer at all (nothing listening, no such model) stops the run with its reason.
        self.gate = ReadyGate(backend)
        #: The first error a backend raised (pre-flight or mid-run, e.g. a key refused with 401):
        #: no later request can succeed, so the run stops and raises it. Samples in flight then
        #: are not recorded as failed: their finished calls are cached and a rerun resumes them.
        self.stopped: JudgekitError | None = None
        # Rubrics reading answer probabilities first check that the judge returns top_logprobs.
        needs = getattr(method, "needs_logprobs", False) and not getattr(backend, "replays_answers", False)
        self.logprob_gate = ReadyGate(LogprobCheck(backend, method.kind)) if needs else None
        # Keyed on once per run: a backend's identity is fixed once it is built. A recheck
        # (judgekit drift) reads no cached answer and stores its own beside, never over, them.
        self.identity = backend_identity(backend)
        self.recheck = recheck
        self.store_identity = self.identity if recheck is None else {**self.identity, "recheck": recheck}
        self.repeats, self.aggregate = repeats, aggregate  # --repeats K: a self-ensemble per call
        # Who answered (judge_card.py): served ids recorded, an alias told once, --pin-model enforced.
        self.witness = JudgeWitness(run_judge(backend.describe() or {}, self.identity), pin_model)
        # Finished records: in memory (``keep``), or only on disk as they finish (``spool``).
        self.results: dict[int, Result] = {}
        self.keep = out is None
        self.spool: ResultSpool | None = None
        self.ledger = Ledger(str(getattr(backend, "model", backend.spec)))  # usage, cost, budget, diverting (usage/)
        # In-memory images of samples the caller holds anyway (a list), for Results.save(save_images=).
        self.images: dict[str, InMemoryImage] | None = None

    async def _call(self, call: JudgeCall, usage: SampleUsage) -> CallOutcome:
        resp: ChatResponse | None = None
        reason = ""
        attempts = call.parse_retries + 1
        caching = self.cache.enabled
        source: dict[str, Any] = {}
        for attempt in range(attempts):
            key = request_key(self.store_identity, call.request, attempt) if caching else ""
            reading = caching and self.recheck is None
            found = self.cache.lookup(key, _parses(call) if self.retry_failed else None) if reading else None
            if found is not None:
                resp, stored = found
                source = {"from": "cache", "endpoint": stored["endpoint"]}
                self.ledger.record(usage, resp, from_cache=True, key=key, served=self.witness.served_model(resp, False))
            else:
                held = self.ledger.hold(key, call.request)
                if held.decision != SEND:  # over the budget, or diverted to a dry run / batch
                    return CallOutcome(call.key, None, None, held.error, attempt + 1, None)
                resp = await self._ask(call.request)
                self.ledger.settle(held, resp, usage, self.witness.served_model(resp, True))
                source = {"from": "fresh", "endpoint": answering_endpoint(self.identity, resp)}
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
                reason = explain_invalid(resp, exc.reason, call.request.max_tokens)
        return CallOutcome(call.key, None, resp, f"invalid reply after {attempts} attempts: {reason}", attempts, source)

    async def _ask(self, request: ChatRequest) -> ChatResponse:
        """The backend's reply; an error the backend raises stops the run (``self.stopped``)."""
        if self.stopped is not None:
            raise self.stopped
        try:
            await self.gate.wait()
            if self.logprob_gate is not None:
                await self.logprob_gate.wait()
            return await self.dispatcher.submit(request)
        except JudgekitError as exc:
            if self.stopped is None:
                self.stopped = exc
            raise

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
                usage = SampleUsage()
                send = functools.partial(self._call, usage=usage)
                judged = await asyncio.gather(*(judge_call(send, c, self.repeats, self.aggregate) for c in calls))
                if any(r.error in (BUDGET_REACHED, DEFERRED) for _, reps, _ in judged for r in reps):
                    return  # not judged in this run (budget, dry run, batch): a rerun judges it
                result = self.method.combine(sample, {o.key: o for o, _, _ in judged})
                # Per call (per repeat): answered now or replayed from the cache, and where.
                record_calls(self.method, sample, result, list(judged))
                result.details["usage"] = usage.to_json(self.ledger.prices is not None)
                if resized := resized_images(calls):  # the judge saw these smaller than the files
                    result.details["resized_images"] = resized
            result.provenance = self.provenance
            sent = (r.request.decoding() for c in calls for r in repeated_calls(c, self.repeats))
            setattr(result, "judge", self.witness.record(sent, result.details.get("sources") or {}))  # noqa: B010
            # What was judged, so a report can show it (an extra field of the record).
            setattr(result, "inputs", sample_inputs(sample))  # noqa: B010
            if self.images is not None:
                self.images.update(sample.in_memory_images())
            self._keep(index, result)
            self.progress.update(result.status == "failed")
        except Exception as exc:  # never lose a sample to an unexpected bug: record it
            if self.stopped is not None:
                return  # the backend is unusable: run() raises its error, no sample is "failed"
            self._keep(index, self._failed(sample, f"internal error: {type(exc).__name__}: {exc}"))
            self.progress.update(True)
        finally:
            slot.release()

    def _keep(self, index: int, result: Result) -> None:
        if self.keep:
            self.results[index] = result
        if self.spool is not None:
            self.spool.write(index, result)

    async def run(self, samples: Iterable[Sample]) -> Results:
        slot = asyncio.Semaphore(self.window)
        tasks = []
        if self.out is not None:
            # Results stream here as samples finish; on resume the cache replays finished calls.
            self.spool = ResultSpool(self.out)
        try:
            for i, sample in enumerate(samples):
                await slot.acquire()
                if self.stopped is not None or self.ledger.stopped:
                    break
                tasks.append(asyncio.create_task(self._sample(i, sample, slot)))
                tasks = [t for t in tasks if not t.done()]
            await asyncio.gather(*tasks)
            if self.stopped is not None:
                raise self.stopped
        finally:
            await self.dispatcher.aclose()
            if self.spool is not None:
                self.spool.close()
            self.progress.close()
        run_info = {"cache": self.cache.stats(), "usage": self.ledger.run_info()}
        run_info.update(getattr(self.backend, "run_info", dict)())  # e.g. per-endpoint counts (backends/pool.py)
        spooled = self.spool.finish() if self.spool is not None else None  # the file, now in manifest order
        records = [self.results[i] for i in sorted(self.results)] if self.keep or spooled is None else spooled
        if self.out is not None:  # the judge card beside the results (judge_card.py): who answered, with counts
            write_card(card_path(self.out), build_card(records, run_info, self.out.name))
        return Results(records, run_info, images=self.images)


def _samples_iter(samples: Any, max_samples: int | None, shard: Shard | None = None,
                  columns: Mapping[str, str] | None = None) -> tuple[Iterable[Sample], int | None]:
    if isinstance(samples, str | Path) or is_dataset_object(samples):
        # streamed: a JSONL manifest, a Parquet/Arrow table or a datasets.Dataset (tables.py)
        it: Iterable[Sample] = open_samples(samples, columns)
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
    columns: Mapping[str, str] | None = None,
    retry_failed: bool = False,
    max_image_pixels: int | None = DEFAULT_MAX_IMAGE_PIXELS,
    pin_model: str | None = None,
    recheck: str | None = None,
    repeats: int = 1,
    aggregate: str = "mean",
    answers: str = "logprob",
    ledger: Ledger | None = None,
) -> Results:
    """Score ``samples`` (a manifest path or a list of samples) with ``rubric``.

    ``backend`` is a spec (``openai:MODEL``, ``vllm:MODEL``, ``hf:MODEL``, ``replay:PATH``) or
    a backend object (then the caller closes it); ``None`` is the same default judge as the CLI's
    (the embedded vLLM judge, ``judgekit.backends.vllm.resolve_default_backend``), checked before
    anything starts. ``cache=True`` uses the default cache file,
    a path uses that file, ``False``/``None`` disables caching. ``out`` streams results to JSONL.
    ``shard="3/16"`` judges only that part of the samples (see ``judgekit.shards``).
    ``samples`` may be a Parquet/Arrow table or ``datasets.Dataset`` (streamed; ``columns``: see
    ``judgekit.tables``); image fields may hold images in memory (``judgekit.memory_images``).
    ``retry_failed=True`` asks the judge again for every call whose cached reply did not
    validate (after the server or the rubric was fixed); valid cached replies are still used.
    ``max_image_pixels``: an image with more pixels is downscaled to fit before it is sent, and
    its result records the resize in ``details["resized_images"]`` (``None``: never downscale).
    ``pin_model`` (refuse replies of another served model), ``repeats``/``aggregate`` (a
    self-ensemble of K calls), ``answers="text"`` (yes/no read from text, for judges without
    logprobs) and ``recheck`` (a label: no cached answer is read, fresh ones are stored beside the
    earlier ones; ``judgekit drift``): docs/reproducibility.md.
    ``ledger`` (``judgekit.usage.Ledger``): prices replies, keeps a budget, diverts requests (dry run, batch).
    """
    check_pixel_limit(max_image_pixels)
    if parse_retries < 0:  # -1 would make no call at all and fail every sample with no reason
        raise ConfigError(f"parse retries must be 0 or more (extra calls for an invalid reply), got {parse_retries}")
    rubric = load_rubric(rubric)
    check_repeats(rubric, repeats, aggregate)
    method_options = {**(method_options or {}), **answers_options(rubric, answers)}
    refuse_overwriting_input(samples, out)
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
        store = ResponseCache(default_cache_path() if cache is True else (cache or None))
    except BaseException:
        if owned:
            await be.aclose()
        raise
    it, total = _samples_iter(samples, max_samples, part, columns)
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
              retry_failed=retry_failed, pin_model=pin_model, recheck=recheck, repeats=repeats, aggregate=aggregate)
    run.ledger = ledger or run.ledger
    if total is not None:  # the samples are a list in memory: their records and images may be kept too
        run.images, run.keep = {}, True
    try:
        with image_pixel_limit(max_image_pixels):  # read where each sample's images are loaded
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
