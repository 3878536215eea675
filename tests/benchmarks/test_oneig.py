"""OneIG-Bench alignment through `judgekit bench run`: Q_D question files in its format (values as
JSON strings or objects), 2x2 grids with an all-black tile, a scripted judge, and
alignment_score.py's aggregation (black tiles dropped, one-level dependencies on raw answers,
tile mean, prompt mean, mean over prompts) recomputed here in plain Python."""

from __future__ import annotations

import json

import numpy as np
import pytest
from PIL import Image

from judgekit.cli import main
from tests.benchmarks.scripted import last_image_marker, marked_array, request_text
from tests.judge_server import Reply

TILE = 16
QD = {
    "anime": {"000": ({1: "Is there a fox?", 2: "Is the fox orange?", 3: "Is the fox sleeping?"}, {1: [0], 2: [1], 3: [1]}),
              "001": ({1: "Is there a castle?", 2: "Is there a dragon?", 3: "Is the dragon above the castle?"},
                      {1: [0], 2: [0], 3: [1, 2]})},
    "object": {"000": ({1: "Is there a teapot?", 2: "Is the teapot glass?"}, {1: [0], 2: [1]})},
}
BLACK = {("anime", "001", 3)}  # this tile is all black: dropped by the official evaluator


def mark(cls: str, key: str, tile: int) -> int:
    return 10 + 40 * list(QD).index(cls) + 10 * int(key) + tile


def says_yes(m: int, question: str) -> bool:
    return (m + len(question)) % 3 != 0


def script(body, n):
    text, m = request_text(body), last_image_marker(body)
    q = next(q for cls in QD.values() for qs, _ in cls.values() for q in qs.values() if q in text)
    return Reply(content=json.dumps({"reasoning": "scripted", "answer": "yes" if says_yes(m, q) else "no"}))


def official():
    per_prompt = {}
    for cls, items in QD.items():
        for key, (qs, deps) in items.items():
            tiles = []
            for t in range(4):
                if (cls, key, t) in BLACK:
                    continue
                raw = {i: float(says_yes(mark(cls, key, t), q)) for i, q in qs.items()}
                filt = {i: 0.0 if any(p != 0 and raw[p] == 0 for p in deps[i]) else raw[i] for i in qs}
                tiles.append(sum(filt.values()) / len(filt))
            per_prompt[(cls, key)] = sum(tiles) / len(tiles)
    out = {"alignment (mean over prompts)": sum(per_prompt.values()) / len(per_prompt)}
    for cls in QD:
        v = [s for (c, _), s in per_prompt.items() if c == cls]
        out[f"class {cls}"] = sum(v) / len(v)
    return out


@pytest.fixture
def oneig_files(tmp_path):
    qd = tmp_path / "Q_D"
    qd.mkdir()
    for cls, items in QD.items():
        entries = {}
        for k, (qs, deps) in items.items():
            # The official files hold both fields as JSON strings; an object is read the same way.
            entries[k] = {"question": json.dumps({str(i): q for i, q in qs.items()}),
                          "dependency": json.dumps({str(i): d for i, d in deps.items()}) if cls == "anime"
                          else {str(i): d for i, d in deps.items()}}
        (qd / f"{cls}.json").write_text(json.dumps(entries))
    for cls, items in QD.items():
        for key in items:
            grid = np.zeros((2 * TILE, 2 * TILE, 3), dtype=np.uint8)
            for t, (x, y) in enumerate([(0, 0), (TILE, 0), (0, TILE), (TILE, TILE)]):
                if (cls, key, t) not in BLACK:
                    grid[y:y + TILE, x:x + TILE] = marked_array(mark(cls, key, t), TILE, seed=t)
            (tmp_path / "images" / cls / "mymodel").mkdir(parents=True, exist_ok=True)
            Image.fromarray(grid).save(tmp_path / "images" / cls / "mymodel" / f"{key}.png")
    return qd, tmp_path / "images"


def test_oneig_alignment_equals_official_aggregation(judge_server, oneig_files, tmp_path, capsys):
    judge_server.reset(script)
    qd, images = oneig_files
    out = tmp_path / "run"
    assert main(["bench", "run", "oneig", "--data", str(qd), "--images", str(images), "--set", "classes=anime,object",
                 "--backend", "openai:judge", "--base-url", judge_server.url, "--out", str(out),
                 "--cache", str(tmp_path / "c.sqlite"), "--no-progress", "--bootstrap", "200"]) == 0
    report = json.loads((out / "report.json").read_text())
    got = {s["name"]: s["estimate"] for s in report["statistics"]}
    want = official()
    assert set(got) == set(want)
    for k, v in want.items():
        assert got[k] == pytest.approx(v), k
    assert report["quirks"]["black_images"] == 1
    asked = sum(len(qs) * (4 - sum(1 for b in BLACK if b[:2] == (c, k))) for c, items in QD.items() for k, (qs, _) in items.items())
    assert len(judge_server.received) == asked  # the black tile is never judged
