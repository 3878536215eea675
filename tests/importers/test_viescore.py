"""`judgekit import viescore`: VIEScore's answer layout read into exact judgekit records, the
malformed entries failed with their reasons."""

from __future__ import annotations

import json
import math
from pathlib import Path

import pytest

import judgekit as jk
from judgekit.cli import main
from judgekit.errors import ConfigError, DataError
from judgekit.importers import import_verdicts

TASK = Path(__file__).parent.parent / "data" / "viescore_answers" / "Toy_Edit"
DIMS = ("editing_success", "over_editing", "naturalness", "artifacts")


def _rec(uid, model, sc, pq, sc_why=None, pq_why=None, error=None, raw=None):
    """The record the importer must write; ``sc``/``pq``: the two scores or None."""
    vals = dict(zip(DIMS, [*(sc or (None, None)), *(pq or (None, None))]))
    reasoning = {}
    if sc:
        reasoning.update(editing_success=sc_why, over_editing=sc_why)
    if pq:
        reasoning.update(naturalness=pq_why, artifacts=pq_why)
    g_sc = None if sc is None else float(min(sc))
    g_pq = None if pq is None else float(min(pq))
    ok = error is None
    return {
        "sample_id": f"{uid}:{model}", "prompt_id": uid, "model": model, "rubric": "viescore-edit",
        "status": "ok" if ok else "failed",
        "scores": {k: (None if v is None else float(v)) for k, v in vals.items()},
        "overall": math.sqrt(g_sc * g_pq) if ok else None,
        "reasoning": reasoning, "error": error,
        "details": {"raw_entries": raw} if raw else {},
        "meta": {"task": "Toy_Edit"},
        "groups": {"SC": g_sc, "PQ": g_pq},
    }


EXPECTED = [
    _rec("s1.jpg", "EditorA", (8, 6), (9, 5), "The hat was added; the background kept its layout.",
         "Natural light; a seam around the hat."),
    _rec("s2.jpg", "EditorA", None, (6, 6), pq_why="Plausible.",
         error="SC: score list has 1 value(s), the rubric's group has 2 dimension(s) ([7])",
         raw={"SC": {"score": [7], "reasoning": "The sky turned red.", "vision_input": []}}),
    _rec("s3.jpg", "EditorA", None, (4, 4), pq_why="Some smearing.",
         error="SC: value 2: score must be a number, got 'high'",
         raw={"SC": {"score": [3, "high"], "reasoning": "The cat is still a cat.", "vision_input": []}}),
    _rec("s4.jpg", "EditorA", (10, 10), None, sc_why="Exactly the requested change.",
         error="PQ: no entry for 's4.jpg' in EditorA/PQ.json"),
    # A half point is kept as written (issue 18 item 34) and listed as off the integer grid.
    {**_rec("s1.jpg", "EditorB", (2, 9), (7, 8.5), "No hat anywhere.", "Half points are not on the integer scale."),
     "details": {"off_grid": {"artifacts": 8.5}}},
    _rec("s2.jpg", "EditorB", None, (3, 3), pq_why="Blurry.",
         error="SC: VIEScore recorded a guessed score (its judge reply could not be parsed)",
         raw={"SC": {"score": [5], "reasoning": "guess_if_cannot_parse | ", "vision_input": []}}),
    # A bare number is a one-element list (VIEScore's parser), which does not fit SC's two dimensions.
    _rec("s3.jpg", "EditorB", None, None,
         error="SC: score list has 1 value(s), the rubric's group has 2 dimension(s) ([6]); "
               "PQ: value 1: score 11 is outside the scale [0, 10]",
         raw={"SC": {"score": 6, "reasoning": "A single number instead of a list.", "vision_input": []},
              "PQ": {"score": [11, 2], "reasoning": "Off the scale.", "vision_input": []}}),
    _rec("s4.jpg", "EditorB", None, (5, 5), pq_why="Fine.", error="SC: entry has no 'score'",
         raw={"SC": {"reasoning": "An entry without its score.", "vision_input": []}}),
]


def _strip(rec: dict) -> dict:
    d = dict(rec)
    assert d.pop("seed") is None  # VIEScore's layout records no seed
    prov = d.pop("provenance")
    assert prov["imported"] == {"importer": "viescore", "source": str(TASK), "groups": ["SC", "PQ"]}
    assert prov["rubric"] == "viescore-edit" and prov["kind"] == "pointwise" and prov["time"]
    return d


def test_import_exact_records():
    res = import_verdicts("viescore", TASK, "viescore-edit")
    got = [_strip(r.model_dump()) for r in res]
    assert len(got) == len(EXPECTED)
    for g, e in zip(got, EXPECTED):
        assert g == e, g["sample_id"]


def test_cli_import_writes_loadable_results(tmp_path, capsys):
    out = tmp_path / "judge.jsonl"
    assert main(["import", "viescore", str(TASK), "--rubric", "viescore-edit", "--out", str(out)]) == 0
    err = capsys.readouterr().err
    assert "imported 8 records (6 failed)" in err
    res = jk.load_results(out)
    assert [_strip(r.model_dump()) for r in res] == EXPECTED
    # The summary excludes failures and counts them.
    rows = {r["model"]: r for r in res.summary(n_boot=50).rows}
    assert rows["EditorA"]["n"] == 4 and rows["EditorA"]["failed"] == 3
    assert rows["EditorA"]["mean"] == pytest.approx(math.sqrt(30))
    assert rows["EditorB"]["failed"] == 3


def test_rubric_without_the_groups_is_a_config_error(tmp_path):
    with pytest.raises(ConfigError, match="belong to no group"):
        import_verdicts("viescore", TASK, "aesthetics-simple")
    only_sc = tmp_path / "sc.yaml"
    only_sc.write_text("name: sc-only\ninputs: [image]\ndimensions:\n  - {name: a, group: SC, criteria: x}\n"
                       "combine: {rule: mean}\n")
    with pytest.raises(ConfigError, match=r"no dimension group\(s\) \['PQ'\]"):
        import_verdicts("viescore", TASK, only_sc)


def test_results_root_instead_of_task_dir(tmp_path):
    with pytest.raises(DataError, match="import one of them"):
        import_verdicts("viescore", TASK.parent, "viescore-edit")
    assert main(["import", "viescore", str(tmp_path / "nope"), "--out", str(tmp_path / "o.jsonl")]) == 2


def test_unreadable_group_file_names_the_file(tmp_path):
    m = tmp_path / "T" / "M"
    m.mkdir(parents=True)
    (m / "SC.json").write_text("{not json", encoding="utf-8")
    with pytest.raises(DataError, match="SC.json: not valid JSON"):
        import_verdicts("viescore", tmp_path / "T", "viescore-edit")


def test_missing_group_file_fails_every_item(tmp_path):
    m = tmp_path / "T" / "M"
    m.mkdir(parents=True)
    (m / "SC.json").write_text(json.dumps({"u1": {"score": [5, 5], "reasoning": "ok"}}), encoding="utf-8")
    res = import_verdicts("viescore", tmp_path / "T", "viescore-edit")
    assert [r.status for r in res] == ["failed"]
    assert res[0].error == "PQ: M/PQ.json does not exist"
    assert res[0].model_extra["groups"] == {"SC": 5.0, "PQ": None}


def test_unknown_importer():
    with pytest.raises(ConfigError, match="no importer named"):
        import_verdicts("nope", TASK, "viescore-edit")
