"""ImgEdit through `judgekit bench run`: basic_edit.json in its format, the original-images
root and result folder, a scripted judge replying in the 'Name: score' lines ImgEdit's step1
reads, and step1/step2's aggregation (with their rounding) recomputed here in plain Python."""

from __future__ import annotations

import json

import pytest

from judgekit.benchmarks.imgedit import CRITERIA
from judgekit.cli import main
from tests.benchmarks.scripted import last_image_marker, request_text, write_marked
from tests.judge_server import Reply

EDITS = {
    "11": {"id": "animal/a1.jpg", "prompt": "Replace the dog with a fox.", "edit_type": "replace"},
    "12": {"id": "animal/a2.jpg", "prompt": "Replace the cup with a vase.", "edit_type": "replace"},
    "20": {"id": "style/s1.jpg", "prompt": "Make it look like an oil painting.", "edit_type": "style"},
    "31": {"id": "scene/c1.jpg", "prompt": "Add a red kite in the sky.", "edit_type": "add"},
    "32": {"id": "scene/c2.jpg", "prompt": "Add a bench by the path.", "edit_type": "add"},
    "33": {"id": "scene/c3.jpg", "prompt": "Add snow on the roof.", "edit_type": "add"},
}


def marks(key: str) -> int:
    return int(key) + 100


def scores_of(mark: int) -> list[int]:
    return [1 + mark % 5, 1 + (mark // 2) % 5, 1 + (mark // 3) % 5]


def script(body: dict, n: int) -> Reply:
    text = request_text(body)
    edit_type = next(t for t, names in CRITERIA.items() if f"({t})" in text or all(x in text for x in names))
    s = scores_of(last_image_marker(body))
    lines = ["Brief reasoning: scripted."] + [f"{name}: {v}" for name, v in zip(CRITERIA[edit_type], s)]
    return Reply(content="\n".join(lines))


def official(keys) -> dict[str, float]:
    per_key = {k: round(sum(scores_of(marks(k))) / 3, 2) for k in keys}  # step1
    types: dict[str, list[float]] = {}
    for k, v in per_key.items():
        types.setdefault(EDITS[k]["edit_type"], []).append(v)
    type_means = {t: sum(v) / len(v) for t, v in types.items()}  # step2 (before its rounding)
    out = {"overall (mean of edit types)": sum(type_means.values()) / len(type_means)}
    out.update({f"type {t}": v for t, v in type_means.items()})
    return out


@pytest.fixture
def imgedit_files(tmp_path):
    data = tmp_path / "basic_edit.json"
    data.write_text(json.dumps(EDITS))
    for i, (key, e) in enumerate(EDITS.items()):
        write_marked(tmp_path / "origin" / e["id"], 7, seed=i)
        write_marked(tmp_path / "edited" / f"{key}.png", marks(key), seed=50 + i)
    return data, tmp_path / "edited", tmp_path / "origin"


def _run(judge_server, files, tmp_path, *extra):
    data, edited, origin = files
    return main(["bench", "run", "imgedit", "--data", str(data), "--images", str(edited), "--set",
                 f"origin_root={origin}", "--backend", "openai:judge", "--base-url", judge_server.url,
                 "--out", str(tmp_path / "run"), "--cache", str(tmp_path / "c.sqlite"), "--no-progress",
                 "--bootstrap", "200", *extra])


def test_imgedit_report_equals_official_aggregation(judge_server, imgedit_files, tmp_path, capsys):
    judge_server.reset(script)
    assert _run(judge_server, imgedit_files, tmp_path) == 0
    printed = capsys.readouterr().out
    assert len(judge_server.received) == len(EDITS)  # one call per edit
    want = official(EDITS)
    got = {s["name"]: s["estimate"] for s in json.loads((tmp_path / "run" / "report.json").read_text())["statistics"]}
    assert set(got) == set(want)
    for k, v in want.items():
        assert got[k] == pytest.approx(v, abs=1e-12), k
    assert f'"add": {round(want["type add"], 2)}' in printed
    assert "not prompts.json" in printed and "temperature 0" in printed


def test_imgedit_unparseable_reply_is_failed_and_counted_not_dropped_silently(judge_server, imgedit_files, tmp_path, capsys):
    def garbled(body, n):
        if last_image_marker(body) == marks("32"):
            return Reply(content="The edit looks good overall, maybe a four.")
        return script(body, n)

    judge_server.reset(garbled)
    assert _run(judge_server, imgedit_files, tmp_path) == 0
    report = json.loads((tmp_path / "run" / "report.json").read_text())
    got = {s["name"]: s["estimate"] for s in report["statistics"]}
    want = official([k for k in EDITS if k != "32"])
    assert got["type add"] == pytest.approx(want["type add"])
    assert report["quirks"]["unparseable_replies"] == 1
    assert len(judge_server.received) == len(EDITS) + 2  # the garbled reply was retried twice


def test_imgedit_protocol_dir_sends_the_checkouts_prompt_per_edit_type(judge_server, imgedit_files, tmp_path, capsys):
    judge_server.reset(script)
    checkout = tmp_path / "ImgEdit"
    (checkout / "Benchmark" / "Basic").mkdir(parents=True)
    # Stand-in prompts in the official file's shape (the wording is this test's own).
    prompts = {t: f"Grade this {t} edit. Instruction: <edit_prompt>. Give " + ", ".join(names) for t, names in CRITERIA.items()}
    (checkout / "Benchmark" / "Basic" / "prompts.json").write_text(json.dumps(prompts))
    assert _run(judge_server, imgedit_files, tmp_path, "--protocol-dir", str(checkout)) == 0
    texts = sorted(request_text(b) for b in judge_server.received)
    assert any(t.startswith("Grade this add edit. Instruction: Add snow on the roof.") for t in texts)
    assert "official prompt (read from" in capsys.readouterr().out


def test_imgedit_needs_the_original_images_root(tmp_path, imgedit_files, capsys):
    data, edited, _ = imgedit_files
    assert main(["bench", "run", "imgedit", "--data", str(data), "--images", str(edited), "--backend", "openai:judge",
                 "--base-url", "http://127.0.0.1:9", "--out", str(tmp_path / "o")]) == 2
    assert "origin_root" in capsys.readouterr().err
