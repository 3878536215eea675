"""The labels file: read as it is by load_human_labels, read_battles, `judgekit calibrate` and
`judgekit leaderboard`; and `judgekit label --status`."""

from __future__ import annotations

import json

import numpy as np
import pytest

from judgekit.calibration.labels import load_human_labels
from judgekit.cli import main
from judgekit.datasets.battles import read_battles
from judgekit.label import export, label_records


def fill(c, raters, pick):
    """Every rater answers everything it is given with ``pick(rater, task)``."""
    for r in raters:
        c.join(r)
    for r in raters:
        while not (t := c.next_task(r))["done"]:
            t["item"] = c.item_of(r, t["task"])  # what the test knows; the rater's task never says it
            c.answer(r, t["task"], t["dimension"], pick(r, t), t["shown"])


def likert_pick(r, t):
    base = 5 if t["item"].endswith("sd2dot1") else 2
    return max(1, min(5, base - (r == "bob") + (t["dimension"] == "quality")))


def judge_file(path, c, dims=("alignment", "quality")):
    """A tiny judge results file (the shape `judgekit score` writes) for the campaign's items."""
    recs = []
    for n, it in enumerate(c.items.values()):
        if it.problem:
            continue
        s = {d: float((n * 3 + i * 2) % 10) for i, d in enumerate(dims)}
        recs.append({"sample_id": it.id, "prompt_id": it.prompt_id, "model": it.model, "rubric": "t", "status": "ok",
                     "scores": s, "overall": float(np.mean(list(s.values())))})
    path.write_text("".join(json.dumps(r) + "\n" for r in recs))
    return path


def test_likert_labels_feed_calibrate(make_campaign, tmp_path, capsys):
    c = make_campaign("likert", k=2, rubric="two", n=6, missing=1)
    fill(c, ["ann", "bob"], likert_pick)
    out = tmp_path / "labels.jsonl"
    assert export(c, out) == 12 * 2 * 2
    recs = [json.loads(x) for x in out.read_text().splitlines()]
    r0 = recs[0]
    assert {"sample_id", "prompt_id", "model", "rater", "dimension", "score", "image", "shown_at", "labelled_at",
            "seconds"} <= set(r0)
    assert r0["labelled_at"].endswith("Z") and r0["seconds"] >= 0
    assert not any(r["sample_id"].startswith("gone") for r in recs)
    labels = load_human_labels(out)
    assert labels.value_type == "score" and labels.has_raters and set(labels.dimensions()) == {"alignment", "quality"}
    judge = judge_file(tmp_path / "judge.jsonl", c)
    assert main(["calibrate", "--judge", str(judge), "--human", str(out), "--dimension", "alignment",
                 "--bootstrap", "50", "--out", str(tmp_path / "cal.json")]) == 0
    cal = json.loads((tmp_path / "cal.json").read_text())
    assert cal["meta"]["raters"] == 2
    assert cal["meta"]["join_on"] == "sample_id"
    text = capsys.readouterr().out
    assert "human" in text.lower()


def test_binary_labels_are_pass_fail(make_campaign, tmp_path):
    c = make_campaign("binary", k=1, n=3)
    fill(c, ["ann"], lambda r, t: "pass" if "sd1dot5" in t["item"] else "fail")
    out = tmp_path / "labels.jsonl"
    export(c, out)
    labels = load_human_labels(out)
    assert labels.value_type == "label"
    assert sorted(r.value for r in labels.rows) == [0.0] * 3 + [1.0] * 3


def test_pairwise_labels_are_battles_in_the_manifest_orientation(make_campaign, tmp_path, capsys):
    c = make_campaign("pairwise", k=2, n=6)
    # every rater prefers sd2dot1 whatever side it is shown on
    def pick(r, t):
        left_model = c.items[t["item"]].model_a if t["shown"] == "ab" else c.items[t["item"]].model_b
        return "left" if left_model == "sd2dot1" else "right"

    fill(c, ["ann", "bob"], pick)
    out = tmp_path / "labels.jsonl"
    assert export(c, out) == 12
    recs = [json.loads(x) for x in out.read_text().splitlines()]
    for r in recs:
        winner_model = r["model_a"] if r["winner"] == "model_a" else r["model_b"]
        assert winner_model == "sd2dot1"
        assert r["left_model"] == (r["model_a"] if r["shown"] == "ab" else r["model_b"])
        assert r["chosen"] == ("left" if r["left_model"] == "sd2dot1" else "right")
    assert {r["shown"] for r in recs} == {"ab", "ba"}
    b = read_battles(out)
    assert len(b) == 12 and b.models == ("sd1dot5", "sd2dot1")
    assert b.record_counts()[b.models.index("sd2dot1")].tolist() == [12, 0, 0]
    assert load_human_labels(out).value_type == "winner"
    assert main(["leaderboard", str(out), "--bootstrap", "20", "--prior", "0.1"]) == 0
    assert "sd2dot1" in capsys.readouterr().out


def test_pairwise_rubric_dimensions_go_under_winners(make_campaign, tmp_path, capsys):
    c = make_campaign("pairwise", k=1, rubric="pairwise-t2i-aspects", n=4)
    assert c.dims == ["prompt_adherence", "visual_quality"]  # the rubric's primary first
    fill(c, ["ann"], lambda r, t: "tie" if t["dimension"] == "visual_quality" else "left")
    out = tmp_path / "labels.jsonl"
    export(c, out)
    recs = [json.loads(x) for x in out.read_text().splitlines()]
    assert len(recs) == 4
    assert all(r["winners"]["visual_quality"] == "tie" and r["winner"] == r["winners"]["prompt_adherence"] for r in recs)
    assert main(["leaderboard", str(out), "--dimension", "visual_quality", "--bootstrap", "0"]) == 0


