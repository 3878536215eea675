"""jk.Reward on the tiny random-weight VLM in an in-process vLLM engine (CPU build): the numbers
jk.score gives for the same images, failures (the random model's malformed verdicts) as NaN with
their reasons, every image of the batch in one engine call."""

from __future__ import annotations

import math

import numpy as np
import pytest

import judgekit as jk

pytestmark = pytest.mark.vllm


def test_reward_on_the_tiny_vlm_equals_score(vllm_engine):
    rng = np.random.default_rng(0)
    images = [rng.integers(0, 256, (32, 32, 3), dtype=np.uint8) for _ in range(8)]
    samples = [jk.Sample(id=str(i), image=im) for i, im in enumerate(images)]
    # short verdicts: the random model then completes its JSON (bench/bench_reward.py: no failures)
    rubric = jk.load_rubric("aesthetics-simple").model_copy(update={"max_tokens": 48})
    want = jk.score(rubric, samples, backend=vllm_engine, cache=False, parse_retries=0)
    assert any(r.status == "ok" for r in want)  # numbers to compare, not only NaN
    calls: list[int] = []
    engine_generate = vllm_engine.generate_sync

    def counting(requests):
        calls.append(len(requests))
        return engine_generate(requests)

    vllm_engine.generate_sync = counting
    try:
        with jk.Reward(rubric, backend=vllm_engine, parse_retries=0) as reward:
            got = reward(images)
    finally:
        del vllm_engine.generate_sync
    assert calls == [8]  # the whole batch in one engine call
    expect = [math.nan if r.overall is None else r.overall for r in want]
    assert np.array_equal(got, np.array(expect), equal_nan=True)
    assert set(reward.last_failures) == {i for i, r in enumerate(want) if r.status == "failed"}
