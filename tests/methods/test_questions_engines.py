"""DSG end to end through a real vLLM engine on the tiny random-weight VLM (tests/tiny_vlm.py).

Random weights: these check plumbing (constrained answers, probability answers, batching of one
image's questions, determinism), never judging quality. Needs the vllm package (CPU build)."""

import asyncio
import importlib.util
import json

import pytest

from judgekit.datasets.questions import save_questions
from judgekit.questions.graph import Question, QuestionGraph
from judgekit.runner import score_async
from tests.fixtures_spine import write_png

pytestmark = [
    pytest.mark.vllm,
    pytest.mark.slow,
    pytest.mark.skipif(importlib.util.find_spec("vllm") is None, reason="vllm is not installed"),
]


@pytest.fixture(scope="module")
def engine(request, tmp_path_factory):
    """The engines' shared session engine (tests/fixtures_engines.py) when it is there, so a run
    starts vLLM once; else one of our own on the tiny model."""
    try:
        yield request.getfixturevalue("vllm_engine")
        return
    except pytest.FixtureLookupError:
        pass
    from judgekit.backends.vllm import VLLMBackend
    from tests.tiny_vlm import build

    model_dir = build(tmp_path_factory.mktemp("tiny-vlm"))
    be = VLLMBackend(str(model_dir), dtype="float32", max_model_len=1024, enforce_eager=True,
                     limit_mm_per_prompt={"image": 1})
    yield be
    be.close()


@pytest.fixture(scope="module")
def case(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("dsg")
    g = QuestionGraph("p0", "a red cat on a table", [
        Question(1, "Is there a cat?", category="entity"), Question(2, "Is the cat red?", parents=(1,), category="attribute"),
        Question(3, "Is there a table?", category="entity"),
        Question(4, "Is the cat on the table?", parents=(1, 3), category="relation")])
    save_questions([g], tmp / "q.csv")
    lines = [{"id": f"s{i}", "prompt_id": "p0", "prompt": g.prompt, "image": str(write_png(tmp / f"{i}.png", seed=i, size=64)),
              "model": m} for i, m in enumerate(["a", "b"])]
    (tmp / "m.jsonl").write_text("".join(json.dumps(x) + "\n" for x in lines))
    return tmp / "m.jsonl", tmp / "q.csv"


def run(engine, case, **opts):
    manifest, questions = case
    return asyncio.run(score_async("dsg", manifest, engine, cache=False,
                                   method_options={"questions": str(questions), **opts}))


def test_dsg_constrained_choices_through_vllm(engine, case):
    res = run(engine, case)
    assert [r.status for r in res] == ["ok", "ok"], [r.error for r in res]
    for r in res:
        qs = r.details["questions"]
        assert len(qs) == 4 and all(q["answer"] in ("yes", "no") for q in qs)
        assert 0.0 <= r.overall <= 1.0
    assert [r.overall for r in run(engine, case)] == [r.overall for r in res]  # deterministic


def test_dsg_probability_answers_through_vllm(engine, case):
    res = run(engine, case, answer_mode="prob")
    assert [r.status for r in res] == ["ok", "ok"], [r.error for r in res]
    for q in res[0].details["questions"]:
        assert 0.0 < q["p_yes"] < 1.0 and 0.0 < q["p_no"] < 1.0  # the tiny model ranks Yes/No high
        assert q["answer"] == ("yes" if q["p_yes"] >= q["p_no"] else "no")
