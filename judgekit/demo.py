"""The offline demo on real data (``judgekit demo``), and the TIFA160 study it is built on.

It scores the 160 TIFA160 prompts' DSG questions for five text-to-image models with the answers
mPLUG-large gave, recorded by the DSG authors and replayed (``replay:``), then compares those
scores with DSG's human Likert ratings of the same images, next to TIFA's metric baselines
(CLIP score ...) and the human ceiling. Everything TIFA160-specific lives here, not in the
calibration core.
"""

from __future__ import annotations

import csv
import json
import logging
import time
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from .calibration.labels import HumanLabels
from .calibration.report import CalibrationReport, calibrate
from .calibration.scores import ScoreRow, Scores
from .errors import ConfigError
from .io import read_records
from .resources import data_path

MODELS_NOTE = "mini-dalle, sd1dot1, sd1dot5, sd2dot1, vq-diffusion"


def demo_files() -> tuple[Path, Path]:
    """The vendored question file and recorded-answer file the demo uses."""
    return (data_path("calibration", "dsg_tifa160", "tifa160-dsg1k-anns.csv"),
            data_path("calibration", "dsg_tifa160", "mplug_dsg_tifa160.csv"))


def _samples(graphs, models: list[str]):
    from .backends.replay import sample_id_for
    from .types import Sample

    # Every prompt x model, including pairs without recorded answers: those must show up as
    # failed samples, not vanish from the table.
    return [Sample(id=sample_id_for(item, m), prompt_id=item, model=m, prompt=g.prompt)
            for m in models for item, g in graphs.items()]


def category_table(results) -> list[dict[str, Any]]:
    """Per model and question category: mean question score after dependencies and raw, over
    every question of the model's scored samples (question-level micro average)."""
    acc: dict[tuple[str, str], list[list[float]]] = {}
    for r in results:
        if r.status != "ok":
            continue
        for q in r.details.get("questions", []):
            if q.get("score") is None:
                continue
            cell = acc.setdefault((r.model or "", q.get("category") or "uncategorized"), [[], []])
            cell[0].append(q["score"])
            cell[1].append(q["raw"])
    return [{"model": m, "category": c, "n_questions": len(v[0]), "accuracy": sum(v[0]) / len(v[0]),
             "accuracy_raw": sum(v[1]) / len(v[1])} for (m, c), v in sorted(acc.items())]


def _write_csv(path: Path, rows: list[dict[str, Any]], columns: list[str]) -> None:
    with path.open("w", encoding="utf-8", newline="") as fh:
        w = csv.DictWriter(fh, fieldnames=columns, extrasaction="ignore")
        w.writeheader()
        w.writerows(rows)


def _question_rows(results) -> list[dict[str, Any]]:
    rows = []
    for r in results:
        for q in r.details.get("questions", []):
            rows.append({"sample_id": r.sample_id, "prompt_id": r.prompt_id, "model": r.model, "question_id": q["id"],
                         "question": q["question"], "category": q.get("category"), "parents": " ".join(map(str, q["parents"])),
                         "answer": q.get("answer"), "raw": q.get("raw"), "score": q.get("score"),
                         "gated_by": " ".join(map(str, q.get("gated_by", []))), "error": q.get("error", "")})
    return rows


async def run_demo(out_dir: Path, n_boot: int = 1000) -> dict[str, Any]:
    """Run the demo, write its files into ``out_dir`` and return what it printed, as data."""
    from .backends.replay import ReplayBackend
    from .datasets.dsg import load_dsg_csv
    from .runner import score_async

    questions, answers = demo_files()
    t0 = time.perf_counter()
    out_dir.mkdir(parents=True, exist_ok=True)
    quiet = logging.getLogger("judgekit.datasets.dsg")
    level = quiet.level
    quiet.setLevel(logging.ERROR)  # the loader's repairs go to load_report.txt instead of stderr
    backend = ReplayBackend(str(answers))
    try:
        load = load_dsg_csv(questions)
        (out_dir / "load_report.txt").write_text(load.report() + "\n", encoding="utf-8")
        models = list(dict.fromkeys(m for _, m in backend.answers.pairs()))
        samples = _samples(load.graphs, models)
        results = await score_async("dsg", samples, backend, cache=False, out=out_dir / "results.jsonl",
                                    method_options={"questions": str(questions)})
    finally:
        quiet.setLevel(level)
        await backend.aclose()
    summary = results.summary(n_boot=n_boot)
    _write_csv(out_dir / "summary.csv", summary.rows, summary.columns)
    cats = category_table(results)
    _write_csv(out_dir / "categories.csv", cats, ["model", "category", "n_questions", "accuracy", "accuracy_raw"])
    _write_csv(out_dir / "questions.csv", _question_rows(results),
               ["sample_id", "prompt_id", "model", "question_id", "question", "category", "parents", "answer", "raw",
                "score", "gated_by", "error"])
    human = demo_comparison(results, out_dir, n_boot=n_boot)
    page = write_report(results, out_dir, n_boot)
    return {"results": results, "summary": summary, "categories": cats, "models": models, "load": load,
            "human": human, "report": page, "seconds": time.perf_counter() - t0}


