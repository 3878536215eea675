"""Battle tables: reading battles files and judgekit pairwise results, bad input, and the
converters from Likert scores and rankings (worked examples and the real GenAI-Bench and
ImageReward files vendored in tests/data/)."""

from __future__ import annotations

import json
from math import comb
from pathlib import Path

import numpy as np
import pytest

from judgekit.datasets.battles import read_battles, read_genai_bench, write_battles
from judgekit.errors import DataError
from judgekit.resources import data_path
from judgekit.stats.battle_converters import battles_from_rankings, battles_from_scores
from judgekit.stats.battles import BattleCounts, Battles

DATA = Path(__file__).parent.parent / "data"
GENAI = data_path("calibration", "genai_bench", "genai_image_527_human_ratings.json")  # vendored by calibration
IMAGEREWARD = DATA / "imagereward" / "test.json"


def rec(a, b, w, p=None, **kw):
    d = {"model_a": a, "model_b": b, "winner": w, **kw}
    if p is not None:
        d["prompt_id"] = p
    return d


def test_winner_labels_and_model_names_map_to_model_a_scores():
    b = Battles.from_records(
        [
            rec("x", "y", "model_a"),
            rec("x", "y", "model_b"),
            rec("x", "y", "tie"),
            rec("x", "y", "tie (bothbad)"),
            rec("x", "y", "y"),  # the winner's own name
            rec("y", "x", "y"),
        ]
    )
    assert b.models == ("x", "y")
    assert b.score.tolist() == [1.0, 0.0, 0.5, 0.5, 0.0, 1.0]
    assert b.a.tolist() == [0, 0, 0, 0, 0, 1]


@pytest.mark.parametrize("winner", ["A", "model_c", "", None, 1, "Tie"])
def test_unknown_winner_value_is_an_error_naming_the_record(winner):
    with pytest.raises(DataError, match=r"record 2: winner"):
        Battles.from_records([rec("x", "y", "tie"), rec("x", "y", winner)])


def test_bad_tables_are_errors():
    with pytest.raises(DataError, match="both 'x'"):
        Battles.from_records([rec("x", "x", "tie")])
    with pytest.raises(DataError, match="no usable battles"):
        Battles.from_records([])
    with pytest.raises(DataError, match="missing model_b"):
        Battles.from_records([{"model_a": "x", "winner": "tie"}])
    with pytest.raises(DataError, match="pointwise results"):
        Battles.from_records([{"sample_id": "s", "model": "x", "status": "ok", "overall": 3}])
    with pytest.raises(DataError, match="no battles"):
        Battles.from_arrays([], [], [])
    with pytest.raises(DataError, match="score must be 1"):
        Battles.from_arrays(["x"], ["y"], [0.7])


def test_declared_models_catch_a_misspelt_name():
    recs = [rec("sdxl", "dalle3", "model_a"), rec("sdxl", "dall-e3", "model_b")]
    with pytest.raises(DataError, match=r"not in the declared list .*'dall-e3'"):
        Battles.from_records(recs, models=["sdxl", "dalle3"])
    assert Battles.from_records(recs).models == ("dall-e3", "dalle3", "sdxl")


def test_judgekit_pairwise_results_failed_and_inconsistent_rows():
    rows = [
        {"sample_id": "1", "rubric": "pairwise-t2i", "status": "ok", "prompt_id": "p1", **rec("x", "y", "model_a")},
        {"sample_id": "2", "rubric": "pairwise-t2i", "status": "failed", "model_a": "x", "model_b": "y", "winner": None},
        {"sample_id": "3", "rubric": "pairwise-t2i", "status": "ok", "prompt_id": "p2", **rec("x", "y", "inconsistent")},
    ]
    tie = Battles.from_records(rows)
    assert tie.score.tolist() == [1.0, 0.5]
    assert tie.skipped == {"failed": 1}
    drop = Battles.from_records(rows, inconsistent="drop")
    assert drop.score.tolist() == [1.0]
    assert drop.skipped == {"failed": 1, "inconsistent": 1}
    dims = [dict(rows[0], winners={"quality": "model_b"})]
    assert Battles.from_records(dims, dimension="quality").score.tolist() == [0.0]
    with pytest.raises(DataError, match="no winner for dimension 'style'"):
        Battles.from_records(dims, dimension="style")


def test_prompt_ids_become_groups_and_missing_ones_are_their_own_group():
    b = Battles.from_records([rec("x", "y", "tie", "p1"), rec("x", "z", "tie", "p1"), rec("y", "z", "tie")])
    assert b.group[0] == b.group[1] != b.group[2]
    assert len(b.groups) == 2


