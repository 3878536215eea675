"""GEdit-Bench (stepfun-ai/Step1X-Edit, ``GEdit-Bench/``): 606 editing instructions in English
and Chinese over 11 task types, judged VIEScore-style.

Per edit, semantic consistency SC (the minimum of its instruction-following scores) and
perceptual quality PQ (the minimum of its quality scores), each 0-10, and O = sqrt(SC x PQ).
``calculate_statistics.py`` averages SC, PQ and O per task type for one language, then prints
the unweighted mean of the 11 task-type means ("Average"), and the same over the
``Intersection_exist`` rows.

Options (``--set``): ``language`` (``en`` default, or ``cn``), ``model`` (the model folder under
``--images``; needed when there are several).

``bench import gedit EVAL_DIR`` reads the official judge's per-edit scores as GEdit's
evaluation writes them (``<model>_<task_type>_gpt_score.csv``, the files the maintainers publish
as their intermediate results) and aggregates them as ``calculate_statistics.py`` does; the same
two options pick the language and the model.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

from ..datasets.gedit import LANGUAGE, TASK_TYPES, load_gedit
from ..errors import ConfigError, DataError
from ..importers.gedit import import_dir
from ..rubric import load_rubric
from ..types import Result
from .aggregate import Unit, mean
from .base import BenchRequest, ImportedOutputs, Prepared, check_import_options
from .card import Part, PromptChoice, ProtocolCard

CARD = ProtocolCard(
    name="gedit",
    title="GEdit-Bench",
    task="image editing",
    repository="stepfun-ai/Step1X-Edit (GEdit-Bench/); data: Hugging Face stepfun-ai/GEdit-Bench",
    official_judge="GPT-4.1 through the OpenAI API (undated alias), or Qwen2.5-VL-72B-Instruct",
    official_prompt="GEdit-Bench/viescore/vie_prompts.py (VIEScore's editing prompts)",
    aggregation="per edit O = sqrt(SC x PQ); per task type the means of SC, PQ, O; 'Average' = unweighted mean "
                "of the 11 task types (one language); the same over the intersection subset",
    data="the GEdit-Bench rows exported to JSON/JSONL without image columns (key, task_type, instruction, "
         "instruction_language, Intersection_exist), optionally with an input_image path",
    images="GEdit's results folder RESULTS/MODEL/fullset/TASK/LANG/KEY.png with KEY_SRCIMG.png beside it",
    license="Apache-2.0",
    runnable=True,
    parts=(
        Part("SC / PQ / O per edit", "approximate", "judgekit's gedit-edit rubric: four 0-10 criteria, one call each, "
             "in judgekit's wording; SC and PQ are the minima, O = sqrt(SC x PQ)"),
        Part("aggregation", "exact", "calculate_statistics.py's per-task means and their unweighted average"),
    ),
    known_issues=(
        "GPT-4.1 scores moved between April and June 2025; two runs on one day differ by about 0.1 (Step1X-Edit #74)",
        "content-filtered judge calls were recorded as SC = 0 (#145); judgekit fails and counts them",
        "unparseable Qwen2.5-VL replies were replaced by a guessed score (#101); judgekit fails and counts them",
        "calculate_statistics.py offers --language zh while the data writes Chinese as 'cn': zh matches no row",
    ),
    published_outputs="the maintainers publish per-edit GPT-4.1 / Qwen2.5-VL scores (Hugging Face "
                      "Shiyu95/gedit_results, Step1X-Edit #117): `bench import gedit` reads such <model>_<task>_gpt_score.csv "
                      "files; judgekit could not fetch that copy, so no published table is checked against them yet",
)


def _language(options: dict[str, Any]) -> str:
    lang = options.get("language", "en")
    if lang not in ("en", "cn"):
        raise ConfigError(f"--set language must be en or cn (GEdit's spelling), not {lang!r}")
    return str(lang)


def prepare(req: BenchRequest) -> Prepared:
    req.check_options(("language", "model"))
    lang = _language(req.options)
    if req.images is None:
        raise ConfigError("--images is required: GEdit's results folder RESULTS/ (with MODEL/fullset/TASK/LANG/KEY.png)")
    model = req.option("model", None, (str, type(None)))
    if model is None:
        found = sorted(p.name for p in req.images.iterdir() if (p / "fullset").is_dir()) if req.images.is_dir() else []
        if len(found) > 1:
            raise ConfigError(f"{req.images} holds several models {found}: pick one with --set model=NAME")
        model = found[0] if found else None
    samples = load_gedit(req.data, req.images, models=[model] if model else None)
    samples = [s for s in samples if s.meta["instruction_language"] == LANGUAGE[lang]]
    return Prepared(load_rubric("gedit-edit"), samples, PromptChoice("judgekit"),
                    notes=["judge prompts: judgekit's gedit-edit rubric, not VIEScore's official text"])


def unit(results: list[Result]) -> Unit:
    r = results[0]
    groups = getattr(r, "groups", None) or {}
    sc, pq = groups.get("SC"), groups.get("PQ")
    return {"task": r.meta.get("task_type"), "SC": sc, "PQ": pq,
            "O": math.sqrt(sc * pq) if sc is not None and pq is not None else None,
            "intersection": bool(r.meta.get("intersection"))}


def _task_average(units: list[Unit], measure: str) -> tuple[float, dict[str, float]]:
    per_task = {t: mean(u[measure] for u in units if u["task"] == t and u[measure] is not None) for t in TASK_TYPES}
    present = {t: v for t, v in per_task.items() if v == v}
    return mean(present.values()), present


def aggregate(units: list[Unit]) -> dict[str, float]:
    out: dict[str, float] = {}
    tables = {}
    for m in ("O", "SC", "PQ"):
        out[f"{m} average of task types"], tables[m] = _task_average(units, m)
    inter = [u for u in units if u["intersection"]]
    for m in ("O", "SC", "PQ"):
        out[f"{m} average of task types (intersection)"] = _task_average(inter, m)[0]
    for t in TASK_TYPES:
        for m in ("SC", "PQ", "O"):
            if t in tables[m]:
                out[f"{t} {m}"] = tables[m][t]
    return out


def official_text(estimates: dict[str, float]) -> str:
    lines = []
    for t in TASK_TYPES:
        if f"{t} O" in estimates:
            lines.append(f"{t}: {estimates[f'{t} SC']:.3f}, {estimates[f'{t} PQ']:.3f}, {estimates[f'{t} O']:.3f}")
    lines.append(f"Average: {estimates['SC average of task types']:.3f}, {estimates['PQ average of task types']:.3f}, "
                 f"{estimates['O average of task types']:.3f}")
    lines.append(f"Average Intersection: {estimates['SC average of task types (intersection)']:.3f}, "
                 f"{estimates['PQ average of task types (intersection)']:.3f}, "
                 f"{estimates['O average of task types (intersection)']:.3f}")
    return "\n".join(lines)


def import_outputs(source: Path, options: dict[str, Any]) -> ImportedOutputs:
    """The official judge's per-edit scores from GEdit's evaluation folder (the files
    ``test_gedit_score.py`` writes, ``<model>_<task_type>_gpt_score.csv``), for one model and one
    language, as ``calculate_statistics.py`` reads them."""
    check_import_options(options, ("language", "model"))
    lang = LANGUAGE[_language(options)]
    imported = import_dir(source, load_rubric("gedit-edit"))
    models = imported.notes["models"]
    model = None if options.get("model") is None else str(options["model"])
    if model is None:
        if len(models) != 1:
            raise ConfigError(f"{source} holds scores of several models {models}: pick one with --set model=NAME")
        model = models[0]
    elif model not in models:
        raise ConfigError(f"--set model={model}: {source} has scores of {models} only")
    results = [r for r in imported.records if r.model == model and r.meta.get("instruction_language") == lang]
    if not results:
        raise DataError(f"{source}: no {model} scores for language {options.get('language', 'en')}")
    notes = []
    if imported.notes["duplicate_rows"]:
        # calculate_statistics.py iterates every row, so a row written twice counts twice there.
        notes.append(f"{imported.notes['duplicate_rows']} duplicate rows (a resumed evaluation appends a row again) "
                     "counted once; calculate_statistics.py counts them twice")
    failed = sum(r.status == "failed" for r in results)
    if failed:
        notes.append(f"{failed} rows with an empty or off-scale score are failed and excluded; calculate_statistics.py "
                     "averages whatever the cell holds (an empty one makes its task type's mean NaN)")
    return results, notes
