"""Synchronous twins of the async entry points (``score`` of ``score_async``, ``generate_questions``
of ``generate_questions_async``).

A twin is written ``def score(*args, **kwargs)`` so that it cannot drift from its coroutine;
``@same_signature(score_async)`` then gives it the coroutine's parameters, both for type checkers
(through ``ParamSpec``) and for ``help()`` / ``inspect.signature`` (through ``__wrapped__``).
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Coroutine
from typing import Any, ParamSpec, TypeVar

P = ParamSpec("P")
R = TypeVar("R")


def same_signature(
    coroutine_function: Callable[P, Coroutine[Any, Any, R]],
) -> Callable[[Callable[..., R]], Callable[P, R]]:
    """Declare that the decorated function takes exactly ``coroutine_function``'s arguments and
    returns what it returns once awaited."""

    def declare(fn: Callable[..., R]) -> Callable[P, R]:
        # Only __wrapped__ (which inspect.signature follows): the twin keeps its own name and doc.
        return functools.update_wrapper(fn, coroutine_function, assigned=(), updated=())

    return declare
