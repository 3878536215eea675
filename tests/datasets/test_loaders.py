"""Loaders on the real benchmark files (vendored in tests/data and calibration/)."""

import json
from collections import Counter
from pathlib import Path

import pytest

from judgekit.datasets.answers import load_answers
from judgekit.datasets.dpg import load_dpg_prompts
from judgekit.datasets.dsg import load_dsg_csv
from judgekit.datasets.geneval import load_geneval, plural
from judgekit.datasets.longtext import load_longtext
from judgekit.datasets.tifa import load_tifa_questions
from judgekit.errors import DataError
from judgekit.resources import data_path

DATA = Path(__file__).parent.parent / "data"


@pytest.fixture(scope="module")
def dsg1k():
    return load_dsg_csv(DATA / "dsg" / "dsg-1k-anns.csv.gz")


def test_dsg1k_keeps_every_row_and_every_item(dsg1k):
    assert dsg1k.n_rows == 8182
    assert len(dsg1k.graphs) == 1060  # no item's graph is dropped
    assert dsg1k.n_questions == 8182  # no question is dropped either


def test_dsg1k_malformed_dependency_cells_are_reported_by_line_and_repaired(dsg1k):
    tokens = {(i.line, i.item_id, i.question_id, i.value) for i in dsg1k.issues if "names no question" in i.detail}
    assert tokens == {
        (185, "posescript_69", 9, "5, right"), (1072, "posescript_41", 10, "5, outward"),
        (2245, "posescript_55", 8, "2, ground"), (3196, "stanford_paragraph_54", 13, "5, background"),
        (4701, "tifa160_67", 8, "1, outside"), (5018, "stanford_paragraph_55", 10, "1, baseball bat"),
        (5777, "stanford_paragraph_72", 14, "6, air"), (7610, "posescript_19", 8, "3, air"),
        (7612, "posescript_19", 10, "4, air"), (7614, "posescript_19", 12, "5, air"),
    }
    assert dsg1k.graphs["posescript_69"].by_id()[9].parents == (5,)
    assert dsg1k.graphs["posescript_19"].by_id()[12].parents == (5,)


def test_dsg1k_other_problems_are_reported_precisely(dsg1k):
    kinds = Counter()
    for i in dsg1k.issues:
        kind = ("token" if "names no question" in i.detail else "self" if "itself" in i.detail
                else "unknown" if "not questions of the item" in i.detail else "cycle" if "cycle" in i.detail else "?")
        kinds[(kind, i.action)] += 1
    assert kinds == {("token", "repaired"): 10, ("self", "repaired"): 44, ("unknown", "repaired"): 8,
                     ("cycle", "skipped"): 8}
    # tifa160_134 has no question 1, yet its questions name it as parent.
    g = dsg1k.graphs["tifa160_134"]
    assert 1 not in g.by_id() and g.by_id()[5].parents == (2,)
    # drawtext_45: 10 <-> 11; the cycle's links go, the rest of the graph stays.
    d = dsg1k.graphs["drawtext_45"].by_id()
    assert d[10].parents == () and d[11].parents == (2,) and d[3].parents == (2,)


def test_tifa160_question_files():
    demo = load_dsg_csv(data_path("calibration", "dsg_tifa160", "tifa160-dsg1k-anns.csv"))
    assert (demo.n_rows, len(demo.graphs), demo.n_questions) == (929, 160, 929)
    dev = load_dsg_csv(DATA / "dsg" / "tifa160-dev-anns.csv")
    assert dev.n_rows == 920 and len(dev.graphs) == 160
    blank = [i for i in dev.issues if i.column == "question_natural_language"]
    repeated = [i for i in dev.issues if "repeats" in i.detail]
    assert len(blank) == 77 and len(repeated) == 2
    assert dev.n_questions == 920 - 77 - 2


def test_malformed_cells_in_a_small_file(tmp_path):
    p = tmp_path / "q.csv"
    p.write_text(
        "item_id,text,keywords,proposition_id,dependency,category_broad,category_detailed,tuple,question_natural_language\n"
        "a,a man and a horse,man,1,0,entity,whole,entity - whole (man),Is there a man?\n"
        "a,a man and a horse,horse,2,0,entity,whole,entity - whole (horse),Is there a horse?\n"
        "a,a man and a horse,,3,\"1, horse\",relation,action,\"relation - action (man, horse, ride)\",Is the man riding the horse?\n"
        "a,a man and a horse,,4,\"sky\",relation,spatial,\"relation - spatial (man, sky, under)\",Is the man under the sky?\n"
        "a,a man and a horse,,x,0,entity,whole,,Is there a bad id?\n"
        "a,a man and a horse,,5,,attribute,color,,Is the horse brown?\n"
    )
    load = load_dsg_csv(p)
    g = load.graphs["a"].by_id()
    assert g[3].parents == (1, 2)  # "horse" names question 2's entity: repaired to its id
    assert 4 not in g  # no usable id in "sky": the row is skipped, only that row
    assert g[5].parents == ()  # a blank cell reads as root, reported
    actions = {(i.line, i.action) for i in load.issues}
    assert actions == {(4, "repaired"), (5, "skipped"), (6, "skipped"), (7, "repaired")}
    assert "line 5" in load.report()


