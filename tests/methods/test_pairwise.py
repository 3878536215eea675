"""Pairwise judging with position swapping, through the scripted OpenAI-compatible server:
the merge table of every verdict combination under both merge rules, raw verdicts kept,
failures recorded, the summary's position statistics, and results read by `leaderboard`."""

from __future__ import annotations

import base64
import itertools
import json
from pathlib import Path

import pytest

import judgekit as jk
from judgekit.cli import main
from judgekit.errors import RubricError, VerdictParseError
from judgekit.methods.pairwise import merge_verdicts, parse_pairwise_verdict
from judgekit.rubric import parse_rubric
from judgekit.summaries import position_stats
from tests.fixtures_spine import write_png
from tests.judge_server import Reply

LABELS = ("A", "B", "tie")
COMBOS = list(itertools.product(LABELS, LABELS))  # (verdict in order AB, verdict in order BA)

# In order AB image_a is shown first; in order BA image_b is. "A" always means "the first shown".
#            AB     BA     merge=tie   merge=inconsistent
MERGE_TABLE = [
    ("A", "A", "tie", "inconsistent"),  # first-shown wins both times: pure position bias
    ("A", "B", "model_a", "model_a"),  # image_a wins in both orders
    ("A", "tie", "tie", "inconsistent"),
    ("B", "A", "model_b", "model_b"),  # image_b wins in both orders
    ("B", "B", "tie", "inconsistent"),  # second-shown wins both times
    ("B", "tie", "tie", "inconsistent"),
    ("tie", "A", "tie", "inconsistent"),
    ("tie", "B", "tie", "inconsistent"),
    ("tie", "tie", "tie", "tie"),
]


@pytest.mark.parametrize(("ab", "ba", "as_tie", "as_inconsistent"), MERGE_TABLE)
def test_merge_table(ab, ba, as_tie, as_inconsistent):
    assert merge_verdicts(ab, ba) == as_tie
    assert merge_verdicts(ab, ba, "tie") == as_tie
    assert merge_verdicts(ab, ba, "inconsistent") == as_inconsistent


def test_merge_table_covers_every_combination_and_rejects_unknown_rules():
    assert sorted((ab, ba) for ab, ba, *_ in MERGE_TABLE) == sorted(COMBOS)
    with pytest.raises(RubricError, match="merge rule"):
        merge_verdicts("A", "B", "majority")


def test_verdict_parsing():
    assert parse_pairwise_verdict('{"reasoning": "r", "winner": "A"}') == {"reasoning": "r", "winner": "A"}
    assert parse_pairwise_verdict('```json\n{"reasoning": "r", "winner": " Tie "}\n```')["winner"] == "tie"
    assert parse_pairwise_verdict('{"reasoning": "r", "winner": "b"}')["winner"] == "B"
    for bad, why in [
        ('{"reasoning": "r", "winner": "C"}', "winner must be"),
        ('{"reasoning": "r", "winner": 1}', "winner must be"),
        ('{"winner": "A"}', "lacks"),
        ('{"reasoning": 3, "winner": "A"}', "reasoning must be"),
        ('{"reasoning": "", "winner": "A"}', "reasoning is empty"),
        ('{"reasoning": " \\n\\t", "winner": "tie"}', "reasoning is empty"),
        ("A is better", "no JSON object"),
    ]:
        with pytest.raises(VerdictParseError, match=why) as exc:
            parse_pairwise_verdict(bad)
        assert exc.value.raw == bad


def test_verdict_schema_demands_reasoning_text():
    from judgekit.methods.pairwise import verdict_schema

    assert verdict_schema()["properties"]["reasoning"]["minLength"] == 1


# --- through the wire ----------------------------------------------------------------------------


def _b64(path: Path) -> str:
    return base64.b64encode(path.read_bytes()).decode()


