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
