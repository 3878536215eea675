"""GEdit-style editing summaries: O per sample then averaged, task types averaged once each,
failures excluded and counted, CIs that resample source samples; end to end from a GEdit-Bench
manifest judged by a real local server."""

from __future__ import annotations

import json
import math
from pathlib import Path

import pytest

import judgekit as jk
from judgekit.cli import main
from judgekit.datasets.gedit import load_gedit
from judgekit.editing import summarize_edits
from judgekit.errors import DataError
from judgekit.types import Result

DATA = Path(__file__).parent.parent / "data" / "editing"


def _r(pid, lang, task, sc, pq, model="M", status="ok"):
    return Result(sample_id=f"{pid}:{lang}:{model}", prompt_id=pid, model=model, rubric="gedit-edit", status=status,
                  overall=None if status != "ok" else math.sqrt(sc * pq), groups={"SC": sc, "PQ": pq},
                  meta={"task_type": task, "instruction_language": lang})


RECORDS = [
    _r("p1", "en", "t1", 4, 9), _r("p2", "en", "t1", 9, 4), _r("p1", "zh", "t1", 2, 8),
    _r("p3", "en", "t2", 1, 1), _r("p4", "en", "t2", None, None, status="failed"),
]


def _rows(summary):
    return {(r["model"], r["language"], r["task_type"]): r for r in summary.rows}


def test_values_counts_and_macro_average():
    rows = _rows(summarize_edits(RECORDS, n_boot=200))
    t1 = rows[("M", "en", "t1")]
    assert (t1["n"], t1["failed"]) == (2, 0)
    assert t1["SC"]["value"] == 6.5 and t1["PQ"]["value"] == 6.5
    assert t1["O"]["value"] == pytest.approx(6.0)  # sqrt per sample (6 and 6), not sqrt(6.5 * 6.5)
    t2 = rows[("M", "en", "t2")]
    assert (t2["n"], t2["failed"], t2["n_scored"]) == (2, 1, 1) and t2["SC"]["value"] == 1.0
    avg = rows[("M", "en", "(avg of task types)")]
    assert (avg["n"], avg["failed"]) == (4, 1)
    assert avg["SC"]["value"] == pytest.approx((6.5 + 1) / 2)  # each task type once, not (4+9+1)/3
    assert avg["O"]["value"] == pytest.approx((6 + 1) / 2)
    zh = rows[("M", "zh", "t1")]
    assert zh["O"]["value"] == pytest.approx(4.0) and math.isnan(zh["O"]["ci_low"])  # one sample: no CI
    both = rows[("M", "all", "t1")]
    assert both["SC"]["value"] == pytest.approx(5.0) and both["O"]["value"] == pytest.approx(16 / 3)


def test_bootstrap_resamples_source_samples():
    rows = _rows(summarize_edits(RECORDS, n_boot=1000, seed=3))
    sc = rows[("M", "all", "t1")]["SC"]
    # Source sample p1 holds two records (en SC 4, zh SC 2; mean 3), p2 one (SC 9). Drawing whole
    # source samples, no replicate mean can fall below 3; drawing records, 1 in 27 draws is 2.
    assert 3 - 1e-9 <= sc["ci_low"] <= sc["value"] <= sc["ci_high"] <= 9
    t1 = rows[("M", "en", "t1")]["O"]
    assert t1["ci_low"] == t1["ci_high"] == 6.0  # both source samples have O = 6


def test_failed_only_cell_is_null_in_json(tmp_path):
    s = summarize_edits([_r("p9", "en", "t9", None, None, status="failed")], n_boot=10)
    out = tmp_path / "s.json"
    s.save(out)
    row = json.loads(out.read_text())["rows"][0]
    assert row["failed"] == 1 and row["SC"] == {"value": None, "ci_low": None, "ci_high": None}
    assert "NaN" not in out.read_text()


def test_records_without_groups_are_an_error():
    r = Result(sample_id="x", rubric="aesthetics-simple", status="ok", overall=3.0)
    with pytest.raises(DataError, match="no groups.SC"):
        summarize_edits([r])
    with pytest.raises(DataError, match="no records"):
        summarize_edits(RECORDS, subset="intersection")


def _script_for(edited_bad_key=None):
    """Replies by criterion; for one GEdit key every over_editing reply is not JSON (a failure)."""
    from tests.judge_server import Reply

    values = {"instruction_success": 8, "over_editing": 6, "naturalness": 9, "artifacts": 4}

    def script(body, n):
        text = " ".join(p.get("text", "") for p in body["messages"][-1]["content"] if isinstance(p, dict))
        dim = next(d for d in values if f'"{d}"' in text)
        if dim == "over_editing" and edited_bad_key and edited_bad_key in text:
            return Reply(content="I cannot tell.")
        return Reply(content=json.dumps({"reasoning": f"{dim} judged", "score": values[dim]}))

    return script


def test_end_to_end_gedit_manifest_scored_and_summarized(judge_server, tmp_path, capsys):
    samples = load_gedit(DATA / "gedit" / "gedit_rows.jsonl", DATA / "gedit" / "results", models=["EditorA"])
    # Make one sample's over_editing call fail for good: its instruction is unique.
    judge_server.reset(_script_for("Remove the dog."))
    res = jk.score("gedit-edit", samples, backend="openai:judge", base_url=judge_server.url,
                   cache=str(tmp_path / "c.sqlite"), backend_options={"backoff_base": 0.01}, parse_retries=1)
    assert [r.status for r in res] == ["ok", "ok", "ok", "failed"]
    ok = res[0]
    assert ok.model_extra["groups"] == {"SC": 6.0, "PQ": 4.0} and ok.overall == pytest.approx(math.sqrt(24))
    assert ok.meta["task_type"] == "background_change" and ok.meta["instruction_language"] == "en"
    out = tmp_path / "judge.jsonl"
    res.save(out)
    assert main(["edit", "summary", str(out), "--bootstrap", "50", "--out", str(tmp_path / "s.json")]) == 0
    printed = capsys.readouterr().out
    assert "subject-remove" in printed and "(avg of task types)" in printed
    rows = _rows(summarize_edits(out, n_boot=50))
    assert rows[("EditorA", "en", "subject-remove")]["failed"] == 1
    avg = rows[("EditorA", "en", "(avg of task types)")]
    assert avg["O"]["value"] == pytest.approx(math.sqrt(24))
    assert avg["task_types_without_scores"] == ["subject-remove"]
    assert "leaves out task types whose samples all failed: subject-remove" in printed
    assert rows[("EditorA", "zh", "background_change")]["n"] == 1
