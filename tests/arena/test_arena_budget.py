"""`judgekit arena run --budget-usd` over the scripted HTTP server, which counts every reply's tokens
(tests/token_counting.py): the run stops planning once the next battle could take the board's
spend over the budget, a rerun with a larger budget continues without judging a battle again, and
every cost the board records or shows is recomputed here from the server's counts and the table."""

from __future__ import annotations

import sqlite3

import pytest

from judgekit.arena import ArenaStore
from judgekit.arena.store import SCHEMA
from judgekit.cli import main
from judgekit.cli.cost_options import EXIT_BUDGET
from tests.arena_world import judge_script, make_world, request_key, write_manifests

INPUT, OUTPUT = 2.5, 10.0  # USD per million prompt / completion tokens
PRICES = f"judge:\n  input: {INPUT}\n  output: {OUTPUT}\n"


def _usd(text, image, completion):
    return ((text + image) * INPUT + completion * OUTPUT) / 1e6


@pytest.fixture
def board(tmp_path, judge_server, monkeypatch):
    """A 5-model board with the price table stored at init; returns (path, world, prices file)."""
    monkeypatch.setenv("OPENAI_API_KEY", "test")
    world = make_world(5, 30, spread=600.0, seed=5)
    judge_server.reset(judge_script(world))
    prices = tmp_path / "prices.yaml"
    prices.write_text(PRICES)
    path = str(tmp_path / "board")
    assert main(["arena", "init", path, "--backend", "openai:judge", "--base-url", judge_server.url, "--anchor", "m02",
                 "--concurrency", "4", "--bootstrap", "50", "--prices", str(prices)]) == 0
    for f in write_manifests(world, tmp_path / "img").values():
        assert main(["arena", "add", path, "--data", str(f)]) == 0
    return path, world, prices


def _battle_costs(server, world, since=0):
    """USD per battle (frozenset of its two (model, prompt) images) from the server's own counts
    of the judge calls it answered (not the 1-token pre-flight probe)."""
    out: dict[frozenset, float] = {}
    for body, (text, image, completion) in list(zip(server.received, server.counted))[since:]:
        if body.get("max_tokens") == 1:
            continue
        key = frozenset(request_key(world, body))
        out[key] = out.get(key, 0.0) + _usd(text, image, completion)
    return out


def _rows(path, world):
    index, pindex = {m: i for i, m in enumerate(world.models)}, {p: k for k, p in enumerate(world.prompts)}
    store = ArenaStore(f"{path}/arena.sqlite")
    try:
        rows = store.battle_rows()
    finally:
        store.close()
    for r in rows:
        r["key"] = frozenset({(index[r["model_a"]], pindex[r["prompt_id"]]), (index[r["model_b"]], pindex[r["prompt_id"]])})
    return rows


def _check_stop(rows, budget):
    """The stopping rule: the batches before the last were planned within the budget, and the
    battle not planned would not have fit (every battle costs about the same here)."""
    spent = sum(r["cost_usd"] for r in rows)
    last = max(r["batch"] for r in rows)
    assert spent - sum(r["cost_usd"] for r in rows if r["batch"] == last) <= budget
    assert budget - spent < max(r["cost_usd"] for r in rows)
    return spent


def test_budget_stops_the_run_and_a_larger_budget_continues(board, judge_server, capsys):
    path, world, _ = board
    budget = 0.05
    assert main(["arena", "run", path, "--target-ci", "60", "--budget-usd", str(budget), "--quiet"]) == EXIT_BUDGET
    out = capsys.readouterr().out
    assert "spend over the $0.05 budget" in out

    costs = _battle_costs(judge_server, world)
    rows = _rows(path, world)
    assert rows and all(r["status"] == "ok" for r in rows)
    # Every stored battle cost equals its two calls priced from the server's counts, by hand.
    assert {r["key"] for r in rows} == set(costs)
    for r in rows:
        assert r["cost_usd"] == pytest.approx(costs[r["key"]], abs=1e-12)
    spent = _check_stop(rows, budget)
    assert spent == pytest.approx(sum(costs.values()), abs=1e-12)
    assert f"this run: ${spent:.4f}" in out

    assert main(["arena", "show", path]) == 0
    shown = capsys.readouterr().out
    assert f"{len(rows)} battles judged ({2 * len(rows)} judgments)" in shown
    assert f"cost: ${spent:.4f} spent on {len(rows)} battles ({2 * len(rows)} requests" in shown

    # The same budget again: nothing left to spend, nothing sent, the same exit status.
    sent = len(judge_server.received)
    assert main(["arena", "run", path, "--target-ci", "60", "--budget-usd", str(budget), "--quiet"]) == EXIT_BUDGET
    assert len(judge_server.received) == sent
    capsys.readouterr()

    # A larger budget: the board's total (both runs) stays within it; no battle is judged twice.
    budget2 = 0.12
    assert main(["arena", "run", path, "--target-ci", "60", "--budget-usd", str(budget2), "--quiet"]) == EXIT_BUDGET
    out = capsys.readouterr().out
    new = _battle_costs(judge_server, world, since=sent)
    assert new and not set(new) & set(costs)  # the second run sent no call of a battle the first judged
    rows2 = _rows(path, world)
    assert len({r["key"] for r in rows2}) == len(rows2) > len(rows)
    total = _check_stop(rows2, budget2)
    assert total == pytest.approx(sum(costs.values()) + sum(new.values()), abs=1e-12)
    assert f"this run: ${total - spent:.4f}; cost: ${total:.4f} spent of a $0.12 budget" in out
    assert main(["arena", "show", path]) == 0
    assert f"cost: ${total:.4f} spent on {len(rows2)} battles" in capsys.readouterr().out


