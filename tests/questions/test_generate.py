"""Question generation against the scripted OpenAI-compatible test server: valid, malformed,
cyclic and dangling outputs."""

import asyncio
import json

import pytest

from judgekit.backends.openai import OpenAIBackend
from judgekit.datasets.questions import load_questions, save_questions
from judgekit.questions.generate import generate_questions_async
from tests.judge_server import Reply

TUPLES = {"tuples": [
    {"id": 1, "kind": "entity", "detail": "whole", "arguments": ["apples"]},
    {"id": 2, "kind": "attribute", "detail": "count", "arguments": ["apples", "two"]},
    {"id": 3, "kind": "entity", "detail": "whole", "arguments": ["table"]},
    {"id": 4, "kind": "relation", "detail": "spatial", "arguments": ["apples", "table", "on"]},
]}
DEPS = {"dependencies": [{"id": 1, "parents": []}, {"id": 2, "parents": [1]}, {"id": 3, "parents": [0]},
                         {"id": 4, "parents": [1, 3]}]}
QUESTIONS = {"questions": [{"id": 1, "question": "Are there apples?"}, {"id": 2, "question": "Are there two apples?"},
                           {"id": 3, "question": "Is there a table?"}, {"id": 4, "question": "Are the apples on the table?"}]}
CYCLIC = {"dependencies": [{"id": 1, "parents": [4]}, {"id": 2, "parents": [1]}, {"id": 3, "parents": []},
                           {"id": 4, "parents": [1, 3]}]}
DANGLING = {"dependencies": [{"id": 1, "parents": []}, {"id": 2, "parents": [7]}, {"id": 3, "parents": []},
                             {"id": 4, "parents": [1, 3]}]}


def step(body: dict) -> str:
    return body["response_format"]["json_schema"]["name"]


def scripted(replies: dict[str, list]):
    """Per step, the replies in order (the last one repeats)."""
    seen: dict[str, int] = {}

    def script(body, n):
        name = step(body)
        i = seen.get(name, 0)
        seen[name] = i + 1
        seq = replies[name]
        r = seq[min(i, len(seq) - 1)]
        return Reply(content=r if isinstance(r, str) else json.dumps(r))

    return script


@pytest.fixture
def backend(judge_server):
    return OpenAIBackend("judge", base_url=judge_server.url, api_key="test", max_attempts=1)


def generate_questions(prompts, backend, **kw):
    async def go():
        try:
            return await generate_questions_async(prompts, backend, **kw)
        finally:
            await backend.aclose()  # the client belongs to this event loop

    return asyncio.run(go())


def test_dsg_three_steps_make_a_graph_that_round_trips(judge_server, backend, tmp_path):
    judge_server.script = scripted({"tuplesout": [TUPLES], "dependenciesout": [DEPS], "questionsout": [QUESTIONS]})
    gen = generate_questions([("p1", "two apples on a table")], backend, style="dsg")
    assert gen.failures == {}
    g = gen.graphs["p1"]
    assert [(q.id, q.text, q.parents) for q in g.questions] == [
        (1, "Are there apples?", ()), (2, "Are there two apples?", (1,)), (3, "Is there a table?", ()),
        (4, "Are the apples on the table?", (1, 3))]
    assert g.by_id()[4].tuple == "relation - spatial (apples, table, on)" and g.by_id()[2].category == "attribute"
    # Text-only requests with a strict, closed schema.
    body = judge_server.received[0]
    assert "image_url" not in json.dumps(body["messages"])
    assert body["response_format"]["json_schema"]["schema"]["additionalProperties"] is False
    assert "two apples on a table" in json.dumps(body["messages"])
    save_questions(gen.graphs.values(), tmp_path / "q.csv")
    assert load_questions(tmp_path / "q.csv")["p1"].questions == g.questions


def test_malformed_reply_is_retried(judge_server, backend):
    judge_server.script = scripted({"tuplesout": ["not json at all", {"tuples": [{"id": 1, "kind": "thing"}]}, TUPLES],
                                    "dependenciesout": [DEPS], "questionsout": [QUESTIONS]})
    gen = generate_questions([("p1", "two apples on a table")], backend, style="dsg", retries=2)
    assert gen.failures == {} and len(gen.graphs["p1"]) == 4
    assert sum(step(b) == "tuplesout" for b in judge_server.received) == 3
    seeds = [b["seed"] for b in judge_server.received if step(b) == "tuplesout"]
    assert seeds == [0, 1, 2]  # a retry is a different request, not the cached same one


