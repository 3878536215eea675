"""CLIP image embeddings as a feature extractor (for Vendi, pairwise cosine distance, PRDC and
the memorization search), from a local CLIP directory like the CLIP score.

>>> ext = CLIPImageExtractor("models/clip-vit-base-patch32")        # doctest: +SKIP
>>> ext(uint8_batch).shape                                          # doctest: +SKIP
torch.Size([8, 512])
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from ._clip import CLIPScorer, _pooled
from .extractors import FeatureExtractor


class CLIPImageExtractor(FeatureExtractor):
    """Unit-normalised CLIP image embeddings (float64). ``prepare`` runs the CLIP image
    processor in loader workers, so the model never leaves the main process."""

    def __init__(self, model_dir: str | Path, *, device: str | None = None):
        self.scorer = CLIPScorer(model_dir, device=device)
        self.device = self.scorer.device
        self.prepare = self.scorer.prepare
        self.name = f"clip:{self.scorer.model_name}"
        self.dim = int(getattr(self.scorer.model.config, "projection_dim", 0)) or None

    def prepare_batch(self, images: Any) -> Any:
        """uint8 ``B x 3 x H x W`` -> CLIP pixel values."""
        return self.scorer.pixel_values(images)

    def features(self, batch: Any) -> Any:
        torch = self.scorer._torch
        with torch.inference_mode():
            emb = _pooled(self.scorer.model.get_image_features(pixel_values=batch.to(self.device)))
            emb = emb / emb.norm(dim=-1, keepdim=True)
        return emb.double()
