"""Feature extractors for FID and KID.

An extractor splits its work in two so that the image-dependent part runs in DataLoader worker
processes: ``prepare(array)`` turns one ``H x W x 3`` uint8 image into a fixed-size tensor on the
CPU (resizing it, the costly and size-dependent part), and ``features(batch)`` runs the network on
a stacked batch on the device. ``__call__(uint8 batch)`` does both, for tensors already in memory.

``InceptionExtractor`` is the TF-Inception (2015-12-05) port of torch-fidelity, with the resize
named:

* ``tf-legacy``: TF1 bilinear resize of the uint8 image to 299 (torch-fidelity, the original TF
  FID code, torchmetrics with ``antialias=False``);
* ``clean``: PIL bicubic resize of each channel as float, clipped to [0, 255] and not quantized
  (clean-fid's "clean" mode).
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np

from ..errors import InputError
from . import _deps
from .weights import find_weights, verify_sha256

INCEPTION_SHA256 = "6726825d0af5f729cebd5821db510b11b1cfad8faad88a03f1befd49fb9129b2"
INCEPTION_FILENAMES = ("weights-inception-2015-12-05-6726825d.pth", "pt_inception-2015-12-05-6726825d.pth")
INCEPTION_URL = "https://github.com/toshas/torch-fidelity/releases/download/v0.2.0/weights-inception-2015-12-05-6726825d.pth"
RESIZE_MODES = ("tf-legacy", "clean")
INCEPTION_SIZE = 299

# The forward pass through torch-fidelity's modules up to the 2048-d pool, in order.
_INCEPTION_LAYERS = (
    "Conv2d_1a_3x3", "Conv2d_2a_3x3", "Conv2d_2b_3x3", "MaxPool_1", "Conv2d_3b_1x1", "Conv2d_4a_3x3",
    "MaxPool_2", "Mixed_5b", "Mixed_5c", "Mixed_5d", "Mixed_6a", "Mixed_6b", "Mixed_6c", "Mixed_6d",
    "Mixed_6e", "Mixed_7a", "Mixed_7b", "Mixed_7c", "AvgPool",
)  # fmt: skip


@contextlib.contextmanager
def no_tf32() -> Iterator[None]:
    """TF32 convolutions/matmuls make features depend on the batch size; switch them off while
    extracting and restore the caller's settings afterwards."""
    torch = _deps.torch()
    old = (torch.backends.cuda.matmul.allow_tf32, torch.backends.cudnn.allow_tf32)
    torch.backends.cuda.matmul.allow_tf32 = False
    torch.backends.cudnn.allow_tf32 = False
    try:
        yield
    finally:
        torch.backends.cuda.matmul.allow_tf32, torch.backends.cudnn.allow_tf32 = old


def to_chw_uint8(image: np.ndarray) -> Any:
    """``H x W x 3`` uint8 array -> ``3 x H x W`` uint8 tensor."""
    torch = _deps.torch()
    return torch.from_numpy(np.ascontiguousarray(image)).permute(2, 0, 1).contiguous()


class InceptionPrepare:
    """The per-image (worker-side) part of the Inception pipeline: resize to 299 per ``mode``.
    A small picklable object, so worker processes never receive the model."""

    def __init__(self, mode: str):
        self.mode = mode

    def __call__(self, image: np.ndarray) -> Any:
        torch = _deps.torch()
        if self.mode == "clean":
            return torch.from_numpy(_pil_bicubic_float(image, INCEPTION_SIZE))
        resize = _deps.require(
            "torch_fidelity.interpolate_compat_tensorflow"
        ).interpolate_bilinear_2d_like_tensorflow1x
        x = torch.from_numpy(np.ascontiguousarray(image)).permute(2, 0, 1)[None].to(torch.float32)
        return resize(x, size=(INCEPTION_SIZE, INCEPTION_SIZE), align_corners=False)[0]


class FeatureExtractor:
    """Base class: see the module docstring. Subclasses set ``name`` and ``dim``."""

    name = "features"
    dim: int | None = None
    device = "cpu"
    prepare: Any = staticmethod(to_chw_uint8)

    def prepare_batch(self, images: Any) -> Any:
        return images

    def features(self, batch: Any) -> Any:  # pragma: no cover - abstract
        raise NotImplementedError

    def __call__(self, images: Any) -> Any:
        torch = _deps.torch()
        with torch.inference_mode(), no_tf32():
            return self.features(self.prepare_batch(images.to(self.device)))

    def features_of(self, values: list[Any]) -> Iterator[Any]:
        """Features of a list of ``prepare`` outputs, in order (one or more batches)."""
        torch = _deps.torch()
        shapes = {tuple(v.shape) for v in values}
        if len(shapes) > 1:
            raise InputError(
                f"images of different sizes {sorted(shapes)} cannot be batched by {self.name}; "
                "resize them first or use the Inception extractor"
            )
        with torch.inference_mode(), no_tf32():
            yield self.features(torch.stack(values).to(self.device, non_blocking=True))


