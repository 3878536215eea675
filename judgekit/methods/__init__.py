"""Judging methods, one per rubric kind, registered lazily by kind name."""

from __future__ import annotations

from .base import CallOutcome, JudgeCall, Method, SampleError, known_kinds, make_method, register_method


def _pointwise():
    from .pointwise import PointwiseMethod

    return PointwiseMethod


register_method("pointwise", _pointwise)

__all__ = ["CallOutcome", "JudgeCall", "Method", "SampleError", "known_kinds", "make_method", "register_method"]
