"""Reference-based edit metrics: unedited-region MSE/PSNR exact on the pixels outside the mask,
SSIM/LPIPS on blanked images, reference columns, CLIP directional similarity against a direct
transformers computation, and per-sample failures kept as rows."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest
from PIL import Image

import judgekit as jk
from judgekit.cli import main
from judgekit.editing.metrics import EditMetrics, edit_metrics, save_records

pytest.importorskip("torch")


def _save(path, arr, mode="RGB"):
    Image.fromarray(arr, mode).save(path)
    return str(path)


@pytest.fixture
def pair(tmp_path):
    rng = np.random.default_rng(0)
    src = rng.integers(0, 256, (64, 64, 3), dtype=np.uint8)
    mask = np.zeros((64, 64), np.uint8)
    mask[16:40, 20:48] = 255
    edit = src.copy()
    edit[mask > 0] = 255 - edit[mask > 0]  # the edit itself: ignored by the unedited metrics
    noise = rng.integers(-6, 7, (64, 64, 3))
    edit_noisy = np.clip(edit.astype(int) + noise * (mask[:, :, None] == 0), 0, 255).astype(np.uint8)
    paths = {"source_image": _save(tmp_path / "src.png", src), "mask": _save(tmp_path / "mask.png", mask, "L"),
             "image": _save(tmp_path / "edit.png", edit_noisy), "clean": _save(tmp_path / "clean.png", edit)}
    return src, mask, edit_noisy, paths


def _sample(paths, **kw):
    d = {"id": "s", "prompt_id": "p", "model": "m", "source_image": paths["source_image"], "mask": paths["mask"],
         "image": paths["image"], **kw}
    return jk.load_samples([d])[0]


def test_unedited_mse_and_psnr_are_exact_outside_the_mask(pair):
    src, mask, edit, paths = pair
    rec = edit_metrics([_sample(paths)], ["psnr", "ssim"])[0]
    keep = mask == 0
    want = ((edit.astype(float) - src.astype(float))[keep] ** 2).mean()
    assert rec["mse_unedited"] == pytest.approx(want, rel=1e-12)
    assert rec["psnr_unedited"] == pytest.approx(10 * math.log10(255**2 / want), rel=1e-12)
    assert 0 < rec["ssim_unedited"] < 1 and "errors" not in rec


def test_ssim_on_blanked_images_matches_scikit_image(pair):
    skm = pytest.importorskip("skimage.metrics")
    src, mask, edit, paths = pair
    rec = edit_metrics([_sample(paths)], ["ssim"])[0]
    keep = (mask == 0)[:, :, None]
    want = skm.structural_similarity(edit * keep, src * keep, data_range=255, channel_axis=2, gaussian_weights=True,
                                     sigma=1.5, use_sample_covariance=False)
    assert rec["ssim_unedited"] == pytest.approx(want, abs=1e-6)


def test_untouched_region_gives_mse_zero_and_a_null_psnr(pair, tmp_path):
    _, _, _, paths = pair
    recs = edit_metrics([_sample(paths, image=paths["clean"])], ["psnr", "ssim"])
    assert recs[0]["mse_unedited"] == 0.0 and recs[0]["psnr_unedited"] == math.inf
    assert recs[0]["ssim_unedited"] == pytest.approx(1.0)
    out = tmp_path / "m.jsonl"
    save_records(recs, out)
    row = json.loads(out.read_text())
    assert row["psnr_unedited"] is None and "psnr_unedited: inf (identical pixels)" in row["notes"]
    assert "Infinity" not in out.read_text()


def test_reference_columns_resizing_and_failures(pair, tmp_path):
    src, _, edit, paths = pair
    big = np.asarray(Image.fromarray(edit).resize((128, 128), Image.LANCZOS))
    paths_big = dict(paths, image=_save(tmp_path / "big.png", big))
    s_ref = _sample(paths_big, reference_image=paths["clean"])
    s_missing = _sample(paths, id="gone", image=str(tmp_path / "nope.png"))
    s_nomask = _sample(paths, id="nomask", mask=None)
    rec, miss, nomask = edit_metrics([s_ref, s_missing, s_nomask], ["psnr"])
    assert "edit resized to the source's size" in rec["notes"]
    assert rec["psnr_reference"] > 0 and rec["mse_reference"] > 0
    assert miss["sample_id"] == "gone" and miss["mse_unedited"] is None and miss["psnr_unedited"] is None
    assert "nope.png" in miss["errors"]["all"]
    want = ((edit.astype(float) - src.astype(float)) ** 2).mean()
    assert nomask["mse_unedited"] == pytest.approx(want) and "no mask: unedited = the whole image" in nomask["notes"]


def test_lpips_unedited(pair, random_alexnet):
    _, _, _, paths = pair
    m = EditMetrics(["lpips"], lpips_weights=random_alexnet, device="cpu")
    clean, noisy = m.measure(_sample(paths, image=paths["clean"])), m.measure(_sample(paths))
    assert clean["lpips_unedited"] == pytest.approx(0.0, abs=1e-6)
    assert noisy["lpips_unedited"] > 1e-4


def test_clip_direction_matches_transformers(pair, tiny_clip_dir):
    import torch
    from transformers import CLIPModel, CLIPProcessor

    src, _, edit, paths = pair
    caps = {"source_caption": "a photo of the cat", "target_caption": "a photo of the dog"}
    rec = edit_metrics([_sample(paths, **caps)], ["clip_direction"], clip_model=tiny_clip_dir, device="cpu")[0]
    model = CLIPModel.from_pretrained(str(tiny_clip_dir)).eval()
    proc = CLIPProcessor.from_pretrained(str(tiny_clip_dir))
    with torch.no_grad():
        pv = proc.image_processor(images=[src, edit], return_tensors="pt")["pixel_values"]
        im = model.get_image_features(pixel_values=pv)
        im = getattr(im, "pooler_output", im)
        tok = proc.tokenizer([caps["source_caption"], caps["target_caption"]], padding=True, return_tensors="pt")
        tx = model.get_text_features(**tok)
        tx = getattr(tx, "pooler_output", tx)
    im, tx = im / im.norm(dim=-1, keepdim=True), tx / tx.norm(dim=-1, keepdim=True)
    want = float(torch.nn.functional.cosine_similarity((im[1] - im[0])[None], (tx[1] - tx[0])[None])[0])
    assert rec["clip_direction"] == pytest.approx(want, abs=1e-5)
    no_caps = edit_metrics([_sample(paths)], ["clip_direction"], clip_model=tiny_clip_dir, device="cpu")[0]
    assert no_caps["clip_direction"] is None and "source_caption" in no_caps["errors"]["clip_direction"]


def test_cli_metrics_output_is_a_calibrate_baseline(pair, tmp_path):
    _, _, _, paths = pair
    man = tmp_path / "m.jsonl"
    man.write_text(json.dumps({"id": "s", "prompt_id": "p", "model": "m", "source_image": paths["source_image"],
                               "image": paths["image"], "mask": paths["mask"]}) + "\n")
    out = tmp_path / "metrics.jsonl"
    assert main(["edit", "metrics", str(man), "--metrics", "psnr", "--out", str(out)]) == 0
    try:  # the calibration package after issue 10's split, else the v0.1 module
        from judgekit.calibration import load_scores
    except ImportError:
        from judgekit.calibration.scores import load_scores
    scores = load_scores(f"{out}:psnr_unedited")
    assert scores.column == "psnr_unedited" and scores.rows[0].value > 0 and scores.rows[0].sample_id == "s"
    assert main(["edit", "metrics", str(man), "--metrics", "fid", "--out", str(out)]) == 2
