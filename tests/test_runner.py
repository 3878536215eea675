"""The runner end to end against the scripted server: parsing, retries, per-sample failures,
streaming results, the cache and resuming after SIGKILL."""

import asyncio
import hashlib
import json
import os
import subprocess
import sys
import threading
from pathlib import Path

import pytest

import judgekit as jk
from judgekit.cli import main
from tests.judge_server import Reply
from tests.kill_resume import kill_and_resume

REPO = Path(__file__).resolve().parent.parent


def _score(srv, manifest, tmp_path, rubric="viescore-t2i", **kw):
    kw.setdefault("cache", str(tmp_path / "cache.sqlite"))
    kw.setdefault("backend_options", {"backoff_base": 0.01})
    return jk.score(rubric, str(manifest), backend="openai:judge", base_url=srv.url, **kw)


def _verdict(score, reasoning="looks right"):
    return json.dumps({"reasoning": reasoning, "score": score})


def test_results_records_and_provenance(judge_server, manifest_factory, tmp_path):
    m = manifest_factory(4)
    res = _score(judge_server, m, tmp_path, out=tmp_path / "r.jsonl")
    assert [r.sample_id for r in res] == ["s0", "s1", "s2", "s3"]
    assert len(judge_server.received) == 12  # 4 samples x 3 dimensions
    r = res[0]
    assert r.status == "ok" and set(r.scores) == {"semantic_consistency", "naturalness", "artifacts"}
    sc, pq = r.scores["semantic_consistency"], min(r.scores["naturalness"], r.scores["artifacts"])
    assert r.overall == pytest.approx((sc * pq) ** 0.5)
    p = r.provenance
    assert p["rubric"] == "viescore-t2i" and p["rubric_hash"] and p["template_hash"]
    assert p["backend"]["spec"] == "openai:judge" and p["judgekit_version"] == jk.__version__
    assert p["decoding"]["temperature"] == 0.0
    back = jk.load_results(tmp_path / "r.jsonl")
    assert [x.model_dump() for x in back] == [x.model_dump() for x in res]
    df = back.to_pandas()
    assert len(df) == 4 and "score.naturalness" in df.columns
    assert len(back.to_pandas(long=True)) == 12
    s = back.summary()
    assert {row["model"] for row in s.rows} == {"sdxl", "flux"} and all(row["n"] == 2 for row in s.rows)
    assert "mean" in str(s)


def test_quality_dimensions_do_not_see_the_prompt(judge_server, manifest_factory, tmp_path):
    _score(judge_server, manifest_factory(1), tmp_path)
    texts = [json.dumps(b["messages"]) for b in judge_server.received]
    with_prompt = [t for t in texts if "a red cube number 0" in t]
    assert len(with_prompt) == 1  # only semantic consistency


def test_repairs_retries_and_failures(judge_server, manifest_factory, tmp_path):
    """s0: fenced reply (repaired); s1: malformed then valid (retried); s2: always out of range
    (failed with the raw reply, never clamped)."""

    def script(body, n):
        text = json.dumps(body["messages"])
        if "number 0" in text:
            return Reply(content="```json\n" + _verdict(8) + "\n```")
        if "number 1" in text:
            script.seen = getattr(script, "seen", 0) + 1
            return Reply(content="not json at all" if script.seen == 1 else _verdict(6))
        if "number 2" in text:
            return Reply(content=_verdict(42))
        return Reply(content=_verdict(5))

    judge_server.reset(script)
    m = manifest_factory(3, models=("m",))
    res = _score(judge_server, m, tmp_path, rubric=_sc_only(tmp_path))
    by = {r.sample_id: r for r in res}
    assert by["s0"].status == "ok" and by["s0"].scores["sc"] == 8
    assert by["s1"].status == "ok" and by["s1"].scores["sc"] == 6 and by["s1"].details["attempts"] == {"sc": 2}
    assert by["s2"].status == "failed" and by["s2"].overall is None and by["s2"].scores["sc"] is None
    assert "outside the scale" in by["s2"].error and "after 3 attempts" in by["s2"].error
    assert by["s2"].details["raw_replies"]["sc"] == _verdict(42)


