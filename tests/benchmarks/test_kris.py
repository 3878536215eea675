"""KRIS-Bench through `judgekit bench run`: a KRIS_Bench folder in its annotation.json format
(a common, a knowledge, the viewpoint, the temporal and the multi-element category), its
results/<model>/<category>/<image_id>.jpg layout, a scripted judge whose 1-5 scores depend on
the edited image and the dimension, and the group means recomputed here in plain Python."""

from __future__ import annotations

import base64
import json
import sys
from pathlib import Path

import pytest

from judgekit.benchmarks import report_from_dir
from judgekit.benchmarks.kris_judge import official_reading, read_scores
from judgekit.cli import main
from judgekit.errors import VerdictParseError
from tests.benchmarks.scripted import request_text, write_marked
from tests.judge_server import Reply
from tests.kill_resume import kill_and_resume

# category, image id, annotation entry (the official fields)
ITEMS = [
    ("anomaly_correction", "1", {"ori_img": "1.png", "gt_img": "", "ins_en": "Fix what is wrong in the picture.",
                                 "explain_en": "A clock has twelve hour marks."}),
    ("anomaly_correction", "2", {"ori_img": "2.png", "gt_img": "", "ins_en": "Correct the unreasonable part.",
                                 "explain_en": "Shadows point away from the sun."}),
    ("chemistry", "1", {"ori_img": "1.jpg", "gt_img": "", "ins_en": "Drop sodium into the water.",
                        "explain_en": "It fizzes and releases heat."}),
    ("chemistry", "2", {"ori_img": "2.jpg", "gt_img": "", "ins_en": "Add iodine to the starch.",
                        "explain_en": "Starch turns blue-black."}),
    ("viewpoint_change", "1", {"ori_img": "1.png", "gt_img": "1_gt.png", "ins_en": "Show the car from above.",
                               "explain_en": ""}),
    ("temporal_prediction", "1", {"ori_img": ["1-2.jpg", "1-3.jpg", "1-4.jpg"], "gt_img": "1-1.jpg",
                                  "ins_en": "Predict frame 1 from frames 2, 3 and 4.", "explain_en": ""}),
    ("multi-element_composition", "1", {"ori_img": ["1-1.jpg", "1-2.jpg"], "gt_img": "",
                                        "ins_en": "Put the dog from the first image in the second.", "explain_en": ""}),
    ("multi-element_composition", "2", {"ori_img": ["2-1.jpg", "2-2.jpg"], "gt_img": "",
                                        "ins_en": "Put the hat on the cat.", "explain_en": ""}),
]
NO_OUTPUT = 7  # the second multi-element item: its model produced no image
UNPARSEABLE = 4  # the viewpoint item: its quality reply names no score, ever
UNQUOTED = 0  # the first anomaly item: its instruction reply is JSON-like with an unquoted reasoning
TYPE = {"anomaly_correction": ("Factual knowledge", "Attribute Perception"), "chemistry": ("Conceptual knowledge", "Natural Science"),
        "viewpoint_change": ("Factual knowledge", "Spatial Perception"),
        "temporal_prediction": ("Factual knowledge", "Temporal Prediction"),
        "multi-element_composition": ("Procedural knowledge", "Instruction Decomposition")}
ABBR = {"consistency_score": "VC", "quality_score": "VQ", "instruction_score": "IF", "knowledge_score": "KP"}


def answer(i: int, key: str) -> int:
    return 1 + (3 * i + len(key)) % 5


def dims_of(category: str) -> list[str]:
    dims = ["consistency_score", "instruction_score", "quality_score"]
    return dims + ["knowledge_score"] if category == "chemistry" else dims


@pytest.fixture
def kris_files(tmp_path):
    bench, results = tmp_path / "KRIS_Bench", tmp_path / "results"
    outputs: dict[str, int] = {}
    for i, (cat, image_id, entry) in enumerate(ITEMS):
        folder = bench / cat
        names = entry["ori_img"] if isinstance(entry["ori_img"], list) else [entry["ori_img"]]
        for k, name in enumerate(names + ([entry["gt_img"]] if entry["gt_img"] else [])):
            write_marked(folder / name, 200 + k, seed=100 * i + k)
        if i != NO_OUTPUT:
            out = write_marked(results / "mymodel" / cat / f"{image_id}.jpg", 50, seed=7000 + i)
            outputs[base64.b64encode(out.read_bytes()).decode()] = i
        ann = folder / "annotation.json"
        data = json.loads(ann.read_text()) if ann.exists() else {}
        data[image_id] = entry
        ann.write_text(json.dumps(data))
    return bench, results, outputs


