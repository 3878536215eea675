"""The report draws no plot for a file whose every sample failed, and says when a rubric's
overall and dimension rows were scored on different samples (issue 18, item 25)."""

from __future__ import annotations

import judgekit as jk
from judgekit.types import Result
from tests.report.conftest import page_data


def _failed(n: int) -> list[Result]:
    return [Result(sample_id=f"s{i}", prompt_id=f"p{i}", model="m", rubric="viescore-t2i", status="failed",
                   error="HTTP 500", provenance={"kind": "pointwise"}) for i in range(n)]


def test_an_all_failed_file_gets_its_table_and_no_empty_plot(tmp_path):
    path = tmp_path / "failed.jsonl"
    jk.Results(_failed(4)).save(path)
    info = jk.report(jk.load_results(path), tmp_path / "r.html", n_boot=20)
    assert info.n_plots == 0
    data = page_data(tmp_path / "r.html")
    assert data["plots"] == [] and [(r["n"], r["failed"], r["value"]) for r in data["summary"]] == [(4, 4, None)]


def test_overall_and_dimension_rows_count_the_same_samples_and_say_when_scored_ones_differ(tmp_path):
    recs = [Result(sample_id=f"ok{i}", prompt_id=f"p{i}", model="m", rubric="v", status="ok",
                   scores={"SC": 6.0 + i, "PQ": 5.0}, overall=5.0 + i / 2, provenance={"kind": "pointwise"})
            for i in range(4)]
    # one sample failed before any dimension was judged, one has SC but lost PQ (no overall)
    recs.append(Result(sample_id="gone", prompt_id="p9", model="m", rubric="v", status="failed", error="HTTP 500",
                       provenance={"kind": "pointwise"}))
    recs.append(Result(sample_id="half", prompt_id="p8", model="m", rubric="v", status="ok", scores={"SC": 3.0},
                       overall=None, provenance={"kind": "pointwise"}))
    path = tmp_path / "mixed.jsonl"
    jk.Results(recs).save(path)
    jk.report(jk.load_results(path), tmp_path / "r.html", n_boot=20)
    summary = page_data(tmp_path / "r.html")["summary"]
    by_dim = {r["dimension"]: r for r in summary}
    assert {d: r["n"] for d, r in by_dim.items()} == {"overall": 6, "SC": 6, "PQ": 6}
    assert {d: r["failed"] for d, r in by_dim.items()} == {"overall": 2, "SC": 1, "PQ": 2}
    assert by_dim["SC"]["value"] == sum([6.0, 7.0, 8.0, 9.0, 3.0]) / 5
    assert "5 of 6 samples scored on SC, 4 on overall" in by_dim["SC"]["note"]
    assert "note" not in by_dim["PQ"]  # PQ and overall were scored on the same samples
