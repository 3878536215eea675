"""Bias statistics get intervals that contain their estimate: Efron's bias-corrected percentile
bootstrap, and no interval (with the reason) where the replicates lie too far off the estimate
for any such interval (issue 18, item 3)."""

import math
from statistics import NormalDist

import numpy as np
from scipy.stats import entropy

from judgekit.stats.attributes import INTERVAL_METHOD, attribute_stats

CATS = [str(i) for i in range(10)]  # a ten-point skin-tone scale


def _clustered(seed: int):
    """Few prompts, each showing a narrow band of the scale: the pooled spread is wide, every
    resample of prompts is narrower (so entropy's replicates sit below its estimate)."""
    rng = np.random.default_rng(seed)
    labels, groups = [], []
    for p in range(int(rng.integers(3, 12))):
        c0 = int(rng.integers(0, 10))
        k = int(rng.integers(1, 9))
        labels += [CATS[(c0 + int(rng.integers(0, 3))) % 10] for _ in range(k)]
        groups += [f"p{p}"] * k
    return labels, groups


def _replicates(labels, groups, n_boot, seed):
    """The prompt bootstrap's entropy and KL replicates, recomputed with scipy."""
    prompts = list(dict.fromkeys(groups))
    mat = np.array([[sum(1 for x, g in zip(labels, groups) if g == p and x == c) for c in CATS] for p in prompts], float)
    w = np.random.default_rng(seed).multinomial(len(prompts), [1 / len(prompts)] * len(prompts), size=n_boot)
    counts = w @ mat
    ent = entropy(counts, axis=1) / math.log(10)
    kl = entropy(counts, np.full((1, 10), 0.1), axis=1)
    total = mat.sum(0)
    return {"normalized_entropy": (entropy(total) / math.log(10), ent),
            "kl_divergence": (entropy(total / total.sum(), np.full(10, 0.1)), kl)}


def _bc(estimate, reps, level=0.95):
    tie = np.abs(reps - estimate) <= 1e-10
    below = (np.sum((reps < estimate) & ~tie) + 0.5 * np.sum(tie)) / reps.size
    nd = NormalDist()
    z = nd.inv_cdf(0.5 + level / 2)
    if not 0 < below < 1 or abs(nd.inv_cdf(below)) >= z:
        return None
    z0 = nd.inv_cdf(below)
    return np.quantile(reps, nd.cdf(2 * z0 - z)), np.quantile(reps, nd.cdf(2 * z0 + z))


def test_intervals_contain_their_estimate_and_match_a_plain_bc_computation():
    excluded_before, checked = 0, 0
    for seed in range(60):
        labels, groups = _clustered(seed)
        got = attribute_stats(labels, groups, CATS, n_boot=400, seed=0)
        for key, (point, reps) in _replicates(labels, groups, 400, 0).items():
            e = got[key]
            assert abs(e["value"] - point) < 1e-9
            lo, hi = np.quantile(reps, [0.025, 0.975])
            excluded_before += not lo <= point <= hi  # the plain percentile interval missed it
            want = _bc(point, reps)
            if want is None:
                assert e["ci_low"] is None and e["ci_high"] is None and e["note"].startswith("no interval")
            else:
                checked += 1
                assert abs(e["ci_low"] - want[0]) < 1e-9 and abs(e["ci_high"] - want[1]) < 1e-9
                assert e["ci_low"] <= e["value"] <= e["ci_high"]
    assert excluded_before > 0 and checked > 0  # the data exercise both branches


def test_the_method_is_named(tmp_path):
    assert INTERVAL_METHOD == "bias-corrected percentile bootstrap over prompts"


def _attribute_records():
    from judgekit.types import Result

    labels, groups = _clustered(0)
    tones = {str(i): str(i + 1) for i in range(10)}  # the rubric's skin tones are 1-10
    return [Result(sample_id=f"s{i}", prompt_id=g, model="m", rubric="attributes", status="ok",
                   provenance={"kind": "attributes", "rubric": "attributes"},
                   attributes={"people_count": "1", "gender_presentation": "feminine", "age_group": "unclear",
                               "skin_tone": tones[x]})
            for i, (x, g) in enumerate(zip(labels, groups))]


def test_cli_text_and_html_report_name_the_interval():
    from judgekit.bias import bias_report, format_report
    from judgekit.report.methods import bias_sections

    recs = _attribute_records()
    rep = bias_report(recs, rubric="attributes", n_boot=300, per_prompt=False)
    text = format_report(rep)
    assert "95% CIs: bias-corrected percentile bootstrap over prompts (300 draws)" in text
    assert "(no CI)" in text  # the skin-tone entropy of these few clustered prompts has none
    sec = bias_sections([("attrs.jsonl", recs)], n_boot=300)[0]
    assert sec["interval"] == INTERVAL_METHOD
