"""TIIF-Bench through `judgekit bench run`: eval-prompt files in its format, its image layout,
a scripted judge answering one yes/no line per question, and summary_results.py's cells plus
summary_dimension_results.py's groups and overalls recomputed here in plain Python."""

from __future__ import annotations

import json

import pytest

from judgekit.cli import main
from tests.benchmarks.scripted import last_image_marker, request_text, write_marked
from tests.judge_server import Reply

FILES = {
    "shape+color": [(["Is there a round box?", "Is the box red?"], ["yes", "yes"]),
                    (["Is there a square mug?", "Is the mug green?", "Is there a table?"], ["yes", "yes", "yes"])],
    "2d_spatial_relation": [(["Is there a cat?", "Is there a lamp?", "Is the cat left of the lamp?"], ["yes", "yes", "yes"])],
    "negation": [(["Is there a dog?", "Is there any cat?"], ["yes", "no"])],
    "text": [(["Does the sign say OPEN?"], ["yes"])],
}
MARKS = {}


def says(mark: int, qi: int) -> str:
    return "yes" if (mark + qi) % 3 else "no"


def script(body, n):
    mark = last_image_marker(body)
    count = len(MARKS[mark][2])
    return Reply(content="\n".join(f"{says(mark, qi)}, because scripted" for qi in range(count)))


def excel_cell(accuracy):
    # summary_results.py writes each cell to result_summary.xlsx as the text f"{acc:.4f}" and
    # summary_dimension_results.py reads those texts back: the groups average 4-decimal cells.
    return round(accuracy, 4)


def official():
    cells = {}
    for mark, (kind, length, _questions, answers) in MARKS.items():
        c = cells.setdefault((kind, length), [0, 0])
        for qi, a in enumerate(answers):
            c[0] += says(mark, qi) == a
            c[1] += 1
    exact = {k: c / n for k, (c, n) in cells.items()}
    acc = {k: excel_cell(v) for k, v in exact.items()}
    groups = {"Basic Attribute": ["shape+color"], "Basic Relation": ["2d_spatial_relation"],
              "Basic Reasoning": ["negation"], "Advanced Text Generation": ["text"]}
    out = {"Mean_Accuracy (all cells)": sum(exact.values()) / len(exact)}
    for length in ("short", "long"):
        g = {name: sum(acc[(t, length)] for t in ts) / len(ts) for name, ts in groups.items()}
        out[f"overall ({length})"] = sum(g.values()) / len(g)
        out.update({f"{name} ({length})": v for name, v in g.items()})
    return out


@pytest.fixture
def tiif_files(tmp_path):
    data = tmp_path / "testmini_eval_prompts"
    data.mkdir()
    MARKS.clear()
    m = 10
    for kind, lines in FILES.items():
        (data / f"{kind}_eval_prompts.jsonl").write_text("".join(
            json.dumps({"type": kind, "yn_question_list": [q + "  " for q in qs], "yn_answer_list": ans}) + "\n"
            for qs, ans in lines))
        for idx, (qs, ans) in enumerate(lines):
            for length in ("short", "long"):
                write_marked(tmp_path / "output" / kind / "mymodel" / f"{length}_description" / f"{idx}.png", m, seed=m)
                MARKS[m] = (kind, length, qs, ans)
                m += 1
    return data, tmp_path / "output"


def test_tiif_report_equals_official_aggregation(judge_server, tiif_files, tmp_path, capsys):
    judge_server.reset(script)
    data, images = tiif_files
    out = tmp_path / "run"
    assert main(["bench", "run", "tiif", "--data", str(data), "--images", str(images), "--backend", "openai:judge",
                 "--base-url", judge_server.url, "--out", str(out), "--cache", str(tmp_path / "c.sqlite"),
                 "--no-progress", "--bootstrap", "200"]) == 0
    printed = capsys.readouterr().out
    assert len(judge_server.received) == len(MARKS)  # one call per image, all questions in it
    assert all(b["temperature"] == 0 for b in judge_server.received)
    got = {s["name"]: s["estimate"] for s in json.loads((out / "report.json").read_text())["statistics"]}
    want = official()
    assert set(got) == set(want)
    for k, v in want.items():
        assert got[k] == pytest.approx(v, rel=1e-12, abs=1e-12), k
    assert f"{want['overall (short)']:.4f}  {want['overall (long)']:.4f}" in printed


