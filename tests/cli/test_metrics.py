"""``judgekit metrics ...`` end to end on small image folders and manifests (worker processes,
per-image JSONL that ``calibrate`` reads, failures recorded per sample)."""

from __future__ import annotations

import json
import warnings

import numpy as np
import pytest

torch = pytest.importorskip("torch")
from judgekit.cli import main  # noqa: E402
from tests.fixtures_metrics import random_images, write_png  # noqa: E402


@pytest.fixture
def pairs(tmp_path):
    """A manifest of image/reference pairs: 3 good, one with a size mismatch, one RGBA, one
    without a reference, one missing file."""
    from PIL import Image

    imgs = random_images(4, 32, 32, seed=11)
    rows = []
    for i in range(3):
        write_png(tmp_path / "ref" / f"{i}.png", imgs[i])
        noisy = np.clip(imgs[i] + np.random.RandomState(i).randn(32, 32, 3) * 10, 0, 255).astype(np.uint8)
        write_png(tmp_path / "gen" / f"{i}.png", noisy)
        rows.append(
            {
                "id": f"s{i}",
                "image": f"gen/{i}.png",
                "reference": f"ref/{i}.png",
                "model": "m",
                "prompt_id": f"p{i}",
            }
        )
    write_png(tmp_path / "gen" / "big.png", random_images(1, 40, 32)[0])
    rows.append({"id": "size", "image": "gen/big.png", "reference": "ref/0.png"})
    Image.new("RGBA", (32, 32)).save(tmp_path / "gen" / "alpha.png")
    rows.append({"id": "alpha", "image": "gen/alpha.png", "reference": "ref/0.png"})
    rows.append({"id": "noref", "image": "gen/0.png"})
    rows.append({"id": "gone", "image": "gen/missing.png", "reference": "ref/0.png"})
    man = tmp_path / "pairs.jsonl"
    man.write_text("\n".join(json.dumps(r) for r in rows) + "\n")
    return man, imgs


def _rows(path):
    return {r["sample_id"]: r for r in map(json.loads, path.read_text().splitlines())}


@pytest.mark.parametrize("metric", ["ssim", "psnr"])
def test_pair_metrics_write_per_sample_rows(pairs, tmp_path, metric):
    import judgekit.metrics as jm
    from judgekit.metrics.images import read_rgb

    man, _ = pairs
    out = tmp_path / f"{metric}.jsonl"
    assert main(["metrics", metric, "--data", str(man), "--out", str(out), "--device", "cpu", "--workers", "2",
                 "--batch-size", "2"]) == 0  # fmt: skip
    rows = _rows(out)
    assert len(rows) == 7
    for i in range(3):
        a = torch.from_numpy(read_rgb(tmp_path / "gen" / f"{i}.png")).permute(2, 0, 1)
        b = torch.from_numpy(read_rgb(tmp_path / "ref" / f"{i}.png")).permute(2, 0, 1)
        expected = float(getattr(jm, metric)(a, b, data_range=255))
        assert rows[f"s{i}"]["score"] == pytest.approx(expected, rel=1e-12)
        assert rows[f"s{i}"]["status"] == "ok" and rows[f"s{i}"]["model"] == "m"
    assert (
        rows["size"]["status"] == "failed"
        and "big.png" in rows["size"]["error"]
        and "one size" in rows["size"]["error"]
    )
    assert rows["alpha"]["status"] == "failed" and "alpha.png: image mode RGBA" in rows["alpha"]["error"]
    assert rows["noref"]["error"] == "sample has no 'reference'"
    assert "missing.png" in rows["gone"]["error"]
    assert rows["s0"]["data_range"] == 255.0
    # Rows come in manifest order, failures (known before any score) included.
    order = [json.loads(line)["sample_id"] for line in out.read_text().splitlines()]
    assert order == ["s0", "s1", "s2", "size", "alpha", "noref", "gone"]


def test_output_feeds_calibrate_as_a_baseline(pairs, tmp_path):
    from judgekit.calibration.scores import load_scores

    man, _ = pairs
    out = tmp_path / "psnr.jsonl"
    main(["metrics", "psnr", "--data", str(man), "--out", str(out), "--device", "cpu", "--workers", "0"])
    scores = load_scores(str(out))
    assert scores.column == "score"
    vals = {r.sample_id: r.value for r in scores.rows}
    assert vals["s0"] is not None and vals["alpha"] is None


