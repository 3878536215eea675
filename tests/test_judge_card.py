"""The judge card (issue 19, part 1): every result says which judge answered, the run writes a
card with the served ids and their counts, an alias is told once, ``--pin-model`` refuses any
other model, and cached answers keep the identity they were answered with."""

from __future__ import annotations

import json
import re

import judgekit as jk
from judgekit.cache import ResponseCache
from judgekit.cli import main
from judgekit.judge_card import UNKNOWN, card_path, endpoint_host, read_card
from judgekit.types import ChatResponse
from tests.judge_server import Reply

OLD, NEW = "judge-2025-01-01", "judge-2025-06-01"


def _verdict(score: int) -> str:
    return json.dumps({"reasoning": "scripted", "score": score})


def switching(half: int):
    """Serves OLD (fingerprint fp_old) for the first ``half`` requests, then NEW (fp_new)."""
    return lambda body, n: Reply(content=_verdict(3), model=OLD if n < half else NEW,
                                 system_fingerprint="fp_old" if n < half else "fp_new")


def _score_cli(srv, manifest, out, *extra):
    return main(["score", "--rubric", "aesthetics-simple", "--data", str(manifest), "--backend", "openai:judge",
                 "--base-url", srv.url, "--no-progress", "--out", str(out), "--concurrency", "2", *extra])


def _served(rec) -> set[str]:
    return {s.get("served_model") for s in rec.details["sources"].values()}


def test_card_lists_every_served_id_with_counts_and_the_alias_is_told_once(judge_server, manifest_factory, tmp_path, capsys):
    judge_server.script = switching(4)
    m = manifest_factory(8)
    out = tmp_path / "run" / "results.jsonl"
    assert _score_cli(judge_server, m, out, "--no-cache") == 0
    captured = capsys.readouterr()
    assert captured.err.count("is an alias") == 1  # once per run, not once per reply
    assert "judgekit: note:" in captured.err

    card_file = tmp_path / "run" / "results.card.json"
    assert card_file.is_file() and card_path(out) == card_file
    card = json.loads(card_file.read_text())
    assert card["served_models"] == {OLD: {"calls": 4, "fresh": 4, "cache": 0}, NEW: {"calls": 4, "fresh": 4, "cache": 0}}
    assert card["system_fingerprints"] == {"fp_old": 4, "fp_new": 4}
    assert card["requested_model"] == "judge" and card["backend"] == "openai:judge"
    assert card["alias"]["served"] == [OLD, NEW] and "alias" in card["alias"]["note"]
    assert card["judgekit_version"] == jk.__version__
    host = f"127.0.0.1:{judge_server.port}"
    assert card["endpoint_hosts"] == {host: 8}
    [rubric] = card["rubrics"]
    assert rubric["name"] == "aesthetics-simple" and len(rubric["hash"]) == 16 and rubric["templates"]
    [sampling] = card["sampling"]
    sent = judge_server.received[0]
    assert sampling["temperature"] == sent["temperature"] == 0.0 and sampling["seed"] == sent["seed"] == 0
    assert sampling["max_tokens"] == sent["max_tokens"] and sampling["records"] == 8
    # The usage the server counted (tests/token_counting.py), summed over its 8 replies, all fresh.
    assert len(judge_server.counted) == 8
    prompt = sum(text + images for text, images, _ in judge_server.counted)
    completion = sum(c for _, _, c in judge_server.counted)
    assert card["usage"]["prompt_tokens"] == prompt and card["usage"]["completion_tokens"] == completion
    # Per served model (the replies the server answered as OLD were its first 4, NEW the rest).
    for sid, counted in ((OLD, judge_server.counted[:4]), (NEW, judge_server.counted[4:])):
        charged = card["usage"]["models"][sid]["charged"]
        assert (charged["requests"], charged["prompt_tokens"], charged["completion_tokens"]) == (
            4, sum(t + i for t, i, _ in counted), sum(c for _, _, c in counted))
        assert card["usage"]["models"][sid]["cached"]["requests"] == 0

    # Every record carries the identity: requested, served, fingerprint, host, sampling, hashes.
    res = jk.load_results(out)
    for r in res:
        j = r.model_extra["judge"]
        assert j["requested_model"] == "judge" and j["endpoint_host"] == host and j["engine"] is None
        [src] = r.details["sources"].values()
        assert src["served_model"] in (OLD, NEW) and src["system_fingerprint"] in ("fp_old", "fp_new")
        assert j["served_models"] == {src["served_model"]: 1}
        assert r.provenance["rubric_hash"] == rubric["hash"] and r.provenance["template_hash"] == rubric["templates"]
    # The order in which the server answered decides who answered: the records agree with it.
    assert sum(_served(r) == {OLD} for r in res) == 4

    assert main(["results", "info", str(out)]) == 0
    text = capsys.readouterr().out
    assert f"{OLD}: 4 (4 / 0)" in text and f"{NEW}: 4 (4 / 0)" in text and "fp_old (4)" in text and "alias" in text
    assert main(["results", "info", str(card_file), "--json"]) == 0
    assert json.loads(capsys.readouterr().out) == card


