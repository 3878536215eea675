"""The in-process vLLM judge on the tiny random-weight VLM (tests/tiny_vlm.py): strict verdicts,
determinism, per-request errors, token probabilities, parity with transformers, a real vLLM
OpenAI-compatible server, and a whole `judgekit score` run.

Random weights test plumbing, never judging quality. One shared engine and one server for the
whole module (see tests/fixtures_engines.py)."""

from __future__ import annotations

import asyncio
import json
import math
import os
import subprocess
import sys
from pathlib import Path

import jsonschema
import pytest

from judgekit.backends.logprobs import answer_probability_request, token_probabilities
from judgekit.rubric import load_rubric
from judgekit.types import ChatRequest, ImagePart, Message, TextPart
from judgekit.verdict import dimension_schema, validate_verdict
from tests.fixtures_engines import SERVED_NAME
from tests.fixtures_spine import write_png

pytestmark = pytest.mark.vllm

SCALE = load_rubric("viescore-t2i").scale  # 0-10, integers
SCHEMA = dimension_schema(SCALE)
PROMPTS = ["a red cat on a table", "two dogs playing", "a teddy bear reading a book",
           "a blue car", "three green apples", "a lighthouse at night"]


def png_bytes(tmp: Path, seed: int, size: int = 64) -> bytes:
    return write_png(tmp / f"img{seed}_{size}.png", seed=seed, size=size).read_bytes()


def verdict_request(image: bytes, prompt: str) -> ChatRequest:
    return ChatRequest(
        messages=(
            Message("system", (TextPart("You judge images. Reply with JSON: reasoning, then score."),)),
            Message("user", (ImagePart(image, label="image"),
                             TextPart(f"Prompt: {prompt}\nRate how well the image matches, 0-10."))),
        ),
        json_schema=SCHEMA,
        max_tokens=96,
    )


def question(image: bytes, q: str) -> tuple[Message, ...]:
    return (Message("user", (ImagePart(image), TextPart(f"{q} Answer Yes or No."))),)


