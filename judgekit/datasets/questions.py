"""Question files by format: DSG CSV, TIFA JSON, GenEval metadata JSONL."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

from ..errors import DataError
from ..questions.graph import QuestionGraph


def load_questions(path: str | Path) -> dict[str, QuestionGraph]:
    """Load a question file by its format: ``.csv`` (DSG schema), ``.json`` (TIFA schema) or
    ``.jsonl`` (GenEval's ``evaluation_metadata.jsonl``, turned into questions).

    Malformed DSG dependency cells are repaired or skipped as ``datasets.dsg`` documents; the
    report is logged (and kept on each graph's ``meta["load_issues"]``)."""
    p = Path(path)
    if not p.exists():
        raise DataError(f"question file {p} does not exist")
    if p.suffix.lower() == ".csv":
        from .dsg import load_dsg_csv

        return load_dsg_csv(p).graphs
    if p.suffix.lower() == ".json":
        from .tifa import load_tifa_questions

        return load_tifa_questions(p)
    if p.suffix.lower() == ".jsonl":
        from .geneval import load_geneval

        return load_geneval(p)
    raise DataError(f"question file {p}: expected a .csv (DSG schema), .json (TIFA schema) or .jsonl (GenEval metadata)")


def save_questions(graphs: Iterable[QuestionGraph], path: str | Path) -> None:
    """Save in the schema the suffix names: ``.csv`` DSG, ``.json`` TIFA."""
    p = Path(path)
    if p.suffix.lower() == ".csv":
        from .dsg import save_dsg_csv

        save_dsg_csv(graphs, p)
    elif p.suffix.lower() == ".json":
        from .tifa import save_tifa_questions

        save_tifa_questions(graphs, p)
    else:
        raise DataError(f"question file {p}: expected a .csv (DSG schema) or .json (TIFA schema)")
