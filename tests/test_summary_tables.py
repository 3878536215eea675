"""What summary tables print (issue 18, items 2, 17, 19, 25 and 26): one table per rubric in a
mixed file, pairwise records as win rates, ``n/a`` with a reason instead of ``nan``, one
bootstrap default everywhere, the small-sample warning for one-prompt models, and `summary` on an
empty or all-failed file as a one-line error with the documented exit code."""

from __future__ import annotations

import json
import warnings

import numpy as np
import pytest

import judgekit as jk
from judgekit.cli import EXIT_ALL_FAILED, EXIT_USAGE, main
from judgekit.results import Results
from judgekit.stats.bootstrap import DEFAULT_N_BOOT, bootstrap_ci
from judgekit.types import Result


def _pointwise(rubric: str, scale_hi: float, prompts: int = 12, models=("flux", "sdxl")) -> list[Result]:
    return [Result(sample_id=f"{rubric}-{m}-{p}", prompt_id=f"p{p}", model=m, rubric=rubric, status="ok",
                   overall=float((p * 7 + len(m)) % int(scale_hi) + 1), provenance={"kind": "pointwise", "rubric": rubric})
            for m in models for p in range(prompts)]


def _pairwise(prompts: int = 12) -> list[Result]:
    winners = ["model_a", "model_b", "tie", "model_a"]
    return [Result(sample_id=f"pair{p}", prompt_id=f"p{p}", rubric="pairwise", status="ok",
                   provenance={"kind": "pairwise", "rubric": "pairwise"}, model_a="flux", model_b="sdxl",
                   winner=winners[p % 4]) for p in range(prompts)]


def test_a_file_mixing_rubrics_gets_one_table_per_rubric():
    ten, five = _pointwise("viescore-t2i", 10), _pointwise("likert5", 5)
    s = Results(ten + five + _pairwise()).summary(n_boot=50)
    text = str(s)
    assert text.count("== rubric ") == 3 and "(none)" not in text and "nan" not in text
    by = {(r["rubric"], r["model"]): r for r in s.rows}
    # each rubric's mean is over its own scale only, recomputed in plain Python
    for rubric, recs in (("viescore-t2i", ten), ("likert5", five)):
        for m in ("flux", "sdxl"):
            vals = [r.overall for r in recs if r.model == m]
            assert by[(rubric, m)]["mean"] == pytest.approx(sum(vals) / len(vals), abs=1e-12)
    # pairwise records are summarised as pairwise: win rate (W + T/2) / N per model
    flux = by[("pairwise", "flux")]
    w, t = sum(p % 4 in (0, 3) for p in range(12)), sum(p % 4 == 2 for p in range(12))
    assert flux["win_rate"] == pytest.approx((w + t / 2) / 12)
    assert "position consistency" in text


def test_a_single_rubric_file_is_unchanged():
    s = Results(_pointwise("r", 5)).summary(n_boot=50)
    assert "rubric" not in s.columns and [r["model"] for r in s.rows] == ["flux", "sdxl"]


def test_all_failed_model_and_one_sample_print_a_reason_not_nan():
    recs = _pointwise("r", 5, prompts=12, models=("good",))
    recs += [Result(sample_id=f"bad{i}", prompt_id=f"p{i}", model="broken", rubric="r", status="failed",
                    error="parse failure") for i in range(3)]
    recs += [Result(sample_id="solo", prompt_id="p0", model="solo", rubric="r", status="ok", overall=3.0)]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        text = str(Results(recs).summary(n_boot=50))
    assert "nan" not in text
    assert "n/a: no scored sample for broken (all 3 failed)" in text
    assert "n/a CI: one scored sample, nothing to resample, for solo" in text


def test_attribute_results_get_counts_and_a_pointer_not_nan():
    recs = [Result(sample_id=f"s{i}", prompt_id=f"p{i}", model="m", rubric="attributes", status="ok",
                   provenance={"kind": "attributes"}, attributes={"gender_presentation": "feminine"}) for i in range(4)]
    text = str(Results(recs).summary())
    assert "nan" not in text and "judgekit bias report" in text
    assert text.splitlines()[1].split() == ["m", "4", "4", "0"]


def test_one_prompt_per_model_warns_and_names_every_such_model():
    recs = _pointwise("r", 5, prompts=12, models=("many",))
    recs += [Result(sample_id="one", prompt_id="p0", model="one", rubric="r", status="ok", overall=2.0)]
    recs += [Result(sample_id=f"two{k}", prompt_id="p0", model="twice", rubric="r", status="ok", overall=float(k))
             for k in range(2)]
    with pytest.warns(jk.SmallSampleWarning) as caught:
        Results(recs).summary(n_boot=50)
    msg = str(caught[0].message)
    assert "one: 1" in msg and "twice: 1" in msg and "many" not in msg


def test_one_bootstrap_default_for_summary_score_and_results(tmp_path, capsys):
    recs = _pointwise("r", 5, prompts=12)
    path = tmp_path / "results.jsonl"
    Results(recs).save(path)
    lib = jk.load_results(path).summary()
    assert main(["summary", str(path), "--out", str(tmp_path / "s.json")]) == 0
    cli = json.loads((tmp_path / "s.json").read_text())
    for a, b in zip(lib.rows, cli):
        assert (a["ci_low"], a["ci_high"]) == (b["ci_low"], b["ci_high"])
    vals = [r.overall for r in recs if r.model == "flux"]
    want = bootstrap_ci(vals, groups=[r.prompt_id for r in recs if r.model == "flux"], n_boot=DEFAULT_N_BOOT, seed=0)
    assert (lib.rows[0]["ci_low"], lib.rows[0]["ci_high"]) == want
    # an independent check of the interval: the 2.5/97.5 percentiles of resampled prompt means
    rng = np.random.default_rng(1)
    arr = np.array(vals)
    boots = [arr[rng.integers(0, 12, 12)].mean() for _ in range(4000)]
    lo, hi = np.percentile(boots, [2.5, 97.5])
    assert abs(want[0] - lo) < 0.25 and abs(want[1] - hi) < 0.25


def test_summary_of_an_empty_file_is_a_usage_error(tmp_path, capsys):
    path = tmp_path / "empty.jsonl"
    path.write_text("")
    assert main(["summary", str(path)]) == EXIT_USAGE
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "no result records" in err[0]


def test_summary_of_an_all_failed_file_exits_3_with_one_line(tmp_path, capsys):
    path = tmp_path / "failed.jsonl"
    Results([Result(sample_id=f"s{i}", prompt_id="p", model="m", rubric="r", status="failed", error="HTTP 500")
             for i in range(3)]).save(path)
    assert main(["summary", str(path)]) == EXIT_ALL_FAILED
    out = capsys.readouterr()
    assert out.out == "" and len(out.err.strip().splitlines()) == 1
    assert "every one of the 3 records" in out.err and "s0: HTTP 500" in out.err
