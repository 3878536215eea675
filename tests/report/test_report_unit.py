"""The report without a browser: escaping, thumbnails, what each rubric kind's rows carry,
bad inputs, the CLI, and that ``import judgekit`` stays light."""

from __future__ import annotations

import base64
import io
import json
import subprocess
import sys

import pytest
from PIL import Image

import judgekit as jk
from judgekit.cli import main
from judgekit.errors import DataError
from judgekit.report.html import script_json
from judgekit.report.records import build_rows
from judgekit.report.sources import estimate, load_calibration, load_leaderboard
from judgekit.report.textdiff import text_diff
from judgekit.report.thumbs import thumbnail
from tests.report.conftest import page_data
from tests.report.zoo import XSS, XSS_REASONING

# --- escaping -------------------------------------------------------------------------------------


def test_script_json_cannot_close_its_element_and_round_trips():
    obj = {"p": "</script><script>alert(1)</script><!-- & \u2028\u2029 é 日本", "n": [1, 2.5, None]}
    text = script_json(obj)
    for bad in ("<", ">", "&", "\u2028", "\u2029"):
        assert bad not in text
    assert json.loads(text) == obj


def test_script_json_writes_nan_as_null():
    assert json.loads(script_json({"x": float("nan"), "y": [float("inf"), 1.0]})) == {"x": None, "y": [None, 1.0]}


def test_the_xss_prompt_and_reasoning_exist_only_escaped_in_the_file(zoo_report):
    text = zoo_report.path.read_text(encoding="utf-8")
    assert "alert(1)" in text  # the prompt is there...
    assert XSS not in text and XSS_REASONING not in text  # ...but never as raw markup
    data = page_data(zoo_report.path)
    assert any(r["p"] == XSS for r in data["rows"])
    assert any(XSS_REASONING in r["rs"].values() for r in data["rows"])


# --- thumbnails -----------------------------------------------------------------------------------


def _decode(src: str) -> Image.Image:
    return Image.open(io.BytesIO(base64.b64decode(src.split(",", 1)[1])))


def test_thumbnail_downscales_keeping_aspect_and_never_upscales(tmp_path):
    Image.new("RGB", (1024, 512), (200, 10, 10)).save(tmp_path / "big.png")
    Image.new("RGB", (20, 30), (0, 0, 0)).save(tmp_path / "small.jpg")
    big = thumbnail(tmp_path / "big.png", size=256)
    assert (big["w"], big["h"], big["orig"]) == (256, 128, [1024, 512])
    assert big["src"].startswith("data:image/jpeg;base64,") and _decode(big["src"]).size == (256, 128)
    small = thumbnail(tmp_path / "small.jpg", size=256)
    assert (small["w"], small["h"]) == (20, 30)


def test_thumbnail_keeps_transparency_as_png(tmp_path):
    img = Image.new("RGBA", (300, 300), (0, 0, 0, 0))
    img.save(tmp_path / "a.png")
    t = thumbnail(tmp_path / "a.png", size=100)
    assert t["src"].startswith("data:image/png;base64,")
    assert _decode(t["src"]).mode == "RGBA" and (t["w"], t["h"]) == (100, 100)


def test_missing_or_broken_image_is_an_error_entry_not_an_exception(tmp_path):
    (tmp_path / "broken.png").write_bytes(b"\x89PNG not really")
    assert "does not exist" in thumbnail(tmp_path / "nope.png")["error"]
    assert "not a readable image" in thumbnail(tmp_path / "broken.png")["error"]


# --- rows per rubric kind -------------------------------------------------------------------------


@pytest.fixture(scope="module")
def rows(zoo):
    files = [(i, jk.load_results(zoo[k]).records) for i, k in
             enumerate(["pointwise", "editing", "pairwise", "questions", "vqascore", "text-rendering"])]
    out, images = build_rows(files)
    return {(r["k"], r["id"]): r for r in out}, images