def test_cyclic_dependencies_are_rejected_with_the_cycle(judge_server, backend):
    judge_server.script = scripted({"tuplesout": [TUPLES], "dependenciesout": [CYCLIC], "questionsout": [QUESTIONS]})
    gen = generate_questions([("p1", "two apples on a table")], backend, style="dsg", retries=1)
    assert gen.graphs == {}
    assert "dependency cycle 1 -> 4 -> 1" in gen.failures["p1"]
    assert sum(step(b) == "dependenciesout" for b in judge_server.received) == 2


def test_cycle_then_valid_reply_recovers(judge_server, backend):
    judge_server.script = scripted({"tuplesout": [TUPLES], "dependenciesout": [CYCLIC, DEPS], "questionsout": [QUESTIONS]})
    gen = generate_questions([("p1", "two apples on a table")], backend, style="dsg")
    assert gen.failures == {} and gen.graphs["p1"].by_id()[1].parents == ()


def test_unknown_parent_is_rejected_with_its_id(judge_server, backend):
    judge_server.script = scripted({"tuplesout": [TUPLES], "dependenciesout": [DANGLING], "questionsout": [QUESTIONS]})
    gen = generate_questions([("p1", "x"), ("p2", "y")], backend, style="dsg", retries=0)
    assert set(gen.failures) == {"p1", "p2"}
    assert "question 2 -> [7]" in gen.failures["p1"]


def test_questions_that_miss_a_tuple_are_rejected(judge_server, backend):
    short = {"questions": QUESTIONS["questions"][:3]}
    judge_server.script = scripted({"tuplesout": [TUPLES], "dependenciesout": [DEPS], "questionsout": [short]})
    gen = generate_questions([("p1", "x")], backend, style="dsg", retries=0)
    assert "missing ids [4]" in gen.failures["p1"]


TIFA = {"questions": [
    {"question": "Are there apples?", "choices": ["yes", "no"], "answer": "yes", "element_type": "object", "element": "apples"},
    {"question": "How many apples are there?", "choices": ["one", "two", "three"], "answer": "two",
     "element_type": "counting", "element": "two"},
    {"question": "What color are the apples?", "choices": ["red", "green"], "answer": "red",
     "element_type": "color", "element": "apples"},
]}


def test_tifa_questions_with_the_answerability_filter(judge_server, backend, tmp_path):
    # The description never says what color the apples are: the text-only answer is "unknown",
    # so question 3 is dropped.
    check = {"answers": [{"index": 1, "answer": "yes"}, {"index": 2, "answer": "two"}, {"index": 3, "answer": "unknown"}]}
    judge_server.script = scripted({"tifaout": [TIFA], "checkout": [check]})
    gen = generate_questions([("p1", "two apples on a table")], backend, style="tifa")
    g = gen.graphs["p1"]
    assert [q.text for q in g.questions] == ["Are there apples?", "How many apples are there?"]
    assert g.questions[1].choices == ("one", "two", "three") and g.questions[1].category == "counting"
    assert [d["question"] for d in g.meta["dropped"]] == ["What color are the apples?"]
    save_questions(gen.graphs.values(), tmp_path / "q.json")
    saved = json.loads((tmp_path / "q.json").read_text())
    assert saved[1]["answer"] == "two" and saved[1]["element_type"] == "counting"


def test_tifa_gold_answer_outside_choices_is_invalid(judge_server, backend):
    bad = {"questions": [dict(TIFA["questions"][1], answer="four")]}
    judge_server.script = scripted({"tifaout": [bad], "checkout": [{"answers": []}]})
    gen = generate_questions([("p1", "x")], backend, style="tifa", retries=1)
    assert "not one of the choices" in gen.failures["p1"]


def test_questions_cli_generate_and_check(judge_server, tmp_path, capsys):
    from judgekit.cli import main

    judge_server.script = scripted({"tuplesout": [TUPLES], "dependenciesout": [DEPS], "questionsout": [QUESTIONS]})
    prompts = tmp_path / "m.jsonl"
    prompts.write_text('{"id": "s1", "prompt_id": "p1", "prompt": "two apples on a table"}\n'
                       '{"id": "s2", "prompt_id": "p1", "prompt": "two apples on a table"}\n')
    out = tmp_path / "q.csv"
    rc = main(["questions", "generate", "--style", "dsg", "--prompts", str(prompts), "--backend", "openai:judge",
               "--base-url", judge_server.url, "--out", str(out), "--no-cache"])
    assert rc == 0 and "1 of 1 prompts -> 4 questions" in capsys.readouterr().out
    assert sum(step(b) == "tuplesout" for b in judge_server.received) == 1  # one prompt id, asked once
    assert main(["questions", "check", str(out)]) == 0
    assert "4 questions, no issues" in capsys.readouterr().out