def _sample_of(body: dict, outputs: dict[str, int]) -> int:
    urls = [p["image_url"]["url"].split(",", 1)[1] for m in body["messages"] for p in m["content"] if p.get("type") == "image_url"]
    return next(outputs[u] for u in urls if u in outputs)


def scripted(outputs: dict[str, int]):
    def script(body: dict, n: int) -> Reply:
        text, i = request_text(body), _sample_of(body, outputs)
        if "knowledge_score" in text:
            keys = ["instruction_score", "knowledge_score"]
        else:
            keys = [next(k for k in ("consistency_score", "quality_score", "instruction_score") if k in text)]
        if i == UNPARSEABLE and keys == ["quality_score"]:
            return Reply(content="The render is clean; 3 people stand in front, nothing melted.")
        if i == UNQUOTED and keys == ["instruction_score"]:
            return Reply(content='{\n"reasoning": 1. Detect Difference: the clock face changed.\n"instruction_score": '
                                 f'{answer(i, keys[0])}\n}}')
        body_json = {"reasoning": "Step 1 compared the images.", **{k: answer(i, k) for k in keys}}
        return Reply(content="Looking at both images.\n" + json.dumps(body_json))
    return script


def expected() -> dict[str, float]:
    """Every dimension's mean over the scored samples of each group, from the scripted answers."""
    pools: dict[str, list[int]] = {}
    for i, (cat, _, _) in enumerate(ITEMS):
        if i in (NO_OUTPUT, UNPARSEABLE):
            continue
        for key in dims_of(cat):
            for group in (*TYPE[cat], cat):
                pools.setdefault(f"{group} {ABBR[key]} (1-5)", []).append(answer(i, key))
    return {k: sum(v) / len(v) for k, v in pools.items()}


def run(kris_files, judge_server, tmp_path, *extra: str) -> Path:
    bench, results, _ = kris_files
    out = tmp_path / "run"
    assert main(["bench", "run", "kris", "--data", str(bench), "--images", str(results), "--backend", "openai:judge",
                 "--base-url", judge_server.url, "--out", str(out), "--cache", str(tmp_path / "c.sqlite"),
                 "--no-progress", "--bootstrap", "200", *extra]) == 0
    return out


def test_kris_report_is_each_dimensions_mean_per_group_recomputed_from_the_answers(judge_server, kris_files, tmp_path,
                                                                                    capsys):
    judge_server.reset(scripted(kris_files[2]))
    out = run(kris_files, judge_server, tmp_path)
    bodies = judge_server.received
    # three calls per sample with an image; the unparseable quality call is tried three times
    assert len(bodies) == 3 * (len(ITEMS) - 1) + 2
    texts = [request_text(b) for b in bodies]
    n_images = [sum(p.get("type") == "image_url" for m in b["messages"] for p in m["content"]) for b in bodies]
    view = [n for t, n in zip(texts, n_images, strict=True) if "from above" in t and "instruction_score" in t]
    frames = [t for t in texts if "Predict frame 1" in t]
    assert view == [3] and all(t.index("Frame 1 (generated)") < t.index("Frame 2 (given)") for t in frames)
    assert not any("twelve hour marks" in t for t in texts)  # anomaly_correction: the plain prompt, as the script runs
    assert any("releases heat" in t for t in texts)  # the knowledge call carries the explanation

    report = json.loads((out / "report.json").read_text())
    got = {s["name"]: s["estimate"] for s in report["statistics"]}
    want = expected()
    assert got.keys() == want.keys()  # no 0-100 row unless asked for
    for k, v in want.items():
        assert got[k] == pytest.approx(v), k
    assert report["statistics"][0]["name"] == "Factual knowledge VC (1-5)"
    assert all(s["ci_low"] <= s["estimate"] <= s["ci_high"] for s in report["statistics"])
    q = report["quirks"]
    assert (q["missing_images"], q["unparseable_replies"], q["failed_samples"]) == (1, 1, 2)
    printed = capsys.readouterr().out
    assert "publishes no aggregation" in printed and "judgekit's own prompt wording" in printed
    assert "1 failed samples would have been scored by the official parsers anyway" in printed
    assert "1 scored samples would have been read differently" in printed

    # `bench report` recomputes the same table from results.jsonl, and a rerun asks nothing again.
    again = report_from_dir(out, n_boot=200)
    assert {s.name: s.estimate for s in again.statistics} == got and again.notes == report["notes"]
    before = len(judge_server.received)
    run(kris_files, judge_server, tmp_path)
    assert len(judge_server.received) == before  # every reply, the unparseable ones too, comes from the cache


