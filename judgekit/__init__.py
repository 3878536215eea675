"""judgekit: judge text-to-image and image-editing outputs with a multimodal LLM.

    >>> import judgekit as jk
    >>> rubric = jk.load_rubric("viescore-t2i")
    >>> rubric.combine.rule
    'viescore'
"""

from __future__ import annotations

__version__ = "0.1.0"

from . import calibrate, metrics  # noqa: E402  (calibrate: a callable module; metrics: lazy, no torch until used)
from .calibration_maps import apply_calibration  # noqa: E402
from .errors import (  # noqa: E402
    BackendError,
    ConfigError,
    DataError,
    JudgekitError,
    MissingDependencyError,
    RubricError,
    TemplateError,
    VerdictParseError,
)
from .manifest import load_samples  # noqa: E402
from .pairs import plan_pairs  # noqa: E402
from .question_graph import Question, QuestionGraph, load_questions, save_questions  # noqa: E402
from .question_scoring import score_graph  # noqa: E402
from .questiongen import generate_questions  # noqa: E402
from .results import Results, load_results  # noqa: E402
from .rubric import Rubric, load_rubric  # noqa: E402
from .runner import score, score_async  # noqa: E402
from .types import Result, Sample, Verdict  # noqa: E402

__all__ = [
    "BackendError",
    "ConfigError",
    "DataError",
    "JudgekitError",
    "MissingDependencyError",
    "Question",
    "QuestionGraph",
    "Result",
    "Results",
    "Rubric",
    "RubricError",
    "Sample",
    "TemplateError",
    "VerdictParseError",
    "Verdict",
    "__version__",
    "apply_calibration",
    "calibrate",
    "generate_questions",
    "load_questions",
    "load_results",
    "load_rubric",
    "load_samples",
    "metrics",
    "plan_pairs",
    "report",
    "save_questions",
    "score",
    "score_async",
    "score_graph",
]


def __getattr__(name: str):
    # ``jk.report``: imported on first use, so ``import judgekit`` stays light.
    if name == "report":
        import importlib

        return importlib.import_module(".report", __name__)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
