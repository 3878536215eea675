"""The human-label sets shipped in calibration/: TIFA160 (10 metrics + 2 ratings), DSG's TIFA160
Likert ratings (5 raters) and GenAI-Bench-527 (3 ratings)."""

import json

import numpy as np
import pytest
from scipy import stats

from judgekit.calibration.labels import builtin_labels, builtin_path
from judgekit.calibration.report import calibrate
from judgekit.demo import TIFA_METRICS, compare_with_humans, demo_comparison, tifa_metric_scores
from judgekit.resources import data_path
from judgekit.types import Result


@pytest.fixture(scope="module")
def tifa_raw():
    return json.loads(data_path("calibration", "tifa", "human_annotations_with_scores.json").read_text())


def test_shipped_files_load_with_every_row_accounted_for():
    dsg = builtin_labels("dsg-tifa160-likert")
    assert len(dsg.rows) == 3995 and len({r.rater for r in dsg.rows}) == 5
    assert len({(r.prompt_id, r.model) for r in dsg.rows}) == 800
    tifa = builtin_labels("tifa160")
    assert len(tifa.rows) == 1600
    genai = builtin_labels("genai-bench-527")
    # 527 prompts x 6 models x 3 ratings, less two published typos (41 and 33), which are listed
    assert len(genai.rows) == 527 * 6 * 3 - 2 and len(genai.skipped) == 2
    assert all(builtin_path(n).is_file() for n in ("dsg-tifa160-likert", "tifa160", "genai-bench-527"))


def test_tifa_ids_and_models_map_onto_the_dsg_likert_file(tifa_raw):
    # every one of TIFA's 800 images finds its DSG ratings, and both human panels agree strongly
    clip = tifa_metric_scores("clipscore_vitb32")
    dsg = builtin_labels("dsg-tifa160-likert")
    keys = {(r.prompt_id, r.model) for r in dsg.rows}
    assert {(r.prompt_id, r.model) for r in clip.rows} == keys
    dsg_mean = {}
    for r in dsg.rows:
        dsg_mean.setdefault((r.prompt_id, r.model), []).append(r.value)
    tifa_avg = {(r.prompt_id, r.model): tifa_raw[r.sample_id]["human_avg"] for r in clip.rows}
    a = [np.mean(dsg_mean[k]) for k in sorted(keys)]
    b = [tifa_avg[k] for k in sorted(keys)]
    assert stats.spearmanr(a, b).statistic > 0.6  # a wrong mapping would give about 0


def test_tifa160_metrics_against_the_human_average(tifa_raw):
    """Item-level Spearman and Kendall of the 10 metrics against TIFA's human_avg, checked
    against scipy on the raw file (the report's CIs resample the 160 prompts)."""
    scorers = {m: tifa_metric_scores(m) for m in TIFA_METRICS}
    rep = calibrate(None, builtin_labels("tifa160"), scorers, on="prompt_id,model", n_boot=20)
    assert rep.n == 800 and rep.meta["prompts"] == 160
    keys = list(tifa_raw)
    human = [tifa_raw[k]["human_avg"] for k in keys]
    for m in TIFA_METRICS:
        metric = [tifa_raw[k][m] for k in keys]
        assert rep.scorers[m]["spearman"].value == pytest.approx(stats.spearmanr(metric, human).statistic, abs=1e-12)
        assert rep.scorers[m]["kendall_tau_b"].value == pytest.approx(stats.kendalltau(metric, human).statistic, abs=1e-12)
        est = rep.scorers[m]["spearman"]
        lo, hi = est.ci_low, est.ci_high
        assert lo < rep.scorers[m]["spearman"].value < hi
    # the VQA-based TIFA scores agree with people far better than CLIP score does (TIFA's finding)
    assert rep.scorers["tifa_mplug-large"]["spearman"].ci_low > rep.scorers["clipscore_vitb32"]["spearman"].ci_high
    assert rep.scorers["tifa_mplug-large"]["spearman"].value == pytest.approx(0.592, abs=5e-4)
    assert rep.scorers["clipscore_vitb32"]["spearman"].value == pytest.approx(0.320, abs=5e-4)


def test_compare_with_humans_on_demo_shaped_results(tmp_path):
    """What `judgekit demo` calls: results keyed by DSG item_id and model, one prompt failed."""
    mplug = tifa_metric_scores("tifa_mplug-large")
    results = [
        Result(sample_id=f"{r.prompt_id}-{r.model}", prompt_id=r.prompt_id, model=r.model, rubric="dsg",
               status="failed" if r.prompt_id == "tifa160_134" else "ok",
               overall=None if r.prompt_id == "tifa160_134" else r.value,
               error="no recorded answers" if r.prompt_id == "tifa160_134" else None)
        for r in mplug.rows
    ]
    rep = compare_with_humans(results, n_boot=30)
    assert rep.n == 795 and rep.unmatched["judge"]["failed_or_empty"] == 5
    assert list(rep.scorers) == ["judge", "clip_score"]
    assert len(rep.ceiling_per_rater) == 5
    judge, clip, ceiling = rep.scorers["judge"], rep.scorers["clip_score"], rep.human_ceiling
    assert clip["spearman"].value < judge["spearman"].value < ceiling["spearman"].value
    table = rep.table()
    assert table.splitlines()[2].startswith("human ceiling")
    text = demo_comparison(results, tmp_path, n_boot=5)
    assert "human ceiling" in text and "system level" in text
    assert json.loads((tmp_path / "human_agreement.json").read_text())["n"] == 795
    # TIFA-style names are accepted too
    tifa_named = [{"prompt_id": "coco_669925", "model": "mini_dalle", "overall": 0.9, "sample_id": "x",
                   "status": "ok", "scores": {}}]
    small = compare_with_humans(tifa_named, n_boot=5)
    assert small.n == 1 and any("unreliable" in w for w in small.warnings)
