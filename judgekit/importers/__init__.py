"""Importers: a published judge's recorded verdicts read into judgekit results, so they can be
re-aggregated, summarized and calibrated without calling the judge again.

    >>> from judgekit.importers import import_verdicts              # doctest: +SKIP
    >>> res = import_verdicts("viescore", "results_gpt4o_0shot/ImagenHub_Text-Guided_IE")  # doctest: +SKIP

Each format is one module registered in :mod:`judgekit.importers.base` (``viescore``,
``gedit``; a t2v_metrics score file would be one more).
"""

from __future__ import annotations

from pathlib import Path

from ..results import Results
from ..rubric import Rubric, load_rubric
from .base import GroupEntry, Imported, group_record, known_importers, register_importer


def import_verdicts(name: str, path: str | Path, rubric: str | Path | Rubric | None = None, **options) -> Results:
    """Read ``path`` with the importer ``name`` into :class:`~judgekit.Results` laid out by
    ``rubric``; malformed items are ``failed`` records that say why. Without ``rubric`` the
    importer picks the built-in one for what it reads (``viescore``: by the ImagenHub task in the
    folder name; ``gedit``: ``gedit-edit``)."""
    from .base import default_rubric, get_importer

    if rubric is None:
        rubric = default_rubric(name, Path(path))
    imp = get_importer(name)(Path(path), load_rubric(rubric), **options)
    return Results(imp.records, run_info={"imported": name, "source": imp.source, **imp.notes})


__all__ = ["GroupEntry", "Imported", "group_record", "import_verdicts", "known_importers", "register_importer"]
