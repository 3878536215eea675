"""``--repeats K`` (issue 19, part 3): each call judged K times with distinct seeds, the K scores
combined (mean by default), and the judge's repeat agreement (share agreeing, mean within-sample
SD, ICC(1,1) and ICC(1,k)) checked against an independent computation."""

from __future__ import annotations

import json
import re
import statistics

import numpy as np
import pytest
from scipy import stats

import judgekit as jk
from judgekit.cli import main
from judgekit.stats.repeats import aggregate_scores, repeat_agreement
from tests.judge_server import Reply, _digest


def noisy(body, n):
    """A true score of 1..5 fixed by the image, plus noise drawn from (image, seed): a noisy
    judge whose answers still reproduce for the same request."""
    true = 1 + _digest(body) % 5
    rng = np.random.default_rng([_digest(body), int(body.get("seed") or 0)])
    score = int(np.clip(round(true + rng.normal(0, 0.8)), 1, 5))
    return Reply(content=json.dumps({"reasoning": f"true {true}, said {score}", "score": score}))


def icc_by_anova(m: np.ndarray) -> tuple[float, float]:
    """ICC(1,1) and ICC(1,k) from scipy's one-way ANOVA F (another route than the mean squares)."""
    k = m.shape[1]
    f = stats.f_oneway(*m).statistic  # groups = samples
    return (f - 1) / (f + k - 1), 1 - 1 / f


def test_repeats_record_k_answers_aggregate_by_mean_and_measure_the_judge_noise(judge_server, manifest_factory, tmp_path, capsys):
    judge_server.script = noisy
    m = manifest_factory(24)
    out = tmp_path / "r.jsonl"
    assert main(["score", "--rubric", "aesthetics-simple", "--data", str(m), "--backend", "openai:judge", "--base-url",
                 judge_server.url, "--no-progress", "--no-cache", "--out", str(out), "--repeats", "5"]) == 0
    printed = capsys.readouterr().out
    assert len(judge_server.received) == 24 * 5
    # Distinct seeds per repeat of one call: 0..4, each call five times.
    seeds: dict[int, list[int]] = {}
    for body in judge_server.received:
        seeds.setdefault(_digest(body), []).append(body["seed"])
    assert all(sorted(v) == [0, 1, 2, 3, 4] for v in seeds.values())

    res = jk.load_results(out)
    matrix = []
    for r in res:
        reps = r.details["repeats"]["aesthetics"]
        assert len(reps) == 5 and len(r.details["sources"]) == 5  # five answers recorded, each with its source
        assert r.scores["aesthetics"] == pytest.approx(sum(reps) / 5) == r.overall
        assert r.overall_first_repeat == reps[0]
        assert r.provenance["repeats"] == 5 and r.provenance["aggregate"] == "mean"
        matrix.append(reps)
    m_ = np.array(matrix, dtype=float)

    [row] = res.repeat_agreement()
    assert row["dimension"] == "aesthetics" and row["n"] == 24 and row["k"] == 5
    agree = sum(len(set(v)) == 1 for v in matrix) / len(matrix)
    sd = statistics.fmean(statistics.stdev(v) for v in matrix)
    icc11, icc1k = icc_by_anova(m_)
    assert row["share_agreeing"] == pytest.approx(agree)
    assert row["mean_within_sd"] == pytest.approx(sd)
    assert row["icc_1_1"] == pytest.approx(icc11, abs=1e-9) and row["icc_1_k"] == pytest.approx(icc1k, abs=1e-9)
    assert row["icc_1_1_ci"][0] <= row["icc_1_1"] <= row["icc_1_1_ci"][1]
    assert row["icc_1_k_ci"][0] <= row["icc_1_k"] <= row["icc_1_k_ci"][1]
    # The noise is real but smaller than the spread of true scores: a reliable, imperfect judge.
    assert 0 < row["share_agreeing"] < 1 and 0.5 < row["icc_1_1"] < 1
    line = re.search(r"aesthetics: n 24, all K agree ([\d.]+), mean within-sample SD ([\d.]+), ICC\(1,1\) ([\d.]+)", printed)
    assert line and float(line.group(3)) == pytest.approx(icc11, abs=5e-4)
    assert float(line.group(1)) == pytest.approx(agree, abs=5e-4) and float(line.group(2)) == pytest.approx(sd, abs=5e-4)

    # The report carries the same figures beside the score CIs.
    page = jk.report(out, path=tmp_path / "report.html").path.read_text()
    blob = json.loads(re.search(r'<script type="application/json" id="jk-data">(.*?)</script>', page, re.S).group(1))
    [sec] = blob["repeats"]
    assert sec["rows"][0]["icc_1_1"] == pytest.approx(icc11)
    assert "jk-sec-repeats" in page and "ICC(1,k)" in page

    # K=1 against K=5 on the same human labels (here, the true scores): calibrate's paired
    # comparison of two scorers reads the first repeat alone from `overall_first_repeat`.
    labels = tmp_path / "labels.jsonl"
    labels.write_text("".join(json.dumps({"sample_id": r.sample_id, "rater": "h", "score": int(r.reasoning["aesthetics"][5])})
                              + "\n" for r in res))
    assert main(["calibrate", "--compare", "--judge", f"k5={out}", "--judge", f"k1={out}:overall_first_repeat",
                 "--human", str(labels), "--human-scale", "1,5", "--bootstrap", "200"]) == 0
    compared = capsys.readouterr().out
    assert "k5" in compared and "k1" in compared and "paired bootstrap p" in compared


