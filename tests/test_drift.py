"""``judgekit drift`` (issue 19, part 2): a judge whose scores moved is found (exit 4, the shift's
CI excludes 0), an unchanged one is not (exit 0), and the fresh answers never replace the
earlier ones in the cache."""

from __future__ import annotations

import json
import random
import sqlite3
from pathlib import Path

import numpy as np
import pytest
from scipy import stats

import judgekit as jk
from judgekit.cli import main
from judgekit.drift.compare import dimension_figures, pairwise_figures
from judgekit.drift.sampling import stratified_sample
from judgekit.types import Result
from tests.fixtures_spine import write_png
from tests.judge_server import Reply, _digest


def scores_shifting_after(n_first: int, shift: int = 1):
    """A score of 2..4 fixed by the request's content; +``shift`` from request ``n_first`` on."""
    def script(body, n):
        base = 2 + _digest(body) % 3
        return Reply(content=json.dumps({"reasoning": "scripted", "score": base + (shift if n >= n_first else 0)}),
                     model="judge-2025-01-01" if n < n_first else "judge-2025-06-01")
    return script


def _baseline(srv, manifest, tmp_path, capsys):
    out = tmp_path / "then.jsonl"
    assert main(["score", "--rubric", "aesthetics-simple", "--data", str(manifest), "--backend", "openai:judge",
                 "--base-url", srv.url, "--no-progress", "--out", str(out), "--cache", str(tmp_path / "c.sqlite")]) == 0
    capsys.readouterr()
    return out


def _drift(tmp_path, against, *extra):
    return main(["drift", "--against", str(against), "--sample", "12", "--seed", "3", "--out", str(tmp_path / "drift.json"),
                 "--cache", str(tmp_path / "c.sqlite"), *extra])


def test_a_judge_whose_scores_moved_is_found(judge_server, manifest_factory, tmp_path, capsys):
    judge_server.script = scores_shifting_after(16)
    m = manifest_factory(16)
    then = _baseline(judge_server, m, tmp_path, capsys)
    assert _drift(tmp_path, then) == 4
    printed = capsys.readouterr().out
    assert "verdict: drift" in printed
    report = json.loads((tmp_path / "drift.json").read_text())
    assert report["verdict"] == "drift" and report["sampled"] == report["compared"] == 12
    assert len(judge_server.received) == 16 + 12  # the cache was bypassed: every sampled record asked again
    by_dim = {f["dimension"]: f for f in report["dimensions"]}
    f = by_dim["aesthetics"]
    assert f["mean_shift"] == pytest.approx(1.0) and f["exact_agreement"] == 0.0
    assert f["ci_low"] > 0 and f["ci_low"] <= f["mean_shift"] <= f["ci_high"]
    assert any(r.startswith("aesthetics: mean shift +1.000") for r in report["reasons"])
    assert report["served_models"]["then"] == {"judge-2025-01-01": {"calls": 12, "fresh": 12, "cache": 0}}
    assert report["served_models"]["now"] == {"judge-2025-06-01": {"calls": 12, "fresh": 12, "cache": 0}}
    assert report["served_models"]["changed"] is True
    # Stratified by model: the manifest alternates two models, so six of each.
    sampled = {r.sample_id: r.model for r in jk.load_results(then) if r.sample_id in report["sample_ids"]}
    assert sorted(sampled.values()).count("sdxl") == 6
    # The fresh records are kept beside the report, with their own judge card.
    assert (tmp_path / "drift.results.jsonl").is_file() and (tmp_path / "drift.results.card.json").is_file()


def test_an_unchanged_judge_is_not_flagged_and_earlier_answers_stay_in_the_cache(judge_server, manifest_factory, tmp_path, capsys):
    judge_server.script = scores_shifting_after(10**9)  # never shifts
    m = manifest_factory(16)
    then = _baseline(judge_server, m, tmp_path, capsys)
    assert _drift(tmp_path, then) == 0
    report = json.loads((tmp_path / "drift.json").read_text())
    assert report["verdict"] == "no drift" and not report["reasons"]
    f = {x["dimension"]: x for x in report["dimensions"]}["aesthetics"]
    assert f["exact_agreement"] == 1.0 and f["mean_shift"] == 0.0 and f["spearman"] == pytest.approx(1.0)
    # The same check from Python (no cache at all this time).
    assert jk.drift_check(then, sample=4, cache=False)["verdict"] == "no drift"

    # Now the judge moves: drift's fresh answers went in beside the earlier ones, so a plain
    # rerun still replays the run's own answers, and the cache holds both sets.
    judge_server.reset(scores_shifting_after(0))
    again = jk.score("aesthetics-simple", str(m), backend="openai:judge", base_url=judge_server.url,
                     cache=str(tmp_path / "c.sqlite"))
    assert len(judge_server.received) == 0
    assert [r.scores for r in again] == [r.scores for r in jk.load_results(then)]
    with sqlite3.connect(tmp_path / "c.sqlite") as db:
        assert db.execute("SELECT COUNT(*) FROM responses").fetchone()[0] == 16 + 12


