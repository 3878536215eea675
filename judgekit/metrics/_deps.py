"""Lazy imports of the optional metric dependencies.

``import judgekit`` (and ``import judgekit.metrics``) never imports torch: each metric module
asks for its heavy dependencies here, at call time, and a missing one becomes a
``MissingDependencyError`` naming the ``metrics`` extra instead of a bare ``ImportError``.
"""

from __future__ import annotations

import importlib
from types import ModuleType

from ..errors import MissingDependencyError

# import name -> distribution name users install
_DISTRIBUTIONS = {
    "torch": "torch",
    "torchvision": "torchvision",
    "torch_fidelity": "torch-fidelity",
    "transformers": "transformers",
}


def require(module: str, purpose: str = "") -> ModuleType:
    """Import ``module`` or raise ``MissingDependencyError(<dist>, "metrics")``."""
    try:
        return importlib.import_module(module)
    except ImportError as exc:
        top = module.split(".")[0]
        raise MissingDependencyError(_DISTRIBUTIONS.get(top, top), "metrics", purpose) from exc


def torch() -> ModuleType:
    return require("torch", "the classical metrics")


def resolve_device(device: str | None = None) -> str:
    """``None`` -> ``"cuda"`` when a GPU is visible, else ``"cpu"``; anything else as given."""
    t = torch()
    if device in (None, "", "auto"):
        return "cuda" if t.cuda.is_available() else "cpu"
    if str(device).startswith("cuda") and not t.cuda.is_available():
        from ..errors import ConfigError

        raise ConfigError(f"--device {device} was asked for but CUDA is not available here; use --device cpu")
    return str(device)
