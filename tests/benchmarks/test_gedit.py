"""GEdit-Bench through `judgekit bench run`: rows in its exported format, its results-folder
layout, a scripted judge whose 0-10 scores depend on the edited image and the criterion, and
calculate_statistics.py's aggregation recomputed here in plain Python."""

from __future__ import annotations

import json
import math

import pytest

from judgekit.cli import main
from tests.benchmarks.scripted import last_image_marker, request_text, write_marked
from tests.judge_server import Reply

# key, task_type, instruction, language, intersection
ROWS = [
    ("k1", "color_alter", "make the car blue", "en", True),
    ("k2", "color_alter", "turn the sky orange", "en", False),
    ("k3", "subject-add", "add a hat to the man", "en", True),
    ("k4", "style_change", "paint it like a watercolor", "en", False),
    ("k5", "subject-add", "给猫加一顶帽子", "cn", True),
]
# Phrases of judgekit's gedit-edit criteria, to tell the four calls apart.
CRITERIA = {"instruction_success": "carries out the editing instruction", "over_editing": "minimal, effective edit",
            "naturalness": "looks natural", "artifacts": "Freedom from visible defects"}


def score(mark: int, dim: str) -> int:
    return (mark * 7 + 3 * list(CRITERIA).index(dim)) % 11


def script(body: dict, n: int) -> Reply:
    text = request_text(body)
    dim = next(d for d, phrase in CRITERIA.items() if phrase in text)
    return Reply(content=json.dumps({"reasoning": "scripted", "score": score(last_image_marker(body), dim)}))


def official(language: str = "en") -> dict[str, float]:
    per_task: dict[str, dict[str, list[float]]] = {}
    inter: dict[str, dict[str, list[float]]] = {}
    for i, (_, task, _, lang, is_inter) in enumerate(ROWS):
        if lang != language:
            continue
        s = {d: score(100 + i, d) for d in CRITERIA}
        sc, pq = min(s["instruction_success"], s["over_editing"]), min(s["naturalness"], s["artifacts"])
        for table, keep in ((per_task, True), (inter, is_inter)):
            if keep:
                t = table.setdefault(task, {"SC": [], "PQ": [], "O": []})
                t["SC"].append(sc)
                t["PQ"].append(pq)
                t["O"].append(math.sqrt(sc * pq))
    out = {}
    for m in ("O", "SC", "PQ"):
        out[f"{m} average of task types"] = sum(sum(t[m]) / len(t[m]) for t in per_task.values()) / len(per_task)
    for m in ("O", "SC", "PQ"):
        out[f"{m} average of task types (intersection)"] = sum(sum(t[m]) / len(t[m]) for t in inter.values()) / len(inter)
    for task, t in per_task.items():
        for m in ("SC", "PQ", "O"):
            out[f"{task} {m}"] = sum(t[m]) / len(t[m])
    return out


@pytest.fixture
def gedit_files(tmp_path):
    data = tmp_path / "gedit_rows.jsonl"
    data.write_text("".join(json.dumps({"key": k, "task_type": t, "instruction": ins, "instruction_language": lang,
                                        "Intersection_exist": inter}) + "\n" for k, t, ins, lang, inter in ROWS))
    results = tmp_path / "RESULTS"
    for i, (key, task, _, lang, _) in enumerate(ROWS):
        folder = results / "mymodel" / "fullset" / task / lang
        write_marked(folder / f"{key}.png", 100 + i, seed=i)
        write_marked(folder / f"{key}_SRCIMG.png", 200 + i, seed=50 + i)
    return data, results