def test_kris_bagel_rows_are_added_only_on_request_and_named_not_official(judge_server, kris_files, tmp_path):
    judge_server.reset(scripted(kris_files[2]))
    out = run(kris_files, judge_server, tmp_path, "--set", "summary=bagel")
    got = {s["name"]: s["estimate"] for s in json.loads((out / "report.json").read_text())["statistics"]}
    pools: dict[str, list[int]] = {}
    for i, (cat, _, _) in enumerate(ITEMS):
        if i not in (NO_OUTPUT, UNPARSEABLE):  # every dimension of every scored sample, pooled
            for key in dims_of(cat):
                for group in ("Overall", *TYPE[cat]):
                    pools.setdefault(group, []).append(answer(i, key))
    bagel = {k: v for k, v in got.items() if "BAGEL" in k}
    assert bagel.keys() == {f"not official: BAGEL-style {g} AVG (0-100)" for g in pools}
    for g, vals in pools.items():
        assert bagel[f"not official: BAGEL-style {g} AVG (0-100)"] == pytest.approx(sum(25 * (v - 1) for v in vals) / len(vals))
    assert next(iter(got)) == "Factual knowledge VC (1-5)"  # the headline stays judgekit's 1-5 mean


def test_kris_protocol_dir_sends_the_official_prompt_text(judge_server, kris_files, tmp_path, capsys):
    checkout = tmp_path / "Kris_Bench"
    (checkout / "utils").mkdir(parents=True)
    names = {"prompt_consist": "consistency_score", "prompt_quality": "quality_score",
             "prompt_instruction_following": "instruction_score", "prompt_dual_evaluation": "knowledge_score",
             "prompt_view_instruction_following": "instruction_score", "prompt_consist_temporal": "consistency_score",
             "prompt_instruction_temporal": "instruction_score", "prompt_consist_multi": "consistency_score",
             "prompt_instruction_multi": "instruction_score"}
    body = "".join(f'{var} = """OFFICIAL-{var} {{instruct}} ({{explanation}}) frame {{N}}: {{{{"{key}": X}}}}"""\n'
                   for var, key in names.items())
    (checkout / "utils" / "prompts.py").write_text("import os\n" + body)
    judge_server.reset(scripted(kris_files[2]))
    out = run(kris_files, judge_server, tmp_path, "--protocol-dir", str(checkout), "--set", "categories=chemistry")
    texts = [request_text(b) for b in judge_server.received]
    assert len(texts) == 6 and all("OFFICIAL-prompt_" in t for t in texts)
    assert any('OFFICIAL-prompt_dual_evaluation Drop sodium into the water. (It fizzes and releases heat.)' in t
               and '{"knowledge_score": X}' in t for t in texts)
    assert "official prompt (read from" in json.loads((out / "report.json").read_text())["prompt"]


def test_kris_refuses_a_checkout_without_prompts_and_an_unknown_category(kris_files, tmp_path, capsys):
    bench, results, _ = kris_files
    base = ["bench", "run", "kris", "--data", str(bench), "--images", str(results), "--backend", "openai:judge",
            "--base-url", "http://127.0.0.1:9", "--out", str(tmp_path / "o")]
    assert main([*base, "--protocol-dir", str(tmp_path)]) == 2
    assert "no utils/prompts.py" in capsys.readouterr().err
    assert main([*base, "--set", "categories=cooking"]) == 2
    assert "not KRIS-Bench categories" in capsys.readouterr().err


@pytest.mark.parametrize("reply, judgekit, official", [
    ('I compared them. {"reasoning": "one shadow moved", "consistency_score": 4}', 4, 4),
    ('{\n"reasoning": 1. Detect: the hat is new.\n"consistency_score": 4\n}', 4, 1),  # invalid JSON: first digit
    ("consistency_score: 2\nThe background is different.", 2, 2),
    ("**consistency_score**: 3 (one lamp moved)", 3, 3),
    ("Three things changed; 3 people moved.", None, 3),  # no score named: the official parser guesses
    ('{"reasoning": "fine", "consistency_score": 7}', None, 7),  # off-scale: kept by the official parser
    ('{"consistency_score": 2} ... on reflection {"consistency_score": 3}', 3, 2),
    ("consistency_score: 2, or maybe consistency_score: 4", None, 2),
])
def test_kris_reads_only_a_named_score_and_knows_what_the_official_parser_would_read(reply, judgekit, official):
    if judgekit is None:
        with pytest.raises(VerdictParseError):
            read_scores(reply, ("consistency_score",))
    else:
        assert read_scores(reply, ("consistency_score",)) == {"consistency_score": judgekit}
    assert official_reading(reply, "consistency_score", "common") == official