def _sc_only(tmp_path):
    p = tmp_path / "sc.yaml"
    p.write_text(
        "name: sc-only\ninputs: [prompt, image]\nscale: {min: 0, max: 10}\n"
        "dimensions: [{name: sc, criteria: matches the prompt}]\ncombine: {rule: single}\n"
    )
    return p


def test_bad_images_fail_per_sample_and_run_goes_on(judge_server, manifest_factory, tmp_path):
    m = manifest_factory(3)
    (tmp_path / "img" / "1.png").unlink()
    lines = m.read_text().splitlines()
    extra = json.loads(lines[0]) | {"id": "noimg"}
    del extra["image"]
    m.write_text("\n".join(lines + [json.dumps(extra)]) + "\n")
    res = _score(judge_server, m, tmp_path)
    by = {r.sample_id: r for r in res}
    assert len(res) == 4
    assert by["s1"].status == "failed" and "does not exist" in by["s1"].error and "1.png" in by["s1"].error
    assert by["noimg"].status == "failed" and "has no 'image'" in by["noimg"].error
    assert by["s0"].status == by["s2"].status == "ok"


def test_two_hundred_samples_with_transient_faults(judge_server, manifest_factory, tmp_path):
    """20% of first attempts fail on the wire (429, 500, drop, timeout); 10 samples never get a
    valid reply. Every sample ends with exactly one record and the failures are exactly those 10."""
    attempts: dict[str, int] = {}
    lock = threading.Lock()
    faults = [Reply(status=429, headers={"retry-after": "0"}), Reply(status=500), Reply(drop=True), Reply(delay=1.0)]

    def script(body, n):
        key = hashlib.sha256(json.dumps(body["messages"]).encode()).hexdigest()
        with lock:
            k = attempts[key] = attempts.get(key, 0) + 1
        h = int(key[:8], 16)
        text = json.dumps(body["messages"])
        if k == 1 and h % 5 == 0:
            return faults[h % 4]
        if "cube number 1" in text and any(f"cube number 1{d}\\n" in text for d in range(10)):
            return Reply(content="I refuse to answer in JSON")
        return Reply(content=_verdict(h % 11))

    judge_server.reset(script)
    m = manifest_factory(200, models=("a", "b"), prompts=100)
    res = _score(
        judge_server, m, tmp_path, rubric=_sc_only(tmp_path), concurrency=32,
        backend_options={"backoff_base": 0.01, "timeout": 0.5}, out=tmp_path / "r.jsonl",
    )
    ids = [r.sample_id for r in res]
    assert len(ids) == 200 and len(set(ids)) == 200
    failed = sorted(r.sample_id for r in res if r.status == "failed")
    # prompts p10..p19 -> samples with pid in 10..19; pid = i % 100, so i in 10..19 and 110..119
    assert failed == sorted(f"s{i}" for i in [*range(10, 20), *range(110, 120)])
    lines = (tmp_path / "r.jsonl").read_text().splitlines()
    assert len(lines) == 200


def test_cache_makes_rerun_free(judge_server, manifest_factory, tmp_path):
    m = manifest_factory(5)
    first = _score(judge_server, m, tmp_path)
    n = len(judge_server.received)
    second = _score(judge_server, m, tmp_path)
    assert len(judge_server.received) == n
    assert [r.scores for r in first] == [r.scores for r in second]
    assert second.run_info["cache"]["hits"] == n


def test_api_key_never_written(judge_server, manifest_factory, tmp_path, monkeypatch):
    monkeypatch.setenv("OPENAI_API_KEY", "sk-very-secret-999")
    out = tmp_path / "r.jsonl"
    _score(judge_server, manifest_factory(2), tmp_path, out=out)
    assert judge_server.headers_seen[0]["authorization"] == "Bearer sk-very-secret-999"
    for f in [out, tmp_path / "cache.sqlite"]:
        assert b"sk-very-secret-999" not in f.read_bytes()


def test_score_inside_running_event_loop_and_async(judge_server, manifest_factory, tmp_path):
    m = manifest_factory(2)

    async def notebook_cell():
        sync_res = _score(judge_server, m, tmp_path)  # jk.score inside a running loop
        async_res = await jk.score_async(
            "viescore-t2i", str(m), backend="openai:judge", base_url=judge_server.url, cache=str(tmp_path / "cache.sqlite")
        )
        return sync_res, async_res

    a, b = asyncio.run(notebook_cell())
    assert len(a) == len(b) == 2 and [r.overall for r in a] == [r.overall for r in b]