def test_prices_given_to_run_override_the_board_and_no_budget_still_records_cost(board, judge_server, tmp_path, capsys):
    path, world, _ = board
    other = tmp_path / "other.yaml"
    other.write_text("judge:\n  input: 5.0\n  output: 20.0\n")  # twice the stored prices
    assert main(["arena", "run", path, "--target-ci", "60", "--max-battles", "6", "--prices", str(other), "--quiet"]) == 0
    rows = _rows(path, world)
    costs = _battle_costs(judge_server, world)
    assert len(rows) == 6
    for r in rows:
        assert r["cost_usd"] == pytest.approx(2 * costs[r["key"]], abs=1e-12)


def test_battles_resumed_from_the_cache_keep_the_cost_their_calls_had(board, judge_server, capsys):
    """A run killed after its calls were answered (cached) but before the store wrote the batch:
    the next run judges those battles from the cache, sends nothing, and stores what the calls
    cost when they were answered (the killed run recorded none of it)."""
    path, world, _ = board
    assert main(["arena", "run", path, "--target-ci", "60", "--max-battles", "6", "--quiet"]) == 0
    with sqlite3.connect(f"{path}/arena.sqlite") as db:  # as if killed before complete()
        db.execute("UPDATE battles SET status = 'pending', winner = NULL, usage = NULL, cost_usd = NULL, judged = NULL")
    sent = len(judge_server.received)
    assert main(["arena", "run", path, "--target-ci", "60", "--max-battles", "6", "--budget-usd", "1", "--quiet"]) == 0
    assert len(judge_server.received) == sent
    costs = _battle_costs(judge_server, world)
    rows = _rows(path, world)
    assert len(rows) == 6 and all(r["status"] == "ok" for r in rows)
    for r in rows:
        assert r["cost_usd"] == pytest.approx(costs[r["key"]], abs=1e-12)
    assert f"this run: ${sum(costs.values()):.4f}" in capsys.readouterr().out


def test_budget_needs_a_price_for_the_judge(tmp_path, judge_server, board, capsys):
    path, _, _ = board
    bare = tmp_path / "bare"
    assert main(["arena", "init", str(bare), "--backend", "openai:judge", "--base-url", judge_server.url,
                 "--anchor", "m02"]) == 0
    assert main(["arena", "add", str(bare), "--data", str(tmp_path / "img" / "m02.jsonl")]) == 0
    assert main(["arena", "add", str(bare), "--data", str(tmp_path / "img" / "m03.jsonl")]) == 0
    assert main(["arena", "run", str(bare), "--budget-usd", "1"]) == 2
    assert "needs a price table" in capsys.readouterr().err
    wrong = tmp_path / "wrong.yaml"
    wrong.write_text("gpt-4o:\n  input: 2.5\n  output: 10.0\n")
    assert main(["arena", "run", path, "--budget-usd", "1", "--prices", str(wrong)]) == 2
    assert "no price for model 'judge'" in capsys.readouterr().err
    assert main(["arena", "run", path, "--budget-usd", "0"]) == 2
    assert not [b for b in judge_server.received if b.get("max_tokens") != 1]
    # A bad table at init is a clear error and creates no board.
    bad = tmp_path / "bad.yaml"
    bad.write_text("judge:\n  input: 2.5\n")
    assert main(["arena", "init", str(tmp_path / "b3"), "--backend", "openai:judge", "--anchor", "m02",
                 "--prices", str(bad)]) == 2
    assert "missing 'output'" in capsys.readouterr().err
    assert not (tmp_path / "b3" / "settings.json").exists()


def test_a_board_from_before_costs_gets_the_columns(tmp_path):
    old = "\n".join(line for line in SCHEMA.splitlines() if not line.lstrip().startswith(("usage TEXT", "cost_usd REAL")))
    with sqlite3.connect(tmp_path / "arena.sqlite") as db:
        db.executescript(old)
        assert "cost_usd" not in {r[1] for r in db.execute("PRAGMA table_info(battles)")}
    store = ArenaStore(tmp_path / "arena.sqlite")
    assert {"usage", "cost_usd"} <= {r[1] for r in store.db.execute("PRAGMA table_info(battles)")}
    assert store.spend()["cost_usd"] == 0.0 and store.spent_usd() == 0.0 and store.costliest_battle() is None
    store.close()
