"""``ray-vllm:MODEL``: judging on ``replicas`` vLLM engines held by long-lived Ray actors.

The engines start once per run and live until it ends. Each replica is one Ray actor
(``EngineReplica``, created with ``max_restarts=-1, max_task_retries=-1``) holding one judgekit
``vllm:`` backend (backends/vllm.py) on ``tensor_parallel`` GPUs: the same chat conversion,
sampling, structured-output parameters and response decoding, so a verdict from ``ray-vllm:``
equals one from ``vllm:`` with the same model and seed. The backend keeps the actor handles for
its whole life (every ``generate`` call of every run it serves) and kills them in ``aclose``.

How work flows (Ray's primitives only: actor handles and awaited ``ObjectRef``s):

- The runner hands over requests one at a time (``max_batch_size = 1``) with a window large
  enough to keep every replica busy. They wait in one queue.
- One asyncio task per replica takes up to ``batch_size`` requests from the queue as soon as its
  replica is free (waiting at most ``gather_s`` for a batch to fill) and awaits the actor's
  ``judge`` call. A free replica takes the next batch, so a slower one gets less work.
- The replies of a batch resolve their requests' futures as that batch completes: the runner
  caches each reply at once (cache.py commits every write), so a driver killed at any moment
  loses at most the batches in flight, and the rerun sends only what is missing.
- A replica that dies is restarted by Ray (``max_restarts=-1``) and the call in flight is
  retried by Ray on the new engine (``max_task_retries=-1``); should Ray still report the call
  failed, the backend sends the batch again (``batch_retries`` times). Each request's future is
  set once, so every sample appears exactly once.
- Images: a request's images were read by the driver (their bytes are the cache key). With
  ``worker_reads_images`` (default on) an image read from a file or a URI (image_uris.py: s3://,
  gs://, file://) travels as its path or URI and hash; the worker reads it itself (under the
  same pixel limit) and checks the hash. When the worker cannot see the file or reads other
  bytes, that request is sent again with its bytes.
  Off, every image travels as bytes (workers on nodes without the manifest's filesystem).
- Each reply names the replica that answered (``raw["endpoint"] = "ray-vllm replica K (pid P)"``,
  which the runner records in each result's ``details["sources"]``); ``run_info()["ray"]`` counts
  the engines started (one per replica, plus one per restart).

    judgekit score --rubric viescore-t2i --data m.jsonl --backend ray-vllm:/models/Qwen2.5-VL-7B \\
        --replicas 8 --tensor-parallel 1 --ray-address auto
"""

from __future__ import annotations

import asyncio
import dataclasses
import os
import sys
import time
import uuid
from collections.abc import Sequence
from typing import Any

from ..errors import ConfigError, MissingDependencyError
from ..image_uris import is_uri
from ..types import ChatRequest, ChatResponse, ImagePart, Message
from .vllm import _coerce

# Environment the engines need on the workers (offline, small CPU KV cache in tests): handed
# over explicitly because Ray workers on other nodes do not share the driver's environment.
_ENV_KEYS = ("VLLM_CPU_KVCACHE_SPACE", "HF_HUB_OFFLINE", "TRANSFORMERS_OFFLINE", "VLLM_NO_USAGE_STATS",
             "DO_NOT_TRACK", "HF_HOME", "PYTHONPATH", "OMP_NUM_THREADS")

#: The error text a worker returns for a request whose image file it cannot read as the driver
#: did: the driver sends that request again with the bytes.
IMAGE_UNSEEN = "ray-vllm worker cannot read the image file the driver read"


def _import_ray():
    try:
        import ray
    except ImportError as e:
        raise MissingDependencyError("ray", "ray") from e
    return ray


# --- images: paths out, bytes back in on the worker -----------------------------------------------

@dataclasses.dataclass(frozen=True)
class ImageByPath:
    """What travels instead of an image's bytes: where to read it and what it must hash to."""

    path: str
    sha256: str
    max_pixels: int | None