def test_pointwise_rows_carry_prompt_image_scores_and_reasoning(rows):
    by, images = rows
    r = by[("pointwise", "p0-flux")]
    assert r["k"] == "pointwise" and r["p"] == "a red circle above a blue square" and r["st"] == "ok"
    assert set(r["sc"]) == {"semantic_consistency", "naturalness", "artifacts"} and r["o"] is not None
    assert all(r["rs"][d] for d in r["sc"])
    [(role, caption, ref)] = r["im"]
    assert (role, caption) == ("image", "flux") and images.paths[ref].endswith("p0_flux.png")


def test_failures_keep_reason_and_raw_reply(rows):
    by, _ = rows
    r = by[("pointwise", "p4-flux")]
    assert r["st"] == "failed" and "invalid reply" in r["e"]
    assert r["raw"]["semantic_consistency"] == "I would rather not say."
    lost = by[("pointwise", "p0-missing")]
    assert lost["st"] == "failed" and "does not exist" in lost["e"] and lost["im"][0][0] == "image"


def test_editing_rows_show_source_then_edited(rows):
    by, _ = rows
    r = by[("pointwise", "e0-flux")]
    assert [(role, cap) for role, cap, _ in r["im"]] == [("source", "source"), ("image", "edited")]
    assert r["ins"] == "make the square purple" and "editing_success" in r["sc"]


def test_pairwise_rows_have_both_orders_mapped_to_models_and_the_merge(zoo, rows):
    by, _ = rows
    recs = {r.sample_id: r for r in jk.load_results(zoo["pairwise"])}
    for uid in ("p0-flux-sd3", "p1-sd3-sdxl", "p2-flux-sdxl"):
        row, rec = by[("pairwise", uid)], recs[uid]
        x = row["x"]
        assert row["m"] == f"{rec.model_extra['model_a']} vs {rec.model_extra['model_b']}"
        [d] = x["dims"]
        v = rec.details["verdicts"]["overall"]
        assert d["AB"]["w"] == v["AB"]["winner"] and d["BA"]["w"] == v["BA"]["winner"]
        # The label means a model through the order it was shown in.
        assert d["AB"]["m"] == {"A": x["ma"], "B": x["mb"], "tie": "tie"}[v["AB"]["winner"]]
        assert d["BA"]["m"] == {"A": x["mb"], "B": x["ma"], "tie": "tie"}[v["BA"]["winner"]]
        assert d["c"] == v["consistent"]
        assert d["w"] == {"model_a": x["ma"], "model_b": x["mb"]}.get(rec.model_extra["winners"]["overall"],
                                                                     rec.model_extra["winners"]["overall"])
        assert [role for role, _, _ in row["im"]] == ["A", "B"]


def test_question_rows_show_answers_and_what_a_failed_parent_zeroed(zoo, rows):
    by, _ = rows
    recs = [r for r in jk.load_results(zoo["questions"]) if r.status == "ok"]
    gated = [(r, q) for r in recs for q in r.details["questions"] if q["gated_by"]]
    assert gated, "the zoo should contain a question zeroed by a failed parent"
    r, q = gated[0]
    row = next(x for x in by[("questions", r.sample_id)]["x"]["qs"] if x["id"] == q["id"])
    assert (row["a"], row["raw"], row["s"], row["g"]) == (q["answer"], q["raw"], 0.0, q["gated_by"])
    assert by[("questions", r.sample_id)]["x"]["rule"] == "dsg"


def test_vqascore_rows_carry_p_yes(zoo, rows):
    by, _ = rows
    for r in jk.load_results(zoo["vqascore"]):
        x = by[("vqascore", r.sample_id)]["x"]
        assert x["p_yes"] == pytest.approx(r.scores["p_yes"]) and x["p_no"] == pytest.approx(r.details["p_no"])


def test_text_rendering_rows_diff_target_and_transcription(rows):
    by, _ = rows
    x = by[("text-rendering", "t-sd3")]["x"]
    assert x["targets"] == ["FRESH COFFEE DAILY"] and x["tr"] == "OPEN 24 hours, fresh tea"
    assert x["diff"] == [["extra", "OPEN 24 hours,"], ["same", "FRESH"], ["missing", "COFFEE DAILY"], ["extra", "tea"]]
    assert (x["matched"], x["total"]) == (1, 3)


