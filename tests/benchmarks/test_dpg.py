"""DPG-Bench through `judgekit bench run`: a dpg_bench.csv in its schema, 2x2 grids of four
tiles, a scripted judge whose yes/no depends on the tile and the question, and the official
aggregation (compute_dpg_bench.py's, keeping every row) recomputed here in plain Python."""

from __future__ import annotations

import csv
import json

import numpy as np
import pytest
from PIL import Image

from judgekit.cli import main
from tests.benchmarks.scripted import last_image_marker, marked_array, request_text
from tests.judge_server import Reply

TILE = 16
# item_id, prompt, [(proposition_id, dependency, tuple, question)]
ITEMS = [
    ("cat_1", "a grey cat on a red sofa", [
        (1, "0", "entity - whole (cat)", "Is there a cat?"),
        (2, "0", "entity - whole (sofa)", "Is there a sofa?"),
        (3, "1", "attribute - color (cat, grey)", "Is the cat grey?"),
        (4, "2", "attribute - color (sofa, red)", "Is the sofa red?"),
        (5, "1,2", "relation - spatial (cat, sofa, on)", "Is the cat on the sofa?"),
    ]),
    ("tower_2", "a tall tower beside two trees", [
        (1, "0", "entity - whole (tower)", "Is there a tower?"),
        (2, "0", "entity - whole (trees)", "Are there trees?"),
        (3, "1", "attribute - size (tower, tall)", "Is the tower tall?"),
        (4, "2", "other - count (trees, ==2)", "Are there two trees?"),
    ]),
]


def marker(item: int, tile: int) -> int:
    return 10 * (item + 1) + tile


def says_yes(mark: int, question: str) -> bool:
    return (mark + len(question)) % 3 != 0


def script(body: dict, n: int) -> Reply:
    text, mark = request_text(body), last_image_marker(body)
    question = next(q for _, _, rows in ITEMS for *_, q in rows if q in text)
    answer = "yes" if says_yes(mark, question) else "no"
    return Reply(content=json.dumps({"reasoning": "scripted", "answer": answer}))


def official() -> dict[str, float]:
    scores, l1, l2 = [], {}, {}
    for i, (_, _, rows) in enumerate(ITEMS):
        tile_scores = []
        for t in range(4):
            raw = {qid: float(says_yes(marker(i, t), q)) for qid, _, _, q in rows}
            s = dict(raw)
            for qid, dep, _, _ in rows:  # file order; zero when a parent currently scores 0
                if any(int(p) != 0 and s[int(p)] == 0 for p in dep.split(",")):
                    s[qid] = 0.0
            tile_scores.append(sum(s.values()) / len(s))
        scores.append(sum(tile_scores) / 4)
        for qid, _, tup, _ in rows:  # categories: the last tile's raw answers
            cat = tup.split("(")[0].strip()
            l2.setdefault(cat, []).append(raw[qid])
            l1.setdefault(cat.split("-")[0].strip(), []).append(raw[qid])
    out = {"DPG-Bench score": 100 * sum(scores) / len(scores)}
    out.update({f"L1 {k}": 100 * sum(v) / len(v) for k, v in l1.items()})
    out.update({f"L2 {k}": 100 * sum(v) / len(v) for k, v in l2.items()})
    return out


@pytest.fixture
def dpg_files(tmp_path):
    data = tmp_path / "dpg_bench.csv"
    with data.open("w", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(["item_id", "text", "keywords", "proposition_id", "dependency", "category_broad",
                    "category_detailed", "tuple", "question_natural_language"])
        for item, prompt, rows in ITEMS:
            for qid, dep, tup, q in rows:
                broad, detailed = (x.strip() for x in tup.split("(")[0].split("-"))
                w.writerow([item, prompt, "", qid, dep, broad, detailed, tup, q])
    images = tmp_path / "grids"
    images.mkdir()
    for i, (item, _, _) in enumerate(ITEMS):
        grid = np.zeros((2 * TILE, 2 * TILE, 3), dtype=np.uint8)
        for t, (x, y) in enumerate([(0, 0), (TILE, 0), (0, TILE), (TILE, TILE)]):
            grid[y:y + TILE, x:x + TILE] = marked_array(marker(i, t), TILE, seed=10 * i + t)
        Image.fromarray(grid, "RGB").save(images / f"{item}.png")
    return data, images


def test_dpg_report_equals_official_aggregation(judge_server, dpg_files, tmp_path, capsys):
    judge_server.reset(script)
    data, images = dpg_files
    out = tmp_path / "run"
    assert main(["bench", "run", "dpg", "--data", str(data), "--images", str(images), "--backend", "openai:judge",
                 "--base-url", judge_server.url, "--out", str(out), "--cache", str(tmp_path / "c.sqlite"),
                 "--no-progress", "--bootstrap", "200"]) == 0
    printed = capsys.readouterr().out
    assert len(judge_server.received) == 4 * (5 + 4)  # every question of every tile, once
    want = official()
    report = json.loads((out / "report.json").read_text())
    got = {s["name"]: s["estimate"] for s in report["statistics"]}
    assert set(got) == set(want)
    for k, v in want.items():
        assert got[k] == pytest.approx(v, abs=1e-9), k
    assert f"DPG-Bench score: {got['DPG-Bench score']}" in printed
    assert main(["bench", "report", str(out), "--bootstrap", "200"]) == 0
    assert f"DPG-Bench score: {got['DPG-Bench score']}" in capsys.readouterr().out


def test_dpg_grid_smaller_than_two_tiles_fails_its_prompt_instead_of_padding(judge_server, dpg_files, tmp_path):
    judge_server.reset(script)
    data, images = dpg_files
    Image.fromarray(marked_array(5, TILE, 0), "RGB").save(images / "tower_2.png")  # one tile, not a grid
    out = tmp_path / "run"
    assert main(["bench", "run", "dpg", "--data", str(data), "--images", str(images), "--set", f"resolution={TILE}",
                 "--backend", "openai:judge", "--base-url", judge_server.url, "--out", str(out),
                 "--cache", str(tmp_path / "c.sqlite"), "--no-progress", "--bootstrap", "50"]) == 0
    report = json.loads((out / "report.json").read_text())
    assert report["n_prompts"] == 1 and report["quirks"]["missing_images"] == 4
