"""``bench run`` and ``bench report``: prepare a benchmark's manifest, judge it through the
runner (cached, so a rerun resumes), and aggregate the results the official way with CIs.

A run folder holds ``bench.json`` (the benchmark, its options, the prompt used, the image
checks), ``manifest.jsonl`` (the samples judged), ``results.jsonl`` (one result per sample) and
``report.json`` (the headline table). ``bench report DIR`` recomputes the table from the
results, so the table always follows from the raw answers.
"""

from __future__ import annotations

import importlib
import json
import time
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType
from typing import Any

from .._version import __version__
from ..errors import ConfigError, DataError
from ..io import read_json
from ..results import load_results
from ..runner import score_async
from ..types import Result
from .aggregate import Statistic, bootstrap_statistics, group_by_prompt
from .base import BenchRequest, ImportedOutputs, Prepared
from .card import ProtocolCard
from .quirks import QuirkCounts, count_image_quirks, count_result_quirks

#: Every benchmark ``bench list`` shows, in its order: name -> module.
BENCHMARKS: dict[str, str] = {
    "geneval2": "judgekit.benchmarks.geneval2",
    "dpg": "judgekit.benchmarks.dpg",
    "geneval": "judgekit.benchmarks.geneval",
    "gedit": "judgekit.benchmarks.gedit",
    "imgedit": "judgekit.benchmarks.imgedit",
    "longtext": "judgekit.benchmarks.longtext",
    "oneig": "judgekit.benchmarks.oneig",
    "wise": "judgekit.benchmarks.wise",
    "tiif": "judgekit.benchmarks.tiif",
    "t2i-compbench": "judgekit.benchmarks.t2i_compbench",
    "kris": "judgekit.benchmarks.kris",
    "risebench": "judgekit.benchmarks.risebench",
}


def benchmark_module(name: str) -> ModuleType:
    if name not in BENCHMARKS:
        raise ConfigError(f"unknown benchmark {name!r}; `judgekit bench list` shows: {', '.join(BENCHMARKS)}")
    return importlib.import_module(BENCHMARKS[name])


def cards() -> list[ProtocolCard]:
    return [benchmark_module(n).CARD for n in BENCHMARKS]


@dataclass
class BenchReport:
    benchmark: str
    statistics: list[Statistic]
    quirks: QuirkCounts
    prompt: str  # how the judge prompt was chosen, in words
    n_prompts: int
    n_samples: int
    official_text: str
    notes: list[str] = field(default_factory=list)
    method: str = ""
    backend: str = ""

    @property
    def headline(self) -> Statistic:
        return self.statistics[0]

    def to_json(self) -> dict[str, Any]:
        return {"benchmark": self.benchmark, "method": self.method, "backend": self.backend,
                "headline": self.headline.to_json(), "statistics": [s.to_json() for s in self.statistics],
                "quirks": self.quirks.to_json(), "prompt": self.prompt, "n_prompts": self.n_prompts,
                "n_samples": self.n_samples, "official_text": self.official_text, "notes": self.notes}

    def text(self) -> str:
        """The official evaluator's headline, then judgekit's table with 95% CIs."""
        card = benchmark_module(self.benchmark).CARD
        q = self.quirks
        lines = [self.official_text, "",
                 f"{card.title}" + (f" ({self.method})" if self.method else "") + f", judge {self.backend or '?'}: "
                 f"{self.n_prompts} prompts, {self.n_samples} samples scored, {q.failed_samples} failed (excluded)",
                 f"{'statistic':<34} {'estimate':>9}  95% CI (bootstrap over prompts)"]
        for s in self.statistics:
            ci = "undefined" if not (s.lo == s.lo and s.hi == s.hi) else f"[{s.lo:.2f}, {s.hi:.2f}]"
            # NaN when no prompt was scored (or a category is empty): say so, never print `nan`.
            est = f"{s.estimate:>9.2f}" if s.estimate == s.estimate else f"{'n/a':>9}"
            lines.append(f"{s.name:<34} {est}  {ci}")
        lines.append(q.line())
        lines.append(f"judge prompt: {self.prompt}")
        lines.extend(f"note: {n}" for n in self.notes)
        return "\n".join(lines)


def build_report(benchmark: str, results: list[Result], info: dict[str, Any], n_boot: int = 1000) -> BenchReport:
    """The official aggregation of ``results`` with bootstrap CIs, and the quirk counts."""
    mod = benchmark_module(benchmark)
    groups = group_by_prompt(results)
    units = [mod.unit(g) for g in groups.values()]
    stats = bootstrap_statistics(units, mod.aggregate, n_boot=n_boot)
    quirks = QuirkCounts(**{k: v for k, v in info.get("image_quirks", {}).items()})
    count_result_quirks(results, quirks)
    estimates = {s.name: s.estimate for s in stats}
    # A benchmark may add notes read from the results themselves (KRIS-Bench: replies its
    # official parser would have read differently), so `bench report` recomputes them too.
    notes = list(info.get("notes", [])) + (mod.result_notes(results) if hasattr(mod, "result_notes") else [])
    return BenchReport(benchmark, stats, quirks, info.get("prompt", ""), len(units),
                       sum(len(g) for g in groups.values()), mod.official_text(estimates),
                       notes, info.get("method", ""), info.get("backend", ""))


