"""FID and KID: our accumulation and distance against torchmetrics' and torch-fidelity's with the
same seeded random feature extractor; the Inception pipeline against torch-fidelity's forward;
bad inputs. No pretrained weights anywhere."""

from __future__ import annotations

import numpy as np
import pytest

from judgekit.errors import ConfigError, DataError
from tests.fixtures_metrics import random_images, write_png

torch = pytest.importorskip("torch")
tm_image = pytest.importorskip("torchmetrics.image")
import judgekit.metrics as jm  # noqa: E402


def _batches(arr: np.ndarray, bs: int = 16):
    t = torch.from_numpy(arr).permute(0, 3, 1, 2).contiguous()
    return [t[i : i + bs] for i in range(0, len(t), bs)]


@pytest.fixture(scope="module")
def two_sets():
    return random_images(96, 32, 32, seed=1), random_images(80, 32, 32, seed=2)


def test_fid_matches_torchmetrics_with_the_same_extractor(small_extractor, two_sets):
    real, fake = two_sets
    ours = jm.FID(feature_extractor=small_extractor, device="cpu")
    theirs = tm_image.FrechetInceptionDistance(feature=small_extractor)
    for b in _batches(real):
        ours.update(b, real=True)
        theirs.update(b, real=True)
    for b in _batches(fake, 7):  # uneven batches exercise the streaming merge
        ours.update(b, real=False)
        theirs.update(b, real=False)
    r = ours.compute()
    assert r.n_real == 96 and r.n_fake == 80
    assert r.value == pytest.approx(float(theirs.compute()), rel=1e-6)
    assert r.warning and "2048" in r.warning


def test_fid_function_on_tensors_equals_class(small_extractor, two_sets):
    real, fake = two_sets
    t = [torch.from_numpy(a).permute(0, 3, 1, 2) for a in two_sets]
    with pytest.warns(UserWarning, match="only 80 images"):
        r = jm.fid(t[0], t[1], feature_extractor=small_extractor, device="cpu")
    m = jm.FID(feature_extractor=small_extractor, device="cpu")
    m.update(t[0], True)
    m.update(t[1], False)
    assert r.value == pytest.approx(m.compute().value, rel=1e-12)


def test_kid_matches_torchmetrics_on_full_subsets(small_extractor, two_sets):
    # with subset_size = n every subset is a permutation, which MMD^2 does not see: both agree
    real, fake = two_sets
    fake = fake[:80]
    ours = jm.KID(feature_extractor=small_extractor, device="cpu", subsets=3, subset_size=80)
    theirs = tm_image.KernelInceptionDistance(feature=small_extractor, subsets=3, subset_size=80)
    for b in _batches(real[:80]):
        ours.update(b, real=True)
        theirs.update(b, real=True)
    for b in _batches(fake):
        ours.update(b, real=False)
        theirs.update(b, real=False)
    r = ours.compute()
    mean, _ = theirs.compute()
    assert r.mean == pytest.approx(float(mean), rel=1e-6)
    assert r.std == pytest.approx(0.0, abs=1e-12 + 1e-9 * abs(r.mean))


def test_kid_subsets_match_torch_fidelity():
    from torch_fidelity.metric_kid import kid_features_to_metric

    rs = np.random.RandomState(0)
    f1 = torch.from_numpy(rs.randn(120, 32))
    f2 = torch.from_numpy(rs.randn(100, 32) + 0.3)
    ref = kid_features_to_metric(
        f1, f2, kid_subsets=10, kid_subset_size=50, rng_seed=2020, verbose=False,
        kid_kernel="poly", kid_kernel_poly_degree=3, kid_kernel_poly_gamma=None, kid_kernel_poly_coef0=1,
    )  # fmt: skip
    r = jm.kid_from_features(f1, f2, subsets=10, subset_size=50, seed=2020)
    assert r.mean == pytest.approx(ref["kernel_inception_distance_mean"], rel=1e-6)
    assert r.std == pytest.approx(ref["kernel_inception_distance_std"], rel=1e-6)


def test_kid_of_identical_distributions_is_near_zero_and_subset_size_is_capped():
    rs = np.random.RandomState(1)
    f = rs.randn(60, 16)
    g = rs.randn(60, 16)
    with pytest.warns(UserWarning, match="subset_size 1000"):
        r = jm.kid_from_features(f, g, subsets=20)
    assert r.subset_size == 60 and abs(r.mean) < 0.05
    far = jm.kid_from_features(f, g + 3, subsets=5, subset_size=60)
    assert far.mean > 10 * abs(r.mean)


def test_streaming_stats_equal_numpy_cov():
    rs = np.random.RandomState(3)
    x = rs.randn(203, 12) * 50 + 1000  # a large offset: naive sum-of-squares would lose digits
    acc = jm.StatsAccumulator()
    for i in range(0, 203, 17):
        acc.update(torch.from_numpy(x[i : i + 17]))
    s = acc.stats()
    np.testing.assert_allclose(s.mu, x.mean(0), rtol=1e-12)
    np.testing.assert_allclose(s.sigma, np.cov(x, rowvar=False), rtol=1e-9, atol=1e-9)


