"""The sampler alone (pure numpy): where the expected information sends the next battles, how they
spread over prompts, and that nothing already planned is planned again."""

from __future__ import annotations

import numpy as np

from judgekit.arena.sampler import Candidates, covariance, pair_index, plan_batch
from judgekit.stats.battles import Battles
from judgekit.stats.ratings import bradley_terry

MODELS = ["a", "b", "c", "d"]


def _cands(n_prompts=30, taken=()):
    images = {(m, f"p{k:02d}") for m in MODELS for k in range(n_prompts)}
    return Candidates.build(MODELS, images, list(taken))


def test_pair_index_matches_triu_order():
    n = 5
    i, j = np.triu_indices(n, 1)
    assert [pair_index(int(x), int(y), n) for x, y in zip(i, j)] == list(range(i.size))
    assert pair_index(3, 1, n) == pair_index(1, 3, n)


def test_covariance_is_the_inverse_fisher_information_with_the_anchor_fixed():
    r = np.array([1000.0, 1100.0, 900.0])
    n = np.array([[0, 10, 5], [10, 0, 0], [5, 0, 0]], dtype=float)
    c = np.log(10) / 400
    cov = covariance(r, n, anchor=0, active=np.ones(3, bool), c=c)
    # By hand: models 1 and 2 each meet only the anchor, so each variance is 1 / (n c^2 p (1 - p)).
    for k, nk in ((1, 10), (2, 5)):
        p = 1 / (1 + 10 ** ((r[0] - r[k]) / 400))
        assert cov[k, k] == np.float64(cov[k, k]) and abs(cov[k, k] - 1 / (nk * c * c * p * (1 - p) + 1e-6)) < 1e-6 * cov[k, k]
    assert cov[0, 0] == 0 and cov[1, 2] == 0


def test_a_model_without_battles_draws_the_batch_and_close_pairs_come_first():
    cands = _cands()
    ratings = np.array([1000.0, 1010.0, 1400.0, 1000.0])  # d is new: no battles, rating unknown
    n = np.zeros((4, 4))
    for i, j in ((0, 1), (0, 2), (1, 2)):
        n[i, j] = n[j, i] = 60
    plan = plan_batch(cands, ratings, n, anchor=0, active=np.ones(4, bool), target_width=80, inflation=np.ones(4),
                      batch_size=12, rng=np.random.default_rng(0))
    pairs = [tuple(sorted((MODELS[i], MODELS[j]))) for i, j, _ in plan.battles]
    assert sum("d" in p for p in pairs) >= 9  # the unknown model is what needs information
    # Close pairs first: d's first battle is against whoever is nearest its (estimated) rating.
    for d_rating, nearest in ((1005.0, {"a", "b"}), (1395.0, {"c"})):
        r = np.array([1000.0, 1010.0, 1400.0, d_rating])
        first = plan_batch(_cands(), r, n, anchor=0, active=np.ones(4, bool), target_width=80, inflation=np.ones(4),
                           batch_size=1, rng=np.random.default_rng(0)).battles[0]
        assert {MODELS[first[0]], MODELS[first[1]]} - {"d"} <= nearest and 3 in first[:2]
    # A removed (inactive) model is never scheduled.
    plan2 = plan_batch(_cands(), r, n, anchor=0, active=np.array([True, True, True, False]), target_width=80,
                       inflation=np.ones(4), batch_size=6, rng=np.random.default_rng(0))
    assert plan2.battles and all(3 not in (i, j) for i, j, _ in plan2.battles)


def test_battles_spread_over_prompts_and_never_repeat():
    taken = [("p00", "a", "b"), ("p01", "a", "b")]
    cands = _cands(n_prompts=10, taken=taken)
    n = np.zeros((4, 4))
    plan = plan_batch(cands, np.full(4, 1000.0), n, anchor=0, active=np.ones(4, bool), target_width=10,
                      inflation=np.ones(4), batch_size=40, rng=np.random.default_rng(1))
    assert len(plan.battles) == 40
    seen = {(p, i, j) for i, j, p in plan.battles}
    assert len(seen) == 40  # no (prompt, pair) twice
    prompts = [cands.prompts[p] for _, _, p in plan.battles]
    ab_on = {cands.prompts[p] for i, j, p in plan.battles if {MODELS[i], MODELS[j]} == {"a", "b"}}
    assert not ab_on & {"p00", "p01"}  # planned earlier
    load = np.bincount([cands.prompts.index(p) for p in prompts], minlength=10) + np.r_[1, 1, np.zeros(8)]
    assert load.max() - load.min() <= 2  # least-used prompts first (a pair can only use prompts it has not met on)


def test_warm_start_gives_the_same_ratings():
    rng = np.random.default_rng(0)
    recs = [{"model_a": a, "model_b": b, "winner": w, "prompt_id": f"p{k}"}
            for k in range(200) for a, b in [tuple(rng.choice(MODELS, 2, replace=False))]
            for w in [rng.choice(["model_a", "model_b", "tie"])]]
    b = Battles.from_records(recs)
    cold = bradley_terry(b, anchor="a", prior=0.01)
    warm = bradley_terry(b, anchor="a", prior=0.01, start={"a": 1000.0, "b": 1150.0, "c": 900.0})  # d missing
    np.testing.assert_allclose(warm.ratings, cold.ratings, atol=1e-6)


def test_a_model_without_shared_prompts_is_reported_not_waited_for(tmp_path):
    from judgekit.arena import Board, run_arena
    from tests.arena_world import make_world, sim_judge

    world = make_world(4, 40, spread=400.0, seed=1)
    board = Board.init(tmp_path / "b", rubric="pairwise-t2i", backend="openai:judge", anchor="m00", cache=None, n_boot=50)
    for name in world.models[:3]:
        board.store.add_model(name, "sim", [(p, None, f"/sim/{p}.png", f"{name}-{p}") for p in world.prompts])
    board.store.add_model("m03", "sim", [("elsewhere", None, "/sim/x.png", "m03-x")])  # no prompt in common
    run = run_arena(board, target_ci=250, judge=sim_judge(world))
    assert run.unplaceable == ["m03"] and run.stopped == "target" and "m03" not in run.widths
    board.close()
