"""GenEval 2 through `judgekit bench run`: a small data file in its exact format, a scripted
judge answering with token logprobs, and the official aggregation recomputed here from the
scripted probabilities (plain Python and scipy's gmean, as its evaluation.py uses)."""

from __future__ import annotations

import json
import math

import pytest
from scipy.stats import gmean

from judgekit.cli import main
from tests.fixtures_spine import write_png
from tests.judge_server import Reply

ROWS = [
    {"prompt": "two green kites above a barn", "atom_count": 4,
     "vqa_list": [["How many kites are in the image?", "two"], ["Are the kites green?", "Yes"],
                  ["Are there any kites in the image?", "Yes"], ["Are the kites above the barn?", "Yes"],
                  ["Is there a barn in the image?", "Yes"]],
     "skills": ["count", "attribute", "object", "position", "object"]},
    {"prompt": "a dog chasing three wooden balls", "atom_count": 5,
     "vqa_list": [["Is there a dog in the image?", "Yes"], ["Is the dog chasing the balls?", "Yes"],
                  ["How many balls are in the image?", "three"], ["Are the balls wooden?", "Yes"],
                  ["Are there any balls in the image?", "Yes"]],
     "skills": ["object", "verb", "count", "attribute", "object"]},
    {"prompt": "a blue cup", "atom_count": 3,
     "vqa_list": [["Is there a cup in the image?", "Yes"], ["Is the cup blue?", "Yes"]],
     "skills": ["object", "attribute"]},
]

# The scripted judge's first-token distribution per question: (generated token, top logprobs).
TOP = {
    "How many kites are in the image?": [("2", math.log(0.5)), ("two", math.log(0.2)), ("Three", math.log(0.2))],
    "Are the kites green?": [("Yes", math.log(0.6)), (" yes", math.log(0.1)), ("No", math.log(0.3))],
    "Are there any kites in the image?": [("Yes", math.log(0.9)), ("No", math.log(0.1))],
    "Are the kites above the barn?": [("No", math.log(0.7)), ("Yes", math.log(0.3))],
    "Is there a barn in the image?": [("Yes", math.log(0.8)), ("yes", math.log(0.15))],
    "Is there a dog in the image?": [("Yes", math.log(0.95))],
    "Is the dog chasing the balls?": [("yes", math.log(0.4)), ("No", math.log(0.35)), ("YES", math.log(0.2))],
    "How many balls are in the image?": [("four", math.log(0.6)), (" three", math.log(0.3)), ("3", math.log(0.05))],
    "Are the balls wooden?": [("No", math.log(0.99))],
    "Are there any balls in the image?": [("Yes", math.log(0.7)), ("No", math.log(0.3))],
    "Is there a cup in the image?": [("Yes", math.log(0.97))],
    "Is the cup blue?": [("Yes", math.log(0.5)), ("No", math.log(0.5))],
}
VQASCORE = {ROWS[0]["prompt"]: 0.7, ROWS[1]["prompt"]: 0.2, ROWS[2]["prompt"]: 0.9}
WORDS = ["one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten"]


def _text(body: dict) -> str:
    return " ".join(p.get("text", "") for m in body["messages"] for p in (m["content"] if isinstance(m["content"], list) else []))


def script(body: dict, n: int) -> Reply:
    text = _text(body)
    for q, top in TOP.items():
        if q in text:
            return Reply(content=top[0][0], top_logprobs=top)
    for prompt, p in VQASCORE.items():
        if prompt in text:
            return Reply(content="Yes", top_logprobs=[("Yes", math.log(p)), ("No", math.log(1 - p))])
    raise AssertionError(f"unexpected request {text!r}")


def right_spellings(q: str, a: str) -> set[str]:
    if q.startswith("How many"):
        d = str(WORDS.index(a) + 1)
        return {a, a.capitalize(), " " + a, " " + a.capitalize(), d, " " + d}
    return {"Yes", "yes", " yes", " Yes"}


def official(method: str) -> dict[str, float]:
    """evaluation.py's and soft_tifa_analysis.py's numbers, from the scripted distributions."""
    lists = []
    for r in ROWS:
        if method == "vqascore":
            lists.append([VQASCORE[r["prompt"]]])
            continue
        atoms = []
        for q, a in r["vqa_list"]:
            ok = right_spellings(q, a)
            if method == "tifa":
                atoms.append(1.0 if TOP[q][0][0].lower() in ok else 0.0)
            else:
                atoms.append(sum(math.exp(lp) for t, lp in TOP[q] if t in ok))
        lists.append(atoms)
    per_prompt = [float(gmean(s)) if method == "soft_tifa_gm" else sum(s) / len(s) for s in lists]
    out = {"GenEval 2 score (x100)": 100 * sum(per_prompt) / len(per_prompt)}
    if method != "vqascore":
        for skill in ("object", "attribute", "count", "position", "verb"):
            vals = [x for s, r in zip(lists, ROWS) for x, k in zip(s, r["skills"]) if k == skill]
            out[f"skill {skill} (atom AM, x100)"] = 100 * sum(vals) / len(vals)
        for k in (3, 4, 5):
            vals = [float(gmean(s)) for s, r in zip(lists, ROWS) if r["atom_count"] == k]
            out[f"atomicity {k} (prompt GM, x100)"] = 100 * sum(vals) / len(vals)
    return out


