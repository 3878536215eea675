"""Likert means, pass rates, win rates, Elo and Bradley-Terry, checked against independent fits,
hand-worked numbers and simulations with known truth."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import optimize
from sklearn.linear_model import LogisticRegression

from judgekit.datasets.battles import read_genai_bench
from judgekit.errors import ConfigError, DataError
from judgekit.resources import data_path
from judgekit.stats.battle_converters import battles_from_scores
from judgekit.stats.battles import Battles
from judgekit.stats.estimates import likert_mean, pass_rate, wilson_interval
from judgekit.stats.leaderboard import head_to_head, leaderboard, win_rates
from judgekit.stats.ratings import bradley_terry, elo

GENAI = data_path("calibration", "genai_bench", "genai_image_527_human_ratings.json")  # vendored by calibration
LN10 = np.log(10.0)


def simulate(rng, theta, n_prompts, per_prompt, tie=0.2):
    """Battles from known Bradley-Terry strengths (theta in base-10 units). Ties happen with
    probability ``tie`` and the decisive outcomes are tilted so that model_a's expected score
    stays the BT probability, which is what 'ties as half wins' estimates."""
    m = len(theta)
    n = n_prompts * per_prompt
    a = rng.integers(0, m, n)
    b = (a + rng.integers(1, m, n)) % m
    p = 1.0 / (1.0 + 10.0 ** (theta[b] - theta[a]))
    p_win = (p - tie / 2) / (1 - tie)
    s = np.where(rng.random(n) < tie, 0.5, (rng.random(n) < p_win).astype(float))
    names = [f"m{i}" for i in range(m)]
    return Battles.from_arrays(
        [names[i] for i in a], [names[i] for i in b], s, [f"p{i // per_prompt}" for i in range(n)]
    )


# --- Bradley-Terry against independent fits --------------------------------------------------------


def expanded_rows(b: Battles):
    """One row per decisive battle, two half-weight rows (a win and a loss) per tie."""
    x = np.zeros((len(b), b.n_models))
    x[np.arange(len(b)), b.a] = 1.0
    x[np.arange(len(b)), b.b] = -1.0
    tie = b.score == 0.5
    rows = np.vstack([x, x[tie]])
    y = np.concatenate([np.where(tie, 1.0, b.score), np.zeros(tie.sum())])
    w = np.concatenate([np.where(tie, 0.5, 1.0), np.full(tie.sum(), 0.5)])
    return rows, y, w


def test_bt_equals_unpenalized_logistic_regression():
    b = simulate(np.random.default_rng(3), np.array([0.0, 0.15, -0.2, 0.4, 0.05, 0.3]), 300, 3)
    ours = bradley_terry(b, anchor="m0").ratings
    x, y, w = expanded_rows(b)
    # unpenalized (C=inf; penalty=None is deprecated in sklearn 1.8). m0 is the reference
    # category: its column is dropped, so the fit is identified without a penalty
    lr = LogisticRegression(C=np.inf, fit_intercept=False, tol=1e-12, max_iter=10_000)
    lr.fit(x[:, 1:], y, sample_weight=w)
    theirs = 1000.0 + 400.0 * np.concatenate([[0.0], lr.coef_[0]]) / LN10
    np.testing.assert_allclose(ours, theirs, atol=1e-4, rtol=0)


def test_bt_equals_a_direct_scipy_likelihood_fit_and_centres_on_init():
    b = simulate(np.random.default_rng(4), np.array([0.0, 0.5, 0.25, -0.25]), 100, 5, tie=0.3)
    x, y, w = expanded_rows(b)

    def nll(beta):
        z = x[:, 1:] @ beta
        return np.sum(w * (np.logaddexp(0, -z) * y + np.logaddexp(0, z) * (1 - y)))

    res = optimize.minimize(nll, np.zeros(b.n_models - 1), method="BFGS", options={"gtol": 1e-10})
    theta = np.concatenate([[0.0], res.x]) / LN10
    expected = 400 * (theta - theta.mean()) + 1000
    got = bradley_terry(b).ratings
    np.testing.assert_allclose(got, expected, atol=1e-4, rtol=0)
    assert got.mean() == pytest.approx(1000.0)
    # other scales are the same fit in other units
    got2 = bradley_terry(b, base=np.e, scale=1.0, init=0.0).ratings
    np.testing.assert_allclose(got2, (expected - 1000) / 400 * LN10, atol=1e-6)


def test_bt_anchor_puts_the_named_model_at_init():
    b = simulate(np.random.default_rng(5), np.array([0.0, 0.3, 0.6]), 60, 4)
    free = bradley_terry(b).as_dict()
    anchored = bradley_terry(b, anchor="m1", init=1200).as_dict()
    assert anchored["m1"] == pytest.approx(1200)
    assert anchored["m2"] - anchored["m0"] == pytest.approx(free["m2"] - free["m0"], abs=1e-6)
    with pytest.raises(ConfigError, match="anchor 'zz'"):
        bradley_terry(b, anchor="zz")


def test_bt_two_models_closed_form():
    # x wins 3, loses 1, ties 2 => score 4 of 6 => odds 2 => x - y = 400 log10(2)
    recs = [("model_a",) * 1] * 3 + [("model_b",)] + [("tie",)] * 2
    b = Battles.from_records([{"model_a": "x", "model_b": "y", "winner": w[0]} for w in recs])
    r = bradley_terry(b).as_dict()
    assert r["x"] - r["y"] == pytest.approx(400 * np.log10(2), abs=1e-6)


def test_bt_without_an_mle_is_reported_and_a_prior_regularizes():
    never_wins = [("a", "b", "model_a"), ("b", "a", "model_a"), ("a", "c", "model_a"), ("c", "b", "model_b"), ("c", "a", "tie")]
    b = Battles.from_records([{"model_a": x, "model_b": y, "winner": w} for x, y, w in never_wins])
    # c: lost to b, tied a -> not "never wins" (a tie is half a win); b: lost to a twice, beat c
    assert bradley_terry(b).ratings.size == 3
    losers = [("a", "b", "model_a"), ("a", "c", "model_a"), ("b", "c", "model_a"), ("a", "b", "model_b")]
    b2 = Battles.from_records([{"model_a": x, "model_b": y, "winner": w} for x, y, w in losers])
    with pytest.raises(DataError, match=r"never win: \['c'\].*prior"):
        bradley_terry(b2)
    reg = bradley_terry(b2, prior=0.1).as_dict()
    assert np.isfinite(list(reg.values())).all() and reg["c"] < reg["b"] == pytest.approx(reg["a"])
    split = [("a", "b", "tie"), ("c", "d", "tie"), ("a", "c", "model_a"), ("b", "d", "model_a")]
    b3 = Battles.from_records([{"model_a": x, "model_b": y, "winner": w} for x, y, w in split])
    with pytest.raises(DataError, match="never beat each other both ways"):
        bradley_terry(b3)


# --- Elo -------------------------------------------------------------------------------------------


def test_elo_hand_worked_sequence():
    # K=32, all start at 1000.
    # 1) A beats B: E_A = 0.5, A = 1016, B = 984.
    # 2) B beats C: E_B = 1/(1+10^(16/400)) = 0.476991, B += 32 * 0.523009 = 16.7363 -> 1000.7363, C = 983.2637.
    # 3) A ties C: E_A = 1/(1+10^(-32.7363/400)) = 0.546972, A += 32 * (0.5 - 0.546972) = -1.5031
    #    -> A = 1014.4969, C = 984.7668.
    b = Battles.from_records(
        [
            {"model_a": "A", "model_b": "B", "winner": "model_a"},
            {"model_a": "B", "model_b": "C", "winner": "B"},
            {"model_a": "C", "model_b": "A", "winner": "tie"},
        ]
    )
    r = elo(b, k=32).as_dict()
    assert r == pytest.approx({"A": 1014.4969, "B": 1000.7363, "C": 984.7668}, abs=1e-3)
    # K=16, init 1500, scale 200: A beats B -> 1508 / 1492; then B beats A:
    # E_B = 1/(1+10^(16/200)) = 0.454078, B += 16 * 0.545922 = 8.73475 -> 1500.7348, A = 1499.2652.
    two = Battles.from_records(
        [{"model_a": "A", "model_b": "B", "winner": "model_a"}, {"model_a": "A", "model_b": "B", "winner": "model_b"}]
    )
    r2 = elo(two, k=16, init=1500, scale=200).as_dict()
    assert r2 == pytest.approx({"A": 1499.2652, "B": 1500.7348}, abs=1e-3)
    assert sum(elo(b, k=16, init=1500).as_dict().values()) == pytest.approx(4500)  # Elo conserves the total
    with pytest.raises(ConfigError, match="k > 0"):
        elo(b, k=0)


def test_elo_depends_on_order_and_shuffled_averaging_removes_it():
    recs = [{"model_a": "x", "model_b": "y", "winner": "model_a"}] * 20 + [
        {"model_a": "x", "model_b": "y", "winner": "model_b"}
    ] * 20
    b = Battles.from_records(recs)
    given = elo(b, k=16).as_dict()
    assert given["y"] > given["x"] + 20  # the late wins weigh most
    avg = elo(b, k=16, n_orders=400, seed=1).as_dict()
    assert abs(avg["x"] - avg["y"]) < 6
    assert elo(b, k=16, n_orders=50, seed=2).as_dict() == elo(b, k=16, n_orders=50, seed=2).as_dict()


# --- win rates, Likert, pass rates ------------------------------------------------------------------


def test_win_rates_and_head_to_head():
    recs = [("x", "y", "model_a"), ("x", "y", "tie"), ("y", "x", "model_a"), ("x", "z", "model_a"), ("z", "y", "model_b")]
    b = Battles.from_records([{"model_a": a, "model_b": c, "winner": w, "prompt_id": str(i)} for i, (a, c, w) in enumerate(recs)])
    wr = win_rates(b, n_boot=200)
    # x: W2 (vs y, vs z) L1 T1 of 4 -> 2.5/4; y: W2 L1 T1 -> 2.5/4; z: L2 -> 0/2
    assert wr["x"].value == pytest.approx(2.5 / 4) and wr["x"].n == 4
    assert wr["y"].value == pytest.approx(2.5 / 4)
    assert wr["z"].value == 0.0 and wr["z"].ci_low == 0.0 and wr["z"].ci_high == 0.0
    assert wr["x"].ci_low <= wr["x"].value <= wr["x"].ci_high
    models, rate, n = head_to_head(b)
    ix = {m: i for i, m in enumerate(models)}
    assert rate[ix["x"], ix["y"]] == pytest.approx(1.5 / 3) and n[ix["x"], ix["y"]] == 3
    assert rate[ix["y"], ix["z"]] == 1.0 and np.isnan(rate[ix["x"], ix["x"]])
    off = ~np.eye(3, dtype=bool) & (n > 0)
    np.testing.assert_allclose((rate + rate.T)[off], 1.0)
    np.testing.assert_array_equal(b.record_counts()[ix["x"]], [2, 1, 1])


def test_likert_mean_and_pass_rate_values_and_errors():
    e = likert_mean([5, 4, 4, 2, 3, 5], groups=["p1", "p1", "p2", "p2", "p3", "p3"], n_boot=500)
    assert e.value == pytest.approx(23 / 6) and e.n == 6 and e.method == "bootstrap-prompt"
    # whole prompts move together: the resampled means are means of 3 prompt means here
    assert 3.0 <= e.ci_low <= e.value <= e.ci_high <= 4.5
    assert likert_mean([3, 3, 3]).ci_low == 3.0
    with pytest.raises(DataError, match="finite"):
        likert_mean([1, float("nan")])
    with pytest.raises(DataError, match="groups has 1"):
        likert_mean([1, 2], groups=["a"])
    # Wilson 95% for 8/10 (textbook value [0.490, 0.943])
    assert wilson_interval(8, 10) == pytest.approx((0.4902, 0.9433), abs=1e-4)
    w = pass_rate([True] * 8 + [False] * 2, method="wilson")
    assert (w.value, w.method) == (0.8, "wilson")
    bt = pass_rate([1, 1, 0, 1], groups=["a", "a", "b", "b"])
    assert bt.method == "bootstrap-prompt" and bt.value == 0.75
    with pytest.raises(ConfigError, match="independent"):
        pass_rate([1, 0], groups=["a", "b"], method="wilson")
    with pytest.raises(DataError, match="pass"):
        pass_rate([1, 2])
    with pytest.raises(ConfigError, match="method"):
        pass_rate([1, 0], method="exact")


def test_interval_coverage_of_likert_and_pass_rate_in_simulation():
    rng = np.random.default_rng(11)
    hit_mean, hit_boot, hit_wilson = [], [], []
    true_mean = _clipped_mean()
    for s in range(200):
        # 40 prompts x 3 images, a prompt effect makes images of one prompt correlated
        prompt_effect = rng.normal(0, 0.8, 40).repeat(3)
        x = np.clip(np.round(3 + prompt_effect + rng.normal(0, 0.7, 120)), 1, 5)
        groups = np.arange(120) // 3
        e = likert_mean(x, groups, n_boot=400, seed=s)
        hit_mean.append(e.ci_low <= true_mean <= e.ci_high)
        p = rng.random(100) < 0.3
        pw = pass_rate(p, method="wilson")
        hit_wilson.append(pw.ci_low <= 0.3 <= pw.ci_high)
        pb = pass_rate(p, n_boot=400, seed=s)
        hit_boot.append(pb.ci_low <= 0.3 <= pb.ci_high)
    assert 0.89 <= np.mean(hit_mean) <= 0.99
    assert 0.91 <= np.mean(hit_wilson) <= 0.99
    assert 0.89 <= np.mean(hit_boot) <= 0.99


def _clipped_mean(n=2_000_000):
    """The true mean of the simulated Likert scores (by a large seeded Monte Carlo)."""
    rng = np.random.default_rng(12345)
    x = np.clip(np.round(3 + rng.normal(0, 0.8, n) + rng.normal(0, 0.7, n)), 1, 5)
    return float(x.mean())


# --- leaderboards ----------------------------------------------------------------------------------


def test_bt_ci_coverage_in_simulation_fast():
    """Ratings recovered from battles simulated from known strengths fall inside their 95% CIs
    at about the nominal rate. Small version for the default run; see the slow one below."""
    _coverage(sims=30, n_boot=100, lo=0.82, hi=0.995)


@pytest.mark.slow
@pytest.mark.timeout(1800)
def test_bt_ci_coverage_in_simulation_full():
    _coverage(sims=150, n_boot=200, lo=0.92, hi=0.975)


def _coverage(sims, n_boot, lo, hi):
    theta = np.array([0.0, 0.1, 0.2, 0.35, 0.5])
    truth = 400 * (theta - theta.mean()) + 1000
    rng = np.random.default_rng(1)
    hits = []
    for s in range(sims):
        lb = leaderboard(simulate(rng, theta, 150, 4), n_boot=n_boot, seed=s)
        ci = {r.model: (r.ci_low, r.ci_high) for r in lb.rows}
        hits += [ci[f"m{i}"][0] <= truth[i] <= ci[f"m{i}"][1] for i in range(len(theta))]
    assert lo <= np.mean(hits) <= hi, np.mean(hits)


def test_leaderboard_rows_counts_and_options():
    b = simulate(np.random.default_rng(7), np.array([0.0, 0.2, 0.4]), 80, 3)
    lb = leaderboard(b, n_boot=200, seed=0)
    assert [r.rank for r in lb.rows] == [1, 2, 3]
    assert [r.model for r in lb.rows] == ["m2", "m1", "m0"]
    for r in lb.rows:
        assert r.ci_low <= r.rating <= r.ci_high
        assert r.wins + r.losses + r.ties == r.n
    assert sum(r.n for r in lb.rows) == 2 * len(b)
    assert lb.to_dict()["rows"][0]["model"] == "m2" and "theta" not in lb.to_dict()["options"]
    assert "95% CI" in lb.format()
    assert leaderboard(b, n_boot=200, seed=0).to_dict() == lb.to_dict()  # deterministic
    el = leaderboard(b, method="elo", n_boot=50, seed=0, k=8)
    assert el.method == "elo" and el.rows[0].model == "m2" and el.options["n_orders"] == 100
    by_battle = leaderboard(b, n_boot=50, resample="battle")
    assert by_battle.resample == "battle"
    none = leaderboard(b, n_boot=0)
    assert np.isnan(none.rows[0].ci_low)
    with pytest.raises(ConfigError, match="method"):
        leaderboard(b, method="trueskill")
    with pytest.raises(ConfigError, match=r"\['k'\] do not apply"):
        leaderboard(b, method="bt", k=4)


def test_leaderboard_flags_single_battle_models_and_degenerate_rounds():
    rng = np.random.default_rng(8)
    b = simulate(rng, np.array([0.0, 0.3]), 30, 2)
    recs = b.to_records() + [{"model_a": "m0", "model_b": "m_typo", "winner": "tie", "prompt_id": "x"}]
    lb = leaderboard(Battles.from_records(recs), n_boot=100)
    assert any("'m_typo' appears in only 1 battle" in w for w in lb.warnings)
    # m_typo's one battle is a tie: resamples without it make it never win or lose
    assert lb.degenerate_rounds > 0 and any("bootstrap resamples" in w for w in lb.warnings)
    reg = leaderboard(Battles.from_records(recs), n_boot=100, prior=0.05)
    assert reg.degenerate_rounds == 0


def test_genai_bench_human_leaderboard():
    scores = read_genai_bench(GENAI)
    b = battles_from_scores(scores)
    lb = leaderboard(b, n_boot=200, seed=0)
    order = [r.model for r in lb.rows]
    assert order[0] == "DALLE_3" and order[1] == "Midjourney_6" and order[-1] == "SDXL_2_1"
    # the BT order agrees with the mean human rating at the top and the bottom
    means = {m: np.mean([v for p in scores.values() for v in p[m]]) for m in b.models}
    assert max(means, key=means.get) == "DALLE_3" and min(means, key=means.get) == "SDXL_2_1"
    top, second = lb.rows[0], lb.rows[1]
    assert top.ci_low > second.ci_high  # DALLE_3 is separated from the rest


# --- the leaderboard command ---------------------------------------------------------------------


def test_leaderboard_cli_on_a_battles_file_and_errors(tmp_path, capsys):
    import json

    from judgekit.cli import main
    from judgekit.datasets.battles import write_battles

    b = simulate(np.random.default_rng(9), np.array([0.0, 0.25, 0.5]), 60, 3)
    path = tmp_path / "battles.csv"
    write_battles(b, path)
    out = tmp_path / "lb.json"
    assert main(["leaderboard", str(path), "--bootstrap", "50", "--out", str(out)]) == 0
    text = capsys.readouterr().out
    assert "rank  model" in text and "95% CI" in text and "W/L/T" in text
    board = json.loads(out.read_text())
    assert [r["model"] for r in board["rows"]] == ["m2", "m1", "m0"] and board["n_battles"] == len(b)
    assert board["method"] == "bt" and board["n_boot"] == 50
    assert main(["leaderboard", str(path), "--method", "elo", "--bootstrap", "20", "--k", "8"]) == 0
    assert "Elo (K=8" in capsys.readouterr().out
    assert main(["leaderboard", str(path), "--bootstrap", "0", "--anchor", "m0"]) == 0
    assert " 1000.0" in capsys.readouterr().out
    # bad input: exit status 2 and one line saying what is wrong
    assert main(["leaderboard", str(path), "--models", "m0,m1"]) == 2
    assert "not in the declared list" in capsys.readouterr().err
    bad = tmp_path / "bad.jsonl"
    bad.write_text(json.dumps({"model_a": "x", "model_b": "y", "winner": "x"}) + "\n")
    assert main(["leaderboard", str(bad)]) == 2
    assert "never lose: ['x']" in capsys.readouterr().err
    assert main(["leaderboard", str(bad), "--prior", "0.1", "--bootstrap", "20"]) == 0


def test_equal_ratings_share_a_rank():
    # x and y are indistinguishable (each beats the other once); z loses to both twice.
    recs = [{"model_a": "x", "model_b": "y", "winner": "model_a", "prompt_id": "p1"},
            {"model_a": "x", "model_b": "y", "winner": "model_b", "prompt_id": "p2"}]
    recs += [{"model_a": m, "model_b": "z", "winner": "model_a", "prompt_id": f"q{i}{m}"} for m in "xy" for i in range(2)]
    recs += [{"model_a": m, "model_b": "z", "winner": "model_b", "prompt_id": f"r{m}"} for m in "xy"]
    rows = {r.model: r.rank for r in leaderboard(Battles.from_records(recs), n_boot=0).rows}
    assert rows == {"x": 1, "y": 1, "z": 3}
