"""Agreement so far: nominal alpha against the reference `krippendorff` package, and the status
numbers against the human ceiling `judgekit calibrate` reports on the same labels."""

from __future__ import annotations

import numpy as np
import pytest

from judgekit.label.status import agreement_so_far, alpha, nominal_alpha

krippendorff = pytest.importorskip("krippendorff")


@pytest.mark.parametrize("seed", range(5))
@pytest.mark.parametrize("levels", [2, 3])
def test_nominal_alpha_matches_reference(seed, levels):
    rng = np.random.default_rng(seed)
    truth = rng.integers(0, levels, 40)
    m = np.where(rng.random((4, 40)) < 0.7, truth, rng.integers(0, levels, (4, 40))).astype(float)
    m[rng.random(m.shape) < 0.3] = np.nan  # raters skip items
    ref = krippendorff.alpha(reliability_data=m, level_of_measurement="nominal")
    assert nominal_alpha(m) == pytest.approx(ref, abs=1e-12)


def test_ordinal_alpha_for_likert_matches_reference():
    rng = np.random.default_rng(7)
    truth = rng.integers(1, 6, 30)
    m = np.clip(truth + rng.integers(-1, 2, (3, 30)), 1, 5).astype(float)
    m[0, :5] = np.nan
    ref = krippendorff.alpha(reliability_data=m, level_of_measurement="ordinal", value_domain=[1, 2, 3, 4, 5])
    assert alpha(m, "likert") == pytest.approx(ref, abs=1e-9)


def test_nominal_alpha_edge_cases():
    assert nominal_alpha([[1, 2, 3], [1, 2, 3]]) == 1.0
    assert np.isnan(nominal_alpha([[1, 1], [1, 1]]))  # one value only: expected disagreement 0
    assert np.isnan(nominal_alpha([[1, np.nan], [np.nan, 2]]))  # no unit rated twice


def test_agreement_so_far_reports_value_and_ci():
    vals = {(f"i{n}", r): float((n + (r == "b" and n % 4 == 0)) % 3) for n in range(30) for r in "ab"}
    out = agreement_so_far(vals, {f"i{n}": f"p{n // 2}" for n in range(30)}, "pairwise", n_boot=200)
    assert out["statistic"] == "krippendorff_alpha_nominal" and out["units"] == 30 and out["raters"] == 2
    assert out["ci_low"] < out["value"] < out["ci_high"] < 1
    none = agreement_so_far({("i0", "a"): 1.0}, {}, "likert")
    assert none["value"] is None and none["note"] == "no item has two ratings yet"


def test_status_alpha_equals_calibrates_human_ceiling(make_campaign, tmp_path):
    import json

    from judgekit.cli import main
    from judgekit.label import campaign_status, export
    from tests.label.test_export import fill, judge_file

    c = make_campaign("likert", k=3, n=8)
    rng = np.random.default_rng(0)
    fill(c, ["ann", "bob", "cy"], lambda r, t: int(rng.integers(2, 6)) if "sd2" in t["item"] else int(rng.integers(1, 4)))
    s = campaign_status(c.store, list(c.items.values()), n_boot=50)
    export(c, tmp_path / "labels.jsonl")
    judge = judge_file(tmp_path / "judge.jsonl", c, dims=("overall",))
    assert main(["calibrate", "--human", str(tmp_path / "labels.jsonl"), "--judge", str(judge),
                 "--bootstrap", "20", "--out", str(tmp_path / "c.json")]) == 0
    ceiling = json.loads((tmp_path / "c.json").read_text())["human_ceiling"]
    assert s["agreement"][""]["value"] == pytest.approx(ceiling["krippendorff_alpha_ordinal"]["value"], abs=1e-4)
