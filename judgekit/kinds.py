"""The registry of rubric kinds: a kind's name -> where its method class lives.

It sits below both ``rubric`` (which refuses an unknown ``kind:``) and ``methods`` (which builds
the method), so neither imports the other. Targets are ``"module:attribute"`` strings imported
only when a rubric of that kind is run, so ``import judgekit`` stays light.

ADD A RUBRIC KIND: write ``judgekit/methods/<kind>.py`` with a class ``factory(rubric, **options)``,
add one line to ``BUILTIN_KINDS`` below (or call ``register_kind`` from your own package), then a
rubric YAML with ``kind: <kind>`` and its template (see docs/extending.md).
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from typing import Any

from .errors import RubricError

BUILTIN_KINDS: dict[str, str] = {
    "pointwise": "judgekit.methods.pointwise:PointwiseMethod",
    "pairwise": "judgekit.methods.pairwise:PairwiseMethod",
    "questions": "judgekit.methods.questions:QuestionMethod",
    "vqascore": "judgekit.methods.vqascore:VQAScoreMethod",
    "text-rendering": "judgekit.methods.text_rendering:TextRenderingMethod",
    "attributes": "judgekit.methods.attributes:AttributesMethod",
}

_KINDS: dict[str, str | Callable[..., Any]] = dict(BUILTIN_KINDS)


def register_kind(kind: str, target: str | Callable[..., Any]) -> None:
    """Register a rubric kind: ``target`` is a factory ``(rubric, **options) -> Method`` or a
    ``"module:attribute"`` string naming one (imported on first use)."""
    _KINDS[kind] = target


def known_kinds() -> list[str]:
    return sorted(_KINDS)


def kind_factory(kind: str, source: str = "<rubric>") -> Callable[..., Any]:
    """The method factory of ``kind``; an unknown kind is a ``RubricError`` naming the file."""
    if kind not in _KINDS:
        raise RubricError(f"{source}: field 'kind': {kind!r} is not one of {known_kinds()}")
    target = _KINDS[kind]
    if isinstance(target, str):
        module, _, attr = target.partition(":")
        target = getattr(importlib.import_module(module), attr)
        _KINDS[kind] = target
    return target