def prepare(benchmark: str, request: BenchRequest) -> Prepared:
    mod = benchmark_module(benchmark)
    if not mod.CARD.runnable:
        raise ConfigError(f"benchmark {benchmark!r} is listed for reference only: judgekit does not run it yet "
                          f"(`judgekit bench list --verbose` shows its protocol card)")
    if request.method is not None and request.method not in mod.CARD.methods:
        accepted = ", ".join(mod.CARD.methods) or "none (it has one scoring method)"
        raise ConfigError(f"--method {request.method!r} is not a method of {benchmark}; accepted: {accepted}")
    if not request.data.exists():
        raise ConfigError(f"--data {request.data} does not exist ({mod.CARD.data})")
    if request.protocol_dir is not None and not mod.CARD.protocol_dir:
        raise ConfigError(f"--protocol-dir: judgekit does not read {benchmark}'s official prompt yet; "
                          "leave it out to use judgekit's own wording")
    if request.protocol_dir is not None and not request.protocol_dir.is_dir():
        raise ConfigError(f"--protocol-dir {request.protocol_dir} is not a directory (a checkout of {mod.CARD.repository})")
    prepared: Prepared = mod.prepare(request)
    if not prepared.samples:
        raise DataError(f"{request.data}: no {benchmark} items found")
    return prepared


async def run_benchmark_async(
    benchmark: str,
    request: BenchRequest,
    backend: Any,
    *,
    cache: str | Path | bool | None = True,
    concurrency: int = 16,
    parse_retries: int = 2,
    progress: bool | None = False,
    n_boot: int = 1000,
    backend_name: str | None = None,
) -> BenchReport:
    """Judge ``benchmark`` on the user's images and write the run folder ``request.work_dir``."""
    prepared = prepare(benchmark, request)
    out = request.work_dir
    out.mkdir(parents=True, exist_ok=True)
    image_quirks = QuirkCounts()
    flagged = count_image_quirks(prepared.samples, image_quirks)
    backend_name = backend_name or (backend if isinstance(backend, str) else "")
    info = {
        "benchmark": benchmark, "method": prepared.method, "backend": str(backend_name),
        "data": str(request.data), "images": str(request.images) if request.images else None,
        "options": request.options, "prompt": prepared.prompt.describe(), "prompt_texts": prepared.prompt.texts,
        "notes": prepared.notes, "image_quirks": {**{k: v for k, v in image_quirks.to_json().items() if k.endswith("_images")},
                         **prepared.extra_quirks},
        "flagged_images": flagged, "judgekit_version": __version__,
        "created": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
    }
    (out / "bench.json").write_text(json.dumps(info, indent=1, ensure_ascii=False), encoding="utf-8")
    with (out / "manifest.jsonl").open("w", encoding="utf-8") as fh:
        for s in prepared.samples:
            fh.write(s.model_dump_json(exclude_defaults=True) + "\n")
    if prepared.follow_up is not None:  # a first stage whose replies the second one builds on
        first = await score_async(prepared.rubric, prepared.samples, backend, cache=cache, out=out / "first_stage.jsonl",
                                  concurrency=concurrency, parse_retries=parse_retries, progress=progress,
                                  method_options=prepared.method_options)
        prepared = prepared.follow_up(list(first))
    results = await score_async(prepared.rubric, prepared.samples, backend, cache=cache, out=out / "results.jsonl",
                                concurrency=concurrency, parse_retries=parse_retries, progress=progress,
                                method_options=prepared.method_options)
    report = build_report(benchmark, list(results), info, n_boot=n_boot)
    (out / "report.json").write_text(json.dumps(report.to_json(), indent=1, ensure_ascii=False), encoding="utf-8")
    return report


def report_from_dir(folder: str | Path, n_boot: int = 1000) -> BenchReport:
    """Recompute a run folder's report from its ``bench.json`` and ``results.jsonl``."""
    d = Path(folder)
    info = read_json(d / "bench.json", "a bench run's record")
    if not isinstance(info, dict) or "benchmark" not in info:
        raise DataError(f"{d / 'bench.json'}: not a `judgekit bench run` record")
    if not (d / "results.jsonl").is_file():
        raise DataError(f"{d}: no results.jsonl (the run has not judged anything yet: rerun `judgekit bench run`)")
    return build_report(str(info["benchmark"]), list(load_results(d / "results.jsonl")), info, n_boot=n_boot)


def import_outputs(benchmark: str, source: str | Path, folder: str | Path, n_boot: int = 1000,
                   options: dict[str, Any] | None = None) -> BenchReport:
    """A run folder from the official judge's published per-sample outputs (benchmarks whose
    module has ``import_outputs``), so ``bench report`` shows the official aggregation of the
    official answers. ``options`` are the benchmark's ``--set`` import options."""
    mod = benchmark_module(benchmark)
    if not hasattr(mod, "import_outputs"):
        readable = [n for n in BENCHMARKS if hasattr(benchmark_module(n), "import_outputs")]
        raise ConfigError(f"judgekit does not read {benchmark}'s published judge outputs; it does for: {', '.join(readable)}")
    imported: ImportedOutputs = mod.import_outputs(Path(source), dict(options or {}))
    results, notes = imported
    out = Path(folder)
    out.mkdir(parents=True, exist_ok=True)
    info: dict[str, Any] = {"benchmark": benchmark, "method": "", "backend": "the official judge (published outputs)",
            "data": str(source), "images": None, "options": dict(options or {}),
            "prompt": f"official judge outputs imported from {source}", "notes": list(notes), "image_quirks": {},
            "judgekit_version": __version__, "created": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())}
    (out / "bench.json").write_text(json.dumps(info, indent=1, ensure_ascii=False), encoding="utf-8")
    with (out / "results.jsonl").open("w", encoding="utf-8") as fh:
        for r in results:
            fh.write(r.model_dump_json() + "\n")
    report = build_report(benchmark, results, info, n_boot=n_boot)
    (out / "report.json").write_text(json.dumps(report.to_json(), indent=1, ensure_ascii=False), encoding="utf-8")
    return report
