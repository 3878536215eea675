"""Judging methods, one per rubric kind, registered lazily by kind name."""

from __future__ import annotations

from .base import CallOutcome, JudgeCall, Method, SampleError, known_kinds, make_method, register_method


def _pointwise():
    from .pointwise import PointwiseMethod

    return PointwiseMethod


register_method("pointwise", _pointwise)


def _questions():
    from .questions import QuestionMethod

    return QuestionMethod


def _vqascore():
    from .vqascore import VQAScoreMethod

    return VQAScoreMethod


def _text_rendering():
    from .text_rendering import TextRenderingMethod

    return TextRenderingMethod


register_method("questions", _questions)
register_method("vqascore", _vqascore)
register_method("text-rendering", _text_rendering)


def _pairwise():
    from .pairwise import PairwiseMethod

    return PairwiseMethod


register_method("pairwise", _pairwise)


def _attributes():
    from .attributes import AttributesMethod

    return AttributesMethod


register_method("attributes", _attributes)

__all__ = ["CallOutcome", "JudgeCall", "Method", "SampleError", "known_kinds", "make_method", "register_method"]
