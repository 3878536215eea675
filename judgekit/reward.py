"""A judge as a reward function for training loops (GRPO, DPO, best-of-N).

    >>> reward = jk.Reward("viescore-t2i", backend="vllm:/models/Qwen2.5-VL-7B")    # doctest: +SKIP
    >>> scores = reward(images, prompts)        # numpy float array, NaN where the judge failed  # doctest: +SKIP
    >>> reward.last_failures                    # {index: reason} of those NaNs                 # doctest: +SKIP
    >>> p_a = reward.compare(images_a, images_b, prompts)  # pairwise rubrics: P(A better)      # doctest: +SKIP

A call is one ``score_async`` run over the batch, in memory: images (PIL, numpy, torch, bytes;
a 4-D array or tensor is split into its images) become samples without touching the disk, every
request of the batch goes to the engine together (one ``LLM.chat`` per batch on ``vllm:``,
bounded concurrency on API backends), nothing is written, and the response cache is off unless
``cache=`` names a file (identical images are rare in training). The backend is built once, on
the first call, and kept until ``close()``; the calls run on the Reward's own event-loop thread,
so the sync call works inside a notebook's running loop and ``acall`` from any loop.

The scalar of a sample: ``dimension=None`` or ``"overall"`` takes the record's ``overall``
(VIEScore's combined score, VQAScore's probability, a question graph's score); a dimension name
takes that score, and on a pointwise rubric only that dimension is judged (one call per image).
A sample the judge failed on (unparseable reply after retries, unreadable image, transport
error) is NaN, with the reason in ``last_failures``: never a default score.

``compare`` (pairwise rubrics) judges both orders and returns P(A better) = the mean over the two
orders of 1 (A preferred), 0.5 (tie) or 0 (B preferred): 1 or 0 when both orders agree, 0.5 when
they contradict each other, 0.75 / 0.25 when one order saw a tie.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import math
import threading
from collections.abc import Awaitable, Mapping, Sequence
from pathlib import Path
from typing import Any, TypeVar

import numpy as np

from .backends import Backend, make_backend
from .errors import ConfigError, JudgekitError, SampleError
from .results import Results
from .rubric import Combine, Rubric, load_rubric
from .runner import score_async
from .types import Result, Sample

T = TypeVar("T")


def split_batch(images: Any) -> list[Any]:
    """A sequence of images, or a 4-D numpy array / torch tensor (N images) as its N images."""
    if type(images).__module__.split(".")[0] in ("numpy", "torch"):
        if images.ndim == 4:
            return [images[i] for i in range(images.shape[0])]
        raise ConfigError(f"an array of shape {tuple(images.shape)} is not a batch: pass a list of images or an "
                          "N x C x H x W / N x H x W x C array")
    if isinstance(images, str | bytes) or not hasattr(images, "__iter__"):
        raise ConfigError("images must be a sequence of images (or a 4-D array/tensor of N images)")
    return list(images)


class _LoopThread:
    """One event loop in a daemon thread: every call of a Reward runs there, so a backend bound
    to its loop (HTTP clients) is always used from the loop it was made in."""

    def __init__(self) -> None:
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, name="judgekit-reward", daemon=True)
        self.thread.start()

    def submit(self, coro: Awaitable[T]) -> concurrent.futures.Future[T]:
        return asyncio.run_coroutine_threadsafe(coro, self.loop)  # type: ignore[arg-type]

    def stop(self) -> None:
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join()
        self.loop.close()


class Reward:
    """``Reward(rubric, backend=SPEC_OR_BACKEND, dimension=None)``; see the module docstring.

    ``backend`` is a spec (built on first use, closed by ``close()``) or a backend object (the
    caller closes it); ``None`` is the default embedded vLLM judge. ``cache``: False (default),
    True (the default cache file) or a path. Other keywords are ``jk.score``'s."""

    def __init__(
        self,
        rubric: str | Path | Rubric,
        backend: str | Backend | None = None,
        *,
        dimension: str | None = None,
        cache: str | Path | bool | None = False,
        base_url: str | list[str] | None = None,
        api_key: str | None = None,
        concurrency: int = 16,
        parse_retries: int = 2,
        backend_options: Mapping[str, Any] | None = None,
        method_options: Mapping[str, Any] | None = None,
    ):
        self.rubric = load_rubric(rubric)
        self.dimension = None if dimension in (None, "overall") else dimension
        self._judged = self._rubric_for(self.rubric, self.dimension)
        self._spec = backend
        self._settings = {"base_url": base_url, "api_key": api_key, "concurrency": concurrency}
        self._backend_options = dict(backend_options or {})
        self._options: dict[str, Any] = {"cache": cache, "concurrency": concurrency, "parse_retries": parse_retries,
                         "method_options": dict(method_options or {}), "progress": False}
        self._backend: Backend | None = backend if backend is not None and not isinstance(backend, str) else None
        self._owned = self._backend is None
        self._runner: _LoopThread | None = None
        self._lock = threading.Lock()
        #: ``{index: reason}`` for the NaNs of the last call.
        self.last_failures: dict[int, str] = {}
        #: The records of the last call (one per image or pair), for whoever wants the reasoning.
        self.last_results: Results | None = None

    @staticmethod
    def _rubric_for(rubric: Rubric, dimension: str | None) -> Rubric:
        """The rubric actually judged: a pointwise rubric narrowed to ``dimension`` (one call per
        image instead of one per dimension; that dimension's requests are unchanged). A rubric
        that judges all dimensions in one call (``per_call: all``) is kept whole: narrowing it
        would change the one request it makes."""
        if dimension is None or rubric.kind != "pointwise":
            return rubric
        dims = [d for d in rubric.dimensions if d.name == dimension]
        if not dims:
            names = ", ".join(["overall", *(d.name for d in rubric.dimensions)])
            raise ConfigError(f"rubric {rubric.name!r} has no dimension {dimension!r}; choose one of {names}")
        if rubric.per_call == "all":
            return rubric
        return rubric.model_copy(update={"dimensions": dims, "combine": Combine(rule="single")})

    # --- running -------------------------------------------------------------------------------

    def _loop(self) -> _LoopThread:
        with self._lock:
            if self._runner is None:
                self._runner = _LoopThread()
            return self._runner

    async def _get_backend(self) -> Backend:
        if self._backend is None:
            spec = self._spec
            if spec is None:
                from .backends.vllm import resolve_default_backend

                spec = resolve_default_backend()
            self._backend = make_backend(str(spec), settings=self._settings, **self._backend_options)
        return self._backend

    async def _run(self, rubric: Rubric, samples: list[Sample]) -> Results:
        backend = await self._get_backend()
        return await score_async(rubric, samples, backend, **self._options)

    def _sync(self, coro: Awaitable[T]) -> T:
        return self._loop().submit(coro).result()

    async def _async(self, coro: Awaitable[T]) -> T:
        return await asyncio.wrap_future(self._loop().submit(coro))

    # --- pointwise -----------------------------------------------------------------------------

    def __call__(self, images: Any, prompts: Sequence[str | None] | None = None, **fields: Sequence[Any]) -> np.ndarray:
        """One float per image (NaN where the judge failed). ``fields``: other sample fields, one
        value per image (``instruction=[...]``, ``source_image=[...]`` for editing rubrics)."""
        return self._sync(self._pointwise(images, prompts, **fields))

    async def acall(self, images: Any, prompts: Sequence[str | None] | None = None, **fields: Sequence[Any]) -> np.ndarray:
        """``await reward.acall(images, prompts)``: the same as calling the Reward, from a running loop."""
        return await self._async(self._pointwise(images, prompts, **fields))

    async def _pointwise(self, images: Any, prompts: Sequence[str | None] | None = None,
                            **fields: Sequence[Any]) -> np.ndarray:
        if self._judged.kind == "pairwise":
            raise ConfigError(f"rubric {self.rubric.name!r} is pairwise: use reward.compare(images_a, images_b, prompts)")
        columns = {"image": split_batch(images), **({"prompt": list(prompts)} if prompts is not None else {}),
                   **{k: list(v) for k, v in fields.items()}}
        return await self._score(columns, self._scalar)

    def _scalar(self, r: Result) -> float:
        value = r.overall if self.dimension is None else r.scores.get(self.dimension, _MISSING)
        if value is _MISSING:
            raise ConfigError(f"{self.rubric.name!r} results have no score {self.dimension!r}; "
                              f"they have: overall, {', '.join(r.scores)}")
        return math.nan if value is None else float(value)

    # --- pairwise ------------------------------------------------------------------------------

    def compare(self, images_a: Any, images_b: Any, prompts: Sequence[str | None] | None = None,
                **fields: Sequence[Any]) -> np.ndarray:
        """P(A better) per pair, from both orders (see the module docstring); NaN where a verdict failed."""
        return self._sync(self._pairwise(images_a, images_b, prompts, **fields))

    async def acompare(self, images_a: Any, images_b: Any, prompts: Sequence[str | None] | None = None,
                       **fields: Sequence[Any]) -> np.ndarray:
        return await self._async(self._pairwise(images_a, images_b, prompts, **fields))

    async def _pairwise(self, images_a: Any, images_b: Any, prompts: Sequence[str | None] | None = None,
                               **fields: Sequence[Any]) -> np.ndarray:
        if self._judged.kind != "pairwise":
            raise ConfigError(f"compare needs a pairwise rubric (e.g. pairwise-t2i); {self.rubric.name!r} is {self.rubric.kind}")
        columns = {"image_a": split_batch(images_a), "image_b": split_batch(images_b),
                   **({"prompt": list(prompts)} if prompts is not None else {}), **{k: list(v) for k, v in fields.items()}}
        return await self._score(columns, self._p_a_better)

    def _p_a_better(self, r: Result) -> float:
        verdicts = r.details.get("verdicts", {})
        dim = self.dimension or str(self._judged.options.get("primary") or self._judged.dimensions[0].name)
        if dim not in verdicts:
            raise ConfigError(f"pairwise rubric {self.rubric.name!r} has no dimension {dim!r}; it has {', '.join(verdicts)}")
        got = verdicts[dim]
        # In order AB image_a is shown first ("A"); in order BA it is shown second ("B").
        a_first = {"A": 1.0, "tie": 0.5, "B": 0.0}
        per_order = [a_first[got["AB"]["winner"]], 1.0 - a_first[got["BA"]["winner"]]]
        return float(sum(per_order) / 2)

    # --- shared --------------------------------------------------------------------------------

    async def _score(self, columns: dict[str, list[Any]], scalar: Any) -> np.ndarray:
        n = len(next(iter(columns.values())))
        uneven = {k: len(v) for k, v in columns.items() if len(v) != n}
        if uneven:
            raise ConfigError(f"every input needs one value per image ({n}); got lengths {uneven}")
        out = np.full(n, math.nan, dtype=np.float64)
        failures: dict[int, str] = {}
        samples: list[Sample] = []
        index: dict[str, int] = {}
        for i in range(n):
            try:
                pair = {"model_a": "A", "model_b": "B"} if "image_a" in columns else {}
                s = Sample(id=str(i), **pair, **{k: v[i] for k, v in columns.items()})
            except (SampleError, JudgekitError) as exc:  # a bad image fails its own slot only
                failures[i] = str(exc)
                continue
            except ValueError as exc:  # pydantic: a field of the wrong type
                failures[i] = str(exc).splitlines()[0]
                continue
            index[s.id] = i
            samples.append(s)
        results = await self._run(self._judged, samples) if samples else Results([])
        for r in results:
            i = index[r.sample_id]
            if r.status != "ok":
                failures[i] = r.error or "failed"
                continue
            out[i] = scalar(r)
            if math.isnan(out[i]):
                failures[i] = r.error or "the judge gave no score"
        self.last_failures = dict(sorted(failures.items()))
        self.last_results = results
        return out

    def close(self) -> None:
        """Close an owned backend (an engine's processes) and stop the event-loop thread."""
        runner, self._runner = self._runner, None
        if runner is None:
            return
        if self._owned and self._backend is not None:
            backend, self._backend = self._backend, None
            runner.submit(backend.aclose()).result()
        runner.stop()

    def __enter__(self) -> Reward:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __repr__(self) -> str:
        spec = self._spec if isinstance(self._spec, str) else getattr(self._backend, "spec", None)
        return f"Reward({self.rubric.name!r}, backend={spec!r}, dimension={self.dimension or 'overall'!r})"


_MISSING: Any = object()
