"""Summaries warn, once, when a bootstrap CI rests on too few prompts (issue 15, item 16)."""

from __future__ import annotations

import warnings

import pytest

from judgekit.results import Results
from judgekit.summaries import MIN_RELIABLE_PROMPTS, SmallSampleWarning
from judgekit.types import Result


def _pointwise(prompts: int, models=("flux", "sdxl"), per_prompt: int = 2) -> Results:
    recs = [Result(sample_id=f"{m}-{p}-{k}", prompt_id=f"p{p}", model=m, rubric="r", status="ok",
                   overall=float((p * 7 + k) % 5), provenance={"kind": "pointwise"})
            for m in models for p in range(prompts) for k in range(per_prompt)]
    return Results(recs)


def _pairwise(prompts: int) -> Results:
    winners = ["model_a", "model_b", "tie"]
    recs = [Result(sample_id=f"pair{p}", prompt_id=f"p{p}", rubric="pw", status="ok", provenance={"kind": "pairwise"},
                   model_a="x", model_b="y", winner=winners[p % 3]) for p in range(prompts)]
    return Results(recs)


def test_few_prompts_warn_once_in_the_table_and_as_a_python_warning():
    res = _pointwise(4)  # 8 images per model, but only 4 prompts: the bootstrap resamples prompts
    with pytest.warns(SmallSampleWarning) as caught:
        summary = res.summary(n_boot=50)
    assert len(caught) == 1
    text = str(summary)
    assert text.count("unreliable") == 1 and "flux: 4, sdxl: 4" in text.splitlines()[-1]
    assert summary.notes == [str(caught[0].message)]
    assert [r["n"] for r in summary.rows] == [8, 8]  # the rows themselves are unchanged


def test_enough_prompts_do_not_warn():
    with warnings.catch_warnings():
        warnings.simplefilter("error", SmallSampleWarning)
        summary = _pointwise(MIN_RELIABLE_PROMPTS).summary(n_boot=50)
    assert summary.notes == [] and "unreliable" not in str(summary)


def test_only_the_models_short_of_prompts_are_named():
    many = _pointwise(MIN_RELIABLE_PROMPTS, models=("big",)).records
    few = _pointwise(3, models=("small",)).records
    with pytest.warns(SmallSampleWarning, match=r"small: 3\)") as caught:
        text = str(Results(many + few).summary(n_boot=50))
    assert len(caught) == 1 and "big" not in str(caught[0].message)
    assert "unreliable" in text


def test_pairwise_win_rates_over_few_prompts_warn():
    with pytest.warns(SmallSampleWarning, match=r"x: 5, y: 5") as caught:
        text = str(_pairwise(5).summary(n_boot=50))
    assert len(caught) == 1 and text.splitlines()[-1].startswith("warning: CIs over fewer than 10 prompts")
    with warnings.catch_warnings():
        warnings.simplefilter("error", SmallSampleWarning)
        assert "unreliable" not in str(_pairwise(12).summary(n_boot=50))


def test_a_model_that_won_every_battle_has_its_zero_width_interval_named():
    recs = [Result(sample_id=f"pair{p}", prompt_id=f"p{p}", rubric="pw", status="ok", provenance={"kind": "pairwise"},
                   model_a="x", model_b="y", winner="model_a") for p in range(12)]
    summary = Results(recs).summary(n_boot=50)
    rows = {r["model"]: r for r in summary.rows}
    assert (rows["x"]["win_rate"], rows["x"]["ci_low"], rows["x"]["ci_high"]) == (1.0, 1.0, 1.0)
    flat = [n for n in summary.notes if "zero-width interval" in n]
    assert len(flat) == 1 and "x (1.000)" in flat[0] and "y (0.000)" in flat[0]
    assert flat[0] in str(summary)  # printed under the table
    assert not any("zero-width" in n for n in _pairwise(12).summary(n_boot=50).notes)  # mixed outcomes: none


def test_the_cli_prints_the_note_once_under_the_table(judge_server, manifest_factory, tmp_path, capfd):
    from judgekit.cli import main

    m = manifest_factory(4)  # 2 prompts per model
    assert main(["score", "--rubric", "aesthetics-simple", "--data", str(m), "--backend", "openai:judge",
                 "--base-url", judge_server.url, "--out", str(tmp_path / "r.jsonl"), "--no-cache", "--no-progress"]) == 0
    out, err = capfd.readouterr()
    assert out.count("CIs over fewer than 10 prompts are unreliable") == 1
    assert "SmallSampleWarning" not in err


def test_tables_print_one_number_type_whatever_the_values_type():
    import numpy as np

    from judgekit.summaries import Summary

    rows = [{"model": "a", "n": 3, "failed": np.int64(0), "mean": 1, "ci_low": np.float32(0.5), "ci_high": 1.0},
            {"model": "b", "n": 3.0, "failed": 1, "mean": 1.0, "ci_low": float("nan"), "ci_high": None}]
    a, b = str(Summary(rows)).splitlines()[1:]
    assert a.split() == ["a", "3", "0", "1.000", "0.500", "1.000"]
    assert b.split() == ["b", "3", "1", "1.000", "n/a"]  # never "nan" (issue 18.25)


def test_verdict_scores_are_floats_from_any_reply():
    from judgekit.rubric import Scale, parse_rubric
    from judgekit.verdict import parse_all_dimensions, parse_verdict

    for text in ('{"reasoning": "r", "score": 1}', '{"reasoning": "r", "score": 1.0}'):
        v = parse_verdict(text, Scale(min=0, max=5))
        assert type(v.score) is float and v.score == 1.0
    r = parse_rubric("name: x\nper_call: all\ndimensions: [{name: a, criteria: c}, {name: b, criteria: d}]")
    vs = parse_all_dimensions('{"a": {"reasoning": "r", "score": 2}, "b": {"reasoning": "r", "score": 3.0}}', r)
    assert [type(v.score) for v in vs.values()] == [float, float]