def test_status_cli_prints_progress_and_alpha(make_campaign, tmp_path, capsys):
    c = make_campaign("likert", k=2, rubric="two", n=6, missing=1)
    fill(c, ["ann", "bob"], likert_pick)
    c.store.close()
    assert main(["label", "--status", "--db", str(tmp_path / "labels.sqlite"), "--bootstrap", "100"]) == 0
    text = capsys.readouterr().out
    assert "items: 13 (1 cannot be labelled): 12 complete" in text
    assert "answers: 48 of 48" in text
    assert "alignment:" in text and "ordinal" in text
    assert main(["label", "--status", "--db", str(tmp_path / "labels.sqlite"), "--json", "--bootstrap", "100"]) == 0
    s = json.loads(capsys.readouterr().out)
    a = s["agreement"]["alignment"]
    assert a["units"] == 12 and a["raters"] == 2 and a["ci_low"] <= a["value"] <= a["ci_high"]
    assert s["problems"][0]["item"] == "gone_0"


def test_label_cli_errors_are_one_line(tmp_path, capsys):
    assert main(["label", "--mode", "likert"]) == 2
    assert "needs --data, --out" in capsys.readouterr().err
    assert main(["label", "--status", "--db", str(tmp_path / "nope.sqlite")]) == 2
    assert "no labelling database" in capsys.readouterr().err
    m = tmp_path / "m.jsonl"
    m.write_text(json.dumps({"id": "a", "image": "a.png", "model": "x"}) + "\n")
    assert main(["label", "--data", str(m), "--mode", "pairwise", "--out", str(tmp_path / "l.jsonl")]) == 2
    assert "has no image_a" in capsys.readouterr().err


@pytest.mark.parametrize("mode", ["likert", "pairwise"])
def test_records_in_answer_order(make_campaign, mode):
    c = make_campaign(mode, k=1, n=2)
    fill(c, ["ann"], lambda r, t: 3 if mode == "likert" else "tie")
    recs = label_records(c)
    assert [r["labelled_at"] for r in recs] == sorted(r["labelled_at"] for r in recs)


def test_pairwise_labels_give_ppi_win_rates(make_campaign, tmp_path):
    import importlib

    cal = importlib.import_module("judgekit.calibration")
    c = make_campaign("pairwise", k=2, n=6)
    fill(c, ["ann", "bob"], lambda r, t: "left" if r == "ann" else "tie")
    out = tmp_path / "labels.jsonl"
    export(c, out)
    judge = []
    for it in c.items.values():
        for m in (it.model_a, it.model_b):
            judge.append({"sample_id": f"{it.prompt_id}_{m}", "prompt_id": it.prompt_id, "model": m, "rubric": "t",
                          "status": "ok", "scores": {}, "overall": 7.0 if m == "sd2dot1" else 4.0})
    for i in range(4):  # prompts the judge scored but nobody compared
        judge += [{"sample_id": f"u{i}_{m}", "prompt_id": f"u{i}", "model": m, "rubric": "t", "status": "ok",
                   "scores": {}, "overall": 5.0} for m in ("sd1dot5", "sd2dot1")]
    (tmp_path / "judge.jsonl").write_text("".join(json.dumps(r) + "\n" for r in judge))
    rep = cal.prediction_powered(str(tmp_path / "judge.jsonl"), str(out))
    assert "sd1dot5 vs sd2dot1" in rep.to_dict()["win_rates"]
    # The CLI too: winner labels give the tie-aware pairwise accuracy, then --ppi's win rates.
    from judgekit.cli import main

    cal_out = tmp_path / "ppi.json"
    assert main(["calibrate", "--judge", str(tmp_path / "judge.jsonl"), "--human", str(out), "--ppi",
                 "--out", str(cal_out)]) == 0
    saved = json.loads(cal_out.read_text())
    assert "sd1dot5 vs sd2dot1" in saved["ppi"]["win_rates"]
    assert saved["kind"] == "pairwise" and saved["scorers"]["judge"]["kind"] == "pointwise"


def test_editing_manifest_shows_source_then_edit(tmp_path, make_campaign):
    from judgekit.label import Campaign, LabelStore, Settings, load_label_items
    from tests.label.helpers import draw

    draw(tmp_path / "src.png", "sd1dot5", 0)
    draw(tmp_path / "edit.png", "sd2dot1", 0)
    man = tmp_path / "edits.jsonl"
    man.write_text(json.dumps({"id": "e1", "source_image": "src.png", "image": "edit.png", "instruction": "make it red",
                               "model": "editor"}) + "\n")
    c = Campaign(load_label_items(man, "binary"), LabelStore(tmp_path / "e.sqlite"), Settings("binary", k=1), str(man))
    c.join("ann")
    t = c.next_task("ann")
    assert [i["label"] for i in t["images"]] == ["source", "image"]
    assert t["prompt"] == "make it red" and t["prompt_label"] == "instruction"
    c.store.close()


def test_a_port_in_use_is_a_clear_error(tmp_path, capsys):
    import socket

    from tests.label.helpers import pointwise_manifest

    man = pointwise_manifest(tmp_path, 1)
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        s.listen()
        port = s.getsockname()[1]
        assert main(["label", "--data", str(man), "--mode", "likert", "--out", str(tmp_path / "l.jsonl"),
                     "--port", str(port)]) == 2
    assert f"port {port} on 127.0.0.1 is in use" in capsys.readouterr().err
    assert not (tmp_path / "l.sqlite").exists()  # nothing written before the server could start
