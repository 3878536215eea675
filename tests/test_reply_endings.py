"""Replies that say themselves why they are no verdict (issue 18 item 23), against the scripted
OpenAI-compatible server: a reply cut off at max_tokens says so and how to fix it, a refusal
keeps its text and says "refused"; both read the same when replayed from the cache."""

import json

import judgekit as jk
from judgekit.cli import main
from tests.judge_server import Reply


def _score(url, manifest, **kw):
    kw.setdefault("cache", False)
    return jk.score("viescore-t2i", str(manifest), backend="openai:judge", base_url=url, parse_retries=0, **kw)


def test_a_reply_cut_off_at_max_tokens_says_so(judge_server, manifest_factory, tmp_path):
    judge_server.reset(lambda body, n: Reply(content='{"reasoning": "the cube is re', finish_reason="length"))
    m, cache = manifest_factory(1), tmp_path / "c.sqlite"
    for run in ("fresh", "cached"):
        (r,) = _score(judge_server.url, m, cache=str(cache))
        assert r.status == "failed"
        for dim in ("semantic_consistency", "naturalness", "artifacts"):
            assert (f"{dim}: invalid reply after 1 attempts: the reply was cut off at the token limit "
                    "(max_tokens 512) before the verdict was complete") in r.error, run
        assert "raise max_tokens in the rubric" in r.error
        assert r.details["raw_replies"]["naturalness"] == '{"reasoning": "the cube is re'
    assert len(judge_server.received) == 3  # the second run replayed the cache


def test_a_refusal_keeps_its_text_and_says_refused(judge_server, manifest_factory, tmp_path):
    text = "I'm sorry, I can't help with judging this image."
    judge_server.reset(lambda body, n: Reply(refusal=text))
    m, cache = manifest_factory(1), tmp_path / "c.sqlite"
    for run in ("fresh", "cached"):
        (r,) = _score(judge_server.url, m, cache=str(cache))
        assert r.status == "failed" and "empty reply" not in r.error, run
        assert f"artifacts: invalid reply after 1 attempts: the judge refused: {text}" in r.error
        assert r.details["raw_replies"] == {d: text for d in ("semantic_consistency", "naturalness", "artifacts")}
    assert len(judge_server.received) == 3


def test_an_ordinary_bad_reply_keeps_its_parse_reason(judge_server, manifest_factory, tmp_path, capsys):
    judge_server.reset(lambda body, n: Reply(content="no json here"))
    out = tmp_path / "r.jsonl"
    assert main(["score", "--rubric", "viescore-t2i", "--data", str(manifest_factory(1)), "--backend", "openai:judge",
                 "--base-url", judge_server.url, "--no-cache", "--no-progress", "--parse-retries", "0",
                 "--out", str(out)]) == 3
    error = json.loads(out.read_text())["error"]
    assert "reply holds no JSON object" in error and "cut off" not in error and "refused" not in error
