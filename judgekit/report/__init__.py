"""``jk.report``: one self-contained HTML file to look at a run.

    >>> import judgekit as jk
    >>> info = jk.report("results.jsonl", path="report.html",            # doctest: +SKIP
    ...                  calibration="cal.json", leaderboard="lb.json")
    >>> info.n_samples, info.bytes                                        # doctest: +SKIP

The page opens from disk with no network: thumbnails are embedded (or linked with
``link_images=True``), plotly.js is inline, and the data is one JSON blob rendered a page at a
time. See docs/report.md.

Modules: ``records`` (result records -> page rows, per rubric kind), ``thumbs`` (images),
``summary`` (groups, disagreement, CIs, failures by reason), ``plots`` (plotly figures), ``sources``
(leaderboard and calibration files), ``methods`` (safety, seeds and bias sections), ``identity``
(who judged), ``html`` (assembly and escaping).
"""

from __future__ import annotations

import os
import sys
import time
import types
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..errors import DataError
from ..results import Results, load_results
from ..types import Result, Sample

__all__ = ["ReportInfo", "report"]


@dataclass
class ReportInfo:
    """What ``report`` wrote."""

    path: Path
    n_samples: int
    n_failed: int
    n_images: int
    n_image_errors: int
    n_plots: int
    bytes: int
    seconds: float

    def __str__(self) -> str:
        errs = f", {self.n_image_errors} unreadable" if self.n_image_errors else ""
        return (f"{self.path}: {self.n_samples} samples ({self.n_failed} failed), {self.n_images} images{errs}, "
                f"{self.n_plots} plots, {self.bytes / 1e6:.1f} MB in {self.seconds:.1f} s")


def _as_files(results: Any) -> list[tuple[str, list[Result]]]:
    """Accept a path, a ``Results``, a list of records, or a list of paths / ``Results``."""
    if isinstance(results, str | Path):
        return [(Path(results).name, load_results(results).records)]
    if isinstance(results, Results):
        return [("results", results.records)]
    items = list(results)
    if items and all(isinstance(r, Result) for r in items):
        return [("results", items)]
    out: list[tuple[str, list[Result]]] = []
    for i, it in enumerate(items):
        if isinstance(it, str | Path):
            out.append((Path(it).name, load_results(it).records))
        elif isinstance(it, Results):
            out.append((f"results #{i + 1}", it.records))
        else:
            raise DataError(f"report: results item {i} is a {type(it).__name__}, not a results file or Results")
    return out


def _as_samples(samples: Any) -> dict[str, Sample]:
    if samples is None:
        return {}
    from ..manifest import load_samples

    if isinstance(samples, str | Path):
        return {s.id: s for s in load_samples(samples)}
    out: dict[str, Sample] = {}
    for src in samples:
        if isinstance(src, str | Path):
            out.update({s.id: s for s in load_samples(src)})
        else:
            s = load_samples([src])[0]
            out[s.id] = s
    return out


