"""``judgekit metrics diversity|prdc|nearest`` end to end on small image sets with a tiny local
CLIP model and a random-weight AlexNet (per-prompt / per-image JSONL, failures on their rows)."""

from __future__ import annotations

import json

import numpy as np
import pytest

torch = pytest.importorskip("torch")
pytest.importorskip("transformers")
import judgekit.metrics as jm  # noqa: E402
from judgekit.cli import main  # noqa: E402
from tests.fixtures_metrics import random_images, write_png  # noqa: E402


@pytest.fixture
def seeds_manifest(tmp_path):
    """Two models x 3 prompts x 3 seeds: 'copycat' draws one image per prompt with faint noise,
    'varied' a different image per seed; one 'varied' image is missing on disk."""
    rng = np.random.RandomState(0)
    rows = []
    for p in range(3):
        base = random_images(1, 32, 32, seed=100 + p)[0]
        varied = random_images(3, 32, 32, seed=200 + p)
        for s in range(3):
            noisy = np.clip(base.astype(int) + rng.randint(-2, 3, base.shape), 0, 255).astype(np.uint8)
            write_png(tmp_path / "img" / f"copy_{p}_{s}.png", noisy)
            rows.append({"id": f"copy-p{p}-s{s}", "image": f"img/copy_{p}_{s}.png", "model": "copycat",
                         "prompt_id": f"p{p}", "seed": s})  # fmt: skip
            if (p, s) != (2, 2):
                write_png(tmp_path / "img" / f"var_{p}_{s}.png", varied[s])
            rows.append({"id": f"var-p{p}-s{s}", "image": f"img/var_{p}_{s}.png", "model": "varied",
                         "prompt_id": f"p{p}", "seed": s})  # fmt: skip
    man = tmp_path / "gen.jsonl"
    man.write_text("".join(json.dumps(r) + "\n" for r in rows))
    return man


def _lines(path):
    return [json.loads(x) for x in path.read_text().splitlines()]


def test_diversity_per_prompt_rows_summary_and_failures(
    seeds_manifest, tiny_clip_dir, random_alexnet, tmp_path, capsys
):
    out, summ = tmp_path / "div.jsonl", tmp_path / "div.json"
    rc = main(["metrics", "diversity", "--data", str(seeds_manifest), "--weights", str(tiny_clip_dir), "--lpips",
               "--lpips-weights", str(random_alexnet), "--device", "cpu", "--workers", "0", "--out", str(out),
               "--summary", str(summ), "--n-boot", "200"])  # fmt: skip
    assert rc == 0
    rows = {(r["model"], r["prompt_id"]): r for r in _lines(out)}
    assert len(rows) == 6
    for p in ("p0", "p1"):
        c, v = rows[("copycat", p)], rows[("varied", p)]
        assert c["status"] == v["status"] == "ok" and c["n_images"] == 3
        assert c["vendi"] < v["vendi"] and c["lpips_distance"] < v["lpips_distance"]
        assert c["score"] == c["vendi"]
    broken = rows[("varied", "p2")]
    assert broken["n_images"] == 2 and "var-p2-s2" in broken["failed_samples"]
    # the CLI's numbers are the library's on the same CLIP features
    from judgekit.metrics._clip_features import CLIPImageExtractor
    from judgekit.metrics.images import read_rgb

    ext = CLIPImageExtractor(tiny_clip_dir, device="cpu")
    imgs = torch.stack([torch.from_numpy(read_rgb(seeds_manifest.parent / f"img/var_0_{s}.png")).permute(2, 0, 1)
                        for s in range(3)])  # fmt: skip
    f = ext(imgs).numpy()
    assert rows[("varied", "p0")]["vendi"] == pytest.approx(jm.vendi_score(f), abs=1e-6)
    assert rows[("varied", "p0")]["cosine_distance"] == pytest.approx(
        jm.mean_pairwise_cosine_distance(f), abs=1e-6
    )
    s = json.loads(summ.read_text())
    assert set(s) == {"copycat", "varied"}
    for field in ("vendi", "cosine_distance", "lpips_distance"):
        v = s["varied"][field]
        assert set(v) >= {"value", "ci_low", "ci_high"} and v["ci_low"] <= v["value"] <= v["ci_high"]
    assert "1 images could not be read" in capsys.readouterr().err