def test_gedit_report_equals_official_aggregation(judge_server, gedit_files, tmp_path, capsys):
    judge_server.reset(script)
    data, results = gedit_files
    out = tmp_path / "run"
    assert main(["bench", "run", "gedit", "--data", str(data), "--images", str(results), "--backend", "openai:judge",
                 "--base-url", judge_server.url, "--out", str(out), "--cache", str(tmp_path / "c.sqlite"),
                 "--no-progress", "--bootstrap", "200"]) == 0
    printed = capsys.readouterr().out
    assert len(judge_server.received) == 4 * 4  # four English edits x four criteria
    want = official()
    got = {s["name"]: s["estimate"] for s in json.loads((out / "report.json").read_text())["statistics"]}
    assert set(got) == set(want)
    for k, v in want.items():
        assert got[k] == pytest.approx(v, abs=1e-9), k
    sc, pq, o = (want[f"{m} average of task types"] for m in ("SC", "PQ", "O"))
    assert f"Average: {sc:.3f}, {pq:.3f}, {o:.3f}" in printed
    assert main(["bench", "report", str(out), "--bootstrap", "200"]) == 0
    assert f"Average: {sc:.3f}, {pq:.3f}, {o:.3f}" in capsys.readouterr().out


def test_gedit_unparseable_replies_are_failed_and_counted_never_guessed(judge_server, gedit_files, tmp_path, capsys):
    def garbled(body, n):
        if "make the car blue" in request_text(body) or last_image_marker(body) == 100:
            return Reply(content="I would give it a seven or so")
        return script(body, n)

    judge_server.reset(garbled)
    data, results = gedit_files
    out = tmp_path / "run"
    assert main(["bench", "run", "gedit", "--data", str(data), "--images", str(results), "--backend", "openai:judge",
                 "--base-url", judge_server.url, "--out", str(out), "--cache", str(tmp_path / "c.sqlite"),
                 "--no-progress", "--bootstrap", "50"]) == 0
    report = json.loads((out / "report.json").read_text())
    assert report["quirks"]["unparseable_replies"] == 1 and report["quirks"]["failed_samples"] == 1
    assert report["n_prompts"] == 3
    assert "1 unparseable replies" in capsys.readouterr().out


# GEdit's evaluation output (test_gedit_score.py): one CSV per task type, these columns, the
# edited image's path carrying task, language and key. Rows: key, task, language, SC, PQ, intersection.
SCORE_ROWS = [
    ("a1", "color_alter", "en", 8, 6, True),
    ("a2", "color_alter", "en", 3, 9, False),
    ("a3", "color_alter", "cn", 1, 1, True),
    ("b1", "subject-add", "en", 10, 7, True),
    ("b2", "subject-add", "en", 0, 8, True),
    ("c1", "style_change", "en", 5, 5, False),
    ("c2", "style_change", "cn", 9, 2, False),
]
COLUMNS = ["source_image", "edited_image", "instruction", "sementics_score", "quality_score", "intersection_exist",
           "instruction_language"]


def write_score_files(folder, rows, model="mymodel", extra=()):
    import csv

    folder.mkdir(parents=True, exist_ok=True)
    by_task: dict[str, list] = {}
    for row in [*rows, *extra]:
        by_task.setdefault(row[1], []).append(row)
    for task, task_rows in by_task.items():
        with (folder / f"{model}_{task}_gpt_score.csv").open("w", newline="", encoding="utf-8") as fh:
            w = csv.DictWriter(fh, fieldnames=COLUMNS)
            w.writeheader()
            for key, _, lang, sc, pq, inter in task_rows:
                base = f"/results/{model}/fullset/{task}/{lang}/{key}"
                w.writerow({"source_image": base + "_SRCIMG.png", "edited_image": base + ".png", "instruction": "edit",
                            "sementics_score": sc, "quality_score": pq, "intersection_exist": inter,
                            "instruction_language": lang})