@pytest.fixture
def geneval2_files(tmp_path):
    data = tmp_path / "geneval2_data.jsonl"
    data.write_text("".join(json.dumps(r) + "\n" for r in ROWS))
    images = {}
    for i, r in enumerate(ROWS):
        write_png(tmp_path / "imgs" / f"{i}.png", seed=i)
        images[r["prompt"]] = f"imgs/{i}.png"
    img_json = tmp_path / "images.json"
    img_json.write_text(json.dumps(images))
    return data, img_json


def _run(judge_server, data, img_json, out, method, *extra):
    return main(["bench", "run", "geneval2", "--data", str(data), "--images", str(img_json), "--method", method,
                 "--backend", "openai:judge", "--base-url", judge_server.url, "--out", str(out),
                 "--cache", str(out.parent / f"{out.name}.sqlite"), "--no-progress", "--bootstrap", "200", *extra])


@pytest.mark.parametrize("method", ["soft_tifa_gm", "soft_tifa_am", "tifa", "vqascore"])
def test_geneval2_report_equals_official_aggregation(judge_server, geneval2_files, tmp_path, capsys, method):
    judge_server.reset(script)
    data, img_json = geneval2_files
    out = tmp_path / f"run-{method}"
    assert _run(judge_server, data, img_json, out, method) == 0
    printed = capsys.readouterr().out
    want = official(method)
    report = json.loads((out / "report.json").read_text())
    got = {s["name"]: s["estimate"] for s in report["statistics"]}
    assert set(got) == set(want)
    for k, v in want.items():
        assert got[k] == pytest.approx(v, abs=1e-9), k
    for s in report["statistics"]:  # each interval holds its estimate
        assert s["ci_low"] - 1e-9 <= s["estimate"] <= s["ci_high"] + 1e-9
    # The headline as evaluation.py prints it, first.
    first = printed.split("\n")[0]
    assert first.startswith("Score: ") and float(first[7:]) == pytest.approx(want["GenEval 2 score (x100)"])
    assert "not the official text" in printed
    # `bench report` recomputes the same table from the results file.
    assert main(["bench", "report", str(out), "--bootstrap", "200"]) == 0
    assert capsys.readouterr().out.split("\n")[0] == printed.split("\n")[0]


def test_geneval2_protocol_dir_uses_the_checkouts_prompt(judge_server, geneval2_files, tmp_path, capsys):
    judge_server.reset(script)
    data, img_json = geneval2_files
    checkout = tmp_path / "GenEval2"
    checkout.mkdir()
    # A stand-in evaluation.py in the official file's shape (its wording is this test's own).
    (checkout / "evaluation.py").write_text(
        "def vqa_score(prompt, image_filepath):\n"
        "    message_prompt = 'Is this a picture of \"{}\"? Say Yes or No.'.format(prompt)\n"
        "def soft_tifa(question):\n"
        "    return send('{} Use a single word.'.format(question))\n")
    out = tmp_path / "run"
    assert _run(judge_server, data, img_json, out, "soft_tifa_am", "--protocol-dir", str(checkout)) == 0
    texts = [_text(b) for b in judge_server.received if "messages" in b]
    assert texts and all(t.endswith(" Use a single word.") for t in texts)
    printed = capsys.readouterr().out
    assert "official prompt (read from" in printed and "not the official text" not in printed


def test_geneval2_missing_image_is_failed_and_counted(judge_server, geneval2_files, tmp_path, capsys):
    judge_server.reset(script)
    data, img_json = geneval2_files
    mapping = json.loads(img_json.read_text())
    del mapping[ROWS[2]["prompt"]]
    img_json.write_text(json.dumps(mapping))
    out = tmp_path / "run"
    assert _run(judge_server, data, img_json, out, "soft_tifa_am") == 0
    report = json.loads((out / "report.json").read_text())
    assert report["n_prompts"] == 2
    assert report["quirks"]["missing_images"] == 1 and report["quirks"]["failed_samples"] == 1
    assert "1 missing images" in capsys.readouterr().out


def test_geneval2_refuses_a_non_yes_answer_it_would_misscore(tmp_path, capsys):
    bad = dict(ROWS[2], vqa_list=[["Is there a cup in the image?", "No"], ["Is the cup blue?", "Yes"]])
    data = tmp_path / "d.jsonl"
    data.write_text(json.dumps(bad) + "\n")
    (tmp_path / "i.json").write_text("{}")
    assert main(["bench", "run", "geneval2", "--data", str(data), "--images", str(tmp_path / "i.json"),
                 "--backend", "openai:judge", "--base-url", "http://127.0.0.1:9", "--out", str(tmp_path / "o")]) == 2
    assert "scores P(Yes)" in capsys.readouterr().err
