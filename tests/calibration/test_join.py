"""jk.calibrate on synthetic studies written to disk: joins with unmatched rows, bad input,
the report's shapes, judge comparison, calibration maps and the CLI."""

import csv
import json

import numpy as np
import pytest

import judgekit as jk
from judgekit.calibration.compare import compare_judges
from judgekit.calibration.labels import load_human_labels
from judgekit.calibration.maps import apply_calibration, fit_isotonic, fit_map, fit_ordinal, load_map
from judgekit.calibration.ppi import prediction_powered
from judgekit.calibration.report import calibrate
from judgekit.calibration.scores import load_scores
from judgekit.cli import main
from judgekit.errors import ConfigError, DataError
from judgekit.types import Result

MODELS = ("sdxl", "flux", "sd15")


def _study(tmp_path, n_prompts=30, raters=3, seed=0, judge_noise=0.15, constant=False):
    """A results file (with 2 failures and 3 unlabelled samples), a label file (with 4 items the
    judge never scored) and a baseline CSV."""
    rng = np.random.default_rng(seed)
    results, labels, base = [], [], []
    for p in range(n_prompts + 1):
        for m in MODELS:
            q = rng.normal(3, 1)
            sid = f"p{p}-{m}"
            if p < n_prompts:  # the last prompt has judge scores but no labels
                for r in range(raters):
                    labels.append({"item_id": f"p{p}", "t2i_model": m, "worker_id": f"w{r}",
                                   "answer": int(np.clip(round(q + rng.normal(0, 0.7)), 1, 5))})
            score = 0.5 if constant else float(np.clip((q - 1) / 4 + rng.normal(0, judge_noise), 0, 1))
            failed = (p, m) in {(0, "sdxl"), (1, "flux")}
            if (p, m) in {(2, "sd15"), (3, "sd15"), (4, "sd15"), (5, "sd15")}:
                continue  # labelled, never scored
            results.append(Result(sample_id=sid, prompt_id=f"p{p}", model=m, rubric="r", status="failed" if failed else "ok",
                                  scores={} if failed else {"alignment": score}, overall=None if failed else score,
                                  error="parse failure" if failed else None))
            base.append({"prompt_id": f"p{p}", "model": m, "clip": q + rng.normal(0, 2)})
    res_path = tmp_path / "results.jsonl"
    res_path.write_text("".join(r.model_dump_json() + "\n" for r in results))
    lab_path = tmp_path / "labels.csv"
    with lab_path.open("w", newline="") as fh:
        w = csv.DictWriter(fh, fieldnames=["item_id", "t2i_model", "worker_id", "answer"])
        w.writeheader()
        w.writerows(labels)
    base_path = tmp_path / "clip.csv"
    with base_path.open("w", newline="") as fh:
        w = csv.DictWriter(fh, fieldnames=["prompt_id", "model", "clip"])
        w.writeheader()
        w.writerows(base)
    return res_path, lab_path, base_path


COLS = "prompt_id=item_id,model=t2i_model,rater=worker_id,score=answer"


def test_join_counts_every_unmatched_row(tmp_path):
    res, lab, base = _study(tmp_path)
    rep = jk.calibrate(str(res), str(lab), [f"{base}:clip"], human_columns=COLS, human_scale=(1, 5), n_boot=30)
    assert rep.n == 30 * 3 - 2 - 4
    u = rep.unmatched["judge"]
    assert u["failed_or_empty"] == 2 and u["labelled_items_without_score"] == 4
    assert u["scorer_rows_without_label"] == 3  # the unlabelled prompt
    assert ["p0", "sdxl", "failed: parse failure"] in u["examples"]["failed"]
    assert rep.unmatched["clip:clip"]["scorer_rows_without_label"] == 3
    assert rep.unmatched["labelled_items_not_scored_by_every_scorer"] == 6
    # JSON shape of the issue
    d = json.loads(rep.to_json())
    assert set(d) >= {"n", "unmatched", "scorers", "human_ceiling", "system_level"}
    assert set(d["scorers"]["judge"]) >= {"pearson", "spearman", "kendall_tau_b", "kendall_tau_c", "qwk",
                                          "krippendorff_alpha", "pairwise_accuracy"}
    assert set(d["scorers"]["judge"]["spearman"]) >= {"value", "ci_low", "ci_high"}
    # the judge tracks quality much better than the noisy baseline
    assert d["scorers"]["judge"]["spearman"]["value"] > d["scorers"]["clip:clip"]["spearman"]["value"]
    table = rep.table()
    assert table.index("human ceiling") < table.index("judge") < table.index("clip:clip")


