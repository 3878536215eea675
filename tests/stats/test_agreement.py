"""Agreement statistics against scipy, scikit-learn, the krippendorff package and brute force,
on continuous, tied (Likert) and constant data."""

import itertools

import krippendorff
import numpy as np
import pytest
from scipy import stats
from sklearn.metrics import cohen_kappa_score

from judgekit.stats import agreement as A


def _data(kind: str, seed: int, n: int = 40):
    rng = np.random.default_rng(seed)
    if kind == "continuous":
        x = rng.normal(size=n)
        return x, 0.6 * x + rng.normal(size=n)
    if kind == "likert":  # heavy ties on both sides
        x = rng.integers(1, 6, n).astype(float)
        return x, np.clip(x + rng.integers(-1, 2, n), 1, 5)
    x = rng.integers(0, 5, n) / 4  # a judge in quarters vs a 1-5 mean of raters
    return x, np.round(1 + 4 * x + rng.normal(0, 1, n)) / 2


KINDS = ["continuous", "likert", "mixed"]


def _same(a, b):
    return (np.isnan(a) and np.isnan(b)) or abs(a - b) < 1e-10


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("seed", range(4))
def test_correlations_match_scipy(kind, seed):
    x, y = _data(kind, seed)
    assert _same(A.pearson(x, y), stats.pearsonr(x, y).statistic)
    assert _same(A.spearman(x, y), stats.spearmanr(x, y).statistic)
    assert _same(A.kendall_tau_b(x, y), stats.kendalltau(x, y, variant="b").statistic)
    assert _same(A.kendall_tau_c(x, y), stats.kendalltau(x, y, variant="c").statistic)
    tb, tc = A.kendall_taus(x, y)
    assert _same(tb, A.kendall_tau_b(x, y)) and _same(tc, A.kendall_tau_c(x, y))


def test_kendall_against_brute_force_pair_count():
    x, y = _data("mixed", 11, n=25)
    s = sum(np.sign(x[i] - x[j]) * np.sign(y[i] - y[j]) for i, j in itertools.combinations(range(25), 2))
    tx = sum(x[i] == x[j] for i, j in itertools.combinations(range(25), 2))
    ty = sum(y[i] == y[j] for i, j in itertools.combinations(range(25), 2))
    n0 = 25 * 24 / 2
    assert A.kendall_tau_b(x, y) == pytest.approx(s / np.sqrt((n0 - tx) * (n0 - ty)))


def test_constant_input_is_undefined_not_an_error():
    x = np.ones(10)
    y = np.arange(10.0)
    for f in (A.pearson, A.spearman, A.kendall_tau_b, A.kendall_tau_c):
        assert np.isnan(f(x, y)) and np.isnan(f(y, x))
    assert np.isnan(A.pearson([1.0], [2.0]))


@pytest.mark.parametrize("seed", range(5))
def test_qwk_matches_sklearn(seed):
    rng = np.random.default_rng(seed)
    a = rng.integers(1, 6, 60)
    b = np.clip(a + rng.integers(-2, 3, 60), 1, 5)
    ref = cohen_kappa_score(a, b, weights="quadratic", labels=[1, 2, 3, 4, 5])
    assert A.quadratic_weighted_kappa(a, b, levels=range(1, 6)) == pytest.approx(ref, abs=1e-12)


def test_mapping_onto_the_human_scale():
    mapped = A.linear_map([0.0, 0.5, 1.0], (0, 1), (1, 5))
    assert mapped.tolist() == [1.0, 3.0, 5.0]
    assert A.to_levels([1.49, 1.5, 4.9, 7], [1, 2, 3, 4, 5]).tolist() == [1, 2, 5, 5]
    assert A.linear_map([2, 2], (2, 2), (1, 5)).tolist() == [3.0, 3.0]


