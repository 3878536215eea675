"""judgekit: judge text-to-image and image-editing outputs with a multimodal LLM.

    >>> import judgekit as jk
    >>> rubric = jk.load_rubric("viescore-t2i")
    >>> rubric.combine.rule
    'viescore'
"""

from __future__ import annotations

from typing import Any

from . import calibration, metrics  # metrics is lazy: no torch until a metric is used
from ._version import __version__
from .calibration import apply_calibration, calibrate
from .datasets.questions import load_questions, save_questions
from .errors import (
    BackendError,
    ConfigError,
    DataError,
    JudgekitError,
    MissingDependencyError,
    RubricError,
    TemplateError,
    VerdictParseError,
)
from .pairs import plan_pairs
from .questions.generate import generate_questions
from .questions.graph import Question, QuestionGraph
from .questions.scoring import score_graph
from .results import Results, load_results
from .reward import Reward
from .rubric import Rubric, load_rubric
from .runner import score, score_async
from .summaries import SmallSampleWarning
from .tables import load_samples  # JSONL, Parquet, save_to_disk folders, datasets.Dataset, lists
from .types import Result, Sample, Verdict

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
    "Reward",
    "Rubric",
    "RubricError",
    "Sample",
    "SmallSampleWarning",
    "TemplateError",
    "VerdictParseError",
    "Verdict",
    "__version__",
    "apply_calibration",
    "calibrate",
    "calibration",
    "drift_check",
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


def __getattr__(name: str) -> Any:
    # ``jk.report``: imported on first use, so ``import judgekit`` stays light.
    if name == "report":
        import importlib

        return importlib.import_module(".report", __name__)
    if name == "drift_check":  # lazily too: judgekit.drift sits above modules that import the package root
        import importlib

        return importlib.import_module(".drift", __name__).drift_check
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