def test_text_diff_is_case_and_punctuation_insensitive_but_keeps_spelling():
    assert text_diff(["Fresh Coffee daily"], "fresh, coffee! weekly") == [["same", "Fresh Coffee"], ["missing", "daily"],
                                                                         ["extra", "weekly"]]
    assert text_diff(["每日新鲜"], "每日新", "zh") == [["same", "每日新"], ["missing", "鲜"]]


def test_duplicate_sample_ids_across_files_get_distinct_deep_link_ids(zoo):
    recs = jk.load_results(zoo["pointwise"]).records
    rows_, _ = build_rows([(0, recs), (1, recs)])
    uids = [r["u"] for r in rows_]
    assert len(set(uids)) == len(uids) == 2 * len(recs)


def test_manifest_supplies_prompt_and_images_for_results_without_inputs(zoo, tmp_path):
    old = []
    for line in zoo["pointwise"].read_text().splitlines():
        d = json.loads(line)
        d.pop("inputs")
        old.append(d)
    (tmp_path / "old.jsonl").write_text("".join(json.dumps(d) + "\n" for d in old))
    info = jk.report(tmp_path / "old.jsonl", tmp_path / "r.html", samples=zoo["root"] / "t2i.jsonl", n_boot=0)
    data = page_data(info.path)
    r = next(r for r in data["rows"] if r["id"] == "p0-flux")
    assert r["p"] == "a red circle above a blue square" and data["images"][r["im"][0][2]]["src"].startswith("data:image/jpeg")
    bare = page_data(jk.report(tmp_path / "old.jsonl", tmp_path / "bare.html", n_boot=0).path)
    assert next(r for r in bare["rows"] if r["id"] == "p0-flux")["im"] == []
    # Images that moved: the recorded paths are stale, the manifest given now wins.
    moved = [dict(d, inputs={"prompt": "stale", "image": "/nowhere/x.png"}) for d in old]
    (tmp_path / "moved.jsonl").write_text("".join(json.dumps(d) + "\n" for d in moved))
    data = page_data(jk.report(tmp_path / "moved.jsonl", tmp_path / "m.html", samples=zoo["root"] / "t2i.jsonl", n_boot=0).path)
    r = next(r for r in data["rows"] if r["id"] == "p0-flux")
    assert r["p"] != "stale" and "src" in data["images"][r["im"][0][2]]


# --- the whole report -----------------------------------------------------------------------------


def test_report_holds_every_record_images_and_plots(zoo, zoo_report):
    n = sum(len(jk.load_results(zoo[k])) for k in ["pointwise", "editing", "pairwise", "questions", "vqascore", "text-rendering"])
    data = page_data(zoo_report.path)
    assert zoo_report.n_samples == len(data["rows"]) == n
    assert sorted(data["kinds"]) == ["pairwise", "pointwise", "questions", "text-rendering", "vqascore"]
    errors = [im for im in data["images"] if "error" in im]
    assert len(errors) == 1 and "not-there.png does not exist" in errors[0]["error"]
    ids = {p["id"] for p in data["plots"]}
    assert {"lb-ratings", "lb-h2h", "cal-agree-0", "cal-scatter-0", "cal-reliability-0", "position-0", "winrate-0"} <= ids
    assert zoo_report.n_plots == len(data["plots"])
    rel = next(p for p in data["plots"] if p["id"] == "cal-reliability-0")
    assert any("isotonic map" in t["name"] for t in rel["fig"]["data"])
    # One copy of plotly.js, inline; nothing loaded from anywhere (the CSP forbids it too).
    text = zoo_report.path.read_text(encoding="utf-8")
    assert text.count("plotly.js v") == 1
    assert "<script src" not in text and "<link" not in text
    assert "default-src 'none'" in text


