"""The Ray backend's settings, without starting Ray: the CLI flags reach ray-vllm: only, and bad
values are usage errors."""

import asyncio

import pytest

from judgekit.backends import make_backend
from judgekit.cli import main
from judgekit.errors import ConfigError
from judgekit.types import ChatRequest, ChatResponse, Message, TextPart


def test_ray_flags_do_not_apply_to_other_backends():
    with pytest.raises(ConfigError, match="--replicas does not apply to openai: backends .*ray-vllm"):
        make_backend("openai:judge", settings={"replicas": 2})
    with pytest.raises(ConfigError, match="--ray-address does not apply to vllm:"):
        make_backend("vllm:/nowhere", settings={"ray_address": "auto"})


def test_bad_replicas_is_a_usage_error():
    with pytest.raises(ConfigError, match="replicas and batch_size must be at least 1"):
        make_backend("ray-vllm:/models/x", settings={"replicas": 0})
    with pytest.raises(ConfigError, match="job_size is no longer an option"):
        make_backend("ray-vllm:/models/x", job_size=100)


def test_cli_refuses_replicas_with_openai(manifest_factory, tmp_path, capsys):
    m = manifest_factory(1)
    rc = main(["score", "--rubric", "viescore-t2i", "--data", str(m), "--backend", "openai:judge",
               "--base-url", "http://127.0.0.1:9/v1", "--replicas", "4", "--out", str(tmp_path / "r.jsonl")])
    assert rc == 2 and "--replicas does not apply to openai:" in capsys.readouterr().err


class _FakeRayError(Exception):
    pass


class _Replica:
    """Stands in for one Ray actor handle (no Ray here: only the backend's own queueing is under
    test): ``judge.remote(batch)`` is awaitable, fails once on request, and records its batches."""

    def __init__(self, index, batches, fail_first=False):
        self.index, self.batches, self.fail_first = index, batches, fail_first
        self.judge = self

    def remote(self, requests):
        async def answer():
            await asyncio.sleep(0.01)
            if self.fail_first:
                self.fail_first = False
                raise _FakeRayError("actor died")
            self.batches.append((self.index, [r.max_tokens for r in requests]))
            return [ChatResponse(text=str(r.max_tokens), raw={"replica": self.index, "replica_pid": 100 + self.index,
                                                              "engine_start_s": 1.0}) for r in requests]
        return answer()


def _backend(replicas, batch_size, batches, fail_first=()):
    from types import SimpleNamespace

    from judgekit.backends.ray_vllm import RayVLLMBackend

    be = RayVLLMBackend.__new__(RayVLLMBackend)
    be.ray = SimpleNamespace(exceptions=SimpleNamespace(RayError=_FakeRayError))
    be.spec, be.replicas, be.batch_size, be.gather_s = "ray-vllm:x", replicas, batch_size, 0.02
    be.worker_reads_images, be.batch_retries, be._owns_ray = True, 3, False
    be.actors = [_Replica(i, batches, i in fail_first) for i in range(replicas)]
    be.engines, be.engine_start_s, be.batches_run, be.batches_retried = set(), {}, 0, 0
    be.requests_by_path = be.requests_resent_with_bytes = 0
    be._queue, be._arrived, be._servers, be._loop = [], None, [], None
    be.start = lambda: None
    return be


def _req(i):
    return ChatRequest(messages=(Message("user", (TextPart("q"),)),), max_tokens=i + 1)


def test_single_requests_are_batched_over_the_replicas_and_each_answered_once():
    batches: list = []
    be = _backend(2, 4, batches, fail_first={1})

    async def go():
        out = await asyncio.gather(*(be.generate([_req(i)]) for i in range(21)))
        await be.aclose()
        return out

    out = asyncio.run(go())
    assert [r[0].text for r in out] == [str(i + 1) for i in range(21)]  # each request its own reply
    assert all(len(b) <= 4 for _, b in batches)
    assert sorted(x for _, b in batches for x in b) == list(range(1, 22))  # every request judged once
    assert {i for i, _ in batches} == {0, 1}  # both replicas took work
    assert be.batches_retried == 1  # the batch replica 1 failed was sent again
    assert be.run_info()["ray"]["engines_started"] == 2


def test_workers_read_local_images_by_path_and_refuse_other_bytes(tmp_path, monkeypatch):
    from PIL import Image

    from judgekit.backends.ray_vllm import ImageByPath, by_path, read_images
    from judgekit.images import load_image_part

    path = tmp_path / "a.png"
    Image.new("RGB", (8, 8), (200, 10, 10)).save(path)
    monkeypatch.chdir(tmp_path)  # the driver reads a relative path; the worker's cwd differs
    part = load_image_part("a.png", "image")
    req = ChatRequest(messages=(Message("user", (TextPart("q"), part)),))
    shipped = by_path(req, None)
    sent = shipped.messages[0].content[1]
    assert sent.data == b"" and isinstance(sent.source, ImageByPath)  # the path travels, not the bytes
    assert sent.source.path == str(path)
    monkeypatch.chdir("/")
    assert read_images(shipped).fingerprint() == req.fingerprint()  # the worker reads the same image

    Image.new("RGB", (8, 8), (0, 0, 255)).save(path)  # the file changed since the driver read it
    assert read_images(shipped) is None  # the driver sends the bytes instead
    path.unlink()
    assert read_images(shipped) is None


def test_an_unexpected_error_fails_its_batch_instead_of_hanging_the_run():
    be = _backend(1, 4, [])

    def broken(requests):
        raise TypeError("cannot pickle this request")

    be.actors[0].remote = broken

    async def go():
        out = await asyncio.wait_for(asyncio.gather(*(be.generate([_req(i)]) for i in range(3))), 5)
        await be.aclose()
        return out

    out = asyncio.run(go())
    assert [r[0].error for r in out] == ["ray-vllm: TypeError: cannot pickle this request"] * 3
