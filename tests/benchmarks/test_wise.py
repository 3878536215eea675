"""WISE through `judgekit bench run`: WISE_Verified (binary) and legacy (three 0-2 scores) data in
their exact format, a scripted judge, and calculate_verified.py's / Calculate.py's aggregation
(prompt-id ranges, category means, official weights) recomputed here; the legacy run also shows
the unweighted overall that Bagel printed before its PR #299, flagged."""

from __future__ import annotations

import json

import pytest

from judgekit.cli import main
from tests.benchmarks.scripted import last_image_marker, request_text, write_marked
from tests.judge_server import Reply

VERIFIED_IDS = [1, 2, 3, 401, 450, 521, 600, 641, 700, 761, 881, 999]
LEGACY_IDS = [1, 2, 401, 500, 568, 701, 801, 901, 950]


def mark(pid: int) -> int:
    return pid % 251


def binary(pid: int) -> int:
    return int(mark(pid) % 3 != 0)


def legacy_scores(pid: int) -> tuple[int, int, int]:
    m = mark(pid)
    return m % 3, (m // 3) % 3, (m // 9) % 3


def rows(ids):
    return [{"Prompt": f"prompt number {i}", "Explanation": f"what image {i} should show", "Category": "x",
             "Subcategory": "y", "prompt_id": i} for i in ids]


def write_inputs(tmp_path, ids):
    data = tmp_path / "data"
    data.mkdir()
    half = len(ids) // 2  # two files in one folder, as data_verified/ holds one file per area
    (data / "a_verified.json").write_text(json.dumps(rows(ids[:half])))
    (data / "b_verified.json").write_text(json.dumps(rows(ids[half:])))
    for i in ids:
        write_marked(tmp_path / "imgs" / f"{i}.png", mark(i), seed=i)
    return data, tmp_path / "imgs"


def verified_script(body, n):
    return Reply(content=f"Score: {binary(mark_of(body))}")


def legacy_script(body, n):
    c, r, a = legacy_scores(mark_of(body))
    return Reply(content=f"**Consistency**: {c}\n**Realism**: {r}\n**Aesthetic Quality**: {a}")


def mark_of(body):
    pid = int(request_text(body).split("prompt number ")[1].split('"')[0])
    assert last_image_marker(body) == mark(pid)
    return pid


def category_means(ids, value, ranges):
    names = ["CULTURE", "TIME", "SPACE", "BIOLOGY", "PHYSICS", "CHEMISTRY"]
    out = {}
    for name, (lo, hi) in zip(names, ranges):
        vals = [value(i) for i in ids if lo <= i <= hi]
        out[name] = sum(vals) / len(vals)
    return out


def _run(judge_server, tmp_path, data, imgs, method, *extra):
    return main(["bench", "run", "wise", "--data", str(data), "--images", str(imgs), "--method", method,
                 "--backend", "openai:judge", "--base-url", judge_server.url, "--out", str(tmp_path / method),
                 "--cache", str(tmp_path / "c.sqlite"), "--no-progress", "--bootstrap", "200", *extra])


def test_wise_verified_report_equals_official_aggregation(judge_server, tmp_path, capsys):
    judge_server.reset(verified_script)
    data, imgs = write_inputs(tmp_path, VERIFIED_IDS)
    assert _run(judge_server, tmp_path, data, imgs, "verified") == 0
    printed = capsys.readouterr().out
    cats = category_means(VERIFIED_IDS, binary, [(1, 400), (401, 520), (521, 640), (641, 760), (761, 880), (881, 1000)])
    overall = 0.4 * cats["CULTURE"] + 0.12 * sum(v for k, v in cats.items() if k != "CULTURE")
    got = {s["name"]: s["estimate"] for s in json.loads((tmp_path / "verified" / "report.json").read_text())["statistics"]}
    assert got["overall WiScore (official weights)"] == pytest.approx(overall)
    for k, v in cats.items():
        assert got[f"category {k}"] == pytest.approx(v)
    assert f"Overall WiScore: {overall:.2f}" in printed


def test_wise_legacy_reports_official_weights_and_flags_bagels_unweighted_overall(judge_server, tmp_path, capsys):
    judge_server.reset(legacy_script)
    data, imgs = write_inputs(tmp_path, LEGACY_IDS)
    assert _run(judge_server, tmp_path, data, imgs, "legacy") == 0
    printed = capsys.readouterr().out

    def wiscore(i):
        c, r, a = legacy_scores(i)
        return (0.7 * c + 0.2 * r + 0.1 * a) / 2

    cats = category_means(LEGACY_IDS, wiscore, [(1, 400), (401, 567), (568, 700), (701, 800), (801, 900), (901, 1000)])
    weights = {"CULTURE": 0.4, "TIME": 0.167, "SPACE": 0.133, "BIOLOGY": 0.1, "PHYSICS": 0.1, "CHEMISTRY": 0.1}
    got = {s["name"]: s["estimate"] for s in json.loads((tmp_path / "legacy" / "report.json").read_text())["statistics"]}
    assert got["overall WiScore (official weights)"] == pytest.approx(sum(weights[k] * v for k, v in cats.items()))
    flagged = [k for k in got if "FLAGGED" in k and "PR #299" in k]
    assert len(flagged) == 1 and got[flagged[0]] == pytest.approx(sum(cats.values()) / 6)
    assert "FLAGGED: Bagel's bug before PR #299" in printed


def test_wise_missing_image_and_unparseable_reply_are_counted(judge_server, tmp_path, capsys):
    def script(body, n):
        if "prompt number 2\"" in request_text(body):
            return Reply(content="I think it is mostly right.")
        return verified_script(body, n)

    judge_server.reset(script)
    data, imgs = write_inputs(tmp_path, VERIFIED_IDS)
    (imgs / "3.png").unlink()
    assert _run(judge_server, tmp_path, data, imgs, "verified") == 0
    q = json.loads((tmp_path / "verified" / "report.json").read_text())["quirks"]
    assert q["missing_images"] == 1 and q["unparseable_replies"] == 1 and q["failed_samples"] == 2


def test_wise_protocol_dir_reads_vllm_eval_prompt(judge_server, tmp_path, capsys):
    judge_server.reset(verified_script)
    data, imgs = write_inputs(tmp_path, VERIFIED_IDS)
    checkout = tmp_path / "WISE"
    checkout.mkdir()
    # A stand-in vllm_eval.py in the official file's shape (the wording is this test's own).
    (checkout / "vllm_eval.py").write_text(
        'def build(prompt_data, img):\n    return [\n        {"role": "system", "content": [{"type": "text", '
        '"text": "You grade images."}]},\n        {"role": "user", "content": [{"type": "text", "text": f"""Grade it.\n'
        'PROMPT: "{prompt_data[\'Prompt\']}"\nNOTE: "{prompt_data[\'Explanation\']}" {{braces}}\nSay Score: 0 or 1.""",}]}]\n')
    assert _run(judge_server, tmp_path, data, imgs, "verified", "--protocol-dir", str(checkout)) == 0
    body = judge_server.received[-1]
    assert body["messages"][0]["content"] in ("You grade images.", [{"type": "text", "text": "You grade images."}])
    assert 'Grade it.\nPROMPT: "prompt number' in request_text(body) and "{braces}" in request_text(body)
    assert "official prompt (read from" in capsys.readouterr().out