def test_summary_ci_fields_and_disagreement(zoo_report):
    data = page_data(zoo_report.path)
    s = next(x for x in data["summary"] if x["rubric"] == "viescore-t2i" and x["model"] == "flux" and x["dimension"] == "overall")
    assert set(s) >= {"value", "ci_low", "ci_high", "n", "failed"} and s["ci_low"] <= s["value"] <= s["ci_high"]
    g = next(g for g in data["groups"] if g["r"] == "viescore-t2i" and g["key"] == "p0")
    scores = [data["rows"][i]["o"] for i in g["rows"] if data["rows"][i]["o"] is not None]
    assert g["d"] == pytest.approx(max(scores) - min(scores))
    pos = data["position"][0]
    assert 0 <= pos["consistency"]["value"] <= 1 and pos["pairs"] == 9


def test_link_images_points_at_the_files(zoo, tmp_path):
    out = zoo["root"] / "linked" / "r.html"
    info = jk.report(zoo["pointwise"], out, link_images=True, n_boot=0)
    data = page_data(info.path)
    ok = [im for im in data["images"] if "src" in im]
    assert ok and all(im["src"].startswith("../img/") for im in ok)
    assert info.n_image_errors == 1
    assert "img-src data: blob: 'self' file:" in out.read_text()


def test_leaderboard_and_calibration_sources(zoo):
    lb = load_leaderboard(zoo["leaderboard"])
    assert lb["head_to_head"]["models"] and len(lb["rows"]) == 3
    assert all(set(r) >= {"value", "ci_low", "ci_high"} for r in lb["rows"])
    [cal] = load_calibration(zoo["calibration"])
    assert cal["items"] and cal["map"]["method"] == "isotonic"
    assert any(s["scorer"] == "human ceiling" for s in cal["stats"])
    assert estimate({"value": 0.5, "ci": [0.4, 0.6]}) == {"value": 0.5, "ci_low": 0.4, "ci_high": 0.6}
    assert estimate({"rating": 1000.0, "lo": float("nan"), "hi": 1010.0})["ci_low"] is None


def test_bad_inputs_are_one_line_errors(zoo, tmp_path, capsys):
    (tmp_path / "bad.json").write_text("{not json")
    with pytest.raises(DataError, match="not JSON"):
        jk.report(zoo["pointwise"], tmp_path / "r.html", leaderboard=tmp_path / "bad.json")
    with pytest.raises(DataError, match="no 'rows'"):
        load_leaderboard({"rows": []})
    assert main(["report", str(tmp_path / "missing.jsonl"), "-o", str(tmp_path / "r.html")]) == 2
    assert "does not exist" in capsys.readouterr().err
    (tmp_path / "empty.jsonl").write_text("")
    assert main(["report", str(tmp_path / "empty.jsonl"), "-o", str(tmp_path / "r.html")]) == 2
    assert not (tmp_path / "r.html").exists()


def test_cli_writes_the_report(zoo, tmp_path, capsys):
    out = tmp_path / "cli.html"
    assert main(["report", str(zoo["pointwise"]), str(zoo["pairwise"]), "--calibration", str(zoo["calibration"]),
                 "--leaderboard", str(zoo["leaderboard"]), "--bootstrap", "20", "-o", str(out)]) == 0
    printed = capsys.readouterr().out
    assert printed.startswith(f"wrote {out}") and "samples" in printed and "MB" in printed
    assert len(page_data(out)["rows"]) == len(jk.load_results(zoo["pointwise"])) + len(jk.load_results(zoo["pairwise"]))


def test_jk_report_is_callable_and_import_stays_light():
    code = ("import sys, judgekit as jk; assert 'judgekit.report' not in sys.modules and 'plotly' not in sys.modules; "
            "f = jk.report; import judgekit.report.records; assert callable(jk.report) and jk.report is f; print('ok')")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "ok"
    assert "report" in jk.__all__


def test_demo_writes_a_report_with_prompts_questions_and_the_human_comparison(tmp_path):
    import asyncio

    from judgekit.cli.demo import run_demo

    res = asyncio.run(run_demo(tmp_path / "demo", n_boot=20))
    info = res["report"]
    assert info.path == tmp_path / "demo" / "report.html" and info.n_samples == 800 and info.n_failed == 5
    data = page_data(info.path)
    row = next(r for r in data["rows"] if r["id"] == "tifa160_135__mini-dalle")
    assert row["p"] == "a basketball to the left of two soccer balls on a gravel driveway"
    assert [q["q"] for q in row["x"]["qs"]][:2] == ["Is there a basketball?", "Are there soccer balls?"]
    ids = {p["id"] for p in data["plots"]}
    assert {"cal-agree-0", "cal-scatter-0", "cal-reliability-0", "dist-0", "forest-0"} <= ids
    scatter = next(p for p in data["plots"] if p["id"] == "cal-scatter-0")
    assert len(scatter["fig"]["data"][0]["x"]) == 795  # every matched item of the human comparison


