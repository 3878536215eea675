"""OneIG-Bench alignment through `judgekit bench run`: Q_D question files in its format (values as
JSON strings or objects), 2x2 grids with an all-black tile, a scripted judge, and
alignment_score.py's aggregation (black tiles dropped, one-level dependencies on raw answers,
tile mean, prompt mean, mean over prompts) recomputed here in plain Python."""

from __future__ import annotations

import functools
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


# --- the text part ---------------------------------------------------------------------------

TEXTS = {"000": "['Grand Opening', 'Free coffee, all day!']", "001": "['Exit 7']"}
OCR = {50: "GRAND Opening\nFree coffee all day", 51: "Grand Opening Free coffee all day", 52: "No text recognized.",
       53: "Grand Openin Free cofee", 60: "Exit 7", 61: "Exit 1", 62: "Exit", 63: "Exit 7 Exit 7"}


def levenshtein(a: str, b: str) -> int:

    @functools.cache
    def d(i: int, j: int) -> int:
        if i == 0 or j == 0:
            return i + j
        return min(d(i - 1, j) + 1, d(i, j - 1) + 1, d(i - 1, j - 1) + (a[i - 1] != b[j - 1]))

    return d(len(a), len(b))


def plain(text: str) -> str:  # ASCII case of OneIG's normalisation: drop punctuation, collapse spaces
    return " ".join("".join(c for c in text if c.isalnum() or c.isspace()).split())


def test_oneig_text_score_equals_official_formula(judge_server, tmp_path):
    judge_server.reset(lambda body, n: Reply(content=OCR[last_image_marker(body)]))
    data = tmp_path / "text_content.csv"
    data.write_text("id,prompt_en,text_content\n" + "".join(f'{k},"a poster","{v}"\n' for k, v in TEXTS.items()))
    for i, key in enumerate(TEXTS):
        grid = np.zeros((2 * TILE, 2 * TILE, 3), dtype=np.uint8)
        for t, (x, y) in enumerate([(0, 0), (TILE, 0), (0, TILE), (TILE, TILE)]):
            grid[y:y + TILE, x:x + TILE] = marked_array(50 + 10 * i + t, TILE, seed=t)
        (tmp_path / "text" / "mymodel").mkdir(parents=True, exist_ok=True)
        Image.fromarray(grid).save(tmp_path / "text" / "mymodel" / f"{key}.png")
    out = tmp_path / "run"
    assert main(["bench", "run", "oneig", "--method", "text", "--data", str(data), "--images", str(tmp_path / "text"),
                 "--backend", "openai:judge", "--base-url", judge_server.url, "--out", str(out),
                 "--cache", str(tmp_path / "c.sqlite"), "--no-progress", "--bootstrap", "100"]) == 0
    eds, crs, matched, words = [], [], 0, 0
    for i, key in enumerate(TEXTS):
        target = plain(TEXTS[key])
        for t in range(4):
            ocr = plain(OCR[50 + 10 * i + t].replace("No text recognized.", ""))
            ed = levenshtein(ocr, target)
            eds.append(ed)
            crs.append(float(ed == 0))
            tw, ow = target.split(), ocr.split()
            matched += sum(min(tw.count(w), ow.count(w)) for w in set(tw))
            words += len(tw)
    ed, cr, wac = sum(eds) / len(eds), sum(crs) / len(crs), matched / words
    got = {s["name"]: s["estimate"] for s in json.loads((out / "report.json").read_text())["statistics"]}
    assert got["ED (edit distance)"] == pytest.approx(ed)
    assert got["CR (completion rate)"] == pytest.approx(cr)
    assert got["WAC (word accuracy)"] == pytest.approx(wac)
    assert got["text score"] == pytest.approx(1 - min(100, ed) * (1 - cr) * (1 - wac) / 100)
