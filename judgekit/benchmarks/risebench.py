"""RISEBench (PhoenixZ810/RISEBench): reasoning-informed editing in four categories (temporal,
causal, spatial, logical), judged on up to three dimensions.

Per sample, as its ``gpt_eval.py`` does:

- appearance consistency (not for items marked ``consistency_free``): the instruction, the
  input image (or the reference image where the item has ``reference_img``) and the output;
- reasoning: the instruction and the reference answer (``reference`` or ``reference_txt``), the
  output, and the input or reference image where the item needs it (``reasoning_img``,
  ``reference_img``);
- visual plausibility (not for logical items): the output alone.

Each reply ends with ``Final Score: N``: 1-5, except logical items, judged 0/1 and mapped to 1
or 5. A sample is *complete* when every dimension it has scores 5; RISEBench's headline is the
accuracy, the share of complete samples. Its weighted score is 0.3 C + 0.5 R + 0.2 P (0.2 P +
0.8 R without consistency; 0.3 C + 0.7 R for logical), halved (but at least 1) when R = 1, and
shown on a percentage scale as 25 x (score - 1).

Images: ``--images`` is ``outputs/MODEL`` (``images/<category>/<index>.png|jpg|jpeg`` under it);
the inputs are read from ``--set input_dir`` (default: the data file's folder, as ``data/``).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

from ..errors import ConfigError, DataError, SampleError, VerdictParseError
from ..images import load_image_part
from ..io import read_json
from ..kinds import register_kind
from ..methods.base import CallOutcome, JudgeCall
from ..rubric import Rubric
from ..types import ChatRequest, ChatResponse, ImagePart, Message, Result, Sample, TextPart
from .aggregate import Unit, mean
from .base import BenchRequest, OwnWordedMethod, Prepared
from .card import Part, PromptChoice, ProtocolCard
from .replies import fill

CATEGORIES = ("temporal_reasoning", "causal_reasoning", "spatial_reasoning", "logical_reasoning")
_END = "\nExplain briefly, then finish with one line: Final Score: N"

# judgekit's own wording (not the official utils.py prompts). {instruct} and {reference} are filled in.
OWN_PROMPTS = {
    "consistency": "The first image was edited into the second following this instruction: \"{instruct}\". Score from "
                   "1 to 5 how well everything the instruction does not ask to change is kept (objects, layout, "
                   "identity, style, background): 5 = nothing else changed, 1 = a different picture." + _END,
    "consistency_logical": "The first image shows a puzzle; the second should solve it on the same drawing. Instruction: "
                           "\"{instruct}\". Expected answer: {reference}. Give 1 if the second image keeps the first "
                           "one's layout, style and given content (only adding the answer), else 0." + _END,
    "consistency_logical_img": "The first image is the reference solution, the second an attempt at this task: "
                               "\"{instruct}\". Give 1 if the attempt keeps the puzzle's layout and style, else 0." + _END,
    "reasoning": "An image editor was asked: \"{instruct}\". The correct result is: {reference}. Score from 1 to 5 how "
                 "well the output image shows that correct result (5 = exactly, 1 = not at all)." + _END,
    "reasoning_img": "An image editor was given the first image and asked: \"{instruct}\". The correct result is: "
                     "{reference}. Score from 1 to 5 how well the second image shows that correct result." + _END,
    "reasoning_ref_img": "The first image is the correct result of this task: \"{instruct}\". Score from 1 to 5 how well "
                         "the second image matches it in what the task asks for." + _END,
    "reasoning_logical": "The image should solve this puzzle: \"{instruct}\". The correct answer is: {reference}. Give 1 "
                         "if the image shows exactly that answer, else 0." + _END,
    "reasoning_logical_img": "The first image is the correct solution of this puzzle: \"{instruct}\". Give 1 if the second "
                             "image shows the same solution, else 0." + _END,
    "quality": "Score from 1 to 5 how clear and free of distortion this image is (5 = sharp and natural, 1 = broken "
               "or unrecognisable)." + _END,
}

CARD = ProtocolCard(
    name="risebench",
    title="RISEBench",
    task="image editing",
    repository="PhoenixZ810/RISEBench",
    official_judge="gpt-4.1-2025-04-14, temperature 0, max 4096 tokens, images resized to 768",
    official_prompt="utils.py (separate prompts per category and dimension)",
    aggregation="per sample: complete when every judged dimension scores 5; headline accuracy = share complete (x100); "
                "weighted score 0.3C+0.5R+0.2P (variants per category), 25 x (score-1) as a percentage",
    data="data/data_total.json (RISEBench-64) or the full 360-sample file: index, category, instruction, image, "
         "reference / reference_txt / reference_img, optional reasoning_img, consistency_free, subtask",
    images="outputs/MODEL (images/<category>/<index>.png|jpg|jpeg under it); inputs from --set input_dir",
    license="see the repository",
    runnable=True,
    parts=(
        Part("dimensions and which images each call sees", "exact", "gpt_eval.py's branches per category and item fields"),
        Part("judge prompts", "approximate", "judgekit's own wording of each dimension, ending in 'Final Score: N'"),
        Part("accuracy (share complete)", "exact", "as gpt_eval.py after its 2026-04 fix (consistency-free items count)"),
        Part("weighted score", "exact", "judgekit applies the consistency-free formula only to items marked so"),
        Part("image resizing", "not", "judgekit sends the images as they are; gpt_eval.py resizes them to 768"),
    ),
    known_issues=(
        "an evaluation-script bug was fixed in April 2026 (README news of 2026-04-23): consistency-free items could "
        "never count as complete, which lowered every accuracy published before",
        "calculate_score tests `row['consistency_free']`, and a missing value (NaN) is truthy, so once any item has "
        "the column every item is scored with the consistency-free weights; judgekit does not copy that",
        "data/data_total.json (64 samples) lacks the reasoning_img and subtask fields gpt_eval.py reads",
        "a reply with no 'Final Score' leaves the sample unscored ('failed' in match_log) yet it still counts as "
        "incomplete in the accuracy; judgekit retries, fails and counts it, excluded from every statistic",
    ),
    published_outputs="the maintainers publish the models' output images (Hugging Face zpy777/RISEBench_Outputs), "
                      "not per-sample judge replies",
)


def parse_final(text: str, logical: bool) -> int:
    m = re.findall(r"final score\**\s*:?\s*\**\s*(\d+)", text, re.IGNORECASE)
    if not m:
        raise VerdictParseError("reply has no 'Final Score: N'")
    v = int(m[-1])
    if logical and v not in (0, 1):
        raise VerdictParseError(f"logical items are scored 0 or 1, got {v}")
    if not logical and not 1 <= v <= 5:
        raise VerdictParseError(f"score {v} is outside 1-5")
    return 4 * min(v, 1) + 1 if logical else v


def _final_parser(logical: bool) -> Callable[[ChatResponse], int]:
    return lambda r: parse_final(r.text, logical)


def present(item: dict[str, Any], key: str) -> bool:
    v = item.get(key)
    return v is not None and v == v and v != ""


def plan_item(item: dict[str, Any]) -> dict[str, tuple[str, list[str]]]:
    """``{dimension: (prompt name, images)}``; images name ``input``, ``reference`` or ``output``."""
    cat = item["category"]
    calls: dict[str, tuple[str, list[str]]] = {}
    first = "input"
    if cat in ("temporal_reasoning", "causal_reasoning"):
        rea = ("reasoning_img", ["input", "output"]) if present(item, "reasoning_img") else ("reasoning", ["output"])
        cons = "consistency"
    elif cat == "spatial_reasoning":
        if present(item, "reference_img"):
            first, rea = "reference", ("reasoning_ref_img", ["reference", "output"])
        elif present(item, "reasoning_img"):
            rea = ("reasoning_img", ["input", "output"])
        else:
            rea = ("reasoning", ["output"])
        cons = "consistency"
    else:
        if present(item, "reference_txt"):
            cons, rea = "consistency_logical", ("reasoning_logical", ["output"])
        else:
            first, cons = "reference", "consistency_logical_img"
            rea = ("reasoning_logical_img", ["reference", "output"])
    if not present(item, "consistency_free"):
        calls["consistency"] = (cons, [first, "output"])
    calls["reasoning"] = rea
    if cat != "logical_reasoning":
        calls["quality"] = ("quality", ["output"])
    return calls


class RiseMethod(OwnWordedMethod):
    kind = "risebench"
    own_prompts = OWN_PROMPTS

    def plan(self, sample: Sample) -> list[JudgeCall]:
        item = sample.meta["item"]
        paths = {"input": sample.source_image, "reference": sample.reference_image, "output": sample.image}
        loaded: dict[str, ImagePart] = {}
        calls = []
        logical = item["category"] == "logical_reasoning"
        for dim, (prompt, images) in plan_item(item).items():
            parts: list[TextPart | ImagePart] = [TextPart(fill(self.prompts[prompt], {
                "instruct": item.get("instruction", ""),
                "reference": item.get("reference_txt") if present(item, "reference_txt") else item.get("reference", "")}))]
            for name in images:
                if not paths[name]:
                    raise SampleError(f"item {sample.id!r} has no {name} image")
                if name not in loaded:
                    loaded[name] = load_image_part(str(paths[name]), name)
                parts.append(loaded[name])
            req = ChatRequest((Message("user", tuple(parts)),), None, max_tokens=self.rubric.max_tokens)
            calls.append(JudgeCall(dim, req, _final_parser(logical), self.parse_retries))
        return calls

    def combine(self, sample: Sample, outcomes: dict[str, CallOutcome]) -> Result:
        errors = [f"{k}: {o.error}" for k, o in outcomes.items() if not o.ok]
        if errors:
            return Result.for_sample(sample, self.rubric.name, status="failed", error="; ".join(errors))
        scores = {k: float(o.value) for k, o in outcomes.items()}
        return Result.for_sample(sample, self.rubric.name, status="ok", scores=scores,
                                 overall=float(all(v == 5 for v in scores.values())))


register_kind("risebench", RiseMethod)


def _find(folder: Path, index: str) -> str | None:
    for ext in ("png", "jpg", "jpeg"):
        if (folder / f"{index}.{ext}").is_file():
            return str(folder / f"{index}.{ext}")
    return None


def prepare(req: BenchRequest) -> Prepared:
    req.check_options(("input_dir",))
    input_dir = Path(str(req.option("input_dir", str(req.data.resolve().parent))))
    if req.images is None or not (req.images / "images").is_dir():
        raise ConfigError(f"--images must be outputs/MODEL with images/<category>/<index>.png under it (got {req.images})")
    data = read_json(req.data, "RISEBench data file", list)
    samples = []
    for i, item in enumerate(data):
        if not isinstance(item, dict) or item.get("category") not in CATEGORIES or not item.get("index"):
            raise DataError(f"{req.data}[{i}]: not a RISEBench item (index, category in {list(CATEGORIES)}, ...)")
        ref = str(item.get("reference_img"))
        samples.append(Sample(
            id=str(item["index"]), prompt_id=str(item["index"]), instruction=str(item.get("instruction", "")),
            source_image=str(input_dir / item["image"]) if item.get("image") else None,
            reference_image=str(input_dir / ref) if present(item, "reference_img") else None,
            image=_find(req.images / "images" / item["category"], str(item["index"])),
            meta={"benchmark": "risebench", "category": item["category"], "subtask": item.get("subtask"),
                  "item": {k: v for k, v in item.items() if isinstance(v, str | int | float | bool) or v is None}}))
    rubric = Rubric(name="risebench", kind="risebench", inputs=["source_image", "instruction", "image"],
                    scale={"min": 0, "max": 1, "integer": False}, max_tokens=1024)
    return Prepared(rubric, samples, PromptChoice("judgekit"),
                    notes=["judge prompts in judgekit's own wording, not utils.py's text; images not resized to 768"])


def weighted(item: dict[str, Any], s: dict[str, float]) -> float:
    r = s["reasoning"]
    if item["category"] == "logical_reasoning":
        # (a consistency-free logical item has no official formula: its reasoning stands in)
        score = 0.3 * s.get("consistency", r) + 0.7 * r
    elif "consistency" not in s:
        score = 0.2 * s["quality"] + 0.8 * r
    else:
        score = 0.3 * s["consistency"] + 0.5 * r + 0.2 * s["quality"]
    return max(1.0, score * 0.5) if r == 1 else score


def unit(results: list[Result]) -> Unit:
    r = results[0]
    scores = {k: float(v) for k, v in r.scores.items() if v is not None}
    return {"category": r.meta.get("category"), "complete": r.overall, "score": weighted(r.meta["item"], scores),
            "dims": dict(r.scores)}


def aggregate(units: list[Unit]) -> dict[str, float]:
    out = {"Overall accuracy (% complete)": 100 * mean(u["complete"] for u in units)}
    for c in CATEGORIES:
        us = [u for u in units if u["category"] == c]
        if us:
            out[f"{c.split('_')[0].capitalize()} accuracy (%)"] = 100 * mean(u["complete"] for u in us)
    s = mean(u["score"] for u in units)
    out["Overall score (1-5)"] = s
    out["Overall score (%, 25 x (score - 1))"] = 25 * (s - 1)
    for dim, name in (("reasoning", "Reasoning"), ("consistency", "ApprConsistency"), ("quality", "VisualPlausibility")):
        vals = [u["dims"][dim] for u in units if dim in u["dims"]]
        if vals:
            out[f"{name} (%, 25 x (mean - 1))"] = 25 * (mean(vals) - 1)
    return out


def official_text(estimates: dict[str, float]) -> str:
    rows = [f"Overall: Score-Origin {estimates['Overall score (1-5)']}, Score-Percentage "
            f"{estimates['Overall score (%, 25 x (score - 1))']}, Accuracy {estimates['Overall accuracy (% complete)'] / 100}"]
    for c in ("Temporal", "Causal", "Spatial", "Logical"):
        if f"{c} accuracy (%)" in estimates:
            rows.append(f"{c}: Accuracy {estimates[f'{c} accuracy (%)'] / 100}")
    return "\n".join(rows)
