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


def official():
    cells = {}
    for mark, (kind, length, _questions, answers) in MARKS.items():
        c = cells.setdefault((kind, length), [0, 0])
        for qi, a in enumerate(answers):
            c[0] += says(mark, qi) == a
            c[1] += 1
    acc = {k: c / n for k, (c, n) in cells.items()}
    groups = {"Basic Attribute": ["shape+color"], "Basic Relation": ["2d_spatial_relation"],
              "Basic Reasoning": ["negation"], "Advanced Text Generation": ["text"]}
    out = {"Mean_Accuracy (all cells)": sum(acc.values()) / len(acc)}
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
        assert got[k] == pytest.approx(v), k
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
