"""Backends, registered by spec prefix (``openai:``, ``vllm:``, ``hf:``, ``replay:``).

Factories import their optional dependencies lazily, so ``import judgekit`` never needs torch
or vLLM; a missing one raises ``MissingDependencyError`` naming the extra to install.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from ..errors import ConfigError
from .base import Backend

BackendFactory = Callable[[str, dict[str, Any]], Backend]
_FACTORIES: dict[str, Callable[[], BackendFactory]] = {}


def register_backend(prefix: str, loader: Callable[[], BackendFactory]) -> None:
    """Register ``loader``, which returns a factory ``(model, options) -> Backend``."""
    _FACTORIES[prefix] = loader


def _openai() -> BackendFactory:
    from .openai import OpenAIBackend

    return lambda model, opts: OpenAIBackend(model, **opts)


def _vllm() -> BackendFactory:
    from .vllm import VLLMBackend

    return lambda model, opts: VLLMBackend(model, **opts)


def _hf() -> BackendFactory:
    from .hf import HFBackend

    return lambda model, opts: HFBackend(model, **opts)


def _replay() -> BackendFactory:
    from .replay import ReplayBackend

    return lambda model, opts: ReplayBackend(model, **opts)


register_backend("openai", _openai)
register_backend("vllm", _vllm)
register_backend("hf", _hf)
register_backend("replay", _replay)


def parse_spec(spec: str) -> tuple[str, str]:
    prefix, sep, model = spec.partition(":")
    if not sep or not model or prefix not in _FACTORIES:
        known = ", ".join(f"{p}:MODEL" for p in sorted(_FACTORIES))
        raise ConfigError(f"backend spec {spec!r} is not understood; expected one of {known}")
    return prefix, model


def make_backend(spec: str, **options: Any) -> Backend:
    """Build a backend from its spec, e.g. ``make_backend("openai:gpt-4o", base_url=...)``."""
    prefix, model = parse_spec(spec)
    return _FACTORIES[prefix]()(model, options)


__all__ = ["Backend", "make_backend", "parse_spec", "register_backend"]
