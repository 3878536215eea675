"""Vendi, PRDC, nearest-neighbour search and per-prompt diversity against independent
implementations (the ``vendi-score`` and ``prdc`` packages, and brute-force numpy written here)
on seeded random features."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

torch = pytest.importorskip("torch")
import judgekit.metrics as jm  # noqa: E402


def _feats(n, d, seed):
    return np.random.default_rng(seed).normal(size=(n, d))


# --- Vendi -------------------------------------------------------------------------------------


@pytest.mark.parametrize("n,d", [(7, 32), (50, 8), (200, 16)])
def test_vendi_cosine_matches_vendi_score_package(n, d):
    vendi = pytest.importorskip("vendi_score.vendi")
    x = _feats(n, d, seed=n)
    assert jm.vendi_score(x) == pytest.approx(vendi.score_X(x), abs=1e-6)


def test_vendi_rbf_and_precomputed_match_package():
    vendi = pytest.importorskip("vendi_score.vendi")
    x = _feats(40, 6, 1)
    d2 = ((x[:, None] - x[None]) ** 2).sum(-1)
    k = np.exp(-d2 / (2 * 1.7**2))
    assert jm.vendi_score(x, "rbf", bandwidth=1.7) == pytest.approx(vendi.score_K(k), abs=1e-6)
    assert jm.vendi_score(k, "precomputed") == pytest.approx(vendi.score_K(k), abs=1e-6)


def test_vendi_limits_and_torch_input():
    assert jm.vendi_score(np.tile([[1.0, 2.0, 3.0]], (5, 1))) == pytest.approx(1.0)
    assert jm.vendi_score(np.eye(6)) == pytest.approx(6.0)
    # two clusters of identical points: an effective number of 2
    x = np.vstack([np.tile([1.0, 0.0], (4, 1)), np.tile([0.0, 1.0], (4, 1))])
    assert jm.vendi_score(torch.tensor(x)) == pytest.approx(2.0)


def test_vendi_accumulates_and_refuses_bad_input():
    x = _feats(30, 5, 2)
    v = jm.VendiScore()
    v.update(x[:10])
    v.update(torch.tensor(x[10:]))
    assert v.compute() == pytest.approx(jm.vendi_score(x), abs=1e-12)
    with pytest.raises(ValueError, match="all zeros"):
        jm.vendi_score(np.zeros((3, 4)))
    with pytest.raises(ValueError, match="unknown Vendi kernel"):
        jm.vendi_score(x, "linear")
    with pytest.raises(ValueError, match="normalise it"):
        jm.vendi_score(2 * np.eye(3), "precomputed")


# --- PRDC --------------------------------------------------------------------------------------


def brute_prdc(real, fake, k):
    """The four definitions written out with loops over samples (closed balls)."""

    def dist(a, b):
        return float(np.sqrt(((a - b) ** 2).sum()))

    def radius(x, i):
        return sorted(dist(x[i], x[j]) for j in range(len(x)) if j != i)[k - 1]

    rr = [radius(real, i) for i in range(len(real))]
    rf = [radius(fake, j) for j in range(len(fake))]
    d = [[dist(r, f) for f in fake] for r in real]
    n, m = len(real), len(fake)
    precision = np.mean([any(d[i][j] <= rr[i] for i in range(n)) for j in range(m)])
    recall = np.mean([any(d[i][j] <= rf[j] for j in range(m)) for i in range(n)])
    density = np.mean([sum(d[i][j] <= rr[i] for i in range(n)) for j in range(m)]) / k
    coverage = np.mean([min(d[i]) <= rr[i] for i in range(n)])
    return {"precision": precision, "recall": recall, "density": density, "coverage": coverage}


@pytest.mark.parametrize("k", [1, 3, 5])
def test_prdc_matches_brute_force(k):
    real = _feats(60, 4, 10)
    fake = _feats(45, 4, 11) * 1.3 + 0.4  # shifted and wider: none of the four is trivially 1
    got = jm.prdc(real, fake, k=k, device="cpu")
    want = brute_prdc(real, fake, k)
    for name in want:
        assert got[name] == pytest.approx(want[name], abs=1e-6), name
    assert 0 < got["precision"] < 1 and 0 < got["coverage"] < 1
    assert (got["k"], got["n_real"], got["n_fake"]) == (k, 60, 45)


def test_prdc_matches_prdc_package_and_blocks_do_not_change_it(monkeypatch, capsys):
    pkg = pytest.importorskip("prdc")
    real = _feats(300, 16, 20).astype(np.float32)
    fake = (_feats(250, 16, 21) * 0.8 + 0.3).astype(np.float32)
    want = pkg.compute_prdc(real, fake, nearest_k=5)
    got = jm.prdc(real, fake, k=5, device="cpu")
    for name in ("precision", "recall", "density", "coverage"):
        assert got[name] == pytest.approx(float(want[name]), abs=1e-6), name
    import judgekit.metrics._prdc as mod

    monkeypatch.setattr(mod, "_BLOCK_ELEMENTS", 1000)  # many small blocks
    again = jm.prdc(real, fake, k=5, device="cpu")
    assert again == got


def test_prdc_accumulating_class_and_errors():
    real, fake = _feats(40, 3, 1), _feats(30, 3, 2)
    m = jm.PRDC(k=3, device="cpu")
    m.update_features(real[:20], real=True)
    m.update_features(torch.tensor(real[20:]), real=True)
    m.update_features(fake, real=False)
    assert m.compute() == jm.prdc(real, fake, k=3, device="cpu")
    with pytest.raises(ValueError, match="needs more than k"):
        jm.prdc(real[:3], fake, k=3, device="cpu")
    with pytest.raises(ValueError, match="-d"):
        jm.prdc(real, fake[:, :2], device="cpu")


# --- nearest neighbours ------------------------------------------------------------------------


def brute_nearest(q, ref, k, metric):
    out_i, out_v = [], []
    for row in q:
        if metric == "cosine":
            s = [float(row @ r / np.linalg.norm(row) / np.linalg.norm(r)) for r in ref]
            order = sorted(range(len(ref)), key=lambda j: -s[j])
        else:
            s = [float(np.linalg.norm(row - r)) for r in ref]
            order = sorted(range(len(ref)), key=lambda j: s[j])
        out_i.append(order[:k])
        out_v.append([s[j] for j in order[:k]])
    return np.array(out_i), np.array(out_v)


@pytest.mark.parametrize("metric", ["cosine", "l2"])
def test_nearest_matches_brute_force_across_blocks(metric):
    ref, q = _feats(500, 12, 30), _feats(37, 12, 31)
    want_i, want_v = brute_nearest(q, ref, 3, metric)
    # small query batches and reference blocks: the running top-k across blocks is exercised
    got = jm.nearest_neighbours(q, ref, k=3, metric=metric, device="cpu", dtype="float64",
                                query_batch=8, reference_block=64)  # fmt: skip
    np.testing.assert_array_equal(got.index.numpy(), want_i)
    np.testing.assert_allclose(got.value.numpy(), want_v, atol=1e-9)
    f32 = jm.nearest_neighbours(q, ref, k=3, metric=metric, device="cpu")
    np.testing.assert_array_equal(f32.index.numpy(), want_i)
    np.testing.assert_allclose(f32.value.numpy(), want_v, atol=1e-5)


def test_memorization_flags_copies_only():
    ref = _feats(200, 10, 40)
    q = _feats(20, 10, 41)
    q[3] = ref[17]  # an exact copy
    q[8] = ref[99] + 1e-3  # a near copy
    rows = jm.memorization(q, ref, device="cpu")
    assert [i for i, r in enumerate(rows) if r["flagged"]] == [3, 8]
    assert rows[3]["nearest"] == 17 and rows[3]["similarity"] == pytest.approx(1.0, abs=1e-6)
    assert rows[8]["nearest"] == 99
    l2 = jm.memorization(q, ref, metric="l2", threshold=0.01, device="cpu")
    assert [i for i, r in enumerate(l2) if r["flagged"]] == [3, 8] and "distance" in l2[0]
    acc = jm.NearestNeighbour(device="cpu")
    acc.add_reference(ref[:100])
    acc.add_reference(ref[100:])
    acc.update(q)
    assert acc.compute() == rows
    with pytest.raises(ValueError, match="no default threshold"):
        jm.memorization(q, ref, metric="l2")


# --- per-prompt diversity ----------------------------------------------------------------------


def test_per_prompt_diversity_against_loops_and_summary_ci():
    rng = np.random.default_rng(5)
    feats, prompts, models = [], [], []
    for model, spread in (("narrow", 0.05), ("wide", 1.0)):
        for p in range(12):
            centre = rng.normal(size=8)
            for _ in range(4):
                feats.append(centre + spread * rng.normal(size=8))
                prompts.append(f"p{p}")
                models.append(model)
    feats.append(rng.normal(size=8))  # a prompt with a single seed
    prompts.append("lonely")
    models.append("wide")
    x = np.array(feats)
    rows = jm.per_prompt_diversity(x, prompts, models)
    assert len(rows) == 25
    r0 = rows[0]
    f = x[:4]
    want = np.mean([1 - f[i] @ f[j] / np.linalg.norm(f[i]) / np.linalg.norm(f[j])
                    for i, j in itertools.combinations(range(4), 2)])  # fmt: skip
    assert r0["cosine_distance"] == pytest.approx(want, abs=1e-12)
    vendi = pytest.importorskip("vendi_score.vendi")
    assert r0["vendi"] == pytest.approx(vendi.score_X(f), abs=1e-6)
    lonely = [r for r in rows if r["prompt_id"] == "lonely"][0]
    assert lonely["vendi"] is None and "2 seeds" in lonely["note"]
    s = jm.diversity_summary(rows)
    assert s["narrow"]["vendi"]["ci_high"] < s["wide"]["vendi"]["ci_low"]
    assert s["wide"]["vendi"]["n_prompts"] == 12 and s["wide"]["n_prompts"] == 13
    v = s["wide"]["cosine_distance"]
    assert v["ci_low"] <= v["value"] <= v["ci_high"]
    acc = jm.Diversity()
    acc.update(x[:50], prompts[:50], models[:50])
    acc.update(x[50:], prompts[50:], models[50:])
    assert acc.per_prompt() == rows


def test_mean_pairwise_lpips_is_the_mean_over_pairs(random_alexnet):
    from tests.fixtures_metrics import random_images

    imgs = torch.from_numpy(random_images(4, 32, 32, seed=3)).permute(0, 3, 1, 2).contiguous()
    got = jm.mean_pairwise_lpips(imgs, weights=random_alexnet, device="cpu", batch_size=4)
    x = imgs.float() / 127.5 - 1
    pairs = list(itertools.combinations(range(4), 2))
    want = np.mean([float(jm.lpips(x[i : i + 1], x[j : j + 1], weights=random_alexnet, device="cpu")[0])
                    for i, j in pairs])  # fmt: skip
    assert got == pytest.approx(want, rel=1e-5)
    same = imgs[:1].repeat(3, 1, 1, 1)
    assert jm.mean_pairwise_lpips(same, weights=random_alexnet, device="cpu") == pytest.approx(0.0, abs=1e-6)
