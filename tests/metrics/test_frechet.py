"""The Fréchet distance, feature statistics and stats files, checked against closed forms and
scipy.linalg.sqrtm (no torch model needed)."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.linalg

from judgekit.errors import DataError
from judgekit.metrics import FeatureStats, ReferenceStats, frechet_distance


def _spd(rs: np.random.RandomState, d: int, rank: int | None = None) -> np.ndarray:
    a = rs.randn(d, rank or 2 * d)
    return a @ a.T / a.shape[1]


def _sqrtm_fid(mu1, s1, mu2, s2) -> float:
    covmean = scipy.linalg.sqrtm(s1 @ s2)
    covmean = np.real(covmean)
    diff = mu1 - mu2
    return float(diff @ diff + np.trace(s1) + np.trace(s2) - 2 * np.trace(covmean))


@pytest.mark.parametrize("d", [2, 16, 128])
def test_matches_scipy_sqrtm_on_random_spd(d):
    rs = np.random.RandomState(d)
    mu1, mu2 = rs.randn(d), rs.randn(d)
    s1, s2 = _spd(rs, d), _spd(rs, d)
    assert frechet_distance(mu1, s1, mu2, s2) == pytest.approx(_sqrtm_fid(mu1, s1, mu2, s2), rel=1e-8)


def test_rank_deficient_covariances_still_match_sqrtm():
    # fewer samples than dimensions: singular covariances (the N < 2048 case)
    rs = np.random.RandomState(1)
    s1, s2 = _spd(rs, 40, rank=10), _spd(rs, 40, rank=12)
    mu = rs.randn(40)
    assert frechet_distance(mu, s1, mu, s2) == pytest.approx(_sqrtm_fid(mu, s1, mu, s2), rel=1e-6)


def test_equal_covariances_give_squared_mean_distance():
    rs = np.random.RandomState(2)
    s = _spd(rs, 20)
    mu1, mu2 = rs.randn(20), rs.randn(20)
    assert frechet_distance(mu1, s, mu2, s) == pytest.approx(float(np.sum((mu1 - mu2) ** 2)), rel=1e-9)


def test_identical_statistics_give_zero():
    rs = np.random.RandomState(3)
    s, mu = _spd(rs, 64), rs.randn(64)
    assert frechet_distance(mu, s, mu, s) == pytest.approx(0.0, abs=1e-9)
    assert frechet_distance(mu, s, mu, s) >= 0.0


def test_diagonal_covariances_closed_form():
    rs = np.random.RandomState(4)
    a, b = rs.uniform(0.1, 3, 30), rs.uniform(0.1, 3, 30)
    mu1, mu2 = rs.randn(30), rs.randn(30)
    expected = np.sum((mu1 - mu2) ** 2) + a.sum() + b.sum() - 2 * np.sum(np.sqrt(a * b))
    assert frechet_distance(mu1, np.diag(a), mu2, np.diag(b)) == pytest.approx(expected, rel=1e-10)


def test_reference_caches_its_square_root_and_agrees():
    rs = np.random.RandomState(5)
    s1, s2, s3 = _spd(rs, 32), _spd(rs, 32), _spd(rs, 32)
    mu = rs.randn(3, 32)
    ref = ReferenceStats(mu[0], s1, n=10)
    first = ref.sqrt_sigma
    assert ref.distance(mu[1], s2) == pytest.approx(frechet_distance(mu[0], s1, mu[1], s2), rel=1e-12)
    assert ref.distance(mu[2], s3) == pytest.approx(frechet_distance(mu[0], s1, mu[2], s3), rel=1e-12)
    assert ref.sqrt_sigma is first


def test_dimension_mismatch_is_an_error():
    with pytest.raises(ValueError, match="dimensions differ"):
        frechet_distance(np.zeros(2), np.eye(2), np.zeros(3), np.eye(3))


def test_stats_file_roundtrip_and_pytorch_fid_format(tmp_path):
    rs = np.random.RandomState(6)
    feats = rs.randn(50, 8)
    st = FeatureStats.from_features(feats, mode="tf-legacy")
    assert st.n == 50 and np.allclose(st.sigma, np.cov(feats, rowvar=False))
    p = st.save(tmp_path / "ref.npz")
    back = FeatureStats.load(p)
    assert back.n == 50 and back.mode == "tf-legacy"
    np.testing.assert_array_equal(back.mu, st.mu)
    # what pytorch-fid writes: only mu and sigma (float32 is common)
    np.savez_compressed(tmp_path / "pf.npz", mu=st.mu.astype(np.float32), sigma=st.sigma.astype(np.float32))
    pf = FeatureStats.load(tmp_path / "pf.npz")
    assert pf.n is None and pf.mu.dtype == np.float64
    # and what pytorch-fid reads from ours
    with np.load(p) as f:
        assert f["mu"].shape == (8,) and f["sigma"].shape == (8, 8)


@pytest.mark.parametrize(
    "arrays, message",
    [
        ({"mu": np.zeros(4), "sigma": np.eye(3)}, "shape"),
        ({"mu": np.zeros((4, 1)), "sigma": np.eye(4)}, "shape"),
        ({"m": np.zeros(4), "sigma": np.eye(4)}, "'mu' and 'sigma'"),
        ({"mu": np.full(2, np.nan), "sigma": np.eye(2)}, "NaN"),
    ],
)
def test_bad_stats_files_name_the_file(tmp_path, arrays, message):
    p = tmp_path / "bad-stats.npz"
    np.savez(p, **arrays)
    with pytest.raises(DataError, match=message) as exc:
        FeatureStats.load(p)
    assert "bad-stats.npz" in str(exc.value)


def test_stats_of_the_wrong_dimension_name_the_file(tmp_path):
    p = FeatureStats(np.zeros(64), np.eye(64)).save(tmp_path / "small.npz")
    with pytest.raises(DataError, match=r"small\.npz.*64-d.*2048-d"):
        FeatureStats.load(p, dim=2048)


def test_stats_file_not_npz(tmp_path):
    p = tmp_path / "junk.npz"
    p.write_text("not a zip")
    with pytest.raises(DataError, match="junk.npz"):
        FeatureStats.load(p)


def test_fid_of_pytorch_fid_stats_files_without_n(tmp_path, recwarn):
    import judgekit.metrics as jm

    rs = np.random.RandomState(7)
    for name, shift in (("a", 0.0), ("b", 0.3)):
        f = rs.randn(100, 6) + shift
        np.savez(tmp_path / f"{name}.npz", mu=f.mean(0), sigma=np.cov(f, rowvar=False))
    r = jm.fid(tmp_path / "a.npz", tmp_path / "b.npz")
    a, b = jm.FeatureStats.load(tmp_path / "a.npz"), jm.FeatureStats.load(tmp_path / "b.npz")
    assert r.value == pytest.approx(frechet_distance(a.mu, a.sigma, b.mu, b.sigma), rel=1e-12)
    assert r.n_real is None and r.n_fake is None and r.warning is None and not recwarn.list