@pytest.mark.parametrize("level", ["interval", "ordinal"])
@pytest.mark.parametrize("seed", range(4))
def test_krippendorff_matches_package(level, seed):
    rng = np.random.default_rng(seed)
    truth = rng.integers(1, 6, 50)
    m = np.clip(truth[None, :] + rng.integers(-1, 2, (4, 50)), 1, 5).astype(float)
    m[rng.random(m.shape) < 0.25] = np.nan  # missing ratings
    ref = krippendorff.alpha(reliability_data=m, level_of_measurement=level)
    assert A.krippendorff_alpha(m, level) == pytest.approx(ref, abs=1e-10)


def test_krippendorff_interval_with_a_continuous_extra_rater():
    rng = np.random.default_rng(5)
    m = rng.integers(1, 6, (3, 30)).astype(float)
    m = np.vstack([m, m.mean(0) + rng.normal(0, 0.3, 30)])  # a judge mapped to the scale
    ref = krippendorff.alpha(reliability_data=m, level_of_measurement="interval")
    assert A.krippendorff_alpha(m, "interval") == pytest.approx(ref, abs=1e-10)


def _brute_pairwise_accuracy(s, h, groups):
    pairs = [(i, j) for i, j in itertools.combinations(range(len(s)), 2) if groups[i] == groups[j]]
    ds = np.array([s[i] - s[j] for i, j in pairs])
    dh = np.array([h[i] - h[j] for i, j in pairs])
    best = -1.0
    for eps in sorted({0.0, *np.abs(ds)}):
        tie = np.abs(ds) <= eps
        ok = np.where(tie, dh == 0, np.sign(ds) == np.sign(dh))
        best = max(best, ok.mean())
    return best


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("seed", range(3))
def test_pairwise_accuracy_with_tie_calibration_matches_brute_force(kind, seed):
    s, h = _data(kind, seed, n=36)
    groups = np.repeat(np.arange(9), 4)
    acc, eps = A.pairwise_accuracy(s, h, groups)
    assert acc == pytest.approx(_brute_pairwise_accuracy(s, h, groups))
    # the returned epsilon attains it
    a, b = A.within_group_pairs(groups)
    ds, dh = s[a] - s[b], h[a] - h[b]
    tie = np.abs(ds) <= eps
    assert np.where(tie, dh == 0, np.sign(ds) == np.sign(dh)).mean() == pytest.approx(acc)


def test_pairwise_accuracy_rewards_predicting_ties():
    h = np.array([1, 1, 2, 3.0])
    assert A.pairwise_accuracy(h, h)[0] == 1.0  # exact copy: every tie and order right
    acc, eps = A.pairwise_accuracy(h + np.array([0, 0.01, 0, 0]), h)
    assert acc == 1.0 and eps == pytest.approx(0.01)


def test_within_group_pairs_matches_brute_force():
    g = np.array(["b", "a", "b", "c", "a", "b"])
    a, b = A.within_group_pairs(g)
    got = {tuple(sorted(p)) for p in zip(a.tolist(), b.tolist())}
    want = {(i, j) for i, j in itertools.combinations(range(6), 2) if g[i] == g[j]}
    assert got == want and len(a) == len(want)


def test_fisher_z_mean():
    assert A.fisher_z_mean([0.5, 0.9]) == pytest.approx(np.tanh((np.arctanh(0.5) + np.arctanh(0.9)) / 2))
    assert A.fisher_z_mean([0.3, float("nan")]) == pytest.approx(0.3)
    assert np.isnan(A.fisher_z_mean([float("nan")]))


def test_system_level_is_rank_correlation_of_model_means():
    rng = np.random.default_rng(0)
    models = np.repeat(["a", "b", "c", "d"], 10)
    h = rng.normal(size=40) + np.repeat([0, 1, 2, 3], 10)
    s = h + rng.normal(0, 3, 40)
    means_s = [s[models == m].mean() for m in "abcd"]
    means_h = [h[models == m].mean() for m in "abcd"]
    assert A.system_level(s, h, models) == pytest.approx(stats.spearmanr(means_s, means_h).statistic)
