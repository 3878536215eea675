"""Published benchmarks, each run the way its maintainers run it: ``judgekit bench``.

One module per benchmark with its ``ProtocolCard`` (``card.py``); ``engine.py`` runs one
(manifest from the benchmark's own files, judging through the cached runner, the official
aggregation with bootstrap CIs over prompts) and rebuilds a report from a run folder.
"""

from __future__ import annotations

from .base import BenchRequest, Prepared
from .card import Part, PromptChoice, ProtocolCard
from .engine import (
    BENCHMARKS,
    BenchReport,
    benchmark_module,
    build_report,
    cards,
    import_outputs,
    report_from_dir,
    run_benchmark_async,
)

__all__ = [
    "BENCHMARKS",
    "BenchReport",
    "BenchRequest",
    "Part",
    "Prepared",
    "PromptChoice",
    "ProtocolCard",
    "benchmark_module",
    "build_report",
    "cards",
    "import_outputs",
    "report_from_dir",
    "run_benchmark_async",
]