def statistics_as_calculate_statistics(rows, language):
    """calculate_statistics.py's numbers, recomputed from the rows: per task type the means of
    SC, PQ and sqrt(SC x PQ) over the language's rows, then their unweighted mean."""
    def table(keep):
        per: dict[str, dict[str, list[float]]] = {}
        for _, task, lang, sc, pq, inter in rows:
            if lang == language and keep(inter):
                t = per.setdefault(task, {"SC": [], "PQ": [], "O": []})
                t["SC"].append(sc)
                t["PQ"].append(pq)
                t["O"].append(math.sqrt(sc * pq))
        return {task: {m: sum(v) / len(v) for m, v in t.items()} for task, t in per.items()}

    full, inter = table(lambda i: True), table(lambda i: i)
    out = {}
    for m in ("O", "SC", "PQ"):
        out[f"{m} average of task types"] = sum(t[m] for t in full.values()) / len(full)
        out[f"{m} average of task types (intersection)"] = sum(t[m] for t in inter.values()) / len(inter)
    for task, t in full.items():
        for m in ("SC", "PQ", "O"):
            out[f"{task} {m}"] = t[m]
    return out


@pytest.mark.parametrize("language", ["en", "cn"])
def test_gedit_import_of_published_scores_equals_calculate_statistics(tmp_path, capsys, language):
    folder = tmp_path / "mymodel" / "gpt4o" / "eval_results_new"
    write_score_files(folder, SCORE_ROWS)
    out = tmp_path / "run"
    assert main(["bench", "import", "gedit", str(folder), "--out", str(out), "--set", f"language={language}",
                 "--bootstrap", "100"]) == 0
    want = statistics_as_calculate_statistics(SCORE_ROWS, language)
    report = json.loads((out / "report.json").read_text())
    got = {s["name"]: s["estimate"] for s in report["statistics"]}
    assert set(got) == set(want)
    for k, v in want.items():
        assert got[k] == pytest.approx(v, abs=1e-12), k
    sc, pq, o = (want[f"{m} average of task types"] for m in ("SC", "PQ", "O"))
    assert f"Average: {sc:.3f}, {pq:.3f}, {o:.3f}" in capsys.readouterr().out
    assert report["n_samples"] == sum(r[2] == language for r in SCORE_ROWS)
    assert main(["bench", "report", str(out), "--bootstrap", "100"]) == 0
    assert f"Average: {sc:.3f}, {pq:.3f}, {o:.3f}" in capsys.readouterr().out


def test_gedit_import_counts_duplicate_and_empty_rows_and_picks_the_model(tmp_path, capsys):
    folder = tmp_path / "eval"
    # a resumed evaluation wrote a1 twice; c1's quality score is empty (a failed judge call)
    write_score_files(folder, SCORE_ROWS, extra=[("a1", "color_alter", "en", 8, 6, True),
                                                  ("c3", "style_change", "en", 7, "", False)])
    write_score_files(folder, SCORE_ROWS[:2], model="other")
    assert main(["bench", "import", "gedit", str(folder), "--out", str(tmp_path / "r0")]) == 2
    assert "several models" in capsys.readouterr().err
    out = tmp_path / "run"
    assert main(["bench", "import", "gedit", str(folder), "--out", str(out), "--set", "model=mymodel",
                 "--bootstrap", "50"]) == 0
    printed = capsys.readouterr().out
    assert "1 duplicate rows" in printed and "1 rows with an empty or off-scale score" in printed
    report = json.loads((out / "report.json").read_text())
    assert report["quirks"]["failed_samples"] == 1
    want = statistics_as_calculate_statistics(SCORE_ROWS, "en")  # the duplicate once, the empty row out
    got = {s["name"]: s["estimate"] for s in report["statistics"]}
    assert got["O average of task types"] == pytest.approx(want["O average of task types"], abs=1e-12)
    assert main(["bench", "import", "gedit", str(folder), "--out", str(tmp_path / "r2"), "--set", "model=nope"]) == 2
    assert main(["bench", "import", "gedit", str(folder), "--out", str(tmp_path / "r3"), "--set", "language=zh"]) == 2
    assert main(["bench", "import", "gedit", str(folder), "--out", str(tmp_path / "r4"), "--set", "seed=1"]) == 2