def by_path(request: ChatRequest, max_pixels: int | None) -> ChatRequest:
    """``request`` with every image read from a file or a URI replaced by an empty ``ImagePart``
    whose ``source`` is an ``ImageByPath`` (the bytes stay on the driver)."""
    def part(p: Any) -> Any:
        if isinstance(p, ImagePart) and p.source:
            # A URI (s3://...) as given; a path made absolute: a worker's working directory is not the driver's.
            ref = ImageByPath(p.source if is_uri(p.source) else os.path.abspath(p.source), p.sha256, max_pixels)
            return dataclasses.replace(p, data=b"", source=ref)  # type: ignore[arg-type]
        return p

    messages = tuple(Message(m.role, tuple(part(p) for p in m.content)) for m in request.messages)
    return dataclasses.replace(request, messages=messages)


def _has_path(request: ChatRequest) -> bool:
    return any(isinstance(p, ImagePart) and isinstance(p.source, ImageByPath) for m in request.messages for p in m.content)


def read_images(request: ChatRequest) -> ChatRequest | None:
    """On the worker: ``request`` with each ``ImageByPath`` read back into bytes, or None when a
    file cannot be read or holds other bytes than the driver's."""
    from ..images import load_image_part, max_image_pixels

    def part(p: Any) -> Any:
        ref = p.source if isinstance(p, ImagePart) else None
        if not isinstance(ref, ImageByPath):
            return p
        with max_image_pixels(ref.max_pixels):
            loaded = load_image_part(ref.path, p.label)
        if loaded.sha256 != ref.sha256:
            raise FileNotFoundError(ref.path)
        return loaded

    try:
        messages = tuple(Message(m.role, tuple(part(p) for p in m.content)) for m in request.messages)
    except Exception:  # noqa: BLE001 - unreadable here for any reason: the driver sends the bytes
        return None
    return dataclasses.replace(request, messages=messages)


# --- the actor ---------------------------------------------------------------------------------

class EngineReplica:
    """One Ray actor: one judgekit ``vllm:`` engine, started in the constructor (Ray runs the
    constructor again when it restarts a dead replica: that is a new engine start)."""

    def __init__(self, index: int, model: str, engine_options: dict[str, Any]):
        from .vllm import VLLMBackend

        t0 = time.perf_counter()
        self.backend = VLLMBackend(model, **engine_options)
        self.backend.start()
        self.engine_start_s = time.perf_counter() - t0
        self.index, self.pid = index, os.getpid()
        self.name = f"ray-vllm replica {index} (pid {self.pid})"

    def ready(self) -> dict[str, Any]:
        return {"replica": self.index, "pid": self.pid, "engine_start_s": self.engine_start_s}

    def judge(self, requests: list[ChatRequest]) -> list[ChatResponse]:
        out: list[ChatResponse | None] = [None] * len(requests)
        todo, idx = [], []
        for i, req in enumerate(requests):
            full = read_images(req)
            if full is None:
                out[i] = ChatResponse(error=IMAGE_UNSEEN)
            else:
                todo.append(full)
                idx.append(i)
        for i, resp in zip(idx, self.backend.generate_sync(todo) if todo else []):
            out[i] = resp
        replies = [r if r is not None else ChatResponse(error="no response") for r in out]
        for r in replies:
            if r.error != IMAGE_UNSEEN:
                r.raw = {**(r.raw or {}), "endpoint": self.name, "replica": self.index, "replica_pid": self.pid,
                         "engine_start_s": self.engine_start_s}
        return replies