def test_diversity_from_feature_file_and_single_seed_prompt(tmp_path):
    rows = [
        {"id": f"s{i}", "image": "x.png", "model": "m", "prompt_id": "a" if i < 3 else "b"} for i in range(4)
    ]
    man = tmp_path / "m.jsonl"
    man.write_text("".join(json.dumps(r) + "\n" for r in rows))
    feats = np.random.default_rng(0).normal(size=(4, 8))
    np.save(tmp_path / "f.npy", feats)
    out = tmp_path / "d.jsonl"
    assert main(["metrics", "diversity", "--data", str(man), "--feature-file", str(tmp_path / "f.npy"),
                 "--device", "cpu", "--out", str(out)]) == 0  # fmt: skip
    got = {r["prompt_id"]: r for r in _lines(out)}
    assert got["a"]["vendi"] == pytest.approx(jm.vendi_score(feats[:3]), abs=1e-9)
    assert got["b"]["status"] == "failed" and "at least 2" in got["b"]["error"]
    np.save(tmp_path / "short.npy", feats[:2])
    assert main(["metrics", "diversity", "--data", str(man), "--feature-file", str(tmp_path / "short.npy"),
                 "--device", "cpu", "--out", str(out)]) == 2  # fmt: skip


def test_prdc_from_feature_files_and_grouped_manifest(seeds_manifest, tiny_clip_dir, tmp_path, capsys):
    rng = np.random.default_rng(1)
    real, fake = rng.normal(size=(80, 6)), rng.normal(size=(60, 6)) + 0.5
    np.save(tmp_path / "real.npy", real)
    np.savez(tmp_path / "fake.npz", features=fake)
    out = tmp_path / "prdc.jsonl"
    assert main(["metrics", "prdc", "--real", str(tmp_path / "real.npy"), "--fake", str(tmp_path / "fake.npz"),
                 "--k", "3", "--device", "cpu", "--out", str(out)]) == 0  # fmt: skip
    (row,) = _lines(out)
    want = jm.prdc(real, fake, k=3, device="cpu")
    assert {k: row[k] for k in want} == want
    # images through the CLIP extractor, one result per model; the real set is a folder
    for i, img in enumerate(random_images(8, 32, 32, seed=7)):
        write_png(tmp_path / "real" / f"{i}.png", img)
    (seeds_manifest.parent / "img" / "var_2_2.png").write_bytes(b"not a png")
    rc = main(["metrics", "prdc", "--real", str(tmp_path / "real"), "--fake", str(seeds_manifest), "--k", "2",
               "--features", "clip", "--weights", str(tiny_clip_dir), "--group-by", "model", "--device", "cpu",
               "--workers", "0", "--out", str(out)])  # fmt: skip
    assert rc == 2 and "var_2_2.png" in capsys.readouterr().err  # a set metric refuses a bad file
    (seeds_manifest.parent / "img" / "var_2_2.png").unlink()
    write_png(seeds_manifest.parent / "img" / "var_2_2.png", random_images(1, 32, 32, seed=9)[0])
    assert main(["metrics", "prdc", "--real", str(tmp_path / "real"), "--fake", str(seeds_manifest), "--k", "2",
                 "--features", "clip", "--weights", str(tiny_clip_dir), "--group-by", "model", "--device", "cpu",
                 "--workers", "0", "--out", str(out)]) == 0  # fmt: skip
    got = {r["model"]: r for r in _lines(out)}
    assert set(got) == {"copycat", "varied"} and got["varied"]["n_fake"] == 9 and got["varied"]["n_real"] == 8
    assert got["varied"]["features"].startswith("clip:")


def test_nearest_flags_a_copied_training_image(seeds_manifest, tiny_clip_dir, tmp_path, capsys):
    import shutil

    train = tmp_path / "train"
    for i, img in enumerate(random_images(10, 32, 32, seed=50)):
        write_png(train / f"t{i}.png", img)
    shutil.copy(train / "t4.png", seeds_manifest.parent / "img" / "copy_1_0.png")  # a memorized image
    out = tmp_path / "nn.jsonl"
    assert main(["metrics", "nearest", "--data", str(seeds_manifest), "--reference", str(train),
                 "--weights", str(tiny_clip_dir), "--threshold", "0.9999", "--device", "cpu", "--workers", "0",
                 "--out", str(out)]) == 0  # fmt: skip
    rows = {r["sample_id"]: r for r in _lines(out)}
    assert len(rows) == 18
    hit = rows["copy-p1-s0"]
    assert (
        hit["flagged"]
        and hit["nearest"].endswith("t4.png")
        and hit["similarity"] == pytest.approx(1, abs=1e-6)
    )
    assert hit["score"] == hit["similarity"]
    assert rows["var-p2-s2"]["status"] == "failed" and rows["var-p2-s2"]["score"] is None
    assert sum(bool(r.get("flagged")) for r in rows.values()) == 1
    assert "FLAGGED copy-p1-s0" in capsys.readouterr().err


