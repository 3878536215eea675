"""`judgekit import gedit`: GEdit-Bench's intermediate score CSVs as group-level judgekit
results; bad cells failed with reasons, duplicates collapsed, rows GEdit skipped made visible."""

from __future__ import annotations

import math
from pathlib import Path

import pytest

import judgekit as jk
from judgekit.cli import main
from judgekit.editing import summarize_edits
from judgekit.errors import ConfigError, DataError
from judgekit.importers import import_verdicts

DATA = Path(__file__).parent.parent / "data"
EVAL = DATA / "gedit_scores"
ROWS = DATA / "editing" / "gedit" / "gedit_rows.jsonl"


def _brief(r):
    return (r.sample_id, r.prompt_id, r.status, r.model_extra["groups"], r.overall, r.error,
            r.meta["task_type"], r.meta["instruction_language"])


def test_import_records():
    res = import_verdicts("gedit", EVAL, "gedit-edit", metadata=ROWS)
    assert [_brief(r) for r in res] == [
        ("a1f3:en:EditorA", "a1f3", "ok", {"SC": 8.0, "PQ": 6.0}, math.sqrt(48), None, "background_change", "en"),
        ("a1f3:zh:EditorA", "a1f3", "failed", {"SC": 5.0, "PQ": None}, None, "PQ: empty (column quality_score)",
         "background_change", "zh"),
        ("b702:en:EditorA", "b702", "failed", {"SC": None, "PQ": None}, None,
         "SC: 'n/a' is not a number (column sementics_score); "
         "PQ: score 12.0 is outside the scale [0, 10] (column quality_score)",
         "color_alter", "en"),
        ("c9e0:en:EditorA", "c9e0", "failed", {"SC": None, "PQ": None}, None,
         "no score in GEdit's files (its evaluation skips samples whose images are missing)", "subject-remove", "en"),
    ]
    assert res[0].scores == {} and res[0].details["granularity"] == "groups"
    assert res[0].details["source"] == "EditorA_background_change_gpt_score.csv:2"
    assert res.run_info["duplicate_rows"] == 1 and res.run_info["rows_without_score"] == 1


def test_cli_import_then_summary_and_loading(tmp_path, capsys):
    out = tmp_path / "judge.jsonl"
    assert main(["import", "gedit", str(EVAL), "--rubric", "gedit-edit", "--metadata", str(ROWS), "--out", str(out)]) == 0
    assert "imported 4 records (3 failed)" in capsys.readouterr().err
    assert len(jk.load_results(out)) == 4
    rows = {(r["language"], r["task_type"]): r for r in summarize_edits(out, n_boot=20).rows}
    assert rows[("en", "background_change")]["O"]["value"] == pytest.approx(math.sqrt(48))
    assert rows[("en", "(avg of task types)")]["task_types_without_scores"] == ["color_alter", "subject-remove"]
    assert main(["import", "viescore", str(EVAL), "--metadata", str(ROWS), "--out", str(out)]) == 2


def test_errors(tmp_path):
    with pytest.raises(DataError, match="no <model>_<task_type>_gpt_score.csv"):
        import_verdicts("gedit", tmp_path, "gedit-edit")
    with pytest.raises(ConfigError, match="combine rule 'viescore'"):
        bad = tmp_path / "r.yaml"
        bad.write_text("name: r\ninputs: [image]\ndimensions:\n  - {name: a, group: SC, criteria: x}\n"
                       "  - {name: b, group: PQ, criteria: y}\ncombine: {rule: mean}\n")
        import_verdicts("gedit", EVAL, bad)
    (tmp_path / "M_color_alter_gpt_score.csv").write_text(
        "edited_image,sementics_score,quality_score\nsomewhere/k.png,1,1\n", encoding="utf-8")
    with pytest.raises(DataError, match=r"M_color_alter_gpt_score.csv:2: edited_image"):
        import_verdicts("gedit", tmp_path, "gedit-edit")


_HEAD = "source_image,edited_image,instruction,sementics_score,quality_score,intersection_exist,instruction_language\n"


def _row(key, sc, pq, lang="en"):
    return f"/d/fullset/color_alter/{lang}/{key}_SRC.png,/d/fullset/color_alter/{lang}/{key}.png,Make it red.,{sc},{pq},True,{lang}\n"


def test_a_later_valid_duplicate_row_wins_over_an_earlier_empty_one(tmp_path, capsys):
    # Issue 18 item 9: the first row was kept even when empty and a later row of the sample was valid.
    (tmp_path / "M_color_alter_gpt_score.csv").write_text(
        _HEAD + _row("k1", "", "") + _row("k2", 4, 5) + _row("k1", 7, 3) + _row("k2", 6, 6) + _row("k2", "", 1)
        + _row("k3", "x", 2) + _row("k3", "", 2), encoding="utf-8")
    res = import_verdicts("gedit", tmp_path)  # no rubric: GEdit's own, gedit-edit
    got = {r.sample_id: (r.status, r.model_extra["groups"], r.details["source"]) for r in res}
    assert got == {
        "k1:en:M": ("ok", {"SC": 7.0, "PQ": 3.0}, "M_color_alter_gpt_score.csv:4"),  # the later valid row
        "k2:en:M": ("ok", {"SC": 4.0, "PQ": 5.0}, "M_color_alter_gpt_score.csv:3"),  # the first valid row stays
        "k3:en:M": ("failed", {"SC": None, "PQ": 2.0}, "M_color_alter_gpt_score.csv:7"),  # none valid: the first
    }
    assert [r.sample_id for r in res] == ["k1:en:M", "k2:en:M", "k3:en:M"]  # order of first appearance
    assert res[0].rubric == "gedit-edit"
    assert res.run_info["duplicate_rows"] == 4 and res.run_info["conflicting_duplicate_rows"] == 1
    assert main(["import", "gedit", str(tmp_path), "--out", str(tmp_path / "o.jsonl")]) == 0
    err = capsys.readouterr().err
    assert "4 duplicate row(s) of samples already read (1 with other valid scores)" in err
    # The tally says why (it printed a bare "1 x SC").
    assert "1 x SC: '...' is not a number" in err


def test_an_import_whose_every_row_failed_exits_3_with_the_reasons(tmp_path, capsys):
    (tmp_path / "M_color_alter_gpt_score.csv").write_text(_HEAD + _row("k1", "", 4) + _row("k2", 3, 11),
                                                          encoding="utf-8")
    assert main(["import", "gedit", str(tmp_path), "--out", str(tmp_path / "o.jsonl")]) == 3
    err = capsys.readouterr().err
    assert "1 x SC: empty\n" in err and "1 x PQ: score 11.0 is outside the scale [0, 10]\n" in err
    assert "no record imported (2 of 2 failed); first: k1:en:M: SC: empty (column sementics_score)" in err
    assert len(jk.load_results(tmp_path / "o.jsonl")) == 2  # the failures are still written