@pytest.fixture(scope="module")
def images(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("engine-images")
    return [png_bytes(tmp, seed) for seed in range(len(PROMPTS))]


def run(backend, requests):
    return asyncio.run(backend.generate(requests))


def test_every_verdict_is_strict_json_on_the_scale(vllm_engine, images):
    reqs = [verdict_request(img, p) for img, p in zip(images, PROMPTS)]
    first = run(vllm_engine, reqs)
    for resp in first:
        assert resp.error is None, resp.error
        obj = json.loads(resp.text)  # strict: no repair
        jsonschema.validate(obj, SCHEMA)
        assert list(obj) == ["reasoning", "score"]  # reasoning before score
        validate_verdict(obj, SCALE)
        assert resp.raw["batch_size"] == len(reqs)  # one engine call for the whole batch
        assert resp.usage["prompt_tokens"] > 16  # the 16 image tokens are in the prompt
    second = run(vllm_engine, reqs)
    assert [r.text for r in second] == [r.text for r in first]


def test_bad_requests_fail_alone(vllm_engine, images, tmp_path):
    good = [verdict_request(img, p) for img, p in zip(images[:2], PROMPTS)]
    alone = [r.text for r in run(vllm_engine, good)]
    not_an_image = verdict_request(b"this is not a PNG", "x")
    too_long = verdict_request(images[0], "word " * 5000)
    # Text that fits by itself but not with the 16 image tokens: only vLLM can tell, so this
    # one goes through the batch call, fails it, and the batch is retried one by one.
    n_max, tok = vllm_engine.max_model_len, vllm_engine._tokenizer
    per_word = len(tok.encode("cat " * 100, add_special_tokens=False)) / 100
    filler = "cat " * int((n_max - 4) / per_word)
    assert n_max - 16 < len(tok.encode(filler, add_special_tokens=False)) < n_max
    fits_text_only = ChatRequest(messages=(Message("user", (ImagePart(images[1]), TextPart(filler))),),
                                 max_tokens=4)
    out = run(vllm_engine, [good[0], not_an_image, too_long, fits_text_only, good[1]])
    assert "cannot be decoded" in out[1].error
    assert "too long" in out[2].error and "max_model_len" in out[2].error
    assert out[3].error and "maximum context length is 4096" in out[3].error
    assert [out[0].text, out[4].text] == alone
    assert out[0].error is None and out[4].error is None


def test_yes_no_probabilities_from_an_unconstrained_call(vllm_engine, images):
    (resp,) = run(vllm_engine, [answer_probability_request(question(images[0], "Is there a cat?"), 5)])
    p = token_probabilities(resp)
    assert 0 < p["Yes"] < 1 and 0 < p["No"] < 1  # the tiny model's bias ranks both high
    assert len(resp.logprobs) == 1 and len(resp.logprobs[0].top) == 5
    # Under a grammar the masked tokens are dropped, never reported as -inf.
    constrained = ChatRequest(messages=question(images[0], "Is there a cat?"), json_schema=SCHEMA,
                              max_tokens=8, logprobs=True, top_logprobs=5)
    (c,) = run(vllm_engine, [constrained])
    assert c.logprobs and all(math.isfinite(lp) for t in c.logprobs for _, lp in t.top)
    assert c.logprobs[0].top[0][0].startswith("{")


def test_cache_identity_holds_engine_arguments_but_not_memory_share(vllm_engine, tiny_vlm_dir):
    ident = vllm_engine.cache_identity()
    assert ident["engine_options"]["dtype"] == "float32" and ident["revision"]
    assert str(tiny_vlm_dir.resolve()) in ident["endpoint"]
    assert "gpu_memory_utilization" not in ident["engine_options"]
    json.dumps(ident)


def test_runner_scores_a_manifest_with_the_shared_engine(vllm_engine, tmp_path):
    from judgekit.runner import score_async

    manifest = _manifest(tmp_path, 3)
    a = asyncio.run(score_async("viescore-t2i", manifest, vllm_engine, cache=False))
    b = asyncio.run(score_async("viescore-t2i", manifest, vllm_engine, cache=False))
    assert [r.status for r in a] == ["ok"] * 3, [r.error for r in a]
    for r in a:
        assert set(r.scores) == {"semantic_consistency", "naturalness", "artifacts"}
        assert all(0 <= s <= 10 for s in r.scores.values())
        assert all(type(s) is float for s in [*r.scores.values(), r.overall])  # as from openai: and hf:
    assert [r.model_dump(exclude={"provenance"}) for r in a] == [r.model_dump(exclude={"provenance"}) for r in b]
    assert a[0].provenance["backend"]["engine"] == "vllm"


def test_vllm_and_transformers_agree_on_p_yes(vllm_engine, hf_engine, images):
    reqs = [answer_probability_request(question(img, q), 5)
            for img, q in zip(images[:3], ["Is there a cat?", "Are there two dogs?", "Is it night?"])]
    v = [token_probabilities(r) for r in run(vllm_engine, reqs)]
    h = [token_probabilities(r) for r in run(hf_engine, reqs)]
    for pv, ph in zip(v, h):
        assert abs(pv["Yes"] - ph["Yes"]) < 1e-3 and abs(pv["No"] - ph["No"]) < 1e-3, (pv, ph)
    # Both constrain with llguidance under the same whitespace rules: the same verdicts.
    verdicts = [verdict_request(img, p) for img, p in zip(images[:3], PROMPTS)]
    assert [r.text for r in run(hf_engine, verdicts)] == [r.text for r in run(vllm_engine, verdicts)]


def test_server_returns_the_offline_verdicts(vllm_engine, vllm_server, images):
    from judgekit.backends.openai import OpenAIBackend

    reqs = [verdict_request(img, p) for img, p in zip(images, PROMPTS)]
    reqs.append(answer_probability_request(question(images[0], "Is there a cat?"), 5))

    async def ask():
        server = OpenAIBackend(SERVED_NAME, base_url=vllm_server, api_key="EMPTY", max_attempts=2)
        try:
            return await server.generate(reqs)
        finally:
            await server.aclose()

    online = asyncio.run(ask())
    offline = run(vllm_engine, reqs)
    assert [r.error for r in online] == [None] * len(reqs)
    assert [r.text for r in online[:-1]] == [r.text for r in offline[:-1]]
    po, pf = token_probabilities(online[-1]), token_probabilities(offline[-1])
    assert abs(po["Yes"] - pf["Yes"]) < 1e-4 and abs(po["No"] - pf["No"]) < 1e-4


#: A line vLLM logs when an engine starts.
ENGINE_STARTED = "Initializing a V1 LLM engine"


def test_judgekit_score_cli_with_a_vllm_backend(tiny_vlm_dir, tmp_path):
    manifest = _manifest(tmp_path, 3)
    out = tmp_path / "results.jsonl"
    # The real command in a fresh process. VLLM_ENABLE_V1_MULTIPROCESSING=0 keeps vLLM's engine
    # inside that process: the same engine code without two more process start-ups (torch and
    # vLLM imported three times over cost a CPU-only CI most of this test's time).
    env = {**os.environ, "VLLM_ENABLE_V1_MULTIPROCESSING": "0"}
    cmd = [sys.executable, "-m", "judgekit", "score", "--rubric", "viescore-t2i", "--data", str(manifest),
           "--backend", f"vllm:{tiny_vlm_dir}", "--engine-arg", "dtype=float32",
           "--engine-arg", "max_model_len=4096", "--engine-arg", "enforce_eager=true",
           "--engine-arg", 'limit_mm_per_prompt={"image": 1}',
           "--out", str(out), "--cache", str(tmp_path / "cache.sqlite"), "--no-progress"]
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=600, env=env, cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr[-3000:]
    # stdout carries judgekit's summary only; vLLM's engine logs went to stderr
    assert proc.stdout.startswith("model ") and "INFO" not in proc.stdout, proc.stdout[:2000]
    assert ENGINE_STARTED in proc.stderr
    # a fully cached rerun starts no engine
    again = subprocess.run(cmd, capture_output=True, text=True, timeout=600, env=env, cwd=tmp_path)
    assert again.returncode == 0, again.stderr[-3000:]
    assert "(cache: 9 hits, 0 misses)" in again.stdout and ENGINE_STARTED not in again.stderr
    rows = [json.loads(line) for line in out.read_text().splitlines()]
    assert sorted(r["sample_id"] for r in rows) == ["s0", "s1", "s2"]
    for r in rows:
        assert r["status"] == "ok", r.get("error")
        assert 0 <= r["overall"] <= 10
        assert r["provenance"]["backend"]["spec"] == f"vllm:{tiny_vlm_dir}"
        assert r["provenance"]["backend"]["engine_options"]["dtype"] == "float32"


@pytest.mark.slow
@pytest.mark.timeout(1200)  # an engine start in a fresh process: minutes on a loaded 2-core machine
def test_a_vllm_run_ends_without_leaked_shared_memory(tiny_vlm_dir, tmp_path):
    """Issue 18 item 31: a `judgekit score` run with vLLM's engine in its own process (the
    default) ended with "resource_tracker: There appear to be 1 leaked shared_memory objects":
    vLLM killed its engine 5 s into the shutdown, before it freed its shared-memory queues."""
    manifest = _manifest(tmp_path, 1)
    env = {k: v for k, v in os.environ.items() if k != "VLLM_ENABLE_V1_MULTIPROCESSING"}
    cmd = [sys.executable, "-m", "judgekit", "score", "--rubric", "viescore-t2i", "--data", str(manifest),
           "--backend", f"vllm:{tiny_vlm_dir}", "--engine-arg", "dtype=float32",
           "--engine-arg", "max_model_len=4096", "--engine-arg", "enforce_eager=true",
           "--out", str(tmp_path / "r.jsonl"), "--no-cache", "--no-progress"]
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=1100, env=env, cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert ENGINE_STARTED in proc.stderr
    assert "leaked shared_memory" not in proc.stderr and "force killing" not in proc.stderr, proc.stderr[-3000:]


def _manifest(tmp: Path, n: int) -> Path:
    lines = []
    for i in range(n):
        img = write_png(tmp / "img" / f"s{i}.png", seed=100 + i, size=64)
        lines.append({"id": f"s{i}", "prompt": PROMPTS[i], "image": str(img.relative_to(tmp)),
                      "model": "m" + str(i % 2), "seed": i})
    path = tmp / "manifest.jsonl"
    path.write_text("".join(json.dumps(x) + "\n" for x in lines))
    return path


@pytest.mark.slow
def test_script_without_main_guard_is_told_to_add_one(tiny_vlm_dir, tmp_path):
    """On CPU vLLM spawns its engine process, which imports the user's script again: judgekit
    stops that second engine with the fix, and the parent's error names the script."""
    manifest = _manifest(tmp_path, 1)
    script = tmp_path / "judge_no_guard.py"
    script.write_text(
        "import judgekit as jk\n"
        f"res = jk.score('viescore-t2i', {str(manifest)!r}, backend={'vllm:' + str(tiny_vlm_dir)!r}, cache=False,\n"
        "               backend_options={'dtype': 'float32', 'max_model_len': 4096, 'enforce_eager': True})\n"
        "print('scored', len(res))\n"
    )
    env = {k: v for k, v in os.environ.items() if k != "VLLM_ENABLE_V1_MULTIPROCESSING"}
    env["PYTHONPATH"] = str(Path(__file__).resolve().parents[2])
    proc = subprocess.run([sys.executable, str(script)], capture_output=True, text=True, timeout=600, env=env,
                          cwd=tmp_path)
    assert proc.returncode != 0 and "scored" not in proc.stdout
    assert "an engine is being started while Python imports the main script" in proc.stderr
    assert f"{script} has no `if __name__ == \"__main__\":` guard" in proc.stderr, proc.stderr[-3000:]