def test_bad_input_is_one_line_not_a_traceback(tmp_path, capsys):
    np.save(tmp_path / "few.npy", np.ones((3, 4)) + np.arange(3)[:, None])
    np.save(tmp_path / "many.npy", np.random.default_rng(0).normal(size=(20, 4)))
    rc = main(["metrics", "prdc", "--real", str(tmp_path / "few.npy"), "--fake", str(tmp_path / "many.npy"),
               "--k", "5", "--device", "cpu"])  # fmt: skip
    assert rc == 2 and "real set has 3 samples; k=5 needs more than k" in capsys.readouterr().err
    np.save(tmp_path / "bad.npy", np.ones((3, 5)))
    rc = main(["metrics", "prdc", "--real", str(tmp_path / "many.npy"), "--fake", str(tmp_path / "bad.npy"),
               "--k", "2", "--device", "cpu"])  # fmt: skip
    assert rc == 2 and "-d" in capsys.readouterr().err


@pytest.mark.slow
def test_diversity_and_prdc_on_inception_features(seeds_manifest, random_inception, tmp_path):
    """The Inception path (random weights, CPU: slow)."""
    weights, sha = random_inception
    out = tmp_path / "div.jsonl"
    assert main(["metrics", "diversity", "--data", str(seeds_manifest), "--features", "inception", "--weights",
                 str(weights), "--weights-sha256", sha, "--device", "cpu", "--workers", "0", "--out", str(out)]) == 0  # fmt: skip
    rows = _lines(out)
    assert len(rows) == 6 and all(r["features"] == "inception" for r in rows)
    ok = {(r["model"], r["prompt_id"]): r["vendi"] for r in rows if r["status"] == "ok"}
    assert ok[("copycat", "p0")] < ok[("varied", "p0")]


def test_prdc_on_precomputed_features_grouped_by_model(tmp_path, capsys):
    # Issue 18 item 30: --feature-file gives the rows of a --fake manifest, so --group-by works
    # without an extractor; each group's numbers equal prdc on that group's rows.
    rng = np.random.default_rng(3)
    real, fake = rng.normal(size=(40, 5)), rng.normal(size=(12, 5))
    models = ["a", "b", "a", "c", "b", "a", "c", "b", "a", "c", "b", "c"]
    man = tmp_path / "gen.jsonl"
    man.write_text("".join(json.dumps({"id": f"s{i}", "image": f"{i}.png", "model": m}) + "\n"
                           for i, m in enumerate(models)))
    np.save(tmp_path / "real.npy", real)
    np.save(tmp_path / "gen.npy", fake)
    out = tmp_path / "prdc.jsonl"
    assert main(["metrics", "prdc", "--real", str(tmp_path / "real.npy"), "--fake", str(man), "--feature-file",
                 str(tmp_path / "gen.npy"), "--group-by", "model", "--k", "2", "--device", "cpu",
                 "--out", str(out)]) == 0  # fmt: skip
    got = {r["model"]: r for r in _lines(out)}
    assert set(got) == {"a", "b", "c"}
    for m, row in got.items():
        want = jm.prdc(real, fake[[i for i, x in enumerate(models) if x == m]], k=2, device="cpu")
        assert {k: row[k] for k in want} == want and row["features"] == f"file:{tmp_path / 'gen.npy'}"
    np.save(tmp_path / "short.npy", fake[:5])
    assert main(["metrics", "prdc", "--real", str(tmp_path / "real.npy"), "--fake", str(man), "--feature-file",
                 str(tmp_path / "short.npy"), "--k", "2", "--device", "cpu"]) == 2  # fmt: skip
    assert "5 rows but" in capsys.readouterr().err