def write_report(results, out_dir: Path, n_boot: int = 1000):
    """``report.html`` of the demo's results with the human comparison; a one-line hint instead
    when the report extra (plotly) is not installed."""
    from .errors import MissingDependencyError
    from .report import report

    cal = out_dir / "human_agreement.json"
    try:
        return report(results, out_dir / "report.html", calibration=cal if cal.is_file() else None, n_boot=n_boot,
                      title="judgekit demo: DSG scores of 5 text-to-image models on TIFA160")
    except MissingDependencyError as exc:
        return str(exc)


# --- the TIFA160 study: metric baselines and the comparison with people ---------------------------

#: The 10 automatic metrics in TIFA's human-annotation file.
TIFA_METRICS = (
    "clipscore_vitb32", "tifa_mplug-large", "tifa_blip2-flant5xl", "tifa_ofa-large", "tifa_git-large",
    "tifa_vilt", "spice", "meteor", "rouge", "bleu",
)


def tifa_metric_scores(metric: str = "clipscore_vitb32", name: str | None = None) -> Scores:
    """One metric's per-image scores from TIFA's human-annotation file, keyed like the DSG
    Likert file: ``prompt_id`` = DSG ``item_id`` (``tifa160_N``), ``model`` = DSG model name;
    ``sample_id`` keeps TIFA's ``<text_id>_<model>``."""
    from .calibration.labels import TIFA_TO_DSG_MODEL, builtin_path, tifa_text_to_dsg_item

    data = json.loads(builtin_path("tifa160").read_text(encoding="utf-8"))
    if metric not in next(iter(data.values())):
        raise ConfigError(f"no metric {metric!r} in the TIFA file; have {TIFA_METRICS}")
    to_item = tifa_text_to_dsg_item()
    rows = []
    for key, v in data.items():
        model = TIFA_TO_DSG_MODEL[key[len(v["text_id"]) + 1 :]]
        val = v.get(metric)
        rows.append(ScoreRow(None if val is None else float(val), key, to_item[v["text_id"]], model,
                             "" if val is not None else f"no {metric}"))
    return Scores(name or metric, metric, rows)


def _dsg_keyed(results) -> list[dict]:
    """Result records with TIFA-style ids or model names rewritten to the DSG file's."""
    from .calibration.labels import TIFA_TO_DSG_MODEL, tifa_text_to_dsg_item

    if hasattr(results, "records"):
        results = results.records
    if isinstance(results, (str, Path)):
        results = [r for _, r in read_records(results)[0]]
    to_item = tifa_text_to_dsg_item()
    out = []
    for r in results:
        d = r.model_dump() if hasattr(r, "model_dump") else dict(r)
        d["prompt_id"] = to_item.get(str(d.get("prompt_id")), d.get("prompt_id"))
        d["model"] = TIFA_TO_DSG_MODEL.get(str(d.get("model")), d.get("model"))
        out.append(d)
    return out


def compare_with_humans(
    results,
    human: str | Path | HumanLabels | None = None,
    baselines: Iterable[str] | Mapping[str, Any] = ("clipscore_vitb32",),
    *,
    judge_name: str = "judge",
    judge_column: str | None = None,
    n_boot: int = 1000,
    seed: int = 0,
) -> CalibrationReport:
    """Judge scores on the TIFA160 images against DSG's human Likert ratings (5 raters), next to
    TIFA's metric baselines and the human ceiling. ``print(report.table())`` shows it.

    ``results``: judgekit results (a file, a ``Results`` object or records) keyed by
    ``prompt_id`` + ``model``; ``prompt_id`` is DSG's ``tifa160_N`` (or TIFA's ``coco_...`` text
    id) and ``model`` DSG's (``mini-dalle``, ``sd1dot1``, ``sd1dot5``, ``sd2dot1``,
    ``vq-diffusion``) or TIFA's name. ``baselines``: names from :data:`TIFA_METRICS`, or
    ``{name: source}`` of other score files keyed the same way.
    """
    from .calibration.labels import builtin_labels

    labels = builtin_labels("dsg-tifa160-likert") if human is None else human
    if isinstance(baselines, Mapping):
        bl: dict[str, Any] = dict(baselines)
    else:
        bl = {("clip_score" if m == "clipscore_vitb32" else m): tifa_metric_scores(m) for m in baselines}
    return calibrate(
        _dsg_keyed(results), labels, bl, judge_column=judge_column, judge_name=judge_name,
        human_scale=(1, 5), on="prompt_id,model", n_boot=n_boot, seed=seed,
    )


def demo_comparison(results, out_dir: str | Path | None = None, n_boot: int = 1000, seed: int = 0) -> str:
    """The demo's hook: :func:`compare_with_humans` on the demo's results, the report written
    to ``out_dir/human_agreement.json`` when given, and the printable table returned."""
    rep = compare_with_humans(results, n_boot=n_boot, seed=seed, judge_name="dsg (mplug answers)")
    if out_dir is not None:
        rep.save(Path(out_dir) / "human_agreement.json")
    head = ("Agreement with people: DSG's 1-5 Likert ratings of the same images (5 raters; item level "
            "against their mean), next to CLIP score and the human ceiling (each rater vs the others)")
    return head + "\n" + rep.table(statistics=["pearson", "spearman", "kendall_tau_b", "pairwise_accuracy"], wide=True)
