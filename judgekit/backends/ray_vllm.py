"""``ray-vllm:MODEL``: judging as Ray Data batch inference on vLLM engines, one engine per replica.

Each batch of requests the runner hands over becomes a Ray Dataset (one row per request: its
index and the pickled ``ChatRequest``, image bytes included, so workers on other nodes never need
the manifest's paths). ``map_batches`` runs it through a stateful engine class on an actor pool
of ``replicas`` actors, each holding one vLLM engine with ``tensor_parallel`` GPUs. The engine
class IS judgekit's ``vllm:`` backend (backends/vllm.py): the same chat conversion, sampling and
structured-output parameters and response decoding, so a verdict from ``ray-vllm:`` equals one
from ``vllm:`` with the same model and seed. Parsing, retries of invalid replies, the cache,
combining and writing stay in judgekit's runner, on the driver.

Ray Data restarts an actor of the pool that dies and runs its batch again (its defaults for
actor pools: unlimited ``max_restarts`` and ``max_task_retries``); the runner still writes one
record per sample. The replies of a job reach the cache when the job ends: a driver killed
mid-job loses that job's work (not earlier jobs'), and the rerun sends only what is missing.

Cost model: the actor pool lives for one Dataset, so every Ray Data job starts the engines again.
The backend therefore makes each job as large as it can: it takes the runner's requests one by one
(``max_batch_size = 1``, with a window as large as ``job_size``), gathers them until none has
arrived for ``gather_s`` seconds (or ``job_size`` are waiting), and runs them as one job. A run is
one job per ``job_size`` requests, plus one per round of parse retries (requests arriving while a
job runs wait for the next). A larger ``job_size`` means fewer engine start-ups and more image bytes
held on the driver (up to ``2 x job_size`` samples are in flight).

    judgekit score --rubric viescore-t2i --data m.jsonl --backend ray-vllm:/models/Qwen2.5-VL-7B \\
        --replicas 8 --tensor-parallel 1 --ray-address auto
"""

from __future__ import annotations

import asyncio
import os
import pickle
from collections.abc import Sequence
from typing import Any

from ..errors import ConfigError, MissingDependencyError
from ..types import ChatRequest, ChatResponse
from .vllm import _coerce

# Environment the engines need on the workers (offline, small CPU KV cache in tests): handed
# over explicitly because Ray workers on other nodes do not share the driver's environment.
_ENV_KEYS = ("VLLM_CPU_KVCACHE_SPACE", "HF_HUB_OFFLINE", "TRANSFORMERS_OFFLINE", "VLLM_NO_USAGE_STATS",
             "DO_NOT_TRACK", "HF_HOME", "PYTHONPATH", "OMP_NUM_THREADS")


def _import_ray():
    try:
        import ray
        import ray.data  # noqa: F401
    except ImportError as e:
        raise MissingDependencyError("ray", "ray") from e
    return ray


class EngineReplica:
    """The stateful class of ``map_batches``: one judgekit vLLM backend per actor."""

    def __init__(self, model: str, engine_options: dict[str, Any]):
        import time

        from .vllm import VLLMBackend

        t0 = time.perf_counter()
        self.backend = VLLMBackend(model, **engine_options)
        self.engine_start_s = time.perf_counter() - t0  # reported with each reply: where the time goes
        self.pid = os.getpid()

    def __call__(self, batch: dict[str, Any]) -> dict[str, Any]:
        import numpy as np

        requests = [pickle.loads(b) for b in batch["request"]]
        responses = self.backend.generate_sync(requests)
        for r in responses:
            r.raw = {**(r.raw or {}), "replica_pid": self.pid, "engine_start_s": self.engine_start_s}
        # The whole response, pickled: a per-request error and ``raw`` must survive the trip.
        return {"index": np.asarray(batch["index"]),
                "response": np.array([pickle.dumps(r) for r in responses], dtype=object)}


