"""SSIM, PSNR and MSE against scikit-image (its camera image with the noise recipe of the notes),
per-image batching, and bad input."""

from __future__ import annotations

import numpy as np
import pytest

torch = pytest.importorskip("torch")
skm = pytest.importorskip("skimage.metrics")
import judgekit.metrics as jm  # noqa: E402

# Reference values from ../shared/notes/metrics.md (scikit-image's camera image)
SSIM_SKIMAGE_DEFAULT = 0.3674518327910367
SSIM_GAUSSIAN_POPULATION_3DP = 0.3580
PSNR_NOTES = 22.409353363576034


@pytest.fixture(scope="module")
def camera_pair():
    from skimage import data

    cam = data.camera()
    noisy = np.clip(cam + 20 * np.random.RandomState(5).randn(*cam.shape), 0, 255).astype(np.uint8)
    return cam, noisy


def test_ssim_skimage_preset_reproduces_the_oracle(camera_pair):
    cam, noisy = camera_pair
    v = float(jm.ssim(torch.from_numpy(noisy), torch.from_numpy(cam), data_range=255, preset="skimage"))
    assert v == pytest.approx(SSIM_SKIMAGE_DEFAULT, abs=1e-6)
    assert v == pytest.approx(skm.structural_similarity(cam, noisy, data_range=255), abs=1e-12)


def test_ssim_wang_default_matches_skimage_gaussian_population(camera_pair):
    cam, noisy = camera_pair
    v = float(jm.ssim(torch.from_numpy(noisy), torch.from_numpy(cam), data_range=255))
    assert round(v, 4) == SSIM_GAUSSIAN_POPULATION_3DP
    ref = skm.structural_similarity(
        cam, noisy, data_range=255, gaussian_weights=True, sigma=1.5, use_sample_covariance=False
    )
    assert v == pytest.approx(ref, abs=1e-12)


def test_psnr_reproduces_the_oracle(camera_pair):
    cam, noisy = camera_pair
    v = float(jm.psnr(torch.from_numpy(noisy), torch.from_numpy(cam), data_range=255))
    assert v == pytest.approx(PSNR_NOTES, abs=1e-6)
    assert v == pytest.approx(skm.peak_signal_noise_ratio(cam, noisy, data_range=255), abs=1e-12)
    assert float(jm.mse(torch.from_numpy(noisy), torch.from_numpy(cam))) == pytest.approx(
        skm.mean_squared_error(cam, noisy), rel=1e-12
    )


def test_colour_batches_give_one_score_per_image_matching_skimage():
    rs = np.random.RandomState(0)
    a = rs.randint(0, 256, (3, 40, 48, 3)).astype(np.uint8)
    b = np.clip(a + rs.randn(*a.shape) * 15, 0, 255).astype(np.uint8)
    ta, tb = (torch.from_numpy(x).permute(0, 3, 1, 2) for x in (a, b))
    s = jm.ssim(ta, tb, data_range=255)
    p = jm.psnr(ta, tb, data_range=255)
    assert s.shape == (3,) and p.shape == (3,)
    for i in range(3):
        ref = skm.structural_similarity(a[i], b[i], data_range=255, channel_axis=2, gaussian_weights=True,
                                        sigma=1.5, use_sample_covariance=False)  # fmt: skip
        assert float(s[i]) == pytest.approx(ref, abs=1e-12)
        assert float(p[i]) == pytest.approx(
            skm.peak_signal_noise_ratio(a[i], b[i], data_range=255), abs=1e-10
        )
    # per-image PSNR is not the PSNR of the pooled batch
    pooled = 10 * np.log10(255**2 / np.mean((a.astype(float) - b) ** 2))
    assert float(p.mean()) != pytest.approx(pooled, abs=1e-9)


def test_accumulating_classes():
    rs = np.random.RandomState(1)
    a = torch.from_numpy(rs.rand(5, 3, 16, 16))
    b = torch.from_numpy(rs.rand(5, 3, 16, 16))
    m = jm.SSIM(data_range=1.0)
    m.update(a[:2], b[:2])
    m.update(a[2:], b[2:])
    assert m.scores.shape == (5,)
    assert m.compute() == pytest.approx(float(jm.ssim(a, b, data_range=1.0).mean()), rel=1e-12)
    p = jm.PSNR(data_range=1.0)
    p.update(a, b)
    assert p.compute() == pytest.approx(float(jm.psnr(a, b, data_range=1.0).mean()), rel=1e-12)


def test_identical_images():
    x = torch.rand(2, 3, 16, 16, dtype=torch.float64)
    assert torch.allclose(jm.ssim(x, x, data_range=1.0), torch.ones(2, dtype=torch.float64))
    assert torch.isinf(jm.psnr(x, x, data_range=1.0)).all()


def test_data_range_is_required_and_positive():
    x = torch.rand(1, 3, 16, 16)
    with pytest.raises(TypeError):
        jm.ssim(x, x)  # type: ignore[call-arg]
    with pytest.raises(TypeError):
        jm.psnr(x, x)  # type: ignore[call-arg]
    with pytest.raises(ValueError, match="data_range"):
        jm.psnr(x, x, data_range=0)


def test_different_sizes_in_a_pair_are_refused():
    with pytest.raises(ValueError, match=r"differ in shape: \(1, 3, 16, 16\) vs \(1, 3, 16, 17\)"):
        jm.ssim(torch.rand(1, 3, 16, 16), torch.rand(1, 3, 16, 17), data_range=1.0)
    with pytest.raises(ValueError, match="smaller than the 11 x 11"):
        jm.ssim(torch.rand(1, 3, 8, 8), torch.rand(1, 3, 8, 8), data_range=1.0)


@pytest.mark.gpu
def test_cuda_matches_cpu():
    if not torch.cuda.is_available():
        pytest.skip("no CUDA")
    rs = np.random.RandomState(2)
    a = torch.from_numpy(rs.randint(0, 256, (4, 3, 64, 64)).astype(np.uint8))
    b = torch.from_numpy(rs.randint(0, 256, (4, 3, 64, 64)).astype(np.uint8))
    for f in (jm.ssim, jm.psnr):
        cpu = f(a, b, data_range=255)
        gpu = f(a.cuda(), b.cuda(), data_range=255).cpu()
        torch.testing.assert_close(gpu, cpu, rtol=1e-10, atol=1e-10)
