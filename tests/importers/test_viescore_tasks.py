"""`judgekit import viescore` on each of ImagenHub's seven tasks: the task in the folder name
picks the built-in rubric laid out like VIEScore's recorded lists, `--rubric` overrides it, an
import whose every item failed exits 3 with the reasons, and the published parser's leniency on
form (a bare number, a half point) is followed while guesses stay failures (issue 18, items 33-34)."""

from __future__ import annotations

import json
import math
from pathlib import Path

import pytest

import judgekit as jk
from judgekit.cli import main
from judgekit.errors import ConfigError
from judgekit.importers import import_verdicts
from judgekit.importers.viescore import TASK_RUBRICS

REAL = Path(__file__).resolve().parent.parent.parent / "calibration" / "imagenhub" / "viescore_gpt4o_0shot"

#: The length of the SC list VIEScore's prompt for each task asks for (its _questions/*_rule_SC.txt).
SC_LENGTH = {"Text-Guided_IG": 1, "Text-Guided_IE": 2, "Mask-Guided_IE": 2, "Subject-Driven_IE": 2,
             "Subject-Driven_IG": 2, "Multi-Concept_IC": 3, "Control-Guided_IG": 2}


def _task(tmp_path: Path, task: str, sc: dict, pq: dict, model: str = "M") -> Path:
    d = tmp_path / f"ImagenHub_{task}" / model
    d.mkdir(parents=True)
    (d / "SC.json").write_text(json.dumps(sc))
    (d / "PQ.json").write_text(json.dumps(pq))
    return d.parent


def test_every_task_has_a_builtin_rubric_shaped_like_its_recorded_lists():
    assert set(TASK_RUBRICS) == set(SC_LENGTH)
    for task, name in TASK_RUBRICS.items():
        groups = jk.load_rubric(name).groups()
        assert set(groups) == {"SC", "PQ"}, task
        assert len(groups["SC"]) == SC_LENGTH[task] and len(groups["PQ"]) == 2, task
        assert [d.name for d in groups["PQ"]] == ["naturalness", "artifacts"]


def test_text_to_image_task_imports_with_its_rubric_and_bare_numbers(tmp_path):
    task = _task(tmp_path, "Text-Guided_IG",
                 sc={"a.jpg": {"score": [7], "reasoning": "r"}, "b.jpg": {"score": 4, "reasoning": "bare"},
                     "c.jpg": {"score": [5], "reasoning": "guess_if_cannot_parse | ..."}},
                 pq={u: {"score": [6, 9], "reasoning": "q"} for u in ("a.jpg", "b.jpg", "c.jpg")})
    res = import_verdicts("viescore", task)  # no rubric: the folder says text-to-image
    assert [(r.sample_id, r.rubric, r.status) for r in res] == [
        ("a.jpg:M", "viescore-t2i", "ok"), ("b.jpg:M", "viescore-t2i", "ok"), ("c.jpg:M", "viescore-t2i", "failed")]
    assert res[1].scores == {"semantic_consistency": 4.0, "naturalness": 6.0, "artifacts": 9.0}
    assert res[1].overall == pytest.approx(math.sqrt(4 * 6))
    assert "guessed score" in (res[2].error or "")  # a guess stays a failure, list or not


def test_multi_concept_has_three_sc_scores_and_control_its_own_dimensions(tmp_path):
    mc = _task(tmp_path, "Multi-Concept_IC", sc={"u": {"score": [8, 3, 6], "reasoning": "r"}},
               pq={"u": {"score": [7, 7], "reasoning": "q"}})
    (r,) = import_verdicts("viescore", mc)
    assert r.status == "ok" and r.rubric == "viescore-multi-concept"
    assert [r.scores[k] for k in ("prompt_following", "first_subject_resemblance", "second_subject_resemblance")] == [8, 3, 6]
    assert r.overall == pytest.approx(math.sqrt(3 * 7))
    cg = _task(tmp_path, "Control-Guided_IG", sc={"u": {"score": [9, 2], "reasoning": "r"}},
               pq={"u": {"score": [5, 6], "reasoning": "q"}})
    (r,) = import_verdicts("viescore", cg)
    assert r.rubric == "viescore-control" and r.scores["guidance_following"] == 2.0


