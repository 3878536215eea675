"""GEdit-Bench (stepfun-ai/Step1X-Edit, ``GEdit-Bench/``): 606 editing instructions in English
and Chinese over 11 task types, judged VIEScore-style.

Per edit, semantic consistency SC (the minimum of its instruction-following scores) and
perceptual quality PQ (the minimum of its quality scores), each 0-10, and O = sqrt(SC x PQ).
``calculate_statistics.py`` averages SC, PQ and O per task type for one language, then prints
the unweighted mean of the 11 task-type means ("Average"), and the same over the
``Intersection_exist`` rows.

Options (``--set``): ``language`` (``en`` default, or ``cn``), ``model`` (the model folder under
``--images``; needed when there are several).
"""

from __future__ import annotations

import math

from ..datasets.gedit import LANGUAGE, TASK_TYPES, load_gedit
from ..errors import ConfigError
from ..rubric import load_rubric
from ..types import Result
from .aggregate import Unit, mean
from .base import BenchRequest, Prepared
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
    published_outputs="reported to be published by the maintainers (intermediate judge outputs); judgekit "
                      "has not located or imported them",
)


def prepare(req: BenchRequest) -> Prepared:
    req.check_options(("language", "model"))
    lang = req.option("language", "en")
    if lang not in ("en", "cn"):
        raise ConfigError(f"--set language must be en or cn (GEdit's spelling), not {lang!r}")
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
