"""The report's safety, sampling-variance and bias sections: the page's JSON holds what the
library functions compute (never a second implementation), flagged samples deep-link to their
cards, one seed per prompt skips the section, and bad input leaves a note instead of no report."""

from __future__ import annotations

import pytest

import judgekit as jk
from judgekit.bias import bias_report
from judgekit.safety import safety_report
from judgekit.seed_summary import seed_summary
from judgekit.stats.estimates import wilson_interval
from tests.report.conftest import page_data
from tests.report.zoo import XSS_REASONING

CI = ("value", "ci_low", "ci_high")


@pytest.fixture(scope="module")
def data(methods_report):
    return page_data(methods_report.path)


def test_safety_section_is_the_safety_report_and_links_the_flagged_card(methods_zoo, data):
    recs = jk.load_results(methods_zoo["safety"]).records
    rep = safety_report(recs)
    (sec,) = data["safety"]
    assert sec["file"] == "safety.jsonl" and sec["failed"] == {"flux": 0, "sdxl": 0}
    got = {(r["model"], r["category"]): r for r in sec["rows"]}
    assert set(got) == {(m, c) for m in ("flux", "sdxl") for c in ["overall", *rep.categories]}
    for (m, c), row in got.items():
        assert {k: row[k] for k in (*CI, "passed", "n")} == rep.models[m][c]
    lo, hi = wilson_interval(2, 3)
    gv = got[("sdxl", "graphic_violence")]
    assert (gv["passed"], gv["n"]) == (2, 3) and gv["ci_low"] == pytest.approx(lo) and gv["ci_high"] == pytest.approx(hi)
    (flag,) = sec["flagged"]
    assert (flag["sample_id"], flag["model"], flag["categories"]) == ("s1-sdxl", "sdxl", ["graphic_violence"])
    assert flag["reasoning"]["graphic_violence"] == XSS_REASONING  # kept as text; the page renders it with textContent
    row = next(r for r in data["rows"] if r["u"] == flag["u"])  # the deep link names a real card
    assert row["id"] == "s1-sdxl" and row["sc"]["graphic_violence"] == 0


def test_seeds_section_is_the_over_seeds_summary(methods_zoo, data):
    recs = jk.load_results(methods_zoo["seeds"]).records
    want = seed_summary(recs, n_boot=50, seed=0).to_dict()
    (sec,) = data["seeds"]  # only the seeded pointwise run: safety has one image per prompt, attributes no scores
    assert sec["rubric"] == "aesthetics-simple" and sec["skipped"] == []
    assert [r["model"] for r in sec["rows"]] == list(want)
    for r in sec["rows"]:
        w = want[r["model"]]
        for key in ("mean_of_n", "best_of_n", "worst_of_n", "per_prompt_sd"):
            assert r[key] == w[key]
        assert r["seeds_per_prompt"] == {"min": 3, "max": 3, "mean": 3.0} and r["n_prompts"] == 4
        vc = r["variance_components"]
        assert sum(vc[k]["value"] for k in ("prompt", "seed", "residual")) == pytest.approx(1.0)
        assert vc["seed"] == {k: w["variance_components"]["seed"][k] for k in CI}
        assert r["best_of_n"]["value"] >= r["mean_of_n"]["value"] >= r["worst_of_n"]["value"]


def test_one_seed_per_prompt_skips_the_section_or_the_model(methods_zoo, zoo_report, tmp_path):
    assert page_data(zoo_report.path)["seeds"] == []  # the zoo has no seeds at all
    recs = jk.load_results(methods_zoo["seeds"]).records
    # sdxl keeps one seed per prompt: it is named as left out, flux still gets its table
    mixed = [r for r in recs if r.model == "flux" or r.seed == 0]
    (sec,) = page_data(jk.report(mixed, tmp_path / "mixed.html", n_boot=20).path)["seeds"]
    assert [r["model"] for r in sec["rows"]] == ["flux"] and sec["skipped"] == ["sdxl"]
    single = [r for r in recs if r.seed == 0]
    assert page_data(jk.report(single, tmp_path / "single.html", n_boot=20).path)["seeds"] == []


def test_bias_section_is_the_bias_report_with_a_bar_chart_per_attribute(methods_zoo, data):
    recs = jk.load_results(methods_zoo["attributes"]).records
    rep = bias_report(recs, per_prompt=False, n_boot=50, seed=0)
    (sec,) = data["bias"]
    assert sec["attributes"] == rep["attributes"]
    for r in sec["rows"]:
        s = rep["models"][r["model"]][r["attribute"]]
        assert [x["group"] for x in r["shares"]] == rep["attributes"][r["attribute"]]
        assert [{k: x[k] for k in CI} for x in r["shares"]] == [s["proportions"][g] for g in rep["attributes"][r["attribute"]]]
        assert r["normalized_entropy"] == s["normalized_entropy"] and (r["n"], r["n_valid"]) == (s["n"], s["n_valid"])
    gender = next(r for r in sec["rows"] if r["model"] == "flux" and r["attribute"] == "gender_presentation")
    assert gender["n"] == 6 and sum(x["value"] for x in gender["shares"]) == pytest.approx(1.0)
    assert gender["n_valid"] + gender["other"].get("unclear", 0) == 6
    plots = [p for p in data["plots"] if p["section"] == "Bias attributes"]
    assert len(plots) == len(rep["attributes"])
    fig = next(p["fig"] for p in plots if "gender presentation" in p["title"])
    assert [t["name"] for t in fig["data"]] == ["flux", "sdxl"]
    bar = fig["data"][0]
    assert bar["x"] == rep["attributes"]["gender_presentation"]
    assert bar["error_y"]["array"] == [
        None if s["ci_high"] is None else s["ci_high"] - s["value"] for s in gender["shares"]]


def test_a_method_that_cannot_summarise_leaves_a_note_not_a_broken_report(methods_zoo, tmp_path):
    recs = jk.load_results(methods_zoo["safety"]).records
    bad = [recs[0].model_copy(update={"scores": {**recs[0].scores, "self_harm": 2}}), *recs[1:]]
    info = jk.report(bad, tmp_path / "bad.html", n_boot=0)
    (sec,) = page_data(info.path)["safety"]
    assert "2 on 'self_harm'" in sec["error"] and sec["rows"] == []  # safety_report's own message
    assert info.n_samples == len(recs)


def test_sections_absent_without_their_methods(zoo_report):
    data = page_data(zoo_report.path)
    assert data["safety"] == [] and data["bias"] == []
    assert not [p for p in data["plots"] if p["section"] == "Bias attributes"]


def test_flagged_links_follow_renamed_ids_and_no_bootstrap_still_gives_cis(methods_zoo, tmp_path):
    # the same safety file twice: the second file's cards are ID~1, and its flagged link says so
    files = [methods_zoo["seeds"], methods_zoo["safety"], methods_zoo["safety"]]
    data = page_data(jk.report(files, tmp_path / "twice.html", n_boot=0).path)
    assert [[f["u"] for f in s["flagged"]] for s in data["safety"]] == [["s1-sdxl"], ["s1-sdxl~1"]]
    uids = {r["u"] for r in data["rows"]}
    assert {"s1-sdxl", "s1-sdxl~1"} <= uids
    assert data["summary"][0]["ci_low"] is None  # --bootstrap 0: no CI in the score table ...
    (sec,) = data["seeds"]
    assert all(r["mean_of_n"]["ci_low"] is not None for r in sec["rows"])  # ... but the seeds section has its own
