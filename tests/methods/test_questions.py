"""The question method with real images through the scripted server: constrained choices,
probability answers, invalid answers, and the text-rendering rubric."""

import json

import pytest

import judgekit.runner as runner
from judgekit.datasets.questions import save_questions
from judgekit.errors import ConfigError, RubricError
from judgekit.methods import make_method
from judgekit.questions.graph import Question, QuestionGraph
from judgekit.rubric import load_rubric
from tests.fixtures_spine import write_png
from tests.judge_server import Reply


@pytest.fixture
def dsg_case(tmp_path):
    """Two prompts with DSG questions, two images each (two models)."""
    graphs = [
        QuestionGraph("p0", "a red cube on a table", [
            Question(1, "Is there a cube?", category="entity"), Question(2, "Is the cube red?", parents=(1,), category="attribute"),
            Question(3, "Is there a table?", category="entity"),
            Question(4, "Is the cube on the table?", parents=(1, 3), category="relation")]),
        QuestionGraph("p1", "a blue ball", [
            Question(1, "Is there a ball?", category="entity"), Question(2, "Is the ball blue?", parents=(1,), category="attribute")]),
    ]
    save_questions(graphs, tmp_path / "q.csv")
    lines = []
    for i, (pid, g) in enumerate([(g.item_id, g) for g in graphs for _ in range(2)]):
        img = write_png(tmp_path / "img" / f"{i}.png", seed=i)
        lines.append({"id": f"s{i}", "prompt": g.prompt, "prompt_id": pid, "image": f"img/{img.name}", "model": ["a", "b"][i % 2]})
    (tmp_path / "m.jsonl").write_text("".join(json.dumps(x) + "\n" for x in lines))
    return tmp_path / "m.jsonl", tmp_path / "q.csv"


def question_of(body: dict) -> str:
    for m in body["messages"]:
        content = m["content"] if isinstance(m["content"], list) else [{"type": "text", "text": m["content"]}]
        for part in content:
            if part["type"] == "text" and "Question:" in part["text"]:
                return part["text"].split("Question:")[1].split("\n")[0].strip()
    return ""


def answer_script(body, n):
    q = question_of(body)
    ans = "no" if "table" in q else "yes"  # no table anywhere: question 3 of p0 fails, gating 4
    return Reply(content=json.dumps({"reasoning": f"looked for: {q}", "answer": ans}))


def test_dsg_with_constrained_choices(judge_server, dsg_case):
    manifest, questions = dsg_case
    judge_server.script = answer_script
    res = runner.score("dsg", manifest, backend="openai:judge", base_url=judge_server.url, api_key="t", cache=False,
                       method_options={"questions": str(questions)})
    assert [r.status for r in res] == ["ok"] * 4
    assert [r.overall for r in res] == [0.5, 0.5, 1.0, 1.0]  # p0: 1,2 yes; 3 no; 4 gated by 3
    q4 = res[0].details["questions"][3]
    assert (q4["raw"], q4["score"], q4["gated_by"]) == (0.0, 0.0, [3])
    assert res[0].details["questions"][0]["reasoning"] == "looked for: Is there a cube?"
    # One image's four questions all carry the same image bytes (a shared prefix for engines),
    # and the schema constrains the answer to the choices.
    p0 = {"Is there a cube?", "Is the cube red?", "Is there a table?", "Is the cube on the table?"}
    bodies = [b for b in judge_server.received if question_of(b) in p0]
    urls = {json.dumps([p for m in b["messages"] if isinstance(m["content"], list) for p in m["content"] if p["type"] == "image_url"])
            for b in bodies}
    assert len(bodies) == 8 and len(urls) == 2
    schema = bodies[0]["response_format"]["json_schema"]["schema"]
    assert list(schema["properties"]) == ["reasoning", "answer"] and schema["properties"]["answer"]["enum"] == ["yes", "no"]


def test_answer_outside_the_choices_is_retried_then_the_sample_fails(judge_server, dsg_case):
    manifest, questions = dsg_case
    judge_server.script = lambda body, n: Reply(content=json.dumps({"reasoning": "?", "answer": "maybe"}))
    res = runner.score("dsg", manifest, backend="openai:judge", base_url=judge_server.url, api_key="t", cache=False,
                       max_samples=1, method_options={"questions": str(questions)}, parse_retries=1)
    r = res[0]
    assert r.status == "failed" and r.overall is None
    assert "no answer for question ids [1, 2, 3, 4]" in r.error and "'maybe' is not one of" in r.error
    assert len(judge_server.received) == 8  # 4 questions x (1 + 1 retry)


def test_probability_answers(judge_server, dsg_case):
    manifest, questions = dsg_case
    res = runner.score("dsg", manifest, backend="openai:judge", base_url=judge_server.url, api_key="t", cache=False,
                       method_options={"questions": str(questions), "answer_mode": "prob"})
    assert [r.overall for r in res] == [1.0] * 4  # default top list: P(Yes) > P(No)
    q = res[0].details["questions"][0]
    assert q["answer"] == "yes" and 0.7 < q["p_yes"] < 0.73
    assert all(b["max_tokens"] == 1 and b["logprobs"] for b in judge_server.received)


def test_sample_without_questions_fails_alone(judge_server, dsg_case, tmp_path):
    manifest, questions = dsg_case
    extra = tmp_path / "m2.jsonl"
    img = write_png(tmp_path / "img" / "x.png", seed=9)
    extra.write_text(manifest.read_text() + json.dumps({"id": "x", "prompt": "unknown", "prompt_id": "zz", "image": str(img)}) + "\n")
    judge_server.script = answer_script
    res = runner.score("dsg", extra, backend="openai:judge", base_url=judge_server.url, api_key="t", cache=False,
                       method_options={"questions": str(questions)})
    assert [r.status for r in res] == ["ok"] * 4 + ["failed"]
    assert "no questions for prompt_id 'zz'" in res[4].error


def test_configuration_errors():
    with pytest.raises(ConfigError, match="needs a question file"):
        make_method(load_rubric("dsg"))
    with pytest.raises(RubricError, match="option .rule.*accepted options: rule, answer_mode"):
        make_method(load_rubric("dsg"), questions="x.csv", rule="median")


def test_text_rendering_through_the_server(judge_server, tmp_path):
    lines = []
    for i, (targets, lang) in enumerate([(["OPEN 24 HOURS", "Fresh Coffee"], "en"), (["每日新鲜烘焙"], "zh")]):
        img = write_png(tmp_path / f"{i}.png", seed=i)
        lines.append({"id": f"t{i}", "image": str(img), "model": "m", "targets": targets, "language": lang})
    (tmp_path / "m.jsonl").write_text("".join(json.dumps(x) + "\n" for x in lines))
    judge_server.script = lambda body, n: Reply(content=json.dumps({"transcription": "Open 24 hours\nfresh tea 每日新鲜"}))
    res = runner.score("text-rendering", tmp_path / "m.jsonl", backend="openai:judge", base_url=judge_server.url,
                       api_key="t", cache=False)
    en, zh = res[0], res[1]
    assert en.status == "ok" and en.overall == pytest.approx(4 / 5)  # open 24 hours fresh | coffee missing
    assert (en.details["matched"], en.details["total"]) == (4, 5)
    assert zh.overall == pytest.approx(4 / 6)  # 每日新鲜 of 每日新鲜烘焙
    assert 0 < en.scores["edit_similarity"] < 1