def test_drift_needs_the_same_rubric(judge_server, manifest_factory, tmp_path, capsys):
    then = _baseline(judge_server, manifest_factory(4), tmp_path, capsys)
    other = tmp_path / "other.yaml"
    other.write_text(Path(jk.load_rubric("aesthetics-simple").source).read_text().replace("striking", "superb"))
    assert _drift(tmp_path, then, "--rubric", str(other)) == 2
    assert "the earlier run used" in capsys.readouterr().err


def _rec(sid: str, model: str, score: float | None = 3.0, status: str = "ok", prompt: str | None = None, **extra) -> Result:
    return Result(sample_id=sid, prompt_id=prompt or sid, model=model, rubric="r", status=status,
                  scores={"d": score}, overall=score, **extra)


def test_stratified_sample_is_proportional_and_independent_of_file_order():
    recs = [_rec(f"a{i}", "a") for i in range(30)] + [_rec(f"b{i}", "b") for i in range(10)]
    recs.append(_rec("failed", "a", None, status="failed"))
    picked = stratified_sample(recs, 8, seed=1)
    assert [r.model for r in picked].count("a") == 6 and [r.model for r in picked].count("b") == 2
    shuffled = recs[:]
    random.Random(5).shuffle(shuffled)
    assert [r.sample_id for r in stratified_sample(shuffled, 8, seed=1)] == [r.sample_id for r in picked]
    assert "failed" not in {r.sample_id for r in stratified_sample(recs, 100)}


def test_drift_figures_against_an_independent_computation():
    rng = np.random.default_rng(0)
    then = rng.integers(1, 6, 40).astype(float)
    now = np.clip(then + rng.choice([0, 0, 1, -1], 40), 1, 5)
    pairs = [(f"p{i // 2}", a, b) for i, (a, b) in enumerate(zip(then, now))]
    f = dimension_figures(pairs, n_boot=500, seed=0)
    assert f["mean_shift"] == pytest.approx(float(np.mean(now - then)))
    assert f["exact_agreement"] == pytest.approx(sum(a == b for a, b in zip(then, now)) / 40)
    assert f["spearman"] == pytest.approx(stats.spearmanr(then, now).statistic)
    assert f["ci_low"] <= f["mean_shift"] <= f["ci_high"]


def test_pairwise_flip_rate():
    def pair(sid, winner):
        return Result(sample_id=sid, rubric="p", status="ok", model_a="x", model_b="y", winner=winner)

    then = [pair("1", "model_a"), pair("2", "model_b"), pair("3", "tie"), pair("4", "model_a")]
    now = [pair("1", "model_b"), pair("2", "model_b"), pair("3", "model_a"), pair("4", "model_a")]
    f = pairwise_figures(then, now)
    # One reversal (1), one tie that became a win (3: changed, not a flip), two unchanged.
    assert f == {"pairs": 4, "winner_agreement": 0.5, "flip_rate": 0.25, "flips": 1}


def _pairs(tmp_path, n=8):
    lines = []
    for i in range(n):
        a = write_png(tmp_path / "img" / f"{i}a.png", seed=100 + i)
        b = write_png(tmp_path / "img" / f"{i}b.png", seed=200 + i)
        lines.append({"id": f"pair{i}", "prompt": f"a cube {i}", "prompt_id": f"p{i}", "image_a": f"img/{a.name}",
                      "image_b": f"img/{b.name}", "model_a": "alpha", "model_b": "beta"})
    path = tmp_path / "pairs.jsonl"
    path.write_text("".join(json.dumps(x) + "\n" for x in lines))
    return path