@pytest.mark.parametrize("suffix", [".jsonl", ".csv"])
def test_files_round_trip(tmp_path, suffix):
    b = Battles.from_records([rec("x", "y", "model_a", "p1"), rec("y", "z", "tie", "p2"), rec("z", "x", "model_b", "p2")])
    path = tmp_path / f"battles{suffix}"
    write_battles(b, path)
    back = read_battles(path)
    assert back.models == b.models
    np.testing.assert_array_equal(back.score, b.score)
    assert back.to_records() == b.to_records()


def test_file_errors_name_the_file_and_line(tmp_path):
    p = tmp_path / "b.jsonl"
    p.write_text(json.dumps(rec("x", "y", "tie")) + "\n{not json\n")
    with pytest.raises(DataError, match=r"b.jsonl:2"):
        read_battles(p)
    c = tmp_path / "b.csv"
    c.write_text("a,b,winner\nx,y,tie\n")
    with pytest.raises(DataError, match=r"lacks \['model_a', 'model_b'\]"):
        read_battles(c)
    c.write_text("model_a,model_b,winner\nx,y,tie\nx,y,draw\n")
    with pytest.raises(DataError, match=r"b.csv: record 2: winner 'draw'"):
        read_battles(c)
    with pytest.raises(DataError, match="no such file"):
        read_battles(tmp_path / "nope.csv")
    j = tmp_path / "list.json"
    j.write_text(json.dumps([rec("x", "y", "model_b")]))
    assert read_battles(j).score.tolist() == [0.0]


# --- converters ---------------------------------------------------------------------------------


def test_scores_to_battles_worked_example():
    scores = {"p1": {"m1": [5, 4], "m2": [3, 4], "m3": [4.5, 4.5]}, "p2": {"m1": 2, "m3": 3}}
    mean = battles_from_scores(scores)
    # p1 means: m1 4.5, m2 3.5, m3 4.5 -> m1>m2, m1=m3, m3>m2; p2: m3>m1
    assert [(r["model_a"], r["model_b"], r["winner"], r["prompt_id"]) for r in mean.to_records()] == [
        ("m1", "m2", "model_a", "p1"),
        ("m1", "m3", "tie", "p1"),
        ("m2", "m3", "model_b", "p1"),
        ("m1", "m3", "model_b", "p2"),
    ]
    # per rater on p1: rater 1 (5,3,4.5), rater 2 (4,4,4.5)
    per = battles_from_scores({"p1": scores["p1"]}, aggregate="per_rater")
    assert [r["winner"] for r in per.to_records()] == ["model_a", "tie", "model_a", "model_b", "model_b", "model_b"]
    margin = battles_from_scores({"p1": scores["p1"]}, tie_margin=1.0)
    assert [r["winner"] for r in margin.to_records()] == ["tie", "tie", "tie"]


def test_scores_converter_errors():
    with pytest.raises(DataError, match="same number of ratings"):
        battles_from_scores({"p": {"a": [1, 2], "b": [3]}}, aggregate="per_rater")
    with pytest.raises(DataError, match="finite"):
        battles_from_scores({"p": {"a": [1, float("nan")], "b": [3]}})
    with pytest.raises(DataError, match="at least two models"):
        battles_from_scores({"p": {"a": [1]}})
    with pytest.raises(DataError, match="aggregate"):
        battles_from_scores({"p": {"a": 1, "b": 2}}, aggregate="median")


def test_rankings_to_battles_worked_example():
    items = [
        {"id": "p", "generations": ["g1", "g2", "g3", "g4"], "ranking": [1, 2, 5, 2]},
    ]
    b = battles_from_rankings(items)
    got = [(r["model_a"], r["model_b"], r["winner"]) for r in b.to_records()]
    assert got == [
        ("g1", "g2", "model_a"),
        ("g1", "g3", "model_a"),
        ("g1", "g4", "model_a"),
        ("g2", "g3", "model_a"),
        ("g2", "g4", "tie"),
        ("g3", "g4", "model_b"),
    ]
    dropped = battles_from_rankings(items, ties="drop")
    assert len(dropped) == 5 and dropped.skipped == {"tie": 1}
    named = battles_from_rankings(items, names=lambda item, k: f"{item['id']}#{k}")
    assert named.models[0] == "p#0"


def test_rankings_converter_errors():
    with pytest.raises(DataError, match="3 names but 2 ranks"):
        battles_from_rankings([{"id": "p", "generations": ["a", "b", "c"], "ranking": [1, 2]}])
    with pytest.raises(DataError, match="list of numbers"):
        battles_from_rankings([{"id": "p", "generations": ["a", "b"], "ranking": "12"}])
    with pytest.raises(DataError, match="no 'models' list"):
        battles_from_rankings([{"id": "p", "ranking": [1, 2]}], names="models")
    with pytest.raises(DataError, match="not distinct"):
        battles_from_rankings([{"id": "p", "generations": ["a", "a"], "ranking": [1, 2]}])


