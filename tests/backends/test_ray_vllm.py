"""``ray-vllm:`` on a local Ray cluster with the tiny VLM on the CPU vLLM build and 2 replicas
that live for the whole module (one engine start per replica, shared by every test here):

- the records equal the in-process ``vllm:`` run field by field, whatever the batch size, and
  the engines started exactly twice;
- a driver SIGKILLed after some batches leaves their replies in the cache, and the rerun judges
  only the rest;
- a replica killed mid-run is replaced by Ray and the run still has one record per sample.

Slow (engine tests, the CI engines step): about three engine start-ups of 20-50 s on 2 cores."""

from __future__ import annotations

import asyncio
import os
import signal
import sqlite3
import subprocess
import sys
import textwrap
import threading
import time
from pathlib import Path

import pytest

import judgekit as jk
from tests.fixtures_engines import TINY_ENGINE_OPTIONS
from tests.fixtures_spine import make_manifest

pytestmark = [pytest.mark.vllm, pytest.mark.timeout(600)]  # engine start-ups on 2 shared cores

ray = pytest.importorskip("ray", reason="ray is not installed (pip install 'judgekit[ray]')")

N = 60  # samples, as the issue asks: 180 judge calls (viescore-t2i asks 3 dimensions)
REPO = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def local_ray():
    # 4 logical CPUs: this module's 2 replicas, and the 2 of the driver that test 2 kills.
    ray.init(num_cpus=4, include_dashboard=False, log_to_driver=False)
    yield ray.get_runtime_context().gcs_address
    ray.shutdown()


@pytest.fixture(scope="module")
def manifest(tmp_path_factory) -> Path:
    return make_manifest(tmp_path_factory.mktemp("ray-manifest"), N)


@pytest.fixture(scope="module")
def reference(vllm_engine, manifest):
    ref = jk.score("viescore-t2i", str(manifest), backend=vllm_engine, cache=False)
    assert all(r.status == "ok" for r in ref), [r.error for r in ref][:2]
    return ref


@pytest.fixture(scope="module")
def replicas(local_ray, tiny_vlm_dir):
    from judgekit.backends import make_backend

    backend = make_backend(f"ray-vllm:{tiny_vlm_dir}", replicas=2, batch_size=4, **TINY_ENGINE_OPTIONS)
    yield backend
    asyncio.run(backend.aclose())


def _fields(res):
    return [(r.sample_id, r.status, r.scores, r.overall, r.reasoning, r.error) for r in res]


def _answered_by(res) -> set[str]:
    return {s["endpoint"] for r in res for s in r.details["sources"].values() if s["from"] == "fresh"}


def test_equals_vllm_with_two_engines_whatever_the_batch_size(replicas, reference, manifest, tmp_path):
    res = jk.score("viescore-t2i", str(manifest), backend=replicas, cache=tmp_path / "c.sqlite")
    assert _fields(res) == _fields(reference)
    assert res.run_info["cache"]["misses"] == 3 * N
    assert res.run_info["ray"]["engines_started"] == 2
    # Each record names the replica that answered each call; both replicas took work.
    assert {e.split(" (")[0] for e in _answered_by(res)} == {"ray-vllm replica 0", "ray-vllm replica 1"}

    replicas.batch_size = 7  # another batching of the same requests, on the same engines
    again = jk.score("viescore-t2i", str(manifest), backend=replicas, cache=False)
    assert _fields(again) == _fields(reference)
    assert replicas.engines_started == 2  # two runs, two batch sizes, 360 calls: one start per replica


_DRIVER = textwrap.dedent("""
    import sys
    import judgekit as jk
    manifest, model, cache, address = sys.argv[1:5]
    opts = {"replicas": 2, "batch_size": 2, "ray_address": address, **eval(sys.argv[5])}
    jk.score("viescore-t2i", manifest, backend=f"ray-vllm:{model}", cache=cache, backend_options=opts)
""")


def _rows(cache: Path) -> int:
    try:
        with sqlite3.connect(f"file:{cache}?mode=ro", uri=True) as db:
            return db.execute("SELECT COUNT(*) FROM responses").fetchone()[0]
    except sqlite3.Error:
        return 0


