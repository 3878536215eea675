"""Scoring modes that say what they are (issue 19, part 4): VQAScore asks once whether the judge
returns top_logprobs and stops with one line when it does not; ``--answers text`` reads yes/no
from the reply instead and every record says ``scoring_mode: text``; summaries never average
the two modes together without saying so."""

from __future__ import annotations

import json
import re

import pytest

import judgekit as jk
from judgekit.backends.logprob_probe import PROBE_TEXT, usable_logprobs
from judgekit.cli import main
from judgekit.errors import ConfigError
from judgekit.results import Results
from judgekit.types import ChatResponse, TokenLogprob
from tests.judge_server import Reply, _digest
from tests.methods.test_questions import dsg_case  # noqa: F401  (the fixture)


def no_logprobs(body, n):
    """A judge that ignores `logprobs` (as GPT-5 does), answering yes or no by the image."""
    return Reply(content="Yes." if _digest(body) % 2 else "no", no_logprobs=True)


def _vqa(srv, manifest, out, *extra):
    return main(["score", "--rubric", "vqascore", "--data", str(manifest), "--backend", "openai:judge", "--base-url",
                 srv.url, "--no-progress", "--no-cache", "--out", str(out), *extra])


def test_vqascore_without_logprobs_stops_at_once_with_one_line(judge_server, manifest_factory, tmp_path, capsys):
    judge_server.script = no_logprobs
    assert _vqa(judge_server, manifest_factory(6), tmp_path / "r.jsonl") == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1
    assert "openai:judge returns no usable top_logprobs (the reply carries no logprobs), which vqascore needs" in err
    assert "--answers text" in err and "vllm:MODEL" in err
    # Only the probe was sent: no sample was judged, none is recorded as failed.
    assert len(judge_server.received) == 1 and judge_server.received[0]["messages"][0]["content"] == PROBE_TEXT
    assert judge_server.received[0]["logprobs"] is True and judge_server.received[0]["top_logprobs"] == 5


def test_answers_text_reads_yes_no_from_the_reply_and_says_so(judge_server, manifest_factory, tmp_path, capsys):
    judge_server.script = no_logprobs
    out = tmp_path / "r.jsonl"
    assert _vqa(judge_server, manifest_factory(6), out, "--answers", "text") == 0
    res = jk.load_results(out)
    assert len(judge_server.received) == 6  # no probe: text answers need no logprobs
    assert all("logprobs" not in body for body in judge_server.received)
    for r in res:
        assert r.status == "ok" and r.model_extra["scoring_mode"] == "text"
        # The score is what the server said for that image: "Yes." -> 1, "no" -> 0.
        assert r.overall == r.scores["answer_yes"] == (1.0 if r.details["raw_reply"] == "Yes." else 0.0)
    assert {r.overall for r in res} == {0.0, 1.0}
    assert jk.load_results(out).card()["scoring_modes"] == {"text": 6}


def test_a_judge_with_logprobs_is_probed_once_and_records_say_logprob(judge_server, manifest_factory, tmp_path):
    m = manifest_factory(4)
    cache = str(tmp_path / "c.sqlite")
    res = jk.score("vqascore", str(m), backend="openai:judge", base_url=judge_server.url, cache=cache)
    assert len(judge_server.received) == 4 + 1  # the probe, then the samples
    assert all(r.status == "ok" and r.model_extra["scoring_mode"] == "logprob" for r in res)
    again = jk.score("vqascore", str(m), backend="openai:judge", base_url=judge_server.url, cache=cache)
    assert len(judge_server.received) == 5 and [r.overall for r in again] == [r.overall for r in res]  # cached: no probe


def test_a_summary_never_averages_two_modes_together(judge_server, manifest_factory, tmp_path):
    m = manifest_factory(4)
    prob = jk.score("vqascore", str(m), backend="openai:judge", base_url=judge_server.url, cache=False)
    judge_server.reset(no_logprobs)
    text = jk.score("vqascore", str(m), backend="openai:judge", base_url=judge_server.url, cache=False, answers="text")
    mixed = Results([*prob, *text]).summary()
    models = [row["model"] for row in mixed.rows]
    assert models == ["flux [logprob]", "flux [text]", "sdxl [logprob]", "sdxl [text]"]
    assert any("scored in different modes (vqascore: 4 logprob, 4 text)" in n for n in mixed.notes)
    means = {row["model"]: row["mean"] for row in mixed.rows}
    assert means["sdxl [text]"] == sum(r.overall for r in text if r.model == "sdxl") / 2
    # The report, over the two runs as two files, keeps the modes apart the same way and says so.
    page = jk.report([prob, text], path=tmp_path / "report.html").path.read_text()
    blob = json.loads(re.search(r'<script type="application/json" id="jk-data">(.*?)</script>', page, re.S).group(1))
    assert {row["model"] for row in blob["summary"]} == {"flux [logprob]", "flux [text]", "sdxl [logprob]", "sdxl [text]"}
    assert "scored in different modes" in page[: page.index("jk-data")]
    # One mode alone: no note, plain model names.
    alone = prob.summary()
    assert [row["model"] for row in alone.rows] == ["flux", "sdxl"] and not any("modes" in n for n in alone.notes)


def test_answers_text_is_refused_for_rubrics_without_probabilities(judge_server, manifest_factory, tmp_path, capsys):
    assert main(["score", "--rubric", "aesthetics-simple", "--data", str(manifest_factory(1)), "--backend", "openai:judge",
                 "--base-url", judge_server.url, "--no-cache", "--answers", "text", "--out", str(tmp_path / "r.jsonl")]) == 2
    assert "--answers text applies to rubrics that read answer probabilities" in capsys.readouterr().err


def test_usable_logprobs():
    assert usable_logprobs(ChatResponse(error="HTTP 400")) == "the probe request failed (HTTP 400)"
    assert usable_logprobs(ChatResponse(text="yes")) == "the reply carries no logprobs"
    assert usable_logprobs(ChatResponse(logprobs=[TokenLogprob("yes", -0.1)])) == \
        "the reply carries logprobs but no top_logprobs alternatives"
    assert usable_logprobs(ChatResponse(logprobs=[TokenLogprob("yes", -0.1, [("yes", -0.1)])])) is None


def test_probability_answers_to_questions_follow_the_same_rule(judge_server, dsg_case):  # noqa: F811 (the fixture)
    manifest, questions = dsg_case
    judge_server.script = lambda body, n: Reply(no_logprobs=True)  # schema-conforming JSON, no logprobs
    opts = {"questions": str(questions), "answer_mode": "prob"}
    with pytest.raises(ConfigError, match="returns no usable top_logprobs .* which questions needs"):
        jk.score("dsg", str(manifest), backend="openai:judge", base_url=judge_server.url, cache=False, method_options=opts)
    res = jk.score("dsg", str(manifest), backend="openai:judge", base_url=judge_server.url, cache=False,
                   method_options=opts, answers="text")
    assert all(r.status == "ok" and r.model_extra["scoring_mode"] == "text" for r in res)
    assert all("logprobs" not in b for b in judge_server.received[1:])  # answered by their text (the choice schema)
