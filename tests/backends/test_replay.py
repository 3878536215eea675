"""Replay of recorded VQA answers: the backend alone, through `judgekit score`, and the demo."""

import asyncio
import json

import pytest

from judgekit.backends import make_backend
from judgekit.backends.replay import ReplayBackend, find_replay_key
from judgekit.cli import main
from judgekit.cli.demo import run_demo
from judgekit.errors import ConfigError
from judgekit.resources import data_path
from judgekit.types import ChatRequest, Message, TextPart

QUESTIONS = data_path("calibration", "dsg_tifa160", "tifa160-dsg1k-anns.csv")
ANSWERS = data_path("calibration", "dsg_tifa160", "mplug_dsg_tifa160.csv")


def _req(text: str, item: str | None = None, model: str | None = None, qid: int | None = None) -> ChatRequest:
    meta = None if item is None else {"item_id": item, "model": model, "question_id": qid}
    return ChatRequest((Message("user", (TextPart(text),)),), meta=meta)


def test_meta_key_lookup():
    be = make_backend(f"replay:{ANSWERS}")
    assert isinstance(be, ReplayBackend) and be.replays_answers
    req = _req("Are the lights on the Christmas tree?", "tifa160_0", "sd2dot1", 4)
    assert find_replay_key(req) == ("tifa160_0", "sd2dot1", 4)
    ok, missing, nokey = asyncio.run(be.generate([req, _req("?", "tifa160_134", "sd2dot1", 2), _req("Is there a dog?")]))
    assert ok.text == "yes" and ok.error is None
    assert "no recorded answer for item 'tifa160_134'" in missing.error
    assert "names no recorded answer" in nokey.error


def test_replay_key_is_part_of_the_fingerprint_not_the_prompt():
    a, b = _req("Is there a car?", "p1", "m", 1), _req("Is there a car?", "p1", "m", 2)
    assert a.fingerprint() != b.fingerprint()
    assert all("p1" not in m.text for m in a.messages)
    # Requests without meta fingerprint exactly as before the field existed (caches stay valid).
    assert "meta" not in _req("Is there a car?").fingerprint()


def test_samples_are_the_pairs_in_the_file():
    be = ReplayBackend(str(ANSWERS), models="sd2dot1,vq-diffusion")
    s = be.samples()
    assert len(s) == 2 * 159
    by_id = {x.id: x for x in s}
    assert (by_id["tifa160_0__sd2dot1"].prompt_id, by_id["tifa160_0__sd2dot1"].model) == ("tifa160_0", "sd2dot1")
    assert {x.model for x in s} == {"sd2dot1", "vq-diffusion"}
    with pytest.raises(ConfigError, match="unknown options"):
        ReplayBackend(str(ANSWERS), temperature=0)
    with pytest.raises(ConfigError, match="does not exist"):
        ReplayBackend("nope.csv")


def test_score_cli_with_replay_and_no_data(tmp_path, capsys):
    out = tmp_path / "results.jsonl"
    rc = main(["score", "--rubric", "dsg", "--questions", str(QUESTIONS), "--backend", f"replay:{ANSWERS}",
               "--out", str(out), "--no-cache", "--no-progress", "--engine-arg", "models=sd2dot1"])
    assert rc == 0
    recs = [json.loads(line) for line in out.read_text().splitlines()]
    assert len(recs) == 159 and all(r["status"] == "ok" for r in recs)
    first = recs[0]
    assert (first["sample_id"], first["prompt_id"], first["model"]) == ("tifa160_0__sd2dot1", "tifa160_0", "sd2dot1")
    assert first["overall"] == 1.0 and len(first["details"]["questions"]) == 5
    # The DSG authors' own rule on the same answers (checked against their script): 0.9392.
    mean = sum(r["overall"] for r in recs) / len(recs)
    assert mean == pytest.approx(0.93915, abs=1e-4)
    assert "sd2dot1" in capsys.readouterr().out


def test_score_cli_dpg_rule_on_the_same_answers(tmp_path):
    out = tmp_path / "dpg.jsonl"
    main(["score", "--rubric", "dpg", "--questions", str(QUESTIONS), "--backend", f"replay:{ANSWERS}",
          "--out", str(out), "--no-cache", "--no-progress", "--engine-arg", "models=sd2dot1"])
    recs = {json.loads(line)["prompt_id"]: json.loads(line) for line in out.read_text().splitlines()}
    assert all(0 <= r["overall"] <= 100 for r in recs.values())
    # tifa160_1: a no on question 3 zeroes nothing else; both rules agree there (scaled by 100).
    dsg = {q["id"]: q for q in recs["tifa160_1"]["details"]["questions"]}
    assert recs["tifa160_1"]["overall"] == pytest.approx(100 * sum(q["score"] for q in dsg.values()) / len(dsg))


def test_demo_runs_offline_and_writes_results(tmp_path):
    res = asyncio.run(run_demo(tmp_path / "demo", n_boot=200))
    rows = {r["model"]: r for r in res["summary"].rows}
    assert set(rows) == {"mini-dalle", "sd1dot1", "sd1dot5", "sd2dot1", "vq-diffusion"}
    assert all(r["n"] == 160 and r["failed"] == 1 for r in rows.values())  # tifa160_134: no answers
    assert rows["sd2dot1"]["mean"] == pytest.approx(0.93915, abs=1e-4)
    assert rows["sd2dot1"]["ci_low"] < rows["sd2dot1"]["mean"] < rows["sd2dot1"]["ci_high"]
    for name in ("results.jsonl", "summary.csv", "categories.csv", "questions.csv", "load_report.txt"):
        assert (tmp_path / "demo" / name).stat().st_size > 0
    cats = {(c["model"], c["category"]) for c in res["categories"]}
    assert ("sd2dot1", "entity") in cats and ("sd2dot1", "relation") in cats
    failed = [r for r in res["results"] if r.status == "failed"]
    assert {r.prompt_id for r in failed} == {"tifa160_134"} and "no recorded answer" in failed[0].error