def test_join_on_sample_id_and_results_objects(tmp_path):
    res, _, _ = _study(tmp_path)
    records = [json.loads(line) for line in res.read_text().splitlines()]
    labels = [{"sample_id": r["sample_id"], "rater": "w0", "score": 3 + (r["overall"] or 0) * 2 // 1}
              for r in records if r["status"] == "ok"]
    rep = calibrate(jk.load_results(res), labels, n_boot=20)  # a Results object
    assert rep.meta["join_on"] == "sample_id" and rep.n == len(labels)
    # a rater column naming one rater: no ceiling, and the report says so
    assert rep.human_ceiling is None and "one rater per item: no human ceiling" in rep.table()
    assert rep.to_dict()["human_ceiling"] is None


def test_dimension_column_and_named_baselines(tmp_path):
    res, lab, base = _study(tmp_path)
    rep = calibrate(res, lab, {"clip": (str(base), "clip")}, judge_column="alignment",
                    human_columns=COLS, human_scale=(1, 5), n_boot=20)
    assert set(rep.scorers) == {"judge", "clip"} and rep.meta["scorers"]["judge"] == "alignment"
    with pytest.raises(ConfigError, match="no column 'nope'"):
        load_scores(f"{base}:nope")


def test_labels_outside_the_scale_are_an_error(tmp_path):
    _, lab, _ = _study(tmp_path)
    text = lab.read_text().splitlines()
    text[5] = text[5].rsplit(",", 1)[0] + ",7"
    lab.write_text("\n".join(text) + "\n")
    with pytest.raises(DataError, match=r"labels.csv:6: score '7' is outside the declared scale 1-5"):
        load_human_labels(lab, COLS, scale=(1, 5))


def test_bad_label_files(tmp_path):
    p = tmp_path / "l.jsonl"
    p.write_text('{"prompt_id": "a", "score": 3}\n')
    with pytest.raises(DataError, match="needs sample_id, or both prompt_id and model"):
        load_human_labels(p)
    p.write_text('{"sample_id": "a", "answer": 3}\n')
    with pytest.raises(DataError, match="no value column"):
        load_human_labels(p)
    p.write_text('{"sample_id": "a", "score": "good"}\n')
    with pytest.raises(DataError, match="l.jsonl:1: score 'good' is not a number"):
        load_human_labels(p)
    p.write_text('{"sample_id": "a", "label": "maybe"}\n')
    with pytest.raises(DataError, match="not pass/fail"):
        load_human_labels(p)
    with pytest.raises(DataError, match="unknown label field"):
        load_human_labels(p, "rating=answer")
    p.write_text('{"sample_id": "a", "score": ""}\n{"sample_id": "b", "score": 2}\n')
    labels = load_human_labels(p)
    assert len(labels.rows) == 1 and "empty score" in labels.skipped[0]


def test_constant_judge_is_reported_not_a_crash(tmp_path):
    res, lab, _ = _study(tmp_path, constant=True)
    rep = calibrate(res, lab, human_columns=COLS, human_scale=(1, 5), n_boot=20)
    sp = rep.to_dict()["scorers"]["judge"]["spearman"]
    assert sp["value"] is None and "same score" in sp["note"]
    assert any("same score" in w for w in rep.warnings)
    assert "n/a" in rep.table()


def test_few_matched_items_warns(tmp_path):
    res, lab, _ = _study(tmp_path, n_prompts=3)
    rep = calibrate(res, lab, human_columns=COLS, human_scale=(1, 5), n_boot=20)
    assert rep.n < 10 and any("unreliable" in w for w in rep.warnings)


def test_nothing_matched_is_a_clear_error(tmp_path):
    res, _, _ = _study(tmp_path)
    with pytest.raises(DataError, match="no item matched"):
        calibrate(res, [{"sample_id": "zzz", "score": 3}], n_boot=10)


def test_pass_fail_labels(tmp_path):
    res, _, _ = _study(tmp_path)
    records = [json.loads(line) for line in res.read_text().splitlines()]
    labels = [{"sample_id": r["sample_id"], "label": "pass" if (r["overall"] or 0) > 0.5 else "fail"}
              for r in records if r["status"] == "ok"]
    rep = calibrate(records, labels, n_boot=20)
    assert rep.meta["human_levels"] == [0.0, 1.0] and rep.scorers["judge"]["spearman"].value > 0.7


def test_compare_judges_ranks_with_a_paired_test(tmp_path):
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    good, lab, _ = _study(tmp_path / "a", seed=0)
    bad, _, _ = _study(tmp_path / "b", seed=0, judge_noise=0.6)
    comp = compare_judges({"noisy": bad, "sharp": good}, lab, human_columns=COLS, human_scale=(1, 5), n_boot=60)
    assert [r["name"] for r in comp.ranking] == ["sharp", "noisy"]
    assert comp.top_two["difference"] > 0 and comp.top_two["p_value"] < 0.05
    assert comp.top_two["ci_low"] > 0
    assert "paired bootstrap" in comp.table()
    json.dumps(comp.to_dict())


def test_prediction_powered_per_model(tmp_path):
    res, lab, _ = _study(tmp_path, n_prompts=40)
    labels = load_human_labels(lab, COLS, (1, 5))
    labels.rows = [r for r in labels.rows if int(r.prompt_id[1:]) < 20]  # humans label half
    rep = prediction_powered(res, labels, target_width=0.5)
    for m in MODELS:
        e = rep.means[m]
        assert e["ppi"]["N"] > 0 and e["ppi"]["n"] >= 16
        assert e["ppi"]["ci_high"] - e["ppi"]["ci_low"] <= e["human_only"]["ci_high"] - e["human_only"]["ci_low"] + 1e-9
    assert "sdxl vs flux" in rep.win_rates or "flux vs sdxl" in rep.win_rates
    assert rep.labels_needed["ppi"] <= rep.labels_needed["human_only"]
    assert "ppi++" in rep.table()


# --- calibration maps ---------------------------------------------------------------------------


def test_isotonic_matches_scikit_learn():
    from sklearn.isotonic import IsotonicRegression

    rng = np.random.default_rng(0)
    x = np.round(rng.random(200), 2)  # with ties in x
    y = np.clip(np.round(1 + 4 * x**2 + rng.normal(0, 0.8, 200)), 1, 5)
    ours = fit_isotonic(x, y)
    ref = IsotonicRegression(out_of_bounds="clip").fit(x, y)
    grid = np.linspace(-0.1, 1.1, 57)
    assert np.allclose(ours.apply(grid), ref.predict(grid))


def test_ordinal_map_matches_statsmodels():
    om = pytest.importorskip("statsmodels.miscmodels.ordinal_model")
    rng = np.random.default_rng(1)
    x = rng.normal(size=400)
    latent = 1.3 * x + rng.logistic(size=400)
    y = np.digitize(latent, [-2, -0.5, 0.7, 2]) + 1.0
    ours = fit_ordinal(x, y, levels=[1, 2, 3, 4, 5], ridge=0.0)
    ref = om.OrderedModel(y, x[:, None], distr="logit").fit(method="bfgs", disp=False)
    ref_p = ref.predict(x[:, None])
    assert np.allclose(ours.proba(x), ref_p, atol=2e-3)


def test_fit_map_cross_validates_saves_and_applies(tmp_path):
    rng = np.random.default_rng(2)
    n = 300
    q = rng.normal(3, 1, n)
    ratings = np.clip(np.round(q[:, None] + rng.normal(0, 0.6, (n, 3))), 1, 5)
    judge = 1 / (1 + np.exp(-(q - 3) * 2))  # monotone but far from linear
    groups = np.repeat(np.arange(100), 3)
    for kind in ("isotonic", "ordinal"):
        m = fit_map(kind, judge, ratings, groups, levels=[1, 2, 3, 4, 5])
        assert m.cv["folds"] == 5 and m.cv["mae"] < m.cv["mae_linear_rescale"]
        m.save(tmp_path / f"{kind}.json")
        back = load_map(tmp_path / f"{kind}.json")
        assert np.allclose(back.apply(judge[:10]), m.apply(judge[:10]))
    recs = [Result(sample_id="a", rubric="r", status="ok", overall=0.9),
            Result(sample_id="b", rubric="r", status="failed", error="x")]
    out = jk.apply_calibration(recs, tmp_path / "isotonic.json")
    assert 1 <= out[0].overall <= 5 and out[0].details["uncalibrated"] == {"overall": 0.9}
    assert out[1].overall is None and out[1].status == "failed"
    assert apply_calibration([{"sample_id": "c", "status": "ok", "overall": 0.1}], back)[0]["overall"] <= 5


def test_binary_labels_get_brier_and_ece():
    rng = np.random.default_rng(3)
    s = rng.random(400)
    y = (rng.random(400) < s).astype(float)
    m = fit_map("isotonic", s, y, np.arange(400), levels=[0, 1])
    assert 0 <= m.cv["brier"] < 0.25 and 0 <= m.cv["ece"] < 0.1


# --- the command line ---------------------------------------------------------------------------


def test_cli_report_map_and_compare(tmp_path, capsys):
    res, lab, base = _study(tmp_path)
    out, mp = tmp_path / "report.json", tmp_path / "map.json"
    rc = main(["calibrate", "--judge", str(res), "--human", str(lab), "--human-columns", COLS, "--human-scale", "1,5",
               "--baseline", f"clip={base}:clip", "--bootstrap", "30", "--out", str(out),
               "--fit-map", "isotonic", "--map-out", str(mp)])
    text = capsys.readouterr().out
    assert rc == 0 and "human ceiling" in text and "clip" in text and "held-out" in text
    d = json.loads(out.read_text())
    assert d["n"] == 84 and "clip" in d["scorers"] and d["calibration_map"]["method"] == "isotonic"
    assert load_map(mp).method == "isotonic"
    rc = main(["calibrate", "--compare", "--judge", f"a={res}", "--judge", f"b={base}:clip", "--human", str(lab),
               "--human-columns", COLS, "--human-scale", "1,5", "--bootstrap", "30"])
    assert rc == 0 and "paired bootstrap p" in capsys.readouterr().out
    rc = main(["calibrate", "--judge", str(res), "--judge", str(res), "--human", str(lab), "--human-columns", COLS])
    assert rc == 2 and "--compare" in capsys.readouterr().err
    rc = main(["calibrate", "--judge", str(res), "--human", str(lab), "--human-columns", COLS, "--human-scale", "1,4"])
    assert rc == 2 and "outside the declared scale 1-4" in capsys.readouterr().err


def test_matched_comparison_and_dimensions_in_the_cli(tmp_path, capsys):
    res, lab, _ = _study(tmp_path)
    rep = calibrate(res, lab, human_columns=COLS, human_scale=(1, 5), n_boot=20, matched=True)
    assert rep.matched["judge"]["spearman"].value < rep.human_ceiling["spearman"].value + 0.5
    assert "judge (vs others)" in rep.table() and "matched" in rep.to_dict()
    # labels with two dimensions: the CLI reports each in turn
    rows = list(csv.DictReader(lab.open()))
    two = tmp_path / "two.jsonl"
    with two.open("w") as fh:
        for r in rows:
            for dim in ("alignment", "quality"):
                fh.write(json.dumps({"prompt_id": r["item_id"], "model": r["t2i_model"], "rater": r["worker_id"],
                                     "dimension": dim, "score": int(r["answer"])}) + "\n")
    out = tmp_path / "dims.json"
    assert main(["calibrate", "--judge", str(res), "--human", str(two), "--bootstrap", "10", "--out", str(out)]) == 0
    assert "== dimension quality ==" in capsys.readouterr().out
    d = json.loads(out.read_text())
    assert set(d["dimensions"]) == {"alignment", "quality"}
    assert d["dimensions"]["alignment"]["meta"]["scorers"]["judge"] == "alignment"  # scores[dimension] used
    assert any("overall score is used" in w for w in d["dimensions"]["quality"]["warnings"])
    with pytest.raises(ConfigError, match="several dimensions"):
        calibrate(res, two, n_boot=10)


def test_win_rates_from_winner_labels(tmp_path):
    res, lab, _ = _study(tmp_path, n_prompts=40)
    ratings: dict = {}
    for r in csv.DictReader(lab.open()):
        ratings.setdefault((r["item_id"], r["t2i_model"]), []).append(int(r["answer"]))
    labels = []
    for p in range(20):  # people chose a winner on half of the prompts
        for a, b in (("sdxl", "flux"), ("flux", "sd15"), ("sd15", "sdxl")):
            ma, mb = np.mean(ratings[(f"p{p}", a)]), np.mean(ratings[(f"p{p}", b)])
            labels.append({"prompt_id": f"p{p}", "model_a": a, "model_b": b,
                           "winner": "a" if ma > mb else "b" if mb > ma else "tie"})
    rep = prediction_powered(res, labels)
    assert rep.means == {} and rep.meta["human_kind"] == "winner"
    e = rep.win_rates["flux vs sdxl"]
    assert e["ppi"]["n"] >= 18 and e["ppi"]["N"] >= 19 and 0 <= e["ppi"]["value"] <= 1
    assert e["ppi"]["lambda"] > 0  # the judge's verdicts carry information about people's choices
    with pytest.raises(DataError, match="winner 'c'"):
        prediction_powered(res, [{"prompt_id": "p1", "model_a": "sdxl", "model_b": "flux", "winner": "c"}])