def test_lpips_cli(pairs, tmp_path, random_alexnet):
    import judgekit.metrics as jm
    from judgekit.metrics.images import read_rgb

    man, _ = pairs
    out = tmp_path / "lpips.jsonl"
    assert main(["metrics", "lpips", "--data", str(man), "--weights", str(random_alexnet), "--out", str(out),
                 "--device", "cpu", "--workers", "0"]) == 0  # fmt: skip
    rows = _rows(out)
    a = torch.from_numpy(read_rgb(tmp_path / "gen" / "1.png")).permute(2, 0, 1)[None].float() / 127.5 - 1
    b = torch.from_numpy(read_rgb(tmp_path / "ref" / "1.png")).permute(2, 0, 1)[None].float() / 127.5 - 1
    assert rows["s1"]["score"] == pytest.approx(
        float(jm.lpips(a, b, weights=random_alexnet, device="cpu")), rel=1e-5
    )
    assert rows["s1"]["net"] == "alex" and rows["size"]["status"] == "failed"


def test_clip_cli(tmp_path, tiny_clip_dir):
    import judgekit.metrics as jm

    imgs = random_images(3, 32, 32, seed=0)
    rows = []
    for i, a in enumerate(imgs):
        write_png(tmp_path / f"{i}.png", a)
        rows.append(
            {"id": f"c{i}", "image": f"{i}.png", "prompt": ["a photo of a cat", "the cat " * 30, "photo"][i]}
        )
    rows.append({"id": "noprompt", "image": "0.png"})
    man = tmp_path / "m.jsonl"
    man.write_text("\n".join(json.dumps(r) for r in rows))
    out = tmp_path / "clip.jsonl"
    assert main(["metrics", "clip", "--data", str(man), "--weights", str(tiny_clip_dir), "--scale", "100",
                 "--out", str(out), "--device", "cpu", "--workers", "0"]) == 0  # fmt: skip
    got = _rows(out)
    ref = jm.clip_score(
        list(imgs), [r["prompt"] for r in rows[:3]], model=tiny_clip_dir, scale=100, device="cpu"
    )
    for i in range(3):
        assert got[f"c{i}"]["score"] == pytest.approx(float(ref[i]), rel=1e-5, abs=1e-6)
        assert got[f"c{i}"]["model"] is None and got[f"c{i}"]["clip_model"] == tiny_clip_dir.name
        assert got[f"c{i}"]["scale"] == 100.0
    assert got["c1"]["truncated"] is True and got["noprompt"]["status"] == "failed"


def test_fid_cli_from_two_stats_files(tmp_path, capsys):
    import judgekit.metrics as jm

    rs = np.random.RandomState(0)
    a = jm.FeatureStats.from_features(rs.randn(300, 16)).save(tmp_path / "a.npz")
    b = jm.FeatureStats.from_features(rs.randn(200, 16) + 0.5).save(tmp_path / "b.npz")
    out = tmp_path / "fid.json"
    with pytest.warns(UserWarning, match="only 200 images"):
        assert (
            main(["metrics", "fid", "--real", str(a), "--fake", str(b), "--device", "cpu", "--out", str(out)])
            == 0
        )
    r = json.loads(out.read_text())
    sa, sb = jm.FeatureStats.load(a), jm.FeatureStats.load(b)
    assert r["value"] == pytest.approx(jm.frechet_distance(sa.mu, sa.sigma, sb.mu, sb.sigma), rel=1e-12)
    assert (r["n_real"], r["n_fake"]) == (300, 200)
    bad = tmp_path / "bad.npz"
    np.savez(bad, mu=np.zeros(3), sigma=np.eye(4))
    assert main(["metrics", "fid", "--real", str(a), "--fake", str(bad), "--device", "cpu"]) == 2
    assert "bad.npz" in capsys.readouterr().err


@pytest.mark.slow
def test_fid_cli_with_random_weights(tmp_path, random_inception, capsys):
    path, sha = random_inception
    for i, a in enumerate(random_images(3, 24, 24, seed=1)):
        write_png(tmp_path / "real" / f"{i}.png", a)
    for i, a in enumerate(random_images(3, 24, 24, seed=2)):
        write_png(tmp_path / "fake" / f"{i}.png", a)
    out = tmp_path / "fid.json"
    with pytest.warns(UserWarning):
        rc = main(["metrics", "fid", "--real", str(tmp_path / "real"), "--fake", str(tmp_path / "fake"),
                   "--weights", str(path), "--weights-sha256", sha, "--device", "cpu", "--workers", "0",
                   "--out", str(out), "--save-stats", str(tmp_path / "real.npz")])  # fmt: skip
    assert rc == 0
    r = json.loads(out.read_text())
    assert r["n_real"] == 3 and r["n_fake"] == 3 and r["mode"] == "tf-legacy" and r["value"] > 0
    assert "FID = " in capsys.readouterr().err
    with np.load(tmp_path / "real.npz") as f:
        assert f["mu"].shape == (2048,) and f["sigma"].shape == (2048, 2048) and int(f["n"]) == 3