def test_tiif_reply_with_a_wrong_answer_count_is_failed_and_counted(judge_server, tiif_files, tmp_path):
    def short(body, n):
        if "Does the sign say OPEN?" in request_text(body):
            return Reply(content="yes\nno")
        return script(body, n)

    judge_server.reset(short)
    data, images = tiif_files
    out = tmp_path / "run"
    assert main(["bench", "run", "tiif", "--data", str(data), "--images", str(images), "--backend", "openai:judge",
                 "--base-url", judge_server.url, "--out", str(out), "--cache", str(tmp_path / "c.sqlite"),
                 "--no-progress", "--bootstrap", "50"]) == 0
    q = json.loads((out / "report.json").read_text())["quirks"]
    assert q["unparseable_replies"] == 2  # the text prompt's short and long image


def test_tiif_import_of_published_judge_outputs_aggregates_them_the_official_way(tmp_path, capsys):
    # A tiny folder in the layout eval_with_vlm.py writes (<type>/<long|short>/<index>.json).
    records = {("shape+color", "short", 0): (["yes", "yes"], ["yes", "no"]),
               ("shape+color", "long", 0): (["yes", "yes"], ["yes", "yes"]),
               ("shape+color", "short", 1): (["yes", "no", "yes"], ["no", "no", "yes"]),
               ("negation", "short", 0): (["yes", "no"], ["yes", "no"]),
               ("negation", "long", 0): (["yes", "no"], [" Yes", "yes"])}
    root = tmp_path / "eval_results" / "mymodel"
    for (kind, length, idx), (gt, pred) in records.items():
        f = root / kind / length / f"{idx}.json"
        f.parent.mkdir(parents=True, exist_ok=True)
        f.write_text(json.dumps({"attribute": kind, "desc": f"{length}_description", "line_idx": idx,
                                 "questions": ["q"] * len(gt), "gt_answers": gt, "model_pred": pred, "model_output": ""}))
    out = tmp_path / "run"
    assert main(["bench", "import", "tiif", str(root), "--out", str(out), "--bootstrap", "100"]) == 0
    cells = {}
    for (kind, length, _), (gt, pred) in records.items():
        c = cells.setdefault((kind, length), [0, 0])
        c[0] += sum(g.strip().lower() == p.strip().lower() for g, p in zip(gt, pred))
        c[1] += len(gt)
    acc = {k: c / n for k, (c, n) in cells.items()}
    want_short = (acc[("shape+color", "short")] + acc[("negation", "short")]) / 2  # two groups, one cell each
    got = {s["name"]: s["estimate"] for s in json.loads((out / "report.json").read_text())["statistics"]}
    assert got["overall (short)"] == pytest.approx(want_short)
    assert got["Mean_Accuracy (all cells)"] == pytest.approx(sum(acc.values()) / len(acc))
    assert "official judge outputs imported from" in capsys.readouterr().out
    assert main(["bench", "report", str(out), "--bootstrap", "100"]) == 0
    assert main(["bench", "import", "dpg", str(root), "--out", str(tmp_path / "o2")]) == 2
    assert main(["bench", "import", "tiif", str(root), "--out", str(tmp_path / "o3"), "--set", "language=en"]) == 2


def test_tiif_import_scores_a_short_reply_over_the_answered_questions_and_says_so(tmp_path, capsys):
    # summary_results.py zips the answers with the replies: a reply with fewer lines is scored
    # over the questions it answers; judgekit does the same and prints how many such replies there were.
    root = tmp_path / "mymodel"
    for idx, (gt, pred) in enumerate([(["yes", "no", "yes"], ["yes", "no"]), (["yes", "yes"], ["no", "yes"])]):
        f = root / "negation" / "short" / f"{idx}.json"
        f.parent.mkdir(parents=True, exist_ok=True)
        f.write_text(json.dumps({"gt_answers": gt, "model_pred": pred}))
    out = tmp_path / "run"
    assert main(["bench", "import", "tiif", str(root), "--out", str(out), "--bootstrap", "20"]) == 0
    assert "note: 1 replies answer another number of questions than asked" in capsys.readouterr().out
    got = {s["name"]: s["estimate"] for s in json.loads((out / "report.json").read_text())["statistics"]}
    assert got["overall (short)"] == pytest.approx(3 / 4)  # (2 of 2) + (1 of 2) answered questions