def test_cli_exit_codes(judge_server, manifest_factory, tmp_path, capsys):
    m = manifest_factory(2)
    out = tmp_path / "r.jsonl"
    args = ["score", "--rubric", "viescore-t2i", "--data", str(m), "--backend", "openai:judge",
            "--base-url", judge_server.url, "--out", str(out), "--cache", str(tmp_path / "c.sqlite"), "--no-progress"]
    assert main(args) == 0
    assert len(out.read_text().splitlines()) == 2
    assert "2 samples, 0 failed" in capsys.readouterr().out
    assert main(["score", "--rubric", "nope", "--data", str(m), "--backend", "openai:judge"]) == 2
    assert main(["score", "--rubric", "viescore-t2i", "--data", str(tmp_path / "missing.jsonl"), "--backend", "openai:judge"]) == 2
    assert main(["score", "--rubric", "viescore-t2i", "--data", str(m), "--backend", "bogus:x"]) == 2
    err = capsys.readouterr().err
    assert err.count("judgekit: error:") == 3


def test_resume_after_sigkill_makes_no_new_calls_for_completed_requests(judge_server, manifest_factory, tmp_path):
    judge_server.reset(lambda body, n: Reply(delay=0.08))  # long enough that the kill lands mid-run
    m = manifest_factory(30)
    total = 3 * 30  # calls: samples x dimensions
    out, cache = tmp_path / "r.jsonl", tmp_path / "c.sqlite"
    cmd = [sys.executable, "-m", "judgekit", "score", "--rubric", "viescore-t2i", "--data", str(m),
           "--backend", "openai:judge", "--base-url", judge_server.url, "--out", str(out),
           "--cache", str(cache), "--concurrency", "4", "--no-progress"]
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    kill_and_resume(cmd, judge_server, cache, total, lambda: out.exists() and len(out.read_text().splitlines()) >= 6)

    # ... and the resumed results equal an uninterrupted run's.
    fresh = tmp_path / "fresh.jsonl"
    subprocess.run([*cmd[:-7], "--out", str(fresh), "--cache", str(tmp_path / "c2.sqlite"), "--concurrency", "4", "--no-progress"],
                   env=env, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)

    def strip(path):
        # Equal but for provenance and where each answer came from (cache or fresh).
        recs = [{k: v for k, v in json.loads(x).items() if k != "provenance"} for x in path.read_text().splitlines()]
        for r in recs:
            assert {s["from"] for s in r["details"].pop("sources").values()} <= {"cache", "fresh"}
            r["details"].pop("usage")  # charged now or replayed: differs with the cache, as sources do
        return recs

    assert strip(out) == strip(fresh)


def test_editing_rubric_sends_source_then_edited_image(judge_server, tmp_path):
    from tests.fixtures_spine import write_png

    write_png(tmp_path / "src.png", 1)
    write_png(tmp_path / "out.png", 2)
    m = tmp_path / "edit.jsonl"
    m.write_text(json.dumps({"id": "e1", "source_image": "src.png", "image": "out.png", "instruction": "make it blue", "model": "ed"}) + "\n")
    res = _score(judge_server, m, tmp_path, rubric="viescore-edit")
    assert res[0].status == "ok" and len(res[0].scores) == 4
    by_dim = {}
    for body in judge_server.received:
        parts = body["messages"][-1]["content"]
        text = " ".join(p.get("text", "") for p in parts)
        n_images = sum(p["type"] == "image_url" for p in parts)
        dim = next(d for d in ("editing_success", "over_editing", "naturalness", "artifacts") if d in text)
        by_dim[dim] = (n_images, "make it blue" in text)
    assert by_dim == {"editing_success": (2, True), "over_editing": (2, True), "naturalness": (1, False), "artifacts": (1, False)}


def test_progress_bar_counts_failures(judge_server, manifest_factory, tmp_path, capsys):
    judge_server.reset(lambda body, n: Reply(content="no verdict") if "number 1" in json.dumps(body["messages"])
                       else Reply())
    res = _score(judge_server, manifest_factory(4), tmp_path, progress=True, parse_retries=0)
    assert len(res.failures) == 2
    err = capsys.readouterr().err
    assert "failed=2" in err
