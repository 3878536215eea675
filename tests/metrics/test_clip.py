"""CLIP score with a tiny random CLIP model built locally: per-sample clamping and scale, the
end-of-text token kept on truncation, the logit-scale (PickScore-style) mode, provenance."""

from __future__ import annotations

import shutil

import numpy as np
import pytest

from judgekit.errors import ConfigError

torch = pytest.importorskip("torch")
pytest.importorskip("transformers")
import judgekit.metrics as jm  # noqa: E402
from tests.fixtures_metrics import random_images  # noqa: E402

CAPTIONS = ["a photo of a cat", "the cat", "a cat of the photo", "photo"]


@pytest.fixture(scope="module")
def scorer(tiny_clip_dir):
    return jm.CLIPScorer(tiny_clip_dir, device="cpu")


def _forward_cosines(scorer, images, texts):
    """An independent path: the model's joint forward, logits divided by the logit scale."""
    ids, mask, _ = scorer.tokenize(texts)
    pv = scorer.pixel_values(images)
    with torch.no_grad():
        out = scorer.model(input_ids=ids, attention_mask=mask, pixel_values=pv)
    return (out.logits_per_image / scorer.model.logit_scale.exp()).diagonal().double()


def test_per_sample_clamped_cosine_times_scale(scorer):
    imgs = list(random_images(4, 40, 48, seed=0))
    cos = _forward_cosines(scorer, imgs, CAPTIONS)
    assert (cos < 0).any() and (cos > 0).any()  # both signs: the clamp is exercised
    got = scorer.score(imgs, CAPTIONS)
    torch.testing.assert_close(got, 2.5 * cos.clamp(min=0), rtol=1e-5, atol=1e-6)
    s100 = jm.clip_score(imgs, CAPTIONS, model=scorer.model_dir, scale=100, device="cpu")
    torch.testing.assert_close(s100, 100 * cos.clamp(min=0), rtol=1e-5, atol=1e-5)


def test_long_captions_keep_the_end_token(scorer):
    long = "the cat " * 30
    ids, mask, truncated = scorer.tokenize(["a cat", long])
    eos = scorer.tokenizer.eos_token_id
    assert truncated == [False, True]
    assert ids.shape[1] == scorer.context and int(ids[1, -1]) == eos and int(mask[1].sum()) == scorer.context
    # the score equals the score of the caption cut by hand to context-1 tokens + end token,
    full = scorer.tokenizer([long])["input_ids"][0]
    manual = torch.tensor([full[: scorer.context - 1] + [eos]])
    img = random_images(1, 32, 32, seed=4)
    pv = scorer.pixel_values(list(img))
    with torch.no_grad():
        t = scorer.model.get_text_features(input_ids=manual, attention_mask=torch.ones_like(manual))
        t = t if hasattr(t, "shape") else t.pooler_output
        i = scorer.model.get_image_features(pixel_values=pv)
        i = i if hasattr(i, "shape") else i.pooler_output
    cos = torch.nn.functional.cosine_similarity(i, t).double()
    cos_ours, _ = scorer.cosine(pv, [long])
    torch.testing.assert_close(cos_ours, cos, rtol=1e-5, atol=1e-6)
    # ... and differs from cutting the end token off (what pooling a mid-caption token gives)
    naive = torch.tensor([full[: scorer.context]])
    with torch.no_grad():
        tn = scorer.model.get_text_features(input_ids=naive, attention_mask=torch.ones_like(naive))
        tn = tn if hasattr(tn, "shape") else tn.pooler_output
    assert abs(float(torch.nn.functional.cosine_similarity(i, tn)) - float(cos)) > 1e-4


def test_logit_scale_mode_for_preference_models(tiny_clip_dir):
    s = jm.CLIPScorer(tiny_clip_dir, scale="logit", device="cpu")
    imgs = list(random_images(4, 32, 32, seed=3))
    cos = _forward_cosines(s, imgs, CAPTIONS)
    assert s.describe()["clamp"] is False and s.scale == pytest.approx(float(s.model.logit_scale.exp()))
    torch.testing.assert_close(s.score(imgs, CAPTIONS), s.scale * cos, rtol=1e-5, atol=1e-5)


def test_accumulating_class_and_provenance(tiny_clip_dir):
    m = jm.CLIPScore(tiny_clip_dir, scale="clipscore", device="cpu")
    imgs = random_images(4, 32, 32, seed=3)
    m.update(torch.from_numpy(imgs[:2]).permute(0, 3, 1, 2), CAPTIONS[:2])
    m.update(list(imgs[2:]), CAPTIONS[2:])
    assert m.scores.shape == (4,)
    d = m.scorer.describe()
    assert d["model"] == tiny_clip_dir.name and d["scale"] == 2.5 and d["clamp"] is True


def test_bad_model_dir_and_scale(tmp_path, tiny_clip_dir):
    with pytest.raises(ConfigError, match="not a local CLIP model directory"):
        jm.CLIPScorer(tmp_path, device="cpu")
    with pytest.raises(ConfigError, match="scale"):
        jm.CLIPScorer(tiny_clip_dir, scale=-1, device="cpu")
    with pytest.raises(ValueError, match="2 images but 1 texts"):
        jm.clip_score(list(random_images(2)), ["x"], model=tiny_clip_dir, device="cpu")


def test_rgba_image_refused_naming_file(tmp_path, scorer):
    from PIL import Image

    Image.new("RGBA", (32, 32)).save(tmp_path / "alpha.png")
    from judgekit.errors import DataError

    with pytest.raises(DataError, match=r"alpha\.png: image mode RGBA"):
        scorer.score([tmp_path / "alpha.png"], ["a cat"])
    assert np.isfinite(float(scorer.score([random_images(1)[0]], ["a cat"])[0]))


def test_a_folder_that_is_not_clip_is_refused(tiny_vlm_dir):
    """A LLaVA checkpoint loads into CLIPModel with every weight random: refused, naming the folder."""
    with pytest.raises(ConfigError, match=rf"{tiny_vlm_dir}: not a usable CLIP model \(config model_type 'llava'\)"):
        jm.CLIPScorer(tiny_vlm_dir, device="cpu")


def test_a_clip_checkpoint_with_missing_weights_is_refused(tiny_clip_dir, tmp_path):
    from safetensors.torch import load_file, save_file

    d = tmp_path / "partial-clip"
    shutil.copytree(tiny_clip_dir, d)
    weights = load_file(d / "model.safetensors")
    del weights["text_projection.weight"]
    save_file(weights, d / "model.safetensors", metadata={"format": "pt"})
    with pytest.raises(ConfigError, match=r"1 of the \d+ CLIP weights are not in the checkpoint "
                                          r"\(e.g. text_projection.weight\)"):
        jm.CLIPScorer(d, device="cpu")


def test_clip_cli_refuses_a_vlm_folder(tiny_vlm_dir, tmp_path, capsys):
    from judgekit.cli import main

    m = tmp_path / "m.jsonl"
    m.write_text('{"id": "a", "image": "a.png", "prompt": "a cat"}\n')
    rc = main(["metrics", "clip", "--data", str(m), "--weights", str(tiny_vlm_dir), "--device", "cpu",
               "--workers", "0", "--out", str(tmp_path / "o.jsonl")])
    err = capsys.readouterr().err
    assert rc == 2 and f"judgekit: error: {tiny_vlm_dir}: not a usable CLIP model" in err