class RayVLLMBackend:
    """Options: ``replicas`` (default 1), ``tensor_parallel`` (GPUs per replica; default 1 on a
    GPU cluster, 0 GPUs on CPU), ``batch_size`` (requests per engine call, default 64),
    ``ray_address`` (``auto`` for a running cluster; default: the running or a new local one),
    ``num_cpus`` per replica (default 1), ``job_size`` (most requests per Ray Data job, default
    10,000; the driver holds the images of up to twice that many samples), ``gather_s`` (default 0.5);
    every other option is a ``vllm:`` engine option, passed to each replica's engine."""

    def __init__(self, model: str, replicas: int = 1, tensor_parallel: int | None = None, batch_size: int = 64,
                 ray_address: str | None = None, num_cpus: float = 1, job_size: int = 10_000, gather_s: float = 0.5,
                 **engine_options: Any):
        replicas, batch_size = int(_coerce(replicas)), int(_coerce(batch_size))
        if replicas < 1 or batch_size < 1:
            raise ConfigError(f"ray-vllm:{model}: replicas and batch_size must be at least 1")
        self.ray = _import_ray()
        self.model, self.spec = model, f"ray-vllm:{model}"
        self.replicas, self.batch_size = replicas, batch_size
        self.job_size, self.gather_s = int(_coerce(job_size)), float(_coerce(gather_s))
        self.max_batch_size = 1  # single requests, gathered here into jobs (see _collect)
        self.concurrency = self.job_size  # the runner's window: enough samples in flight to fill a job
        self._pending: list[tuple[ChatRequest, asyncio.Future]] = []
        self._arrived: asyncio.Event | None = None
        self._collector: asyncio.Task | None = None
        self.num_cpus = float(_coerce(num_cpus))
        tp = None if tensor_parallel is None else int(_coerce(tensor_parallel))
        if tp is not None and tp > 1:
            engine_options.setdefault("tensor_parallel_size", tp)
        self.engine_options = {k.replace("-", "_"): _coerce(v) for k, v in engine_options.items()}
        self._owns_ray = False
        self._revision: str | None = None
        if not self.ray.is_initialized():
            env = {k: os.environ[k] for k in _ENV_KEYS if k in os.environ}
            try:
                self.ray.init(address=ray_address, include_dashboard=False, log_to_driver=False,
                              runtime_env={"env_vars": env} if env else None)
            except ConnectionError as e:
                raise ConfigError(f"{self.spec}: no Ray cluster at {ray_address!r}: {e}") from e
            self._owns_ray = True
        self.ray_address = ray_address
        # GPUs per replica: --tensor-parallel, else one where the cluster has GPUs (none on CPU).
        self.num_gpus = tp if tp is not None else (1 if self.ray.cluster_resources().get("GPU", 0) > 0 else 0)
        ctx = self.ray.data.DataContext.get_current()
        ctx.enable_progress_bars = False
        self.datasets_run = 0  # how many Ray Data jobs this backend ran (one per engine start-up)

    def describe(self) -> dict[str, Any]:
        return {"spec": self.spec, "model": self.model, "engine": "vllm on ray data", "replicas": self.replicas,
                "tensor_parallel": self.num_gpus, "batch_size": self.batch_size,
                "engine_options": dict(self.engine_options), "ray_version": self.ray.__version__}

    def cache_identity(self) -> dict[str, Any]:
        # What shapes the answers: the model, the engine arguments and the versions; replicas,
        # batch sizes and resources do not (the replies equal vllm:'s, tested).
        from .local_model import model_revision, resolve_model_dir
        from .vllm import RESOURCE_OPTIONS, _vllm_version

        if self._revision is None:  # the model files as the driver sees them (the replicas read the same)
            self._revision = model_revision(resolve_model_dir(self.model))
        engine = {k: v for k, v in self.engine_options.items() if k not in RESOURCE_OPTIONS}
        return {"spec": self.spec, "endpoint": f"ray-vllm: {self.model}", "revision": self._revision,
                "engine_options": engine, "vllm_version": _vllm_version()}

    def run_info(self) -> dict[str, Any]:
        return {"ray": {"datasets": self.datasets_run, "replicas": self.replicas}}

    def generate_sync(self, requests: Sequence[ChatRequest]) -> list[ChatResponse]:
        rows = [{"index": i, "request": pickle.dumps(r)} for i, r in enumerate(requests)]
        ds = self.ray.data.from_items(rows, override_num_blocks=max(1, min(len(rows), 4 * self.replicas)))
        ds = ds.map_batches(
            EngineReplica,
            fn_constructor_kwargs={"model": self.model, "engine_options": self.engine_options},
            batch_size=self.batch_size,
            batch_format="numpy",
            compute=self.ray.data.ActorPoolStrategy(size=self.replicas),
            num_cpus=self.num_cpus,
            num_gpus=self.num_gpus,
        )
        self.datasets_run += 1
        out: list[ChatResponse | None] = [None] * len(requests)
        for row in ds.iter_rows():
            out[int(row["index"])] = pickle.loads(row["response"])
        return [r if r is not None else ChatResponse(error="no response from the Ray job") for r in out]

    async def generate(self, requests: Sequence[ChatRequest]) -> list[ChatResponse]:
        if not requests:
            return []
        loop = asyncio.get_running_loop()
        if self._collector is None or self._collector.done() or self._collector.get_loop() is not loop:
            self._pending, self._arrived = [], asyncio.Event()
            self._collector = loop.create_task(self._collect())
        futures = []
        for r in requests:
            fut = loop.create_future()
            self._pending.append((r, fut))
            futures.append(fut)
        assert self._arrived is not None
        self._arrived.set()
        return list(await asyncio.gather(*futures))

    async def _collect(self) -> None:
        """Gather the requests that arrive close together into one Ray Data job."""
        assert self._arrived is not None
        while True:
            await self._arrived.wait()
            while len(self._pending) < self.job_size:  # wait until arrivals pause
                self._arrived.clear()
                try:
                    await asyncio.wait_for(self._arrived.wait(), self.gather_s)
                except asyncio.TimeoutError:
                    break
            self._arrived.clear()
            job, self._pending = self._pending[: self.job_size], self._pending[self.job_size :]
            if self._pending:
                self._arrived.set()
            try:
                responses = await asyncio.to_thread(self.generate_sync, [r for r, _ in job])
            except Exception as exc:  # noqa: BLE001 - a failed job fails its requests, not the run
                responses = [ChatResponse(error=f"Ray job failed: {type(exc).__name__}: {exc}")] * len(job)
            for (_, fut), resp in zip(job, responses):
                if not fut.done():
                    fut.set_result(resp)

    async def aclose(self) -> None:
        if self._collector is not None and self._collector.get_loop() is asyncio.get_running_loop():
            self._collector.cancel()
        self._collector = None
        if self._owns_ray and self.ray.is_initialized():
            self.ray.shutdown()
            self._owns_ray = False


__all__ = ["EngineReplica", "RayVLLMBackend"]