# --- issue 22: failures by reason, judge identity, the CLI's pairwise counts, seeds --------------


def test_failure_kinds_group_messages_that_differ_only_in_paths_and_numbers():
    from judgekit.report.records import failure_kind

    a = failure_kind("image /data/run1/img/a.png does not exist")
    b = failure_kind("image /other/place/b.png does not exist")
    assert a == b == "image … does not exist"
    assert failure_kind("quality: invalid reply after 3 attempts: reply holds no JSON object") == \
        failure_kind("quality: invalid reply after 1 attempts: reply holds no JSON object")
    assert failure_kind("score 12 is outside 0-10") != failure_kind("image x.png does not exist")
    assert failure_kind(None) == failure_kind("") == "no reason recorded"


def test_the_failure_table_counts_every_failed_row_once(zoo_report):
    from collections import Counter

    from judgekit.report.records import failure_kind

    data = page_data(zoo_report.path)
    failed = [r for r in data["rows"] if r["st"] == "failed"]
    expected = Counter(failure_kind(r.get("e")) for r in failed)
    assert {f["reason"]: f["n"] for f in data["failures"]} == dict(expected)
    assert sum(sum(f["models"].values()) for f in data["failures"]) == len(failed)
    assert [f["n"] for f in data["failures"]] == sorted((f["n"] for f in data["failures"]), reverse=True)


def test_the_header_names_the_judge_as_the_results_record_it(zoo, zoo_report):
    data = page_data(zoo_report.path)
    rec = jk.load_results(zoo["pointwise"]).records[0]
    prov = rec.provenance
    [judge] = data["judges"]  # one backend judged every file of the zoo
    assert judge["backend"] == prov["backend"]["spec"] and judge["endpoint"] == prov["backend"]["base_url"]
    assert judge["temperature"] == prov["decoding"]["temperature"] == 0
    mine = next(r for r in judge["rubrics"] if r["rubric"] == rec.rubric)
    assert mine["rubric_hash"] == prov["rubric_hash"][:12]
    assert mine["templates"] == {t: h[:12] for t, h in prov["template_hash"].items()}
    assert sum(r["n"] for r in judge["rubrics"]) == len(data["rows"])


def test_a_served_model_field_is_shown_when_the_results_have_one():
    from judgekit.report.identity import judge_identity

    prov = {"rubric": "r", "backend": {"spec": "openai:qwen", "model": "qwen", "served_model": "Qwen/Qwen2.5-VL-7B-Instruct"},
            "decoding": {"temperature": 0.0}}
    assert judge_identity(prov)["served"] == "Qwen/Qwen2.5-VL-7B-Instruct"
    assert "served" not in judge_identity({"rubric": "r", "backend": {"spec": "x"}})


def test_pairwise_counts_are_the_ones_the_cli_prints(zoo, zoo_report, capsys):
    from judgekit.cli import main

    data = page_data(zoo_report.path)
    assert main(["summary", str(zoo["pairwise"])]) == 0
    printed = capsys.readouterr().out
    [(rubric, title)] = data["pair_titles"].items()
    assert title.splitlines()[0] in printed
    n_incons = sum(1 for r in data["rows"] if r["k"] == "pairwise" and r["x"]["w"] == "inconsistent")
    assert f"{n_incons} inconsistent" in title


def test_rows_carry_their_seed(methods_report):
    data = page_data(methods_report.path)
    seeded = [r for r in data["rows"] if r["r"] != "safety" and r["k"] == "pointwise"]
    assert seeded and all("sd" in r for r in seeded)
    assert {r["sd"] for r in seeded} == {0, 1, 2}
