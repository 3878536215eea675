"""CLIP score (Hessel et al. 2021): ``w * max(cos(image, text), 0)`` per sample, with a CLIP
model loaded from a local directory (transformers ``CLIPModel``; nothing is downloaded).

* The scale is named: ``2.5`` is the original CLIPScore, ``100`` what torchmetrics reports;
  ``scale="logit"`` uses the model's learned logit scale (PickScore and similar preference
  models are CLIP models with a trained ``logit_scale``), unclamped by default as PickScore is.
* Clamping is per sample (torchmetrics clamps the batch mean, a different number).
* A caption longer than the text context is cut to ``context - 1`` tokens plus the end-of-text
  token, whose position CLIP pools; cutting it off (torchmetrics) pools a mid-caption token.
* Results carry the model name, the scale and whether each caption was truncated.

>>> scorer = CLIPScorer("models/clip-vit-base-patch32")                     # doctest: +SKIP
>>> scorer.score(["cat.png"], ["a photo of a cat"])                        # doctest: +SKIP
tensor([0.7788])
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from ..errors import ConfigError, InputError
from . import _deps
from ._perimage import PerImageMetric
from .images import read_rgb

NAMED_SCALES = {"clipscore": 2.5, "torchmetrics": 100.0}


@dataclass
class CLIPPrepare:
    """Worker-side: one RGB array -> CLIP pixel values (picklable)."""

    image_processor: Any

    def __call__(self, image: np.ndarray) -> Any:
        return self.image_processor(images=[image], return_tensors="pt")["pixel_values"][0]


def _pooled(out: Any) -> Any:
    # transformers >= 5 returns a model output whose pooler_output is the projected embedding
    return out if hasattr(out, "shape") else out.pooler_output


def _refuse_partial_load(d: Path, model: Any, info: dict[str, Any]) -> None:
    """transformers fills every weight the checkpoint lacks with random values and only logs it:
    a folder that is not a CLIP model (a LLaVA checkpoint, a truncated save) would then give
    plausible-looking scores from noise. Every model weight must come from the folder."""
    missing = list(info.get("missing_keys") or [])
    if not missing:
        return
    total = len(model.state_dict())
    kind = getattr(model.config, "model_type", "?")
    try:  # what the folder says it is (CLIPModel re-labels a foreign config as "clip")
        import json

        kind = json.loads((d / "config.json").read_text()).get("model_type", kind)
    except (OSError, ValueError):
        pass
    unexpected = len(info.get("unexpected_keys") or [])
    raise ConfigError(
        f"{d}: not a usable CLIP model (config model_type {kind!r}): {len(missing)} of the {total} CLIP weights "
        f"are not in the checkpoint (e.g. {', '.join(sorted(missing)[:3])})"
        + (f", and {unexpected} of its weights are not CLIP's" if unexpected else "")
        + "; give --weights a folder saved with CLIPModel.save_pretrained"
    )


class CLIPScorer:
    """A CLIP model and its processor from ``model_dir`` on a device."""

    def __init__(
        self,
        model_dir: str | Path,
        *,
        scale: float | str = 2.5,
        clamp: bool | None = None,
        device: str | None = None,
    ):
        d = Path(model_dir).expanduser()
        if not (d / "config.json").is_file():
            raise ConfigError(
                f"{d}: not a local CLIP model directory (no config.json). Save one with "
                "`CLIPModel.from_pretrained(name).save_pretrained(DIR)` and "
                "`CLIPProcessor.from_pretrained(name).save_pretrained(DIR)` on a machine with internet access"
            )
        tr = _deps.require("transformers", "CLIP score")
        torch = _deps.torch()
        self.device = _deps.resolve_device(device)
        try:
            model, info = tr.CLIPModel.from_pretrained(str(d), local_files_only=True, output_loading_info=True)
        except Exception as exc:
            raise ConfigError(f"{d}: cannot load a CLIP model and processor ({exc})") from exc
        _refuse_partial_load(d, model, info)
        try:
            self.model = model.to(self.device).eval()
            self.processor = tr.CLIPProcessor.from_pretrained(str(d), local_files_only=True)
        except Exception as exc:
            raise ConfigError(f"{d}: cannot load a CLIP model and processor ({exc})") from exc
        self.model_dir = d
        self.model_name = str(getattr(self.model.config, "_name_or_path", "") or d.name)
        if self.model_name == str(d):
            self.model_name = d.name
        self.tokenizer = self.processor.tokenizer
        self.context = int(self.model.config.text_config.max_position_embeddings)
        if isinstance(scale, str) and scale in NAMED_SCALES:
            scale = NAMED_SCALES[scale]
        if scale == "logit":
            self.scale = float(self.model.logit_scale.exp())
            self.scale_name = "logit"
            self.clamp = False if clamp is None else clamp
        elif isinstance(scale, (int, float)) and scale > 0:
            self.scale, self.scale_name = float(scale), str(scale)
            self.clamp = True if clamp is None else clamp
        else:
            raise ConfigError(
                f"scale must be a positive number (2.5, 100), 'clipscore', 'torchmetrics' or 'logit'; got {scale!r}"
            )
        self.prepare = CLIPPrepare(self.processor.image_processor)
        self._torch = torch

    def describe(self) -> dict[str, Any]:
        return {
            "model": self.model_name,
            "scale": self.scale,
            "scale_name": self.scale_name,
            "clamp": self.clamp,
        }

    def tokenize(self, texts: list[str]) -> tuple[Any, Any, list[bool]]:
        """Token ids padded to the longest caption; over-long captions keep their end token."""
        torch = self._torch
        tok = self.tokenizer
        ids = tok(list(texts), truncation=False, padding=False, verbose=False)["input_ids"]
        eos = tok.eos_token_id
        pad = tok.pad_token_id if tok.pad_token_id is not None else eos
        truncated = [len(x) > self.context for x in ids]
        ids = [x[: self.context - 1] + [eos] if t else x for x, t in zip(ids, truncated, strict=True)]
        width = max(len(x) for x in ids)
        input_ids = torch.full((len(ids), width), pad, dtype=torch.long)
        mask = torch.zeros((len(ids), width), dtype=torch.long)
        for i, x in enumerate(ids):
            input_ids[i, : len(x)] = torch.tensor(x)
            mask[i, : len(x)] = 1
        return input_ids, mask, truncated

    def cosine(self, pixel_values: Any, texts: list[str]) -> tuple[Any, list[bool]]:
        """Per-sample cosine similarity of image i and text i."""
        torch = self._torch
        input_ids, mask, truncated = self.tokenize(texts)
        with torch.inference_mode():
            img = _pooled(self.model.get_image_features(pixel_values=pixel_values.to(self.device)))
            txt = _pooled(
                self.model.get_text_features(
                    input_ids=input_ids.to(self.device), attention_mask=mask.to(self.device)
                )
            )
            img = img / img.norm(dim=-1, keepdim=True)
            txt = txt / txt.norm(dim=-1, keepdim=True)
            return (img * txt).sum(dim=-1).double().cpu(), truncated

    def from_cosine(self, cos: Any) -> Any:
        return self.scale * (cos.clamp(min=0) if self.clamp else cos)

    def pixel_values(self, images: Any) -> Any:
        """Paths, PIL images, ``H x W x 3`` arrays, or a uint8 ``B x 3 x H x W`` tensor."""
        torch = self._torch
        if hasattr(images, "ndim") and getattr(images, "ndim", 0) == 4:
            arrs = list(torch.as_tensor(images).permute(0, 2, 3, 1).cpu().numpy())
        else:
            arrs = [read_rgb(x) if isinstance(x, (str, Path)) else np.asarray(x) for x in images]
        return torch.stack([self.prepare(a) for a in arrs])

    def score(self, images: Any, texts: list[str]) -> Any:
        if len(images) != len(texts):
            raise InputError(f"{len(images)} images but {len(texts)} texts")
        cos, _ = self.cosine(self.pixel_values(images), list(texts))
        return self.from_cosine(cos)


_SCORERS: dict[tuple[str, str, str, str], CLIPScorer] = {}


def clip_score(
    images: Any,
    texts: list[str],
    *,
    model: str | Path,
    scale: float | str = 2.5,
    clamp: bool | None = None,
    device: str | None = None,
) -> Any:
    """Per-sample CLIP score, a ``(B,)`` float64 tensor (the model is loaded once per process)."""
    key = (str(model), str(scale), str(clamp), str(device))
    if key not in _SCORERS:
        _SCORERS[key] = CLIPScorer(model, scale=scale, clamp=clamp, device=device)
    return _SCORERS[key].score(images, texts)


class CLIPScore(PerImageMetric):
    """Accumulating CLIP score: ``update(images, texts)``, ``compute()`` the mean, ``scores``."""

    def __init__(
        self,
        model: str | Path,
        *,
        scale: float | str = 2.5,
        clamp: bool | None = None,
        device: str | None = None,
    ):
        super().__init__()
        self.scorer = CLIPScorer(model, scale=scale, clamp=clamp, device=device)

    def _score(self, images: Any, texts: Any) -> Any:
        return self.scorer.score(images, texts)
