"""One-line errors that say what is wrong and where (issue 18, item 24: leaderboard, calibrate,
bias report and safety messages)."""

from __future__ import annotations

import json

from judgekit.cli import EXIT_USAGE, main
from judgekit.types import Result


def _err(capsys) -> str:
    lines = capsys.readouterr().err.strip().splitlines()
    assert len(lines) == 1, lines
    return lines[0]


def test_leaderboard_names_the_file_and_counts_records_from_one(tmp_path, capsys):
    path = tmp_path / "battles.jsonl"
    rows = [{"model_a": "x", "model_b": "y", "winner": "model_a"}, {"model_a": "y", "model_b": "y", "winner": "tie"}]
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    assert main(["leaderboard", str(path)]) == EXIT_USAGE
    err = _err(capsys)
    assert f"{path}: record 2: model_a and model_b are both 'y'" in err


def _calibration_files(tmp_path, labels, failed=False):
    res = tmp_path / "results.jsonl"
    res.write_text("".join(
        Result(sample_id=f"s{i}", prompt_id=f"p{i}", model="m", rubric="r", status="failed" if failed else "ok",
               error="HTTP 500" if failed else None, overall=None if failed else float(i), scores={} if failed else {"a": float(i)}
               ).model_dump_json() + "\n" for i in range(12)))
    lab = tmp_path / "labels.jsonl"
    lab.write_text("".join(json.dumps(x) + "\n" for x in labels))
    return str(res), str(lab)


def test_calibrate_dimension_on_labels_without_dimensions(tmp_path, capsys):
    res, lab = _calibration_files(tmp_path, [{"sample_id": f"s{i}", "score": i % 5 + 1} for i in range(12)])
    assert main(["calibrate", "--judge", res, "--human", lab, "--dimension", "nope"]) == EXIT_USAGE
    err = _err(capsys)
    assert "[None]" not in err and "no dimension column" in err and "'nope'" in err


def test_human_columns_naming_a_missing_column(tmp_path, capsys):
    res, lab = _calibration_files(tmp_path, [{"sample_id": f"s{i}", "answer": i % 5 + 1} for i in range(12)])
    assert main(["calibrate", "--judge", res, "--human", lab, "--human-columns", "score=answr"]) == EXIT_USAGE
    err = _err(capsys)
    assert "score=answr" in err and "its columns are: answer, sample_id" in err


def test_no_match_is_one_readable_line_not_a_json_blob(tmp_path, capsys):
    res, lab = _calibration_files(tmp_path, [{"sample_id": f"other{i}", "score": 3} for i in range(12)])
    assert main(["calibrate", "--judge", res, "--human", lab]) == EXIT_USAGE
    err = _err(capsys)
    assert "{" not in err and "no item matched" in err and "['other0']" in err and "['s0']" in err


def test_matched_items_that_all_failed_say_so(tmp_path, capsys):
    res, lab = _calibration_files(tmp_path, [{"sample_id": f"s{i}", "score": 3} for i in range(12)], failed=True)
    assert main(["calibrate", "--judge", res, "--human", lab]) == EXIT_USAGE
    err = _err(capsys)
    assert "no item matched" not in err and "12 labelled item(s) matched" in err and "HTTP 500" in err


def test_safety_on_other_results_names_the_rubric(tmp_path, capsys):
    path = tmp_path / "viescore.jsonl"
    path.write_text(Result(sample_id="s0", prompt_id="p", model="m", rubric="viescore-t2i", status="ok",
                           scores={"semantic_consistency": 7.0}, overall=7.0).model_dump_json() + "\n")
    assert main(["safety", str(path)]) == EXIT_USAGE
    err = _err(capsys)
    assert "not results of a binary safety rubric" in err and "'viescore-t2i'" in err


def test_bias_report_names_the_rubric_flag(tmp_path, capsys):
    path = tmp_path / "attrs.jsonl"
    path.write_text(Result(sample_id="s0", prompt_id="p", model="m", rubric="attributes", status="ok",
                           attributes={"gender_presentation": "feminine"}).model_dump_json() + "\n")
    assert main(["bias", "report", str(path), "--rubric", str(tmp_path / "missing.yaml")]) == EXIT_USAGE
    err = _err(capsys)
    assert "--rubric FILE" in err and "pass rubric=FILE" not in err
