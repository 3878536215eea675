"""Classical metrics as baseline comparators: FID, KID, CLIP score, SSIM, PSNR, MSE, LPIPS;
diversity (Vendi, pairwise LPIPS/CLIP distance), PRDC and nearest-neighbour memorization search.

Each is a pure function plus a small accumulating class (torchmetrics-style). Importing this
package does not import torch: names are resolved on first use, and a missing optional
dependency raises ``MissingDependencyError`` naming the ``metrics`` extra.

>>> import judgekit.metrics as jm                                               # doctest: +SKIP
>>> jm.psnr(img, ref, data_range=255)                                           # doctest: +SKIP
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

_EXPORTS = {
    "fid": "_fid", "FID": "_fid", "FIDResult": "_fid", "fid_per_group": "_fid",
    "kid": "_kid", "KID": "_kid", "KIDResult": "_kid", "kid_from_features": "_kid",
    "frechet_distance": "frechet", "ReferenceStats": "frechet",
    "FeatureStats": "gaussian", "StatsAccumulator": "gaussian",
    "InceptionExtractor": "extractors", "ModuleExtractor": "extractors", "FeatureExtractor": "extractors",
    "clip_score": "_clip", "CLIPScore": "_clip", "CLIPScorer": "_clip",
    "ssim": "_ssim", "SSIM": "_ssim",
    "psnr": "_psnr", "PSNR": "_psnr", "mse": "_psnr", "MSE": "_psnr",
    "lpips": "_lpips", "LPIPS": "_lpips",
    "vendi_score": "_vendi", "VendiScore": "_vendi",
    "prdc": "_prdc", "PRDC": "_prdc",
    "nearest_neighbours": "_nearest", "memorization": "_nearest", "NearestNeighbour": "_nearest",
    "per_prompt_diversity": "_diversity", "diversity_summary": "_diversity", "Diversity": "_diversity",
    "mean_pairwise_cosine_distance": "_diversity", "mean_pairwise_lpips": "_diversity",
}  # fmt: skip

__all__ = sorted(_EXPORTS)

# The real names for type checkers (exported through __all__ above, hence the noqa); at run time
# __getattr__ below imports each on first use, so importing the package stays free of torch.
if TYPE_CHECKING:
    from ._clip import CLIPScore, CLIPScorer, clip_score  # noqa: F401
    from ._diversity import (  # noqa: F401
        Diversity,
        diversity_summary,
        mean_pairwise_cosine_distance,
        mean_pairwise_lpips,
        per_prompt_diversity,
    )
    from ._fid import FID, FIDResult, fid, fid_per_group  # noqa: F401
    from ._kid import KID, KIDResult, kid, kid_from_features  # noqa: F401
    from ._lpips import LPIPS, lpips  # noqa: F401
    from ._nearest import NearestNeighbour, memorization, nearest_neighbours  # noqa: F401
    from ._prdc import PRDC, prdc  # noqa: F401
    from ._psnr import MSE, PSNR, mse, psnr  # noqa: F401
    from ._ssim import SSIM, ssim  # noqa: F401
    from ._vendi import VendiScore, vendi_score  # noqa: F401
    from .extractors import FeatureExtractor, InceptionExtractor, ModuleExtractor  # noqa: F401
    from .frechet import ReferenceStats, frechet_distance  # noqa: F401
    from .gaussian import FeatureStats, StatsAccumulator  # noqa: F401


def __getattr__(name: str) -> Any:
    mod = _EXPORTS.get(name)
    if mod is None:
        raise AttributeError(f"module 'judgekit.metrics' has no attribute {name!r}")
    value = getattr(importlib.import_module(f"{__name__}.{mod}"), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_EXPORTS))
