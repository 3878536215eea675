"""The one bootstrap: every interval of a mean is the same computation, and undefined
replicates follow one rule."""

import numpy as np
import pytest

from judgekit.stats.bootstrap import bootstrap_ci, percentile_interval, percentile_intervals
from judgekit.stats.estimates import likert_mean
from judgekit.summaries import pointwise_summary
from judgekit.types import Result


def test_summary_and_estimates_give_one_interval_for_one_mean():
    rng = np.random.default_rng(1)
    x = rng.integers(1, 6, 60).astype(float)
    groups = [f"p{i // 3}" for i in range(60)]
    e = likert_mean(x, groups, n_boot=400, seed=7)
    assert bootstrap_ci(x, groups=groups, n_boot=400, seed=7) == (e.ci_low, e.ci_high)
    recs = [Result(sample_id=f"s{i}", prompt_id=g, model="m", rubric="r", status="ok", overall=v)
            for i, (g, v) in enumerate(zip(groups, x, strict=True))]
    row = pointwise_summary(recs, n_boot=400, seed=7).rows[0]
    assert (row["ci_low"], row["ci_high"]) == (e.ci_low, e.ci_high)


def test_other_statistics_resample_whole_groups():
    # Two groups of identical values: every resample's median is one of the two group values.
    lo, hi = bootstrap_ci([1, 1, 1, 9, 9, 9], statistic=np.median, groups=list("aaabbb"), n_boot=200)
    assert {lo, hi} <= {1.0, 9.0}


def test_nan_rule_more_than_half_undefined_gives_no_interval():
    reps = np.array([np.nan] * 6 + [1.0, 2.0, 3.0, 4.0])
    assert all(np.isnan(percentile_interval(reps)))
    assert percentile_interval(np.array([np.nan] * 4 + [1.0, 2.0, 3.0, 4.0, 5.0, 6.0]), level=0.5) == pytest.approx((2.25, 4.75))
    lo, hi = percentile_intervals(np.column_stack([reps, np.arange(10.0)]), level=0.5)
    assert np.isnan(lo[0]) and (lo[1], hi[1]) == pytest.approx((2.25, 6.75))