class ModuleExtractor(FeatureExtractor):
    """Any ``nn.Module`` that maps a uint8 ``B x 3 x H x W`` batch to ``B x d`` features (the same
    contract as a custom ``feature`` module in torchmetrics' FID). Images of one run must then
    share a size."""

    def __init__(self, module: Any, name: str | None = None, device: str | None = None):
        self.device = _deps.resolve_device(device)
        self.module = module.to(self.device).eval()
        self.name = name or type(module).__name__
        self.dim = getattr(module, "num_features", None)

    def features(self, batch: Any) -> Any:
        torch = _deps.torch()
        with torch.inference_mode():
            out = self.module(batch.to(self.device))
        return out.reshape(out.shape[0], -1)


def _pil_bicubic_float(image: np.ndarray, size: int) -> np.ndarray:
    """clean-fid's resize: each channel as a 32-bit float PIL image, bicubic, clipped, unquantized."""
    from PIL import Image

    chans = []
    for c in range(image.shape[2]):
        im = Image.fromarray(np.ascontiguousarray(image[:, :, c], dtype=np.float32))
        chans.append(np.asarray(im.resize((size, size), resample=Image.Resampling.BICUBIC)).clip(0, 255))
    return np.stack(chans, axis=0).astype(np.float32)


class InceptionExtractor(FeatureExtractor):
    """TF-Inception 2048-d pool features from local, SHA-256-verified weights.

    >>> ext = InceptionExtractor("weights-inception-2015-12-05-6726825d.pth")  # doctest: +SKIP
    >>> ext(torch.zeros(2, 3, 64, 64, dtype=torch.uint8)).shape  # doctest: +SKIP
    torch.Size([2, 2048])
    """

    dim = 2048

    def __init__(
        self,
        weights: str | Path | None = None,
        *,
        mode: str = "tf-legacy",
        device: str | None = None,
        sha256: str | None = INCEPTION_SHA256,
    ):
        if mode not in RESIZE_MODES:
            from ..errors import ConfigError

            raise ConfigError(f"unknown resize mode {mode!r}; choose one of {RESIZE_MODES}")
        torch = _deps.torch()
        tf_inception = _deps.require("torch_fidelity.feature_extractor_inceptionv3", "FID/KID")
        self.mode = mode
        self.name = f"inception-v3-tf-2015-12-05/{mode}"
        self.device = _deps.resolve_device(device)
        self.weights = find_weights(
            weights,
            INCEPTION_FILENAMES,
            env="JUDGEKIT_INCEPTION_WEIGHTS",
            what="TF-Inception (FID)",
            url=INCEPTION_URL,
        )
        verify_sha256(self.weights, sha256)
        # torch-fidelity unpickles the file itself (weights_only=False): the hash above is what
        # makes that safe for the official file.
        model = tf_inception.FeatureExtractorInceptionV3(
            "inception-v3-compat", ["2048"], feature_extractor_weights_path=str(self.weights)
        )
        self.model = model.to(self.device).eval()
        self._resizer = InceptionPrepare(mode)
        # On a GPU the TF-style resize is cheap there, and CPU workers would be the bottleneck:
        # workers only decode, and batches of equal-size images are resized on the device.
        self.resize_on_device = mode == "tf-legacy" and self.device != "cpu"
        self.prepare = to_chw_uint8 if self.resize_on_device else self._resizer
        self._resize_tf = _deps.require(
            "torch_fidelity.interpolate_compat_tensorflow"
        ).interpolate_bilinear_2d_like_tensorflow1x
        self._torch = torch

    def prepare_batch(self, images: Any) -> Any:
        """uint8 ``B x 3 x H x W`` -> float ``B x 3 x 299 x 299`` in [0, 255]."""
        torch = self._torch
        if images.dtype != torch.uint8 or images.ndim != 4 or images.shape[1] != 3:
            raise InputError(
                f"expected a uint8 B x 3 x H x W batch; got {images.dtype} {tuple(images.shape)}"
            )
        if self.mode == "clean":
            arr = images.permute(0, 2, 3, 1).cpu().numpy()
            return torch.stack([self._resizer(a) for a in arr]).to(self.device)
        x = images.to(self.device, torch.float32)
        return self._resize_tf(x, size=(INCEPTION_SIZE, INCEPTION_SIZE), align_corners=False)

    def features_of(self, values: list[Any]) -> Iterator[Any]:
        if not self.resize_on_device:
            yield from super().features_of(values)
            return
        from .loading import stack_same_shape

        torch = self._torch
        with torch.inference_mode(), no_tf32():
            for _, stacked in stack_same_shape(values):
                yield self.features(self.prepare_batch(stacked.to(self.device, non_blocking=True)))

    # -- device side ----------------------------------------------------------------------------
    def features(self, batch: Any) -> Any:
        torch = self._torch
        x = (batch.to(self.device, torch.float32) - 128) / 128
        with torch.inference_mode():
            for name in _INCEPTION_LAYERS:
                x = getattr(self.model, name)(x)
        return torch.flatten(x, 1)
