"""PPI++ means: agreement with the ppi-python package, coverage and width in simulation,
and the label-count planner."""

import numpy as np
import pytest

from judgekit.stats.ppi import (
    ci_width_for,
    human_only_mean,
    labels_needed,
    mean_estimates,
    ppi_mean,
    tuned_lambda,
    win_indicators,
)


def _draw(rng, n, big_n, informative=True, bias=0.5):
    y_all = rng.normal(3, 1, n + big_n)
    noise = rng.normal(0, 0.5, n + big_n)
    yhat_all = (0.8 * y_all + bias + noise) if informative else rng.normal(3, 1, n + big_n)
    return y_all[:n], yhat_all[:n], yhat_all[n:], y_all


@pytest.mark.parametrize("seed", range(3))
@pytest.mark.parametrize("lam", [None, 1.0, 0.0, 0.4])
def test_matches_ppi_python(seed, lam):
    ppi_py = pytest.importorskip("ppi_py")
    rng = np.random.default_rng(seed)
    y, yh, yu, _ = _draw(rng, 60, 700)
    ours = ppi_mean(y, yh, yu, level=0.9, lam=lam)
    ref_point = ppi_py.ppi_mean_pointestimate(y, yh, yu, lam=lam)
    lo, hi = ppi_py.ppi_mean_ci(y, yh, yu, alpha=0.1, lam=lam)
    assert ours.value == pytest.approx(float(np.ravel(ref_point)[0]), abs=1e-10)
    assert (ours.ci_low, ours.ci_high) == pytest.approx((float(np.ravel(lo)[0]), float(np.ravel(hi)[0])), abs=1e-10)


def test_ci_covers_the_true_mean_at_the_nominal_rate_and_beats_humans_only():
    rng = np.random.default_rng(2024)
    true_mean, sims, hits, hits_h = 3.0, 1000, 0, 0
    widths, widths_h = [], []
    for _ in range(sims):
        y, yh, yu, _ = _draw(rng, 80, 800)  # a biased but informative judge
        e, h = ppi_mean(y, yh, yu), human_only_mean(y)
        hits += e.ci_low <= true_mean <= e.ci_high
        hits_h += h.ci_low <= true_mean <= h.ci_high
        widths.append(e.ci_high - e.ci_low)
        widths_h.append(h.ci_high - h.ci_low)
    assert 0.93 <= hits / sims <= 0.97  # binomial noise at 1000 runs is about +-0.7%
    assert 0.92 <= hits_h / sims <= 0.97
    assert np.mean(widths) < 0.8 * np.mean(widths_h)


def test_judge_only_is_biased_and_ppi_corrects_it():
    rng = np.random.default_rng(0)
    y, yh, yu, _ = _draw(rng, 200, 5000, bias=1.0)
    est = mean_estimates(y, yh, yu)
    assert not (est["judge_only"].ci_low <= 3.0 <= est["judge_only"].ci_high)
    assert est["ppi"].ci_low <= 3.0 <= est["ppi"].ci_high


def test_uninformative_judge_falls_back_to_about_human_only():
    rng = np.random.default_rng(1)
    y, yh, yu, _ = _draw(rng, 100, 1000, informative=False)
    assert tuned_lambda(y, yh, yu) < 0.25
    e, h = ppi_mean(y, yh, yu), human_only_mean(y)
    assert (e.ci_high - e.ci_low) <= 1.05 * (h.ci_high - h.ci_low)


def test_pass_rates_and_win_rates_are_means():
    assert win_indicators([3, 1, 2], [1, 3, 2]).tolist() == [1.0, 0.0, 0.5]
    rng = np.random.default_rng(3)
    passed = (rng.random(1000) < 0.7).astype(float)
    judge = np.where(rng.random(1000) < 0.85, passed, 1 - passed)
    e = ppi_mean(passed[:150], judge[:150], judge[150:])
    assert e.ci_low <= 0.7 <= e.ci_high and 0 < e.lam <= 1


def test_labels_needed_meets_the_target_and_no_fewer():
    rng = np.random.default_rng(4)
    y, yh, _, _ = _draw(rng, 300, 0)
    need = labels_needed(y, yh, target_width=0.2, big_n=2000)
    var_y, var_yh, cov = np.var(y, ddof=1), np.var(yh, ddof=1), np.cov(y, yh)[0, 1]
    n = need["ppi"]
    assert ci_width_for(n, 2000, var_y, var_yh, cov) <= 0.2 < ci_width_for(n - 1, 2000, var_y, var_yh, cov)
    assert need["ppi"] < need["human_only"]
    assert need["human_only"] == int(np.ceil((2 * 1.959964) ** 2 * var_y / 0.04 - 1e-9))
    # a width the judge-only term alone cannot reach
    assert labels_needed(y, yh, target_width=1e-4, big_n=10)["ppi"] is None


def test_bad_input():
    with pytest.raises(ValueError):
        ppi_mean([1.0], [1.0], [1.0, 2.0])
    with pytest.raises(ValueError):
        ppi_mean([1.0, 2.0], [1.0], [1.0])
