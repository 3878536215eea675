"""RISEBench through `judgekit bench run`: items of every kind its gpt_eval.py branches on
(consistency-free, reference image, logical with a text or an image answer), a scripted judge
answering 'Final Score: N' per dimension, and the accuracy (share of samples with every
dimension at 5) and weighted score recomputed here in plain Python."""

from __future__ import annotations

import json

import pytest

from judgekit.cli import main
from tests.benchmarks.scripted import last_image_marker, request_text, write_marked
from tests.judge_server import Reply

ITEMS = [
    {"index": "temporal_reasoning_1", "category": "temporal_reasoning", "instruction": "Show it after ten years.",
     "image": "temporal_reasoning_images/1.png", "reference": "A rusted bicycle."},
    {"index": "temporal_reasoning_2", "category": "temporal_reasoning", "instruction": "Show it tomorrow.",
     "image": "temporal_reasoning_images/2.png", "reference": "A wilted flower.", "consistency_free": True},
    {"index": "causal_reasoning_1", "category": "causal_reasoning", "instruction": "Drop the glass.",
     "image": "causal_reasoning_images/1.png", "reference": "A shattered glass.", "reasoning_img": "yes"},
    {"index": "causal_reasoning_2", "category": "causal_reasoning", "instruction": "Heat the ice.",
     "image": "causal_reasoning_images/2.png", "reference": "A puddle."},
    {"index": "spatial_reasoning_1", "category": "spatial_reasoning", "instruction": "Draw the top view.",
     "image": "spatial_reasoning_images/1.png", "reference": "A circle.", "reference_img": "spatial_reasoning_images/1_ref.png"},
    {"index": "logical_reasoning_1", "category": "logical_reasoning", "instruction": "Solve the maze.",
     "image": "logical_reasoning_images/1.png", "reference_txt": "The path goes left then down."},
    {"index": "logical_reasoning_2", "category": "logical_reasoning", "instruction": "Fill the sudoku.",
     "image": "logical_reasoning_images/2.png", "reference_img": "logical_reasoning_images/2_ref.png"},
]
DIMENSION_PHRASES = {"consistency": ("does not ask to change", "only adding the answer", "keeps the puzzle's layout"),
                     "quality": ("clear and free of distortion",)}


def mark(i: int) -> int:
    return 30 + i


def answer(dim: str, i: int, logical: bool) -> int:
    if logical:
        return (i + len(dim)) % 2
    return 5 if (i + len(dim)) % 3 else 3 + i % 2


def dimension_of(text: str) -> str:
    for dim, phrases in DIMENSION_PHRASES.items():
        if any(p in text for p in phrases):
            return dim
    return "reasoning"


def script(body, n):
    text = request_text(body)
    i = last_image_marker(body) - 30
    dim = dimension_of(text)
    return Reply(content=f"Looks fine.\nFinal Score: {answer(dim, i, ITEMS[i]['category'] == 'logical_reasoning')}")


def expected():
    units = []
    for i, it in enumerate(ITEMS):
        logical = it["category"] == "logical_reasoning"
        dims = ["reasoning"] + ([] if it.get("consistency_free") else ["consistency"]) + ([] if logical else ["quality"])
        s = {d: (4 * min(answer(d, i, True), 1) + 1) if logical else answer(d, i, False) for d in dims}
        r = s["reasoning"]
        if logical:
            w = 0.3 * s["consistency"] + 0.7 * r
        elif "consistency" not in s:
            w = 0.2 * s["quality"] + 0.8 * r
        else:
            w = 0.3 * s["consistency"] + 0.5 * r + 0.2 * s["quality"]
        if r == 1:
            w = max(1, w * 0.5)
        units.append((it["category"], all(v == 5 for v in s.values()), w))
    acc = 100 * sum(c for _, c, _ in units) / len(units)
    score = sum(w for *_, w in units) / len(units)
    by_cat = {}
    for cat, c, _ in units:
        by_cat.setdefault(cat, []).append(c)
    out = {"Overall accuracy (% complete)": acc, "Overall score (1-5)": score,
           "Overall score (%, 25 x (score - 1))": 25 * (score - 1)}
    for cat, cs in by_cat.items():
        out[f"{cat.split('_')[0].capitalize()} accuracy (%)"] = 100 * sum(cs) / len(cs)
    return out


def test_risebench_accuracy_is_the_share_of_fully_correct_samples(judge_server, tmp_path, capsys):
    judge_server.reset(script)
    data_dir = tmp_path / "data"
    data_dir.mkdir()
    (data_dir / "data_total.json").write_text(json.dumps(ITEMS))
    out_model = tmp_path / "outputs" / "mymodel"
    for i, it in enumerate(ITEMS):
        write_marked(data_dir / it["image"], 200 + i, seed=i)
        for key in ("reference_img",):
            if it.get(key):
                write_marked(data_dir / it[key], 220 + i, seed=90 + i)
        write_marked(out_model / "images" / it["category"] / f"{it['index']}.png", mark(i), seed=50 + i)
    out = tmp_path / "run"
    assert main(["bench", "run", "risebench", "--data", str(data_dir / "data_total.json"), "--images", str(out_model),
                 "--backend", "openai:judge", "--base-url", judge_server.url, "--out", str(out),
                 "--cache", str(tmp_path / "c.sqlite"), "--no-progress", "--bootstrap", "200"]) == 0
    n_calls = sum(1 + (not it.get("consistency_free")) + (it["category"] != "logical_reasoning") for it in ITEMS)
    assert len(judge_server.received) == n_calls
    # Which images each call saw: the reasoning call of a reference-image item sees reference then output.
    spatial = [b for b in judge_server.received if "Draw the top view" in request_text(b) and "correct result" in request_text(b)]
    assert len(spatial) == 1 and len([p for p in spatial[0]["messages"][0]["content"] if p["type"] == "image_url"]) == 2
    got = {s["name"]: s["estimate"] for s in json.loads((out / "report.json").read_text())["statistics"]}
    for k, v in expected().items():
        assert got[k] == pytest.approx(v), k
