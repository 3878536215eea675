"""Reference-based metrics of image edits, one record per sample, as baseline columns.

- ``mse_unedited``/``psnr_unedited``, ``ssim_unedited``, ``lpips_unedited``: how well the edit preserves the
  source *outside* the edit mask (``mask``: white = where the edit should happen; without a
  mask the whole image is compared, which only makes sense for local edits and is recorded).
  PSNR is exact on the unedited pixels (their mean squared error); SSIM and LPIPS, whose windows
  and receptive fields cannot skip pixels, compare both images with the edit region blanked to
  black (the background-preservation convention of PIE-Bench).
- ``psnr_reference``, ``ssim_reference``, ``lpips_reference``: the edit against a ground-truth
  edit (``reference_image``), whole image.
- ``clip_direction``: CLIP directional similarity, the cosine between the change in image
  embedding (edit - source) and the change in text embedding (target caption - source caption;
  ``meta.target_caption``/``source_caption`` or ImagenHub's ``target_global_caption``/
  ``source_global_caption``), with CLIP weights from a local directory.

An edit whose size differs from its source is resized to the source's size (Lanczos; masks
nearest-neighbour) and the record says so. A sample that cannot be measured (a missing file,
no caption) keeps its row with ``null`` values and the reason in ``errors``: nothing is dropped.
The records are JSONL rows keyed by ``sample_id``/``prompt_id``/``model``, so
``judgekit calibrate --baseline metrics.jsonl:psnr_unedited`` reads them.
"""

from __future__ import annotations

import json
import math
import os
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import numpy as np

from ..errors import ConfigError, DataError
from ..memory_images import InMemoryImage
from ..types import Sample

METRICS = ("psnr", "ssim", "lpips", "clip_direction")
_CAPTIONS = (("source_caption", "target_caption"), ("source_global_caption", "target_global_caption"))


def _rgb(path: str | InMemoryImage | None, what: str) -> np.ndarray:
    if not path:
        raise DataError(f"no {what}")
    from ..metrics.images import read_rgb

    return read_rgb(path)


def _mask(path: str | InMemoryImage, size: tuple[int, int]) -> np.ndarray:
    """The edit region as booleans (H x W): white (>= 128) is edited; resized nearest."""
    import io

    from PIL import Image

    try:
        with Image.open(io.BytesIO(path.data) if isinstance(path, InMemoryImage) else path) as im:
            m = im.convert("L")
            if m.size != size:
                m = m.resize(size, Image.Resampling.NEAREST)
            return np.asarray(m) >= 128
    except Exception as exc:
        raise DataError(f"{path}: cannot read mask ({exc})") from exc


def _fit(img: np.ndarray, like: np.ndarray) -> tuple[np.ndarray, bool]:
    if img.shape == like.shape:
        return img, False
    from PIL import Image

    h, w = like.shape[:2]
    return np.asarray(Image.fromarray(img).resize((w, h), Image.Resampling.LANCZOS)), True


def _chw(a: np.ndarray):
    import torch

    return torch.from_numpy(np.ascontiguousarray(a.transpose(2, 0, 1))).to(torch.float64)


def _captions(s: Sample) -> tuple[str, str] | None:
    for a, b in _CAPTIONS:
        if s.meta.get(a) and s.meta.get(b):
            return str(s.meta[a]), str(s.meta[b])
    return None


