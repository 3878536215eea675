"""T2I-CompBench++ (Karine-Huang/T2I-CompBench), MLLM-judge variant, for the categories judged by
one question per image: spatial, 3d_spatial, action, complex and numeracy.

Its ``MLLM_eval/ShareGPT4V-CoT_eval/Share_eval.py`` reads every image in ``<folder>/samples/``
(named ``<prompt>_<NNNNNN>.png``: the prompt is the name before the first ``_``). With ``--cot``
the judge first describes the image in at most 50 words, then, with that description in the
conversation, scores how well the image shows the prompt from 1 to 5 in JSON; the level maps to
20/40/60/80/100 and the category score is the mean over images (its ``score.txt`` ``avg``).

The attribute categories (colour, shape, texture) ask one question per noun chunk of the prompt,
found with spaCy's en_core_web_sm, which judgekit does not depend on: they are not run. Nor are
the detector, BLIP-VQA, CLIP and 3-in-1 metrics (weights judgekit does not ship).

Options (``--set``): ``category`` (required: spatial, 3d_spatial, action, complex, numeracy).
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from ..errors import ConfigError, DataError, VerdictParseError
from ..rubric import Rubric
from ..types import Result, Sample
from ..verdict import parse_json_object
from . import replies
from .aggregate import Unit, mean
from .base import BenchRequest, Prepared
from .card import Part, PromptChoice, ProtocolCard

METHODS = ("cot", "no_cot")
LEVEL_SCORE = {1: 20, 2: 40, 3: 60, 4: 80, 5: 100}
_JSON = ' Reply with JSON only: {"score": <1-5>, "explanation": "<at most 20 words>"}.'
# judgekit's own wording (not Share_eval.py's text).
DESCRIBE = {
    "spatial": "In at most 50 words, describe the objects in this image and where they are relative to each other.",
    "3d_spatial": "In at most 50 words, describe the objects in this image and how they are arranged in depth.",
    "action": "In at most 50 words, describe the objects in this image, what they are doing and how they interact.",
    "complex": "In at most 50 words, describe the objects in this image, their colours, shapes and textures, "
               "where they are and what they are doing.",
    "numeracy": "In at most 50 words, describe the objects in this image and how many there are of each.",
}
QUESTION = {
    "spatial": "How well does the image show \"{prompt}\"? 5: every object is there in the stated layout; 4: the layout "
               "basically matches; 3: the objects are there but the layout is wrong; 2: the image does not fit the "
               "text well; 1: the image has little to do with the text.",
    "action": "How well does the image show \"{prompt}\"? 5: the actions, events and relations are all shown "
              "correctly; 4: most are, with small errors; 3: some elements are there but the actions between objects "
              "are wrong; 2: much of the text is missing; 1: no matching action or event is shown.",
    "complex": "How well does the image match \"{prompt}\"? 5: fully, with no discrepancy; 4: mostly, with small "
               "discrepancies; 3: some elements, with key parts or details missing; 2: no matching action or event; "
               "1: the text's content is not conveyed at all.",
    "numeracy": "How well does the image show \"{prompt}\"? 5: every object in the stated number; 4: the numbers "
                "basically match; 3: the numbers do not match; 2: the image does not fit the text well; 1: the image "
                "has little to do with the text.",
}
QUESTION["3d_spatial"] = QUESTION["spatial"]

CARD = ProtocolCard(
    name="t2i-compbench",
    title="T2I-CompBench++ (MLLM-judge variant)",
    task="text-to-image",
    repository="Karine-Huang/T2I-CompBench",
    official_judge="detectors and scorers per category (BLIP-VQA, UniDet, CLIP, 3-in-1); MLLM variant: "
                   "Lin-Chen/ShareGPT4V-7B, sampling at temperature 0.2, top_p 0.7",
    official_prompt="MLLM_eval/ShareGPT4V-CoT_eval/Share_eval.py (a description turn, then a 1-5 rubric per prompt, "
                    "or a 1-4 rubric per noun chunk for colour, shape, texture)",
    aggregation="per image the level mapped to 20/40/60/80/100 (attributes: the product over noun chunks of "
                "10/20/75/100 %); the category score is the mean over images",
    data="examples/dataset/<category>_val.txt (one prompt a line)",
    images="the folder holding samples/<prompt>_<NNNNNN>.png (the prompt is read back from the file name)",
    license="MIT",
    runnable=True,
    methods=METHODS,
    parts=(
        Part("spatial, 3d_spatial, action, complex, numeracy with the MLLM judge", "approximate",
             "the same two turns (description, then the 1-5 question with it in context) and level mapping, "
             "in judgekit's wording, at temperature 0"),
        Part("colour, shape, texture (per noun chunk)", "not", "need spaCy's noun chunks, which judgekit does not use"),
        Part("BLIP-VQA, UniDet, CLIPScore, 3-in-1", "not", "need weights judgekit does not ship"),
        Part("aggregation", "exact", "mean over images of the mapped level"),
    ),
    known_issues=(
        "the MLLM judge samples (temperature 0.2, top_p 0.7), so two runs differ; judgekit uses temperature 0",
        "a reply that is not valid JSON is skipped inside the product, so the image keeps the full 100; judgekit "
        "fails and counts it",
        "Share_eval.py's --cot is off by default, though the published MLLM numbers use the description turn",
        "a prompt containing '_' is cut at it when read back from the file name",
    ),
)


@replies.reply_parser("free_text")
def parse_free_text(text: str, fields: dict) -> dict[str, float]:
    if not text.strip():
        raise VerdictParseError("empty reply")
    return {"characters": float(len(text))}


@replies.reply_parser("t2i_level")
def parse_level(text: str, fields: dict) -> dict[str, float]:
    obj = parse_json_object(text)
    level = obj.get("score")
    if isinstance(level, str) and level.strip().isdigit():
        level = int(level.strip())
    if not isinstance(level, int) or level not in LEVEL_SCORE:
        raise VerdictParseError(f"score {level!r} is not an integer 1-5")
    return {"overall": float(LEVEL_SCORE[level]), "level": float(level)}


def _rubric(name: str, template: str, parser: str, max_tokens: int) -> Rubric:
    return Rubric(name=name, kind="bench-reply", inputs=["prompt", "image"], scale={"min": 0, "max": 100, "integer": False},
                  max_tokens=max_tokens, options={"template": template, "images": ["image"], "layout": "images_first",
                                                  "parser": parser})


def _follow_up(samples: list[Sample], category: str) -> Callable[[list[Result]], Prepared]:
    def build(first: list[Result]) -> Prepared:
        said = {r.sample_id: (r.details.get("reply") if r.status == "ok" else None, r.error) for r in first}
        second = []
        for s in samples:
            desc, err = said.get(s.id, (None, "not described"))
            meta = dict(s.meta)
            if desc is None:
                meta["blocked"] = f"the description turn failed: {err}"
            else:
                meta["turns"] = [["user", DESCRIBE[category]], ["assistant", desc]]
            second.append(s.model_copy(update={"meta": meta}))
        return Prepared(_rubric(f"t2i-compbench-{category}", QUESTION[category] + _JSON, "t2i_level", 256), second,
                        PromptChoice("judgekit"), method="cot")
    return build


def prepare(req: BenchRequest) -> Prepared:
    req.check_options(("category",))
    category = req.option("category", "")
    if category in ("color", "shape", "texture"):
        raise ConfigError(f"T2I-CompBench++ {category} is judged per noun chunk found by spaCy, which judgekit does "
                          "not use: not runnable")
    if category not in QUESTION:
        raise ConfigError(f"--set category must be one of {', '.join(QUESTION)} (got {category!r})")
    method = req.method or METHODS[0]
    if req.images is None or not (req.images / "samples").is_dir():
        raise ConfigError(f"--images must be the folder holding samples/<prompt>_<NNNNNN>.png (got {req.images})")
    prompts = [x.strip() for x in req.data.read_text(encoding="utf-8").splitlines() if x.strip()]
    if not prompts:
        raise DataError(f"{req.data}: no prompts")
    by_prompt: dict[str, list[Path]] = {}
    for f in sorted((req.images / "samples").glob("*.png")):
        by_prompt.setdefault(f.name.split(".png")[0].split("_")[0], []).append(f)
    samples = []
    for i, prompt in enumerate(dict.fromkeys(prompts)):
        files = by_prompt.get(prompt, [])
        base = {"benchmark": "t2i-compbench", "category": category, "fields": {"prompt": prompt}}
        if not files:
            samples.append(Sample(id=f"{i:04d}:none", prompt_id=f"{i:04d}", prompt=prompt, image=None, meta=base))
        for f in files:
            samples.append(Sample(id=f"{i:04d}:{f.stem.split('_')[-1]}", prompt_id=f"{i:04d}", prompt=prompt,
                                  image=str(f), meta=base))
    notes = ["judge prompts in judgekit's own wording, at temperature 0 (the official judge samples)"]
    if method == "no_cot":
        return Prepared(_rubric(f"t2i-compbench-{category}", QUESTION[category] + _JSON, "t2i_level", 256), samples,
                        PromptChoice("judgekit"), method=method, notes=notes)
    return Prepared(_rubric(f"t2i-compbench-describe-{category}", DESCRIBE[category], "free_text", 256), samples,
                    PromptChoice("judgekit"), method=method, notes=notes, follow_up=_follow_up(samples, category))


def unit(results: list[Result]) -> Unit:
    return {"scores": [float(r.overall) for r in results if r.overall is not None]}


def aggregate(units: list[Unit]) -> dict[str, float]:
    return {"average score (0-100)": mean(x for u in units for x in u["scores"])}


def official_text(estimates: dict[str, float]) -> str:
    return f"avg:{estimates['average score (0-100)']}"