def test_pin_model_fails_exactly_the_replies_of_another_model(judge_server, manifest_factory, tmp_path, capsys):
    judge_server.script = switching(4)
    m = manifest_factory(8)
    out = tmp_path / "r.jsonl"
    assert _score_cli(judge_server, m, out, "--no-cache", "--pin-model", OLD) == 0  # some succeeded: exit as for failures
    res = jk.load_results(out)
    failed = [r for r in res if r.status == "failed"]
    assert len(failed) == 4 and len(judge_server.received) == 8  # refused at once, never retried
    for r in res:
        assert (r.status == "failed") == (_served(r) == {NEW})
        assert r.model_extra["judge"]["pinned_model"] == OLD
    assert all(f"served by {NEW}, not by the pinned model {OLD} (--pin-model)" in r.error for r in failed)
    assert read_card(out)["pinned_model"] == OLD
    capsys.readouterr()

    # Pinned to a model the server never serves: every sample fails, exit 3 as for any all-failed run.
    judge_server.reset(switching(0))
    assert _score_cli(judge_server, m, tmp_path / "r2.jsonl", "--no-cache", "--pin-model", OLD) == 3


def test_cached_answers_keep_their_identity_and_a_mixed_run_says_so(judge_server, manifest_factory, tmp_path, capsys):
    cache = tmp_path / "cache.sqlite"
    m4 = manifest_factory(4)
    judge_server.script = lambda body, n: Reply(content=_verdict(4), model=OLD)
    first = tmp_path / "first.jsonl"
    assert _score_cli(judge_server, m4, first, "--cache", str(cache)) == 0
    capsys.readouterr()

    # The server has moved on; four of the eight samples are answered from the cache.
    m8 = manifest_factory(8)
    judge_server.reset(lambda body, n: Reply(content=_verdict(2), model=NEW))
    second = tmp_path / "second.jsonl"
    assert _score_cli(judge_server, m8, second, "--cache", str(cache)) == 0
    printed = capsys.readouterr().out
    assert len(judge_server.received) == 4
    res = jk.load_results(second)
    by_id = {r.sample_id: r for r in res}
    for i in range(8):
        [src] = by_id[f"s{i}"].details["sources"].values()
        assert (src["from"], src["served_model"]) == (("cache", OLD) if i < 4 else ("fresh", NEW))
    note = f"the answers come from 2 served models: {OLD}: 4 calls (0 fresh, 4 cached); {NEW}: 4 calls (4 fresh, 0 cached)"
    assert note in printed
    assert note in str(res.summary())
    card = read_card(second)
    assert card["served_models"][OLD] == {"calls": 4, "fresh": 0, "cache": 4}
    fresh = judge_server.counted[-4:]  # what the server counted for the 4 fresh answers
    assert card["usage"]["models"][NEW]["charged"]["prompt_tokens"] == sum(t + i for t, i, _ in fresh)
    assert card["usage"]["models"][NEW]["charged"]["completion_tokens"] == sum(c for _, _, c in fresh)
    assert card["usage"]["models"][NEW]["cached"]["requests"] == 0
    assert card["usage"]["models"][OLD]["cached"]["requests"] == 4 and card["usage"]["models"][OLD]["charged"]["requests"] == 0


