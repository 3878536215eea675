"""The set-up around the vLLM engine that needs no engine: logs on stderr, a CPU memory share
that fits, and the ``if __name__ == "__main__":`` guard (with a real spawned process)."""

from __future__ import annotations

import logging
import subprocess
import sys
import types
from pathlib import Path

import pytest

from judgekit.backends import vllm_setup
from judgekit.backends.vllm_setup import (
    CPU_KV_MAX,
    CPU_KV_MIN,
    GiB,
    check_not_in_spawn_bootstrap,
    cpu_memory_defaults,
    send_logs_to_stderr,
    start_failure_hint,
)
from judgekit.errors import ConfigError

REPO = Path(__file__).resolve().parents[2]


def test_vllm_handlers_on_stdout_move_to_stderr(monkeypatch):
    monkeypatch.delenv("VLLM_LOGGING_STREAM", raising=False)
    handler = logging.StreamHandler(sys.stdout)
    logger = logging.getLogger("vllm")
    logger.addHandler(handler)
    try:
        send_logs_to_stderr()
        assert handler.stream is sys.stderr
    finally:
        logger.removeHandler(handler)
    import os

    assert os.environ["VLLM_LOGGING_STREAM"] == "ext://sys.stderr"  # what vLLM and its children read


def test_a_stream_the_user_chose_is_kept(monkeypatch):
    monkeypatch.setenv("VLLM_LOGGING_STREAM", "ext://sys.stdout")
    handler = logging.StreamHandler(sys.stdout)
    logging.getLogger("vllm").addHandler(handler)
    try:
        send_logs_to_stderr()
        assert handler.stream is sys.stdout
    finally:
        logging.getLogger("vllm").removeHandler(handler)


def test_cpu_memory_default(monkeypatch):
    monkeypatch.delenv("VLLM_CPU_KVCACHE_SPACE", raising=False)
    assert cpu_memory_defaults({}, "cpu", 64 * GiB) == {"kv_cache_memory_bytes": CPU_KV_MAX}
    assert cpu_memory_defaults({}, "cpu", 8 * GiB) == {"kv_cache_memory_bytes": 2 * GiB}
    assert cpu_memory_defaults({}, "cpu", 1 * GiB) == {"kv_cache_memory_bytes": CPU_KV_MIN}
    assert cpu_memory_defaults({}, "cpu", None) == {"kv_cache_memory_bytes": CPU_KV_MIN}
    # the user's own choice wins, and GPUs keep vLLM's defaults
    assert cpu_memory_defaults({"gpu_memory_utilization": 0.3}, "cpu", 64 * GiB) == {}
    assert cpu_memory_defaults({"kv_cache_memory_bytes": 10**9}, "cpu", 64 * GiB) == {}
    assert cpu_memory_defaults({}, "cuda", 64 * GiB) == {}
    monkeypatch.setenv("VLLM_CPU_KVCACHE_SPACE", "2")
    assert cpu_memory_defaults({}, "cpu", 64 * GiB) == {}


def test_start_failure_hints(tmp_path):
    script = tmp_path / "judge_it.py"
    script.write_text("import judgekit as jk\njk.score('viescore-t2i', 'm.jsonl', backend='vllm:/m')\n")
    hint = start_failure_hint("cpu", {}, types.SimpleNamespace(__file__=str(script)))
    assert f"{script} has no `if __name__ == \"__main__\":` guard" in hint
    assert "kv_cache_memory_bytes=" in hint and "VLLM_CPU_KVCACHE_SPACE" in hint and "gpu_memory_utilization" in hint
    script.write_text("import judgekit as jk\nif __name__ == '__main__':\n    jk.score('x', 'm.jsonl')\n")
    assert "guard" not in start_failure_hint("cpu", {}, types.SimpleNamespace(__file__=str(script)))
    gpu = start_failure_hint("cuda", {"gpu_memory_utilization": 0.85}, types.SimpleNamespace())
    assert "(now 0.85)" in gpu and "CUDA_VISIBLE_DEVICES" in gpu


def test_check_is_quiet_in_a_normal_process():
    check_not_in_spawn_bootstrap("vllm:m")  # nothing raised


def test_script_without_guard_gets_the_fix_from_its_spawned_child(tmp_path):
    """The real mechanism: a spawned child imports the main script again; when that import
    reaches an engine start, the check raises with the fix instead of multiprocessing's
    bootstrapping RuntimeError."""
    script = tmp_path / "no_guard.py"
    script.write_text(
        "import multiprocessing\n"
        "from judgekit.backends.vllm_setup import check_not_in_spawn_bootstrap\n"
        "check_not_in_spawn_bootstrap('vllm:/models/judge')  # where VLLMBackend.start() makes it\n"
        "p = multiprocessing.get_context('spawn').Process(target=print, args=('child ran',))\n"
        "p.start()\n"
        "p.join()\n"
        "print('exit', p.exitcode)\n"
    )
    proc = subprocess.run([sys.executable, str(script)], capture_output=True, text=True, timeout=120,
                          env={**__import__("os").environ, "PYTHONPATH": str(REPO)}, cwd=tmp_path)
    assert "child ran" not in proc.stdout and "exit 1" in proc.stdout
    assert "ConfigError: vllm:/models/judge: an engine is being started while Python imports the main " \
           "script in a child process" in proc.stderr
    assert 'if __name__ == "__main__":' in proc.stderr


def test_guard_error_is_a_config_error(monkeypatch):
    import multiprocessing

    monkeypatch.setattr(multiprocessing.current_process(), "_inheriting", True, raising=False)
    with pytest.raises(ConfigError, match="if __name__ == \"__main__\":"):
        check_not_in_spawn_bootstrap("vllm:m")
    assert vllm_setup.GUARD_FIX in str(pytest.raises(ConfigError, check_not_in_spawn_bootstrap, "x").value)


def test_the_engine_gets_time_to_free_its_shared_memory(monkeypatch):
    # Issue 18 item 31: vLLM kills its engine process 5 s after asking it to stop, and the engine
    # its worker after 5 s; a worker that takes longer (a loaded machine: 14 s measured) gets the
    # engine killed before it unlinks its shared-memory queues, and Python warns of the leak at
    # exit. The real run is tests/backends/test_vllm.py::test_a_vllm_run_ends_without_leaked_shared_memory.
    monkeypatch.delenv("VLLM_WORKER_SHUTDOWN_TIMEOUT_SECONDS", raising=False)
    vllm_setup.allow_clean_shutdown()
    import os

    assert int(os.environ["VLLM_WORKER_SHUTDOWN_TIMEOUT_SECONDS"]) > 5
    monkeypatch.setenv("VLLM_WORKER_SHUTDOWN_TIMEOUT_SECONDS", "3")
    vllm_setup.allow_clean_shutdown()
    assert os.environ["VLLM_WORKER_SHUTDOWN_TIMEOUT_SECONDS"] == "3"  # the user's choice is kept

    class Core:  # vLLM's MPClient.shutdown(timeout=None): only its signature matters here
        def shutdown(self, timeout=None):
            self.timeout = timeout

    class OldCore:
        def shutdown(self):
            self.called = True

    core, old = Core(), OldCore()
    vllm_setup.shutdown_engine_core(core)
    vllm_setup.shutdown_engine_core(old)
    assert core.timeout == vllm_setup.SHUTDOWN_GRACE_S > 2 * 5 + 4 and old.called