def test_half_point_is_kept_and_marked_off_the_grid_but_off_scale_fails(tmp_path):
    task = _task(tmp_path, "Text-Guided_IE",
                 sc={"a": {"score": [8.5, 6], "reasoning": "r"}, "b": {"score": [10.5, 6], "reasoning": "r"},
                     "c": {"score": ["8", 6], "reasoning": "r"}},
                 pq={u: {"score": [7, 7], "reasoning": "q"} for u in "abc"})
    a, b, c = import_verdicts("viescore", task)
    assert a.status == "ok" and a.scores["editing_success"] == 8.5 and a.details["off_grid"] == {"editing_success": 8.5}
    assert b.status == "failed" and "outside the scale" in (b.error or "")
    assert c.status == "failed" and "must be a number" in (c.error or "")


def test_rubric_override_and_unknown_folder(tmp_path, capsys):
    task = _task(tmp_path, "Text-Guided_IG", sc={"a": {"score": [7], "reasoning": "r"}},
                 pq={"a": {"score": [6, 9], "reasoning": "q"}})
    other = tmp_path / "rub.yaml"
    other.write_text("name: one-sc\ninputs: [prompt, image]\ndimensions:\n  - {name: x, group: SC, criteria: c}\n"
                     "  - {name: n, group: PQ, criteria: c}\n  - {name: a, group: PQ, criteria: c}\n"
                     "combine: {rule: viescore}\n")
    (r,) = import_verdicts("viescore", task, other)
    assert r.rubric == "one-sc" and r.status == "ok"
    plain = tmp_path / "answers"
    plain.mkdir()
    with pytest.raises(ConfigError, match="cannot tell the ImagenHub task"):
        import_verdicts("viescore", plain)
    assert main(["import", "viescore", str(plain), "--out", str(tmp_path / "o.jsonl")]) == 2


def test_an_import_whose_every_item_failed_exits_3_with_the_first_reasons(tmp_path, capsys):
    # Issue 18 item 33: a text-to-image task read with the editing rubric imported 100% failed, exit 0.
    task = _task(tmp_path, "Text-Guided_IG", sc={u: {"score": [7], "reasoning": "r"} for u in "ab"},
                 pq={u: {"score": [6, 9], "reasoning": "q"} for u in "ab"})
    out = tmp_path / "o.jsonl"
    assert main(["import", "viescore", str(task), "--rubric", "viescore-edit", "--out", str(out)]) == 3
    err = capsys.readouterr().err
    assert "2 x SC: score list has 1 value(s), the rubric's group has 2 dimension(s)" in err
    assert "no record imported (2 of 2 failed); first: a:M: SC: score list has 1 value(s)" in err
    assert "this task's built-in rubric is viescore-t2i" in err
    assert len(jk.load_results(out)) == 2
    assert main(["import", "viescore", str(task), "--out", str(out)]) == 0
    assert "(rubric viescore-t2i)" in capsys.readouterr().err


def test_real_gpt4o_verdicts_keep_the_half_point():
    # VIEScore's published GPT-4o 0-shot verdicts on Text-Guided_IE: 1432 items, 6 guesses fail;
    # the one half point (Pix2PixZero, PQ = [7, 8.5]) used to be a seventh failure.
    res = import_verdicts("viescore", REAL / "ImagenHub_Text-Guided_IE")
    assert len(res) == 1432 and len(res.failures) == 6
    assert all("guessed score" in (r.error or "") for r in res.failures)
    (half,) = [r for r in res if r.details.get("off_grid")]
    assert half.rubric == "viescore-edit" and half.status == "ok" and 8.5 in half.details["off_grid"].values()
