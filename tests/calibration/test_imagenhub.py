"""Calibrating VIEScore's GPT-4o verdicts against ImagenHub's three raters, from the CLI, on both
vendored tasks, checked against an independent scipy computation on the raw TSV and JSON files."""

from __future__ import annotations

import csv
import json
import math
import re

import numpy as np
import pytest
from scipy import stats

from judgekit.calibration.imagenhub import load_imagenhub_ratings, parse_cell
from judgekit.cli import main
from judgekit.errors import DataError
from judgekit.resources import data_path

ROOT = data_path("calibration", "imagenhub")
TASKS = ("ImagenHub_Text-Guided_IE", "ImagenHub_Mask-Guided_IE")


# --- the independent computation: raw files, no judgekit ------------------------------------------


def _raw_humans(task: str, dim: str) -> dict[str, list[float]]:
    """(uid:model) -> one value per rater, straight from the TSVs."""
    out: dict[str, list[float]] = {}
    for f in sorted((ROOT / "human_ratings" / task).glob("*_rater*.tsv")):
        with f.open(newline="", encoding="utf-8") as fh:
            rows = list(csv.reader(fh, delimiter="\t"))
        models = rows[0][1:]
        for row in rows[1:]:
            for model, cell in zip(models, row[1:]):
                nums = [float(x) for x in re.findall(r"\d+(?:\.\d+)?", cell)]
                if len(nums) != 2:
                    continue
                sc, pq = nums
                out.setdefault(f"{row[0]}:{model}", []).append({"SC": sc, "PQ": pq, "overall": math.sqrt(sc * pq)}[dim])
    return out


def _raw_judge(task: str, dim: str) -> dict[str, float]:
    """(uid:model) -> GPT-4o's score: min of each list, sqrt(SC*PQ) overall; entries that are
    guesses, not two numbers in 0-10 (a half point counts, as the importer keeps it), or missing on
    either side are left out."""
    def valid(e):
        s = e.get("score")
        return (isinstance(s, list) and len(s) == 2 and not e["reasoning"].startswith("guess_if_cannot_parse")
                and all(isinstance(x, int | float) and not isinstance(x, bool) and 0 <= x <= 10 for x in s))

    out = {}
    for mdir in sorted((ROOT / "viescore_gpt4o_0shot" / task).iterdir()):
        sc = json.loads((mdir / "SC.json").read_text())
        pq = json.loads((mdir / "PQ.json").read_text())
        for uid in sc:
            if uid in pq and valid(sc[uid]) and valid(pq[uid]):
                g = {"SC": min(sc[uid]["score"]), "PQ": min(pq[uid]["score"])}
                g["overall"] = math.sqrt(g["SC"] * g["PQ"])
                out[f"{uid}:{mdir.name}"] = g[dim]
    return out


def _fisher_mean(rs):
    return float(np.tanh(np.mean(np.arctanh(rs))))


# --- the CLI ----------------------------------------------------------------------------------------


@pytest.mark.parametrize("task", TASKS)
@pytest.mark.parametrize("dim", ["SC", "PQ", "overall"])
def test_cli_calibration_matches_scipy(tmp_path, task, dim, capsys):
    judge = tmp_path / "judge.jsonl"
    assert main(["import", "viescore", str(ROOT / "viescore_gpt4o_0shot" / task), "--rubric", "viescore-edit",
                 "--out", str(judge)]) == 0
    report = tmp_path / "report.json"
    assert main(["calibrate", "--judge", str(judge), "--human", f"imagenhub:{ROOT / 'human_ratings' / task}",
                 "--dimension", dim, "--bootstrap", "20", "--out", str(report)]) == 0
    assert "human ceiling" in capsys.readouterr().out
    rep = json.loads(report.read_text())

    humans, judged = _raw_humans(task, dim), _raw_judge(task, dim)
    keys = sorted(set(humans) & set(judged))
    j = np.array([judged[k] for k in keys])
    ratings = np.array([humans[k] for k in keys])  # every item has all three raters here
    # Each item's mean with math.fsum (exactly rounded): equal ratings in other rater columns
    # tie exactly, as they must for the ranks (issue 18.5; a plain row mean breaks such ties).
    h = np.array([math.fsum(row) / len(row) for row in ratings.tolist()])
    assert rep["n"] == len(keys) and ratings.shape[1] == 3
    got = rep["scorers"]["judge"]
    assert got["spearman"]["value"] == pytest.approx(stats.spearmanr(j, h).statistic, abs=1e-6)
    assert got["pearson"]["value"] == pytest.approx(stats.pearsonr(j, h).statistic, abs=1e-6)
    assert got["kendall_tau_b"]["value"] == pytest.approx(stats.kendalltau(j, h).statistic, abs=1e-6)
    ceiling = [stats.spearmanr(ratings[:, r], [math.fsum(o) / len(o) for o in np.delete(ratings, r, 1).tolist()]).statistic
               for r in range(3)]
    assert rep["human_ceiling"]["spearman"]["value"] == pytest.approx(_fisher_mean(ceiling), abs=1e-6)
    sp = got["spearman"]  # the CI as [lo, hi] (v0.1) or ci_low/ci_high (after the CI-field rename)
    lo, hi = sp["ci"] if "ci" in sp else (sp["ci_low"], sp["ci_high"])
    assert lo <= got["spearman"]["value"] <= hi
    # Humans rated items the judge has no verdict for (Imagic; failed imports): counted, not dropped.
    unmatched = rep["unmatched"]["judge"]
    assert unmatched["labelled_items_without_score"] + unmatched["failed_or_empty"] == len(set(humans) - set(judged))
    assert rep["meta"]["scorers"]["judge"] == ("overall" if dim == "overall" else f"groups.{dim}")
    assert rep["meta"]["human_levels"] == ([0.0, 0.5, 1.0] if dim != "overall" else [0.0, 0.5, math.sqrt(0.5), 1.0])
    assert not rep["warnings"]


