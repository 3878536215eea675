"""The transformers judge (``hf:``) on the tiny random-weight VLM: JSON constrained by
llguidance, left-padded batches equal to single requests, logprobs, per-request errors."""

from __future__ import annotations

import asyncio
import json

import jsonschema
import pytest

from judgekit.backends.logprobs import answer_probability_request, token_probabilities
from judgekit.errors import ConfigError
from judgekit.types import ChatRequest, ImagePart, Message, TextPart
from tests.backends.test_vllm import PROMPTS, SCHEMA, question, verdict_request
from tests.fixtures_spine import write_png


@pytest.fixture(scope="module")
def images(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("hf-images")
    # different sizes: the processor resizes, the batch is left-padded text
    return [write_png(tmp / f"{i}.png", seed=i, size=40 + 8 * i).read_bytes() for i in range(4)]


def run(backend, requests):
    return asyncio.run(backend.generate(requests))


def test_constrained_verdicts_are_strict_json(hf_engine, images):
    out = run(hf_engine, [verdict_request(img, p) for img, p in zip(images, PROMPTS)])
    for r in out:
        assert r.error is None, r.error
        obj = json.loads(r.text)
        jsonschema.validate(obj, SCHEMA)
        assert list(obj) == ["reasoning", "score"]
        assert r.raw["finish_reason"] == "stop"


def test_a_batch_gives_what_single_requests_give(hf_engine, images):
    # Mixed batch: a schema-constrained request, an unconstrained one, a one-token logprob one,
    # prompts of different lengths (left padding) and per-request max_tokens.
    reqs = [verdict_request(images[0], PROMPTS[0]),
            ChatRequest(messages=question(images[1], "Is there a dog in this picture?"), max_tokens=5),
            answer_probability_request(question(images[2], "Is it red?"), 5),
            verdict_request(images[3], "a much longer prompt " * 5)]
    batched = run(hf_engine, reqs)
    single = [run(hf_engine, [r])[0] for r in reqs]
    assert [b.text for b in batched] == [s.text for s in single]
    assert batched[1].usage["completion_tokens"] <= 5
    pb, ps = token_probabilities(batched[2]), token_probabilities(single[2])
    assert abs(pb["Yes"] - ps["Yes"]) < 1e-4 and 0 < pb["Yes"] < 1


def test_bad_requests_fail_alone(hf_engine, images):
    good = verdict_request(images[0], PROMPTS[0])
    broken = ChatRequest(messages=(Message("user", (ImagePart(b"\x89PNG broken"), TextPart("x"))),))
    out = run(hf_engine, [broken, good])
    assert "cannot be decoded" in out[0].error
    assert out[1].error is None and json.loads(out[1].text)


def test_unconstrained_when_asked(tiny_vlm_dir, images, hf_engine):
    from judgekit.backends.hf import HFBackend

    be = HFBackend(str(tiny_vlm_dir), structured_outputs="none", max_model_len=32)
    assert be.describe()["structured_outputs"] == "none"
    # Another grammar setting and length limit answer differently: another cache identity.
    mine, shared = be.cache_identity(), hf_engine.cache_identity()
    assert mine["revision"] == shared["revision"] and mine["endpoint"] == shared["endpoint"]
    assert (mine["structured_outputs"], mine["max_model_len"]) == ("none", 32) != (
        shared["structured_outputs"], shared["max_model_len"])
    (r,) = run(be, [ChatRequest(messages=question(images[0], "Is it?"), json_schema=SCHEMA, max_tokens=6)])
    assert r.error and "too long" in r.error  # 16 image tokens + the question > 32
    short = ChatRequest(messages=(Message("user", (TextPart("Hi"),)),), json_schema=SCHEMA, max_tokens=6)
    (r,) = run(be, [short])
    assert r.error is None and r.usage["completion_tokens"] == 6  # no grammar: the bias repeats '"'


@pytest.mark.parametrize("opts, match", [({"dtype": "float8"}, "dtype"), ({"device_map": "auto"}, "unknown option"),
                                         ({"structured_outputs": "xgrammar"}, "structured_outputs")])
def test_bad_options(tiny_vlm_dir, opts, match):
    from judgekit.backends.hf import HFBackend

    with pytest.raises(ConfigError, match=match):
        HFBackend(str(tiny_vlm_dir), **opts)


def test_runner_scores_a_manifest_with_hf(hf_engine, tmp_path):
    from judgekit.runner import score_async
    from tests.backends.test_vllm import _manifest

    res = asyncio.run(score_async("viescore-t2i", _manifest(tmp_path, 2), hf_engine, cache=False))
    assert [r.status for r in res] == ["ok", "ok"], [r.error for r in res]
    assert all(0 <= s <= 10 for r in res for s in r.scores.values())
    assert res[0].provenance["backend"]["engine"] == "transformers"
    # The judge card of a local engine: the engine and its version, and the model it loaded as the served id.
    import transformers

    card = res.card()
    assert card["engine"] == [{"engine": "transformers", "version": transformers.__version__, "records": 2}]
    assert list(card["served_models"]) == [hf_engine.model] == [res[0].model_extra["judge"]["requested_model"]]
    # One number type from every backend: floats in records and in the JSON written.
    assert all(type(s) is float for r in res for s in [*r.scores.values(), r.overall])
    line = json.loads(res[0].model_dump_json())
    assert all(isinstance(v, float) for v in line["scores"].values())
