"""LongText-Bench through `judgekit bench run` (micro recall recomputed here), `bench list`,
the quirk counts of blank and black images, and the refusals of what judgekit does not run."""

from __future__ import annotations

import json

import numpy as np
import pytest
from PIL import Image

from judgekit.benchmarks import cards
from judgekit.cli import main
from tests.benchmarks.scripted import last_image_marker, write_marked
from tests.judge_server import Reply

ITEMS = [
    {"prompt_id": "1", "prompt": "a poster", "text": ["grand opening today", "free coffee"], "category": "poster"},
    {"prompt_id": "2", "prompt": "a sign", "text": ["closed on sunday"], "category": "sign"},
    {"prompt_id": "3", "prompt": "a label", "text": ["fresh green tea leaves"], "category": "label"},
]
TRANSCRIPTIONS = {1: "GRAND opening! free", 2: "closed on sunday and monday", 3: "tea"}


def script(body: dict, n: int) -> Reply:
    return Reply(content=json.dumps({"transcription": TRANSCRIPTIONS[last_image_marker(body)]}))


def test_longtext_report_equals_micro_recall(judge_server, tmp_path, capsys):
    judge_server.reset(script)
    data = tmp_path / "longtext_en.jsonl"
    data.write_text("".join(json.dumps(r) + "\n" for r in ITEMS))
    for r in ITEMS:
        write_marked(tmp_path / "imgs" / f"{r['prompt_id']}.png", int(r["prompt_id"]), seed=int(r["prompt_id"]))
    out = tmp_path / "run"
    assert main(["bench", "run", "longtext", "--data", str(data), "--images", str(tmp_path / "imgs"),
                 "--backend", "openai:judge", "--base-url", judge_server.url, "--out", str(out),
                 "--cache", str(tmp_path / "c.sqlite"), "--no-progress", "--bootstrap", "100"]) == 0
    matched = total = 0
    for r in ITEMS:  # word-level bag recall: each target word found in the transcription
        said = TRANSCRIPTIONS[int(r["prompt_id"])].lower().replace("!", "").split()
        words = " ".join(r["text"]).split()
        matched += sum(w in said for w in words)
        total += len(words)
    got = {s["name"]: s["estimate"] for s in json.loads((out / "report.json").read_text())["statistics"]}
    assert got["text score (micro recall)"] == pytest.approx(matched / total)
    assert got["language en"] == pytest.approx(matched / total)


def test_blank_and_black_images_are_judged_and_counted(judge_server, tmp_path, capsys):
    judge_server.reset(lambda body, n: Reply(content=json.dumps({"transcription": "free coffee"})))
    data = tmp_path / "longtext_en.jsonl"
    data.write_text("".join(json.dumps(r) + "\n" for r in ITEMS))
    imgs = tmp_path / "imgs"
    imgs.mkdir()
    Image.fromarray(np.zeros((16, 16, 3), np.uint8)).save(imgs / "1.png")
    Image.fromarray(np.full((16, 16, 3), 255, np.uint8)).save(imgs / "2.png")
    write_marked(imgs / "3.png", 3)
    out = tmp_path / "run"
    assert main(["bench", "run", "longtext", "--data", str(data), "--images", str(imgs), "--backend", "openai:judge",
                 "--base-url", judge_server.url, "--out", str(out), "--cache", str(tmp_path / "c.sqlite"),
                 "--no-progress", "--bootstrap", "50"]) == 0
    report = json.loads((out / "report.json").read_text())
    assert report["quirks"]["black_images"] == 1 and report["quirks"]["blank_images"] == 1
    assert report["n_prompts"] == 3  # judged like any image, as the official evaluators do
    assert "1 black images, 1 blank images" in capsys.readouterr().out