def test_real_imagereward_rankings():
    items = json.loads(IMAGEREWARD.read_text())
    assert len(items) == 466
    all_pairs = sum(comb(len(it["ranking"]), 2) for it in items)
    b = battles_from_rankings(items)
    untied = battles_from_rankings(items, ties="drop")
    # PROVENANCE.md: 6,399 untied pairs
    assert len(untied) == 6399
    assert len(b) == all_pairs == 6399 + untied.skipped["tie"]
    assert int((b.score == 0.5).sum()) == untied.skipped["tie"]
    assert len(b.groups) == 466
    # spot check the first prompt: ranking [1, 2, 5, 3] -> generation 0 beats all, 2 loses to all
    first = [r for r in b.to_records() if r["prompt_id"] == items[0]["id"]]
    gens = items[0]["generations"]
    assert {r["winner"] for r in first if r["model_a"] == gens[0]} == {"model_a"}
    assert {r["winner"] for r in first if r["model_b"] == gens[2]} == {"model_a"}


def test_real_genai_bench_scores():
    scores = read_genai_bench(GENAI)
    assert len(scores) == 527
    assert all(len(m) == 6 and all(len(v) == 3 for v in m.values()) for m in scores.values())
    b = battles_from_scores(scores)
    assert len(b) == 527 * 15 and len(b.groups) == 527
    per = battles_from_scores(scores, aggregate="per_rater")
    assert len(per) == 3 * 527 * 15
    # prompt 00001: DALLE_3 rated 5,5,5 beats every other model on the mean
    p1 = [r for r in b.to_records() if r["prompt_id"] == "00001" and "DALLE_3" in (r["model_a"], r["model_b"])]
    assert len(p1) == 5
    assert all(r[r["winner"]] == "DALLE_3" for r in p1)


# --- cell counts and their resampling -----------------------------------------------------------


def test_counts_aggregate_pairs_and_resample_whole_groups():
    b = Battles.from_records(
        [rec("x", "y", "model_a", "p1"), rec("y", "x", "model_a", "p1"), rec("x", "z", "tie", "p2"), rec("x", "y", "tie", "p3")]
    )
    c = BattleCounts(b)
    n, s = c.pair_totals(c.total)
    pairs = {(b.models[i], b.models[j]): (nn, ss) for i, j, nn, ss in zip(c.pair_lo, c.pair_hi, n, s, strict=True)}
    assert pairs == {("x", "y"): (3.0, 1.5), ("x", "z"): (1.0, 0.5)}
    # groups p2 and p3 differ, so 3 distinct group contents; each resample holds 3 whole groups
    group_cells = [np.array(v) for v in ([1, 1, 0, 0], [0, 0, 0, 1], [0, 0, 1, 0])]
    draws = np.concatenate(list(c.resample(500, np.random.default_rng(0), chunk=64)))
    assert draws.shape == (500, c.total.size)
    for row in draws:
        # every resample is a sum of exactly 3 group contents
        sol = np.linalg.lstsq(np.array(group_cells).T, row, rcond=None)[0]
        assert np.allclose(np.array(group_cells).T @ np.round(sol), row) and round(sol.sum()) == 3
    assert np.allclose(draws.mean(axis=0), c.total, atol=0.15)


def test_position_labels_win_over_model_names():
    # Models literally named like the labels: "model_b" is the second position, not the model
    # called model_b that sits first (the bug scored it as a win for the first-listed model).
    recs = [{"model_a": "model_b", "model_b": "model_a", "winner": "model_b", "prompt_id": "p1"},
            {"model_a": "model_c", "model_b": "model_b", "winner": "model_a", "prompt_id": "p2"}]
    b = Battles.from_records(recs)
    wlt = dict(zip(b.models, b.record_counts().tolist(), strict=True))
    assert wlt["model_a"] == [1, 0, 0] and wlt["model_b"] == [0, 2, 0] and wlt["model_c"] == [1, 0, 0]


def test_names_and_colliding_labels_in_one_source_are_refused():
    recs = [{"model_a": "x", "model_b": "y", "winner": "x"},  # a winner given by name
            {"model_a": "model_b", "model_b": "z", "winner": "model_b"}]  # name or position?
    with pytest.raises(DataError, match=r"record 2: winner 'model_b' while model_a is named 'model_b'.*ambiguous"):
        Battles.from_records(recs)
    # The same names with winners given by name only are fine.
    ok = Battles.from_records([{"model_a": "x", "model_b": "y", "winner": "y"}, {"model_a": "model_b", "model_b": "z", "winner": "z"}])
    assert ok.score.tolist() == [0.0, 0.0]
