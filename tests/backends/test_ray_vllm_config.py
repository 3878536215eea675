"""The Ray backend's settings, without starting Ray: the CLI flags reach ray-vllm: only, and bad
values are usage errors."""

import pytest

from judgekit.backends import make_backend
from judgekit.cli import main
from judgekit.errors import ConfigError


def test_ray_flags_do_not_apply_to_other_backends():
    with pytest.raises(ConfigError, match="--replicas does not apply to openai: backends .*ray-vllm"):
        make_backend("openai:judge", settings={"replicas": 2})
    with pytest.raises(ConfigError, match="--ray-address does not apply to vllm:"):
        make_backend("vllm:/nowhere", settings={"ray_address": "auto"})


def test_bad_replicas_is_a_usage_error():
    with pytest.raises(ConfigError, match="replicas and batch_size must be at least 1"):
        make_backend("ray-vllm:/models/x", settings={"replicas": 0})


def test_cli_refuses_replicas_with_openai(manifest_factory, tmp_path, capsys):
    m = manifest_factory(1)
    rc = main(["score", "--rubric", "viescore-t2i", "--data", str(m), "--backend", "openai:judge",
               "--base-url", "http://127.0.0.1:9/v1", "--replicas", "4", "--out", str(tmp_path / "r.jsonl")])
    assert rc == 2 and "--replicas does not apply to openai:" in capsys.readouterr().err


def test_requests_are_gathered_into_as_few_jobs_as_job_size_allows():
    """Each Ray Data job starts the engines: the backend gathers single requests into jobs."""
    import asyncio

    from judgekit.backends.ray_vllm import RayVLLMBackend
    from judgekit.types import ChatRequest, ChatResponse, Message, TextPart

    be = RayVLLMBackend.__new__(RayVLLMBackend)  # no Ray: only the gathering is under test
    be.job_size, be.gather_s = 5, 0.05
    be._pending, be._arrived, be._collector, be._owns_ray = [], None, None, False
    jobs = []

    def fake_job(requests):
        jobs.append([r.max_tokens for r in requests])
        return [ChatResponse(text=str(r.max_tokens)) for r in requests]

    be.generate_sync = fake_job
    req = lambda i: ChatRequest(messages=(Message("user", (TextPart("q"),)),), max_tokens=i + 1)  # noqa: E731

    async def go():
        first = await asyncio.gather(*(be.generate([req(i)]) for i in range(12)))
        await asyncio.sleep(0.1)
        second = await asyncio.gather(*(be.generate([req(i)]) for i in range(100, 103)))
        await be.aclose()
        return first, second

    first, second = asyncio.run(go())
    assert [r[0].text for r in first] == [str(i + 1) for i in range(12)]  # each its own reply
    assert [r[0].text for r in second] == ["101", "102", "103"]
    assert [len(j) for j in jobs] == [5, 5, 2, 3]
    assert sorted(x for j in jobs for x in j) == sorted([i + 1 for i in range(12)] + [101, 102, 103])