def test_inception_tf_legacy_equals_torch_fidelity_forward(random_inception):
    path, sha = random_inception
    ext = jm.InceptionExtractor(path, sha256=sha, device="cpu")
    imgs = torch.from_numpy(random_images(2, 40, 56, seed=4)).permute(0, 3, 1, 2).contiguous()
    ours = ext(imgs)
    with torch.no_grad():
        theirs = ext.model(imgs)[0]
    assert ours.shape == (2, 2048)
    torch.testing.assert_close(ours, theirs, rtol=1e-5, atol=1e-5)
    # the worker-side path (per image) gives the same features as the batched one
    prepared = torch.stack([ext.prepare(a) for a in imgs.permute(0, 2, 3, 1).numpy()])
    torch.testing.assert_close(ext.features(prepared), ours, rtol=1e-5, atol=1e-5)
    # the GPU route (workers only decode, the batch is resized on the device), forced on the CPU
    from judgekit.metrics.extractors import to_chw_uint8

    ext.resize_on_device, ext.prepare = True, to_chw_uint8
    raw = [ext.prepare(a) for a in imgs.permute(0, 2, 3, 1).numpy()]
    torch.testing.assert_close(torch.cat(list(ext.features_of(raw))), ours, rtol=1e-5, atol=1e-5)


def test_clean_mode_resizes_with_pil_bicubic_on_floats(random_inception):
    from PIL import Image

    path, sha = random_inception
    ext = jm.InceptionExtractor(path, sha256=sha, device="cpu", mode="clean")
    img = random_images(1, 50, 70, seed=5)[0]
    x = ext.prepare(img)
    ch = Image.fromarray(img[:, :, 1].astype(np.float32)).resize((299, 299), Image.Resampling.BICUBIC)
    np.testing.assert_allclose(x[1].numpy(), np.clip(np.asarray(ch), 0, 255), rtol=0, atol=1e-4)
    assert not np.allclose(x.numpy(), np.round(x.numpy()))  # not quantized back to uint8


def test_fid_from_folders_with_workers_and_stats_file(random_inception, tmp_path, small_extractor):
    real = random_images(6, 24, 24, seed=6)
    fake = random_images(5, 24, 24, seed=7)
    for i, a in enumerate(real):
        write_png(tmp_path / "real" / f"{i}.png", a)
    for i, a in enumerate(fake):
        write_png(tmp_path / "fake" / "sub" / f"{i}.png", a)
    with pytest.warns(UserWarning):
        r = jm.fid(tmp_path / "real", tmp_path / "fake", feature_extractor=small_extractor, device="cpu",
                   num_workers=2, batch_size=4)  # fmt: skip
        t = jm.fid(torch.from_numpy(real).permute(0, 3, 1, 2), torch.from_numpy(fake).permute(0, 3, 1, 2),
                   feature_extractor=small_extractor, device="cpu")  # fmt: skip
    assert r.value == pytest.approx(t.value, rel=1e-6) and (r.n_real, r.n_fake) == (6, 5)
    # the real side as a pytorch-fid stats file gives the same number
    m = jm.FID(feature_extractor=small_extractor, device="cpu")
    m.add_images(tmp_path / "real", real=True, num_workers=0)
    stats = m.real_stats().save(tmp_path / "real.npz")
    with pytest.warns(UserWarning):
        s = jm.fid(stats, tmp_path / "fake", feature_extractor=small_extractor, device="cpu", num_workers=0)
    assert s.value == pytest.approx(r.value, rel=1e-6)


def test_fid_per_group(tmp_path, small_extractor):
    import json

    rows = []
    for i, a in enumerate(random_images(12, 24, 24, seed=8)):
        write_png(tmp_path / "img" / f"{i}.png", a)
        rows.append({"id": f"s{i}", "image": f"img/{i}.png", "model": "m1" if i % 3 else "m2"})
    for i, a in enumerate(random_images(8, 24, 24, seed=9)):
        write_png(tmp_path / "real" / f"{i}.png", a)
    man = tmp_path / "manifest.jsonl"
    man.write_text("\n".join(json.dumps(r) for r in rows))
    with pytest.warns(UserWarning):
        per = jm.fid_per_group(tmp_path / "real", man, group_by="model", feature_extractor=small_extractor,
                               device="cpu", num_workers=0)  # fmt: skip
        alone = jm.fid(tmp_path / "real", [tmp_path / "img" / f"{i}.png" for i in range(12) if i % 3 == 0],
                       feature_extractor=small_extractor, device="cpu", num_workers=0)  # fmt: skip
    assert sorted(per) == ["m1", "m2"] and per["m1"].n_fake == 8 and per["m2"].n_fake == 4
    assert per["m2"].value == pytest.approx(alone.value, rel=1e-6)


