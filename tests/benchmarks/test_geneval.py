"""GenEval (VLM variant) through `judgekit bench run`: evaluation_metadata.jsonl records, its
generator's folder layout, a scripted judge, and summary_scores.py's aggregation (per-tag
accuracy, overall = mean of tags) recomputed here in plain Python."""

from __future__ import annotations

import json

import pytest

from judgekit.cli import main
from judgekit.datasets.geneval import geneval_graph
from tests.benchmarks.scripted import last_image_marker, request_text, write_marked
from tests.judge_server import Reply

RECORDS = [
    {"tag": "single_object", "include": [{"class": "bench", "count": 1}], "prompt": "a photo of a bench"},
    {"tag": "counting", "include": [{"class": "clock", "count": 2}], "prompt": "a photo of two clocks"},
    {"tag": "colors", "include": [{"class": "bus", "count": 1, "color": "green"}], "prompt": "a photo of a green bus"},
    {"tag": "single_object", "include": [{"class": "cow", "count": 1}], "prompt": "a photo of a cow"},
]
IMAGES_PER_PROMPT = 3


def says_yes(mark: int, question: str) -> bool:
    return (mark + len(question)) % 4 != 0


def script(body: dict, n: int) -> Reply:
    text, mark = request_text(body), last_image_marker(body)
    questions = [q.text for i, r in enumerate(RECORDS) for q in geneval_graph(r, str(i)).questions]
    q = next(q for q in questions if f"Question: {q}" in text)
    return Reply(content=json.dumps({"reasoning": "scripted", "answer": "yes" if says_yes(mark, q) else "no"}))


def official() -> dict[str, float]:
    rows = []  # (prompt index, tag, correct) per image, as evaluate_images.py writes them
    for i, r in enumerate(RECORDS):
        qs = [q.text for q in geneval_graph(r, str(i)).questions]
        for k in range(IMAGES_PER_PROMPT):
            rows.append((i, r["tag"], all(says_yes(10 * i + k, q) for q in qs)))
    tags: dict[str, list[bool]] = {}
    for _, tag, c in rows:
        tags.setdefault(tag, []).append(c)
    out = {"overall (mean of tags)": sum(sum(v) / len(v) for v in tags.values()) / len(tags),
           "correct images (share)": sum(c for *_, c in rows) / len(rows),
           "correct prompts (share)": sum(any(c for j, _, c in rows if j == i) for i in range(len(RECORDS))) / len(RECORDS)}
    out.update({f"tag {t}": sum(v) / len(v) for t, v in tags.items()})
    return out


@pytest.fixture
def geneval_files(tmp_path):
    data = tmp_path / "evaluation_metadata.jsonl"
    data.write_text("".join(json.dumps(r) + "\n" for r in RECORDS))
    root = tmp_path / "outputs"
    for i, r in enumerate(RECORDS):
        folder = root / f"{i:05d}"
        for k in range(IMAGES_PER_PROMPT):
            write_marked(folder / "samples" / f"{k:04d}.png", 10 * i + k, seed=10 * i + k)
        (folder / "metadata.jsonl").write_text(json.dumps(r) + "\n")
    return data, root


def _run(judge_server, data, root, out, tmp_path):
    return main(["bench", "run", "geneval", "--data", str(data), "--images", str(root), "--backend", "openai:judge",
                 "--base-url", judge_server.url, "--out", str(out), "--cache", str(tmp_path / "c.sqlite"),
                 "--no-progress", "--bootstrap", "200"])


def test_geneval_report_equals_official_aggregation(judge_server, geneval_files, tmp_path, capsys):
    judge_server.reset(script)
    data, root = geneval_files
    out = tmp_path / "run"
    assert _run(judge_server, data, root, out, tmp_path) == 0
    printed = capsys.readouterr().out
    want = official()
    got = {s["name"]: s["estimate"] for s in json.loads((out / "report.json").read_text())["statistics"]}
    assert set(got) == set(want)
    for k, v in want.items():
        assert got[k] == pytest.approx(v, abs=1e-12), k
    assert f"Overall score (avg. over tasks): {want['overall (mean of tags)']:.5f}" in printed
    assert "0 rewritten prompts" in printed


def test_geneval_counts_images_generated_from_a_rewritten_prompt(judge_server, geneval_files, tmp_path, capsys):
    judge_server.reset(script)
    data, root = geneval_files
    rec = dict(RECORDS[1], prompt="A photorealistic image of exactly two antique clocks on a wall")
    (root / "00001" / "metadata.jsonl").write_text(json.dumps(rec) + "\n")
    assert _run(judge_server, data, root, tmp_path / "run", tmp_path) == 0
    printed = capsys.readouterr().out
    assert "1 rewritten prompts" in printed and "generated from a prompt other than GenEval's" in printed