def report(
    results: Any,
    path: str | Path = "report.html",
    *,
    calibration: Any = None,
    leaderboard: Any = None,
    link_images: bool = False,
    samples: Any = None,
    title: str | None = None,
    thumb_size: int = 256,
    n_boot: int = 1000,
    seed: int = 0,
) -> ReportInfo:
    """Write the HTML report of ``results`` to ``path`` and return what was written.

    ``results``: a results file, a ``Results``, or a list of either (several runs side by side).
    ``calibration``: a ``judgekit calibrate --out`` file (or dict / ``CalibrationReport``).
    ``leaderboard``: a ``judgekit leaderboard --out`` file (or dict). ``samples``: manifest(s) to
    take prompts and image paths from when the results do not record them (files written before
    results carried ``inputs``). ``link_images``: link the original files (relative to the report)
    instead of embedding thumbnails.
    """
    from . import html, methods, plots, sources, summary
    from .identity import judge_identities
    from .records import build_rows

    t0 = time.perf_counter()
    out = Path(path)
    files = _as_files(results)
    if not any(recs for _, recs in files):
        raise DataError("report: the results are empty; there is nothing to show")
    # Probabilities and 0/1 text answers are never averaged together (results.split_scoring_modes).
    from ..results import mixed_mode_rubrics, mode_labelled, split_scoring_modes

    everything = [r for _, recs in files for r in recs]
    _, modes_note = split_scoring_modes(everything)
    mixed = mixed_mode_rubrics(everything)
    if mixed:  # label the records of the mixed rubrics in every file alike
        files = [(name, [mode_labelled(r) if r.rubric in mixed else r for r in recs]) for name, recs in files]
    lb = sources.load_leaderboard(leaderboard)
    cals = sources.load_calibration(calibration)
    rows, table = build_rows(((i, recs) for i, (_, recs) in enumerate(files)), _as_samples(samples))
    groups = summary.add_groups(rows)
    images = table.build(link_images=link_images, report_dir=out.parent, size=thumb_size)
    pair_recs: dict[str, list[Result]] = {}
    for _, recs in files:
        for r in recs:
            if (r.provenance or {}).get("kind") == "pairwise":
                pair_recs.setdefault(r.rubric, []).append(r)
    scores = summary.score_summary(rows, n_boot=n_boot, seed=seed)
    wins, pair_titles = summary.pairwise_summary(pair_recs, n_boot=n_boot, seed=seed)
    position = summary.position_summary(rows, n_boot=n_boot, seed=seed)
    models = sorted({m for r in rows for m in r["ms"]} | {r["model"] for r in (lb or {}).get("rows", [])})
    colors = plots.model_colors(models)
    safety = methods.safety_sections(files, methods.record_uids(files, rows))
    seeds = methods.seed_sections(files, n_boot=n_boot, seed=seed)
    bias = methods.bias_sections(files, n_boot=n_boot, seed=seed)
    figs = (plots.score_plots(rows, scores, colors) + plots.pairwise_plots(wins, position, colors)
            + plots.leaderboard_plots(lb, colors) + plots.calibration_plots(cals) + methods.bias_plots(bias, colors))
    for c in cals:  # the scatter's points are in the plot; the table needs only the statistics
        c.pop("items", None)
        c.pop("map", None)
    n_failed = sum(r["st"] == "failed" for r in rows)
    data = {
        "files": [name for name, _ in files], "rows": rows, "groups": groups, "images": images,
        "summary": scores, "wins": wins, "position": position, "leaderboard": lb, "calibration": cals, "plots": figs,
        "safety": safety, "seeds": seeds, "bias": bias, "pair_titles": pair_titles,
        "failures": summary.failure_table(rows), "judges": judge_identities(files),
        "rubrics": sorted({r["r"] for r in rows}), "kinds": sorted({r["k"] for r in rows}), "models": models,
        "dims": sorted({d for r in rows for d in r["sc"]}),
    }
    from .._version import __version__

    title = title or f"judgekit report: {', '.join(sorted({r['r'] for r in rows}))}"
    subtitle = (f"{len(rows):,} samples · {n_failed:,} failed · {', '.join(name for name, _ in files)} · "
                f"judgekit {__version__} · {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}")
    if modes_note:
        subtitle += " · " + modes_note.removeprefix("note: ")
    from ..judge_card import build_card

    data["judge_card"] = build_card(r for _, recs in files for r in recs)  # the whole card (judge_card.py)
    from ..repeat_summary import repeat_rows

    repeat_tables = [(name, repeat_rows(recs)) for name, recs in files]
    data["repeats"] = [{"file": name, "rows": table_rows} for name, table_rows in repeat_tables if table_rows]
    text = html.page(data, title, subtitle, link_images)
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_name(out.name + ".tmp")
    tmp.write_text(text, encoding="utf-8")
    os.replace(tmp, out)  # never a half-written report under the final name
    return ReportInfo(out, len(rows), n_failed, len(images), sum("error" in im for im in images), len(figs),
                      out.stat().st_size, time.perf_counter() - t0)


class _CallableModule(types.ModuleType):
    """``jk.report(...)`` runs :func:`report` while ``judgekit.report.records`` and
    ``from judgekit.report import ...`` keep reaching this package's modules (the package and
    the function share the name, as ``jk.calibrate`` does)."""

    def __call__(self, *args, **kwargs) -> ReportInfo:
        return report(*args, **kwargs)


sys.modules[__name__].__class__ = _CallableModule
