"""Kill `judgekit arena run` with SIGKILL mid-batch and run it again: no battle is judged twice, no
answered call is sent to the judge again (the board's response cache replays it), and the store
is consistent (every battle once, nothing left pending)."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

from judgekit.arena import Board, run_arena
from tests.arena_world import judge_script, make_world, request_key, write_manifests
from tests.judge_server import Reply

ROOT = Path(__file__).resolve().parents[2]


def test_killed_run_resumes_without_judging_twice(tmp_path, judge_server):
    world = make_world(5, 30, spread=600.0, seed=5)
    answer = judge_script(world)
    judge_server.reset(lambda body, n: Reply(content=answer(body, n).content, delay=0.01))
    board = Board.init(tmp_path / "board", rubric="pairwise-t2i", backend="openai:judge", base_url=judge_server.url,
                       anchor="m02", concurrency=4, n_boot=50)
    for f in write_manifests(world, tmp_path / "img").values():
        board.add(f)
    env = {**os.environ, "PYTHONPATH": str(ROOT), "OPENAI_API_KEY": "test"}
    proc = subprocess.Popen([sys.executable, "-m", "judgekit", "arena", "run", str(board.path), "--target-ci", "160",
                             "--quiet"], env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    # Kill it once a batch is stored and the next one is being judged.
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        c = board.store.counts()
        if c["ok"] > 0 and c["pending"] > 0 and len(judge_server.received) > 2 * c["ok"] + 8:
            break
        assert proc.poll() is None, proc.communicate()
        time.sleep(0.02)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    before = board.store.counts()
    assert before["ok"] > 0 and before["pending"] > 0  # killed mid-batch
    done_before = {(r["prompt_id"], r["model_a"], r["model_b"]) for r in board.store.battle_rows() if r["status"] == "ok"}
    sent_before = [request_key(world, b) for b in judge_server.received]
    with sqlite3.connect(board.path / "cache.sqlite") as db:
        cached_before = db.execute("SELECT COUNT(*) FROM responses").fetchone()[0]

    run = run_arena(board, target_ci=160, api_key="test")
    assert run.stopped == "target"
    rows = board.store.battle_rows()
    after = board.store.counts()
    assert after["pending"] == 0 and after["failed"] == 0
    keys = [(r["prompt_id"], r["model_a"], r["model_b"]) for r in rows]
    assert len(keys) == len(set(keys))  # each battle once
    assert done_before <= set(keys)
    sent_after = [request_key(world, b) for b in judge_server.received[len(sent_before):]]
    # Nothing judged before the kill is asked again: a battle stored as judged sends nothing.
    index = {m: i for i, m in enumerate(world.models)}
    pindex = {p: k for k, p in enumerate(world.prompts)}
    done_calls = {((index[a], pindex[p]), (index[b], pindex[p])) for p, a, b in done_before}
    done_calls |= {(y, x) for x, y in done_calls}
    assert not done_calls & set(sent_after)
    # Only calls whose answer never reached the cache before the kill (in flight) can go out again.
    again = set(sent_before) & set(sent_after)
    assert len(again) <= len(sent_before) - cached_before, (len(again), len(sent_before), cached_before)
    assert len(sent_before) - cached_before <= 8  # every answer but those in flight was cached (concurrency 4)
    # Every stored battle was judged, in both orders, by requests the server saw.
    assert {frozenset(k) for k in sent_before + sent_after} >= {
        frozenset({(index[a], pindex[p]), (index[b], pindex[p])}) for p, a, b in keys}
    assert run.judged == after["ok"] - before["ok"]
    board.close()