def _write_outputs(root, records):
    for (kind, length, idx), (gt, pred) in records.items():
        f = root / kind / length / f"{idx}.json"
        f.parent.mkdir(parents=True, exist_ok=True)
        f.write_text(json.dumps({"attribute": kind, "desc": f"{length}_description", "line_idx": idx,
                                 "questions": ["q"] * len(gt), "gt_answers": gt, "model_pred": pred, "model_output": ""}))


def test_tiif_import_averages_cells_rounded_to_4_decimals_as_the_official_excel_round_trip(tmp_path):
    # Cells of 1/3, 5/7 and 2/3: the official groups average the 4-decimal texts 0.3333, 0.7143
    # and 0.6667 that summary_results.py writes to result_summary.xlsx, not the fractions.
    y, n = "yes", "no"
    records = {("shape+color", "short", 0): ([y, y, y], [y, n, n]),
               ("color+texture", "short", 0): ([y] * 7, [y] * 5 + [n] * 2),
               ("numeracy", "short", 0): ([y, n, y], [y, n, n]),
               ("shape+color", "long", 0): ([y, y, y], [y, y, n])}
    root = tmp_path / "mymodel"
    _write_outputs(root, records)
    out = tmp_path / "run"
    assert main(["bench", "import", "tiif", str(root), "--out", str(out), "--bootstrap", "20"]) == 0
    exact = {(k, length): sum(g == p for g, p in zip(gt, pred)) / len(gt) for (k, length, _), (gt, pred) in records.items()}
    cell = {k: float(f"{v:.4f}") for k, v in exact.items()}
    attribute_short = (cell[("shape+color", "short")] + cell[("color+texture", "short")]) / 2
    want_short = (attribute_short + cell[("numeracy", "short")]) / 2  # two groups with cells
    got = {s["name"]: s["estimate"] for s in json.loads((out / "report.json").read_text())["statistics"]}
    assert got["Basic Attribute (short)"] == pytest.approx(attribute_short, rel=1e-12, abs=1e-12)
    assert got["overall (short)"] == pytest.approx(want_short, rel=1e-12, abs=1e-12)
    assert got["overall (long)"] == pytest.approx(0.6667, rel=1e-12, abs=1e-12)
    # Mean_Accuracy is taken before the formatting, over the fractions
    assert got["Mean_Accuracy (all cells)"] == pytest.approx(sum(exact.values()) / len(exact), rel=1e-12, abs=1e-12)
    unrounded = ((exact[("shape+color", "short")] + exact[("color+texture", "short")]) / 2 + exact[("numeracy", "short")]) / 2
    assert abs(unrounded - want_short) > 1e-6  # the data makes the rounding visible


def test_tiif_import_counts_unreadable_files_and_non_text_answers_as_the_official_script(tmp_path, capsys):
    # summary_results.py skips a file it cannot read (adds nothing to the cell), treats absent
    # lists as empty, and on a non-text answer counts that question as wrong and drops the rest.
    root = tmp_path / "mymodel"
    _write_outputs(root, {("negation", "short", 0): (["yes", "no"], ["yes", "no"]),
                          ("negation", "short", 1): (["yes", "no", "yes"], ["yes", None, "yes"])})
    (root / "negation" / "short" / "2.json").write_text("{not json")
    (root / "negation" / "short" / "3.json").write_text(json.dumps({"questions": ["q"]}))
    out = tmp_path / "run"
    assert main(["bench", "import", "tiif", str(root), "--out", str(out), "--bootstrap", "20"]) == 0
    printed = capsys.readouterr().out
    assert "1 replies hold an answer that is not text" in printed
    rep = json.loads((out / "report.json").read_text())
    got = {s["name"]: s["estimate"] for s in rep["statistics"]}
    # official cell: file 0 gives 2 of 2, file 1 gives 1 of 2 (yes right, None asked and wrong, rest dropped)
    assert got["overall (short)"] == pytest.approx(3 / 4)
    assert rep["quirks"]["failed_samples"] == 2  # the unreadable file and the one without answers
    rows = [json.loads(x) for x in (out / "results.jsonl").read_text().splitlines()]
    assert {r["sample_id"] for r in rows if r["status"] == "failed"} == {"negation:short:2", "negation:short:3"}