def test_a_killed_driver_keeps_finished_batches_and_the_rerun_sends_the_rest(
        replicas, reference, manifest, local_ray, tiny_vlm_dir, tmp_path):
    cache = tmp_path / "killed.sqlite"
    env = {**os.environ, "PYTHONPATH": f"{REPO}{os.pathsep}{os.environ.get('PYTHONPATH', '')}"}
    driver = subprocess.Popen([sys.executable, "-c", _DRIVER, str(manifest), str(tiny_vlm_dir), str(cache), local_ray,
                               repr(TINY_ENGINE_OPTIONS)], env=env, stdout=subprocess.DEVNULL,
                              stderr=open(tmp_path / "driver.log", "wb"))
    try:
        deadline = time.monotonic() + 400
        while _rows(cache) < 6 and driver.poll() is None and time.monotonic() < deadline:
            time.sleep(0.2)
        assert driver.poll() is None, (tmp_path / "driver.log").read_text()[-3000:]
        os.kill(driver.pid, signal.SIGKILL)  # mid-run: batches done, others in flight
        driver.wait(30)
    finally:
        if driver.poll() is None:
            driver.kill()
    kept = _rows(cache)
    assert 6 <= kept < 3 * N, kept

    res = jk.score("viescore-t2i", str(manifest), backend=replicas, cache=cache)
    assert res.run_info["cache"]["hits"] == kept  # every reply the killed driver got is replayed
    assert res.run_info["cache"]["misses"] == 3 * N - kept  # and only the rest is judged
    assert _fields(res) == _fields(reference)  # one record per sample, the same verdicts
    assert replicas.engines_started == 2


def test_a_killed_replica_is_replaced_and_no_sample_is_lost(replicas, reference, manifest):
    victim = min(pid for replica, pid in replicas.engines if replica == 0)
    killed: list[int] = []

    def kill_after_two_batches():
        start = replicas.batches_run
        deadline = time.monotonic() + 300
        while replicas.batches_run < start + 2 and time.monotonic() < deadline:
            time.sleep(0.02)
        os.kill(victim, signal.SIGKILL)
        killed.append(victim)

    killer = threading.Thread(target=kill_after_two_batches, daemon=True)
    killer.start()
    res = jk.score("viescore-t2i", str(manifest), backend=replicas, cache=False)
    killer.join(5)
    assert killed == [victim]
    assert _fields(res) == _fields(reference)  # every sample, exactly once, the same verdicts
    # Ray started a new engine in replica 0's actor.
    assert ray.get(replicas.actors[0].ready.remote())["pid"] != victim


def _tiny_image_manifest(folder: Path, n: int) -> Path:
    """n samples, each its own 8x8 PNG file (paths the workers can read: the same machine)."""
    from tests.fixtures_spine import write_png

    lines = []
    for i in range(n):
        write_png(folder / f"{i}.png", seed=i, size=8)
        lines.append(f'{{"id": "s{i}", "prompt": "p", "image": "{i}.png", "model": "m"}}\n')
    path = folder / "manifest.jsonl"
    path.write_text("".join(lines))
    return path


def test_driver_memory_stays_flat_when_the_workers_read_the_images(replicas, tmp_path):
    import tracemalloc

    def peak(manifest: Path, name: str):
        before = dict(replicas.run_info()["ray"])
        tracemalloc.start()
        try:
            base = tracemalloc.get_traced_memory()[0]
            res = jk.score("aesthetics-simple", str(manifest), backend=replicas, cache=False, out=tmp_path / name,
                           progress=False)
            grown = tracemalloc.get_traced_memory()[1] - base
        finally:
            tracemalloc.stop()
        after = replicas.run_info()["ray"]
        return grown, res, {k: after[k] - before[k] for k in ("requests_with_image_paths", "requests_resent_with_bytes")}

    small = _tiny_image_manifest(tmp_path / "small", 1_000)
    large = _tiny_image_manifest(tmp_path / "large", 20_000)
    started = replicas.engines_started  # 2, or 3 after the killed-replica test
    batch_size, replicas.batch_size = replicas.batch_size, 32  # 22,000 requests: fuller engine calls
    try:
        peak(_tiny_image_manifest(tmp_path / "warm", 200), "warm.jsonl")  # first-run allocations, once
        peak_small, _, _ = peak(small, "small.jsonl")
        peak_large, res, images = peak(large, "large.jsonl")
    finally:
        replicas.batch_size = batch_size
    assert len(res) == 20_000 and all(r.status == "ok" for r in res), [r.error for r in res if r.error][:2]
    assert images == {"requests_with_image_paths": 20_000, "requests_resent_with_bytes": 0}  # read by the workers
    # 19,000 more samples may cost the ids' digests and the lines' offsets (32 bytes each) and
    # little else: under 100 bytes a sample, where holding records or image bytes costs kilobytes.
    print(f"driver peak: {peak_small} bytes at 1,000 samples, {peak_large} at 20,000")  # shown with -s
    assert peak_large - peak_small < 19_000 * 100, (peak_small, peak_large)
    assert replicas.engines_started == started  # 22,200 samples, no engine started again
