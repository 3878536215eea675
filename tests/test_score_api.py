"""`jk.score` and `judgekit score` share one default judge, and `jk.score` shows its real
parameters (issue 15, item 14)."""

from __future__ import annotations

import inspect

import pytest

import judgekit as jk
from judgekit.cli import main
from judgekit.errors import JudgekitError
from judgekit.runner import score_async


def test_score_has_the_signature_of_score_async():
    sync, coro = inspect.signature(jk.score), inspect.signature(score_async)
    assert list(sync.parameters) == list(coro.parameters)
    for name, p in coro.parameters.items():
        q = sync.parameters[name]
        assert (q.kind, q.default, q.annotation) == (p.kind, p.default, p.annotation), name
    assert not any(q.kind in (q.VAR_POSITIONAL, q.VAR_KEYWORD) for q in sync.parameters.values())
    assert sync.parameters["backend"].default is None


def test_library_and_cli_default_to_the_same_judge(tmp_path, monkeypatch, manifest_factory, capsys):
    # An empty hub cache: the default judge is not on disk (or vLLM is not installed); both
    # entry points must stop with the same reason before any request is sent.
    monkeypatch.setenv("HF_HUB_CACHE", str(tmp_path / "empty-hub"))
    monkeypatch.setenv("OPENAI_BASE_URL", "http://127.0.0.1:9/v1")  # were openai the default, it would fail differently
    m = manifest_factory(1)
    with pytest.raises(JudgekitError) as ei:
        jk.score("aesthetics-simple", str(m), cache=False)
    assert "Qwen/Qwen2.5-VL-7B-Instruct" in str(ei.value) or "vllm" in str(ei.value)
    assert main(["score", "--rubric", "aesthetics-simple", "--data", str(m), "--no-cache", "--no-progress",
                 "--out", str(tmp_path / "r.jsonl")]) == 2
    assert capsys.readouterr().err.strip() == f"judgekit: error: {ei.value}"
