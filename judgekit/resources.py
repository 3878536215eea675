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

_FOLDERS = ("rubrics", "prompts", "calibration")


@cache
def data_dir(folder: str) -> Path:
    """``data_dir("rubrics")`` -> the folder holding the built-in rubric files."""
    if folder not in _FOLDERS:
        raise ConfigError(f"unknown data folder {folder!r}; expected one of {_FOLDERS}")
    packaged = Path(str(resources.files("judgekit"))) / "_data" / folder
    if packaged.is_dir():
        return packaged
    return Path(__file__).resolve().parent.parent / folder


def data_path(folder: str, *parts: str) -> Path:
    """``data_path("calibration", "dsg", "tifa160-likert-anns.csv")``."""
    return data_dir(folder).joinpath(*parts)
