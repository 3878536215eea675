"""Fixtures of the metrics tests: random-weight networks built locally (never downloaded) and
small image folders. Heavy imports happen inside the fixtures so collecting the suite stays fast."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest


def write_png(path: Path, array: np.ndarray) -> Path:
    from PIL import Image

    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(array).save(path)
    return path


def random_images(n: int, h: int = 32, w: int = 32, seed: int = 0) -> np.ndarray:
    """``n x h x w x 3`` uint8 images with some structure (smooth blobs plus noise)."""
    rs = np.random.RandomState(seed)
    yy, xx = np.mgrid[0:h, 0:w]
    out = np.empty((n, h, w, 3), np.uint8)
    for i in range(n):
        cy, cx, r = rs.uniform(0, h), rs.uniform(0, w), rs.uniform(3, h / 2)
        blob = np.exp(-((yy - cy) ** 2 + (xx - cx) ** 2) / (2 * r * r))
        img = blob[..., None] * rs.uniform(0, 255, 3) + rs.normal(0, 20, (h, w, 3)) + 40
        out[i] = np.clip(img, 0, 255).astype(np.uint8)
    return out


@pytest.fixture(scope="session")
def random_inception(tmp_path_factory) -> tuple[Path, str]:
    """A seeded random-weight TF-Inception state dict (path, sha256)."""

    p = tmp_path_factory.mktemp("inception") / "random-inception.pth"
    return p, write_random_inception_weights(p, seed=0)


@pytest.fixture(scope="session")
def small_extractor():
    """A seeded random conv net: uint8 B x 3 x H x W -> B x 64 float64 features (the contract of
    a custom feature module in torchmetrics' FID)."""
    import torch

    class Small(torch.nn.Module):
        num_features = 64

        def __init__(self) -> None:
            super().__init__()
            self.net = torch.nn.Sequential(
                torch.nn.Conv2d(3, 16, 3, stride=2),
                torch.nn.ReLU(),
                torch.nn.Conv2d(16, 32, 3, stride=2),
                torch.nn.ReLU(),
                torch.nn.AdaptiveAvgPool2d(2),
                torch.nn.Flatten(),
                torch.nn.Linear(128, 64),
            )

        def forward(self, x):
            return self.net(x.to(torch.float64) / 255.0)

    torch.manual_seed(0)
    return Small().double().eval()


@pytest.fixture(scope="session")
def random_alexnet(tmp_path_factory) -> Path:
    import torch
    import torchvision

    torch.manual_seed(0)
    p = tmp_path_factory.mktemp("alexnet") / "random-alexnet.pth"
    torch.save(torchvision.models.alexnet(weights=None).state_dict(), p)
    return p


@pytest.fixture(scope="session")
def tiny_clip_dir(tmp_path_factory) -> Path:
    return build_tiny_clip(tmp_path_factory.mktemp("tiny-clip"))


def build_tiny_clip(d: Path) -> Path:
    """A tiny random CLIP model with a locally built byte-level BPE tokenizer, saved with
    ``save_pretrained`` so it loads exactly as a real local model directory does."""
    import torch
    from transformers import CLIPConfig, CLIPImageProcessor, CLIPModel, CLIPProcessor, CLIPTokenizer
    from transformers.convert_slow_tokenizer import bytes_to_unicode

    chars = list(bytes_to_unicode().values())
    vocab: dict[str, int] = {}
    for tok in chars + [c + "</w>" for c in chars]:
        vocab.setdefault(tok, len(vocab))
    merges = ["t h", "th e</w>", "c a", "ca t</w>", "o f</w>", "p h", "ph o", "pho t", "phot o</w>"]
    for m in merges:
        vocab.setdefault(m.replace(" ", ""), len(vocab))
    vocab["<|startoftext|>"] = len(vocab)
    vocab["<|endoftext|>"] = len(vocab)
    tokenizer = CLIPTokenizer(vocab=vocab, merges=[tuple(m.split(" ")) for m in merges])
    tokenizer.model_max_length = 16
    config = CLIPConfig(
        text_config={
            "vocab_size": len(vocab),
            "hidden_size": 32,
            "intermediate_size": 64,
            "num_attention_heads": 2,
            "num_hidden_layers": 2,
            "max_position_embeddings": 16,
            "bos_token_id": vocab["<|startoftext|>"],
            "eos_token_id": vocab["<|endoftext|>"],
            "pad_token_id": vocab["<|endoftext|>"],
        },
        vision_config={
            "hidden_size": 32,
            "intermediate_size": 64,
            "num_attention_heads": 2,
            "num_hidden_layers": 2,
            "image_size": 32,
            "patch_size": 8,
        },
        projection_dim=16,
    )
    torch.manual_seed(0)
    model = CLIPModel(config).eval()
    image_processor = CLIPImageProcessor(
        size={"shortest_edge": 32}, crop_size={"height": 32, "width": 32}, do_convert_rgb=False
    )
    model.save_pretrained(d)
    CLIPProcessor(image_processor=image_processor, tokenizer=tokenizer).save_pretrained(d)
    (d / "judgekit-test.json").write_text(json.dumps({"note": "random weights, for tests"}))
    return d


def write_random_inception_weights(path: str | Path, seed: int = 0) -> str:
    """Save a seeded random-weight TF-Inception state dict (same keys and shapes as the real file)
    and return its SHA-256. For tests and throughput checks only: its FID values mean nothing."""
    import torch
    import torch_fidelity.feature_extractor_inceptionv3 as tf_inception

    from judgekit.metrics.extractors import _INCEPTION_LAYERS
    from judgekit.metrics.weights import sha256_file

    class _Unloaded(tf_inception.FeatureExtractorInceptionV3):
        def load_state_dict(self, state_dict, strict=True, assign=False):
            return None  # keep the random initialisation

    p = Path(path)
    torch.manual_seed(seed)
    empty = p.with_suffix(".empty.pth")
    torch.save({}, empty)
    try:
        model = _Unloaded("random", ["2048"], feature_extractor_weights_path=str(empty))
    finally:
        empty.unlink()
    # Default init shrinks activations ~10x per block (features ~1e-8); setting the BatchNorm
    # running statistics from one batch of noise keeps every layer near unit scale.
    for m in model.modules():
        if isinstance(m, torch.nn.BatchNorm2d):
            m.momentum = None
    model.train()
    x = torch.rand(2, 3, 160, 160, generator=torch.Generator().manual_seed(seed)) * 2 - 1
    with torch.no_grad():
        for name in _INCEPTION_LAYERS:
            x = getattr(model, name)(x)
    torch.save(model.state_dict(), p)
    return sha256_file(p)