def test_mixed_sizes_with_a_fixed_size_extractor_name_the_files(tmp_path, small_extractor):
    write_png(tmp_path / "mixed" / "a.png", random_images(1, 32, 32)[0])
    write_png(tmp_path / "mixed" / "b.png", random_images(1, 40, 32)[0])
    with pytest.raises(DataError, match=r"a\.png and the next 1 files: images of different sizes"):
        jm.fid(
            tmp_path / "mixed",
            tmp_path / "mixed",
            feature_extractor=small_extractor,
            device="cpu",
            num_workers=0,
        )


def test_fewer_than_two_images_names_the_folder(tmp_path, small_extractor):
    write_png(tmp_path / "one" / "a.png", random_images(1)[0])
    for i, a in enumerate(random_images(3)):
        write_png(tmp_path / "ok" / f"{i}.png", a)
    with pytest.raises(DataError, match=r"one: FID needs at least 2 images, found 1"):
        jm.fid(tmp_path / "ok", tmp_path / "one", feature_extractor=small_extractor, device="cpu")


@pytest.mark.parametrize("mode", ["L", "RGBA", "LA"])
def test_non_rgb_image_is_refused_naming_the_file(tmp_path, small_extractor, mode):
    from PIL import Image

    for i, a in enumerate(random_images(3)):
        write_png(tmp_path / "set" / f"{i}.png", a)
    Image.new(mode, (32, 32)).save(tmp_path / "set" / "odd.png")
    with pytest.raises(DataError, match=rf"odd\.png: image mode {mode}"):
        jm.fid(
            tmp_path / "set", tmp_path / "set", feature_extractor=small_extractor, device="cpu", num_workers=0
        )


def test_missing_inception_weights_say_where_to_put_them(tmp_path, monkeypatch):
    monkeypatch.setenv("TORCH_HOME", str(tmp_path / "torch"))
    monkeypatch.delenv("JUDGEKIT_INCEPTION_WEIGHTS", raising=False)
    with pytest.raises(ConfigError) as exc:
        jm.InceptionExtractor(device="cpu")
    msg = str(exc.value)
    assert "weights-inception-2015-12-05-6726825d.pth" in msg and "never downloads" in msg
    assert str(tmp_path / "torch" / "hub" / "checkpoints") in msg
    with pytest.raises(ConfigError, match="nowhere.pth"):
        jm.InceptionExtractor(tmp_path / "nowhere.pth", device="cpu")


def test_wrong_weight_hash_is_refused_naming_the_file(random_inception):
    path, _ = random_inception
    with pytest.raises(DataError, match=rf"{path.name}: SHA-256 is [0-9a-f]{{64}}, expected 6726825d"):
        jm.InceptionExtractor(path, device="cpu")  # the official hash is the default


def test_weights_found_in_the_hub_cache(random_inception, tmp_path, monkeypatch):
    path, sha = random_inception
    hub = tmp_path / "th" / "hub" / "checkpoints"
    hub.mkdir(parents=True)
    (hub / "pt_inception-2015-12-05-6726825d.pth").symlink_to(path)  # pytorch-fid's name also accepted
    monkeypatch.setenv("TORCH_HOME", str(tmp_path / "th"))
    ext = jm.InceptionExtractor(sha256=sha, device="cpu")
    assert ext.weights.name.startswith("pt_inception")


def test_unknown_mode_is_a_config_error():
    with pytest.raises(ConfigError, match="resize mode"):
        jm.InceptionExtractor(mode="bicubic")


@pytest.mark.gpu
def test_cuda_features_match_cpu(random_inception):
    if not torch.cuda.is_available():
        pytest.skip("no CUDA")
    path, sha = random_inception
    imgs = torch.from_numpy(random_images(4, 64, 64, seed=10)).permute(0, 3, 1, 2).contiguous()
    cpu = jm.InceptionExtractor(path, sha256=sha, device="cpu")(imgs)
    gpu = jm.InceptionExtractor(path, sha256=sha, device="cuda")(imgs).cpu()
    torch.testing.assert_close(gpu, cpu, rtol=1e-3, atol=1e-3)


def test_manifest_sample_without_image_is_an_error_not_a_gap(tmp_path, small_extractor):
    import json

    for i, a in enumerate(random_images(3)):
        write_png(tmp_path / f"{i}.png", a)
    rows = [{"id": f"s{i}", "image": f"{i}.png"} for i in range(3)] + [{"id": "blank", "prompt": "x"}]
    (tmp_path / "m.jsonl").write_text("\n".join(json.dumps(r) for r in rows))
    with pytest.raises(DataError, match=r"m\.jsonl: sample 'blank' has no 'image'"):
        jm.fid(tmp_path / "m.jsonl", tmp_path / "m.jsonl", feature_extractor=small_extractor, device="cpu")
