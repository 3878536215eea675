"""Every kind's result records keep the sample's identifying fields, seed included, and
``to_pandas`` shows ``seed`` as a column (issue 15, item 5)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

import judgekit as jk
from judgekit.datasets.questions import save_questions
from judgekit.questions.graph import Question, QuestionGraph
from tests.fixtures_spine import write_png
from tests.judge_server import Reply


def _manifest(tmp: Path, rows: list[dict]) -> Path:
    p = tmp / "m.jsonl"
    p.write_text("".join(json.dumps(r) + "\n" for r in rows))
    return p


def _pointwise_rows(tmp: Path) -> list[dict]:
    rows = []
    for i, seed in enumerate([0, 1, 7]):
        img = write_png(tmp / "img" / f"{i}.png", seed=i)
        rows.append({"id": f"s{i}", "prompt": "a red cube", "prompt_id": "p0", "image": f"img/{img.name}",
                     "model": "m", "seed": seed, "style": "photo"})
    rows.append({"id": "broken", "prompt": "a red cube", "prompt_id": "p0", "image": "img/missing.png",
                 "model": "m", "seed": 3})
    return rows


def test_pointwise_records_and_dataframe_keep_the_seed(judge_server, tmp_path):
    m = _manifest(tmp_path, _pointwise_rows(tmp_path))
    out = tmp_path / "r.jsonl"
    res = jk.score("aesthetics-simple", str(m), backend="openai:judge", base_url=judge_server.url, cache=False, out=out)
    assert [(r.sample_id, r.seed, r.prompt_id) for r in res] == [("s0", 0, "p0"), ("s1", 1, "p0"), ("s2", 7, "p0"),
                                                                  ("broken", 3, "p0")]
    assert res[3].status == "failed"  # a sample that failed before any call keeps its seed too
    assert res[0].meta == {"style": "photo"}
    back = jk.load_results(out)
    assert [json.loads(line)["seed"] for line in out.read_text().splitlines()] == [0, 1, 7, 3]
    df = back.to_pandas()
    assert list(df["seed"]) == [0, 1, 7, 3]
    assert list(df.columns[:4]) == ["sample_id", "prompt_id", "model", "seed"]
    assert set(back.to_pandas(long=True)["seed"]) == {0, 1, 7, 3}


def test_pairwise_vqascore_and_text_rendering_records_keep_the_seed(judge_server, tmp_path):
    a, b = write_png(tmp_path / "a.png", 1), write_png(tmp_path / "b.png", 2)
    pair = _manifest(tmp_path, [{"id": "pr", "prompt": "a cube", "prompt_id": "p0", "image_a": str(a), "image_b": str(b),
                                 "model_a": "x", "model_b": "y", "seed": 5}])
    (r,) = jk.score("pairwise-t2i", str(pair), backend="openai:judge", base_url=judge_server.url, cache=False)
    assert (r.seed, r.model, r.model_extra["model_a"]) == (5, None, "x")

    single = _manifest(tmp_path, [{"id": "v", "prompt": "a cube", "image": str(a), "model": "m", "seed": 9,
                                   "targets": ["OPEN"]}])
    for rubric in ("vqascore", "text-rendering"):
        (r,) = jk.score(rubric, str(single), backend="openai:judge", base_url=judge_server.url, cache=False)
        assert r.seed == 9 and r.meta == {"targets": ["OPEN"]}, rubric


def test_question_records_keep_the_seed(judge_server, tmp_path):
    save_questions([QuestionGraph("p0", "a red cube", [Question(1, "Is there a cube?", category="entity")])],
                   tmp_path / "q.csv")
    img = write_png(tmp_path / "c.png", 3)
    m = _manifest(tmp_path, [{"id": "q", "prompt": "a red cube", "prompt_id": "p0", "image": str(img), "model": "m",
                              "seed": 11}])
    judge_server.reset(lambda body, n: Reply(content=json.dumps({"reasoning": "a cube", "answer": "yes"})))
    (r,) = jk.score("dsg", str(m), backend="openai:judge", base_url=judge_server.url, cache=False,
                    method_options={"questions": str(tmp_path / "q.csv")})
    assert (r.status, r.seed, r.prompt_id) == ("ok", 11, "p0")


def test_for_sample_carries_the_sample_and_lets_fields_win():
    s = jk.Sample(id="x", prompt_id="p", model="m", seed=4, meta={"k": 1})
    r = jk.Result.for_sample(s, "rub", status="ok", model=None)
    assert (r.sample_id, r.prompt_id, r.model, r.seed, r.meta, r.rubric) == ("x", "p", None, 4, {"k": 1}, "rub")


def test_old_results_files_without_seed_still_load(tmp_path):
    p = tmp_path / "old.jsonl"
    p.write_text(json.dumps({"sample_id": "a", "rubric": "r", "status": "ok", "overall": 1.0}) + "\n")
    res = jk.load_results(p)
    assert res[0].seed is None
    pytest.importorskip("pandas")
    assert "seed" in res.to_pandas().columns
