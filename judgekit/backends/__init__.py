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
_SETTINGS: dict[str, frozenset[str]] = {}

#: Settings the CLI and ``jk.score`` pass to every backend by name (``--base-url``, ...). A
#: backend declares which it takes; an explicit value for one it does not take is a usage error,
#: so callers never test backend names. ``concurrency`` is a hint that engines may ignore.
COMMON_SETTINGS = ("base_url", "api_key", "concurrency", "response_format", "replicas", "tensor_parallel", "ray_address")
_HINTS = frozenset({"concurrency"})


def _flag(name: str) -> str:
    """The CLI flag of a common setting (``api_key`` has none: it comes from the environment)."""
    return name if name == "api_key" else "--" + name.replace("_", "-")


def register_backend(prefix: str, loader: Callable[[], BackendFactory], settings: tuple[str, ...] = ()) -> None:
    """Register ``loader``, which returns a factory ``(model, options) -> Backend``; ``settings``
    names the common settings (``COMMON_SETTINGS``) the backend takes as options.

    ADD A BACKEND: write ``judgekit/backends/<name>.py`` with a class following ``Backend``
    (base.py) and add one ``register_backend("<name>", loader)`` line below."""
    _FACTORIES[prefix] = loader
    _SETTINGS[prefix] = frozenset(settings)


def _openai() -> BackendFactory:
    from .openai import OpenAIBackend

    def make(model: str, opts: dict[str, Any]) -> Backend:
        urls = opts.get("base_url")
        if isinstance(urls, list | tuple):  # several servers of one model: backends/multi.py
            if len(urls) > 1:
                from .multi import MultiEndpointBackend

                return MultiEndpointBackend(model, **opts)
            opts = {**opts, "base_url": urls[0] if urls else None}
        return OpenAIBackend(model, **opts)

    return make


def _vllm() -> BackendFactory:
    from .vllm import VLLMBackend

    return lambda model, opts: VLLMBackend(model, **opts)


def _hf() -> BackendFactory:
    from .hf import HFBackend

    return lambda model, opts: HFBackend(model, **opts)


def _replay() -> BackendFactory:
    from .replay import ReplayBackend

    return lambda model, opts: ReplayBackend(model, **opts)


def _ray_vllm() -> BackendFactory:
    from .ray_vllm import RayVLLMBackend

    return lambda model, opts: RayVLLMBackend(model, **opts)


register_backend("openai", _openai, settings=("base_url", "api_key", "concurrency", "response_format"))
register_backend("vllm", _vllm)
register_backend("hf", _hf)
register_backend("replay", _replay)
register_backend("ray-vllm", _ray_vllm, settings=("replicas", "tensor_parallel", "ray_address"))


def parse_spec(spec: str) -> tuple[str, str]:
    prefix, sep, model = spec.partition(":")
    if not sep or not model or prefix not in _FACTORIES:
        known = ", ".join(f"{p}:MODEL" for p in sorted(_FACTORIES))
        raise ConfigError(f"backend spec {spec!r} is not understood; expected one of {known}")
    return prefix, model


def make_backend(spec: str, settings: dict[str, Any] | None = None, **options: Any) -> Backend:
    """Build a backend from its spec, e.g. ``make_backend("openai:gpt-4o", base_url=...)``.

    ``options`` go to the backend as they are (``--engine-arg``); ``settings`` are the common
    settings (``COMMON_SETTINGS``; ``None`` values mean "not given"): those the backend takes are
    added to its options, an explicit one it does not take raises ``ConfigError``."""
    prefix, model = parse_spec(spec)
    accepted = _SETTINGS.get(prefix, frozenset())
    opts = dict(options)
    for name, value in (settings or {}).items():
        if value is None:
            continue
        if name in accepted:
            opts.setdefault(name, value)
        elif name not in _HINTS:
            raise ConfigError(f"{_flag(name)} does not apply to {prefix}: backends "
                              f"(it applies to: {', '.join(sorted(p for p, s in _SETTINGS.items() if name in s)) or 'none'})")
    return _FACTORIES[prefix]()(model, opts)


__all__ = ["COMMON_SETTINGS", "Backend", "make_backend", "parse_spec", "register_backend"]
