"""Hand-worked graphs for every question scoring rule, and TIFA's published sample result."""

import json
from pathlib import Path

import pytest

from judgekit.datasets.tifa import load_tifa_questions
from judgekit.errors import ConfigError
from judgekit.questions.graph import Question, QuestionGraph
from judgekit.questions.scoring import is_yes, map_to_choice, score_graph

DATA = Path(__file__).parent.parent / "data"


def dog_graph() -> QuestionGraph:
    # 1 dog?  2 brown? (1)  3 ball?  4 chasing? (1,3)  5 ball in mouth? (4): 5 is 1's grandchild
    return QuestionGraph("dog", "a brown dog chasing a ball, holding it in its mouth", [
        Question(1, "Is there a dog?", category="entity"),
        Question(2, "Is the dog brown?", parents=(1,), category="attribute"),
        Question(3, "Is there a ball?", category="entity"),
        Question(4, "Is the dog chasing the ball?", parents=(1, 3), category="relation"),
        Question(5, "Is the ball in the dog's mouth?", parents=(4,), category="relation"),
    ])


PARENT_FAILS = {1: "no", 2: "yes", 3: "yes", 4: "yes", 5: "yes"}


def test_all_yes_scores_full_under_every_rule():
    yes = {i: "yes" for i in range(1, 6)}
    assert score_graph("dsg", dog_graph(), yes).score == 1.0
    assert score_graph("dpg", dog_graph(), yes).score == 100.0
    assert score_graph("mean", dog_graph(), yes).score == 1.0
    assert score_graph("all", dog_graph(), yes).score == 1.0


def test_dsg_parent_fails_zeroes_children_one_level():
    res = score_graph("dsg", dog_graph(), PARENT_FAILS)
    per_q = {q["id"]: q["score"] for q in res.questions}
    # 2 and 4 lose their credit because parent 1 is "no"; 5's parent (4) itself said yes, so the
    # grandparent's no does not reach it under DSG's one-level rule.
    assert per_q == {1: 0.0, 2: 0.0, 3: 1.0, 4: 0.0, 5: 1.0}
    assert res.score == pytest.approx(2 / 5)
    assert {q["id"]: q["gated_by"] for q in res.questions}[4] == [1]


def test_dpg_grandparent_fails_propagates_transitively():
    res = score_graph("dpg", dog_graph(), PARENT_FAILS)
    per_q = {q["id"]: q["score"] for q in res.questions}
    assert per_q == {1: 0.0, 2: 0.0, 3: 1.0, 4: 0.0, 5: 0.0}  # 5 zeroed through 4
    assert res.score == pytest.approx(100 * 1 / 5)


def test_dpg_follows_file_order_not_topological_order():
    # The child is listed before its parent: DPG-Bench's in-place loop has not zeroed the
    # parent yet when it reaches the child, so the child keeps its credit.
    g = QuestionGraph("order", "a red cup on a table", [
        Question(1, "Is the cup red?", parents=(2,)),
        Question(2, "Is the cup on the table?", parents=(3,)),
        Question(3, "Is there a table?"),
    ])
    answers = {1: "yes", 2: "yes", 3: "no"}
    assert [q["score"] for q in score_graph("dpg", g, answers).questions] == [1.0, 0.0, 0.0]
    assert score_graph("dpg", g, answers).score == pytest.approx(100 / 3)
    assert score_graph("dsg", g, answers).score == pytest.approx(1 / 3)


def test_mean_ignores_dependencies_and_all_needs_every_yes():
    assert score_graph("mean", dog_graph(), PARENT_FAILS).score == pytest.approx(4 / 5)
    assert score_graph("all", dog_graph(), PARENT_FAILS).score == 0.0


def test_missing_parent_answer_fails_by_default_and_is_never_a_zero():
    answers = {2: "yes", 3: "yes", 4: "yes", 5: "yes"}  # question 1 unanswered
    res = score_graph("dsg", dog_graph(), answers)
    assert res.score is None and res.missing == [1] and "1" in res.error


def test_missing_parent_answer_skip_leaves_out_what_depends_on_it():
    answers = {2: "yes", 3: "yes", 4: "yes", 5: "yes"}
    dsg = score_graph("dsg", dog_graph(), answers, on_missing="skip")
    assert dsg.skipped == [1, 2, 4] and dsg.score == 1.0  # 3 and 5 counted (5's parent 4 answered)
    dpg = score_graph("dpg", dog_graph(), answers, on_missing="skip")
    assert dpg.skipped == [1, 2, 4, 5] and dpg.score == 100.0  # undetermined propagates too


def test_yes_means_exactly_yes():
    assert is_yes(" Yes.") and is_yes("YES")
    assert not is_yes("no bus") and not is_yes("yes 1000000") and not is_yes(None)


def test_category_means_after_and_before_dependencies():
    res = score_graph("dsg", dog_graph(), PARENT_FAILS)
    assert res.category_means() == {"attribute": 0.0, "entity": 0.5, "relation": 0.5}
    assert res.category_means("raw") == {"attribute": 1.0, "entity": 0.5, "relation": 1.0}


def test_tifa_maps_free_answers_to_choices():
    g = QuestionGraph("c", "two red apples", [
        Question(1, "How many apples?", choices=("one", "two", "three"), answer="two", category="counting"),
        Question(2, "What color are the apples?", choices=("red", "green"), answer="red", category="color"),
        Question(3, "Are there apples?", category="object"),
    ])
    res = score_graph("tifa", g, {1: "I see two apples", 2: "green", 3: "Yes"})
    assert [q["choice"] for q in res.questions] == ["two", "green", "yes"]
    assert res.score == pytest.approx(2 / 3)
    assert res.category_means() == {"color": 0.0, "counting": 1.0, "object": 1.0}
    assert map_to_choice("", ["a", "b"]) is None


def test_tifa_reproduces_the_published_sample_result():
    graphs = load_tifa_questions(DATA / "tifa" / "sample_question_answers.json")
    ref = json.loads((DATA / "tifa" / "sample_evaluation_result.json").read_text())
    scores, by_type = [], {}
    for item, g in graphs.items():
        given = ref["question_details"][item]
        answers = {q.id: given[q.text]["free_form_vqa"] for q in g.questions}
        res = score_graph("tifa", g, answers)
        scores.append(res.score)
        for q in res.questions:
            by_type.setdefault(q["category"], []).append(q["score"])
    assert sum(scores) / len(scores) == pytest.approx(ref["tifa_average"])
    assert {k: sum(v) / len(v) for k, v in by_type.items()} == pytest.approx(ref["accuracy_by_type"])


def test_unknown_rule_is_a_clear_error():
    with pytest.raises(ConfigError, match="unknown question scoring rule"):
        score_graph("median", dog_graph(), {})