def pair_manifest(tmp: Path, combos=COMBOS) -> tuple[Path, dict]:
    """One pair per verdict combination; returns the manifest and a map from the base64 of
    each pair's image_a to (pair index, combination)."""
    lines, key = [], {}
    for i, combo in enumerate(combos):
        a = write_png(tmp / "img" / f"{i}a.png", seed=1000 + i)
        b = write_png(tmp / "img" / f"{i}b.png", seed=2000 + i)
        key[_b64(a)] = ("first_is_a", combo)
        key[_b64(b)] = ("first_is_b", combo)
        lines.append(
            {"id": f"pair{i}", "prompt": f"a red cube number {i}", "prompt_id": f"p{i}", "image_a": f"img/{a.name}",
             "image_b": f"img/{b.name}", "model_a": "alpha" if i % 2 else "beta", "model_b": "beta" if i % 2 else "alpha"}
        )
    path = tmp / "pairs.jsonl"
    path.write_text("".join(json.dumps(x) + "\n" for x in lines))
    return path, key


def scripted(key: dict):
    """Reply with the combination's label for the order being asked (found from which image
    is shown first)."""

    def script(body: dict, n: int) -> Reply:
        user = [m for m in body["messages"] if m["role"] == "user"][0]["content"]
        first = [p for p in user if p["type"] == "image_url"][0]["image_url"]["url"].split(",", 1)[1]
        which, (ab, ba) = key[first]
        label = ab if which == "first_is_a" else ba
        return Reply(content=json.dumps({"reasoning": f"compared ({which})", "winner": label}))

    return script


def _score(srv, manifest, tmp_path, rubric="pairwise-t2i", **kw):
    kw.setdefault("cache", False)
    kw.setdefault("backend_options", {"backoff_base": 0.01})
    return jk.score(rubric, str(manifest), backend="openai:judge", base_url=srv.url, **kw)


def test_every_verdict_combination_through_the_server(judge_server, tmp_path):
    manifest, key = pair_manifest(tmp_path)
    judge_server.reset(scripted(key))
    res = _score(judge_server, manifest, tmp_path)
    assert len(judge_server.received) == 2 * len(COMBOS)
    # the schema asks for reasoning first, then a winner among A/B/tie
    schema = judge_server.received[0]["response_format"]["json_schema"]["schema"]
    assert list(schema["properties"]) == ["reasoning", "winner"]
    assert schema["properties"]["winner"]["enum"] == ["A", "B", "tie"]
    expected = {(ab, ba): tie for ab, ba, tie, _ in MERGE_TABLE}
    for i, (r, combo) in enumerate(zip(res, COMBOS, strict=True)):
        extra = r.model_extra
        assert r.status == "ok"
        merged = expected[combo]
        # the merge is in the pair's own terms: model_a is "alpha" on odd pairs, "beta" on even
        assert extra["winner"] == merged and extra["winners"] == {"overall": merged}
        assert (extra["model_a"], extra["model_b"]) == (("alpha", "beta") if i % 2 else ("beta", "alpha"))
        v = r.details["verdicts"]["overall"]
        assert (v["AB"]["winner"], v["BA"]["winner"]) == combo  # both raw verdicts kept
        assert v["consistent"] == (merge_verdicts(*combo, "inconsistent") != "inconsistent")
        assert r.reasoning["overall:AB"] == "compared (first_is_a)"
        assert r.scores["overall"] == {"model_a": 1.0, "model_b": 0.0, "tie": 0.5}[merged]
    assert res[0].provenance["kind"] == "pairwise" and res[0].provenance["merge"] == "tie"


def test_inconsistent_merge_option(judge_server, tmp_path):
    manifest, key = pair_manifest(tmp_path)
    judge_server.reset(scripted(key))
    res = _score(judge_server, manifest, tmp_path, method_options={"merge": "inconsistent"})
    expected = {(ab, ba): inc for ab, ba, _, inc in MERGE_TABLE}
    assert [r.model_extra["winner"] for r in res] == [expected[c] for c in COMBOS]
    assert [r.scores["overall"] for r in res].count(None) == 6  # inconsistent has no score
    assert res[0].provenance["merge"] == "inconsistent"


