"""TIIF-Bench (A113N-W3I/TIIF-Bench): instruction following in 36 dimensions, each prompt in a
short and a long version, judged by yes/no questions.

Its evaluation prompts (``data/test_eval_prompts/*.jsonl`` or ``data/testmini_eval_prompts``)
hold per line ``type``, ``yn_question_list`` and ``yn_answer_list``; the images follow its
layout ``IMAGES/<type>/<model>/<short|long>_description/<line index>.<ext>``. One judge call per
image asks all of the prompt's questions; the reply has one line per question starting with
yes or no. ``summary_results.py`` pools the questions of each (dimension, short|long) cell into
an accuracy; ``summary_dimension_results.py`` averages the cells into nine groups (basic
attribute / relation / reasoning, advanced attribute+relation / attribute+reasoning /
relation+reasoning / text / style, real-world) per length, and the overall per length is the
mean of the nine groups.

Options (``--set``): ``model`` (the model folder name; needed when there are several).
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

from ..errors import ConfigError, DataError, VerdictParseError
from ..io import read_json
from ..rubric import Rubric
from ..types import Result, Sample
from . import replies
from .aggregate import Unit, mean
from .base import BenchRequest, ImportedOutputs, Prepared, check_import_options
from .card import Part, PromptChoice, ProtocolCard

GROUPS: dict[str, tuple[str, ...]] = {
    "Basic Attribute": ("shape+color", "color+texture", "texture+color", "shape+texture"),
    "Basic Relation": ("2d_spatial_relation", "3d_spatial_relation", "action+2d", "action+3d"),
    "Basic Reasoning": ("numeracy", "negation", "differentiation", "comparison"),
    "Advanced Attribute+Relation": ("action+color", "action+texture", "color+2d", "color+3d", "shape+2d", "shape+3d",
                                    "texture+2d", "texture+3d"),
    "Advanced Attribute+Reasoning": ("numeracy+color", "numeracy+texture", "comparison+color", "comparison+texture",
                                     "differentiation+color", "differentiation+texture", "negation+color",
                                     "negation+texture"),
    "Advanced Relation+Reasoning": ("numeracy+2d", "numeracy+3d", "comparison+2d", "comparison+3d",
                                    "differentiation+2d", "differentiation+3d", "negation+2d", "negation+3d"),
    "Advanced Text Generation": ("text",),
    "Advanced Style Control": ("style",),
    "Real-world Complex": ("real_world",),
}
LENGTHS = ("short", "long")
_EXTS = (".png", ".jpg", ".jpeg", ".webp")

OWN_SYSTEM = "You inspect images and answer questions about them."
OWN_TEMPLATE = (
    "Look at the image and answer each yes/no question below.\n{questions}\n"
    "Write one line per question, in the same order, each beginning with yes or no and then a short reason. "
    "Write nothing else."
)

CARD = ProtocolCard(
    name="tiif",
    title="TIIF-Bench",
    task="text-to-image",
    repository="A113N-W3I/TIIF-Bench",
    official_judge="GPT-4o (the maintainers now require temperature 0 and a pinned dated version, #12) or "
                   "Qwen2.5-VL-72B-Instruct on vLLM",
    official_prompt="eval/eval_with_vlm.py (a system line and three equivalent question templates)",
    aggregation="per (dimension, short|long) cell: correct answers / questions, rounded to 4 decimals (the text "
                "summary_results.py writes to result_summary.xlsx); nine groups = mean of their cells per length; "
                "overall per length = mean of the nine groups",
    data="data/test_eval_prompts/ or data/testmini_eval_prompts/ (the *_eval_prompts.jsonl files)",
    images="IMAGES/<type>/<model>/<short|long>_description/<line index>.png (its README's layout)",
    license="no license file in the repository (its data and published outputs are read, never vendored)",
    runnable=True,
    protocol_dir="eval/eval_with_vlm.py of a TIIF-Bench checkout (the system line and the first template)",
    parts=(
        Part("yes/no questions, one call per image", "exact", "all of the prompt's questions in one call"),
        Part("reply parsing", "exact", "lines beginning with yes/no; their count must equal the questions'"),
        Part("judge prompt", "approximate", "judgekit's wording, or with --protocol-dir the first official template "
             "(the official script picks one of three at random per call)"),
        Part("decoding", "approximate", "temperature 0 as the maintainers now require; the released script used 1.0"),
        Part("aggregation", "exact", "summary_results.py cells, summary_dimension_results.py groups and overalls, "
             "including the 4-decimal cells of the Excel round trip; equal to the two scripts run on the published "
             "replies of 13 models (docs/benchmarks.md)"),
        Part("text rendering by PaddleOCR (GNED, recall)", "not", "judgekit scores the text dimension's yes/no "
             "questions only"),
    ),
    known_issues=(
        "the released eval_with_vlm.py samples at temperature 1.0 with a random template per call (no seed), so "
        "reruns differ; the maintainers now require temperature 0 and a pinned GPT-4o (A113N-W3I/TIIF-Bench #12)",
        "a reply whose answer count differs from the question count is retried without limit",
        "a missing image is skipped with a printed error, shrinking its cell",
        "summary_results.py skips a reply file it cannot read with a printed error, and on an answer that is not text "
        "counts that question as wrong and drops the file's later answers (bench import does the same and counts both)",
        "the paper's testmini table lists under Attribute+Relation what summary_dimension_results.py computes for "
        "Attribute+Reasoning, and the other way round",
    ),
    published_outputs="eval-results/ holds the official judges' per-image replies for the testmini subset "
                      "(GPT-4o and Qwen-VL, 25 models); the repository has no license, so judgekit does not vendor them. "
                      "The released summary scripts run on them print what bench import prints (to the last digit), "
                      "overalls 0.17 above the paper's testmini table for 10 of 13 models and further off for FLUX.1 "
                      "Pro, DALL-E 3 and SD 3 (docs/benchmarks.md): the paper's table was not computed from these "
                      "files by the released scripts",
)


@replies.reply_parser("tiif_yes_no")
def parse_yes_no(text: str, fields: dict[str, Any]) -> dict[str, float]:
    preds = [m.group(1).lower() for line in text.splitlines()
             if (m := re.match(r"^\s*(yes|no)\b", line.strip(), re.IGNORECASE))]
    answers = [str(a).strip().lower() for a in fields.get("answers", [])]
    if len(preds) != len(answers):
        raise VerdictParseError(f"{len(preds)} yes/no lines for {len(answers)} questions")
    correct = sum(p == a for p, a in zip(preds, answers))
    return {"overall": correct / len(answers), "correct": float(correct), "total": float(len(answers))}


def official_prompt(protocol_dir: Path) -> PromptChoice:
    src = protocol_dir / "eval" / "eval_with_vlm.py"
    if not src.is_file():
        raise ConfigError(f"--protocol-dir {protocol_dir}: no eval/eval_with_vlm.py (expected a TIIF-Bench checkout)")
    text = src.read_text(encoding="utf-8")
    tmpl = re.search(r"raw_prompt\s*=\s*'''(.*?)'''", text, re.DOTALL)
    system = re.search(r'"role":\s*"system",\s*"content":\s*"([^"]*)"', text)
    if not tmpl or not system or "##YNQuestions##" not in tmpl.group(1):
        raise ConfigError(f"{src}: could not find the question template in it (has eval_with_vlm.py changed?)")
    return PromptChoice("official", {"system": system.group(1),
                                     "template": tmpl.group(1).replace("##YNQuestions##", "{questions}")}, str(src))


def _image(folder: Path, idx: int) -> str | None:
    for ext in _EXTS:
        if (folder / f"{idx}{ext}").is_file():
            return str(folder / f"{idx}{ext}")
    return None


def prepare(req: BenchRequest) -> Prepared:
    req.check_options(("model",))
    if not req.data.is_dir():
        raise ConfigError(f"--data must be the folder of *_eval_prompts.jsonl files (got {req.data})")
    if req.images is None or not req.images.is_dir():
        raise ConfigError(f"--images must be the folder of <type>/<model>/<short|long>_description/ images (got {req.images})")
    model = req.option("model", None, (str, type(None)))
    if model is None:
        found = sorted({p.name for t in req.images.iterdir() if t.is_dir() for p in t.iterdir() if p.is_dir()})
        if len(found) != 1:
            raise ConfigError(f"{req.images}: pick the model folder with --set model=NAME (found {found})")
        model = found[0]
    samples = []
    for f in sorted(req.data.glob("*.jsonl")):
        for idx, line in enumerate(x for x in f.read_text(encoding="utf-8").splitlines() if x.strip()):
            try:
                rec = json.loads(line)
                qs, ans, kind = rec["yn_question_list"], rec["yn_answer_list"], rec["type"]
            except (json.JSONDecodeError, KeyError, TypeError) as exc:
                raise DataError(f"{f} line {idx + 1}: not a TIIF-Bench eval prompt (type, yn_question_list, "
                                f"yn_answer_list): {exc!r}") from None
            if len(qs) != len(ans) or not qs:
                raise DataError(f"{f} line {idx + 1}: yn_question_list and yn_answer_list differ in length")
            for length in LENGTHS:
                folder = req.images / kind / model / f"{length}_description"
                samples.append(Sample(id=f"{kind}:{length}:{idx}", prompt_id=f"{kind}:{idx}", image=_image(folder, idx),
                                      meta={"benchmark": "tiif", "type": kind, "length": length,
                                            "fields": {"questions": "\n".join(q.strip() for q in qs), "answers": ans}}))
    if not samples:
        raise DataError(f"{req.data}: no *_eval_prompts.jsonl files")
    prompt = official_prompt(req.protocol_dir) if req.protocol_dir else PromptChoice(
        "judgekit", {"system": OWN_SYSTEM, "template": OWN_TEMPLATE})
    rubric = Rubric(name="tiif", kind="bench-reply", inputs=["image"], scale={"min": 0, "max": 1, "integer": False},
                    max_tokens=1024, options={**prompt.texts, "images": ["image"], "layout": "text_first",
                                              "parser": "tiif_yes_no"})
    notes = ["decoding at temperature 0 with one fixed template (the released script: 1.0, a random one of three)"]
    if not req.protocol_dir:
        notes.insert(0, "judge prompt in judgekit's own wording, not the official text")
    return Prepared(rubric, samples, prompt, notes=notes)


def unit(results: list[Result]) -> Unit:
    cells = {}
    for r in results:
        cells[r.meta["length"]] = (r.scores.get("correct", 0.0), r.scores.get("total", 0.0))
    return {"type": results[0].meta["type"], "cells": cells}


def as_excel_cell(accuracy: float) -> float:
    """A cell's accuracy as ``summary_dimension_results.py`` reads it back: ``summary_results.py``
    writes each cell into result_summary.xlsx as the text ``f"{acc:.4f}"``, so the groups and
    overalls are means of cells rounded to 4 decimals (up to 0.005 points off the unrounded means
    on TIIF-Bench's x100 scale)."""
    return float(f"{accuracy:.4f}")


def aggregate(units: list[Unit]) -> dict[str, float]:
    acc: dict[tuple[str, str], list[float]] = {}
    for u in units:
        for length, (c, n) in u["cells"].items():
            cell = acc.setdefault((u["type"], length), [0.0, 0.0])
            cell[0] += c
            cell[1] += n
    exact = {k: c / n for k, (c, n) in acc.items() if n}
    cells = {k: as_excel_cell(v) for k, v in exact.items()}
    out: dict[str, float] = {}
    groups = {length: {g: mean(cells[(t, length)] for t in types if (t, length) in cells) for g, types in GROUPS.items()}
              for length in LENGTHS}
    for length in LENGTHS:
        defined = [v for v in groups[length].values() if v == v]
        out[f"overall ({length})"] = mean(defined)
    # summary_results.py takes Mean_Accuracy over the cells before it formats them to 4 decimals
    out["Mean_Accuracy (all cells)"] = mean(exact.values())
    for length in LENGTHS:
        for g, v in groups[length].items():
            if v == v:
                out[f"{g} ({length})"] = v
    return out


def official_text(estimates: dict[str, float]) -> str:
    return ("==== Overall average score of 9 sub-attributes ====\n"
            f"overall-short  overall-long\n{estimates['overall (short)']:.4f}  {estimates['overall (long)']:.4f}")


def _official_count(gt: list[Any], pred: list[Any]) -> tuple[int, int, bool]:
    """(correct, total, stopped) as ``summary_results.py`` counts a file: ``zip`` stops at the
    shorter list; each pair is counted before ``gt.strip().lower() == pred.strip().lower()`` is
    tried, so a non-text answer counts as asked and wrong, and the exception it raises drops the
    file's later pairs (``stopped``)."""
    correct = total = 0
    for g, p in zip(gt, pred):
        total += 1
        if not isinstance(g, str) or not isinstance(p, str):
            return correct, total, True
        correct += g.strip().lower() == p.strip().lower()
    return correct, total, False


def _read_output(f: Path) -> tuple[list[Any], list[Any], Any] | str:
    """The file's gt_answers, model_pred and model_output, or why it cannot be read (the official
    script prints such an error and skips the file: it adds no question to its cell)."""
    try:
        data = read_json(f, "TIIF-Bench judge output", dict)
    except DataError as exc:
        return str(exc)
    gt, pred = data.get("gt_answers", []), data.get("model_pred", [])  # absent: empty, as summary_results.py
    if not isinstance(gt, list) or not isinstance(pred, list):
        return f"{f}: gt_answers and model_pred are not lists"
    return gt, pred, data.get("model_output")


def import_outputs(source: Path, options: dict[str, Any]) -> ImportedOutputs:
    """Results from the official judge's per-image replies as ``eval_with_vlm.py`` writes them
    (``<model>/<type>/<long|short>/<line index>.json`` with ``gt_answers`` and ``model_pred``;
    ``source`` is the model's folder), scored as ``summary_results.py`` scores them. A file it
    cannot read, or one without answers, is a failed sample (counted), which adds nothing to its
    cell, as the official script skips it."""
    check_import_options(options, ())
    if not source.is_dir():
        raise ConfigError(f"{source}: not a folder of <type>/<long|short>/<index>.json judge outputs")
    out = []
    truncated = stopped = 0
    for f in sorted(source.glob("*/*/*.json")):
        kind, length = f.parent.parent.name, f.parent.name
        if length not in LENGTHS:
            continue
        meta = {"benchmark": "tiif", "type": kind, "length": length}
        ids = {"sample_id": f"{kind}:{length}:{f.stem}", "prompt_id": f"{kind}:{f.stem}", "rubric": "tiif-published"}
        read = _read_output(f)
        if isinstance(read, str):
            out.append(Result(**ids, status="failed", error=read, meta=meta))
            continue
        gt, pred, model_output = read
        correct, total, stop = _official_count(gt, pred)
        truncated += len(gt) != len(pred)
        stopped += stop
        scores = {"overall": correct / total if total else 0.0, "correct": float(correct), "total": float(total)}
        out.append(Result(**ids, status="ok" if total else "failed", scores=scores,
                          overall=scores["overall"] if total else None, error=None if total else "no answers",
                          meta=meta, details={"model_output": model_output}))
    if not out:
        raise DataError(f"{source}: no <type>/<long|short>/<index>.json judge outputs in it")
    notes = [f"{truncated} replies answer another number of questions than asked: scored over the shorter list, "
             "as summary_results.py does"] if truncated else []
    if stopped:
        notes.append(f"{stopped} replies hold an answer that is not text: as summary_results.py, it counts as asked "
                     "and wrong and the file's later answers are dropped")
    return out, notes
