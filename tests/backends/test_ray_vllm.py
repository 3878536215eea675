"""``ray-vllm:`` on a local Ray cluster (2 CPUs, no dashboard) with the tiny VLM on the CPU vLLM
build and 2 replicas: results equal the in-process ``vllm:`` run field by field, and a second run
makes no engine call (the cache answers; no Ray Data job runs).

Slow: each Ray Data job starts both engines (about a minute on 2 cores)."""

from __future__ import annotations

import pytest

import judgekit as jk
from tests.fixtures_engines import TINY_ENGINE_OPTIONS

# Engine tests (the second step of CI, `make test-engines`): a local Ray cluster and two CPU vLLM
# replicas take about three minutes on 2 cores.
pytestmark = [pytest.mark.vllm]

ray = pytest.importorskip("ray", reason="ray is not installed (pip install 'judgekit[ray]')")


@pytest.fixture(scope="module")
def local_ray():
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False)
    yield
    ray.shutdown()


def _fields(res):
    return [(r.sample_id, r.status, r.scores, r.overall, r.reasoning, r.error) for r in res]


def test_ray_vllm_equals_vllm_and_caches(local_ray, vllm_engine, tiny_vlm_dir, manifest_factory, tmp_path):
    from judgekit.backends import make_backend

    m = manifest_factory(12)
    ref = jk.score("viescore-t2i", str(m), backend=vllm_engine, cache=False)
    assert all(r.status == "ok" for r in ref), [r.error for r in ref][:2]

    cache = tmp_path / "ray-cache.sqlite"
    opts = {"replicas": 2, "batch_size": 8, **TINY_ENGINE_OPTIONS}
    backend = make_backend(f"ray-vllm:{tiny_vlm_dir}", **opts)
    try:
        res = jk.score("viescore-t2i", str(m), backend=backend, cache=cache, out=tmp_path / "r.jsonl")
        assert backend.datasets_run == 1  # all 36 requests gathered into one job: one engine start-up
        assert _fields(res) == _fields(ref)
        assert res[0].provenance["backend"]["replicas"] == 2
        assert res.run_info["cache"]["misses"] == 36  # 12 samples x 3 dimensions, no retry

        before = backend.datasets_run
        again = jk.score("viescore-t2i", str(m), backend=backend, cache=cache)
        assert backend.datasets_run == before  # no engine started, no request sent
        assert again.run_info["cache"] == {**again.run_info["cache"], "hits": 36, "misses": 0}
        assert _fields(again) == _fields(ref)
    finally:
        import asyncio

        asyncio.run(backend.aclose())
    assert ray.is_initialized()  # a Ray the backend did not start is left running


def _replicas():
    """This test's Ray Data engine actors (Ray titles their processes after the class)."""
    import psutil

    me = psutil.Process()
    found = []
    for p in psutil.process_iter(["cmdline"]):
        try:
            if p.uids().real == me.uids().real and "EngineReplica" in " ".join(p.info["cmdline"] or []):
                found.append(p)
        except psutil.Error:
            pass
    return found


def test_a_killed_replica_is_restarted_and_no_sample_is_lost(local_ray, vllm_engine, tiny_vlm_dir, manifest_factory):
    import os
    import signal
    import threading
    import time

    m = manifest_factory(12)
    ref = jk.score("viescore-t2i", str(m), backend=vllm_engine, cache=False)
    killed: list[int] = []
    titles: set[str] = set()

    def kill_one():
        # Ray titles an actor's process "ray::<class>.<method>" while a method runs: kill the first
        # replica seen judging a batch, so the kill lands mid-job, with a batch in hand.
        deadline = time.monotonic() + 240
        while time.monotonic() < deadline and not killed:
            for p in _replicas():
                title = " ".join(p.info["cmdline"] or [])
                titles.add(title)
                if ".submit" in title:
                    try:
                        os.kill(p.pid, signal.SIGKILL)
                    except ProcessLookupError:
                        continue
                    killed.append(p.pid)
                    break
            time.sleep(0.05)

    killer = threading.Thread(target=kill_one, daemon=True)
    killer.start()
    res = jk.score("viescore-t2i", str(m), backend=f"ray-vllm:{tiny_vlm_dir}", cache=False,
                   backend_options={"replicas": 2, "batch_size": 1, **TINY_ENGINE_OPTIONS})
    killer.join(5)
    assert killed, f"no replica was seen judging, nothing was killed; process titles: {sorted(titles)}"
    assert [r.sample_id for r in res] == [f"s{i}" for i in range(12)]  # every sample, exactly once
    assert _fields(res) == _fields(ref)
