"""Bootstrap CIs of agreement statistics: coverage in simulation, resampling by prompt, seeds."""

import numpy as np
import pytest

from judgekit.stats.agreement import HumanScale, agreement, pearson
from judgekit.stats.bootstrap import percentile_interval, resample_blocks
from judgekit.stats.ceiling import human_ceiling


def _ci(x, y, groups, n_boot, seed):
    # equal-sized prompts: every draw has n rows, so the replicates vectorize
    rows = np.stack([r for r, _ in resample_blocks(groups, x.size, n_boot, seed)])
    xs, ys = x[rows], y[rows]
    xs, ys = xs - xs.mean(1, keepdims=True), ys - ys.mean(1, keepdims=True)
    reps = (xs * ys).sum(1) / np.sqrt((xs * xs).sum(1) * (ys * ys).sum(1))
    assert reps[0] == pytest.approx(pearson(x[rows[0]], y[rows[0]]))
    return percentile_interval(reps)


def test_bootstrap_ci_covers_the_true_correlation_at_about_the_nominal_rate():
    rho, n, sims = 0.3, 80, 250
    rng = np.random.default_rng(123)
    cov = [[1, rho], [rho, 1]]
    groups = np.repeat(np.arange(40), 2)  # 40 prompts of 2 images
    hits = 0
    for s in range(sims):
        x, y = rng.multivariate_normal([0, 0], cov, n).T
        lo, hi = _ci(x, y, groups, 150, s)
        hits += lo <= rho <= hi
    # percentile intervals of r under-cover slightly at n=80; 250 runs give about +-3% noise
    assert 0.88 <= hits / sims <= 0.99


def test_resampling_prompts_widens_the_ci_when_images_of_a_prompt_are_alike():
    rng = np.random.default_rng(1)
    prompt_effect = np.repeat(rng.normal(0, 2, 25), 6)  # 25 prompts x 6 near-identical images
    x = prompt_effect + rng.normal(0, 0.3, 150)
    y = 0.3 * prompt_effect + rng.normal(0, 1, 150)
    groups = np.repeat(np.arange(25), 6)
    lo_g, hi_g = _ci(x, y, groups, 400, 0)
    lo_i, hi_i = _ci(x, y, None, 400, 0)
    assert hi_g - lo_g > 1.4 * (hi_i - lo_i)


def test_resample_blocks_keeps_copies_of_a_prompt_apart():
    groups = ["p1", "p1", "p2", "p3", "p3"]
    for rows, block in resample_blocks(groups, 5, n_boot=20, seed=3):
        assert len(rows) == len(block)
        for b in np.unique(block):  # each drawn copy is one whole prompt
            assert len({groups[i] for i in rows[block == b]}) == 1


def _likert_study(seed=0, n_prompts=30, models=3, raters=3, noise=0.7):
    rng = np.random.default_rng(seed)
    n = n_prompts * models
    quality = rng.normal(3, 1, n)
    ratings = np.clip(np.round(quality[:, None] + rng.normal(0, noise, (n, raters))), 1, 5)
    judge = (quality - 1) / 4 + rng.normal(0, 0.15, n)
    return judge, ratings, np.repeat(np.arange(n_prompts), models), np.tile(["a", "b", "c"], n_prompts)


def test_agreement_is_seeded_and_its_cis_contain_the_estimates():
    judge, ratings, groups, models = _likert_study()
    scale = HumanScale(np.arange(1, 6.0))
    a = agreement(judge, ratings, groups, scale, models=models, n_boot=100, seed=7)
    b = agreement(judge, ratings, groups, scale, models=models, n_boot=100, seed=7)
    c = agreement(judge, ratings, groups, scale, models=models, n_boot=100, seed=8)
    assert (a["spearman"].ci_low, a["spearman"].ci_high) == (b["spearman"].ci_low, b["spearman"].ci_high) != (c["spearman"].ci_low, c["spearman"].ci_high)
    for k, e in a.items():
        if k != "system_spearman":
            assert e.ci_low <= e.value <= e.ci_high, k
    assert a["pairwise_accuracy"].extra["pairs"] == 30 * 3  # 3 pairs within each prompt
    assert a["system_spearman"].n == 3


def test_human_ceiling_per_rater_against_the_others():
    judge, ratings, groups, _ = _likert_study(raters=4)
    scale = HumanScale(np.arange(1, 6.0))
    ceil = human_ceiling(ratings, groups, scale, n_boot=50)
    assert len(ceil["per_rater"]) == 4
    r0 = pearson(ratings[:, 0], ratings[:, 1:].mean(1))
    assert ceil["per_rater"][0]["pearson"] == pytest.approx(r0)
    zs = np.arctanh([p["pearson"] for p in ceil["per_rater"]])
    assert ceil["pearson"].value == pytest.approx(np.tanh(zs.mean()))  # averaged through Fisher z
    assert human_ceiling(ratings[:, :1], groups, scale) is None  # one rater: no ceiling


def test_a_scorer_in_a_raters_place_matches_that_raters_ceiling_row():
    judge, ratings, groups, _ = _likert_study(raters=3)
    scale = HumanScale(np.arange(1, 6.0))
    ceil = human_ceiling(ratings, groups, scale, n_boot=20)
    as_rater0 = human_ceiling(ratings, groups, scale, scorer=ratings[:, 0], scorer_range=(1, 5), n_boot=20)
    assert as_rater0["per_rater"][0]["spearman"] == pytest.approx(ceil["per_rater"][0]["spearman"])
    assert as_rater0["per_rater"][0]["qwk"] == pytest.approx(ceil["per_rater"][0]["qwk"])
    assert "krippendorff_alpha" not in as_rater0
    matched = human_ceiling(ratings, groups, scale, scorer=judge, n_boot=20)
    ours = [pearson(judge, np.delete(ratings, j, axis=1).mean(1)) for j in range(3)]
    assert matched["pearson"].value == pytest.approx(np.tanh(np.arctanh(ours).mean()))