@pytest.mark.slow
def test_fid_cli_saved_stats_reproduce_the_number(tmp_path, random_inception):
    path, sha = random_inception
    for i, a in enumerate(random_images(3, 24, 24, seed=1)):
        write_png(tmp_path / "real" / f"{i}.png", a)
    for i, a in enumerate(random_images(3, 24, 24, seed=2)):
        write_png(tmp_path / "fake" / f"{i}.png", a)
    out = tmp_path / "fid.json"
    with pytest.warns(UserWarning):
        main(["metrics", "fid", "--real", str(tmp_path / "real"), "--fake", str(tmp_path / "fake"),
              "--weights", str(path), "--weights-sha256", sha, "--device", "cpu", "--workers", "0",
              "--out", str(out), "--save-stats", str(tmp_path / "real.npz")])  # fmt: skip
    r = json.loads(out.read_text())
    with pytest.warns(UserWarning):
        main(["metrics", "fid", "--real", str(tmp_path / "real.npz"), "--fake", str(tmp_path / "fake"),
              "--weights", str(path), "--weights-sha256", sha, "--device", "cpu", "--workers", "0",
              "--out", str(out)])  # fmt: skip
    assert json.loads(out.read_text())["value"] == pytest.approx(r["value"], rel=1e-9)


def test_fid_cli_bad_hash_exits_2_naming_the_file(tmp_path, random_inception, capsys):
    path, _ = random_inception
    rc = main(["metrics", "fid", "--real", str(tmp_path), "--fake", str(tmp_path), "--weights", str(path),
               "--device", "cpu"])  # fmt: skip
    assert rc == 2
    assert f"{path}: SHA-256" in capsys.readouterr().err


@pytest.mark.slow
def test_kid_and_grouped_fid_cli(tmp_path, random_inception):
    path, sha = random_inception
    rows = []
    for i, a in enumerate(random_images(4, 24, 24, seed=1)):
        write_png(tmp_path / "real" / f"{i}.png", a)
    for i, a in enumerate(random_images(4, 24, 24, seed=2)):
        write_png(tmp_path / "gen" / f"{i}.png", a)
        rows.append({"id": f"g{i}", "image": f"gen/{i}.png", "model": "a" if i < 2 else "b"})
    man = tmp_path / "gen.jsonl"
    man.write_text("\n".join(json.dumps(r) for r in rows))
    w = ["--weights", str(path), "--weights-sha256", sha, "--device", "cpu", "--workers", "0"]
    out = tmp_path / "kid.json"
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        assert main(["metrics", "kid", "--real", str(tmp_path / "real"), "--fake", str(man), "--subsets", "5",
                     "--subset-size", "3", "--out", str(out), *w]) == 0  # fmt: skip
    assert not [w for w in caught if "subset_size" in str(w.message)]  # 3 <= n: no reduction
    k = json.loads(out.read_text())
    assert k["subset_size"] == 3 and k["n_real"] == 4 and k["n_fake"] == 4 and k["std"] >= 0
    out = tmp_path / "fid.jsonl"
    with pytest.warns(UserWarning):
        assert main(["metrics", "fid", "--real", str(tmp_path / "real"), "--fake", str(man), "--group-by", "model",
                     "--out", str(out), *w]) == 0  # fmt: skip
    per = [json.loads(x) for x in out.read_text().splitlines()]
    assert [(r["model"], r["n_fake"]) for r in per] == [("a", 2), ("b", 2)]


def test_group_by_with_save_stats_is_refused_before_any_work(tmp_path, capsys):
    # It used to write no file and say nothing; now one line, exit 2, before weights are looked for.
    (tmp_path / "real").mkdir()
    man = tmp_path / "gen.jsonl"
    man.write_text(json.dumps({"id": "a", "image": "x.png", "model": "m"}) + "\n")
    rc = main(["metrics", "fid", "--real", str(tmp_path / "real"), "--fake", str(man), "--group-by", "model",
               "--save-stats", str(tmp_path / "real.npz"), "--weights", str(tmp_path / "none.pth")])
    assert rc == 2 and "not supported with group_by" in capsys.readouterr().err
    assert not (tmp_path / "real.npz").exists()