# --- the reader ---------------------------------------------------------------------------------------


def test_reader_counts_empty_and_malformed_cells(tmp_path):
    d = tmp_path / "Toy_IE"
    d.mkdir()
    (d / "Toy_IE_rater1.tsv").write_bytes(
        b"uid\tM1\tM2\r\nu1\t[1, 0.5]\t[0,0]\r\nu2\t\t[0.5,1]\r\nu3\t[1]\tyes\r\nu4\t[2, 1]\r\n")
    (d / "Toy_IE_rater2.tsv").write_text("uid\tM1\tM2\nu1\t[0.5, 0.5]\t[ 1 , 1 ]\n", encoding="utf-8")
    labels = load_imagenhub_ratings(d)
    got = {(r.sample_id, r.rater, r.dimension): r.value for r in labels.rows}
    assert got[("u1:M1", "rater1", "SC")] == 1.0 and got[("u1:M1", "rater1", "PQ")] == 0.5
    assert got[("u1:M1", "rater1", "overall")] == pytest.approx(math.sqrt(0.5))
    assert got[("u1:M2", "rater2", "overall")] == 1.0
    assert got[("u2:M2", "rater1", "PQ")] == 1.0
    assert len(labels.rows) == 3 * 5
    assert [s.split(": ", 1)[1] for s in labels.skipped] == [
        "empty cell",
        "cell '[1]' is not a two-element [SC, PQ] list",
        "cell 'yes' is not a [SC, PQ] list",
        "cell '[2, 1]' is outside ImagenHub's 0-1 scale",
        "row ends before this column",
    ]
    assert labels.skipped[0].startswith(f"{d / 'Toy_IE_rater1.tsv'}:3 (u2, M1)")
    sc = load_imagenhub_ratings(d, dimension="SC")
    assert {r.dimension for r in sc.rows} == {"SC"} and sc.levels().tolist() == [0.0, 0.5, 1.0]


def test_reader_errors(tmp_path):
    with pytest.raises(DataError, match="no \\*_rater\\*.tsv"):
        load_imagenhub_ratings(tmp_path)
    with pytest.raises(DataError, match="dimensions"):
        load_imagenhub_ratings(tmp_path, dimension="quality")
    (tmp_path / "x_rater1.tsv").write_text("id\tM\n", encoding="utf-8")
    with pytest.raises(DataError, match="expected a header"):
        load_imagenhub_ratings(tmp_path)
    assert main(["calibrate", "--judge", "nope.jsonl", "--human", f"imagenhub:{tmp_path / 'none'}"]) == 2


def test_parse_cell_spacing():
    assert parse_cell("[0,0]") == parse_cell(" [0, 0] ") == (0.0, 0.0)
    assert parse_cell("[true, 1]") == "cell '[true, 1]' holds a non-number"


def test_autometrics_as_a_baseline():
    import judgekit as jk
    from judgekit.calibration.imagenhub import load_imagenhub_autometrics

    task = "ImagenHub_Mask-Guided_IE"
    recs = load_imagenhub_autometrics(ROOT / "autometrics" / task)
    assert len(recs) == 4 * 179 and recs[0]["sample_id"].endswith(":BlendedDiffusion")
    labels = load_imagenhub_ratings(ROOT / "human_ratings" / task, dimension="PQ")
    rep = jk.calibrate(recs, labels, judge_column="LPIPS", n_boot=20)
    humans = _raw_humans(task, "PQ")
    lp = {r["sample_id"]: r["LPIPS"] for r in recs}
    keys = sorted(set(humans) & set(lp))
    want = stats.spearmanr([lp[k] for k in keys], [np.mean(humans[k]) for k in keys]).statistic
    assert rep.n == len(keys) and rep.scorers["judge"]["spearman"].value == pytest.approx(want, abs=1e-9)
