"""Judging methods, one module per rubric kind (the registry of kinds is ``judgekit.kinds``)."""

from __future__ import annotations

from typing import Any

from ..kinds import kind_factory, known_kinds, register_kind
from ._common import MethodOptions, parse_options, sample_images, sample_variables
from .base import CallOutcome, JudgeCall, Method, rubric_provenance


def make_method(rubric: Any, **options: Any) -> Method:
    """The method that runs ``rubric`` (its ``kind``), with the rubric's and these options."""
    return kind_factory(rubric.kind, str(rubric.source))(rubric, **options)


__all__ = [
    "CallOutcome",
    "JudgeCall",
    "Method",
    "MethodOptions",
    "known_kinds",
    "make_method",
    "parse_options",
    "register_kind",
    "rubric_provenance",
    "sample_images",
    "sample_variables",
]