def prefers(flip_after: int):
    """A consistent judge: it prefers the image whose data URL sorts first, in either order;
    from request ``flip_after`` on it prefers the other one (every winner reverses)."""
    def script(body, n):
        user = [m for m in body["messages"] if m["role"] == "user"][0]["content"]
        first, second = [p["image_url"]["url"] for p in user if p["type"] == "image_url"][:2]
        winner = "A" if (first < second) != (n >= flip_after) else "B"
        return Reply(content=json.dumps({"reasoning": "scripted", "winner": winner}))
    return script


def test_pairwise_drift_is_found_by_its_flip_rate(judge_server, tmp_path, capsys):
    judge_server.script = prefers(16)  # 8 pairs x 2 orders, then every winner reverses
    then = tmp_path / "then.jsonl"
    assert main(["score", "--rubric", "pairwise-t2i", "--data", str(_pairs(tmp_path)), "--backend", "openai:judge",
                 "--base-url", judge_server.url, "--no-progress", "--out", str(then), "--no-cache"]) == 0
    assert all(r.status == "ok" and r.winner in ("model_a", "model_b") for r in jk.load_results(then))
    assert _drift(tmp_path, then, "--no-cache") == 4  # rebuilt from the records' own inputs (no --data)
    report = json.loads((tmp_path / "drift.json").read_text())
    assert report["pairwise"] == {"pairs": 8, "winner_agreement": 0.0, "flip_rate": 1.0, "flips": 8}
    assert any(r.startswith("pairwise: winner agreement 0.000") for r in report["reasons"])


def test_drift_reuses_the_runs_scoring_mode_and_options(judge_server, manifest_factory, tmp_path, capsys):
    # A VQAScore run read from text (its judge gives no logprobs): the drift check reads text too,
    # instead of stopping at the logprob probe.
    judge_server.script = lambda body, n: Reply(content="Yes" if _digest(body) % 2 else "No", no_logprobs=True)
    then = tmp_path / "then.jsonl"
    assert main(["score", "--rubric", "vqascore", "--data", str(manifest_factory(6)), "--backend", "openai:judge",
                 "--base-url", judge_server.url, "--no-progress", "--no-cache", "--answers", "text", "--out", str(then)]) == 0
    assert _drift(tmp_path, then, "--no-cache") == 0
    now = jk.load_results(tmp_path / "drift.results.jsonl")
    assert all(r.model_extra["scoring_mode"] == "text" for r in now) and len(now) == 6


def test_a_rubric_file_the_run_used_must_be_given(judge_server, manifest_factory, tmp_path, capsys):
    mine = tmp_path / "mine.yaml"
    mine.write_text(Path(jk.load_rubric("aesthetics-simple").source).read_text().replace("name: aesthetics-simple",
                                                                                         "name: my-aesthetics"))
    then = tmp_path / "then.jsonl"
    assert main(["score", "--rubric", str(mine), "--data", str(manifest_factory(4)), "--backend", "openai:judge",
                 "--base-url", judge_server.url, "--no-progress", "--no-cache", "--out", str(then)]) == 0
    capsys.readouterr()
    assert _drift(tmp_path, then, "--no-cache") == 2
    assert "is not a built-in one: pass --rubric PATH" in capsys.readouterr().err
    assert _drift(tmp_path, then, "--no-cache", "--rubric", str(mine)) == 0


def test_the_printed_table_keeps_long_dimension_names_whole_and_aligned():
    """VIEScore's `semantic_consistency` is 20 characters: the table printed it cut to 18."""
    from judgekit.cli.drift import format_drift

    def dim(name):
        return {"dimension": name, "n": 4, "exact_agreement": 1.0, "mean_shift": 0.0, "ci_low": 0.0, "ci_high": 0.0,
                "spearman": 1.0}

    report = {"against": "r.jsonl", "compared": 4, "sampled": 4, "failed_now": 0,
              "rubric": {"name": "viescore-t2i", "hash": "abc"}, "pairwise": None, "verdict": "no drift", "reasons": [],
              "dimensions": [dim("artifacts"), dim("semantic_consistency")],
              "served_models": {"then": {"gpt-4o": {"calls": 4}}, "now": {"gpt-4o": {"calls": 4}}}}
    lines = format_drift(report)
    header, rows = lines[1], lines[2:4]
    assert [r.split()[0] for r in rows] == ["artifacts", "semantic_consistency"]
    # Every column starts where the header's does.
    assert {r.index(" 4  1.000") + 1 for r in rows} == {header.index("   n  agree") + 3}
