"""Usage and cost per served model (issue 21, part 2): a request to the alias ``gpt-4o`` that the
server answers as dated snapshots is counted and priced under the id each reply names, in the
run's summary, in every record and in the judge card; every expected figure is recomputed here
in plain Python from what the scripted server counted (tests/token_counting.py)."""

import hashlib
import json

import pytest

from judgekit.cli import main
from judgekit.judge_card import UNKNOWN, card_path, read_card
from judgekit.usage.totals import UNKNOWN_SERVED
from tests.judge_server import Reply

AUG, NOV = "gpt-4o-2024-08-06", "gpt-4o-2024-11-20"
# AUG is priced through the listed prefix gpt-4o, NOV by its own exact entry (a price that would
# be wrong if the run priced by the requested id gpt-4o).
PRICES = ("gpt-4o:\n  input: 2.5\n  cached_input: 1.25\n  output: 10.0\n"
          "gpt-4o-2024-11-20:\n  input: 5.0\n  cached_input: 2.0\n  output: 20.0\n")
RATES = {AUG: (2.5, 1.25, 10.0), NOV: (5.0, 2.0, 20.0)}
CACHED = 40  # prompt tokens the server reports as served from its prompt cache, per reply


def served_for(body) -> str:
    """Which snapshot answers a request: fixed by its messages, so it is recomputable here."""
    digest = hashlib.sha256(json.dumps(body["messages"], sort_keys=True).encode()).digest()
    return AUG if digest[0] % 2 else NOV


def serve_snapshots(body, n):
    return Reply(model=served_for(body))


def expected_per_served(server) -> dict[str, dict]:
    """Requests, tokens and cost per served id, from the judge requests the server answered."""
    out: dict[str, dict] = {}
    for body, (text, images, completion) in zip(server.received, server.counted):
        if body.get("max_tokens") == 1:
            continue  # the pre-flight probe: not a judge request
        sid = served_for(body)
        prompt = text + images
        cached = min(CACHED, prompt)
        inp, cin, outp = RATES[sid]
        row = out.setdefault(sid, {"requests": 0, "prompt_tokens": 0, "cached_tokens": 0, "completion_tokens": 0, "cost": 0.0})
        row["requests"] += 1
        row["prompt_tokens"] += prompt
        row["cached_tokens"] += cached
        row["completion_tokens"] += completion
        row["cost"] += ((prompt - cached) * inp + cached * cin + completion * outp) / 1e6
    return out


def run_priced(server, manifest, tmp_path, out="r.jsonl"):
    prices = tmp_path / "prices.yaml"
    prices.write_text(PRICES)
    return main(["score", "--rubric", "viescore-t2i", "--data", str(manifest), "--backend", "openai:gpt-4o",
                 "--base-url", server.url, "--out", str(tmp_path / out), "--cache", str(tmp_path / "c.sqlite"),
                 "--no-progress", "--concurrency", "2", "--prices", str(prices)])


def _line(out: str, start: str) -> str:
    return next(x for x in out.splitlines() if x.startswith(start))


def test_usage_is_counted_and_priced_per_served_model_and_cached_answers_cost_when_first_answered(
        judge_server, manifest_factory, tmp_path, capsys):
    judge_server.script = serve_snapshots
    judge_server.cached_tokens = CACHED
    manifest = manifest_factory(6)
    assert run_priced(judge_server, manifest, tmp_path) == 0
    printed = capsys.readouterr().out
    want = expected_per_served(judge_server)
    assert set(want) == {AUG, NOV} and sum(w["requests"] for w in want.values()) == 18  # 6 samples x 3 dimensions

    card = json.loads(card_path(tmp_path / "r.jsonl").read_text())
    assert card["card_version"] == 2 and card["usage"]["priced"] is True
    assert set(card["usage"]["models"]) == {AUG, NOV}  # the requested id gpt-4o answered nothing itself
    for sid, w in want.items():
        charged = card["usage"]["models"][sid]["charged"]
        assert {k: charged[k] for k in ("requests", "prompt_tokens", "cached_tokens", "completion_tokens")} == {
            k: w[k] for k in ("requests", "prompt_tokens", "cached_tokens", "completion_tokens")}
        assert charged["cost_usd"] == pytest.approx(w["cost"], abs=1e-7)
        assert card["usage"]["models"][sid]["cached"]["requests"] == 0
        # The summary prints the run's own totals (the ledger's): the same figures.
        line = _line(printed, f"usage {sid}, this run:")
        assert (f"{w['requests']} requests, {w['prompt_tokens']} prompt tokens ({w['cached_tokens']} cached), "
                f"{w['completion_tokens']} completion tokens; cost ${w['cost']:.4f}") in line
    assert "usage gpt-4o, " not in printed
    assert card["usage"]["prompt_tokens"] == sum(w["prompt_tokens"] for w in want.values())
    assert card["usage"]["prices"].endswith("prices.yaml")

    # Each record carries the same split; a card rebuilt from the records alone agrees with the written one.
    recs = [json.loads(x) for x in (tmp_path / "r.jsonl").read_text().splitlines()]
    for r in recs:
        per = r["details"]["usage"]["served_models"]
        assert sum(b["charged"]["requests"] for b in per.values()) == r["details"]["usage"]["requests"] == 3
        served = [s["served_model"] for s in r["details"]["sources"].values()]
        assert {sid: b["charged"]["requests"] for sid, b in per.items()} == {s: served.count(s) for s in set(served)}
    card_path(tmp_path / "r.jsonl").unlink()
    rebuilt = read_card(tmp_path / "r.jsonl")
    assert rebuilt["usage"]["models"] == card["usage"]["models"]

    # Again from the cache: nothing sent, nothing charged; each answer at the cost it first had.
    judge_server.reset(serve_snapshots)
    assert run_priced(judge_server, manifest, tmp_path, out="again.jsonl") == 0
    printed = capsys.readouterr().out
    assert not [b for b in judge_server.received if b.get("max_tokens") != 1]
    assert "this run:" not in printed
    card2 = read_card(tmp_path / "again.jsonl")
    for sid, w in want.items():
        books = card2["usage"]["models"][sid]
        assert books["charged"]["requests"] == 0 and books["charged"]["cost_usd"] == 0.0
        assert books["cached"]["requests"] == w["requests"] and books["cached"]["prompt_tokens"] == w["prompt_tokens"]
        assert books["cached"]["cost_usd"] == pytest.approx(w["cost"], abs=1e-7)
        assert f"cost when first answered ${w['cost']:.4f} (not charged again)" in _line(printed, f"usage {sid}, from cache:")


def test_without_prices_the_card_has_tokens_per_served_model_and_no_cost(judge_server, manifest_factory, tmp_path, capsys):
    judge_server.script = serve_snapshots
    assert main(["score", "--rubric", "viescore-t2i", "--data", str(manifest_factory(4)), "--backend", "openai:gpt-4o",
                 "--base-url", judge_server.url, "--out", str(tmp_path / "r.jsonl"), "--no-cache", "--no-progress"]) == 0
    capsys.readouterr()
    want = expected_per_served(judge_server)
    card = read_card(tmp_path / "r.jsonl")
    assert card["usage"]["priced"] is False
    for sid, w in want.items():
        charged = card["usage"]["models"][sid]["charged"]
        assert (charged["requests"], charged["completion_tokens"], charged["cost_usd"]) == (
            w["requests"], w["completion_tokens"], None)


def test_the_usage_and_the_card_name_an_unknown_served_model_alike():
    assert UNKNOWN_SERVED == UNKNOWN  # siblings that cannot import each other (pyproject layers)
