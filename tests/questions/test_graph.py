"""Question graphs: DAG validation with offending ids, and save/load in both file schemas."""

import pytest

from judgekit.datasets.dsg import load_dsg_csv
from judgekit.datasets.questions import load_questions, save_questions
from judgekit.errors import GraphError
from judgekit.questions.graph import Question, QuestionGraph


def test_unknown_parents_are_rejected_with_their_ids():
    with pytest.raises(GraphError) as e:
        QuestionGraph("x", "p", [Question(1, "a?"), Question(2, "b?", parents=(1, 7)), Question(3, "c?", parents=(9,))])
    assert e.value.unknown == {2: [7], 3: [9]}
    assert "question 2 -> [7]" in str(e.value)


def test_cycles_are_rejected_with_the_cycle():
    with pytest.raises(GraphError) as e:
        QuestionGraph("x", "p", [Question(1, "a?", parents=(3,)), Question(2, "b?", parents=(1,)),
                                 Question(3, "c?", parents=(2,)), Question(4, "d?")])
    assert sorted(e.value.cycle) == [1, 2, 3]
    assert "cycle" in str(e.value)
    with pytest.raises(GraphError, match="cycle 5 -> 5"):
        QuestionGraph("x", "p", [Question(5, "self?", parents=(5,))])


def test_repeated_ids_are_rejected():
    with pytest.raises(GraphError, match=r"repeated question ids \[1\]"):
        QuestionGraph("x", "p", [Question(1, "a?"), Question(1, "b?")])


def test_topological_order_and_ancestors():
    g = QuestionGraph("x", "p", [Question(3, "c?", parents=(2,)), Question(2, "b?", parents=(1,)), Question(1, "a?")])
    assert [q.id for q in g.topological_order()] == [1, 2, 3]
    assert g.ancestors(3) == {1, 2}
    assert all(not q.parents for q in g.without_dependencies())


def _graphs():
    return [
        QuestionGraph("p1", "a red car, on a road", [
            Question(1, "Is there a car?", category="entity", category_detailed="whole", tuple="entity - whole (car)", keywords="car"),
            Question(2, "Is the car red?", parents=(1,), category="attribute", category_detailed="color"),
            Question(3, "Is there a road?", category="entity"),
            Question(4, "Is the car on the road?", parents=(1, 3), category="relation"),
        ]),
        QuestionGraph("p2", "two cats", [Question(1, "How many cats?", choices=("one", "two"), answer="two", category="counting")]),
    ]


def test_dsg_csv_round_trip(tmp_path):
    path = tmp_path / "q.csv"
    save_questions(_graphs()[:1], path)
    back = load_dsg_csv(path)
    assert not back.issues
    assert back.graphs["p1"].questions == _graphs()[0].questions
    assert path.read_text().splitlines()[0] == (
        "item_id,text,keywords,proposition_id,dependency,category_broad,category_detailed,tuple,question_natural_language")


def test_tifa_json_round_trip(tmp_path):
    path = tmp_path / "q.json"
    save_questions(_graphs(), path)
    back = load_questions(path)
    assert back["p2"].questions[0].choices == ("one", "two") and back["p2"].questions[0].answer == "two"
    assert [q.text for q in back["p1"].questions] == [q.text for q in _graphs()[0].questions]
    assert all(not q.parents for q in back["p1"].questions)  # TIFA's schema has no dependencies