class RayVLLMBackend:
    """Options: ``replicas`` (default 1), ``tensor_parallel`` (GPUs per replica; default 1 on a
    GPU cluster, 0 GPUs on CPU), ``batch_size`` (most requests per engine call, default 256, as
    ``vllm:``'s ``max_batch_size``: small engine calls waste a CPU engine's batching, bench/),
    ``ray_address`` (``auto`` for a running cluster; default: the running or a new local one),
    ``num_cpus`` per replica (default 1), ``gather_s`` (how long a free replica waits for its batch
    to fill, default 0.05), ``worker_reads_images`` (default true), ``batch_retries`` (default 3);
    every other option is a ``vllm:`` engine option, passed to each replica's engine."""

    max_batch_size = 1  # single requests, gathered here into per-replica batches (see _serve)

    def __init__(self, model: str, replicas: int = 1, tensor_parallel: int | None = None, batch_size: int = 256,
                 ray_address: str | None = None, num_cpus: float = 1, gather_s: float = 0.05,
                 worker_reads_images: bool = True, batch_retries: int = 3, **engine_options: Any):
        replicas, batch_size = int(_coerce(replicas)), int(_coerce(batch_size))
        if replicas < 1 or batch_size < 1:
            raise ConfigError(f"ray-vllm:{model}: replicas and batch_size must be at least 1")
        if "job_size" in engine_options:  # the knob of the earlier one-Ray-Data-job-per-batch design
            raise ConfigError(f"ray-vllm:{model}: job_size is no longer an option: the engines now live for the "
                              "whole run (use batch_size for the requests per engine call)")
        self.ray = _import_ray()
        self.model, self.spec = model, f"ray-vllm:{model}"
        self.replicas, self.batch_size = replicas, batch_size
        self.gather_s = float(_coerce(gather_s))
        self.worker_reads_images = bool(_coerce(worker_reads_images))
        self.batch_retries = int(_coerce(batch_retries))
        # The runner's window: a batch in every replica's hands and one more waiting for each.
        self.concurrency = 2 * replicas * batch_size
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
        self.actors: list[Any] = []
        self._run_tag = uuid.uuid4().hex[:8]
        #: (replica, pid) of every engine seen: one per replica, and one more per restart.
        self.engines: set[tuple[int, int]] = set()
        self.engine_start_s: dict[tuple[int, int], float] = {}
        self.batches_run = 0
        self.batches_retried = 0
        self.requests_by_path = self.requests_resent_with_bytes = 0
        self._queue: list[tuple[ChatRequest, int | None, asyncio.Future[ChatResponse]]] = []
        self._arrived: asyncio.Event | None = None
        self._servers: list[asyncio.Task[None]] = []
        self._loop: asyncio.AbstractEventLoop | None = None

    def describe(self) -> dict[str, Any]:
        return {"spec": self.spec, "model": self.model, "engine": "vllm on ray actors", "replicas": self.replicas,
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

    @property
    def engines_started(self) -> int:
        return len(self.engines)

    def run_info(self) -> dict[str, Any]:
        return {"ray": {"replicas": self.replicas, "engines_started": self.engines_started,
                        "batches": self.batches_run, "batches_retried": self.batches_retried,
                        # How images travelled: read by the workers from their paths, or resent as bytes.
                        "requests_with_image_paths": self.requests_by_path,
                        "requests_resent_with_bytes": self.requests_resent_with_bytes}}

    # --- the replicas ----------------------------------------------------------------------

    def start(self) -> None:
        """Create the replicas and wait until every engine is up (idempotent; blocking)."""
        if self.actors:
            return
        actor_class = self.ray.remote(max_restarts=-1, max_task_retries=-1)(EngineReplica)
        for i in range(self.replicas):
            self.actors.append(actor_class.options(
                name=f"judgekit-{self._run_tag}-replica-{i}", num_cpus=self.num_cpus, num_gpus=self.num_gpus,
            ).remote(i, self.model, self.engine_options))
        try:
            for info in self.ray.get([a.ready.remote() for a in self.actors]):
                self._saw(info["replica"], info["pid"], info["engine_start_s"])
        except self.ray.exceptions.RayError as e:
            raise ConfigError(f"{self.spec}: a replica's engine did not start: {' '.join(str(e).split())[:2000]}") from e

    async def preflight(self) -> None:
        """The runner's check on its first cache miss: start the engines (a fully cached rerun
        starts none)."""
        await asyncio.to_thread(self.start)

    def _saw(self, replica: int, pid: int, start_s: float) -> None:
        if (replica, pid) not in self.engines:
            self.engines.add((replica, pid))
            self.engine_start_s[(replica, pid)] = start_s

    # --- the protocol ----------------------------------------------------------------------

    async def generate(self, requests: Sequence[ChatRequest]) -> list[ChatResponse]:
        if not requests:
            return []
        loop = asyncio.get_running_loop()
        if self._loop is not loop or not self._servers:
            await asyncio.to_thread(self.start)
        if self._loop is not loop or not self._servers:  # checked again: other calls waited for start too
            self._loop, self._queue, self._arrived = loop, [], asyncio.Event()
            self._servers = [loop.create_task(self._serve(i)) for i in range(len(self.actors))]
        from ..images import _MAX_PIXELS  # the limit the driver read these images under

        limit = _MAX_PIXELS.get()
        futures = []
        for r in requests:
            fut: asyncio.Future[ChatResponse] = loop.create_future()
            self._queue.append((r, limit, fut))
            futures.append(fut)
        assert self._arrived is not None
        self._arrived.set()
        return list(await asyncio.gather(*futures))

    async def _take(self) -> list[tuple[ChatRequest, int | None, asyncio.Future[ChatResponse]]]:
        """The next batch for a free replica: up to ``batch_size`` queued requests, after
        waiting at most ``gather_s`` for the batch to fill."""
        assert self._arrived is not None
        while not self._queue:
            self._arrived.clear()
            await self._arrived.wait()
        deadline = time.monotonic() + self.gather_s
        while len(self._queue) < self.batch_size and (left := deadline - time.monotonic()) > 0:
            self._arrived.clear()
            try:
                await asyncio.wait_for(self._arrived.wait(), left)
            except asyncio.TimeoutError:
                break
        batch, self._queue = self._queue[: self.batch_size], self._queue[self.batch_size :]
        if self._queue:
            self._arrived.set()  # more for the other replicas
        return batch

    async def _serve(self, index: int) -> None:
        while True:
            batch = await self._take()
            if not batch:
                continue
            try:
                replies = await self._judge(index, [(r, limit) for r, limit, _ in batch])
            except Exception as exc:  # noqa: BLE001 - a bug here must fail this batch, not hang the run
                replies = [ChatResponse(error=f"ray-vllm: {type(exc).__name__}: {exc}")] * len(batch)
            for (_, _, fut), resp in zip(batch, replies):
                if not fut.done():
                    fut.set_result(resp)

    async def _judge(self, index: int, batch: list[tuple[ChatRequest, int | None]], paths: bool = True
                     ) -> list[ChatResponse]:
        """One batch on replica ``index``; a failure Ray reports sends the batch again."""
        paths = paths and self.worker_reads_images
        requests = [by_path(r, limit) if paths else r for r, limit in batch]
        last = ""
        for attempt in range(self.batch_retries + 1):
            if attempt:
                self.batches_retried += 1
            try:
                replies = await self.actors[index].judge.remote(requests)
            except self.ray.exceptions.RayError as exc:
                last = " ".join(str(exc).split())[:500]
                print(f"judgekit: {self.spec}: replica {index} failed a batch ({type(exc).__name__}); "
                      f"sending it again", file=sys.stderr)
                continue
            self.batches_run += 1
            for r in replies:
                if r.raw and "replica_pid" in r.raw:
                    self._saw(r.raw["replica"], r.raw["replica_pid"], r.raw["engine_start_s"])
            unseen = [i for i, r in enumerate(replies) if r.error == IMAGE_UNSEEN]
            if paths:
                self.requests_by_path += sum(map(_has_path, requests)) - len(unseen)
            if unseen:  # the worker cannot see those files: the bytes go with them this time
                self.requests_resent_with_bytes += len(unseen)
                again = await self._judge(index, [batch[i] for i in unseen], paths=False)
                for i, r in zip(unseen, again):
                    replies[i] = r
            return list(replies)
        return [ChatResponse(error=f"ray-vllm replica {index} failed the batch {self.batch_retries + 1} times: "
                                   f"{last}")] * len(requests)

    async def aclose(self) -> None:
        for task in self._servers:
            if task.get_loop() is asyncio.get_running_loop():
                task.cancel()
        self._servers = []
        for actor in self.actors:  # the engines end with the run that started them
            try:
                self.ray.kill(actor)
            except Exception:  # noqa: BLE001 - already gone
                pass
        self.actors = []
        if self._owns_ray and self.ray.is_initialized():
            self.ray.shutdown()
            self._owns_ray = False


__all__ = ["EngineReplica", "ImageByPath", "RayVLLMBackend"]
