"""What the ``vllm:`` backend sets up around ``vllm.LLM`` so that a first run just works, and
what it says when the engine will not start.

- **Logs on stderr.** vLLM logs to stdout by default, which buries judgekit's summary and breaks
  ``judgekit score ... > summary.txt``; judgekit points vLLM's handlers at stderr (before vLLM
  is imported, through ``VLLM_LOGGING_STREAM``, which the engine's child processes inherit too).
  A value the user set is kept.
- **A memory share that fits on CPU.** On the CPU build ``gpu_memory_utilization`` (default 0.9)
  is the share of *all* RAM the engine reserves, and start-up fails whenever less than that is
  free, as on any shared machine. Unless the user chose (``kv_cache_memory_bytes``,
  ``gpu_memory_utilization``, ``$VLLM_CPU_KVCACHE_SPACE``), judgekit gives the KV cache an
  explicit size: a quarter of the free memory, between 1 and 4 GiB.
- **A clean shutdown.** vLLM stops its engine process with a 5 s grace period, and the engine
  gives its worker 5 s: on a busy machine the worker's teardown takes longer, the engine is
  killed before it frees its shared-memory queues, and Python prints "resource_tracker: There
  appear to be 1 leaked shared_memory objects" at exit. judgekit gives both more time
  (``SHUTDOWN_GRACE_S``); a process that exits on its own in time does not wait for it.
- **The ``__main__`` guard.** On CPU (and whenever CUDA is already initialised) vLLM starts its
  engine in a *spawned* process, which re-imports the user's script; a script without
  ``if __name__ == "__main__":`` then starts a second engine from inside that import. judgekit
  refuses that with the fix, and names the script when the parent sees the engine fail.
"""

from __future__ import annotations

import logging
import multiprocessing
import os
import sys
from pathlib import Path
from typing import Any

from ..errors import ConfigError

GiB = 1 << 30
#: The KV-cache size judgekit picks on CPU: a quarter of the free memory, within these bounds.
CPU_KV_MIN, CPU_KV_MAX = 1 * GiB, 4 * GiB
#: Options (and the environment variable) with which the user sizes vLLM's memory themselves.
MEMORY_OPTIONS = ("kv_cache_memory_bytes", "gpu_memory_utilization")

GUARD_FIX = ('put the script\'s work under `if __name__ == "__main__":` (vLLM starts its engine in a new '
             "process that imports the script again; without the guard that import starts another engine)")


def send_logs_to_stderr() -> None:
    """Before ``import vllm``: its logging handler writes to stderr (unless the user said
    otherwise). After it: move handlers already made on stdout."""
    explicit = "VLLM_LOGGING_STREAM" in os.environ
    os.environ.setdefault("VLLM_LOGGING_STREAM", "ext://sys.stderr")
    if explicit and os.environ["VLLM_LOGGING_STREAM"] != "ext://sys.stderr":
        return
    for handler in logging.getLogger("vllm").handlers:
        if isinstance(handler, logging.StreamHandler) and getattr(handler, "stream", None) is sys.stdout:
            handler.setStream(sys.stderr)


#: Seconds the engine's processes get to exit on their own at shutdown before vLLM kills them
#: (vLLM's default is 5, too short for a loaded machine; killed, they leak shared memory).
SHUTDOWN_GRACE_S = 60


def allow_clean_shutdown() -> None:
    """Before the engine starts (its processes read the environment): let the engine wait for
    its worker to exit instead of killing it after 5 s. A value the user set is kept."""
    os.environ.setdefault("VLLM_WORKER_SHUTDOWN_TIMEOUT_SECONDS", str(SHUTDOWN_GRACE_S // 2))


def shutdown_engine_core(core: Any) -> None:
    """Stop the engine's processes, waiting up to ``SHUTDOWN_GRACE_S`` for them to exit cleanly
    (older vLLM: its own default)."""
    import inspect

    if "timeout" in inspect.signature(core.shutdown).parameters:
        core.shutdown(timeout=SHUTDOWN_GRACE_S)
    else:
        core.shutdown()


def cpu_memory_defaults(options: dict[str, Any], device_type: str, available_bytes: int | None) -> dict[str, Any]:
    """Engine options to add on a CPU platform so that start-up fits the free memory."""
    if device_type != "cpu" or any(k in options for k in MEMORY_OPTIONS):
        return {}
    if os.environ.get("VLLM_CPU_KVCACHE_SPACE", ""):
        return {}  # the user sized the KV cache (in GiB) the legacy way
    if available_bytes is None:
        return {"kv_cache_memory_bytes": CPU_KV_MIN}
    return {"kv_cache_memory_bytes": int(min(CPU_KV_MAX, max(CPU_KV_MIN, available_bytes // 4)))}


def available_memory() -> int | None:
    try:
        import psutil

        return int(psutil.virtual_memory().available)
    except Exception:  # noqa: BLE001 - a default, not a requirement
        return None


def check_not_in_spawn_bootstrap(spec: str) -> None:
    """Refuse to start an engine while this process is a spawned child importing the main
    script: the same test multiprocessing makes before it raises its bootstrapping error."""
    if getattr(multiprocessing.current_process(), "_inheriting", False):
        raise ConfigError(f"{spec}: an engine is being started while Python imports the main script in a "
                          f"child process: {GUARD_FIX}")


def start_failure_hint(device_type: str, engine: dict[str, Any], main_module: Any = None) -> str:
    """What to try when ``vllm.LLM`` did not start: the script guard when the main script has
    none, the memory settings always (the commonest cause, and the root cause is in the log)."""
    hints = []
    main_file = getattr(main_module if main_module is not None else sys.modules.get("__main__"), "__file__", None)
    # A package's __main__.py (`python -m judgekit`) is never re-run by a spawned child.
    if main_file and Path(main_file).suffix == ".py" and Path(main_file).name != "__main__.py" \
            and Path(main_file).is_file():
        try:
            text = Path(main_file).read_text(encoding="utf-8", errors="replace")
        except OSError:
            text = "__main__"
        if "__main__" not in text:
            hints.append(f"{main_file} has no `if __name__ == \"__main__\":` guard: {GUARD_FIX}")
    if device_type == "cpu":
        hints.append("if the cause is memory, size the KV cache yourself: --engine-arg kv_cache_memory_bytes=2e9 "
                     "(or VLLM_CPU_KVCACHE_SPACE=2, in GiB), or lower --engine-arg gpu_memory_utilization= "
                     "(on CPU the share of all RAM vLLM reserves at start-up; it must be free)")
    else:
        hints.append("if the cause is memory, lower --engine-arg gpu_memory_utilization= (now "
                     f"{engine.get('gpu_memory_utilization', 0.9)}) or --engine-arg max_model_len=, or pick a "
                     "free GPU with CUDA_VISIBLE_DEVICES")
    return "; ".join(hints)
