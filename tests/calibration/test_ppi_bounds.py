"""PPI win rates and pass rates are proportions: estimates and intervals inside [0, 1], and a
zero-variance sample (6 labelled prompts all won) reported as degenerate, not as a zero-width
CI (issue 18, item 4)."""

import math

from scipy.stats import norm

from judgekit.calibration.ppi import prediction_powered
from judgekit.types import Result


def _study(labelled_wins: list[int], unlabelled_wins: list[int]):
    """Models a and b on prompts; on labelled prompts people and judge both score a over b
    (win 1) or under it (win 0); on the others only the judge scores."""
    results, labels = [], []
    for i, w in enumerate(labelled_wins + unlabelled_wins):
        p = f"p{i}"
        sa, sb = (4.0, 2.0) if w else (2.0, 4.0)
        for m, s in (("a", sa), ("b", sb)):
            results.append(Result(sample_id=f"{p}-{m}", prompt_id=p, model=m, rubric="r", status="ok",
                                  scores={"x": s}, overall=s).model_dump())
            if i < len(labelled_wins):
                labels.append({"prompt_id": p, "model": m, "score": int(s)})
    return results, labels


def test_six_prompts_all_won_is_degenerate_not_a_zero_width_ci():
    res, lab = _study([1] * 6, [1] * 10 + [0] * 2)
    rep = prediction_powered(res, lab)
    w = rep.win_rates["a vs b"]
    for m in ("ppi", "human_only"):
        assert w[m]["value"] == 1.0
        assert w[m]["ci_low"] is None and w[m]["ci_high"] is None
        assert "degenerate" in w[m]["note"]
    assert "degenerate" in rep.table() and "[1.000, 1.000]" not in rep.table()


def test_win_rate_interval_stays_inside_zero_one_and_contains_its_estimate():
    res, lab = _study([1] * 11 + [0], [1] * 20)
    rep = prediction_powered(res, lab)
    h = rep.win_rates["a vs b"]["human_only"]
    # independently: the normal interval p +- z sd/sqrt(n), then intersected with [0, 1]
    p, n = 11 / 12, 12
    half = norm.ppf(0.975) * math.sqrt(p * (1 - p) / n)
    assert p + half > 1  # the unbounded interval pokes out of [0, 1]
    assert h["value"] == round(p, 6)
    assert h["ci_high"] == 1.0 and abs(h["ci_low"] - (p - half)) < 1e-6
    for m in ("ppi", "human_only", "judge_only"):
        e = rep.win_rates["a vs b"][m]
        if e["ci_low"] is not None:
            assert 0.0 <= e["ci_low"] <= e["value"] <= e["ci_high"] <= 1.0
    # the mirror image: a win rate near 0 never gets a negative bound
    res, lab = _study([0] * 11 + [1], [0] * 20)
    h = prediction_powered(res, lab).win_rates["a vs b"]["human_only"]
    assert h["ci_low"] == 0.0 and abs(h["ci_high"] - (1 / 12 + half)) < 1e-6