def test_kris_dual_call_needs_both_scores_and_the_official_dual_parser_reads_what_it_finds():
    reply = '{"instruction_score": 2, "instruction_reasoning": "partly", "knowledge_score": 1}'
    assert read_scores(reply, ("instruction_score", "knowledge_score")) == {"instruction_score": 2, "knowledge_score": 1}
    half = '{"instruction_score": 4, "instruction_reasoning": "done"}'
    with pytest.raises(VerdictParseError, match="knowledge_score"):
        read_scores(half, ("instruction_score", "knowledge_score"))
    assert official_reading(half, "knowledge_score", "knowledge", dual=True) is None
    assert official_reading("Instruction score: 3, knowledge score: 5", "knowledge_score", "knowledge", dual=True) == 5


def test_kris_run_killed_midway_resumes_without_repeating_a_request(judge_server, kris_files, tmp_path):
    """As tests/benchmarks/test_resume.py does for GenEval 2: kill `bench run kris` mid-way, rerun it,
    and the server sees only the requests the killed run had not completed."""
    outputs = kris_files[2]

    def slow(body: dict, n: int) -> Reply:
        i, text = _sample_of(body, outputs), request_text(body)
        keys = [k for k in ("consistency_score", "quality_score", "instruction_score", "knowledge_score") if k in text]
        return Reply(content=json.dumps({"reasoning": "ok", **{k: answer(i, k) for k in keys}}), delay=0.05)

    judge_server.reset(slow)
    bench, results, _ = kris_files
    cache = tmp_path / "c.sqlite"
    cmd = [sys.executable, "-m", "judgekit", "bench", "run", "kris", "--data", str(bench), "--images", str(results),
           "--backend", "openai:judge", "--base-url", judge_server.url, "--out", str(tmp_path / "run"),
           "--cache", str(cache), "--concurrency", "2", "--no-progress", "--bootstrap", "50"]
    total = 3 * (len(ITEMS) - 1)
    kill_and_resume(cmd, judge_server, cache, total, lambda: len(judge_server.received) >= 8)
    assert json.loads((tmp_path / "run" / "report.json").read_text())["n_prompts"] == len(ITEMS) - 1


def test_kris_import_reads_an_official_runs_metrics_json(tmp_path, capsys):
    """`bench import kris results/<model>`: the official scripts' per-sample scores, aggregated by
    judgekit; a sample with a missing (None) or off-scale score is failed, counted and excluded."""
    model = tmp_path / "results" / "mymodel"
    records = {
        "count_change": {"1": {"consistency_score": 5, "instruction_score": 4, "quality_score": 3},
                         "2": {"consistency_score": 2, "instruction_score": None, "quality_score": 4},
                         "10": {"consistency_score": 3, "instruction_score": 2, "quality_score": 5}},
        "physics": {"1": {"consistency_score": 4, "instruction_score": 3, "knowledge_score": 2, "quality_score": 5},
                    "2": {"consistency_score": 10, "instruction_score": 5, "knowledge_score": 5, "quality_score": 5}},
    }
    for cat, recs in records.items():
        (model / cat).mkdir(parents=True)
        (model / cat / "metrics.json").write_text(json.dumps({k: {"instruction": "x", **v} for k, v in recs.items()}))
    out = tmp_path / "imported"
    assert main(["bench", "import", "kris", str(model), "--out", str(out), "--bootstrap", "50"]) == 0
    got = {s.name: s.estimate for s in report_from_dir(out, n_boot=50).statistics}
    assert got["Attribute Perception VC (1-5)"] == pytest.approx((5 + 3) / 2)
    assert got["count_change IF (1-5)"] == pytest.approx((4 + 2) / 2)
    assert got["Conceptual knowledge KP (1-5)"] == pytest.approx(2.0) and got["physics VC (1-5)"] == pytest.approx(4.0)
    report = json.loads((out / "report.json").read_text())
    assert report["quirks"]["failed_samples"] == 2 and report["n_samples"] == 3
    assert any("1 samples lack a score and 1 hold one outside 1-5" in n for n in report["notes"])