def test_missing_columns_are_a_data_error(tmp_path):
    p = tmp_path / "bad.csv"
    p.write_text("a,b\n1,2\n")
    with pytest.raises(DataError, match="missing columns"):
        load_dsg_csv(p)


def test_tifa_sample_questions():
    graphs = load_tifa_questions(DATA / "tifa" / "sample_question_answers.json")
    assert list(graphs) == ["coco_301091", "drawbench_52"]
    assert [len(g) for g in graphs.values()] == [11, 8]
    q = graphs["coco_301091"].questions[1]
    assert q.choices == ("surfer", "swimmer", "diver", "skier") and q.answer == "surfer"
    assert q.category == "animal/human"


def test_geneval_metadata_to_questions():
    graphs = load_geneval(DATA / "geneval" / "evaluation_metadata.jsonl")
    assert len(graphs) == 553
    assert Counter(g.meta["tag"] for g in graphs.values()) == {
        "single_object": 80, "two_object": 99, "counting": 80, "colors": 94, "position": 100, "color_attr": 100}
    pos = next(g for g in graphs.values() if g.prompt == "a photo of a dog right of a teddy bear")
    assert [(q.text, q.parents) for q in pos.questions] == [
        ("Is there a teddy bear?", ()), ("Is there a dog?", ()), ("Is the dog right of the teddy bear?", (2, 1))]
    attr = next(g for g in graphs.values() if g.prompt == "a photo of a purple wine glass and a black apple")
    assert [q.text for q in attr.questions][2:] == ["Is the wine glass purple?", "Is the apple black?"]
    names = (DATA / "geneval" / "object_names.txt").read_text().split("\n")
    assert len([n for n in names if n.strip()]) == 80
    assert plural("person") == "people" and plural("wine glass") == "wine glasses" and plural("bus") == "buses"


def test_longtext_targets_and_languages():
    en = load_longtext(DATA / "longtext_bench" / "text_prompts.jsonl")
    zh = load_longtext(DATA / "longtext_bench" / "text_prompts_zh.jsonl")
    assert (len(en), len(zh)) == (160, 160)
    assert {i.language for i in en} == {"en"} and {i.language for i in zh} == {"zh"}
    assert en[0].targets[0] == "FRESH BREWS, EVERY MORNING, EVERY DAY"


def test_dpg_prompts():
    prompts = load_dpg_prompts(DATA / "dpg_bench" / "prompts")
    assert list(prompts)[:4] == ["0", "1", "2", "10"]
    assert prompts["1"].startswith("An eye-catching vibrant red pickup truck")
    assert len(prompts) == 12


def test_recorded_answers():
    ans = load_answers(data_path("calibration", "dsg_tifa160", "mplug_dsg_tifa160.csv"))
    assert len(ans) == 4605
    assert len(ans.pairs()) == 159 * 5  # tifa160_134 has no answers
    assert ans.get("tifa160_0", "sd2dot1", 4) == "yes"
    assert ans.get("tifa160_134", "sd2dot1", 2) is None


def test_recorded_answers_reject_a_repeated_key(tmp_path):
    p = tmp_path / "a.csv"
    p.write_text("item_id,t2i_model,question_id,answer\ni,m,1,yes\ni,m,1,no\n")
    with pytest.raises(DataError, match="second answer"):
        load_answers(p)


def test_vendored_files_have_provenance():
    text = (data_path("calibration", "dsg_tifa160", "PROVENANCE.md")).read_text()
    assert "Apache-2.0" in text and "7330119a39f7" in text
    assert json.loads((DATA / "tifa" / "sample_evaluation_result.json").read_text())["tifa_average"] == 0.8125


def test_load_questions_reads_geneval_metadata_directly():
    from judgekit.datasets.questions import load_questions

    graphs = load_questions(DATA / "geneval" / "evaluation_metadata.jsonl")
    assert len(graphs) == 553 and graphs["00000"].prompt == "a photo of a bench"
