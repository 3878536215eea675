"""Sampling variance across seeds: estimators against textbook nested-ANOVA formulas, recovery of
known simulated components within their CIs, the power calculation against a simulation, and
the ``summary --over-seeds`` JSON names."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest

from judgekit.errors import DataError
from judgekit.stats import seeds as S


def simulate(rng, P, N, D, sp, ss, se, mu=5.0):
    a = rng.normal(0, sp, (P, 1, 1))
    b = rng.normal(0, ss, (P, N, 1))
    e = rng.normal(0, se, (P, N, D)) if D > 1 else 0.0
    return mu + a + b + e


def anova_nested(y):
    """Classic balanced nested ANOVA (prompt > seed > dimension), written independently."""
    P, N, D = y.shape
    y = y - y.mean(axis=(0, 1), keepdims=True)  # dimension means out
    g = y.mean()
    mp = y.mean(axis=(1, 2))
    mps = y.mean(axis=2)
    ms_prompt = N * D * ((mp - g) ** 2).sum() / (P - 1)
    ms_seed = D * ((mps - mp[:, None]) ** 2).sum() / (P * (N - 1))
    if D == 1:
        return {"prompt_var": max(0, (ms_prompt - ms_seed) / N), "seed_var": ms_seed, "residual_var": 0.0}
    ms_e = ((y - mps[..., None]) ** 2).sum() / (P * N * (D - 1))
    return {"prompt_var": max(0, (ms_prompt - ms_seed) / (N * D)), "seed_var": max(0, (ms_seed - ms_e) / D),
            "residual_var": ms_e}  # fmt: skip


@pytest.mark.parametrize("D", [1, 3])
def test_point_estimates_match_nested_anova_and_direct_best_worst(D):
    y = simulate(np.random.default_rng(D), 30, 4, D, 1.0, 0.6, 0.4)
    got = S.of_n([y[p] for p in range(30)])
    want = anova_nested(y)
    for k, v in want.items():
        assert got[k] == pytest.approx(v, abs=1e-9), k
    m = y.mean(2)  # a sample's score: its mean over dimensions
    assert got["mean_of_n"] == pytest.approx(m.mean(), abs=1e-12)
    assert got["best_of_n"] == pytest.approx(m.max(1).mean(), abs=1e-12)
    assert got["worst_of_n"] == pytest.approx(m.min(1).mean(), abs=1e-12)
    assert got["sd"] == pytest.approx(m.std(1, ddof=1).mean(), abs=1e-12)
    assert got["range"] == pytest.approx((m.max(1) - m.min(1)).mean(), abs=1e-12)
    fr = [got[f"{k}_frac"] for k in ("prompt", "seed", "residual")]
    assert sum(fr) == pytest.approx(1.0)


def test_unbalanced_seeds_are_unbiased_on_average():
    rng = np.random.default_rng(7)
    est = []
    for _ in range(300):
        groups = [rng.normal(rng.normal(0, 1.0), 0.5, (rng.integers(2, 6), 1)) for _ in range(40)]
        o = S.of_n(groups)
        est.append((o["prompt_var"], o["seed_var"]))
    pv, sv = np.mean(est, axis=0)
    assert pv == pytest.approx(1.0, abs=0.06) and sv == pytest.approx(0.25, abs=0.01)


def test_known_components_recovered_within_their_cis():
    P, N, D, sp, ss, se = 400, 4, 3, 1.0, 0.7, 0.5
    y = simulate(np.random.default_rng(11), P, N, D, sp, ss, se)
    r = S.bootstrap_of_n([y[p] for p in range(P)], n_boot=1000)
    truth = {"prompt_var": sp**2, "seed_var": ss**2, "residual_var": se**2}
    total = sum(truth.values())
    truth |= {k.replace("_var", "_frac"): v / total for k, v in list(truth.items())}
    for k, v in truth.items():
        assert r[k]["ci_low"] <= v <= r[k]["ci_high"], (k, v, r[k])
    # best of N: mu + E[max of N normals] x the within-prompt SD of a sample's score
    sw = math.sqrt(ss**2 + se**2 / D)
    e_max4 = 1.0293753730039641
    assert r["best_of_n"]["ci_low"] <= 5.0 + e_max4 * sw <= r["best_of_n"]["ci_high"]
    assert r["worst_of_n"]["ci_low"] <= 5.0 - e_max4 * sw <= r["worst_of_n"]["ci_high"]
    assert r["mean_of_n"]["ci_low"] <= 5.0 <= r["mean_of_n"]["ci_high"]


def test_ci_coverage_over_replicates():
    rng = np.random.default_rng(3)
    hits = {"prompt_var": 0, "seed_var": 0, "mean_of_n": 0}
    reps = 60
    for i in range(reps):
        y = simulate(rng, 80, 3, 1, 1.0, 0.8, 0.0)
        r = S.bootstrap_of_n([y[p] for p in range(80)], n_boot=400, seed=i)
        for k, v in (("prompt_var", 1.0), ("seed_var", 0.64), ("mean_of_n", 5.0)):
            hits[k] += r[k]["ci_low"] <= v <= r[k]["ci_high"]
    for k, h in hits.items():
        assert h / reps >= 0.85, (k, h)


def test_two_stage_bootstrap_runs_and_is_wider_for_the_mean():
    y = simulate(np.random.default_rng(2), 40, 3, 1, 1.0, 0.8, 0.0)
    g = [y[p] for p in range(40)]
    one = S.bootstrap_of_n(g, n_boot=300)
    two = S.bootstrap_of_n(g, n_boot=300, resample="prompts+seeds")
    w = lambda d: d["ci_high"] - d["ci_low"]  # noqa: E731
    assert w(two["mean_of_n"]) > w(one["mean_of_n"]) * 0.95
    assert one["mean_of_n"]["value"] == two["mean_of_n"]["value"]


def test_power_calculation_matches_simulation():
    rng = np.random.default_rng(5)
    P, N, diff_sd, sa, sb, delta = 50, 3, 0.4, 0.8, 0.6, 0.25
    predicted = S.paired_power(diff_sd**2, sa**2, sb**2, P, N, delta)
    assert 0.3 < predicted < 0.9  # a regime where the test is informative
    reps = 4000
    d_true = delta + rng.normal(0, diff_sd, (reps, P))
    d_obs = d_true + rng.normal(0, sa, (reps, P, N)).mean(2) - rng.normal(0, sb, (reps, P, N)).mean(2)
    z = d_obs.mean(1) / (d_obs.std(1, ddof=1) / math.sqrt(P))
    empirical = float((np.abs(z) > 1.959963984540054).mean())
    assert empirical == pytest.approx(predicted, abs=0.03)
    # and the components behind it are estimated from data
    ga = [rng.normal(m, sa, (N, 1)) for m in rng.normal(0, 1, 400)]
    shift = rng.normal(delta, diff_sd, 400)
    gb = [rng.normal(g.mean() * 0 + m, sb, (N, 1)) for g, m in zip(ga, shift, strict=True)]
    comp = S.paired_components(ga, gb)
    assert comp["within_a"] == pytest.approx(sa**2, rel=0.12) and comp["within_b"] == pytest.approx(
        sb**2, rel=0.12
    )


def test_power_plan_reaches_its_target():
    comp = {"diff_var": 0.1, "within_a": 0.5, "within_b": 0.5}
    plan = S.power_plan(comp, 60, 2, 0.2)
    assert plan["power_now"] < 0.8
    s = plan["seeds_for_power"]
    assert S.paired_power(0.1, 0.5, 0.5, 60, s, 0.2) >= 0.8 > S.paired_power(0.1, 0.5, 0.5, 60, s - 1, 0.2)
    p = plan["prompts_for_power"]
    assert S.paired_power(0.1, 0.5, 0.5, p, 2, 0.2) >= 0.8
    assert S.paired_power(0.1, 0.5, 0.5, p - 1, 2, 0.2) < 0.8  # the smallest such number


def test_seeds_needed_gives_the_target_width_in_simulation():
    pv, wv, P, width = 0.2, 2.0, 100, 0.25
    need = S.seeds_needed(pv, wv, P, width)
    s = need["seeds"]
    rng = np.random.default_rng(9)
    means = (
        rng.normal(0, math.sqrt(pv), (3000, P)) + rng.normal(0, math.sqrt(wv), (3000, P, s)).mean(2)
    ).mean(1)
    assert 2 * 1.96 * means.std() <= width * 1.05
    assert 2 * 1.96 * S.mean_se(pv, wv, P, s - 1) > width  # one seed fewer is not enough
    out = S.seeds_needed(1.0, 1.0, 10, 0.1)
    assert out["seeds"] is None and out["min_prompts"] == math.ceil(
        1.0 / (0.1 / (2 * 1.959963984540054)) ** 2
    )


def test_best_of_n_win_rate_and_best_image_by_wins():
    w = S.best_of_n_win_rate([3, 5, 4, 1], [2, 5, 6, 0])
    assert w["value"] == pytest.approx((1 + 0.5 + 0 + 1) / 4)
    assert w["ci_low"] <= w["value"] <= w["ci_high"]
    cells = [(0, 0, 1.0), (0, 1, 1.0), (1, 0, 0.0), (1, 1, 0.5)]
    # A: seed 0 wins both of its pairs; B: seed 0 beats A1 (share 1/2), seed 1 only ties it (1/4)
    assert S.best_image_by_wins(cells) == (0, 0)


def test_one_seed_per_prompt_is_a_clear_error():
    with pytest.raises(ValueError, match="one seed"):
        S.check_seeds([np.ones((1, 1)), np.ones((1, 1))])


# --- records, Results.summary(over="seeds") and the CLI ----------------------------------------


def _records(tmp_path, n_seeds=3, seed_where="meta"):
    rng = np.random.default_rng(0)
    rows = []
    for model, shift in (("a", 0.0), ("b", 0.5)):
        for p in range(25):
            base = rng.normal(0, 1)
            for s in range(n_seeds):
                dims = {
                    d: float(6 + shift + base + rng.normal(0, 0.6) + rng.normal(0, 0.3)) for d in ("x", "y")
                }
                r = {"sample_id": f"{model}{p}-{s}", "prompt_id": f"p{p}", "model": model, "rubric": "r",
                     "status": "ok", "scores": dims, "overall": sum(dims.values()) / 2}  # fmt: skip
                if seed_where == "meta":
                    r["meta"] = {"seed": s}
                else:
                    r["seed"] = s
                rows.append(r)
    rows.append({"sample_id": "bad", "prompt_id": "p0", "model": "a", "rubric": "r", "status": "failed",
                 "error": "timeout"})  # fmt: skip
    path = tmp_path / "results.jsonl"
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    return path


@pytest.mark.parametrize("seed_where", ["meta", "field"])
def test_cli_over_seeds_json_names(tmp_path, capsys, seed_where):
    from judgekit.cli import main

    path = _records(tmp_path, seed_where=seed_where)
    out = tmp_path / "S.json"
    assert main(["summary", str(path), "--over-seeds", "--out", str(out), "--n-boot", "300"]) == 0
    text = out.read_text()
    assert "NaN" not in text
    data = json.loads(text)
    assert set(data) == {"a", "b"}
    for m in data.values():
        for k in ("mean_of_n", "best_of_n", "worst_of_n"):
            assert set(m[k]) == {"value", "ci_low", "ci_high"}
            assert m[k]["ci_low"] <= m[k]["value"] <= m[k]["ci_high"]
        vc = m["variance_components"]
        assert sum(vc[k]["value"] for k in ("prompt", "seed", "residual")) == pytest.approx(1.0)
        assert vc["dimensions"] == 2 and m["seeds_per_prompt"]["min"] == 3
    assert data["a"]["failed"] == 1 and data["a"]["worst_of_n"]["value"] < data["a"]["best_of_n"]["value"]
    assert "power" in data["a"]["vs"]["b"] and data["b"]["vs"]["a"]["best_of_n_win_rate"]["value"] > 0.5
    printed = capsys.readouterr().out
    assert "How many seeds" in printed and "vs b:" in printed


def test_one_seed_per_prompt_cli_error(tmp_path, capsys):
    import judgekit as jk
    from judgekit.cli import main

    path = _records(tmp_path, n_seeds=1)
    assert main(["summary", str(path), "--over-seeds"]) == 2
    err = capsys.readouterr().err
    assert "one seed per prompt" in err and "'a'" in err and "cannot be estimated" in err
    with pytest.raises(DataError, match="one seed per prompt"):
        jk.load_results(path).summary(over="seeds")


def test_duplicate_seed_is_an_error(tmp_path):
    import judgekit as jk

    path = _records(tmp_path)
    lines = path.read_text().splitlines()
    dup = json.loads(lines[0]) | {"sample_id": "copy"}
    path.write_text("\n".join(lines + [json.dumps(dup)]) + "\n")
    with pytest.raises(DataError, match="appears twice"):
        jk.load_results(path).summary(over="seeds")


def test_pairwise_best_of_n_vs_best_of_n(tmp_path, capsys):
    """Each prompt: 2 seeds of A x 2 of B judged; A's seed 1 and B's seed 0 are the best; their
    verdict decides the prompt."""
    from judgekit.cli import main

    rows = []
    for p in range(6):
        for sa in (0, 1):
            for sb in (0, 1):
                if (sa, sb) == (1, 0):
                    w = "model_a" if p < 4 else "model_b"
                else:
                    w = "model_a" if sa == 1 else "model_b"
                rows.append({"sample_id": f"{p}-{sa}-{sb}", "prompt_id": f"p{p}", "rubric": "pairwise-t2i",
                             "status": "ok", "model_a": "m1", "model_b": "m2", "winner": w,
                             "meta": {"seed_a": sa, "seed_b": sb}, "provenance": {"kind": "pairwise"}})  # fmt: skip
    path = tmp_path / "pw.jsonl"
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    out = tmp_path / "S.json"
    assert main(["summary", str(path), "--over-seeds", "--out", str(out), "--n-boot", "200"]) == 0
    data = json.loads(out.read_text())
    assert data["m1"]["best_of_n_win_rate"]["m2"]["value"] == pytest.approx(4 / 6)
    assert data["m2"]["best_of_n_win_rate"]["m1"]["value"] == pytest.approx(2 / 6)
    for r in rows:
        r["meta"] = {}
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    assert main(["summary", str(path), "--over-seeds"]) == 2
    assert "seed_a" in capsys.readouterr().err


def test_pairwise_best_of_n_through_the_scripted_server(judge_server, tmp_path):
    """Real pairwise records (both orders judged and merged): every seed of m1 against every seed
    of m2 per prompt; the scripted judge prefers the image of higher hidden quality."""
    import base64

    import judgekit as jk
    from tests.fixtures_spine import write_png
    from tests.judge_server import Reply

    quality, rows = {}, []
    for p in range(6):
        q = {("m1", 0): 1, ("m1", 1): 5, ("m2", 0): 4 if p < 4 else 6, ("m2", 1): 2}
        files = {}
        for (m, s), v in q.items():
            f = write_png(tmp_path / "img" / f"{m}-{p}-{s}.png", seed=100 * p + 10 * s + (m == "m2"))
            quality[base64.b64encode(f.read_bytes()).decode()] = v
            files[(m, s)] = f.name
        for sa in (0, 1):
            for sb in (0, 1):
                rows.append({"id": f"{p}-{sa}-{sb}", "prompt": f"prompt {p}", "prompt_id": f"p{p}",
                             "image_a": f"img/{files[('m1', sa)]}", "image_b": f"img/{files[('m2', sb)]}",
                             "model_a": "m1", "model_b": "m2", "seed_a": sa, "seed_b": sb})  # fmt: skip
    man = tmp_path / "pairs.jsonl"
    man.write_text("".join(json.dumps(r) + "\n" for r in rows))

    def script(body, n):
        urls = [c["image_url"]["url"].split(",", 1)[1] for m in body["messages"] if isinstance(m["content"], list)
                for c in m["content"] if c.get("type") == "image_url"]  # fmt: skip
        first, second = (quality[u] for u in urls)
        return Reply(content=json.dumps({"reasoning": "compared", "winner": "A" if first > second else "B"}))

    judge_server.reset(script)
    res = jk.score("pairwise-t2i", str(man), backend="openai:judge", base_url=judge_server.url, cache=False)
    assert all(r.status == "ok" for r in res) and res[0].model_extra["winner"] in ("model_a", "model_b")
    s = res.summary(over="seeds", n_boot=200).to_dict()
    assert s["m1"]["best_of_n_win_rate"]["m2"]["value"] == pytest.approx(4 / 6)
    assert s["m2"]["best_of_n_win_rate"]["m1"]["value"] == pytest.approx(2 / 6)


def test_over_seeds_on_real_pointwise_results(judge_server, tmp_path):
    """Records as the runner writes them (the manifest's seed may or may not reach the record)."""
    import judgekit as jk
    from tests.fixtures_spine import write_png

    rows = []
    for m in ("sdxl", "flux"):
        for p in range(5):
            for s in range(3):
                f = write_png(tmp_path / "img" / f"{m}{p}{s}.png", seed=len(rows))
                rows.append({"id": f"{m}-{p}-{s}", "prompt": f"a red cube number {p}", "prompt_id": f"p{p}",
                             "image": f"img/{f.name}", "model": m, "seed": s})  # fmt: skip
    man = tmp_path / "m.jsonl"
    man.write_text("".join(json.dumps(r) + "\n" for r in rows))
    res = jk.score("viescore-t2i", str(man), backend="openai:judge", base_url=judge_server.url, cache=False)
    s = res.summary(over="seeds", n_boot=200)
    d = s.to_dict()
    assert set(d) == {"sdxl", "flux"} and d["sdxl"]["seeds_per_prompt"] == {"min": 3, "max": 3, "mean": 3.0}
    assert d["sdxl"]["variance_components"]["dimensions"] == 3
    assert "How many seeds" in str(s)


def test_one_prompt_is_a_clear_error(tmp_path):
    import judgekit as jk

    path = _records(tmp_path)
    keep = [x for x in path.read_text().splitlines() if '"prompt_id": "p0"' in x]
    path.write_text("\n".join(keep) + "\n")
    with pytest.raises(DataError, match="one prompt"):
        jk.load_results(path).summary(over="seeds")