def test_bench_list_shows_every_card_and_marks_what_runs(capsys):
    assert main(["bench", "list"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert len(lines) == len(cards())
    runnable = {c.name for c in cards() if c.runnable}
    assert runnable == {"geneval2", "dpg", "geneval", "gedit", "imgedit", "longtext", "wise", "risebench", "tiif", "oneig", "t2i-compbench", "kris"}
    for line in lines:
        assert ("card only" in line) == (line.split()[0] not in runnable)
    assert main(["bench", "list", "--verbose"]) == 0
    text = capsys.readouterr().out
    assert "Bagel PR #299" in text and "ImgEdit #34" in text and "TIIF-Bench #12" in text
    for c in cards():  # every card says what judgekit reproduces, part by part
        assert c.parts and all(p.fidelity in ("exact", "approximate", "not") for p in c.parts)


@pytest.mark.parametrize("argv, message", [
    (["nope"], "unknown benchmark"),
    (["geneval2", "--method", "clip"], "not a method of geneval2"),
    (["dpg", "--protocol-dir", "."], "does not read dpg's official prompt"),
    (["dpg", "--set", "tiles=9"], "not an option of this benchmark"),
])
def test_bench_run_refusals_are_one_line_errors(tmp_path, capsys, argv, message):
    data = tmp_path / "d.csv"
    data.write_text("item_id,text\n")
    rc = main(["bench", "run", *argv, "--data", str(data), "--images", str(tmp_path), "--backend", "openai:judge",
               "--base-url", "http://127.0.0.1:9", "--out", str(tmp_path / "o")])
    err = capsys.readouterr().err
    assert rc == 2 and message in err and err.count("\n") == 1


def test_a_card_only_benchmark_is_refused_with_the_reason(tmp_path, capsys, monkeypatch):
    """No card is reference-only today (KRIS-Bench became runnable): a stand-in one keeps the refusal tested."""
    import sys
    import types

    from judgekit.benchmarks import engine
    from judgekit.benchmarks.card import ProtocolCard

    mod = types.ModuleType("judgekit_test_card_only")
    mod.CARD = ProtocolCard(name="cardonly", title="Card only", task="image editing", repository="o/r",  # type: ignore[attr-defined]
                            official_judge="GPT-4o", official_prompt="eval.py", aggregation="none", data="d.json",
                            images="a folder", license="MIT", runnable=False)
    monkeypatch.setitem(sys.modules, mod.__name__, mod)
    monkeypatch.setitem(engine.BENCHMARKS, "cardonly", mod.__name__)
    rc = main(["bench", "run", "cardonly", "--data", str(tmp_path), "--backend", "openai:judge",
               "--base-url", "http://127.0.0.1:9", "--out", str(tmp_path / "o")])
    err = capsys.readouterr().err
    assert rc == 2 and "listed for reference only" in err


def test_bench_report_of_a_folder_without_a_run_is_an_error(tmp_path, capsys):
    assert main(["bench", "report", str(tmp_path)]) == 2
    assert "does not exist" in capsys.readouterr().err


def test_docs_show_every_protocol_card_as_bench_list_prints_it():
    from pathlib import Path

    doc = (Path(__file__).resolve().parents[2] / "docs" / "benchmarks.md").read_text()
    for c in cards():
        assert "\n".join(c.lines()) in doc, f"docs/benchmarks.md is out of date for {c.name}"


def test_a_run_with_no_scored_sample_shows_no_nan_in_judgekits_table(judge_server, tmp_path, capsys):
    """Every image missing: exit 3, and judgekit's table says the estimate is undefined rather
    than printing ``nan`` (the official headline above it keeps the evaluator's own output)."""
    data = tmp_path / "longtext_en.jsonl"
    data.write_text("".join(json.dumps(r) + "\n" for r in ITEMS))
    (tmp_path / "imgs").mkdir()
    out = tmp_path / "run"
    assert main(["bench", "run", "longtext", "--data", str(data), "--images", str(tmp_path / "imgs"),
                 "--backend", "openai:judge", "--base-url", judge_server.url, "--out", str(out),
                 "--cache", str(tmp_path / "c.sqlite"), "--no-progress", "--bootstrap", "20"]) == 3
    text = capsys.readouterr().out
    table = text.split("95% CI (bootstrap over prompts)\n", 1)[1].splitlines()
    row = next(ln for ln in table if ln.startswith("text score (micro recall)"))
    assert "nan" not in row and row.split()[-2:] == ["n/a", "undefined"]
