"""The arena on a simulated world, judged over a real OpenAI-compatible HTTP server on 127.0.0.1:
12 models with known Bradley-Terry strengths and a scripted judge with position bias and noise
(tests/arena_world.py). The target is wide so the default run stays fast; bench/bench_arena.py runs
the 15-Elo target."""

from __future__ import annotations

import json

import numpy as np
import pytest
from scipy import stats as sps

from judgekit.arena import Board, run_arena
from tests.arena_world import add_model, judge_script, make_world, request_key, sim_judge, write_manifests

TARGET = 300.0
ANCHOR = "m03"


def make_board(folder, world, url, files):
    board = Board.init(folder, rubric="pairwise-t2i", backend="openai:judge", base_url=url, anchor=ANCHOR,
                       concurrency=32, n_boot=100)
    for f in files.values():
        board.add(f)
    return board


@pytest.fixture(scope="module")
def world():
    return make_world(12, 50, spread=1100.0, seed=3)


@pytest.fixture(scope="module")
def converged(tmp_path_factory, world, judge_server_session):
    srv = judge_server_session
    srv.reset(judge_script(world))
    tmp = tmp_path_factory.mktemp("arena")
    board = make_board(tmp / "board", world, srv.url, write_manifests(world, tmp / "img"))
    run = run_arena(board, target_ci=TARGET, api_key="test")
    keys = [request_key(world, b) for b in srv.received]
    yield board, run, keys, tmp
    board.close()


def test_reaches_target_and_orders_models(converged, world):
    board, run, keys, _ = converged
    assert run.stopped == "target"
    assert max(run.widths.values()) <= TARGET
    assert set(run.widths) == set(world.models) - {ANCHOR}
    rating = {r.model: r.rating for r in run.leaderboard.rows}
    rho = sps.spearmanr([rating[m] for m in world.models], world.strength).statistic
    assert rho >= 0.95
    assert rating[ANCHOR] == 1000.0
    # Every battle was judged in both orders over HTTP, once: two distinct requests per battle.
    counts = board.store.counts()
    assert counts["pending"] == 0 and counts["ok"] + counts["failed"] == run.judged
    assert len(keys) == len(set(keys)) == 2 * run.judged == run.judgments
    print(f"\n12 models to a {TARGET:g}-point CI over HTTP: {run.judged} battles, {run.judgments} judgments, "
          f"Spearman {rho:.3f}")


def test_store_keeps_both_orders_judge_and_prompt(converged, world):
    board, run, _, _ = converged
    rows = board.store.battle_rows()
    assert len(rows) == run.judged
    assert all(r["status"] == "ok" and r["prompt"].startswith("prompt number") for r in rows)
    ident = board.store.judges()
    assert len(ident) == 1 and ident[0]["backend"]["model"] == "judge" and ident[0]["rubric"] == "pairwise-t2i"
    # The merged winner follows the two stored verdicts (agreement wins, anything else ties) and
    # the world's judge: image_a shown first in AB.
    as_model = {"AB": {"A": "model_a", "B": "model_b", "tie": "tie"}, "BA": {"A": "model_b", "B": "model_a", "tie": "tie"}}
    labels = ["A", "B", "tie"]
    index, pindex = {m: i for i, m in enumerate(world.models)}, {p: k for k, p in enumerate(world.prompts)}
    for r in rows:
        ab, ba = json.loads(r["verdict_ab"])["winner"], json.loads(r["verdict_ba"])["winner"]
        first, second = as_model["AB"][ab], as_model["BA"][ba]
        assert r["winner"] == (first if first == second else "tie")
        i, j, p = (np.array([x]) for x in (index[r["model_a"]], index[r["model_b"]], pindex[r["prompt_id"]]))
        assert ab == labels[int(world.verdicts(i, j, p)[0])] and ba == labels[int(world.verdicts(j, i, p)[0])]
    hist = board.store.history()
    assert hist[-1]["battles"] == run.judged and hist[-1]["ci"] is not None
    assert [h["battles"] for h in hist] == sorted(h["battles"] for h in hist)


def test_a_new_model_is_placed_with_few_battles(converged, world, judge_server_session):
    board, run, _, tmp = converged
    before = {r.model: r.rating for r in run.leaderboard.rows}
    last_batch = max(r["batch"] for r in board.store.battle_rows())
    bigger = add_model(world, strength=float(np.mean(world.strength)) + 37.0)
    files = write_manifests(bigger, tmp / "img", [12])
    judge_server_session.reset(judge_script(bigger))
    board.add(files["m12"])
    again = run_arena(board, target_ci=TARGET, api_key="test")
    assert again.stopped == "target" and max(again.widths.values()) <= TARGET
    after = {r.model: r.rating for r in again.leaderboard.rows}
    assert after[ANCHOR] == before[ANCHOR] == 1000.0
    new = [b for b in board.store.battle_rows() if b["batch"] > last_batch]
    assert len(new) == again.judged
    assert sum("m12" in (b["model_a"], b["model_b"]) for b in new) >= 0.5 * len(new)  # battles go where needed
    # Rebuilding the 13-model board from nothing (same sampler and stopping rule; in process, the
    # count is what matters) costs far more than placing the newcomer.
    fresh = Board.init(tmp / "fresh", rubric="pairwise-t2i", backend="openai:judge", anchor=ANCHOR, n_boot=100, cache=None)
    for name in bigger.models:
        fresh.store.add_model(name, "sim", [(p, None, f"/sim/{name}/{p}.png", f"{name}-{p}") for p in bigger.prompts])
    rebuilt = run_arena(fresh, target_ci=TARGET, judge=sim_judge(bigger))
    fresh.close()
    print(f"\nplacing a 13th model: {again.judged} battles; rebuilding the 13-model board: {rebuilt.judged}")
    assert rebuilt.stopped == "target"
    assert again.judged <= 0.4 * rebuilt.judged