def test_a_rerun_with_repeats_replays_from_the_cache_and_repeat_one_is_the_plain_call(judge_server, manifest_factory, tmp_path):
    judge_server.script = noisy
    m = manifest_factory(4)
    cache = str(tmp_path / "c.sqlite")
    plain = jk.score("aesthetics-simple", str(m), backend="openai:judge", base_url=judge_server.url, cache=cache)
    rep = jk.score("aesthetics-simple", str(m), backend="openai:judge", base_url=judge_server.url, cache=cache,
                   repeats=3, aggregate="median")
    assert len(judge_server.received) == 4 + 4 * 2  # repeat 1 is the K=1 call, answered from the cache
    for p, r in zip(plain, rep):
        reps = r.details["repeats"]["aesthetics"]
        assert reps[0] == p.scores["aesthetics"] and r.overall == statistics.median(reps)


def test_repeats_refuse_kinds_without_a_score_scale(judge_server, manifest_factory, tmp_path, capsys):
    assert main(["score", "--rubric", "pairwise-t2i", "--data", str(manifest_factory(2)), "--backend", "openai:judge",
                 "--base-url", judge_server.url, "--no-cache", "--repeats", "3", "--out", str(tmp_path / "r.jsonl")]) == 2
    assert "--repeats applies to pointwise rubrics" in capsys.readouterr().err


def test_aggregates():
    assert aggregate_scores([1, 2, 2, 5], "mean") == 2.5
    assert aggregate_scores([1, 2, 2, 5], "median") == 2.0
    assert aggregate_scores([1, 2, 2, 5], "majority") == 2.0
    # A tie between modes goes to the one nearest the median (3.5), then the lower.
    assert aggregate_scores([1, 1, 4, 4, 5, 5], "majority") == 4.0
    assert aggregate_scores([2, 2, 4, 4], "majority") == 2.0


def test_repeat_agreement_edges():
    same = repeat_agreement([[3, 3], [4, 4], [5, 5]])
    assert same["share_agreeing"] == 1.0 and same["mean_within_sd"] == 0.0 and same["icc_1_1"] == 1.0
    constant = repeat_agreement([[3, 3], [3, 3]])
    assert np.isnan(constant["icc_1_1"])  # nothing varies: reliability is undefined, not 1
    one = repeat_agreement([[1, 2, 3]])
    assert one["n"] == 1 and np.isnan(one["icc_1_1"]) and one["mean_within_sd"] == 1.0


def test_repeats_for_power_is_the_smallest_k_with_enough_power():
    from judgekit.stats.repeats import repeats_for_power

    def power(k, diff_var=0.05, sd=0.6, n=200, delta=0.1, alpha=0.05):  # the paired z-test, written out
        se = ((diff_var + 2 * sd**2 / k) / n) ** 0.5
        z = stats.norm.ppf(1 - alpha / 2)
        return stats.norm.cdf(delta / se - z) + stats.norm.cdf(-delta / se - z)

    k = repeats_for_power(0.05, 0.6, 200, 0.1)
    assert power(k) >= 0.8 > power(k - 1)
    # The prompts' own variance alone leaves too little power: no number of repeats helps.
    assert repeats_for_power(0.5, 0.6, 20, 0.1) is None
