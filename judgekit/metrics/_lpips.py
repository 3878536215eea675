"""LPIPS v0.1 (Zhang et al. 2018): AlexNet (default) or VGG16 features, unit-normalised per
channel, squared differences, a learned 1x1 layer per stage, spatial mean, summed over stages.

The learned layers are vendored from the ``lpips`` wheel (``lpips_v0.1/``, BSD-2-Clause); the
backbone comes from a local torchvision weights file, never downloaded. Inputs in [-1, 1]
(``normalize=True`` for [0, 1]).

>>> d = lpips(img1, img2, weights="alexnet-owt-7be5be79.pth")   # doctest: +SKIP
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from ..errors import ConfigError, DataError, InputError
from . import _deps
from ._perimage import PerImageMetric, check_pair
from .weights import find_weights, verify_sha256

_LIN_DIR = Path(__file__).resolve().parent / "lpips_v0.1"
# net -> (torchvision builder, standard file, stage boundaries in `features`, channels per stage)
NETS = {
    "alex": ("alexnet", "alexnet-owt-7be5be79.pth", (2, 5, 8, 10, 12), (64, 192, 384, 256, 256)),
    "vgg": ("vgg16", "vgg16-397923af.pth", (4, 9, 16, 23, 30), (64, 128, 256, 512, 512)),
}
# the v0.1 scaling layer: inputs in [-1, 1] mapped to ImageNet-normalised values
_SHIFT = (-0.030, -0.088, -0.188)
_SCALE = (0.458, 0.448, 0.450)


def _hub_prefix(path: Path) -> str | None:
    """torch hub file names end in the first 8 hex digits of the file's SHA-256."""
    m = re.search(r"-([0-9a-f]{8,})\.pth$", path.name)
    return m.group(1) if m else None


class LPIPSNet:
    """The LPIPS network on a device; ``net(x, y)`` gives a ``(B,)`` tensor."""

    def __init__(
        self,
        net: str = "alex",
        weights: str | Path | None = None,
        *,
        device: str | None = None,
        sha256: str | None = None,
    ):
        if net == "vgg16":
            net = "vgg"
        if net not in NETS:
            raise ConfigError(f"unknown LPIPS backbone {net!r}; choose 'alex' or 'vgg'")
        torch = _deps.torch()
        tv = _deps.require("torchvision.models", "LPIPS")
        builder, filename, bounds, chans = NETS[net]
        self.net, self.device = net, _deps.resolve_device(device)
        self.weights = find_weights(
            weights,
            (filename,),
            env=f"JUDGEKIT_LPIPS_{net.upper()}",
            what=f"LPIPS {builder} backbone",
            url=f"https://download.pytorch.org/models/{filename}",
        )
        verify_sha256(self.weights, sha256 or _hub_prefix(self.weights))
        try:
            sd = torch.load(self.weights, map_location="cpu", weights_only=True)
        except Exception as exc:
            raise DataError(f"{self.weights}: cannot read torchvision weights ({exc})") from exc
        feats = {k[len("features.") :]: v for k, v in sd.items() if k.startswith("features.")}
        features = getattr(tv, builder)(weights=None).features[: bounds[-1]]
        try:
            features.load_state_dict(feats)
        except RuntimeError as exc:
            raise DataError(
                f"{self.weights}: not a torchvision {builder} state dict ({str(exc)[:200]})"
            ) from exc
        self.stages = [features[a:b] for a, b in zip((0,) + bounds[:-1], bounds, strict=True)]
        lin = torch.load(_LIN_DIR / f"{net}.pth", map_location="cpu", weights_only=True)
        self.lins = [lin[f"lin{i}.model.1.weight"].to(torch.float32) for i in range(len(chans))]
        self.shift = torch.tensor(_SHIFT).view(1, 3, 1, 1)
        self.scale = torch.tensor(_SCALE).view(1, 3, 1, 1)
        self.to(self.device)

    def to(self, device: str) -> LPIPSNet:
        for s in self.stages:
            s.to(device).eval().requires_grad_(False)
        self.lins = [w.to(device) for w in self.lins]
        self.shift, self.scale = self.shift.to(device), self.scale.to(device)
        self.device = device
        return self

    def __call__(self, x: Any, y: Any) -> Any:
        torch = _deps.torch()
        with torch.inference_mode():
            n = x.shape[0]
            h = torch.cat([x, y]).to(self.device, torch.float32)
            h = (h - self.shift) / self.scale
            total = torch.zeros(n, device=self.device)
            for stage, w in zip(self.stages, self.lins, strict=True):
                h = stage(h)
                f = h / (h.pow(2).sum(dim=1, keepdim=True).sqrt() + 1e-10)
                d = (f[:n] - f[n:]) ** 2
                total += torch.nn.functional.conv2d(d, w).mean(dim=(1, 2, 3))
            return total


_NETS: dict[tuple[str, str, str], LPIPSNet] = {}


def _get_net(net: str, weights: Any, device: str | None) -> LPIPSNet:
    key = (net, str(weights), _deps.resolve_device(device))
    if key not in _NETS:
        _NETS[key] = LPIPSNet(net, weights, device=key[2])
    return _NETS[key]


def lpips(
    preds: Any,
    target: Any,
    *,
    net: str = "alex",
    weights: str | Path | None = None,
    device: str | None = None,
    normalize: bool = False,
) -> Any:
    """LPIPS distance of each pair: a ``(B,)`` tensor. Inputs ``B x 3 x H x W`` in [-1, 1]
    (or [0, 1] with ``normalize=True``). The network is built once per (net, weights, device)."""
    return LPIPS(net=net, weights=weights, device=device, normalize=normalize)._score(preds, target)


class LPIPS(PerImageMetric):
    def __init__(
        self,
        *,
        net: str = "alex",
        weights: str | Path | None = None,
        device: str | None = None,
        normalize: bool = False,
    ):
        super().__init__()
        self.network = _get_net(net, weights, device)
        self.normalize = normalize

    def _score(self, preds: Any, target: Any) -> Any:
        torch = _deps.torch()
        p, t, _ = check_pair(preds, target, 1.0, torch.float32)
        if p.shape[1] != 3:
            raise InputError(f"LPIPS needs 3-channel images; got {p.shape[1]} channels")
        if self.normalize:
            p, t = p * 2 - 1, t * 2 - 1
        lo, hi = float(torch.minimum(p.min(), t.min())), float(torch.maximum(p.max(), t.max()))
        if lo < -1 - 1e-6 or hi > 1 + 1e-6:
            raise InputError(
                f"LPIPS inputs must lie in [-1, 1] (or [0, 1] with normalize=True); got [{lo:.3g}, {hi:.3g}]"
            )
        return self.network(p, t)