def test_an_answer_cached_before_identity_was_recorded_is_unknown_and_refused_under_a_pin(judge_server, manifest_factory, tmp_path):
    # What an older judgekit stored: the same key, a payload without `served`.
    assert "served" not in ChatResponse(text="x").to_json()
    m = manifest_factory(2)
    cache = tmp_path / "cache.sqlite"
    judge_server.script = lambda body, n: Reply(content=_verdict(3), model=OLD)
    jk.score("aesthetics-simple", str(m), backend="openai:judge", base_url=judge_server.url, cache=str(cache))
    with ResponseCache(cache) as c:
        db = c._db
        assert db is not None
        rows = db.execute("SELECT key, response FROM responses").fetchall()
        for key, payload in rows:
            old = json.loads(payload)
            old.pop("served")
            db.execute("UPDATE responses SET response = ? WHERE key = ?", (json.dumps(old), key))
    res = jk.score("aesthetics-simple", str(m), backend="openai:judge", base_url=judge_server.url, cache=str(cache))
    assert len(judge_server.received) == 2  # all replayed
    assert res.card()["served_models"] == {UNKNOWN: {"calls": 2, "fresh": 0, "cache": 2}}
    pinned = jk.score("aesthetics-simple", str(m), backend="openai:judge", base_url=judge_server.url,
                      cache=str(cache), pin_model=OLD)
    assert all(r.status == "failed" and "an unrecorded model (a cached answer)" in r.error for r in pinned)


def test_report_header_shows_the_judge_identity(judge_server, manifest_factory, tmp_path):
    judge_server.script = switching(2)
    out = tmp_path / "r.jsonl"
    jk.score("aesthetics-simple", str(manifest_factory(4)), backend="openai:judge", base_url=judge_server.url,
             cache=False, out=out)
    page = jk.report(out, path=tmp_path / "report.html").path.read_text()
    blob = json.loads(re.search(r'<script type="application/json" id="jk-data">(.*?)</script>', page, re.S).group(1))
    # The header's judge (report/identity.py): what answered, each served id and fingerprint with its records.
    [judge] = blob["judges"]
    assert judge["backend"] == "openai:judge"
    assert judge["served"] == f"{OLD} (2 records), {NEW} (2 records)"
    assert judge["fingerprint"] == "fp_new (2 records), fp_old (2 records)"
    assert blob["judge_card"]["served_models"][OLD]["calls"] == 2


def test_endpoint_hosts():
    assert endpoint_host("http://10.0.0.5:8000/v1") == "10.0.0.5:8000"
    assert endpoint_host("https://api.openai.com/v1") == "api.openai.com"
    assert endpoint_host("http://a:1/v1 | http://b:2/v1") == "a:1 | b:2"
    assert endpoint_host("vllm in-process: /models/x") == "vllm in-process: /models/x"
    assert endpoint_host(None) is None


def test_a_summary_of_several_rubrics_still_prints_the_served_models_note():
    from judgekit.results import Results
    from judgekit.types import Result

    def rec(sid, rubric, served):
        return Result(sample_id=sid, prompt_id=sid, model="m", rubric=rubric, status="ok", scores={"d": 3.0}, overall=3.0,
                      details={"sources": {"d": {"from": "fresh", "endpoint": "http://h/v1", "served_model": served}}})

    text = str(Results([rec("a", "r1", OLD), rec("b", "r2", NEW)]).summary(n_boot=10))
    assert "== rubric r1 ==" in text and f"the answers come from 2 served models: {OLD}: 1 calls" in text


def test_the_text_card_names_mixed_or_missing_values_in_words_not_python_reprs():
    """A card over records of two judgekit versions and backends, and one over no record (an
    import that completed nothing), print counts and "none", never ``{}``, ``None`` or a dict."""
    from judgekit.judge_card import format_card

    mixed = {"card_version": 2, "results": "m.jsonl", "judgekit_version": {"0.1.0": 3, "0.2.0": 1}, "records": 4,
             "failed": 0, "backend": {"openai:a": 3, "openai:b": 1}, "requested_model": ["a", "b"]}
    head = format_card(mixed).splitlines()[:3]
    assert head[0] == "judge card (judgekit 0.1.0 (3), 0.2.0 (1), card v2)"
    assert head[2] == "  backend: openai:a (3), openai:b (1)  requested model: a, b"
    empty = {"card_version": 2, "results": "e.jsonl", "judgekit_version": {}, "records": 0, "failed": 0,
             "backend": {}, "requested_model": None}
    text = format_card(empty)
    assert "{" not in text and "None" not in text and "[" not in text
    assert "backend: none  requested model: none" in text
