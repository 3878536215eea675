"""Usage, cost and budgets of `judgekit score` against the scripted server, which counts tokens
as tests/token_counting.py documents; every expected figure is recomputed here from what the
server counted."""

import hashlib
import json

import pytest

from judgekit.cli import main
from judgekit.cli.cost_options import EXIT_BUDGET

PRICES = "gpt-4o:\n  input: 2.5\n  cached_input: 1.25\n  output: 10.0\n  batch_discount: 0.5\n"


def _score(manifest, tmp_path, url, *extra, out="r.jsonl", backend="openai:gpt-4o"):
    return main(["score", "--rubric", "viescore-t2i", "--data", str(manifest), "--backend", backend,
                 "--base-url", url, "--out", str(tmp_path / out), "--cache", str(tmp_path / "c.sqlite"),
                 "--no-progress", "--concurrency", "2", *extra])


def _records(path):
    return [json.loads(x) for x in path.read_text().splitlines()]


def _judge_calls(server):
    """The judge requests the server answered (not the 1-token pre-flight probe), with counts."""
    return [(b, c) for b, c in zip(server.received, server.counted) if b.get("max_tokens") != 1]


def _usd(prompt, cached, completion, batch=False):
    usd = ((prompt - cached) * 2.5 + cached * 1.25 + completion * 10.0) / 1e6
    return usd * 0.5 if batch else usd


def _digest(body):
    return hashlib.sha256(json.dumps(body["messages"], sort_keys=True).encode()).hexdigest()


@pytest.fixture
def prices(tmp_path):
    p = tmp_path / "prices.yaml"
    p.write_text(PRICES)
    return p


def test_records_and_summary_carry_tokens_cached_tokens_and_cost(judge_server, manifest_factory, tmp_path, prices, capsys):
    judge_server.cached_tokens = 40
    assert _score(manifest_factory(3), tmp_path, judge_server.url, "--prices", str(prices)) == 0
    out = capsys.readouterr().out
    calls = _judge_calls(judge_server)
    assert len(calls) == 9  # 3 samples x 3 dimensions
    prompt = sum(t + i for _, (t, i, _) in calls)
    completion = sum(c for _, (_, _, c) in calls)
    recs = _records(tmp_path / "r.jsonl")
    assert sum(r["details"]["usage"]["prompt_tokens"] for r in recs) == prompt
    assert sum(r["details"]["usage"]["completion_tokens"] for r in recs) == completion
    assert all(r["details"]["usage"]["cached_tokens"] == 120 and r["details"]["usage"]["requests"] == 3 for r in recs)
    assert all(r["details"]["usage"]["batch_requests"] == 0 for r in recs)
    total = _usd(prompt, 9 * 40, completion)
    assert sum(r["details"]["usage"]["cost_usd"] for r in recs) == pytest.approx(total, abs=1e-7)
    line = next(x for x in out.splitlines() if x.startswith("usage gpt-4o, this run"))
    assert f"9 requests, {prompt} prompt tokens (360 cached), {completion} completion tokens" in line
    assert f"${total:.4f}" in line

    # The same run again: every answer from the cache, shown at the cost it had, charged nothing.
    judge_server.reset()
    assert _score(manifest_factory(3), tmp_path, judge_server.url, "--prices", str(prices)) == 0
    out = capsys.readouterr().out
    assert not _judge_calls(judge_server)
    assert "usage gpt-4o, this run" not in out
    line = next(x for x in out.splitlines() if x.startswith("usage gpt-4o, from cache"))
    assert f"cost when first answered ${total:.4f} (not charged again)" in line
    recs = _records(tmp_path / "r.jsonl")
    assert all(r["details"]["usage"]["cost_usd"] == 0.0 and r["details"]["usage"]["from_cache"] == 3 for r in recs)
    assert sum(r["details"]["usage"]["cost_when_first_answered_usd"] for r in recs) == pytest.approx(total, abs=1e-7)


def test_without_a_price_table_tokens_only_and_a_line_saying_so(judge_server, manifest_factory, tmp_path, capsys):
    assert _score(manifest_factory(2), tmp_path, judge_server.url) == 0
    out = capsys.readouterr().out
    assert "cost: not computed (no price table" in out
    assert "usage gpt-4o, this run: 6 requests" in out and "$" not in out.split("usage gpt-4o")[1]
    assert "cost_usd" not in _records(tmp_path / "r.jsonl")[0]["details"]["usage"]


def test_max_cost_stops_with_exit_5_and_a_rerun_finishes_without_repeating(judge_server, manifest_factory, tmp_path,
                                                                         prices, capsys):
    manifest = manifest_factory(8)
    # What the whole run costs, measured on a throwaway cache.
    assert _score(manifest, tmp_path, judge_server.url, "--prices", str(prices), "--cache", str(tmp_path / "x.sqlite")) == 0
    full = _judge_calls(judge_server)
    cost = {_digest(b): _usd(t + i, 0, c) for b, (t, i, c) in full}
    assert len(cost) == 24
    capsys.readouterr()
    judge_server.reset()
    budget = sum(cost.values()) * 0.4
    code = _score(manifest, tmp_path, judge_server.url, "--prices", str(prices), "--max-cost", f"{budget:.8f}")
    err = capsys.readouterr().err
    assert code == EXIT_BUDGET == 5
    assert "budget reached" in err and "of 8 samples judged" in err
    first = [_digest(b) for b, _ in _judge_calls(judge_server)]
    assert 0 < len(first) < 24 and len(_records(tmp_path / "r.jsonl")) < 8
    in_flight = 2 * max(cost.values())  # --concurrency 2
    assert sum(cost[d] for d in first) <= budget + in_flight

    judge_server.reset()
    assert _score(manifest, tmp_path, judge_server.url, "--prices", str(prices), "--max-cost", "100") == 0
    second = [_digest(b) for b, _ in _judge_calls(judge_server)]
    assert len(_records(tmp_path / "r.jsonl")) == 8
    assert sorted(first + second) == sorted(cost)  # every request sent exactly once over the two runs


def test_max_tokens_budget_and_flag_errors(judge_server, manifest_factory, tmp_path, prices, capsys):
    manifest = manifest_factory(4)
    assert _score(manifest, tmp_path, judge_server.url, "--max-tokens", "1500") == EXIT_BUDGET
    calls = _judge_calls(judge_server)
    assert calls and sum(t + i + c for _, (t, i, c) in calls) <= 1500
    capsys.readouterr()
    assert _score(manifest, tmp_path, judge_server.url, "--max-cost", "1") == 2
    assert "--max-cost needs a price table" in capsys.readouterr().err
    assert _score(manifest, tmp_path, judge_server.url, "--max-cost", "1", "--prices", str(prices),
                  backend="openai:judge") == 2
    assert "no price for model 'judge'" in capsys.readouterr().err


def test_a_budget_reached_before_any_sample_prints_no_empty_table(judge_server, manifest_factory, tmp_path, capsys):
    """A budget too small for one sample: exit 5 and the budget line, not a table header with
    no rows under it (which reads as a finished, empty result)."""
    manifest = manifest_factory(2)
    assert _score(manifest, tmp_path, judge_server.url, "--max-tokens", "100") == EXIT_BUDGET
    captured = capsys.readouterr()
    assert "0 samples, 0 failed" in captured.out and "budget reached: 0 of 2 samples judged" in captured.err
    assert "ci_low" not in captured.out