def test_summary_reports_position_consistency_and_first_shown_wins(judge_server, tmp_path):
    manifest, key = pair_manifest(tmp_path)
    judge_server.reset(scripted(key))
    res = _score(judge_server, manifest, tmp_path)
    summary = res.summary(n_boot=100)
    # consistent: (A,B), (B,A), (tie,tie) = 3 of 9; first shown: A 6 times, tie 6 times of 18 verdicts
    assert summary.position["position_consistency"] == pytest.approx(3 / 9)
    assert summary.position["first_shown_win_rate"] == pytest.approx((6 + 6 / 2) / 18)
    assert (summary.position["first_shown_wins"], summary.position["first_shown_losses"],
            summary.position["first_shown_ties"]) == (6, 6, 6)
    assert "position consistency 0.333" in str(summary)
    assert "first-shown image: 6 wins, 6 losses, 6 ties of 18 verdicts (wins 0.500 of decisive)" in str(summary)
    rows = {r["model"]: r for r in summary.rows}
    # merged: model_a wins pair 1 (alpha), model_b wins pair 3 (beta is model_b on odd pairs)... 7 ties
    assert rows["alpha"]["wins"] + rows["beta"]["wins"] == 2 and rows["alpha"]["ties"] == 7
    assert rows["alpha"]["win_rate"] + rows["beta"]["win_rate"] == pytest.approx(1.0)


def test_a_position_biased_judge_is_exposed(judge_server, tmp_path):
    manifest, _ = pair_manifest(tmp_path, combos=[("A", "A")] * 4)
    judge_server.reset(lambda body, n: Reply(content='{"reasoning": "the first one", "winner": "A"}'))
    res = _score(judge_server, manifest, tmp_path)
    assert {r.model_extra["winner"] for r in res} == {"tie"}
    pos = position_stats(res.records)
    assert pos["position_consistency"] == 0.0 and pos["first_shown_win_rate"] == 1.0 and pos["pairs"] == 4


def test_a_judge_that_only_ties_is_not_reported_as_unbiased(judge_server, tmp_path):
    manifest, _ = pair_manifest(tmp_path, combos=[("tie", "tie")] * 3)
    judge_server.reset(lambda body, n: Reply(content='{"reasoning": "equally good", "winner": "tie"}'))
    text = str(_score(judge_server, manifest, tmp_path).summary(n_boot=50))
    assert "first-shown image: 0 wins, 0 losses, 6 ties of 6 verdicts" in text
    assert "0.500" not in text.splitlines()[0]  # no rate made of ties alone


def test_unparseable_verdicts_fail_the_pair_with_raw_text_and_the_run_goes_on(judge_server, tmp_path):
    manifest, key = pair_manifest(tmp_path, combos=[("A", "B"), ("B", "A")])
    good = scripted(key)

    def script(body, n):
        text = json.dumps(body["messages"])
        if "number 1" in text:
            return Reply(content='{"reasoning": "hmm", "winner": "neither"}')
        return good(body, n)

    judge_server.reset(script)
    res = _score(judge_server, manifest, tmp_path, parse_retries=1)
    ok, bad = res[0], res[1]
    assert ok.status == "ok" and ok.model_extra["winner"] == "model_a"
    assert bad.status == "failed" and bad.model_extra["winner"] is None
    assert "winner must be" in bad.error and "neither" in bad.details["raw_replies"]["AB:overall"]
    assert len(judge_server.received) == 2 + 2 * 2  # the bad pair: 2 orders x (1 + 1 retry)
    s = res.summary(n_boot=50)
    assert "1 failed" in str(s)


def test_missing_image_fails_the_sample_only(judge_server, tmp_path):
    manifest, key = pair_manifest(tmp_path, combos=[("A", "B"), ("B", "A")])
    (tmp_path / "img" / "1b.png").unlink()
    judge_server.reset(scripted(key))
    res = _score(judge_server, manifest, tmp_path)
    assert [r.status for r in res] == ["ok", "failed"] and "does not exist" in res[1].error


