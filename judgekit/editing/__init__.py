"""Image-editing evaluation: GEdit-style summaries and benchmark manifests.

    >>> from judgekit.editing import summarize_edits        # doctest: +SKIP
    >>> print(summarize_edits("judge.jsonl").table())       # doctest: +SKIP

Benchmark loaders live in :mod:`judgekit.datasets` (``gedit``, ``imgedit``, ``imagenhub_tasks``);
ImagenHub's human ratings in :mod:`judgekit.calibration.imagenhub`; importing a published judge's
verdicts in :mod:`judgekit.importers`. See docs/editing.md.
"""

from __future__ import annotations

from .manifest import write_manifest
from .summary import EditSummary, summarize_edits

__all__ = ["EditSummary", "summarize_edits", "write_manifest"]
