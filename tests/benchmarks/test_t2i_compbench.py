"""T2I-CompBench++ (MLLM variant) through `judgekit bench run`: a prompt file and a samples/ folder
named as its evaluator reads them, a scripted judge that describes each image and then scores it
with that description in the conversation, and Share_eval.py's aggregation (levels mapped to
20..100, mean over images) recomputed here in plain Python."""

from __future__ import annotations

import json

import pytest

from judgekit.cli import main
from tests.benchmarks.scripted import last_image_marker, write_compbench_category
from tests.judge_server import Reply

PROMPTS = ["a cat on the left of a dog", "a cup under a lamp", "a bird above a tree"]
IMAGES = {0: [0, 1], 1: [2], 2: []}  # prompt index -> image numbers (the third prompt has none)


def mark(n: int) -> int:
    return 40 + n


def level(m: int) -> int:
    return 1 + m % 5


def script(body, n):
    msgs = body["messages"]
    assistant = [m for m in msgs if m["role"] == "assistant"]
    m = last_image_marker(body)
    if not assistant:  # the description turn
        return Reply(content=f"description of image {m}")
    said = assistant[0]["content"]
    said = said if isinstance(said, str) else said[0]["text"]
    assert said == f"description of image {m}"  # the question sees this image's own description
    if m == mark(2) and n % 2 == 1:
        return Reply(content="I would say it is a four")  # never valid JSON: retried, then failed
    if m == mark(2):
        return Reply(content="not json either")
    return Reply(content=json.dumps({"score": level(m), "explanation": "scripted"}))


@pytest.fixture
def compbench_files(tmp_path):
    return write_compbench_category(tmp_path, "spatial", PROMPTS, IMAGES, mark)


def test_t2i_compbench_two_turn_judging_and_official_average(judge_server, compbench_files, tmp_path, capsys):
    judge_server.reset(script)
    data, folder = compbench_files
    out = tmp_path / "run"
    assert main(["bench", "run", "t2i-compbench", "--data", str(data), "--images", str(folder), "--set", "category=spatial",
                 "--backend", "openai:judge", "--base-url", judge_server.url, "--out", str(out),
                 "--cache", str(tmp_path / "c.sqlite"), "--no-progress", "--bootstrap", "100"]) == 0
    report = json.loads((out / "report.json").read_text())
    levels = {0: 20, 1: 40, 2: 60, 3: 80, 4: 100}
    judged = [levels[level(mark(k)) - 1] for k in (0, 1)]  # image 2's reply never parses: excluded, not 100
    got = {s["name"]: s["estimate"] for s in report["statistics"]}
    assert got["average score (0-100)"] == pytest.approx(sum(judged) / len(judged))
    q = report["quirks"]
    assert q["unparseable_replies"] == 1 and q["missing_images"] == 1 and q["failed_samples"] == 2
    assert f"avg:{got['average score (0-100)']}" in capsys.readouterr().out