def test_multi_dimension_rubric_and_dimension_inputs(judge_server, tmp_path):
    manifest, key = pair_manifest(tmp_path, combos=[("A", "B")])
    judge_server.reset(scripted(key))
    res = _score(judge_server, manifest, tmp_path, rubric="pairwise-t2i-aspects")
    assert len(judge_server.received) == 4  # 2 dimensions x 2 orders
    texts = [json.dumps(b["messages"]) for b in judge_server.received]
    assert sum("a red cube number 0" in t for t in texts) == 2  # visual_quality does not see the prompt
    r = res[0]
    assert r.model_extra["winners"] == {"prompt_adherence": "model_a", "visual_quality": "model_a"}
    assert r.model_extra["winner"] == "model_a"  # the primary dimension's


def test_cli_score_then_leaderboard_reads_the_results(judge_server, tmp_path, capsys):
    manifest, key = pair_manifest(tmp_path, combos=[("A", "B"), ("B", "A"), ("A", "B"), ("tie", "tie"), ("A", "A")])
    judge_server.reset(scripted(key))
    out = tmp_path / "r.jsonl"
    rc = main(["score", "--rubric", "pairwise-t2i", "--data", str(manifest), "--backend", "openai:judge",
               "--base-url", judge_server.url, "--out", str(out), "--no-cache", "--no-progress",
               "--option", "merge=inconsistent"])
    assert rc == 0
    capsys.readouterr()
    loaded = jk.load_results(out)
    assert [r.model_extra["winner"] for r in loaded] == ["model_a", "model_b", "model_a", "tie", "inconsistent"]
    assert main(["leaderboard", str(out), "--bootstrap", "50", "--out", str(tmp_path / "lb.json")]) == 0
    text = capsys.readouterr().out
    assert "alpha" in text and "beta" in text
    board = json.loads((tmp_path / "lb.json").read_text())
    assert board["n_battles"] == 5  # the inconsistent pair counts as a tie
    rows = {r["model"]: r for r in board["rows"]}
    # pair0: beta(model_a) wins; pair1: alpha=model_a, model_b=beta wins; pair2: beta wins; 3, 4: ties
    assert (rows["beta"]["wins"], rows["beta"]["losses"], rows["beta"]["ties"]) == (3, 0, 2)
    assert main(["leaderboard", str(out), "--bootstrap", "0", "--inconsistent", "drop", "--prior", "0.1"]) == 0
    assert "skipped: 1 inconsistent" in capsys.readouterr().err


# --- rubric options ------------------------------------------------------------------------------

_RUBRIC = """
name: pw
kind: pairwise
inputs: [prompt, image_a, image_b]
template: pairwise.j2
dimensions: [{name: overall, criteria: which is better}]
combine: {rule: none}
"""


@pytest.mark.parametrize(
    ("extra", "why"),
    [
        ("options: {merge: majority}", "option 'merge'"),
        ("options: {primary: style}", "option 'primary'"),
        ("options: {swap: false}", "pw.yaml: option 'swap' is not an option of kind 'pairwise'.*accepted options: merge, primary"),
    ],
)
def test_rubric_option_errors(extra, why):
    from judgekit.methods import make_method

    with pytest.raises(RubricError, match=why):
        make_method(parse_rubric(_RUBRIC + extra, "pw.yaml"))


def test_rubric_needs_both_images():
    from judgekit.methods import make_method

    with pytest.raises(RubricError, match="needs 'image_b'"):
        make_method(parse_rubric(_RUBRIC.replace("image_a, image_b", "image_a"), "pw.yaml"))
    m = make_method(parse_rubric(_RUBRIC, "pw.yaml"), merge="inconsistent")
    assert m.merge == "inconsistent" and m.primary == "overall"
