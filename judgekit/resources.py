"""Where the built-in files live: ``rubrics/``, ``prompts/`` and ``calibration/``.

In a wheel they are package data under ``judgekit/_data/`` (hatch force-include); in a source
checkout (editable install, tests) they are the top-level folders of the repository. Both are
found the same way, so an installed judgekit finds its rubrics from any directory.
"""

from __future__ import annotations

from functools import cache
from importlib import resources
from pathlib import Path

from .errors import ConfigError

_KINDS = ("rubrics", "prompts", "calibration")


@cache
def data_dir(kind: str) -> Path:
    """``data_dir("rubrics")`` -> the folder holding the built-in rubric files."""
    if kind not in _KINDS:
        raise ConfigError(f"unknown data folder {kind!r}; expected one of {_KINDS}")
    packaged = Path(str(resources.files("judgekit"))) / "_data" / kind
    if packaged.is_dir():
        return packaged
    return Path(__file__).resolve().parent.parent / kind


def data_path(kind: str, *parts: str) -> Path:
    """``data_path("calibration", "dsg", "tifa160-likert-anns.csv")``."""
    return data_dir(kind).joinpath(*parts)