class EditMetrics:
    """The chosen metrics, with their networks loaded once. ``lpips_weights``: the torchvision
    AlexNet file LPIPS builds on; ``clip_model``: a local CLIP directory."""

    def __init__(self, metrics: Iterable[str] = ("psnr", "ssim"), *, lpips_weights: str | Path | None = None,
                 clip_model: str | Path | None = None, device: str | None = None):
        self.metrics = tuple(metrics)
        bad = [m for m in self.metrics if m not in METRICS]
        if bad:
            raise ConfigError(f"unknown edit metric(s) {bad}; choose from {list(METRICS)}")
        self.device = device
        self._lpips = None
        self._clip = None
        if "lpips" in self.metrics:
            from ..metrics._lpips import LPIPSNet

            self._lpips = LPIPSNet("alex", lpips_weights, device=device)
        if "clip_direction" in self.metrics:
            if clip_model is None:
                raise ConfigError("clip_direction needs a local CLIP model directory (clip_model=DIR / --clip-model DIR)")
            from ..metrics import CLIPScorer

            self._clip = CLIPScorer(clip_model, device=device)

    # --- the metrics of one pair ------------------------------------------------------------

    def _pair(self, a: np.ndarray, b: np.ndarray, keep: np.ndarray | None, suffix: str, out: dict) -> None:
        import judgekit.metrics as jm

        x, y = _chw(a), _chw(b)
        if keep is not None:
            k = float(keep.sum())
            if k == 0:
                raise DataError("the mask covers the whole image: there is no unedited region")
            keep_t = _chw(np.repeat(keep[:, :, None], 3, axis=2).astype(np.float64))
            x, y = x * keep_t, y * keep_t
        if "psnr" in self.metrics:
            err = float(jm.mse(x, y)[0])
            if keep is not None:
                err *= keep.size / float(keep.sum())  # blanked pixels add no error: mean over kept ones
            out[f"mse_{suffix}"] = err  # finite where PSNR is not (an untouched region: +inf)
            out[f"psnr_{suffix}"] = math.inf if err == 0 else 10 * math.log10(255.0**2 / err)
        if "ssim" in self.metrics:
            out[f"ssim_{suffix}"] = float(jm.ssim(x, y, data_range=255.0)[0])
        if self._lpips is not None:
            out[f"lpips_{suffix}"] = float(self._lpips((x / 127.5 - 1)[None], (y / 127.5 - 1)[None])[0])

    def _direction(self, s: Sample, src: np.ndarray, edit: np.ndarray) -> float:
        torch = __import__("torch")
        caps = _captions(s)
        if caps is None:
            raise DataError("clip_direction needs meta source_caption and target_caption (or ImagenHub's "
                            "source_global_caption and target_global_caption)")
        c = self._clip
        assert c is not None  # built when clip_direction was asked for
        ids, att, _ = c.tokenize(list(caps))
        with torch.inference_mode():
            from ..metrics._clip import _pooled

            img = _pooled(c.model.get_image_features(pixel_values=c.pixel_values([src, edit]).to(c.device)))
            txt = _pooled(c.model.get_text_features(input_ids=ids.to(c.device), attention_mask=att.to(c.device)))
            img = img / img.norm(dim=-1, keepdim=True)
            txt = txt / txt.norm(dim=-1, keepdim=True)
            d_img, d_txt = img[1] - img[0], txt[1] - txt[0]
            cos = torch.nn.functional.cosine_similarity(d_img[None], d_txt[None])[0]
        return float(cos)

    def measure(self, s: Sample) -> dict[str, Any]:
        """One record: the sample's keys, each metric's value (None when it could not be
        measured), notes, and the reason for every missing value."""
        rec: dict[str, Any] = {"sample_id": s.id, "prompt_id": s.prompt_id, "model": s.model}
        errors: dict[str, str] = {}
        notes: list[str] = []
        try:
            src = _rgb(s.source_image, "source_image")
            edit, resized = _fit(_rgb(s.image, "image (the edit)"), src)
            if resized:
                notes.append("edit resized to the source's size")
        except DataError as exc:
            for col in self.columns(s):
                rec[col] = None
            rec["errors"] = {"all": str(exc)}
            return rec
        pixel = [m for m in self.metrics if m in ("psnr", "ssim", "lpips")]
        if pixel:
            try:
                keep = None
                if s.mask:
                    keep = ~_mask(s.mask, (src.shape[1], src.shape[0]))
                else:
                    notes.append("no mask: unedited = the whole image")
                self._pair(edit, src, keep, "unedited", rec)
            except DataError as exc:
                errors["unedited"] = str(exc)
            if s.reference_image:
                try:
                    ref, r2 = _fit(_rgb(s.reference_image, "reference_image"), edit)
                    if r2:
                        notes.append("reference resized to the edit's size")
                    self._pair(edit, ref, None, "reference", rec)
                except DataError as exc:
                    errors["reference"] = str(exc)
        if self._clip is not None:
            try:
                rec["clip_direction"] = self._direction(s, src, edit)
            except DataError as exc:
                errors["clip_direction"] = str(exc)
        for col in self.columns(s):
            rec.setdefault(col, None)
        if notes:
            rec["notes"] = notes
        if errors:
            rec["errors"] = errors
        return rec

    def columns(self, s: Sample) -> list[str]:
        pixel = [m for m in self.metrics if m in ("psnr", "ssim", "lpips")]
        if "psnr" in pixel:
            pixel.insert(pixel.index("psnr"), "mse")
        cols = [f"{m}_unedited" for m in pixel]
        if s.reference_image:
            cols += [f"{m}_reference" for m in pixel]
        if "clip_direction" in self.metrics:
            cols.append("clip_direction")
        return cols


def edit_metrics(samples: Iterable[Sample], metrics: Iterable[str] = ("psnr", "ssim"), **kw: Any) -> list[dict[str, Any]]:
    """:class:`EditMetrics` over ``samples``: one record each, in order."""
    m = EditMetrics(metrics, **kw)
    return [m.measure(s) for s in samples]


def save_records(records: Iterable[dict[str, Any]], path: str | Path) -> None:
    """JSONL with non-finite values as null (an identical region's PSNR is +inf: null, with a
    note), written atomically."""
    p = Path(path)
    tmp = p.with_name(p.name + ".tmp")
    with tmp.open("w", encoding="utf-8") as fh:
        for r in records:
            r = dict(r)
            for k, v in list(r.items()):
                if isinstance(v, float) and not math.isfinite(v):
                    r[k] = None
                    r.setdefault("notes", []).append(f"{k}: {v} (identical pixels)")
            fh.write(json.dumps(r, ensure_ascii=False) + "\n")
    os.replace(tmp, p)
